"""Turning a finished Transcribe job into readable results (or a failure record)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from transcribe_pipeline.clients import error_code
from transcribe_pipeline.keys import S3Object, parse_s3_uri
from transcribe_pipeline.layout import (
    JOB_CREATED_META,
    JOB_NAME_META,
    failure_key,
    transcript_key,
)
from transcribe_pipeline.readable import readable_outputs, transcript_text, write_outputs
from transcribe_pipeline.records import write_failure
from transcribe_pipeline.redaction import result_files, unredacted_outputs
from transcribe_pipeline.settings import Settings
from transcribe_pipeline.transcript import TranscriptError


class Harvest(enum.Enum):
    """What harvesting a job did."""

    TRANSCRIBED = "transcribed"
    FAILED = "failed"
    NOT_FINISHED = "not-finished"
    SUPERSEDED = "superseded"
    ALREADY_HARVESTED = "already-harvested"


@dataclass(frozen=True)
class HarvestResult:
    """The outcome for one job, with the source object when known."""

    outcome: Harvest
    job_name: str
    source: S3Object
    written: tuple[str, ...] = ()
    reason: str | None = None


class ForeignJobError(ValueError):
    """The job does not read from this pipeline's input bucket: not ours to harvest."""


class TranscriptMissingError(RuntimeError):
    """A COMPLETED job's result file is not in the output bucket (yet): retry later."""


def source_of(job: dict[str, Any], settings: Settings) -> S3Object:
    """The input object a job reads, checked to be in this pipeline's input bucket."""
    uri = str(job.get("Media", {}).get("MediaFileUri", ""))
    try:
        bucket, key = parse_s3_uri(uri)
    except ValueError:
        # The pipeline starts every job on an s3:// URI: an https:// one (which Transcribe
        # also accepts) is another application's job that happens to share the prefix.
        raise ForeignJobError(
            f"Job {job['TranscriptionJobName']} reads {uri!r}, not an s3:// URI of this pipeline"
        ) from None
    if bucket != settings.input_bucket:
        raise ForeignJobError(
            f"Job {job['TranscriptionJobName']} reads bucket {bucket!r}, "
            f"not this pipeline's {settings.input_bucket!r}"
        )
    return S3Object(bucket=bucket, key=key)


def harvest(job_name: str, *, transcribe: Any, s3: Any, settings: Settings) -> HarvestResult:
    """Write the outputs of a finished job; idempotent, and never over a newer job's outputs."""
    job = transcribe.get_transcription_job(TranscriptionJobName=job_name)["TranscriptionJob"]
    source = source_of(job, settings)
    status = job["TranscriptionJobStatus"]
    if status not in {"COMPLETED", "FAILED"}:
        return HarvestResult(Harvest.NOT_FINISHED, job_name, source)
    created = _iso(job.get("CreationTime"))
    if _newer_job_harvested(s3, settings.output_bucket, source.key, created):
        return HarvestResult(Harvest.SUPERSEDED, job_name, source)
    if is_harvested(s3, settings.output_bucket, job_name, source.key):
        # A duplicate or late event (or the sweeper got there first): nothing to write, and
        # nothing to announce again.
        return HarvestResult(Harvest.ALREADY_HARVESTED, job_name, source)
    metadata = {JOB_NAME_META: job_name, JOB_CREATED_META: created}
    if status == "FAILED":
        reason = job.get("FailureReason") or "Amazon Transcribe reported the job as FAILED."
        key = write_failure(
            s3, settings.output_bucket, source, job_name=job_name, reason=reason, metadata=metadata
        )
        return HarvestResult(Harvest.FAILED, job_name, source, (key,), reason)
    # The profile is resolved from the key as the start function did (Settings.job_for).
    job_settings = settings.job_for(source.key)
    # With redaction, everything under transcripts/ comes from the redacted result.
    files = result_files(job_name, job, job_settings)
    result = _read_result(s3, settings.output_bucket, files.readable)
    unredacted = (
        _read_result(s3, settings.output_bucket, files.unredacted) if files.unredacted else None
    )
    roles = job_settings.channel_roles
    reading = files.readable
    try:
        text = transcript_text(result, channel_roles=roles)
        outputs = readable_outputs(
            result,
            source_key=source.key,
            job_name=job_name,
            language_code=job.get("LanguageCode"),
            subtitle_formats=job_settings.subtitle_formats,
            style=job_settings.subtitle_style,
            channel_roles=roles,
        )
        if unredacted is not None:
            # Readable unredacted copies (no subtitles) under unredacted/, which no pipeline
            # role may read; the .txt under transcripts/ stays last.
            reading = files.unredacted or reading
            outputs += unredacted_outputs(
                unredacted, source_key=source.key, job_name=job_name, job=job, roles=roles
            )
    except TranscriptError as error:
        reason = f"Amazon Transcribe's result file {reading} is malformed: {error}"
        key = write_failure(
            s3, settings.output_bucket, source, job_name=job_name, reason=reason, metadata=metadata
        )
        return HarvestResult(Harvest.FAILED, job_name, source, (key,), reason)
    # Our own subtitles (styled) and .json; Transcribe's <job>.srt/.vtt stay where they are.
    written = write_outputs(s3, settings.output_bucket, outputs, metadata=metadata)
    text_key = transcript_key(source.key, "txt")
    # An earlier upload's failure record goes before the .txt is written, so that the .txt is
    # truly last: its presence (with this job's name) marks the job as harvested.
    s3.delete_object(Bucket=settings.output_bucket, Key=failure_key(source.key))
    s3.put_object(
        Bucket=settings.output_bucket,
        Key=text_key,
        Body=text.encode("utf-8"),
        ContentType="text/plain; charset=utf-8",
        Metadata=metadata,
    )
    return HarvestResult(Harvest.TRANSCRIBED, job_name, source, (*written, text_key))


def is_harvested(s3: Any, output_bucket: str, job_name: str, source_key: str) -> bool:
    """Whether this job's outputs (transcript or failure record) are already written."""
    for key in (transcript_key(source_key, "txt"), failure_key(source_key)):
        metadata = _metadata(s3, output_bucket, key)
        if metadata is not None and metadata.get(JOB_NAME_META) == job_name:
            return True
    return False


def _newer_job_harvested(s3: Any, bucket: str, source_key: str, created: str) -> bool:
    """Whether a later upload of the same key already has its outputs (out-of-order events)."""
    for key in (transcript_key(source_key, "txt"), failure_key(source_key)):
        metadata = _metadata(s3, bucket, key)
        if metadata is not None and metadata.get(JOB_CREATED_META, "") > created:
            return True
    return False


def _metadata(s3: Any, bucket: str, key: str) -> dict[str, str] | None:
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return dict(head.get("Metadata", {}))


def _read_result(s3: Any, bucket: str, key: str) -> Any:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error_code(error) in {"NoSuchKey", "404"}:
            raise TranscriptMissingError(f"{key} is not in {bucket}") from error
        raise
    try:
        return json.loads(body)
    except ValueError:
        # Left to readable_text, which reports what is wrong with it.
        return None


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value or "")
