"""AWS clients with the retry behaviour the pipeline relies on."""

from __future__ import annotations

from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Adaptive mode adds client-side rate limiting on top of standard retries; it treats
# LimitExceededException as throttling (docs/sdk-retries.md).
MAX_ATTEMPTS = 10


def client(
    service: str,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    mode: Literal["standard", "adaptive"] = "adaptive",
) -> Any:
    """A boto3 client for ``service``; honours AWS_ENDPOINT_URL (the local cloud sets it)."""
    return boto3.client(
        service, config=Config(retries={"mode": mode, "max_attempts": max_attempts})
    )


def table(name: str) -> Any:
    """A DynamoDB ``Table`` resource with the same retries as :func:`client`."""
    dynamodb = boto3.resource(
        "dynamodb", config=Config(retries={"mode": "adaptive", "max_attempts": MAX_ATTEMPTS})
    )
    return dynamodb.Table(name)


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError (``NoSuchKey``, ``404``, ``ThrottlingException``...)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def single_attempt_client(service: str) -> Any:
    """A client that never retries: the caller decides (throttling.StartClient)."""
    return client(service, max_attempts=1, mode="standard")
