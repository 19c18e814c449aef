"""input_prefix end to end: a prefix S3 must encode in its events still selects the uploads.

S3 writes keys URL-encoded into its events and the upload rule compares that text, so the
rule filters on the encoded prefix (docs/s3-event-keys.md). The app is deployed once, with a
prefix holding a space, non-ASCII letters, an apostrophe and a literal "+", and keys inside
and outside it are uploaded the way a user would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud.deployment import ROOT, LocalEndpoint, Outcome, deploy, destroy, wait_for_outcome
from localcloud.wer import wer as word_error_rate
from tests.e2e.support import wait_until_empty
from transcribe_pipeline.stack_outputs import StackOutputs
from transcribe_pipeline.sweeper import pipeline_jobs

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SAMPLE = ROOT / "samples" / "hello-pipeline.mp3"
HELLO_TEXT = next(
    clip["text"]
    for clip in json.loads((ROOT / "samples" / "texts.json").read_text())["clips"]
    if clip["name"] == "hello-pipeline"
)
PREFIX = "réunions d'été+notes/"
INSIDE = (f"{PREFIX}hello pipeline.mp3", f"{PREFIX}équipe/hello+again.mp3")
OUTSIDE = (
    "hello-pipeline.mp3",  # no prefix at all
    "réunions d'été notes/hello.mp3",  # a space where the prefix has a literal "+"
    "reunions d'ete+notes/hello.mp3",  # the same letters without their accents
    "RÉUNIONS D'ÉTÉ+NOTES/hello.mp3",  # another case
    f"archive/{PREFIX}hello.mp3",  # the prefix further down the key
)
WAIT_SECONDS = 120
MAX_WER = 0.15


@pytest.fixture(scope="module")
def pipeline(endpoint: LocalEndpoint, cdk_out: Path) -> Iterator[StackOutputs]:
    """The stack deployed with the awkward input_prefix; destroyed afterwards."""
    outputs = deploy(endpoint, context={"input_prefix": PREFIX}, output_dir=cdk_out)
    try:
        yield outputs
    finally:
        destroy(endpoint, output_dir=cdk_out)


@pytest.fixture(scope="module")
def outcomes(endpoint: LocalEndpoint, pipeline: StackOutputs) -> dict[str, Outcome]:
    """Upload outside the prefix first, then inside; wait for the inside keys' transcripts.

    The local cloud routes an upload's event into the start queue during the upload itself,
    so once the inside keys are done and the queue is empty, every event that reached the
    queue has been handled: what is missing then was never routed.
    """
    s3 = endpoint.client("s3")
    for key in (*OUTSIDE, *INSIDE):
        s3.upload_file(str(SAMPLE), pipeline.input_bucket, key)
    deadline = time.monotonic() + WAIT_SECONDS
    done = {
        key: wait_for_outcome(
            s3,
            pipeline.output_bucket,
            key,
            timeout=max(1.0, deadline - time.monotonic()),
        )
        for key in INSIDE
    }
    wait_until_empty(endpoint.client("sqs"), pipeline.start_queue_url, timeout=60)
    return done


@pytest.mark.parametrize("key", INSIDE)
def test_an_upload_under_the_prefix_is_transcribed(outcomes, key):
    outcome = outcomes[key]

    assert outcome.failure is None, outcome.failure
    assert outcome.transcript is not None
    wer = word_error_rate(HELLO_TEXT, outcome.transcript)
    assert wer <= MAX_WER, f"WER {wer:.2f} for {key}: {outcome.transcript!r}"


def test_uploads_outside_the_prefix_start_no_job(endpoint, pipeline, outcomes):
    transcribe = endpoint.client("transcribe")
    bucket = pipeline.input_bucket

    media = {
        _media_key(transcribe, job["TranscriptionJobName"], bucket)
        for job in pipeline_jobs(transcribe, pipeline.job_name_prefix)
    }

    assert media == set(INSIDE)


def test_uploads_outside_the_prefix_leave_no_output(endpoint, pipeline, outcomes):
    s3 = endpoint.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=pipeline.output_bucket)
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]

    readable = [key for key in keys if key.startswith(("transcripts/", "failed/"))]
    assert not [key for key in readable if any(outside in key for outside in OUTSIDE)]
    assert all(key.startswith(("transcripts/" + PREFIX, "failed/" + PREFIX)) for key in readable)


def test_nothing_was_dead_lettered(endpoint, pipeline, outcomes):
    sqs = endpoint.client("sqs")

    attributes = sqs.get_queue_attributes(
        QueueUrl=pipeline.start_dead_letter_queue_url,
        AttributeNames=["ApproximateNumberOfMessages"],
    )["Attributes"]

    assert attributes["ApproximateNumberOfMessages"] == "0"


def _media_key(transcribe: Any, name: str, bucket: str) -> str:
    job = transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
    return str(job["Media"]["MediaFileUri"]).removeprefix(f"s3://{bucket}/")
