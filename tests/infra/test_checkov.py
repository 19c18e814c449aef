"""checkov on the synthesized template: no failed check outside tests/infra/checkov_allowlist.toml.

checkov pins boto3 and packaging to versions that conflict with this project's (boto3 1.35 vs
>= 1.40, packaging < 24 vs pytest's >= 24), so it lives in its own virtual environment,
``.venv-checkov`` (``make setup`` creates it from requirements-checkov.txt). Two runs, on the
default and the all-options template, CloudFormation framework only: about 3 s each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.infra.conftest import ROOT

ALLOWLIST = Path(__file__).with_name("checkov_allowlist.toml")


def checkov_executable() -> str:
    """$CHECKOV, else .venv-checkov/bin/checkov, else checkov on the PATH."""
    candidates = [os.environ.get("CHECKOV"), str(ROOT / ".venv-checkov" / "bin" / "checkov")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("checkov")
    if found is None:
        pytest.fail("checkov is not installed: run `make setup` (it creates .venv-checkov/)")
    return found


@pytest.fixture(scope="module")
def checkov_report(
    template: Template, all_options_template: Template, tmp_path_factory
) -> dict[str, Any]:
    """checkov's JSON report (failed checks only) on the default and the all-options template.

    The all-options template adds the resources only some configurations have (the deploy-time
    check of named Transcribe resources); their failed checks join the default's.
    """
    default = _report(template, tmp_path_factory)
    options = _report(all_options_template, tmp_path_factory)
    default["results"]["failed_checks"] += options["results"]["failed_checks"]
    return default


def _report(template: Template, tmp_path_factory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("checkov") / "TranscriptionPipeline.template.json"
    path.write_text(json.dumps(template.to_json()))
    command = [checkov_executable(), "--file", str(path), "--framework", "cloudformation"]
    command += ["--quiet", "--compact", "--output", "json"]
    command += ["--skip-download"]  # no calls to the Prisma Cloud platform: offline, repeatable
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=path.parent,
    )
    # Exit status 1 means "failed checks", judged against the allowlist below.
    assert result.returncode in {0, 1}, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.fixture(scope="module")
def allowlist() -> list[dict[str, Any]]:
    """The reviewed skips: check, resources (logical IDs without their hash), reason."""
    skips: list[dict[str, Any]] = tomllib.loads(ALLOWLIST.read_text(encoding="utf-8"))["skip"]
    return skips


def _allowed(check_id: str, resource: str, skips: list[dict[str, Any]]) -> bool:
    return any(
        skip["check"] == check_id and any(resource.startswith(r) for r in skip["resources"])
        for skip in skips
    )


def _failed(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]


def test_checkov_really_checked_the_template(checkov_report):
    summary = checkov_report["summary"]

    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 40
    assert summary["passed"] >= 100


def test_checkov_fails_no_check_outside_the_reviewed_allowlist(checkov_report, allowlist):
    unexplained = [
        f"{check_id} {resource}"
        for check_id, resource in _failed(checkov_report)
        if not _allowed(check_id, resource, allowlist)
    ]

    assert unexplained == []


def test_every_allowlist_entry_still_matches_a_failed_check(checkov_report, allowlist):
    failed = _failed(checkov_report)

    stale = [
        f"{skip['check']} {resource}"
        for skip in allowlist
        for resource in skip["resources"]
        if not any(c == skip["check"] and r.startswith(resource) for c, r in failed)
    ]

    assert stale == []


def test_every_allowlist_entry_names_its_resources_and_gives_a_reason(allowlist):
    for skip in allowlist:
        assert skip["check"].startswith("CKV_"), skip
        assert skip["resources"], skip["check"]
        assert len(skip["reason"]) >= 80, skip["check"]
