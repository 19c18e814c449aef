"""Shared readers: an input version and its job, an object, a failure record, a job.

Each answers None when the thing is absent, so the commands decide what absence means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from pipeline_cli.errors import CliError, ExitCode, is_not_found
from transcribe_pipeline.clients import error_code
from transcribe_pipeline.keys import S3Object, job_name_for
from transcribe_pipeline.layout import (
    FailureRecord,
    FailureRecordError,
)
from transcribe_pipeline.stack_outputs import StackOutputs


@dataclass(frozen=True)
class Expected:
    """One input version and the job the pipeline gives it."""

    key: str
    version_id: str | None
    job_name: str
    uploaded: datetime


def head_or_none(
    s3: Any, bucket: str, key: str, version_id: str | None = None
) -> dict[str, Any] | None:
    """``head_object`` of an object (a given version, or the current one), None if absent."""
    try:
        extra = {"VersionId": version_id} if version_id else {}
        return dict(s3.head_object(Bucket=bucket, Key=key, **extra))
    except ClientError as error:
        # A version id S3 cannot parse is answered 400 rather than 404.
        malformed_version = version_id is not None and error_code(error) in {
            "400",
            "InvalidArgument",
        }
        if is_not_found(error) or malformed_version:
            return None
        raise


def as_s3_object(bucket: str, key: str, head: dict[str, Any]) -> S3Object:
    """The S3Object an "Object Created" event would name for this ``head_object`` answer."""
    version = head.get("VersionId")
    return S3Object(
        bucket=bucket,
        key=key,
        size=int(head.get("ContentLength", 0)),
        version_id=None if version in (None, "null") else str(version),
        etag=str(head.get("ETag", "")).strip('"') or None,
    )


def expect(s3: Any, pipeline: StackOutputs, key: str, version_id: str | None = None) -> Expected:
    """The job an input version gets; CliError when the input does not exist."""
    head = head_or_none(s3, pipeline.input_bucket, key, version_id)
    if head is None:
        what = f"{key!r} (version {version_id})" if version_id else repr(key)
        raise CliError(
            f"No input {what} in {pipeline.input_bucket}.",
            ExitCode.NOT_FOUND,
            hint="`transcribe-pipeline list` shows the inputs.",
        )
    obj = as_s3_object(pipeline.input_bucket, key, head)
    return Expected(
        key=key,
        version_id=obj.version_id,
        job_name=job_name_for(obj, prefix=pipeline.job_name_prefix),
        uploaded=head["LastModified"],
    )


def read_failure(s3: Any, bucket: str, key: str) -> FailureRecord | None:
    """A ``failed/<key>.json`` record, None if it is gone; one saying why if it is unreadable."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if is_not_found(error):
            return None
        raise
    try:
        return FailureRecord.from_body(body)
    except FailureRecordError as error:
        return FailureRecord(source="", job=None, reason=str(error))


def transcription_job(transcribe: Any, name: str) -> dict[str, Any] | None:
    """GetTranscriptionJob, or None when there is no such job."""
    try:
        return dict(transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"])
    except ClientError as error:
        # Transcribe answers an unknown name with BadRequestException ("couldn't be found").
        if error_code(error) in {"BadRequestException", "NotFoundException"}:
            return None
        raise
