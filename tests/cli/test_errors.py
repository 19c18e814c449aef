"""Errors a user can act on: one line, a hint, and an exit code scripts can rely on."""

from __future__ import annotations

import json
import socket

import boto3

from pipeline_cli.errors import ExitCode
from tests.cli.support import REGION, run, said


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return int(sock.getsockname()[1])


def test_help_names_every_command_and_the_exit_codes():
    result = run("--help")

    assert result.exit_code == 0
    for command in ("status", "upload", "wait", "list", "get", "retry", "clean"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout


def test_each_command_explains_the_connection_options_in_its_help():
    for command in ("status", "upload", "wait", "list", "get", "retry", "clean"):
        result = run(command, "--help")

        assert result.exit_code == 0, command
        for option in ("--json", "--stack", "--profile", "--region", "--local", "--endpoint-url"):
            assert option in result.stdout, (command, option)


def test_a_stack_that_does_not_exist_exits_3_naming_it(fake_pipeline):
    result = run("status", "--stack", "NoSuchPipeline")

    assert result.exit_code == ExitCode.NOT_FOUND
    assert "Stack 'NoSuchPipeline' not found in region us-east-1" in said(result.stderr)
    assert "cdk deploy" in said(result.stderr)


def test_without_credentials_it_exits_4_and_says_how_to_configure_them(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)

    result = run("status", "--region", "eu-west-1")

    assert result.exit_code == ExitCode.UNREACHABLE
    assert "No AWS credentials found" in said(result.stderr)
    assert "--local" in said(result.stderr)
    assert "Traceback" not in result.output


def test_when_the_local_cloud_is_not_running_it_exits_4_and_says_how_to_start_it():
    url = f"http://localhost:{_unused_port()}"

    result = run("list", "--local", "--endpoint-url", url)

    assert result.exit_code == ExitCode.UNREACHABLE
    assert f"Cannot connect to the local cloud at {url}" in said(result.stderr)
    assert "make local-up" in said(result.stderr)


def test_local_and_profile_together_are_a_usage_error():
    result = run("status", "--local", "--profile", "work")

    assert result.exit_code == ExitCode.USAGE
    assert "drop --profile" in said(result.stderr)


def test_an_unknown_profile_is_a_usage_error_naming_it():
    result = run("status", "--profile", "nobody")

    assert result.exit_code == ExitCode.USAGE
    assert "nobody" in said(result.stderr)


def test_a_key_that_is_not_an_input_exits_3(fake_pipeline):
    result = run("get", "talks/nothing.mp3")

    assert result.exit_code == ExitCode.NOT_FOUND
    assert "No input 'talks/nothing.mp3'" in said(result.stderr)


def test_a_stack_that_is_not_a_pipeline_exits_3_naming_the_missing_outputs(fake_pipeline):
    cfn = boto3.client("cloudformation", region_name=REGION)
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}
    cfn.create_stack(StackName="SomethingElse", TemplateBody=json.dumps(template))

    result = run("status", "--stack", "SomethingElse")

    assert result.exit_code == ExitCode.NOT_FOUND
    assert "Stack 'SomethingElse' (CREATE_COMPLETE) lacks the output(s) InputBucketName" in said(
        result.stderr
    )
