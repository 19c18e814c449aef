"""AWS clients with the retry behaviour the pipeline relies on."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# Adaptive mode adds client-side rate limiting on top of standard retries, which is what
# keeps a burst of starts under Transcribe's 25 StartTranscriptionJob calls per second;
# it treats LimitExceededException as throttling (aws-facts.md).
MAX_ATTEMPTS = 10
# The start function's Transcribe client: botocore also retries the permanent "file too long"
# LimitExceededException as throttling, and 10 attempts back off for ~1 minute, which times
# out a whole batch (60 s) again and again until its 10 uploads are dead-lettered
# (benchmarks/burst.py showed it). 4 attempts back off at most 1 + 2 + 4 s; a start still
# throttled after that goes back to the queue.
START_MAX_ATTEMPTS = 4


def client(service: str, *, max_attempts: int = MAX_ATTEMPTS) -> Any:
    """A boto3 client for ``service``; honours AWS_ENDPOINT_URL (the local cloud sets it)."""
    return boto3.client(
        service, config=Config(retries={"mode": "adaptive", "max_attempts": max_attempts})
    )
