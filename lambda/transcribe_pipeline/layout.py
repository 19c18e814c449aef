"""The output bucket's layout: where each result and failure record goes, and what it carries.

The one home of this contract: the functions write by it; the stacks' permissions, the operator
CLI, the local cloud and the benchmarks read by it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from transcribe_pipeline.keys import MAX_S3_KEY_BYTES

# Readable results (.txt, .srt, .vtt) and failure records, each under the source key.
TRANSCRIPTS_PREFIX = "transcripts/"
FAILED_PREFIX = "failed/"
# Readable copies of the unredacted result (content_redaction "redacted_and_unredacted"): the
# harvest writes them and no pipeline role may read them (README, "Locking down unredacted/").
UNREDACTED_PREFIX = "unredacted/"
# Transcribe puts this before the name of a redacted result: redacted-<job>.json at the root
# (docs/transcribe-features.md).
REDACTED_RESULT_PREFIX = "redacted-"
FAILURE_SUFFIX = ".json"
# Object metadata on every result and record: the job that wrote it and when that job was
# created (a later upload's job never loses to an earlier one's late event).
JOB_NAME_META = "job-name"
JOB_CREATED_META = "job-created"
FAILURE_CONTENT_TYPE = "application/json"


class FailureRecordError(ValueError):
    """An object under ``failed/`` is not a failure record the pipeline writes."""


@dataclass(frozen=True)
class FailureRecord:
    """The ``failed/<key>.json`` document: the source's URI, its job (or None) and why."""

    source: str
    job: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The document's fields, as written."""
        return {"source": self.source, "job": self.job, "reason": self.reason}

    def body(self) -> bytes:
        """The object's bytes: indented UTF-8 JSON, readable in a console."""
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2).encode("utf-8")

    @classmethod
    def from_body(cls, body: bytes | str) -> FailureRecord:
        """Parse a record's bytes; FailureRecordError saying what is wrong with them."""
        try:
            document = json.loads(body)
        except ValueError:
            raise FailureRecordError("the failure record is not JSON") from None
        if not isinstance(document, dict):
            raise FailureRecordError("the failure record is not a JSON object")
        source, job, reason = document.get("source"), document.get("job"), document.get("reason")
        if not isinstance(source, str) or not isinstance(reason, str):
            raise FailureRecordError("the failure record has no source or reason text")
        if job is not None and not isinstance(job, str):
            raise FailureRecordError("the failure record's job is not a name or null")
        return cls(source=source, job=job, reason=reason)


def output_key(prefix: str, source_key: str, suffix: str) -> str:
    """``<prefix><source key><suffix>``, or a shortened form when that passes 1024 bytes.

    Every full form ends with ``suffix`` (``.txt``, ``.json``...: a dot and letters). A
    shortened form ends with ``.sha256-`` and the 64 hex digits of the source key's SHA-256
    instead, so it never ends with a suffix: no key that fits can be crafted onto a long key's
    output, and two long keys share one only if their SHA-256 collides (docs/s3-keys.md).
    """
    key = f"{prefix}{source_key}{suffix}"
    if len(key.encode("utf-8")) <= MAX_S3_KEY_BYTES:
        return key
    tail = f"…{suffix}.sha256-{hashlib.sha256(source_key.encode('utf-8')).hexdigest()}"
    room = MAX_S3_KEY_BYTES - len(f"{prefix}{tail}".encode())
    head = source_key.encode("utf-8")[:room].decode("utf-8", "ignore")
    return f"{prefix}{head}{tail}"


def transcript_key(source_key: str, extension: str) -> str:
    """Where a readable result of ``source_key`` goes: ``transcripts/<key>.<extension>``."""
    return output_key(TRANSCRIPTS_PREFIX, source_key, f".{extension}")


def failure_key(source_key: str) -> str:
    """Where the failure record of ``source_key`` goes: ``failed/<key>.json``."""
    return output_key(FAILED_PREFIX, source_key, FAILURE_SUFFIX)


def job_result_key(job_name: str, extension: str = "json") -> str:
    """Where Amazon Transcribe writes a job's own result: ``<job>.<extension>`` at the root."""
    return f"{job_name}.{extension}"


def redacted_result_key(job_name: str) -> str:
    """Where Transcribe writes a job's redacted result: ``redacted-<job>.json`` at the root."""
    return f"{REDACTED_RESULT_PREFIX}{job_result_key(job_name)}"


def unredacted_key(source_key: str, extension: str) -> str:
    """Where an unredacted readable copy goes: ``unredacted/<key>.<extension>``."""
    return output_key(UNREDACTED_PREFIX, source_key, f".{extension}")
