"""A deploy-time check that the vocabularies, filters and language models the settings name exist.

A CloudFormation custom resource backed by a small function (lambda/transcribe_resources_check.py,
the pipeline's own asset, no Docker) that only reads: the deploy fails, naming the profile, the
resource and its state, when one is missing or not ready, rather than every upload's job later.
Created only when some profile or the top level names such a resource.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.functions import PipelineFunction
from stacks.permissions import allow
from transcribe_pipeline.resource_check import (
    LANGUAGE_MODEL,
    VOCABULARY,
    VOCABULARY_FILTER,
    NamedResource,
    resources_to_json,
)

# Each kind's read action and ARN resource type (the resource types ListTagsForResource names:
# vocabulary, vocabulary-filter, language-model; docs/transcribe-features.md).
_READS = {
    VOCABULARY: ("transcribe:GetVocabulary", "vocabulary"),
    VOCABULARY_FILTER: ("transcribe:GetVocabularyFilter", "vocabulary-filter"),
    LANGUAGE_MODEL: ("transcribe:DescribeLanguageModel", "language-model"),
}


class TranscribeResourceCheck(Construct):
    """Fails the deploy when a named vocabulary, filter or language model cannot be used."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resources: Sequence[NamedResource],
        log_retention: logs.RetentionDays,
        powertools_layer_version: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = PipelineFunction(
            self,
            "Check",
            handler="transcribe_resources_check.handler",
            description="Deploy-time check that named Transcribe vocabularies, filters and "
            "language models exist and are ready",
            environment={},
            timeout=Duration.seconds(60),
            log_retention=log_retention,
            powertools_layer_version=powertools_layer_version,
        )
        stack = Stack.of(self)
        for kind, (action, resource_type) in _READS.items():
            names = sorted({resource.name for resource in resources if resource.kind == kind})
            if names:
                # Read-only, on exactly the named resources.
                allow(
                    self.handler.function,
                    [action],
                    [
                        stack.format_arn(
                            service="transcribe", resource=resource_type, resource_name=name
                        )
                        for name in names
                    ],
                )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.handler.function.function_arn,
            resource_type="Custom::TranscribeResourceCheck",
            properties={"Resources": resources_to_json(resources)},
        )
        # The check runs once the role may read (its policy is a separate resource).
        self.resource.node.add_dependency(self.handler.role)
