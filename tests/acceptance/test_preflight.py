"""Before deploying anything to AWS, the acceptance run checks credentials and the bootstrap."""

from __future__ import annotations

import argparse
import json

import boto3
import pytest
from moto import mock_aws

from acceptance.run import TOOLKIT_STACK, AwsAccount, connect
from pipeline_cli.errors import CliError

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch, tmp_path):
    """moto in place of AWS, with credentials from the environment only."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def arguments(**overrides):
    return argparse.Namespace(
        **{"endpoint_url": None, "profile": None, "region": REGION, **overrides}
    )


def test_an_account_region_without_the_cdk_bootstrap_stack_stops_before_deploying(aws):
    with pytest.raises(CliError) as raised:
        connect(arguments(), "tp-acceptance-test")

    assert "not bootstrapped" in raised.value.message
    assert raised.value.hint.startswith(f"Run `npx cdk bootstrap aws://123456789012/{REGION}`")


def test_a_bootstrapped_account_deploys_with_the_callers_region(aws):
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=TOOLKIT_STACK,
        TemplateBody=json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}),
    )

    cloud, clients = connect(arguments(), "tp-acceptance-test")

    assert isinstance(cloud, AwsAccount)
    assert cloud.bootstrap_target is None  # the account's bootstrap stack is not the run's
    assert cloud.environment() == {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}
    assert clients.target.stack == "tp-acceptance-test"


def test_an_endpoint_url_must_be_a_local_cloud_on_localhost():
    with pytest.raises(CliError, match="must be http://localhost:PORT"):
        connect(arguments(endpoint_url="https://example.com"), "tp-acceptance-test")
