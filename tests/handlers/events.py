"""Sample events from tests/events/, customised for one test (bucket, key, size, version...)."""

from __future__ import annotations

import copy
import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from transcribe_pipeline.keys import encode_event_key

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


# The sequencer of tests/events/s3ObjectCreatedEvent.json.
SAMPLE_SEQUENCER = "006408CAD69598B05E"


@cache
def _load(name: str) -> Any:
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


def load_event(name: str) -> Any:
    """A fresh copy of ``tests/events/<name>``, safe to modify."""
    return copy.deepcopy(_load(name))


def object_created(
    bucket: str,
    key: str,
    *,
    size: int | None,
    version_id: str | None = None,
    etag: str | None = "d41d8cd98f00b204e9800998ecf8427e",
    sequencer: str | None = SAMPLE_SEQUENCER,
) -> dict[str, Any]:
    """An S3 "Object Created" EventBridge event for one object version (key URL-encoded)."""
    event: dict[str, Any] = load_event("s3ObjectCreatedEvent.json")
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    event["detail"]["bucket"]["name"] = bucket
    obj = event["detail"]["object"]
    obj["key"] = encode_event_key(key)
    fields = (("size", size), ("version-id", version_id), ("etag", etag), ("sequencer", sequencer))
    for field, value in fields:
        if value is None:
            obj.pop(field, None)  # S3 leaves out what it does not have (no version-id unversioned).
        else:
            obj[field] = value
    return event


def object_deleted(bucket: str, key: str) -> dict[str, Any]:
    """An S3 "Object Deleted" EventBridge event (a delete marker) for one key."""
    event: dict[str, Any] = load_event("s3ObjectDeletedEvent.json")
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"]["key"] = encode_event_key(key)
    return event


def sqs_batch(*events: dict[str, Any]) -> dict[str, Any]:
    """An SQS event whose records carry ``events`` in their bodies, one message id each."""
    template = load_event("sqsS3ObjectCreatedEvent.json")["Records"][0]
    records = []
    for event in events:
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid.uuid4())
        record["body"] = json.dumps(event)
        records.append(record)
    return {"Records": records}


def message_ids(batch: dict[str, Any]) -> list[str]:
    """The message ids of an SQS batch, in order."""
    return [record["messageId"] for record in batch["Records"]]


def job_state_change(
    job_name: str, status: str, *, failure_reason: str | None = None
) -> dict[str, Any]:
    """A "Transcribe Job State Change" event (COMPLETED, or FAILED with its reason)."""
    name = (
        "transcribeJobStateChangeFailed.json"
        if status == "FAILED"
        else ("transcribeJobStateChangeCompleted.json")
    )
    event: dict[str, Any] = load_event(name)
    event["detail"]["TranscriptionJobName"] = job_name
    event["detail"]["TranscriptionJobStatus"] = status
    if failure_reason is not None:
        event["detail"]["FailureReason"] = failure_reason
    return event


def scheduled_event() -> dict[str, Any]:
    """The EventBridge "Scheduled Event" that triggers the sweeper."""
    event: dict[str, Any] = load_event("scheduledEvent.json")
    return event


def transcribe_result(job_name: str, name: str = "transcribeResult.json") -> dict[str, Any]:
    """A ``<job>.json`` document as Transcribe writes it, for ``job_name``."""
    result: dict[str, Any] = load_event(name)
    result["jobName"] = job_name
    return result


def sample_text(name: str) -> str:
    """A text sample from tests/events/ (subtitles)."""
    return (EVENTS_DIR / name).read_text(encoding="utf-8")
