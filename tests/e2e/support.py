"""Helpers shared by the end-to-end modules."""

from __future__ import annotations

import time
from typing import Any


def wait_until_empty(sqs: Any, queue_url: str, timeout: float = 30) -> None:
    """Poll until the queue holds no message, visible or in flight; TimeoutError after that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if attributes == {
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
        }:
            return
        time.sleep(0.25)
    raise TimeoutError(f"{queue_url} still has messages after {timeout} s")
