"""``get``: one input's transcript, subtitles, or its words with times and confidences."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from pipeline_cli.errors import CliError, ExitCode, is_not_found
from pipeline_cli.readers import expect, head_or_none, read_failure
from pipeline_cli.words import words_document
from transcribe_pipeline.layout import JOB_NAME_META, failure_key, job_result_key, transcript_key
from transcribe_pipeline.stack_outputs import StackOutputs


class Format(enum.StrEnum):
    """What ``get`` fetches."""

    TXT = "txt"
    SRT = "srt"
    VTT = "vtt"
    JSON = "json"


@dataclass(frozen=True)
class Result:
    """A fetched result: its text, the job that made it, and a note worth showing."""

    key: str
    format: Format
    job_name: str | None
    text: str
    document: dict[str, Any] | None = None  # the words view, for Format.JSON
    note: str | None = None


def fetch(s3: Any, pipeline: StackOutputs, key: str, fmt: Format) -> Result:
    """Read one result of ``key``; CliError (not found, or failed) when there is none."""
    text_head = head_or_none(s3, pipeline.output_bucket, transcript_key(key, "txt"))
    if text_head is None:
        raise _missing(s3, pipeline, key)
    job = text_head.get("Metadata", {}).get(JOB_NAME_META) or None
    note = _newer_failure(s3, pipeline, key, text_head)
    if fmt is not Format.JSON:
        body = _read(s3, pipeline.output_bucket, transcript_key(key, fmt.value))
        if body is None:
            raise CliError(
                f"No .{fmt.value} result for {key!r}.",
                ExitCode.NOT_FOUND,
                hint="Subtitles exist only in the formats of the stack's `subtitle_formats`.",
            )
        return Result(key, fmt, job, body, note=note)
    if job is None:  # outputs written before the harvester recorded job names
        job = expect(s3, pipeline, key).job_name
    raw = _read(s3, pipeline.output_bucket, job_result_key(job))
    if raw is None:
        raise CliError(
            f"Amazon Transcribe's result {job_result_key(job)} is not in the output bucket.",
            ExitCode.NOT_FOUND,
        )
    document = words_document(key, job, json.loads(raw))
    return Result(
        key, fmt, job, json.dumps(document, indent=2, ensure_ascii=False) + "\n", document, note
    )


def _missing(s3: Any, pipeline: StackOutputs, key: str) -> CliError:
    """Why ``key`` has no transcript: no such input, a failure, or not finished yet."""
    if head_or_none(s3, pipeline.input_bucket, key) is None:
        return CliError(
            f"No input {key!r} in {pipeline.input_bucket}.",
            ExitCode.NOT_FOUND,
            hint="`transcribe-pipeline list` shows the inputs.",
        )
    record = read_failure(s3, pipeline.output_bucket, failure_key(key))
    if record is not None:
        return CliError(f"{key!r} failed: {record.reason or 'no reason recorded'}", ExitCode.FAILED)
    return CliError(
        f"No transcript for {key!r} yet.",
        ExitCode.NOT_FOUND,
        hint=f"`transcribe-pipeline wait '{key}'` waits for it.",
    )


def _newer_failure(
    s3: Any, pipeline: StackOutputs, key: str, text_head: dict[str, Any]
) -> str | None:
    """A warning when a later upload of the key failed: this transcript is of an earlier one."""
    failed = head_or_none(s3, pipeline.output_bucket, failure_key(key))
    if failed is None or failed["LastModified"] < text_head["LastModified"]:
        return None
    record = read_failure(s3, pipeline.output_bucket, failure_key(key))
    reason = record.reason if record else None
    return (
        f"a later upload of {key!r} failed ({reason or 'no reason recorded'}); "
        "this result is of an earlier upload"
    )


def _read(s3: Any, bucket: str, key: str) -> str | None:
    try:
        return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))
    except ClientError as error:
        if is_not_found(error):
            return None
        raise
