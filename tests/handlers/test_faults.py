"""Faults the other handler tests leave out: S3 failing mid-harvest, a start whose reply was
lost, events out of order, a late event after the sweeper, notices sent once.

(Every StartTranscriptionJob error class, malformed or missing result JSON, duplicate events and
the one-failing-record batch are in test_start_transcription.py / test_job_state_change.py.)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from tests.handlers.conftest import INPUT_BUCKET, OUTPUT_BUCKET, PREFIX
from tests.handlers.events import (
    job_state_change,
    scheduled_event,
    sqs_batch,
    transcribe_result,
)
from tests.handlers.ledger_table import TABLE, Ledger
from transcribe_pipeline import environment as names
from transcribe_pipeline.ledger_schema import State
from transcribe_pipeline.throttling import START_ATTEMPTS

JOB = f"{PREFIX}my-talk-0123456789abcdef"
KEY = "talks/my talk.mp3"
TEXT_KEY = f"transcripts/{KEY}.txt"


def failing_put(original: Any, key: str) -> Any:
    """put_object that fails (S3 InternalError) for ``key`` only."""

    def put_object(**request: Any) -> Any:
        if request["Key"] == key:
            raise ClientError(
                {
                    "Error": {
                        "Code": "InternalError",
                        "Message": "We encountered an internal error.",
                    }
                },
                "PutObject",
            )
        return original(**request)

    return put_object


@pytest.mark.parametrize("fault", ["transcript write", "subtitle write"])
def test_an_s3_failure_while_writing_outputs_raises_and_leaves_the_job_unharvested(
    cloud, job_state, context, monkeypatch, fault
):
    # Given a completed job, and S3 failing on one of the harvest's writes
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    failing_key = TEXT_KEY if fault == "transcript write" else f"transcripts/{KEY}.srt"
    monkeypatch.setattr(
        job_state.s3, "put_object", failing_put(job_state.s3.put_object, failing_key)
    )

    # When its COMPLETED event is handled, Then the error is raised (EventBridge/Lambda retry)
    with pytest.raises(ClientError):
        job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # And no transcript marks the job as harvested, so a retry or the sweeper will finish it
    assert TEXT_KEY not in cloud.output_keys("transcripts/")
    from transcribe_pipeline.harvest import is_harvested

    assert not is_harvested(cloud.s3, OUTPUT_BUCKET, JOB, KEY)


def test_the_retry_after_an_s3_failure_writes_every_output(cloud, job_state, context, monkeypatch):
    # Given a harvest that failed on the transcript write
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    original = job_state.s3.put_object
    monkeypatch.setattr(job_state.s3, "put_object", failing_put(original, TEXT_KEY))
    with pytest.raises(ClientError):
        job_state.handler(job_state_change(JOB, "COMPLETED"), context)
    monkeypatch.setattr(job_state.s3, "put_object", original)

    # When the event is retried
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then the transcript, its JSON and the subtitles are all there
    assert cloud.output_keys("transcripts/") == [
        f"transcripts/{KEY}.json",
        f"transcripts/{KEY}.srt",
        TEXT_KEY,
        f"transcripts/{KEY}.vtt",
    ]


def test_a_start_whose_reply_was_lost_is_retried_at_once_without_a_second_job(
    cloud, starter, context, monkeypatch
):
    # Given Transcribe creates the job but the reply never reaches the function (read timeout)
    event = cloud.upload("talks/slow reply.mp3")
    client = starter.transcribe.client
    original = client.start_transcription_job
    calls: list[str] = []

    def start_then_time_out(**request: Any) -> Any:
        calls.append(request["TranscriptionJobName"])
        original(**request)
        raise ReadTimeoutError(endpoint_url="https://transcribe.us-east-1.amazonaws.com")

    monkeypatch.setattr(client, "start_transcription_job", start_then_time_out)
    monkeypatch.setattr(starter.transcribe, "sleep", lambda seconds: None)

    # When the batch is handled
    response = starter.handler(sqs_batch(event), context)

    # Then the retry meets the existing job (ConflictException), confirms it reads this object
    # and succeeds: one job, no failure record, nothing back to the queue
    assert len(calls) == 2
    assert response["batchItemFailures"] == []
    assert list(cloud.job_uris().values()) == [f"s3://{INPUT_BUCKET}/talks/slow reply.mp3"]
    assert cloud.output_keys("failed/") == []


def test_a_start_while_transcribe_is_unreachable_goes_back_to_the_queue_and_succeeds_later(
    cloud, starter, context, monkeypatch
):
    # Given Transcribe cannot be reached for longer than the function's retries last
    event = cloud.upload("talks/offline.mp3")
    client = starter.transcribe.client
    original = client.start_transcription_job
    attempts: list[str] = []

    def unreachable(**request: Any) -> Any:
        attempts.append(request["TranscriptionJobName"])
        raise EndpointConnectionError(endpoint_url="https://transcribe.us-east-1.amazonaws.com")

    monkeypatch.setattr(client, "start_transcription_job", unreachable)
    monkeypatch.setattr(starter.transcribe, "sleep", lambda seconds: None)
    batch = sqs_batch(event)
    # Every record of the batch failed: Powertools fails the whole invocation, SQS redelivers.
    with pytest.raises(BatchProcessingError):
        starter.handler(batch, context)
    assert len(attempts) == START_ATTEMPTS

    # When SQS delivers the message again (the network is fine now)
    monkeypatch.setattr(client, "start_transcription_job", original)
    second = starter.handler(batch, context)

    # Then the job starts once and nothing is recorded as failed
    assert second["batchItemFailures"] == []
    assert list(cloud.job_uris().values()) == [f"s3://{INPUT_BUCKET}/talks/offline.mp3"]
    assert cloud.output_keys("failed/") == []


@pytest.mark.parametrize("order", ["older first", "newer first"])
def test_completed_events_of_two_versions_in_any_order_leave_the_newer_transcript(
    cloud, job_state, context, order
):
    # Given two uploads of one key, both jobs completed with different words
    older, newer = f"{PREFIX}my-talk-000000000000000a", f"{PREFIX}my-talk-000000000000000b"
    for name, age, words in ((older, 2, "first take"), (newer, 1, "second take")):
        cloud.start_job(name, KEY)
        result = transcribe_result(name)
        result["results"]["transcripts"][0]["transcript"] = words
        cloud.complete_job(name, result=result)
        cloud.age_job(name, created=timedelta(hours=age))
    names = [older, newer] if order == "older first" else [newer, older]

    # When their COMPLETED events arrive in that order
    for name in names:
        job_state.handler(job_state_change(name, "COMPLETED"), context)

    # Then the transcript is the newer upload's, written by its own job
    assert cloud.read_output(TEXT_KEY) == "second take\n"
    head = cloud.s3.head_object(Bucket=OUTPUT_BUCKET, Key=TEXT_KEY)
    assert head["Metadata"]["job-name"] == newer


@pytest.fixture
def publishers(notices, load_handler):
    """The job-state and sweeper modules publishing to the notice topic; its reader.

    The ledger holds JOB's upload as started and open: the sweeper looks at open items only.
    """
    topic_arn, received = notices
    Ledger().put_version(KEY, State.STARTED, job=JOB)
    job_state = load_handler("job_state_change", TOPIC_ARN=topic_arn)
    sweeper = load_handler("sweeper", **{names.LEDGER_TABLE: TABLE})
    return job_state, sweeper, received


def test_a_completed_event_before_the_sweep_is_harvested_and_announced_once(
    publishers, cloud, context
):
    # Given a completed job whose event arrives before the sweep
    job_state, sweeper, received = publishers
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    cloud.age_job(JOB, created=timedelta(minutes=15), completed=timedelta(minutes=10))

    # When the event is handled, then the sweep runs
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)
    report = sweeper.handler(scheduled_event(), context)

    # Then the sweep leaves it alone, and subscribers hear of it once
    assert report["harvested"] == []
    assert [notice["job"] for notice in received()] == [JOB]


def test_a_completed_event_after_the_sweep_harvests_nothing_more(publishers, cloud, context):
    # Given a completed job the sweep has already harvested (its event was late)
    job_state, sweeper, received = publishers
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    cloud.age_job(JOB, created=timedelta(minutes=15), completed=timedelta(minutes=10))
    assert sweeper.handler(scheduled_event(), context)["harvested"] == [JOB]
    written = cloud.s3.head_object(Bucket=OUTPUT_BUCKET, Key=TEXT_KEY)["LastModified"]

    # When the late COMPLETED event arrives
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then nothing is written again, and subscribers hear of it once
    assert cloud.s3.head_object(Bucket=OUTPUT_BUCKET, Key=TEXT_KEY)["LastModified"] == written
    assert [notice["job"] for notice in received()] == [JOB]


def test_a_duplicate_failed_event_is_announced_once(publishers, cloud, context):
    # Given a job Transcribe failed
    job_state, _, received = publishers
    cloud.start_job(JOB, KEY)
    cloud.fail_job(JOB, "Invalid sample rate for audio file.")

    # When its FAILED event is delivered twice
    for _ in range(2):
        job_state.handler(
            job_state_change(JOB, "FAILED", failure_reason="Invalid sample rate for audio file."),
            context,
        )

    # Then one failure record and one notice
    assert cloud.output_keys("failed/") == [f"failed/{KEY}.json"]
    assert [notice["status"] for notice in received()] == ["FAILED"]
