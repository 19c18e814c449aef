"""The deploy-time check of named Transcribe resources in the template: when needed, read-only."""

from __future__ import annotations

import json

from aws_cdk.assertions import Template

from tests.infra.conftest import resources_of
from tests.infra.test_least_privilege import allow_statements, permissions

CHECK_ROLE = "ResourceCheckRole"
ARN = "arn:<AWS::Partition>:transcribe:<AWS::Region>:<AWS::AccountId>"


def test_without_named_resources_there_is_no_check(template: Template):
    assert resources_of(template, "Custom::TranscribeResourceCheck") == {}


def test_a_top_level_vocabulary_alone_creates_the_check(synth_with):
    checks = resources_of(
        synth_with({"vocabulary_name": "terms"}), "Custom::TranscribeResourceCheck"
    )

    (check,) = checks.values()
    assert json.loads(check["Properties"]["Resources"]) == [
        {"profile": "the top level", "kind": "vocabulary", "name": "terms", "language": "en-US"}
    ]


def test_the_check_lists_every_named_resource_with_its_profile(all_options_template: Template):
    (check,) = resources_of(all_options_template, "Custom::TranscribeResourceCheck").values()

    assert json.loads(check["Properties"]["Resources"]) == [
        {
            "profile": "incoming/calls/",
            "kind": "vocabulary filter",
            "name": "profanity",
            "language": "en-US",
        },
        {
            "profile": "incoming/lectures/",
            "kind": "language model",
            "name": "physics-lectures",
            "language": "en-GB",
        },
        {
            "profile": "incoming/lectures/",
            "kind": "vocabulary",
            "name": "physics-terms",
            "language": "en-GB",
        },
    ]


def test_the_check_may_only_read_exactly_the_named_resources(all_options_template: Template):
    granted = permissions(allow_statements(all_options_template)[CHECK_ROLE])

    assert {(a, r) for a, r in granted if not a.startswith("logs:")} == {
        ("transcribe:GetVocabularyFilter", f"{ARN}:vocabulary-filter/profanity"),
        ("transcribe:DescribeLanguageModel", f"{ARN}:language-model/physics-lectures"),
        ("transcribe:GetVocabulary", f"{ARN}:vocabulary/physics-terms"),
    }


def test_the_check_runs_after_its_role_may_read(all_options_template: Template):
    (check,) = resources_of(all_options_template, "Custom::TranscribeResourceCheck").values()

    assert any(d.startswith("ResourceCheckRoleDefaultPolicy") for d in check["DependsOn"])
