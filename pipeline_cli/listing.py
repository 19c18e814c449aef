"""``list``: every input joined with its job's state, language, timings and outputs."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline_cli.aws import Clients
from pipeline_cli.readers import as_s3_object, head_or_none, read_failure, transcription_job
from transcribe_pipeline.keys import job_name_for
from transcribe_pipeline.layout import (
    FAILED_PREFIX,
    TRANSCRIPTS_PREFIX,
    failure_key,
    transcript_key,
)
from transcribe_pipeline.stack_outputs import StackOutputs

SUBTITLE_AND_TEXT = ("txt", "srt", "vtt")
_WORKERS = 8  # head_object + GetTranscriptionJob per input, a few at a time


class InputState(enum.StrEnum):
    """Where an input stands: its Transcribe job's status, or why it has none."""

    WAITING = "WAITING"  # no job and no record yet: the upload event is queued (or was lost)
    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"  # a failure record and no job: never sent to Transcribe


@dataclass(frozen=True)
class Entry:
    """One input joined with its job and outputs (``list``)."""

    key: str
    size: int
    uploaded: datetime
    version_id: str | None
    job_name: str
    state: InputState
    language: str | None = None
    created: datetime | None = None
    started: datetime | None = None
    completed: datetime | None = None
    reason: str | None = None
    outputs: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float | None:
        """How long the job ran (start to completion), when it has finished."""
        if self.started and self.completed:
            return round((self.completed - self.started).total_seconds(), 3)
        return None

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "key": self.key,
            "size": self.size,
            "uploaded": _iso(self.uploaded),
            "version_id": self.version_id,
            "job": self.job_name,
            "state": self.state.value,
            "language": self.language,
            "created": _iso(self.created),
            "started": _iso(self.started),
            "completed": _iso(self.completed),
            "seconds": self.seconds,
            "reason": self.reason,
            "outputs": self.outputs,
        }


def list_inputs(
    clients: Clients,
    pipeline: StackOutputs,
    *,
    prefix: str = "",
    states: set[InputState] | None = None,
) -> list[Entry]:
    """Every input under ``prefix`` with its current version's job and outputs, by key."""
    s3 = clients("s3")
    inputs = list(_objects(s3, pipeline.input_bucket, prefix))
    outputs = set(_keys(s3, pipeline.output_bucket, f"{TRANSCRIPTS_PREFIX}{prefix}"))
    failures = set(_keys(s3, pipeline.output_bucket, f"{FAILED_PREFIX}{prefix}"))
    transcribe = clients("transcribe")

    def entry(listed: dict[str, Any]) -> Entry | None:
        """One listed input, joined (runs in the thread pool)."""
        return _entry(s3, transcribe, pipeline, listed, outputs=outputs, failures=failures)

    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        entries = [e for e in pool.map(entry, inputs) if e is not None]
    return [e for e in entries if states is None or e.state in states]


def _entry(
    s3: Any,
    transcribe: Any,
    pipeline: StackOutputs,
    listed: dict[str, Any],
    *,
    outputs: set[str],
    failures: set[str],
) -> Entry | None:
    key = listed["Key"]
    head = head_or_none(s3, pipeline.input_bucket, key)
    if head is None:
        return None  # deleted since the listing
    obj = as_s3_object(pipeline.input_bucket, key, head)
    name = job_name_for(obj, prefix=pipeline.job_name_prefix)
    job = transcription_job(transcribe, name)
    record_key = failure_key(key)
    record = (
        read_failure(s3, pipeline.output_bucket, record_key) if record_key in failures else None
    )
    present = [ext for ext in SUBTITLE_AND_TEXT if transcript_key(key, ext) in outputs]
    if job is None:
        # A record naming another job is an earlier upload's: this version is still waiting.
        rejected = record is not None and record.job in (None, name)
        state = InputState.REJECTED if rejected else InputState.WAITING
        reason = record.reason if rejected and record else None
        job = {}
    else:
        state = InputState(job["TranscriptionJobStatus"])
        reason = job.get("FailureReason") if state is InputState.FAILED else None
    return Entry(
        key=key,
        size=obj.size or 0,
        uploaded=head["LastModified"],
        version_id=obj.version_id,
        job_name=name,
        state=state,
        language=job.get("LanguageCode"),
        created=job.get("CreationTime"),
        started=job.get("StartTime"),
        completed=job.get("CompletionTime"),
        reason=reason,
        outputs=present,
    )


def _objects(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def _keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    for item in _objects(s3, bucket, prefix):
        yield str(item["Key"])


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
