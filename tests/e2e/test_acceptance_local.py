"""``make aws-acceptance``'s script, run against the local cloud so that it cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from acceptance.corpus import CORPUS
from localcloud.deployment import ROOT, LocalEndpoint, stack_status

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("acceptance")]


def acceptance(endpoint: LocalEndpoint, stack: str, *args: str) -> subprocess.CompletedProcess:
    """``python -m acceptance`` against the module's local cloud, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "acceptance", "--endpoint-url", endpoint.url,
         "--stack-name", stack, *args],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "250"},  # one table row per line
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )  # fmt: skip


def rows(stdout: str) -> dict[str, str]:
    """The table's row of each corpus key (every key must have one)."""
    lines = [line.strip() for line in stdout.splitlines()]
    found = {case.key: [line for line in lines if line.startswith(case.key)] for case in CORPUS}
    assert all(len(match) == 1 for match in found.values()), stdout
    return {key: match[0] for key, match in found.items()}


def jobs(endpoint: LocalEndpoint) -> list[str]:
    summaries = endpoint.client("transcribe").list_transcription_jobs()["TranscriptionJobSummaries"]
    return [job["TranscriptionJobName"] for job in summaries]


def test_every_corpus_input_keeps_the_output_contract_and_nothing_is_left(endpoint):
    run = acceptance(endpoint, "tp-acceptance-pass", "--timeout", "300")

    assert run.returncode == 0, run.stdout + run.stderr
    failing = {key: row for key, row in rows(run.stdout).items() if " PASS " not in f"{row} "}
    assert failing == {}
    assert f"{len(CORPUS)} of {len(CORPUS)} inputs kept the contract." in run.stdout
    assert stack_status(endpoint, "tp-acceptance-pass") is None
    assert jobs(endpoint) == []


def test_a_failed_check_exits_non_zero_and_still_destroys_everything(endpoint):
    run = acceptance(endpoint, "tp-acceptance-fail", "--timeout", "0")

    assert run.returncode == 1, run.stdout + run.stderr
    assert all(" FAIL " in f"{row} " for row in rows(run.stdout).values())
    assert "Destroyed tp-acceptance-fail and the Transcribe jobs it created." in run.stdout
    assert stack_status(endpoint, "tp-acceptance-fail") is None
    assert jobs(endpoint) == []
