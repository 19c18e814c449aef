"""The deployed app with identify_language among language_options transcribes Spanish speech."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud.deployment import ROOT, LocalEndpoint, deploy, destroy, wait_for_outcome
from localcloud.wer import wer

# A deployment of its own (the language settings are deploy-time context), in its own xdist
# group so that it runs beside the main end-to-end module rather than after it.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-identify")]

SAMPLES = ROOT / "samples"
CLIP = json.loads((SAMPLES / "texts.json").read_text())["non_english"][0]
OPTIONS = ["en-US", CLIP["language"]]
FILE = f"{CLIP['name']}.mp3"
KEY = f"voces/{FILE}"


@pytest.fixture(scope="module")
def pipeline(endpoint: LocalEndpoint, cdk_out: Path) -> Iterator[dict[str, str]]:
    """The stack deployed with language identification among OPTIONS; destroyed after."""
    context = {"identify_language": "true", "language_options": ",".join(OPTIONS)}
    outputs = deploy(endpoint, context=context, output_dir=cdk_out)
    yield outputs
    destroy(endpoint, output_dir=cdk_out)


@pytest.fixture(scope="module")
def transcribed(endpoint: LocalEndpoint, pipeline: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The clip's transcript through the pipeline, and its Transcribe job."""
    s3 = endpoint.client("s3")
    s3.upload_file(str(SAMPLES / FILE), pipeline["InputBucketName"], KEY)
    outcome = wait_for_outcome(s3, pipeline["OutputBucketName"], KEY, timeout=180)
    assert outcome.failure is None, outcome.failure
    assert outcome.transcript is not None
    transcribe = endpoint.client("transcribe")
    [summary] = transcribe.list_transcription_jobs(Status="COMPLETED")["TranscriptionJobSummaries"]
    job = transcribe.get_transcription_job(TranscriptionJobName=summary["TranscriptionJobName"])
    return outcome.transcript, job["TranscriptionJob"]


def test_the_job_reports_the_language_it_identified_among_the_options(transcribed) -> None:
    _, job = transcribed

    assert job["IdentifyLanguage"] is True
    assert job["LanguageOptions"] == OPTIONS
    assert job["LanguageCode"] == CLIP["language"]
    assert job["IdentifiedLanguageScore"] > 0.5


def test_the_transcript_is_the_spanish_text(transcribed) -> None:
    transcript, _ = transcribed

    assert wer(CLIP["text"], transcript) <= 0.3, transcript


def test_the_raw_result_lists_the_identification_scores_of_the_options(
    endpoint: LocalEndpoint, pipeline: dict[str, str], transcribed
) -> None:
    _, job = transcribed
    s3 = endpoint.client("s3")

    body = s3.get_object(
        Bucket=pipeline["OutputBucketName"], Key=f"{job['TranscriptionJobName']}.json"
    )["Body"].read()
    results = json.loads(body)["results"]

    assert results["language_code"] == CLIP["language"]
    assert [s["code"] for s in results["language_identification"]] == [CLIP["language"], "en-US"]
