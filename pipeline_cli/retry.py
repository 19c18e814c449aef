"""``retry``: re-drive the start dead-letter queue and re-submit failed inputs that may succeed."""

from __future__ import annotations

import enum
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from pipeline_cli import last_upload
from pipeline_cli.aws import Clients
from pipeline_cli.errors import CliError, ExitCode
from pipeline_cli.readers import as_s3_object, head_or_none, read_failure, transcription_job
from pipeline_cli.status import queue_depth
from transcribe_pipeline.clients import error_code
from transcribe_pipeline.keys import job_name_for, parse_s3_uri, rejection_reason
from transcribe_pipeline.layout import FAILED_PREFIX, FailureRecord
from transcribe_pipeline.stack_outputs import StackOutputs

RESUBMITTED_META = "resubmitted-at"
# Failure reasons about the media itself: the same bytes fail the same way every time.
# Anything else (internal failure, access, language or output settings, throttling) may
# succeed on a second attempt, e.g. after a fix to the configuration.
_MEDIA_FAULTS = (
    "could not be decoded",
    "couldn't be decoded",
    "media format",
    "unsupported media",
    "corrupt",
    "too short",
    "minimum is",
    "larger than",
    "invalid file size",
    "audio duration",
    "rejected the media",
)

_MOVE_TASK_SECONDS = 120.0
_SQS_BATCH = 10


class Action(enum.StrEnum):
    """What ``retry`` does with one failure record."""

    RESUBMITTED = "resubmitted"
    WOULD_RESUBMIT = "would resubmit"  # --dry-run
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Redrive:
    """Dead-lettered upload events sent back to the start queue."""

    moved: int
    method: str  # "none", "move-task" (SQS StartMessageMoveTask) or "receive-send"


@dataclass(frozen=True)
class Decision:
    """``retry``'s verdict on one failed input."""

    key: str
    action: Action
    why: str
    failed_job: str | None = None
    version_id: str | None = None  # of the re-submitted copy
    head: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "key": self.key,
            "action": self.action.value,
            "why": self.why,
            "failed_job": self.failed_job,
            "version_id": self.version_id,
        }


def redrive_start_queue(clients: Clients, pipeline: StackOutputs) -> Redrive:
    """Move every message of the start DLQ back to the start queue."""
    sqs = clients("sqs")
    dlq, queue = pipeline.start_dead_letter_queue_url, pipeline.start_queue_url
    waiting = int(
        sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ].get("ApproximateNumberOfMessages", 0)
    )
    if waiting == 0:
        return Redrive(0, "none")
    # One attempt: where the API is missing (moto) we fall back instead of retrying.
    mover = clients("sqs", config=Config(retries={"mode": "standard", "max_attempts": 1}))
    source_arn = _queue_arn(sqs, dlq)
    try:
        task = mover.start_message_move_task(
            SourceArn=source_arn, DestinationArn=_queue_arn(sqs, queue)
        )
    except (ClientError, NotImplementedError) as error:
        if not _unsupported(error):
            raise
        return Redrive(_move_by_hand(sqs, dlq, queue), "receive-send")
    return Redrive(_await_move_task(sqs, source_arn, task["TaskHandle"]), "move-task")


def _unsupported(error: ClientError | NotImplementedError) -> bool:
    """Whether the endpoint lacks StartMessageMoveTask (moto: NotImplementedError, or HTTP 500)."""
    if isinstance(error, NotImplementedError):
        return True
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status in {500, 501} or error_code(error) in {
        "InvalidAction",
        "UnsupportedOperation",
        "AWS.SimpleQueueService.UnsupportedOperation",
    }


def _queue_arn(sqs: Any, url: str) -> str:
    return str(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )


def _await_move_task(sqs: Any, source_arn: str, handle: str) -> int:
    deadline = time.monotonic() + _MOVE_TASK_SECONDS
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=10)["Results"]
        # Newest first; the handle is listed only while the task runs, so once it is gone
        # the newest task is ours (one move task per source queue at a time).
        task = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        if task.get("Status") == "COMPLETED":
            return moved
        if task.get("Status") in {"FAILED", "CANCELLED"}:
            raise CliError(
                f"Re-driving the start dead-letter queue {task['Status'].lower()} after "
                f"{moved} message(s): {task.get('FailureReason', 'no reason given')}"
            )
        if time.monotonic() > deadline:
            raise CliError(
                f"The message move task still runs after {_MOVE_TASK_SECONDS:.0f} s "
                f"({moved} moved); check it with `aws sqs list-message-move-tasks`.",
                ExitCode.TIMEOUT,
            )
        time.sleep(1.0)


def _move_by_hand(sqs: Any, source: str, destination: str) -> int:
    """Receive, re-send and delete, batch by batch, until the source answers empty."""
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=source,
            MaxNumberOfMessages=_SQS_BATCH,
            WaitTimeSeconds=1,  # a long poll: an empty answer means the queue is empty
            VisibilityTimeout=60,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return moved
        entries = [
            {
                "Id": str(n),
                "MessageBody": m["Body"],
                **(
                    {"MessageAttributes": m["MessageAttributes"]}
                    if m.get("MessageAttributes")
                    else {}
                ),
            }
            for n, m in enumerate(messages)
        ]
        sent = sqs.send_message_batch(QueueUrl=destination, Entries=entries)
        if sent.get("Failed"):
            first = sent["Failed"][0]
            raise CliError(f"Could not re-send a dead letter: {first.get('Message', first)}")
        sqs.delete_message_batch(
            QueueUrl=source,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
            ],
        )
        moved += len(messages)


def failure_records(s3: Any, pipeline: StackOutputs) -> Iterator[tuple[str, FailureRecord]]:
    """Every ``failed/`` record (its key and document) in the output bucket."""
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=pipeline.output_bucket, Prefix=FAILED_PREFIX):
        for item in page.get("Contents", []):
            record = read_failure(s3, pipeline.output_bucket, item["Key"])
            if record is not None:
                yield item["Key"], record


def decide(s3: Any, transcribe: Any, pipeline: StackOutputs, record: FailureRecord) -> Decision:
    """Whether re-submitting the input of one failure record may succeed now."""
    failed_job = record.job
    try:
        bucket, key = parse_s3_uri(record.source)
    except ValueError:
        return Decision(record.source, Action.SKIPPED, "the record names no source")
    if bucket != pipeline.input_bucket:
        why = f"not this pipeline's input bucket ({bucket})"
        return Decision(key, Action.SKIPPED, why, failed_job)
    head = head_or_none(s3, bucket, key)
    if head is None:
        return Decision(key, Action.SKIPPED, "the input no longer exists", failed_job)
    obj = as_s3_object(bucket, key, head)
    reason = rejection_reason(obj)
    if reason is not None:
        return Decision(key, Action.SKIPPED, f"cannot succeed: {reason}", failed_job)
    current_job = job_name_for(obj, prefix=pipeline.job_name_prefix)
    if failed_job and failed_job != current_job:
        job = transcription_job(transcribe, current_job)
        if job is not None:
            why = f"a newer upload has its own job ({current_job}, {job['TranscriptionJobStatus']})"
            return Decision(key, Action.SKIPPED, why, failed_job)
        why = "a newer upload never started a job"
        return Decision(key, Action.RESUBMITTED, why, failed_job, head=head)
    failure = record.reason
    if any(fault in failure.lower() for fault in _MEDIA_FAULTS):
        why = f"the media itself was refused ({failure}); upload a fixed file"
        return Decision(key, Action.SKIPPED, why, failed_job)
    return Decision(key, Action.RESUBMITTED, f"may succeed now: {failure}", failed_job, head=head)


def resubmit(s3: Any, pipeline: StackOutputs, decision: Decision, record_key: str) -> str | None:
    """Copy the input onto itself (a new version: a new event and job); drop the old record."""
    key, head = decision.key, decision.head or {}
    metadata = {**head.get("Metadata", {}), RESUBMITTED_META: datetime.now(UTC).isoformat()}
    source = {"Bucket": pipeline.input_bucket, "Key": key}
    if head.get("VersionId") not in (None, "null"):
        source["VersionId"] = head["VersionId"]
    extra = {"ContentType": head["ContentType"]} if head.get("ContentType") else {}
    copied = s3.copy_object(
        Bucket=pipeline.input_bucket,
        Key=key,
        CopySource=source,
        Metadata=metadata,
        MetadataDirective="REPLACE",
        **extra,
    )
    # The new job's outcome writes a fresh record; the old one would only mislead `wait`.
    s3.delete_object(Bucket=pipeline.output_bucket, Key=record_key)
    version = copied.get("VersionId")
    return None if version in (None, "null") else str(version)


@dataclass(frozen=True)
class Retried:
    """What ``retry`` did (or, with ``--dry-run``, would do)."""

    dead_letters: Redrive
    decisions: list[Decision]

    @property
    def resubmitted(self) -> list[Decision]:
        """The inputs copied onto themselves: the ones ``wait`` follows next."""
        return [d for d in self.decisions if d.action is Action.RESUBMITTED]

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "dead_letters": {"moved": self.dead_letters.moved, "method": self.dead_letters.method},
            "inputs": [d.to_json() for d in self.decisions],
        }


def retry_failures(clients: Clients, pipeline: StackOutputs, *, dry_run: bool) -> Retried:
    """Re-drive the start DLQ, then decide on (and re-submit) each failure record's input.

    Re-submitted inputs become the last upload, the one ``wait`` follows by default.
    """
    s3, transcribe = clients("s3"), clients("transcribe")
    if dry_run:
        dead = queue_depth(
            clients("sqs"), "StartDeadLetterQueue", pipeline.start_dead_letter_queue_url
        )
        redrive = Redrive(dead.visible, "dry-run")
    else:
        redrive = redrive_start_queue(clients, pipeline)
    decisions: list[Decision] = []
    for record_key, record in failure_records(s3, pipeline):
        decision = decide(s3, transcribe, pipeline, record)
        if decision.action is Action.RESUBMITTED:
            if dry_run:
                decision = replace(decision, action=Action.WOULD_RESUBMIT)
            else:
                version = resubmit(s3, pipeline, decision, record_key)
                decision = replace(decision, version_id=version)
        decisions.append(decision)
    retried = Retried(redrive, decisions)
    again = [last_upload.Upload(d.key, d.version_id) for d in retried.resubmitted]
    if again:
        last_upload.remember(pipeline.input_bucket, again)
    return retried
