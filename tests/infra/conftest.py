"""Synthesizes the app once per module for the template tests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import STACK_ID, build_app

ROOT = Path(__file__).resolve().parents[2]
ASSET_HASH = re.compile(r"[0-9a-f]{64}")
# Every optional resource and every prefix that shows up in ARNs, at once.
ALL_OPTIONS = {
    "use_kms_key": "true",
    "notification_email": "ops@example.com",
    "input_prefix": "incoming/",
    "job_name_prefix": "mtg-",
    "retain_data": "true",
    # Every profile feature that adds resources or permissions: the deploy-time check of named
    # vocabularies, filters and models, and unredacted copies.
    "profiles": json.dumps(
        [
            {
                "prefix": "incoming/calls/",
                "channel_identification": True,
                "channel_roles": ["agent", "customer"],
                "vocabulary_filter_name": "profanity",
                "vocabulary_filter_method": "mask",
                "content_redaction": {"output": "redacted_and_unredacted"},
            },
            {
                "prefix": "incoming/lectures/",
                "language": "en-GB",
                "vocabulary_name": "physics-terms",
                "language_model_name": "physics-lectures",
            },
        ]
    ),
}


def cdk_json_context() -> dict[str, Any]:
    """The context of cdk.json (feature flags and the documented defaults)."""
    with (ROOT / "cdk.json").open(encoding="utf-8") as handle:
        context: dict[str, Any] = json.load(handle)["context"]
    return context


def synth(context: dict[str, Any] | None = None) -> Template:
    """The TranscriptionPipeline template for the given context (on top of cdk.json's).

    Built by app.build_app, so cdk-nag runs too: an unacknowledged finding fails the synth.
    """
    app = build_app(cdk.App(context={**cdk_json_context(), **(context or {})}))
    return Template.from_stack(app.node.find_child(STACK_ID))  # type: ignore[arg-type]


def masked(template: Mapping[str, Any]) -> dict[str, Any]:
    """The template with asset hashes (which change with any code edit) replaced."""
    return json.loads(ASSET_HASH.sub("<asset-hash>", json.dumps(template)))


@pytest.fixture(scope="session")
def template() -> Template:
    """The default configuration's template."""
    return synth()


@pytest.fixture(scope="session")
def all_options_template() -> Template:
    """The template with the KMS key, the notification topic and non-default prefixes."""
    return synth(ALL_OPTIONS)


@pytest.fixture(scope="session")
def synth_with() -> Callable[[dict[str, Any]], Template]:
    """Synthesize with context overrides."""
    return synth


def resources_of(template: Template, resource_type: str) -> dict[str, Any]:
    """Resources of one type, by logical ID."""
    return dict(template.find_resources(resource_type))
