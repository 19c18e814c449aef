"""Invoke in the local cloud: asynchronous invocations, retries, destinations, dead letters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from moto.awslambda.utils import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from localcloud import lambda_invoke


def test_async_invoke_returns_before_the_function_runs_to_its_end(
    cloud: Any, tmp_path: Path
) -> None:
    # The function waits for a file the test writes only after Invoke has answered: an
    # invocation run inside the request would finish (after its own wait) before answering.
    release, marker = tmp_path / "release", tmp_path / "ran.json"
    code = f"""
import json, os, time
def handler(event, context):
    deadline = time.monotonic() + 20
    while not os.path.exists({str(release)!r}) and time.monotonic() < deadline:
        time.sleep(0.05)
    open({str(marker)!r}, "w").write(json.dumps(event))
"""
    name = cloud.function({"index.py": code}, Timeout=30)

    response = cloud.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"k": "v"}')

    assert response["StatusCode"] == 202
    assert not marker.exists()
    release.write_text("go")
    cloud.wait_for(marker.exists)
    assert json.loads(marker.read_text()) == {"k": "v"}


def test_async_error_is_retried_then_sent_to_on_failure_destination(
    cloud: Any, tmp_path: Path
) -> None:
    attempts = tmp_path / "attempts"
    code = f"""
def handler(event, context):
    with open({str(attempts)!r}, "a") as out:
        out.write(context.aws_request_id + "\\n")
    raise RuntimeError("always fails")
"""
    name = cloud.function({"index.py": code})
    url, arn = cloud.queue()
    cloud.lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )

    cloud.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"job": 7}')

    [message] = cloud.receive(url)
    record = json.loads(message["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"].endswith(f":function:{name}:$LATEST")
    assert record["requestPayload"] == {"job": 7}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "always fails"
    # One request id for the first attempt and its retry, as Lambda does.
    ids = attempts.read_text().split()
    assert len(ids) == 2 and len(set(ids)) == 1


def test_default_retries_and_dead_letter_queue(cloud: Any, tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    code = f"""
def handler(event, context):
    open({str(attempts)!r}, "a").write("x")
    raise KeyError("missing")
"""
    url, arn = cloud.queue()
    name = cloud.function({"index.py": code}, DeadLetterConfig={"TargetArn": arn})
    assert cloud.lam.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {
        "TargetArn": arn
    }

    cloud.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"a": 1}')

    [message] = cloud.receive(url)
    assert json.loads(message["Body"]) == {"a": 1}
    attributes = message["MessageAttributes"]
    assert attributes["ErrorCode"]["StringValue"] == "200"
    assert "missing" in attributes["ErrorMessage"]["StringValue"]
    assert attributes["RequestID"]["StringValue"]
    assert attempts.read_text() == "xxx"  # the first attempt and the two default retries


def test_on_success_destination_and_config_update(cloud: Any) -> None:
    name = cloud.function({"index.py": "def handler(e, c):\n    return {'doubled': e['n'] * 2}\n"})
    url, arn = cloud.queue()
    cloud.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=2)
    cloud.lam.update_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": arn}},
    )
    assert (
        cloud.lam.get_function_event_invoke_config(FunctionName=name)["MaximumRetryAttempts"] == 0
    )

    cloud.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 21}')

    [message] = cloud.receive(url)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"doubled": 42}
    assert "functionError" not in record["responseContext"]


def test_get_event_invoke_config_helper(cloud: Any) -> None:
    name = cloud.function({"index.py": "def handler(e, c):\n    return 1\n"})
    function = get_backend(DEFAULT_ACCOUNT_ID, "us-east-1").get_function(name)
    assert lambda_invoke.get_event_invoke_config(function) == {
        "MaximumRetryAttempts": 2,
        "MaximumEventAgeInSeconds": 21600,
        "DestinationConfig": {},
    }
    lambda_invoke.set_event_invoke_config(function, {"MaximumRetryAttempts": 1})
    assert lambda_invoke.get_event_invoke_config(function)["MaximumRetryAttempts"] == 1
    response = cloud.lam.get_function_event_invoke_config(FunctionName=name)
    assert response["MaximumRetryAttempts"] == 1
