"""Fixtures of the CLI tests: no real AWS configuration, and a stand-in pipeline in moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tests.cli.support import REGION, TEMPLATE, FakePipeline
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME, StackOutputs


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real AWS configuration, and a state folder of the test's own."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("TRANSCRIBE_PIPELINE_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePipeline]:
    """moto with a stack of the default name holding the pipeline's outputs."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name=REGION)
        cfn.create_stack(StackName=DEFAULT_STACK_NAME, TemplateBody=json.dumps(TEMPLATE))
        outputs = StackOutputs.from_describe_stacks(
            cfn.describe_stacks(StackName=DEFAULT_STACK_NAME)
        )
        s3 = boto3.client("s3", region_name=REGION)
        # Set here: moto's CloudFormation ignores VersioningConfiguration.
        s3.put_bucket_versioning(
            Bucket=outputs.input_bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        yield FakePipeline(
            outputs,
            s3,
            boto3.client("sqs", region_name=REGION),
            boto3.client("transcribe", region_name=REGION),
            dynamodb,
            boto3.client("lambda", region_name=REGION),
            boto3.client("iam", region_name=REGION),
        )
