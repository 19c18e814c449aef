"""Optional notices to the pipeline's SNS topic."""

from __future__ import annotations

import json
import re
from typing import Any

# SNS refuses a Subject of 100 characters or more, or one with line breaks or control
# characters (docs/sns-publish.md).
MAX_SUBJECT_CHARS = 99
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]+")


def notice_subject(status: str, job_name: str) -> str:
    """The e-mail subject of a notice: printable ASCII, fewer than 100 characters."""
    subject = _NOT_PRINTABLE_ASCII.sub("?", f"Transcription {status.lower()}: {job_name}")
    return subject[:MAX_SUBJECT_CHARS]


def publish_outcome(
    sns: Any,
    topic_arn: str | None,
    *,
    status: str,
    source_uri: str,
    job_name: str,
    outputs: tuple[str, ...],
    reason: str | None = None,
) -> None:
    """Tell subscribers a job finished (COMPLETED or FAILED); nothing when no topic is set."""
    if not topic_arn:
        return
    message = {"status": status, "source": source_uri, "job": job_name, "outputs": list(outputs)}
    if reason:
        message["reason"] = reason
    sns.publish(
        TopicArn=topic_arn,
        Subject=notice_subject(status, job_name),
        Message=json.dumps(message, ensure_ascii=False, indent=2),
    )
