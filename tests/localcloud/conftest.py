"""Fixtures for the local cloud's executor tests: an in-process moto server with the patches."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from localcloud import (
    background,
    event_targets,
    lambda_config,
    lambda_invoke,
    lambda_processes,
    s3_events,
    schedules,
    sqs_mapping,
)
from localcloud.server import free_port
from tests.localcloud.support import wait_for


class Cloud:
    """boto3 clients on the test server plus helpers to create functions and queues."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        kwargs = {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }
        self.lam = boto3.client("lambda", **kwargs)
        self.s3 = boto3.client("s3", **kwargs)
        self.sqs = boto3.client("sqs", **kwargs)
        self.logs = boto3.client("logs", **kwargs)
        self.events = boto3.client("events", **kwargs)
        self.role = boto3.client("iam", **kwargs).create_role(
            RoleName=f"role-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]

    @staticmethod
    def zip_of(files: dict[str, str]) -> bytes:
        """A zip archive holding the given text files."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in files.items():
                archive.writestr(name, content)
        return buffer.getvalue()

    wait_for = staticmethod(wait_for)

    def function(self, files: dict[str, str], runtime: str = "python3.12", **extra: Any) -> str:
        """Create a function from the files (handler index.handler unless given); its name."""
        name = f"fn-{uuid.uuid4().hex[:10]}"
        self.lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=self.role,
            Handler=extra.pop("Handler", "index.handler"),
            Code={"ZipFile": self.zip_of(files)},
            Timeout=extra.pop("Timeout", 10),
            **extra,
        )
        return name

    def function_arn(self, name: str) -> str:
        """The ARN of a function."""
        return str(self.lam.get_function_configuration(FunctionName=name)["FunctionArn"])

    def queue(self, **attributes: str) -> tuple[str, str]:
        """Create a queue; its URL and ARN."""
        url = self.sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:10]}", Attributes=attributes)[
            "QueueUrl"
        ]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return url, arn

    def receive(self, url: str, count: int = 1, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Receive (and delete) at least `count` messages, polling up to `timeout` seconds."""
        got: list[dict[str, Any]] = []

        def poll() -> bool:
            messages = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            ).get("Messages", [])
            for message in messages:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            got.extend(messages)
            return len(got) >= count

        self.wait_for(poll, timeout)
        return got

    def invoke(self, name: str, event: Any) -> tuple[Any, dict[str, Any]]:
        """Invoke synchronously with log tail; the parsed payload and the raw response."""
        response = self.lam.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
        return json.loads(response["Payload"].read() or b"null"), response


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """A moto server on a free localhost port with the executor, routing and mappings installed."""
    port = free_port()
    endpoint = f"http://localhost:{port}"
    lambda_processes.install(endpoint_url=endpoint, work_dir=tmp_path_factory.mktemp("lambda-work"))
    background.start()
    lambda_config.install()
    lambda_invoke.install(retry_delay_seconds=0.1)
    event_targets.install(retry_delay_seconds=0.1)
    s3_events.install()
    schedules.install()
    sqs_mapping.install(poll_interval_seconds=0.05)
    server = ThreadedMotoServer(ip_address="localhost", port=port, verbose=False)
    server.start()
    try:
        yield Cloud(endpoint)
    finally:
        sqs_mapping.shutdown()
        schedules.shutdown()
        background.shutdown()
        lambda_processes.shutdown()
        server.stop()
