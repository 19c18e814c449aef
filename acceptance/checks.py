"""Checking one input's outputs against the output contract (README "Output layout")."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from acceptance.corpus import Expect, Version
from localcloud.wer import wer as word_error_rate
from pipeline_cli.readers import Expected, head_or_none
from transcribe_pipeline.layout import (
    JOB_NAME_META,
    FailureRecord,
    FailureRecordError,
    failure_key,
    job_result_key,
    transcript_key,
)
from transcribe_pipeline.stack_outputs import StackOutputs

SUBTITLE_FORMATS = ("srt", "vtt")  # the default `subtitle_formats`, which the run deploys
FAILURE_FIELDS = {"source", "job", "reason"}
_SRT_START = re.compile(r"1\r?\n\d\d:\d\d:\d\d,\d{3} --> ")


@dataclass(frozen=True)
class Verdict:
    """Whether an input's outputs keep the contract, and what was seen (or what is wrong)."""

    passed: bool
    detail: str


def verdict(s3: Any, pipeline: StackOutputs, version: Version, expected: Expected) -> Verdict:
    """Check the outputs of one input version against what the contract promises for it."""
    if version.expect is Expect.TRANSCRIPT:
        problems, seen = _transcript(s3, pipeline, version, expected)
    else:
        problems, seen = _failure(s3, pipeline, version, expected)
    return Verdict(False, "; ".join(problems)) if problems else Verdict(True, seen)


def _transcript(
    s3: Any, pipeline: StackOutputs, version: Version, expected: Expected
) -> tuple[list[str], str]:
    bucket, key, job = pipeline.output_bucket, expected.key, expected.job_name
    problems: list[str] = []
    text = _text(s3, bucket, transcript_key(key, "txt"), job, problems)
    if text is not None and not text.strip():
        problems.append("the transcript of speech is empty")
    for fmt in SUBTITLE_FORMATS:
        subtitles = _text(s3, bucket, transcript_key(key, fmt), job, problems)
        if subtitles is None:
            continue
        if fmt == "srt" and not _SRT_START.match(subtitles):
            problems.append(f"{transcript_key(key, fmt)} does not start with an SRT cue")
        if fmt == "vtt" and not subtitles.startswith("WEBVTT"):
            problems.append(f"{transcript_key(key, fmt)} does not start with WEBVTT")
    result = _json(s3, bucket, job_result_key(job))
    if result is None:
        problems.append(f"Transcribe's {job_result_key(job)} is not at the bucket root")
    elif not _result_text(result):
        problems.append(f"{job_result_key(job)} holds no transcript")
    if head_or_none(s3, bucket, failure_key(key)) is not None:
        problems.append(f"{failure_key(key)} is left next to the transcript")
    if problems or text is None:
        return problems, ""
    wer = word_error_rate(version.reference or "", text)
    return problems, f"WER {wer:.2f}: {_clip(text)}"


def _failure(
    s3: Any, pipeline: StackOutputs, version: Version, expected: Expected
) -> tuple[list[str], str]:
    bucket, key = pipeline.output_bucket, expected.key
    body = _body(s3, bucket, failure_key(key))
    if body is None:
        return [f"no {failure_key(key)}"], ""
    try:
        record = FailureRecord.from_body(body)
    except FailureRecordError as error:
        return [f"{failure_key(key)}: {error}"], ""
    problems = []
    fields = set(json.loads(body))
    if fields != FAILURE_FIELDS:
        problems.append(f"the record has the fields {sorted(fields)}, not {sorted(FAILURE_FIELDS)}")
    source = f"s3://{pipeline.input_bucket}/{key}"
    if record.source != source:
        problems.append(f"source is {record.source!r}, not {source!r}")
    job = expected.job_name if version.expect is Expect.FAILED_JOB else None
    if record.job != job:
        problems.append(f"job is {record.job!r}, not {job!r}")
    if not record.reason.strip():
        problems.append("no reason")
    if head_or_none(s3, bucket, transcript_key(key, "txt")) is not None:
        problems.append(f"{transcript_key(key, 'txt')} exists for a failed input")
    return problems, f"{version.expect.value}: {_clip(record.reason)}"


def _text(s3: Any, bucket: str, key: str, job: str, problems: list[str]) -> str | None:
    """An output's text when it exists and was written for ``job``; else a problem noted."""
    head = head_or_none(s3, bucket, key)
    if head is None:
        problems.append(f"no {key}")
        return None
    written_for = head.get("Metadata", {}).get(JOB_NAME_META)
    if written_for != job:
        problems.append(f"{key} was written for job {written_for!r}, not {job!r}")
        return None
    return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))


def _body(s3: Any, bucket: str, key: str) -> bytes | None:
    if head_or_none(s3, bucket, key) is None:
        return None
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _json(s3: Any, bucket: str, key: str) -> Any:
    body = _body(s3, bucket, key)
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return {}


def _result_text(result: Any) -> str:
    try:
        return str(result["results"]["transcripts"][0]["transcript"])
    except (KeyError, IndexError, TypeError):
        return ""


def _clip(text: str, width: int = 48) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
