"""The deploy-time check that every vocabulary, filter and language model a profile names exists.

The stack passes the named resources to a CloudFormation custom resource
(stacks/resource_check.py) whose function calls GetVocabulary, GetVocabularyFilter and
DescribeLanguageModel: a resource that is missing, not ready (a vocabulary PENDING or FAILED, a
model IN_PROGRESS or FAILED) or in another language fails the deploy with a message naming the
profile, the resource and its state, instead of failing every upload's job later.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from transcribe_pipeline.clients import error_code

VOCABULARY = "vocabulary"
VOCABULARY_FILTER = "vocabulary filter"
LANGUAGE_MODEL = "language model"
KINDS = (VOCABULARY, VOCABULARY_FILTER, LANGUAGE_MODEL)
TOP_LEVEL = "the top level"
# The answers of the Get/Describe calls for a name that does not exist.
_MISSING = frozenset({"NotFoundException", "BadRequestException"})
# The custom resource's physical id: there is one check per stack, replaced never.
PHYSICAL_ID = "transcribe-resources-check"


@dataclass(frozen=True, order=True)
class NamedResource:
    """A vocabulary, vocabulary filter or language model that a profile (or the top level) names."""

    profile: str
    kind: str
    name: str
    # The language it is used for, when the settings say it (None: any).
    language: str | None = None

    @property
    def where(self) -> str:
        """``profile 'calls/'`` or ``the top level``."""
        return self.profile if self.profile == TOP_LEVEL else f"profile {self.profile!r}"


def resources_to_json(resources: Iterable[NamedResource]) -> str:
    """The custom resource's property: a JSON list, sorted so that the template is stable."""
    return json.dumps([asdict(r) for r in sorted(set(resources))], separators=(",", ":"))


def resources_from_json(text: str) -> list[NamedResource]:
    """The resources from their property; ValueError when the property is malformed."""
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError("expected a JSON list of named resources")
    resources = [NamedResource(**item) for item in value]
    for resource in resources:
        if resource.kind not in KINDS:
            raise ValueError(f"unknown resource kind {resource.kind!r}")
    return resources


def problems(resources: Iterable[NamedResource], *, transcribe: Any) -> list[str]:
    """One sentence per named resource that a job could not use; empty when all are usable."""
    return [problem for resource in resources for problem in _problems(resource, transcribe)]


def _problems(resource: NamedResource, transcribe: Any) -> Iterator[str]:
    subject = f"{resource.where}: {resource.kind} {resource.name!r}"
    try:
        state, language, reason = _describe(resource, transcribe)
    except ClientError as error:
        if error_code(error) in _MISSING:
            yield f"{subject} does not exist in this account and region"
            return
        raise
    if state is not None and state not in {"READY", "COMPLETED"}:
        why = f" ({reason})" if reason else ""
        yield f"{subject} is {state}{why}; a job can use it only once it is ready"
    if resource.language and language and language != resource.language:
        yield f"{subject} is in {language}, but is used for {resource.language}"


def _describe(resource: NamedResource, transcribe: Any) -> tuple[str | None, str | None, str]:
    """(state, language, failure reason) of one resource; filters have no state."""
    if resource.kind == VOCABULARY:
        found = transcribe.get_vocabulary(VocabularyName=resource.name)
        return (
            found.get("VocabularyState"),
            found.get("LanguageCode"),
            found.get("FailureReason", ""),
        )
    if resource.kind == VOCABULARY_FILTER:
        found = transcribe.get_vocabulary_filter(VocabularyFilterName=resource.name)
        return None, found.get("LanguageCode"), ""
    model = transcribe.describe_language_model(ModelName=resource.name)["LanguageModel"]
    return model.get("ModelStatus"), model.get("LanguageCode"), model.get("FailureReason", "")


def response(event: Mapping[str, Any], status: str, reason: str) -> dict[str, Any]:
    """The document CloudFormation expects at the event's ResponseURL."""
    return {
        "Status": status,
        # CloudFormation shows the reason in the stack events; it keeps 4 KB of it.
        "Reason": reason[:3800],
        "PhysicalResourceId": event.get("PhysicalResourceId") or PHYSICAL_ID,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {},
    }


def outcome(event: Mapping[str, Any], *, transcribe: Any) -> dict[str, Any]:
    """The custom resource's answer: checked on Create and Update, nothing to do on Delete."""
    if event.get("RequestType") == "Delete":
        return response(event, "SUCCESS", "Nothing to delete")
    properties = event.get("ResourceProperties") or {}
    resources = resources_from_json(str(properties.get("Resources", "[]")))
    found = problems(resources, transcribe=transcribe)
    if found:
        return response(event, "FAILED", "Transcribe resources not usable: " + "; ".join(found))
    return response(event, "SUCCESS", f"{len(resources)} Transcribe resources ready")
