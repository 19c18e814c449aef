"""The handlers against moto: buckets, Transcribe jobs and freshly imported handler modules.

The handler modules read their settings and create their clients at import time (as on a
Lambda cold start), so each test imports them afresh, inside ``mock_aws`` and after the
environment is set.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.transcribe.models import FakeTranscriptionJob, transcribe_backends

from tests.handlers.events import SAMPLE_SEQUENCER, object_created, sample_text, transcribe_result
from transcribe_pipeline.ledger import Ledger, Version
from transcribe_pipeline.ledger_schema import (
    HEAD_SORT_KEY,
    PARTITION_KEY,
    SORT_KEY,
    VERSION_SORT_KEY_PREFIX,
    table_keys_and_indexes,
)
from transcribe_pipeline.outcome_events import EVENT_SOURCE

REGION = "us-east-1"
INPUT_BUCKET = "media-in"
OUTPUT_BUCKET = "media-out"
PREFIX = "tp-"
LEDGER_TABLE = "TranscriptionLedger"

BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "INPUT_BUCKET": INPUT_BUCKET,
    "OUTPUT_BUCKET": OUTPUT_BUCKET,
    "JOB_NAME_PREFIX": PREFIX,
    "LANGUAGE_CODE": "en-US",
    "IDENTIFY_LANGUAGE": "false",
    "LANGUAGE_OPTIONS": "",
    "SHOW_SPEAKER_LABELS": "false",
    "MAX_SPEAKER_LABELS": "2",
    "SUBTITLE_FORMATS": "srt,vtt",
    "VOCABULARY_NAME": "",
    "DATA_ACCESS_ROLE_ARN": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/TranscribeDataAccess",
    "TOPIC_ARN": "",
    "SWEEP_LOOKBACK_HOURS": "24",
    "SWEEP_GRACE_MINUTES": "2",
    "STUCK_AFTER_HOURS": "6",
    "POWERTOOLS_SERVICE_NAME": "transcription-pipeline-tests",
    "LEDGER_TABLE": LEDGER_TABLE,
}
# Anything that would send the clients elsewhere than moto.
UNSET_ENV = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@dataclass(frozen=True)
class FakeLambdaContext:
    """What Powertools reads from the Lambda context object."""

    function_name: str = "TranscriptionPipeline-Function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:TranscriptionPipeline-Function"
    )
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds before the timeout: a fresh invocation of a 10-minute function."""
        return 600_000


class Cloud:
    """The moto account the handlers run against, with shortcuts for setting up and looking."""

    def __init__(self) -> None:
        self.s3: Any = boto3.client("s3", region_name=REGION)
        self.transcribe: Any = boto3.client("transcribe", region_name=REGION)
        self.table: Any = boto3.resource("dynamodb", region_name=REGION).Table(LEDGER_TABLE)
        self.ledger = Ledger(self.table)
        # S3 gives each event of a key a greater sequencer than the one before.
        self._sequencer = int(SAMPLE_SEQUENCER, 16)

    # --- S3 -------------------------------------------------------------------------------

    def upload(self, key: str, body: bytes = b"ID3\x04\x00fake mp3 frames") -> dict[str, Any]:
        """Put an object in the input bucket; the S3 "Object Created" event it would cause."""
        put = self.s3.put_object(Bucket=INPUT_BUCKET, Key=key, Body=body)
        self._sequencer += 1
        return object_created(
            INPUT_BUCKET,
            key,
            size=len(body),
            version_id=put["VersionId"],
            etag=put["ETag"].strip('"'),
            sequencer=format(self._sequencer, "X").rjust(18, "0"),
        )

    def put_output(
        self, key: str, body: bytes | str, metadata: dict[str, str] | None = None
    ) -> None:
        """Put an object in the output bucket (what Transcribe or an earlier run wrote)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.s3.put_object(Bucket=OUTPUT_BUCKET, Key=key, Body=data, Metadata=metadata or {})

    def exists(self, key: str) -> bool:
        """Whether the input bucket has a current object at ``key``."""
        listing = self.s3.list_objects_v2(Bucket=INPUT_BUCKET, Prefix=key)
        return any(obj["Key"] == key for obj in listing.get("Contents", []))

    def output_keys(self, prefix: str = "") -> list[str]:
        """Keys in the output bucket under ``prefix``, sorted."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=OUTPUT_BUCKET, Prefix=prefix
        )
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def read_output(self, key: str) -> str:
        """The text of an output object."""
        body: bytes = self.s3.get_object(Bucket=OUTPUT_BUCKET, Key=key)["Body"].read()
        return body.decode("utf-8")

    def read_output_json(self, key: str) -> Any:
        """An output object parsed as JSON."""
        return json.loads(self.read_output(key))

    def job_uris(self) -> dict[str, str]:
        """Every transcription job in the account and the media URI it reads."""
        names = [
            summary["TranscriptionJobName"]
            for summary in self.transcribe.list_transcription_jobs()["TranscriptionJobSummaries"]
        ]
        return {
            name: self.transcribe.get_transcription_job(TranscriptionJobName=name)[
                "TranscriptionJob"
            ]["Media"]["MediaFileUri"]
            for name in names
        }

    # --- the ledger ---------------------------------------------------------------------------

    def versions(self, key: str) -> list[Version]:
        """The key's version items, oldest first."""
        items = self.table.query(
            KeyConditionExpression=boto3.dynamodb.conditions.Key(PARTITION_KEY).eq(key)
            & boto3.dynamodb.conditions.Key(SORT_KEY).begins_with(VERSION_SORT_KEY_PREFIX),
            ConsistentRead=True,
        )["Items"]
        return [Version(item) for item in items]

    def head(self, key: str) -> dict[str, Any] | None:
        """The key's head item."""
        item: dict[str, Any] | None = self.table.get_item(
            Key={PARTITION_KEY: key, SORT_KEY: HEAD_SORT_KEY}, ConsistentRead=True
        ).get("Item")
        return item

    # --- Transcribe -------------------------------------------------------------------------

    def start_job(self, name: str, key: str, *, bucket: str = INPUT_BUCKET) -> None:
        """Start a job as the starter did before the ledger: no ledger item.

        Its source object is uploaded first when the job reads the input bucket and the key
        is not there (such a job is harvested only while its source exists).
        """
        if bucket == INPUT_BUCKET and not self.exists(key):
            self.s3.put_object(Bucket=INPUT_BUCKET, Key=key, Body=b"ID3\x04\x00fake mp3 frames")
        self.transcribe.start_transcription_job(
            TranscriptionJobName=name,
            Media={"MediaFileUri": f"s3://{bucket}/{key}"},
            MediaFormat="mp3",
            LanguageCode="en-US",
            OutputBucketName=OUTPUT_BUCKET,
            Subtitles={"Formats": ["srt", "vtt"], "OutputStartIndex": 1},
        )

    def fake_job(self, name: str) -> FakeTranscriptionJob:
        """moto's own record of a job, for what the API cannot do (fail it, age it)."""
        job: FakeTranscriptionJob = transcribe_backends[DEFAULT_ACCOUNT_ID][REGION].transcriptions[
            name
        ]
        return job

    def advance_job_to(self, name: str, status: str) -> None:
        """Move a job through moto's states (one per GetTranscriptionJob) up to ``status``."""
        for _ in range(5):
            job = self.transcribe.get_transcription_job(TranscriptionJobName=name)
            if job["TranscriptionJob"]["TranscriptionJobStatus"] == status:
                return
        raise AssertionError(f"Job {name} never reached {status}")

    def complete_job(
        self,
        name: str,
        *,
        result: Any = None,
        raw_result: bytes | None = None,
        write_result: bool = True,
    ) -> None:
        """Finish a job as Transcribe would: COMPLETED, ``<job>.json`` and subtitles written."""
        self.advance_job_to(name, "COMPLETED")
        if raw_result is not None:
            self.put_output(f"{name}.json", raw_result)
        elif write_result:
            document = transcribe_result(name) if result is None else result
            self.put_output(f"{name}.json", json.dumps(document))
        self.put_output(f"{name}.srt", sample_text("transcribeResult.srt"))
        self.put_output(f"{name}.vtt", sample_text("transcribeResult.vtt"))

    def fail_job(self, name: str, reason: str) -> None:
        """Finish a job as FAILED with ``reason`` (moto's Transcribe never fails by itself)."""
        job = self.fake_job(name)
        job.status = "FAILED"
        job.failure_reason = reason  # type: ignore[assignment]
        job.completion_time = _moto_time(datetime.now(UTC))

    def age_job(self, name: str, *, created: timedelta, completed: timedelta | None = None) -> None:
        """Pretend the job was created (and completed) that long ago."""
        job = self.fake_job(name)
        now = datetime.now(UTC)
        job.creation_time = _moto_time(now - created)
        if completed is not None:
            job.completion_time = _moto_time(now - completed)


def _moto_time(moment: datetime) -> datetime:
    """moto keeps naive UTC datetimes."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _get_with_failure_reason(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto 5.2.5 leaves FailureReason out of GetTranscriptionJob; the real API returns it."""

    def response_object(self: FakeTranscriptionJob, response_type: str) -> Any:
        response = original(self, response_type)
        if response_type == "GET" and self.failure_reason:
            response["TranscriptionJob"]["FailureReason"] = self.failure_reason
        return response

    return response_object


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    """A fresh moto account with the pipeline's buckets (input versioned, as the stack has it)."""
    for name in UNSET_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        FakeTranscriptionJob,
        "response_object",
        _get_with_failure_reason(FakeTranscriptionJob.response_object),
    )
    with mock_aws():
        aws = Cloud()
        aws.s3.create_bucket(Bucket=INPUT_BUCKET)
        aws.s3.put_bucket_versioning(
            Bucket=INPUT_BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
        aws.s3.create_bucket(Bucket=OUTPUT_BUCKET)
        create_ledger_table()
        yield aws


def create_ledger_table() -> None:
    """The ledger table as the stack declares it: its key and both indexes (ledger_schema)."""
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=LEDGER_TABLE, BillingMode="PAY_PER_REQUEST", **table_keys_and_indexes()
    )


@pytest.fixture
def load_handler(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> Callable[..., ModuleType]:
    """Import a handler module as a cold start would, with environment overrides."""

    def load(module_name: str, **env: str) -> ModuleType:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        if module_name in sys.modules:
            return importlib.reload(sys.modules[module_name])
        return importlib.import_module(module_name)

    return load


@pytest.fixture
def starter(load_handler: Callable[..., ModuleType]) -> ModuleType:
    """The StartTranscription function's module."""
    return load_handler("start_transcription")


@pytest.fixture
def job_state(load_handler: Callable[..., ModuleType]) -> ModuleType:
    """The JobStateChange function's module."""
    return load_handler("job_state_change")


@pytest.fixture
def sweeper_handler(load_handler: Callable[..., ModuleType]) -> ModuleType:
    """The Sweeper function's module."""
    return load_handler("sweeper")


@pytest.fixture
def context() -> FakeLambdaContext:
    """A Lambda context object."""
    return FakeLambdaContext()


@pytest.fixture
def notices(cloud):
    """A notification topic with a subscribed queue; the topic ARN and a reader of its notices."""
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name="TranscriptionNotices")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="notices")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )

    def read() -> list[dict]:
        return [json.loads(body) for body in drain(sqs, queue_url)]

    return topic_arn, read


def drain(sqs: Any, queue_url: str) -> list[str]:
    """The bodies of every message in a queue, each received once and deleted."""
    bodies: list[str] = []
    while True:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        messages = response.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def outcome_events(cloud):
    """A rule on the default bus sending the pipeline's outcome events to a queue; a reader."""
    events, sqs = (
        boto3.client("events", region_name=REGION),
        boto3.client("sqs", region_name=REGION),
    )
    queue_url = sqs.create_queue(QueueName="outcomes")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name="outcomes", EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
    events.put_targets(Rule="outcomes", Targets=[{"Id": "queue", "Arn": queue_arn}])

    def read() -> list[dict]:
        return [json.loads(body) for body in drain(sqs, queue_url)]

    return read
