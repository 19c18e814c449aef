"""Hostile input: odd keys, sizes and names never write outside the output layout, never start a
job for another bucket, and never turn into a retry storm.

The output layout (``transcribe_pipeline/layout.py``, README "Output layout"):
``transcripts/…``, ``failed/…`` and Transcribe's own ``<job>.json|.srt|.vtt`` at the root. A
"retry storm" is a record or event that raises although retrying can never help: SQS would
redeliver it until the DLQ, EventBridge for 24 hours.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.handlers.conftest import INPUT_BUCKET, OUTPUT_BUCKET, PREFIX
from tests.handlers.events import job_state_change, object_created, object_deleted, sqs_batch
from transcribe_pipeline.keys import JOB_NAME_PATTERN, MAX_S3_KEY_BYTES

HOSTILE_KEYS = {
    "control characters": "talks/evil\nname\r\t\x01\x1b[31m.mp3",
    "a newline faking a log line": 'talks/x.mp3\n{"level":"ERROR","message":"forged"}.mp3',
    "parent-directory segments": "../../escape.mp3",
    "parent segments inside": "talks/../../../transcripts/other.mp3.txt/../x.mp3",
    "a leading slash": "/absolute/path.mp3",
    "dot segments only": "./././.mp3",
    "bidi and zero-width characters": "talks/\u202egnp.mp3\u200b.mp3",
    "percent-encoded traversal": "talks/%2e%2e%2f%2e%2e%2fx.mp3",
}


def in_layout(key: str, jobs: set[str]) -> bool:
    """Whether an output key is where the design puts outputs."""
    if key.startswith(("transcripts/", "failed/")):
        return len(key.encode("utf-8")) <= MAX_S3_KEY_BYTES
    stem, _, extension = key.rpartition(".")
    return stem in jobs and extension in {"json", "srt", "vtt"}


@pytest.mark.parametrize("key", HOSTILE_KEYS.values(), ids=HOSTILE_KEYS.keys())
def test_a_hostile_key_is_transcribed_from_that_object_into_the_output_layout(
    cloud, starter, job_state, context, key
):
    # Given an upload whose key is hostile (S3 accepts any UTF-8 key, byte for byte)
    batch = sqs_batch(cloud.upload(key))

    # When its event is handled, and its job completes and is harvested
    response = starter.handler(batch, context)
    ((name, uri),) = cloud.job_uris().items()
    cloud.complete_job(name)
    job_state.handler(job_state_change(name, "COMPLETED"), context)

    # Then the job read that very object under a name Transcribe accepts, and every output is
    # in the layout, the transcript under the literal key
    assert response["batchItemFailures"] == []
    assert uri == f"s3://{INPUT_BUCKET}/{key}"
    assert JOB_NAME_PATTERN.match(name)
    assert name.startswith(PREFIX)
    keys = cloud.output_keys()
    assert all(in_layout(k, {name}) for k in keys), keys
    assert f"transcripts/{key}.txt" in keys


REJECTED = ("control characters", "parent-directory segments", "a leading slash")
REJECTED_KEYS = {name: HOSTILE_KEYS[name] for name in REJECTED}


@pytest.mark.parametrize("key", REJECTED_KEYS.values(), ids=REJECTED_KEYS.keys())
def test_a_rejected_hostile_key_is_recorded_inside_failed(cloud, starter, context, key):
    # Given a hostile key the pipeline rejects (empty object)
    batch = sqs_batch(cloud.upload(key, b""))

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then the failure record is failed/<literal key>.json, naming the exact source
    assert response["batchItemFailures"] == []
    assert cloud.output_keys() == [f"failed/{key}.json"]
    record = cloud.read_output_json(f"failed/{key}.json")
    assert record["source"] == f"s3://{INPUT_BUCKET}/{key}"


def test_control_characters_in_a_key_cannot_forge_log_lines(cloud, starter, context):
    # Given a key that carries a newline and a fake JSON log record, in an event the function
    # logs with its key (one for another bucket), and the function's JSON log output captured
    key = HOSTILE_KEYS["a newline faking a log line"]
    batch = sqs_batch(object_created(f"{INPUT_BUCKET}-evil", key, size=5, version_id="v1"))
    output = io.StringIO()
    capture = logging.StreamHandler(output)
    capture.setFormatter(starter.logger.registered_formatter)
    starter.logger.addHandler(capture)

    # When the batch is handled
    try:
        starter.handler(batch, context)
    finally:
        starter.logger.removeHandler(capture)

    # Then every line is one JSON record, the key is logged escaped, nothing is forged
    records = [json.loads(line) for line in output.getvalue().splitlines()]
    assert [r["source_key"] for r in records] == [key]
    assert not any(r.get("message") == "forged" for r in records)


def test_a_key_as_long_as_s3_allows_gets_outputs_within_s3_s_key_limit(
    cloud, starter, job_state, context
):
    # Given a job for a 1024-byte key of multi-byte characters (S3's maximum)
    key = "talks/" + "é" * ((MAX_S3_KEY_BYTES - len("talks/.mp3")) // 2) + ".mp3"
    starter.handler(sqs_batch(cloud.upload(key)), context)
    (name,) = cloud.job_uris()
    cloud.complete_job(name)

    # When it is harvested
    job_state.handler(job_state_change(name, "COMPLETED"), context)

    # Then its transcripts are shortened into the layout instead of failing the write
    transcripts = cloud.output_keys("transcripts/")
    assert len(transcripts) == 4  # .txt, .json, .srt, .vtt
    assert all(in_layout(k, {name}) for k in transcripts)


SIZES = {
    "zero bytes": 0,
    "one byte over 2 GB": 2 * 1024**3 + 1,
    "larger than any disk": 10**30,
}


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_an_impossible_size_is_recorded_not_sent_to_transcribe_nor_retried(
    cloud, starter, context, size
):
    # Given an event announcing a size Transcribe cannot take
    event = object_created(INPUT_BUCKET, "talks/odd.mp3", size=size, version_id="v1")

    # When the batch is handled
    response = starter.handler(sqs_batch(event), context)

    # Then a failure record, no job, no retry
    assert response["batchItemFailures"] == []
    assert cloud.job_uris() == {}
    assert cloud.output_keys() == ["failed/talks/odd.mp3.json"]


def test_non_media_bytes_under_a_media_extension_end_as_a_failure_record(
    cloud, starter, job_state, context
):
    # Given a text file named like audio: the starter cannot tell, Transcribe can
    starter.handler(
        sqs_batch(cloud.upload("talks/notes.mp3", b"meeting notes, not audio")), context
    )
    (name,) = cloud.job_uris()
    cloud.fail_job(name, "The media format that you specified doesn't match the detected format.")

    # When Transcribe's failure is harvested
    job_state.handler(job_state_change(name, "FAILED"), context)

    # Then the failure is recorded with Transcribe's reason, and no transcript is written
    assert cloud.output_keys("transcripts/") == []
    record = cloud.read_output_json("failed/talks/notes.mp3.json")
    assert "detected format" in record["reason"]


FOREIGN_BUCKETS = {
    "a name with ours as prefix": f"{INPUT_BUCKET}-evil",
    "a prefix of ours": INPUT_BUCKET[:-1],
    "ours in upper case": INPUT_BUCKET.upper(),
    "ours with a trailing slash": f"{INPUT_BUCKET}/",
    "the output bucket": OUTPUT_BUCKET,
}


@pytest.mark.parametrize("bucket", FOREIGN_BUCKETS.values(), ids=FOREIGN_BUCKETS.keys())
def test_an_event_for_any_other_bucket_starts_nothing_writes_nothing_and_is_not_retried(
    cloud, starter, context, bucket
):
    # Given a batch with an event for a look-alike bucket next to a genuine upload
    foreign = object_created(bucket, "talk.mp3", size=5, version_id="v1")
    genuine = cloud.upload("talks/genuine.mp3")

    # When the batch is handled
    response = starter.handler(sqs_batch(foreign, genuine), context)

    # Then only the genuine upload has a job; the foreign event is dropped, not retried
    assert response["batchItemFailures"] == []
    assert list(cloud.job_uris().values()) == [f"s3://{INPUT_BUCKET}/talks/genuine.mp3"]
    assert cloud.output_keys() == []


def _forged(event: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The event with some top-level fields replaced, as another rule's sender could send it."""
    return {**event, **fields}


NOT_UPLOADS = {
    # What another rule, or a principal with sqs:SendMessage, could put on the start queue
    # (docs/eventbridge-queue-policy.md): only S3's "Object Created" events start jobs.
    "a custom source copying an upload's detail": {"source": "my.app"},
    "an S3 event of another type": {"detail-type": "Object Restore Completed"},
    "no source at all": {"source": None},
}


@pytest.mark.parametrize("fields", NOT_UPLOADS.values(), ids=NOT_UPLOADS.keys())
def test_an_event_that_is_not_an_s3_object_created_event_starts_nothing_and_is_not_retried(
    cloud, starter, context, fields
):
    # Given an upload event with its source or type changed, next to a genuine upload
    forged = _forged(cloud.upload("talks/forged.mp3"), **fields)
    genuine = cloud.upload("talks/genuine.mp3")

    # When the batch is handled
    response = starter.handler(sqs_batch(forged, genuine), context)

    # Then only the genuine upload has a job, nothing is written and nothing is retried
    assert response["batchItemFailures"] == []
    assert list(cloud.job_uris().values()) == [f"s3://{INPUT_BUCKET}/talks/genuine.mp3"]
    assert cloud.output_keys() == []


def test_an_object_deleted_event_of_the_input_bucket_starts_nothing_and_is_not_retried(
    cloud, starter, context
):
    # Given S3's own "Object Deleted" event for a key of the input bucket
    cloud.upload("talks/deleted.mp3")
    deleted = object_deleted(INPUT_BUCKET, "talks/deleted.mp3")

    # When it is handled
    response = starter.handler(sqs_batch(deleted), context)

    # Then no job, no failure record, no retry
    assert response["batchItemFailures"] == []
    assert cloud.job_uris() == {}
    assert cloud.output_keys() == []


MALFORMED_BODIES = {
    "not JSON": "talks/x.mp3",
    "a JSON list": "[]",
    "no detail": json.dumps({"source": "aws.s3", "detail-type": "Object Created"}),
    "no object key": json.dumps(
        {
            "source": "aws.s3",
            "detail-type": "Object Created",
            "detail": {"bucket": {"name": INPUT_BUCKET}, "object": {"size": 5}},
        }
    ),
    "a key that is not a string": json.dumps(
        {
            "source": "aws.s3",
            "detail-type": "Object Created",
            "detail": {"bucket": {"name": INPUT_BUCKET}, "object": {"key": 7, "size": 5}},
        }
    ),
}


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_a_message_that_is_no_event_at_all_is_dropped_without_retry(cloud, starter, context, body):
    # Given a batch with a message body no upload event looks like, next to a genuine upload
    batch = sqs_batch(cloud.upload("talks/genuine.mp3"))
    batch["Records"].insert(0, {**batch["Records"][0], "messageId": "malformed", "body": body})

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then the genuine upload has its job and the malformed message is not retried
    assert response["batchItemFailures"] == []
    assert list(cloud.job_uris().values()) == [f"s3://{INPUT_BUCKET}/talks/genuine.mp3"]
    assert cloud.output_keys() == []


def test_a_refused_event_is_logged_as_a_warning_with_the_reason(cloud, starter, context):
    # Given an event from a custom source and the function's JSON log output captured
    forged = _forged(cloud.upload("talks/forged.mp3"), source="my.app")
    output = io.StringIO()
    capture = logging.StreamHandler(output)
    capture.setFormatter(starter.logger.registered_formatter)
    starter.logger.addHandler(capture)

    # When it is handled
    try:
        starter.handler(sqs_batch(forged), context)
    finally:
        starter.logger.removeHandler(capture)

    # Then one warning says why it was refused
    records = [json.loads(line) for line in output.getvalue().splitlines()]
    warnings = [r for r in records if r["level"] == "WARNING"]
    assert len(warnings) == 1
    assert "my.app" in warnings[0]["reason"]


FOREIGN_JOB_NAMES = {
    "another pipeline's prefix": "other-pipeline-0123456789abcdef",
    "our prefix in another case": PREFIX.upper() + "talk-0123456789abcdef",
    "our prefix inside the name": f"x{PREFIX}talk-0123456789abcdef",
    "no name at all": "",
    "our prefix and path segments": f"{PREFIX}../../transcripts/x",
    "our prefix and a name longer than Transcribe allows": PREFIX + "a" * 300,
    "our prefix and a trailing newline": f"{PREFIX}talk-0123456789abcdef\n",
}


def validating_get(original: Any) -> Any:
    """GetTranscriptionJob that validates the name as the real API does (moto does not)."""

    def get_transcription_job(**request: Any) -> Any:
        name = request["TranscriptionJobName"]
        if not JOB_NAME_PATTERN.fullmatch(name):
            raise ClientError(
                {
                    "Error": {
                        "Code": "BadRequestException",
                        "Message": f"1 validation error detected: Value '{name}' at "
                        "'transcriptionJobName' failed to satisfy constraint: Member must "
                        "satisfy regular expression pattern: ^[0-9a-zA-Z._-]+",
                    }
                },
                "GetTranscriptionJob",
            )
        return original(**request)

    return get_transcription_job


@pytest.mark.parametrize("name", FOREIGN_JOB_NAMES.values(), ids=FOREIGN_JOB_NAMES.keys())
def test_a_state_change_for_a_name_that_is_not_one_of_ours_is_dropped_without_retry(
    cloud, job_state, context, monkeypatch, name
):
    # Given a state-change event naming a job this pipeline never started, and Transcribe
    # answering invalid names with a validation error, as the real API does
    event = job_state_change(name, "COMPLETED")
    original = job_state.transcribe.get_transcription_job
    monkeypatch.setattr(job_state.transcribe, "get_transcription_job", validating_get(original))

    # When it is handled, Then it returns normally (no retry) and writes nothing
    job_state.handler(event, context)
    assert cloud.output_keys() == []


@pytest.mark.parametrize(
    "detail", [{}, {"TranscriptionJobName": None}, {"TranscriptionJobName": 7}]
)
def test_a_state_change_without_a_usable_name_is_dropped_without_retry(
    cloud, job_state, context, detail
):
    # Given an event whose detail lacks a job name of the right type
    event = job_state_change(f"{PREFIX}x-0123456789abcdef", "COMPLETED")
    event["detail"] = {"TranscriptionJobStatus": "COMPLETED", **detail}

    # When it is handled, Then it returns normally and writes nothing
    job_state.handler(event, context)
    assert cloud.output_keys() == []
