"""AWS clients with the retry behaviour the pipeline relies on."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# Adaptive mode adds client-side rate limiting on top of standard retries, which is what
# keeps a burst of starts under Transcribe's 25 StartTranscriptionJob calls per second;
# it treats LimitExceededException as throttling (aws-facts.md).
_RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 10})


def client(service: str) -> Any:
    """A boto3 client for ``service``; honours AWS_ENDPOINT_URL (the local cloud sets it)."""
    return boto3.client(service, config=_RETRIES)
