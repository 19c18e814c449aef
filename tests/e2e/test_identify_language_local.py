"""The deployed app with identify_language among language_options transcribes Spanish speech."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.deployment import ROOT, LocalEndpoint, deploy, destroy, wait_for_outcome
from localcloud.wer import wer
from transcribe_pipeline.stack_outputs import StackOutputs

# A deployment of its own (the language settings are deploy-time context) on a local cloud of
# its own. One test: xdist's loadgroup was seen to run one module's tests on both workers,
# and each worker would then deploy the stack again.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-identify")]

SAMPLES = ROOT / "samples"
CLIP = json.loads((SAMPLES / "texts.json").read_text())["non_english"][0]
OPTIONS = ["en-US", CLIP["language"]]
FILE = f"{CLIP['name']}.mp3"
KEY = f"voces/{FILE}"


@pytest.fixture(scope="module")
def pipeline(endpoint: LocalEndpoint, cdk_out: Path) -> Iterator[StackOutputs]:
    """The stack deployed with language identification among OPTIONS; destroyed after."""
    context = {"identify_language": "true", "language_options": ",".join(OPTIONS)}
    outputs = deploy(endpoint, context=context, output_dir=cdk_out)
    yield outputs
    destroy(endpoint, output_dir=cdk_out)


def test_spanish_speech_is_transcribed_in_the_language_identified_among_the_options(
    endpoint: LocalEndpoint, pipeline: StackOutputs
) -> None:
    s3 = endpoint.client("s3")
    transcribe = endpoint.client("transcribe")

    s3.upload_file(str(SAMPLES / FILE), pipeline.input_bucket, KEY)
    outcome = wait_for_outcome(s3, pipeline.output_bucket, KEY, timeout=180)

    assert outcome.failure is None, outcome.failure
    assert outcome.transcript is not None
    assert wer(CLIP["text"], outcome.transcript) <= 0.3, outcome.transcript
    [summary] = transcribe.list_transcription_jobs(Status="COMPLETED")["TranscriptionJobSummaries"]
    name = summary["TranscriptionJobName"]
    job = transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
    assert (job["IdentifyLanguage"], job["LanguageOptions"]) == (True, OPTIONS)
    assert job["LanguageCode"] == CLIP["language"]
    assert job["IdentifiedLanguageScore"] > 0.5
    raw = s3.get_object(Bucket=pipeline.output_bucket, Key=f"{name}.json")["Body"].read()
    results = json.loads(raw)["results"]
    assert results["language_code"] == CLIP["language"]
    assert [s["code"] for s in results["language_identification"]] == [CLIP["language"], "en-US"]
