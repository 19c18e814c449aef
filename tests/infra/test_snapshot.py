"""The whole synthesized template, compared to a reviewed snapshot (asset hashes masked)."""

from __future__ import annotations

from aws_cdk.assertions import Template

from tests.infra.conftest import masked, synth


def test_the_template_matches_the_reviewed_snapshot(template: Template, snapshot):
    # After an intended change: pytest tests/infra --snapshot-update, and review the diff.
    assert masked(template.to_json()) == snapshot


def test_synthesis_is_deterministic(template: Template):
    again = synth()

    assert again.to_json() == template.to_json()
