"""Deploying the real app to a running local cloud with the pinned CDK CLI, and using it."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud import server
from transcribe_pipeline.layout import FailureRecord, failure_key, transcript_key
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME, MissingOutputError, StackOutputs

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"  # moto's default account
REGION = server.REGION
LOG = logging.getLogger(__name__)


class DeploymentError(RuntimeError):
    """A CDK CLI step failed; the message carries the end of its output."""


@dataclass(frozen=True)
class LocalEndpoint:
    """Where the local cloud listens, and the environment that points tools at it."""

    port: int

    @property
    def url(self) -> str:
        """The endpoint URL (host ``localhost``: the CDK CLI needs the name, not 127.0.0.1)."""
        return server.endpoint_url(self.port)

    def environment(self) -> dict[str, str]:
        """Environment variables for the CDK CLI and boto3."""
        return {
            **server.client_environment(self.port),
            "CDK_DEFAULT_ACCOUNT": ACCOUNT,
            "CDK_DEFAULT_REGION": REGION,
            # jsii's check reads the Node major versions whose end-of-life banner is silenced.
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        }

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for the local cloud; ``config`` overrides botocore Config options."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(**{"retries": {"mode": "standard", "max_attempts": 3}, **config}),
        )


def cdk(endpoint: LocalEndpoint, *args: str, context: dict[str, str] | None = None) -> str:
    """Run ``npx cdk <args>`` against the local cloud; raise DeploymentError on failure."""
    command = ["npx", "--no-install", "cdk", *args]
    for key, value in (context or {}).items():
        command += ["-c", f"{key}={value}"]
    env = {**os.environ, **endpoint.environment()}
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise DeploymentError(f"`cdk {' '.join(args)}` failed ({result.returncode}):\n{tail}")
    return result.stdout + result.stderr


def deploy(
    endpoint: LocalEndpoint,
    *,
    context: dict[str, str] | None = None,
    output_dir: Path | None = None,
) -> StackOutputs:
    """Bootstrap and deploy the app; return the stack outputs."""
    out = ["--output", str(output_dir)] if output_dir else []
    cdk(endpoint, "bootstrap", f"aws://{ACCOUNT}/{REGION}", *out, context=context)
    cdk(
        endpoint, "deploy", DEFAULT_STACK_NAME, "--require-approval", "never", *out, context=context
    )
    try:
        answer = endpoint.client("cloudformation").describe_stacks(StackName=DEFAULT_STACK_NAME)
        return StackOutputs.from_describe_stacks(answer)
    except (ClientError, MissingOutputError) as error:
        # The CLI printed success but there is no stack, or one without outputs: nothing
        # really deployed.
        raise DeploymentError(f"Deploy left no pipeline behind: {error}") from error


def destroy(endpoint: LocalEndpoint, *, output_dir: Path | None = None) -> None:
    """Destroy the stack and check that it is really gone."""
    out = ["--output", str(output_dir)] if output_dir else []
    cdk(endpoint, "destroy", DEFAULT_STACK_NAME, "--force", *out)
    stacks = endpoint.client("cloudformation").list_stacks()["StackSummaries"]
    left = [
        s["StackStatus"]
        for s in stacks
        if s["StackName"] == DEFAULT_STACK_NAME and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    if left:
        raise DeploymentError(f"{DEFAULT_STACK_NAME} is still there after destroy: {left}")


@dataclass(frozen=True)
class Outcome:
    """What the pipeline produced for one input key."""

    key: str
    transcript: str | None
    failure: FailureRecord | None
    seconds: float


def wait_for_outcome(
    s3: Any,
    output_bucket: str,
    key: str,
    *,
    timeout: float,
    on_tick: Callable[[float], None] | None = None,
) -> Outcome:
    """Poll the output bucket until ``key`` has a transcript or a failure record."""
    started = time.monotonic()
    text_key, record_key = transcript_key(key, "txt"), failure_key(key)
    while (elapsed := time.monotonic() - started) < timeout:
        text = _read(s3, output_bucket, text_key)
        if text is not None:
            return Outcome(key, text, None, elapsed)
        failure = _read(s3, output_bucket, record_key)
        if failure is not None:
            return Outcome(key, None, FailureRecord.from_body(failure), elapsed)
        if on_tick:
            on_tick(elapsed)
        time.sleep(0.25)
    raise TimeoutError(f"No transcript or failure record for {key!r} after {timeout:.0f} s")


def _read(s3: Any, bucket: str, key: str) -> str | None:
    try:
        return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))
    except s3.exceptions.NoSuchKey:
        return None
