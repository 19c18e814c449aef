"""cdk-nag 3 (AwsSolutions + Serverless): no unacknowledged finding, no stale acknowledgment.

cdk-nag 3 reports through CDK's policy validation (``validation-report.json``, a failed synth),
not through Annotations: a v2-style ``Annotations.find_error`` test would pass whatever the
stack holds. These tests ask the packs directly (``validate_scope``) and the canary proves the
gate wired in app.py makes synthesis fail.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from app import STACK_ID, build_app, nag_packs
from stacks.config import PipelineConfig
from stacks.nag_acknowledgments import acknowledgments, find
from stacks.pipeline_stack import PipelineStack
from tests.infra.conftest import ALL_OPTIONS, cdk_json_context

# An input prefix with every character that once broke an acknowledgment: a space (CDK turns
# it into "-" in acknowledged ids, cdk-nag does not), brackets and "::" (CDK parses ids), IAM
# wildcards and a policy variable (written literally as ${*}, ${?}, ${$}).
AWKWARD_PREFIX = "réunions d'été+notes {x} [y] (z) a::b *?${v}/"
CONFIGURATIONS = {
    "default": {},
    "all options": ALL_OPTIONS,
    "an awkward input prefix": {"input_prefix": AWKWARD_PREFIX},
}
Finding = tuple[str, str]  # (rule id with finding, construct path below the stack)


def findings(app: cdk.App) -> set[Finding]:
    """What the app.py rule packs report for the app, as (rule, path below the stack)."""
    return {
        (violation.rule_name, str(resource.construct_path).removeprefix(f"{STACK_ID}/"))
        for pack in nag_packs(app)
        for violation in pack.validate_scope(app).violations
        for resource in violation.violating_resources
    }


def unacknowledged_app(context: dict[str, Any]) -> tuple[cdk.App, PipelineStack]:
    """The stack as build_app makes it, minus the acknowledgments (and the plugins)."""
    app = cdk.App(context={**cdk_json_context(), **context})
    config = PipelineConfig.from_mapping(app.node.get_all_context())
    return app, PipelineStack(app, STACK_ID, config=config)


@pytest.fixture(scope="module")
def raw_findings() -> dict[str, tuple[PipelineStack, set[Finding]]]:
    """Per configuration: the unacknowledged stack and everything cdk-nag finds in it."""
    result = {}
    for name, context in CONFIGURATIONS.items():
        app, stack = unacknowledged_app(context)
        result[name] = (stack, findings(app))
    return result


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_cdk_nag_finds_nothing_unacknowledged_in_a_freshly_built_app(name):
    app = build_app(cdk.App(context={**cdk_json_context(), **CONFIGURATIONS[name]}))

    unacknowledged = findings(app)

    assert unacknowledged == set(), "\n".join(sorted(f"{r} at {p}" for r, p in unacknowledged))


def test_every_acknowledgment_still_matches_a_finding(raw_findings):
    stale = []
    for name, context in CONFIGURATIONS.items():
        config = PipelineConfig.from_mapping({**cdk_json_context(), **context})
        stack, found = raw_findings[name]
        for entry in acknowledgments(config):
            for path in entry.paths:
                if find(stack, path) is None:
                    stale.append(f"{entry.rule} at {path}: no such construct ({name})")
                elif (entry.rule, path) not in found:
                    stale.append(f"{entry.rule} at {path}: nothing to acknowledge ({name})")

    assert stale == []


def test_acknowledgments_name_one_finding_on_exact_resources_with_a_reason():
    config = PipelineConfig.from_mapping({**cdk_json_context(), **ALL_OPTIONS})

    for entry in acknowledgments(config):
        # IAM4/IAM5 report one finding per policy or wildcard: acknowledge that one only.
        if entry.rule.split("[")[0] in {"AwsSolutions-IAM4", "AwsSolutions-IAM5"}:
            assert entry.rule.endswith("]"), entry.rule
        assert entry.paths, entry.rule
        assert all(path.endswith("/Resource") for path in entry.paths), entry.paths
        assert len(entry.reason) >= 60, entry.rule


def test_the_stack_itself_carries_no_blanket_acknowledgment():
    app = build_app(cdk.App(context=cdk_json_context()))
    stack = app.node.find_child(STACK_ID)

    key = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    assert [entry for entry in stack.node.metadata if entry.type == key] == []
    assert [entry for entry in app.node.metadata if entry.type == key] == []


def _add_canary(stack: cdk.Stack) -> None:
    """A deliberately bad bucket: public, readable by anyone, TLS not required, no logs."""
    s3.Bucket(
        stack,
        "CanaryBucket",
        block_public_access=s3.BlockPublicAccess(
            block_public_acls=False,
            block_public_policy=False,
            ignore_public_acls=False,
            restrict_public_buckets=False,
        ),
        public_read_access=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    )


def test_the_gate_reports_a_public_bucket_without_tls(tmp_path):
    # Given the real app (packs registered by app.py) plus a deliberately bad bucket
    app = build_app(cdk.App(context=cdk_json_context(), outdir=str(tmp_path)))
    _add_canary(app.node.find_child(STACK_ID))  # type: ignore[arg-type]

    # When it is synthesized, Then synthesis fails and the report names the canary's faults
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()

    report_file = tmp_path / "validation-report.json"
    report = json.loads(report_file.read_text())
    canary = f"{STACK_ID}/CanaryBucket/Resource"
    reported = {
        violation["ruleName"]
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        if any(c["constructPath"] == canary for c in violation["violatingConstructs"])
    }
    assert {"AwsSolutions-S2", "AwsSolutions-S10"} <= reported  # public access, no TLS
    assert not any(
        c["constructPath"].startswith(f"{STACK_ID}/Storage/")
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for c in violation["violatingConstructs"]
    )
