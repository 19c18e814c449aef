"""StartTranscription: SQS batches of S3 "Object Created" events -> Transcribe jobs."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError

from tests.handlers.conftest import INPUT_BUCKET, OUTPUT_BUCKET, PREFIX, REGION
from tests.handlers.events import message_ids, object_created, sqs_batch
from transcribe_pipeline.keys import S3Object, job_name_for
from transcribe_pipeline.starter import NotAnUploadError, uploaded_object
from transcribe_pipeline.throttling import START_ATTEMPTS

SPECIAL_KEYS = {
    "a space": "talks/my talk.mp3",
    "a literal plus": "talks/a+b.mp3",
    "a literal percent-2B": "talks/a%2Bb.mp3",
    "non-ASCII characters": "conférences/東京 ümlaut.mp3",
    "every kind at once": "x/ a+b %2B é&=?#.MP3",
}


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def raising_for(original: Any, key: str, code: str, message: str, calls: list[str]) -> Any:
    """start_transcription_job, failing with ``code`` for the object ``key`` only.

    Every call's media key is appended to ``calls``.
    """

    def start_transcription_job(**request: Any) -> Any:
        uri = request["Media"]["MediaFileUri"]
        calls.append(uri.removeprefix(f"s3://{INPUT_BUCKET}/"))
        if uri == f"s3://{INPUT_BUCKET}/{key}":
            raise ClientError(
                {"Error": {"Code": code, "Message": message}}, "StartTranscriptionJob"
            )
        return original(**request)

    return start_transcription_job


def fail_starts_of(
    starter: Any, monkeypatch: pytest.MonkeyPatch, key: str, code: str, message: str
) -> tuple[list[str], list[float]]:
    """Make Transcribe answer ``code`` for ``key``; the keys started and the backoff waits."""
    calls: list[str] = []
    waits: list[float] = []
    client = starter.transcribe.client  # the boto3 client under StartClient's retries
    monkeypatch.setattr(
        client,
        "start_transcription_job",
        raising_for(client.start_transcription_job, key, code, message, calls),
    )
    monkeypatch.setattr(starter.transcribe, "sleep", waits.append)
    return calls, waits


@pytest.mark.parametrize("key", SPECIAL_KEYS.values(), ids=SPECIAL_KEYS.keys())
def test_an_uploaded_key_starts_one_job_for_that_exact_object(cloud, starter, context, key):
    # Given an object whose key needs URL-encoding in the S3 event
    batch = sqs_batch(cloud.upload(key))

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then one job reads exactly that object
    assert response["batchItemFailures"] == []
    assert list(cloud.job_uris().values()) == [f"s3://{INPUT_BUCKET}/{key}"]


def test_a_started_job_is_named_with_the_prefix_and_a_readable_stem(cloud, starter, context):
    # Given an upload
    batch = sqs_batch(cloud.upload("talks/Quarterly Review.mp3"))

    # When the batch is handled
    starter.handler(batch, context)

    # Then the job name is valid and readable
    (name,) = cloud.job_uris()
    assert name.startswith(f"{PREFIX}Quarterly-Review-")


def test_a_duplicate_delivery_starts_one_job_and_both_messages_succeed(cloud, starter, context):
    # Given the same event delivered twice (S3 and EventBridge deliver at least once)
    event = cloud.upload("talks/duplicate.mp3")
    first, second = sqs_batch(event), sqs_batch(event)

    # When both deliveries are handled
    first_response = starter.handler(first, context)
    second_response = starter.handler(second, context)

    # Then there is one job and neither message is retried
    assert first_response["batchItemFailures"] == []
    assert second_response["batchItemFailures"] == []
    assert list(cloud.job_uris().values()) == [f"s3://{INPUT_BUCKET}/talks/duplicate.mp3"]


def test_a_duplicate_within_one_batch_starts_one_job(cloud, starter, context):
    # Given one batch holding the same event twice
    event = cloud.upload("talks/twice.mp3")
    batch = sqs_batch(event, event)

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then one job, no failures
    assert response["batchItemFailures"] == []
    assert len(cloud.job_uris()) == 1


def test_a_new_version_of_the_same_key_starts_a_new_job(cloud, starter, context):
    # Given an upload whose job was started, and then a second upload of the same key
    starter.handler(sqs_batch(cloud.upload("talks/v.mp3", b"first take")), context)
    second = cloud.upload("talks/v.mp3", b"second take")

    # When the second version's event is handled
    starter.handler(sqs_batch(second), context)

    # Then each version has its own job
    assert len(cloud.job_uris()) == 2


def test_an_existing_job_of_the_same_name_for_another_object_fails_the_record(
    cloud, starter, context
):
    # Given a job already holding the name this upload would get, but reading another object
    event = cloud.upload("talks/clash.mp3")
    detail = event["detail"]["object"]
    name = job_name_for(
        S3Object(INPUT_BUCKET, "talks/clash.mp3", version_id=detail["version-id"]),
        prefix=PREFIX,
    )
    cloud.start_job(name, "talks/someone-else.mp3")
    healthy = cloud.upload("talks/healthy.mp3")
    batch = sqs_batch(event, healthy)

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then only the clashing record is reported for retry, and the existing job is untouched
    assert failed_ids(response) == [message_ids(batch)[0]]
    assert cloud.job_uris()[name] == f"s3://{INPUT_BUCKET}/talks/someone-else.mp3"
    assert cloud.output_keys("failed/") == []


REJECTIONS = {
    "a folder marker": ("talks/", b"", None),
    "an unsupported extension": ("notes/minutes.txt", b"meeting notes", None),
    "no extension": ("talks/README", b"read me", None),
    "an empty object": ("talks/silence.mp3", b"", None),
    "an object over 2 GB": ("talks/huge.mp4", b"pretend to be big", 3 * 1024**3),
}


@pytest.mark.parametrize("rejection", REJECTIONS.values(), ids=REJECTIONS.keys())
def test_an_input_transcribe_cannot_take_gets_a_failure_record_and_no_job(
    cloud, starter, context, rejection
):
    # Given an upload Transcribe would refuse (the size as the event reports it)
    key, body, size = rejection
    event = cloud.upload(key, body)
    if size is not None:
        event["detail"]["object"]["size"] = size
    batch = sqs_batch(event)

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then a failure record explains it, no job exists and nothing is retried
    assert response["batchItemFailures"] == []
    assert cloud.job_uris() == {}
    record = cloud.read_output_json(f"failed/{key}.json")
    assert record["source"] == f"s3://{INPUT_BUCKET}/{key}"
    assert record["job"] is None
    assert record["reason"]


def test_an_event_naming_a_key_longer_than_s3_allows_is_dropped(cloud, starter, context):
    # Given an event naming a key of more than S3's 1024 bytes (no real upload has one)
    key = "deep/" + "a" * 2000 + ".mp3"
    batch = sqs_batch(object_created(INPUT_BUCKET, key, size=100, version_id="v1"))

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then nothing is started or recorded, and the message is not retried
    assert response["batchItemFailures"] == []
    assert cloud.job_uris() == {}
    assert cloud.output_keys() == []


@pytest.mark.parametrize(
    "error",
    [
        ("ThrottlingException", "Rate exceeded"),
        ("InternalFailureException", "We can't process your request because of an issue."),
        (
            "LimitExceededException",
            "You have too many jobs running at the same time. Try your request again later.",
        ),
        (
            # The API reference's generic text names both causes: it must count as throttling.
            "LimitExceededException",
            "You've either sent too many requests or your input file is too long. Wait before "
            "retrying your request, or use a smaller file and try your request again.",
        ),
    ],
    ids=["throttling", "internal failure", "too many jobs", "generic limit text"],
)
def test_a_record_whose_start_may_succeed_later_is_the_only_one_retried(
    cloud, starter, context, monkeypatch, error
):
    # Given a batch of three uploads, where starting the middle one fails transiently
    code, message = error
    events = [cloud.upload(f"batch/{n}.mp3") for n in ("one", "two", "three")]
    calls, waits = fail_starts_of(starter, monkeypatch, "batch/two.mp3", code, message)
    batch = sqs_batch(*events)

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then it was tried START_ATTEMPTS times with backoff in between, after which only that
    # message goes back to the queue, unrecorded, and the others have jobs
    assert calls.count("batch/two.mp3") == START_ATTEMPTS
    assert len(waits) == START_ATTEMPTS - 1
    assert failed_ids(response) == [message_ids(batch)[1]]
    assert sorted(cloud.job_uris().values()) == [
        f"s3://{INPUT_BUCKET}/batch/one.mp3",
        f"s3://{INPUT_BUCKET}/batch/three.mp3",
    ]
    assert cloud.output_keys("failed/") == []


def test_a_start_refused_for_a_missing_vocabulary_is_retried_not_recorded(
    cloud, load_handler, context
):
    # Given a pipeline configured with a vocabulary that does not exist: Transcribe answers
    # BadRequestException "The requested vocabulary couldn't be found..." for every upload
    starter = load_handler("start_transcription", VOCABULARY_NAME="no-such-vocabulary")
    batch = sqs_batch(cloud.upload("talks/vocab.mp3"), cloud.upload("talks/other.mp3"))

    # When the batch is handled (every record fails, so the whole invocation fails: the
    # function's Errors alarm)
    with pytest.raises(BatchProcessingError, match="vocabulary couldn't be found"):
        starter.handler(batch, context)

    # Then the messages go back to the queue (retried, then dead-lettered and alarmed), and
    # no file is marked as failed
    assert cloud.job_uris() == {}
    assert cloud.output_keys("failed/") == []


# BadRequestException texts naming the pipeline's configuration rather than the file.
CONFIGURATION_FAULTS = {
    # AWS's text when the caller or the data-access role cannot read the media.
    "media permission": (
        "The S3 URI that you provided can't be accessed. Make sure that you have read "
        "permission and try your request again."
    ),
    "KMS key": "The KMS key that you specified can't be used to encrypt the output.",
    "data-access role": "Amazon Transcribe can't assume the role that you specified.",
}


@pytest.mark.parametrize("message", CONFIGURATION_FAULTS.values(), ids=CONFIGURATION_FAULTS)
def test_a_start_refused_for_a_configuration_fault_is_retried_not_recorded(
    cloud, starter, context, monkeypatch, message
):
    # Given an upload that is there, Transcribe refusing it for a configuration cause, and a
    # second upload in the same batch that starts
    events = [cloud.upload("talks/keynote.mp3"), cloud.upload("talks/fine.mp3")]
    calls, _ = fail_starts_of(
        starter, monkeypatch, "talks/keynote.mp3", "BadRequestException", message
    )
    batch = sqs_batch(*events)

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then it was tried once and goes back to the queue, with no failure record
    assert calls == ["talks/keynote.mp3", "talks/fine.mp3"]
    assert failed_ids(response) == message_ids(batch)[:1]
    assert cloud.output_keys("failed/") == []


def test_an_upload_deleted_before_its_start_gets_a_failure_record_not_a_retry(
    cloud, starter, context, monkeypatch
):
    # Given an upload deleted before its job started, which Transcribe cannot read
    event = cloud.upload("talks/gone.mp3")
    cloud.s3.delete_object(Bucket=INPUT_BUCKET, Key="talks/gone.mp3")
    fail_starts_of(
        starter, monkeypatch, "talks/gone.mp3", "BadRequestException",
        CONFIGURATION_FAULTS["media permission"],
    )  # fmt: skip
    batch = sqs_batch(event)

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then that one file is recorded as failed, and not retried
    assert response["batchItemFailures"] == []
    assert "deleted" in cloud.read_output_json("failed/talks/gone.mp3.json")["reason"]


def test_a_request_transcribe_refuses_for_the_file_gets_a_failure_record_and_is_not_retried(
    cloud, starter, context, monkeypatch
):
    # Given Transcribe refusing one upload with a BadRequest that names nothing of the pipeline
    event = cloud.upload("talks/odd.mp3")
    message = (
        "1 validation error detected: Value at 'media.mediaFileUri' failed to satisfy "
        "constraint: Member must have length less than or equal to 2000"
    )
    fail_starts_of(starter, monkeypatch, "talks/odd.mp3", "BadRequestException", message)
    batch = sqs_batch(event)

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then the record succeeds (no retry storm) and the failure is recorded with the job name
    assert response["batchItemFailures"] == []
    record = cloud.read_output_json("failed/talks/odd.mp3.json")
    assert record["job"].startswith(f"{PREFIX}odd-")
    assert message in record["reason"]


def emf_lines(output: str) -> list[dict[str, Any]]:
    """The CloudWatch embedded-metric-format documents among a function's output lines."""
    documents = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [document for document in documents if "_aws" in document]


@pytest.mark.parametrize(
    "rejected",
    [
        ("notes/readme.txt", b"text", "extension"),
        ("empty/nothing.mp3", b"", "empty"),
        ("a folder/", b"", "folder"),
    ],
    ids=["extension", "empty", "folder"],
)
def test_a_rejected_upload_counts_in_rejected_inputs_by_reason_class(
    cloud, load_handler, context, capsys, rejected
):
    # Given a start function configured with the stack's metrics namespace
    key, body, reason_class = rejected
    starter = load_handler("start_transcription", METRICS_NAMESPACE="TranscriptionPipeline/Test")
    batch = sqs_batch(cloud.upload(key, body))
    capsys.readouterr()

    # When an upload it must reject is handled
    starter.handler(batch, context)

    # Then one RejectedInputs data point with that reason class is logged for CloudWatch
    (document,) = emf_lines(capsys.readouterr().out)
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "TranscriptionPipeline/Test"
    assert directive["Metrics"] == [{"Name": "RejectedInputs", "Unit": "Count"}]
    assert "Reason" in directive["Dimensions"][0]
    assert (document["RejectedInputs"], document["Reason"]) == ([1.0], reason_class)


def test_a_started_job_counts_no_rejection(cloud, load_handler, context, capsys):
    starter = load_handler("start_transcription", METRICS_NAMESPACE="TranscriptionPipeline/Test")
    batch = sqs_batch(cloud.upload("talks/fine.mp3"))
    capsys.readouterr()

    starter.handler(batch, context)

    assert emf_lines(capsys.readouterr().out) == []


def test_media_too_long_for_transcribe_gets_a_failure_record_and_is_not_retried(
    cloud, starter, context, monkeypatch
):
    # Given Transcribe refuses the media as too long (LimitExceededException, permanent kind)
    event = cloud.upload("talks/marathon.mp3")
    calls, waits = fail_starts_of(
        starter,
        monkeypatch,
        "talks/marathon.mp3",
        "LimitExceededException",
        "Your input file is too long. Use a smaller file and try your request again.",
    )
    batch = sqs_batch(event)

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then it is recorded as failed after one call: not retried, in the function or by SQS
    assert (calls, waits) == (["talks/marathon.mp3"], [])
    assert response["batchItemFailures"] == []
    record = cloud.read_output_json("failed/talks/marathon.mp3.json")
    assert "too long" in record["reason"]


def test_an_event_for_another_bucket_is_ignored(cloud, starter, context):
    # Given an event naming a bucket that is not the pipeline's input bucket
    cloud.s3.create_bucket(Bucket="someone-elses-bucket")
    cloud.s3.put_object(Bucket="someone-elses-bucket", Key="talk.mp3", Body=b"audio")
    batch = sqs_batch(object_created("someone-elses-bucket", "talk.mp3", size=5))

    # When the batch is handled
    response = starter.handler(batch, context)

    # Then nothing is started or written, and the message is not retried
    assert response["batchItemFailures"] == []
    assert cloud.job_uris() == {}
    assert cloud.output_keys() == []


def test_the_started_job_writes_to_the_output_bucket_with_subtitles(cloud, starter, context):
    # Given an upload
    batch = sqs_batch(cloud.upload("talks/out.mp3"))

    # When the batch is handled
    starter.handler(batch, context)

    # Then the job is set up to write <job>.json and subtitles at the output bucket's root
    (name,) = cloud.job_uris()
    cloud.advance_job_to(name, "COMPLETED")
    job = cloud.transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
    assert job["Transcript"]["TranscriptFileUri"].endswith(f"/{OUTPUT_BUCKET}/{name}.json")
    assert job["Subtitles"]["Formats"] == ["srt", "vtt"]
    assert job["Subtitles"]["OutputStartIndex"] == 1


def test_a_start_still_throttled_after_its_attempts_comes_back_sooner(
    cloud, load_handler, context, monkeypatch
):
    # Given the start queue holds an upload's event, received once (as the mapping does)
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="start", Attributes={"VisibilityTimeout": "360"})[
        "QueueUrl"
    ]
    event = cloud.upload("talks/busy.mp3")
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
    (message,) = sqs.receive_message(QueueUrl=queue_url, AttributeNames=["All"])["Messages"]
    batch = sqs_batch(event)
    batch["Records"][0].update(messageId=message["MessageId"],
                               receiptHandle=message["ReceiptHandle"])  # fmt: skip
    batch["Records"][0]["attributes"]["ApproximateReceiveCount"] = "1"
    # and Transcribe throttles every attempt
    starter = load_handler("start_transcription", START_QUEUE_URL=queue_url)
    fail_starts_of(starter, monkeypatch, "talks/busy.mp3", "ThrottlingException", "Rate exceeded")
    receives_seen: list[int] = []

    def no_delay(receives: int) -> int:
        receives_seen.append(receives)
        return 0  # the real delay is 15-30 s for a first receive (tests/unit/test_throttling.py)

    monkeypatch.setattr(starter, "requeue_delay_seconds", no_delay)

    # When the batch is handled (its only record fails, so the whole invocation fails)
    with pytest.raises(BatchProcessingError):
        starter.handler(batch, context)

    # Then SQS makes the message visible again at the delay the function chose, not after the
    # queue's 6-minute visibility timeout
    assert receives_seen == [1]
    (again,) = sqs.receive_message(QueueUrl=queue_url, AttributeNames=["All"])["Messages"]
    assert again["MessageId"] == message["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_a_record_that_fails_for_another_reason_keeps_the_queues_visibility_timeout(
    cloud, load_handler, context, monkeypatch
):
    # Given an upload whose failure record cannot be written (S3 refuses: not a throttled start)
    starter = load_handler("start_transcription", START_QUEUE_URL="https://sqs.invalid/start")
    batch = sqs_batch(cloud.upload("talks/empty.mp3", body=b""))
    changes: list[dict[str, Any]] = []
    monkeypatch.setattr(starter.sqs, "change_message_visibility", lambda **kw: changes.append(kw))

    def refuse(**request: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "PutObject")

    monkeypatch.setattr(starter.s3, "put_object", refuse)

    # When the batch is handled (its only record fails, so the whole invocation fails)
    with pytest.raises(BatchProcessingError, match="AccessDenied"):
        starter.handler(batch, context)

    # Then the message goes back to the queue with the visibility timeout left alone
    assert changes == []


# --- the ledger ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sequencer", [None, "", "not-hex", "1" * 65, 42])
def test_an_event_without_a_valid_sequencer_is_not_an_upload(sequencer):
    event = object_created(INPUT_BUCKET, "talks/x.mp3", size=5, version_id="v1")
    if sequencer is None:
        del event["detail"]["object"]["sequencer"]
    else:
        event["detail"]["object"]["sequencer"] = sequencer

    with pytest.raises(NotAnUploadError, match="sequencer"):
        uploaded_object(json.dumps(event))


def test_a_started_upload_is_recorded_with_its_job_attempt_and_profile(cloud, starter, context):
    event = cloud.upload("talks/recorded.mp3")

    starter.handler(sqs_batch(event), context)

    (version,) = cloud.versions("talks/recorded.mp3")
    (name,) = cloud.job_uris()
    assert (version.state, version.job, version.attempt) == ("STARTED", name, 1)
    assert version.version_id == event["detail"]["object"]["version-id"]
    assert version.item["profile"] == ""
    assert version.item["started_at"].endswith("Z")
    assert version.is_open
    assert cloud.head("talks/recorded.mp3")["sequencer"] == version.sequencer


def test_an_event_older_than_the_keys_newest_is_superseded_and_starts_nothing(
    cloud, starter, context
):
    # Given two uploads of one key, the newer one's event handled first
    older = cloud.upload("talks/order.mp3", b"ID3 first")
    newer = cloud.upload("talks/order.mp3", b"ID3 second")
    starter.handler(sqs_batch(newer), context)

    # When the older event arrives
    starter.handler(sqs_batch(older), context)

    # Then it is recorded as superseded and settled, and only the newer version has a job
    first, second = cloud.versions("talks/order.mp3")
    assert (first.state, first.is_open, second.state) == ("SUPERSEDED", False, "STARTED")
    assert len(cloud.job_uris()) == 1


def test_a_duplicate_rejected_event_writes_one_record_and_counts_once(
    cloud, load_handler, context, capsys
):
    starter = load_handler("start_transcription", METRICS_NAMESPACE="TranscriptionPipeline/Test")
    event = cloud.upload("empty/twice.mp3", b"")
    capsys.readouterr()

    starter.handler(sqs_batch(event), context)
    starter.handler(sqs_batch(event), context)

    assert len(emf_lines(capsys.readouterr().out)) == 1
    (version,) = cloud.versions("empty/twice.mp3")
    assert (version.state, version.reason) == ("REJECTED", "The object is empty (0 bytes).")
    assert version.outputs == ("failed/empty/twice.mp3.json",)
    assert not version.is_open  # its outcome event was sent


def test_a_reprocessed_version_starts_the_job_of_its_next_attempt(cloud, starter, context):
    # Given a version whose first job ran, set back to RECEIVED with attempt 2 as `reprocess`
    # does, and its upload event sent again
    event = cloud.upload("talks/again.mp3")
    starter.handler(sqs_batch(event), context)
    (first_job,) = cloud.job_uris()
    (version,) = cloud.versions("talks/again.mp3")
    cloud.table.update_item(
        Key={"pk": version.key, "sk": version.sort_key},
        UpdateExpression="SET #s = :received, attempt = :two, #o = :open, open_since = :t "
        "REMOVE job, started_at",
        ExpressionAttributeNames={"#s": "state", "#o": "open"},
        ExpressionAttributeValues={
            ":received": "RECEIVED", ":two": 2, ":open": "open", ":t": "2030-01-01T00:00:00Z"
        },
    )  # fmt: skip

    # When the event is handled
    starter.handler(sqs_batch(event), context)

    # Then a second job, named for attempt 2, reads the same object, and is recorded
    (second_job,) = set(cloud.job_uris()) - {first_job}
    assert second_job == f"{first_job}-r2"
    (version,) = cloud.versions("talks/again.mp3")
    assert (version.state, version.job, version.attempt) == ("STARTED", second_job, 2)
