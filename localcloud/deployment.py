"""Deploying the real app to a running local cloud with the pinned CDK CLI, and using it."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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


class Cloud(Protocol):
    """Where the CDK CLI deploys and boto3 calls: the local cloud, or an AWS account."""

    @property
    def bootstrap_target(self) -> str | None:
        """``aws://account/region`` to bootstrap before each deploy; None: already bootstrapped."""

    def environment(self) -> dict[str, str]:
        """Environment variables for the CDK CLI (on top of this process's own)."""

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client; ``config`` overrides botocore Config options."""


@dataclass(frozen=True)
class LocalEndpoint:
    """Where the local cloud listens, and the environment that points tools at it."""

    port: int

    @property
    def bootstrap_target(self) -> str:
        """The local cloud starts empty: every deploy bootstraps its account first."""
        return f"aws://{ACCOUNT}/{REGION}"

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


def stack_name(context: dict[str, str] | None) -> str:
    """The CloudFormation stack a deploy with this context creates."""
    return (context or {}).get("stack_name", DEFAULT_STACK_NAME)


def cdk(
    cloud: Cloud, *args: str, context: dict[str, str] | None = None, timeout: float = 600
) -> str:
    """Run ``npx cdk <args>`` against the cloud; raise DeploymentError on failure."""
    command = ["npx", "--no-install", "cdk", *args]
    for key, value in (context or {}).items():
        command += ["-c", f"{key}={value}"]
    env = {**os.environ, **cloud.environment()}
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=timeout
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise DeploymentError(f"`cdk {' '.join(args)}` failed ({result.returncode}):\n{tail}")
    return result.stdout + result.stderr


def deploy(
    cloud: Cloud,
    *,
    context: dict[str, str] | None = None,
    output_dir: Path | None = None,
    timeout: float = 600,
) -> StackOutputs:
    """Deploy the app (bootstrapping first where the cloud needs it); return the stack outputs."""
    out = ["--output", str(output_dir)] if output_dir else []
    if cloud.bootstrap_target:
        cdk(cloud, "bootstrap", cloud.bootstrap_target, *out, context=context, timeout=timeout)
    # --all: the app's one stack, whatever `stack_name` calls it (its construct id never changes).
    cdk(cloud, "deploy", "--all", "--require-approval", "never", *out, context=context,
        timeout=timeout)  # fmt: skip
    try:
        answer = cloud.client("cloudformation").describe_stacks(StackName=stack_name(context))
        return StackOutputs.from_describe_stacks(answer)
    except (ClientError, MissingOutputError) as error:
        # The CLI printed success but there is no stack, or one without outputs: nothing
        # really deployed.
        raise DeploymentError(f"Deploy left no pipeline behind: {error}") from error


def destroy(
    cloud: Cloud,
    *,
    context: dict[str, str] | None = None,
    output_dir: Path | None = None,
    timeout: float = 600,
) -> None:
    """Destroy the stack and check that it is really gone."""
    out = ["--output", str(output_dir)] if output_dir else []
    cdk(cloud, "destroy", "--all", "--force", *out, context=context, timeout=timeout)
    name = stack_name(context)
    left = stack_status(cloud, name)
    if left is not None:
        raise DeploymentError(f"{name} is still there after destroy: {left}")


def stack_status(cloud: Cloud, name: str) -> str | None:
    """The stack's status, or None when there is no such stack (or it is deleted)."""
    try:
        stacks = cloud.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error.response.get("Error", {}).get("Message", "")):
            return None
        raise
    status = str(stacks[0]["StackStatus"]) if stacks else "DELETE_COMPLETE"
    return None if status == "DELETE_COMPLETE" else status


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
