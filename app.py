#!/usr/bin/env python3
"""CDK entry point: reads configuration from context and builds the TranscriptionPipeline."""

from __future__ import annotations

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NagPack, ServerlessChecks

from stacks.config import ConfigError, PipelineConfig
from stacks.nag_acknowledgments import acknowledge
from stacks.pipeline_stack import PipelineStack
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME

# The construct id (`cdk deploy <id>` selects by it). The CloudFormation stack name comes from
# the `stack_name` setting; the id stays put, so every copy of the pipeline has the same
# construct paths, logical IDs and cdk-nag acknowledgments as the one it is tested against.
STACK_ID = DEFAULT_STACK_NAME


def nag_packs(app: cdk.App) -> list[NagPack]:
    """The cdk-nag rule packs every synth runs (cdk-nag 3: CDK policy-validation plugins)."""
    return [AwsSolutionsChecks(app), ServerlessChecks(app)]


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Build the app (tests call this with their own context).

    Synthesis fails with CDK's policy-validation report (also written to
    ``cdk.out/validation-report.json``) when cdk-nag finds anything that
    ``stacks/nag_acknowledgments.py`` does not acknowledge.
    """
    app = app or cdk.App()
    config = PipelineConfig.from_mapping(app.node.get_all_context())
    stack = PipelineStack(
        app,
        STACK_ID,
        stack_name=config.stack_name,
        config=config,
        description="Media transcription pipeline: S3 uploads -> Amazon Transcribe -> transcripts",
    )
    acknowledge(stack, config)
    cdk.Validations.of(app).add_plugins(*nag_packs(app))
    return app


def main() -> None:
    """Synthesize, turning a configuration error into one clear line and exit status 1."""
    try:
        app = build_app()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    app.synth()


if __name__ == "__main__":
    main()
