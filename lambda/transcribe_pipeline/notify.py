"""Optional notices to the pipeline's SNS topic."""

from __future__ import annotations

import json
from typing import Any


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
        # SNS subjects are ASCII, at most 100 characters.
        Subject=f"Transcription {status.lower()}: {job_name}"[:100],
        Message=json.dumps(message, ensure_ascii=False, indent=2),
    )
