"""EventBridge rule delivery in the local cloud: Lambda targets, input, retries and DLQs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from moto.core.exceptions import ServiceException

from localcloud import event_targets
from tests.localcloud.support import ACCOUNT, ISO_TIME, RECORDING_FUNCTION, recorded, rule
from transcribe_pipeline.outcome_events import EVENT_SOURCE, DetailType


def put_event(cloud: Any, source: str, detail: dict[str, Any]) -> str:
    response = cloud.events.put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": "Something Happened",
                "Detail": json.dumps(detail),
                "Resources": ["arn:aws:s3:::thing"],
            }
        ]
    )
    assert response["FailedEntryCount"] == 0
    return str(response["Entries"][0]["EventId"])


def test_rule_with_lambda_target_delivers_the_full_event(cloud: Any, tmp_path: Path) -> None:
    function = cloud.function(
        {"index.py": RECORDING_FUNCTION}, Environment={"Variables": {"OUT_DIR": str(tmp_path)}}
    )
    source = f"test.{uuid.uuid4().hex[:6]}"
    name, _ = rule(cloud, {"source": [source]})
    cloud.events.put_targets(Rule=name, Targets=[{"Id": "fn", "Arn": cloud.function_arn(function)}])

    event_id = put_event(cloud, source, {"n": 1})

    [event] = cloud.wait_for(lambda: recorded(tmp_path))
    assert event == {
        "version": "0",
        "id": event_id,
        "detail-type": "Something Happened",
        "source": source,
        "account": ACCOUNT,
        "time": event["time"],
        "region": "us-east-1",
        "resources": ["arn:aws:s3:::thing"],
        "detail": {"n": 1},
    }
    assert ISO_TIME.match(event["time"])


def test_a_subscriber_s_rule_on_the_pipeline_s_source_receives_its_outcome_events(
    cloud: Any,
) -> None:
    # What a downstream application does (transcribe_pipeline/outcome_events.py): a rule on the
    # default bus matching the pipeline's source, a queue as its target.
    name, _ = rule(cloud, {"source": [EVENT_SOURCE]})
    url, arn = cloud.queue()
    cloud.events.put_targets(Rule=name, Targets=[{"Id": "subscriber", "Arn": arn}])
    detail = {"bucket": "in", "key": "talks/a.mp3", "state": "TRANSCRIBED"}

    response = cloud.events.put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": DetailType.TRANSCRIPT_READY.value,
                "Detail": json.dumps(detail),
            }
        ]
    )

    [message] = cloud.receive(url)
    event = json.loads(message["Body"])
    cloud.events.remove_targets(Rule=name, Ids=["subscriber"])
    cloud.events.delete_rule(Name=name)
    assert response["FailedEntryCount"] == 0
    assert event["id"] == response["Entries"][0]["EventId"]
    assert (event["source"], event["detail-type"]) == (EVENT_SOURCE, "Transcript Ready")
    assert event["detail"] == detail


def test_input_input_path_and_transformer(cloud: Any) -> None:
    source = f"test.{uuid.uuid4().hex[:6]}"
    name, _ = rule(cloud, {"source": [source]})
    queues = {key: cloud.queue() for key in ("input", "path", "transformer", "plain")}
    cloud.events.put_targets(
        Rule=name,
        Targets=[
            {"Id": "input", "Arn": queues["input"][1], "Input": '{"fixed": true}'},
            {"Id": "path", "Arn": queues["path"][1], "InputPath": "$.detail.job"},
            {
                "Id": "transformer",
                "Arn": queues["transformer"][1],
                "InputTransformer": {
                    "InputPathsMap": {"job": "$.detail.job.name", "src": "$.source"},
                    "InputTemplate": '{"name": <job>, "from": <src>}',
                },
            },
            {"Id": "plain", "Arn": queues["plain"][1]},
        ],
    )

    put_event(cloud, source, {"job": {"name": "j1", "state": "DONE"}})

    def body(key: str) -> Any:
        [message] = cloud.receive(queues[key][0])
        return json.loads(message["Body"])

    assert body("input") == {"fixed": True}
    assert body("path") == {"name": "j1", "state": "DONE"}
    assert body("transformer") == {"name": "j1", "from": source}
    plain = body("plain")
    assert plain["account"] == ACCOUNT and plain["detail"]["job"]["name"] == "j1"
    assert ISO_TIME.match(plain["time"])


def test_disabled_rule_and_schedule_only_rule_get_no_bus_events(cloud: Any) -> None:
    source = f"test.{uuid.uuid4().hex[:6]}"
    disabled, _ = rule(cloud, {"source": [source]}, State="DISABLED")
    scheduled, _ = rule(cloud, ScheduleExpression="rate(5 minutes)")
    enabled, _ = rule(cloud, {"source": [source]})
    (d_url, d_arn), (s_url, s_arn), (e_url, e_arn) = cloud.queue(), cloud.queue(), cloud.queue()
    cloud.events.put_targets(Rule=disabled, Targets=[{"Id": "q", "Arn": d_arn}])
    cloud.events.put_targets(Rule=scheduled, Targets=[{"Id": "q", "Arn": s_arn}])
    cloud.events.put_targets(Rule=enabled, Targets=[{"Id": "q", "Arn": e_arn}])

    put_event(cloud, source, {})

    cloud.receive(e_url)  # the enabled rule delivered: the others had their chance too
    for url in (d_url, s_url):
        assert "Messages" not in cloud.sqs.receive_message(QueueUrl=url)


def test_missing_function_target_goes_to_the_dead_letter_queue(cloud: Any) -> None:
    source = f"test.{uuid.uuid4().hex[:6]}"
    name, rule_arn = rule(cloud, {"source": [source]})
    dlq_url, dlq_arn = cloud.queue()
    target_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:does-not-exist"
    cloud.events.put_targets(
        Rule=name,
        Targets=[
            {
                "Id": "gone",
                "Arn": target_arn,
                "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 60},
                "DeadLetterConfig": {"Arn": dlq_arn},
            }
        ],
    )

    event_id = put_event(cloud, source, {"k": "v"})

    [message] = cloud.receive(dlq_url)
    assert json.loads(message["Body"])["id"] == event_id
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "ResourceNotFoundException"
    assert "does-not-exist" in attributes["ERROR_MESSAGE"]
    assert attributes["RULE_ARN"] == rule_arn
    assert attributes["TARGET_ARN"] == target_arn


def test_retry_policy_retries_then_dead_letters(
    cloud: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = event_targets._send

    def flaky(rule_: Any, target: dict[str, Any], payload: Any, event: Any) -> None:
        calls.append(target["Id"])
        if target["Id"] == "always" or calls.count(target["Id"]) <= 2:
            raise ServiceException("ThrottlingException", "slow down")
        original(rule_, target, payload, event)

    monkeypatch.setattr(event_targets, "_send", flaky)
    source = f"test.{uuid.uuid4().hex[:6]}"
    name, _ = rule(cloud, {"source": [source]})
    (ok_url, ok_arn), (dlq_url, dlq_arn) = cloud.queue(), cloud.queue()
    cloud.events.put_targets(
        Rule=name,
        Targets=[
            {"Id": "flaky", "Arn": ok_arn},
            {
                "Id": "always",
                "Arn": ok_arn,
                "RetryPolicy": {"MaximumRetryAttempts": 2},
                "DeadLetterConfig": {"Arn": dlq_arn},
            },
        ],
    )

    put_event(cloud, source, {})

    [delivered] = cloud.receive(ok_url)  # the flaky target, on its third attempt
    assert json.loads(delivered["Body"])["source"] == source
    [dead] = cloud.receive(dlq_url)
    assert dead["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "ThrottlingException"
    assert calls.count("flaky") == 3
    assert calls.count("always") == 3  # first attempt plus MaximumRetryAttempts


def test_function_error_uses_lambda_retries_and_destination(cloud: Any, tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    code = f"""
def handler(event, context):
    open({str(attempts)!r}, "a").write("x")
    raise RuntimeError("target failed")
"""
    function = cloud.function({"index.py": code})
    dest_url, dest_arn = cloud.queue()
    cloud.lam.put_function_event_invoke_config(
        FunctionName=function,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}},
    )
    source = f"test.{uuid.uuid4().hex[:6]}"
    name, _ = rule(cloud, {"source": [source]})
    cloud.events.put_targets(Rule=name, Targets=[{"Id": "fn", "Arn": cloud.function_arn(function)}])

    event_id = put_event(cloud, source, {})

    [message] = cloud.receive(dest_url)
    record = json.loads(message["Body"])
    assert record["requestPayload"]["id"] == event_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert attempts.read_text() == "xx"


def test_input_template_rendering() -> None:
    values = {"name": "j 1", "n": 3, "obj": {"a": 1}, "missing": None}
    render = event_targets.render_input_template
    assert render('{"x": <name>, "y": <n>, "z": <obj>, "m": <missing>}', values) == {
        "x": "j 1",
        "y": 3,
        "z": {"a": 1},
        "m": None,
    }
    assert render('{"msg": "job <name> has <n> \\"items\\""}', values) == {
        "msg": 'job j 1 has 3 "items"'
    }
    assert render("<name> is done", values) == "j 1 is done"
    assert render("<name>", values) == "j 1"
