"""EventBridge in the local cloud: Lambda targets, retries and DLQs, schedules, S3 events."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import pytest
from moto.core.exceptions import ServiceException

from localcloud import event_targets

ACCOUNT = "123456789012"
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

RECORDING_FUNCTION = """
import json, os, uuid
from urllib.parse import unquote_plus

def handler(event, context):
    name = os.path.join(os.environ["OUT_DIR"], uuid.uuid4().hex)
    with open(name + ".tmp", "w") as out:  # atomically: the test reads these while we run
        json.dump(event, out)
    os.replace(name + ".tmp", name + ".json")
"""


def recorded(out_dir: Path) -> list[Any]:
    return [json.loads(path.read_text()) for path in sorted(out_dir.glob("*.json"))]


def rule(cloud: Any, pattern: dict[str, Any] | None = None, **extra: Any) -> tuple[str, str]:
    name = f"rule-{uuid.uuid4().hex[:8]}"
    if pattern is not None:
        extra["EventPattern"] = json.dumps(pattern)
    arn = cloud.events.put_rule(Name=name, **extra)["RuleArn"]
    return name, arn


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


def test_scheduled_rule_fires_with_the_scheduled_event_shape(cloud: Any, tmp_path: Path) -> None:
    function = cloud.function(
        {"index.py": RECORDING_FUNCTION}, Environment={"Variables": {"OUT_DIR": str(tmp_path)}}
    )
    name, arn = rule(cloud, ScheduleExpression="rate(1 minute)")
    cloud.events.put_targets(Rule=name, Targets=[{"Id": "fn", "Arn": cloud.function_arn(function)}])

    sent = event_targets.fire_scheduled_rule_now(arn)

    [event] = cloud.wait_for(lambda: recorded(tmp_path))
    assert event == {
        "version": "0",
        "id": sent["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": sent["time"],
        "region": "us-east-1",
        "resources": [arn],
        "detail": {},
    }


def test_scheduler_fires_due_enabled_rules_only(cloud: Any) -> None:
    enabled, _ = rule(cloud, ScheduleExpression="rate(2 minutes)")
    disabled, _ = rule(cloud, ScheduleExpression="rate(1 minute)", State="DISABLED")
    (e_url, e_arn), (d_url, d_arn) = cloud.queue(), cloud.queue()
    cloud.events.put_targets(Rule=enabled, Targets=[{"Id": "q", "Arn": e_arn}])
    cloud.events.put_targets(Rule=disabled, Targets=[{"Id": "q", "Arn": d_arn}])
    scheduler = event_targets._Scheduler(interval=1.0)  # driven by hand, not started
    now = datetime.now(UTC)

    scheduler.tick(now)  # first sight: the clock starts
    scheduler.tick(now + timedelta(seconds=90))  # not due yet
    assert "Messages" not in cloud.sqs.receive_message(QueueUrl=e_url)
    scheduler.tick(now + timedelta(seconds=121))

    [message] = cloud.receive(e_url)
    assert json.loads(message["Body"])["detail-type"] == "Scheduled Event"
    assert "Messages" not in cloud.sqs.receive_message(QueueUrl=d_url)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(5 minutes)", "2024-01-01T10:00:00", "2024-01-01T10:05:00"),
        ("rate(1 hour)", "2024-01-01T10:00:00", "2024-01-01T11:00:00"),
        ("cron(0/15 * * * ? *)", "2024-01-01T10:07:00", "2024-01-01T10:15:00"),
        ("cron(30 2 * * ? *)", "2024-01-01T10:00:00", "2024-01-02T02:30:00"),
        ("cron(0 9 ? * MON-FRI *)", "2024-01-06T10:00:00", "2024-01-08T09:00:00"),  # Sat -> Mon
        ("cron(0 0 1 JAN ? 2025)", "2024-03-01T00:00:00", "2025-01-01T00:00:00"),
    ],
)
def test_schedule_expressions(expression: str, after: str, expected: str) -> None:
    start = datetime.fromisoformat(after).replace(tzinfo=UTC)
    assert event_targets.next_fire_time(expression, start) == datetime.fromisoformat(
        expected
    ).replace(tzinfo=UTC)


KEYS = ["a b.wav", "a+b.wav", "a%2Bb.wav", "ünï/cødé.mp3"]


def test_s3_events_reach_rules_with_encoded_keys(cloud: Any, tmp_path: Path) -> None:
    bucket = f"in-{uuid.uuid4().hex[:10]}"
    cloud.s3.create_bucket(Bucket=bucket)
    cloud.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    cloud.s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}},
    }
    name, _ = rule(cloud, pattern)
    queue_url, queue_arn = cloud.queue()
    function = cloud.function(
        {"index.py": RECORDING_FUNCTION}, Environment={"Variables": {"OUT_DIR": str(tmp_path)}}
    )
    cloud.events.put_targets(
        Rule=name,
        Targets=[
            {"Id": "q", "Arn": queue_arn},
            {"Id": "fn", "Arn": cloud.function_arn(function)},
        ],
    )

    versions = {}
    for key in KEYS:
        versions[key] = cloud.s3.put_object(Bucket=bucket, Key=key, Body=b"12345")["VersionId"]

    events = [json.loads(m["Body"]) for m in cloud.receive(queue_url, count=len(KEYS))]
    by_key = {unquote_plus(e["detail"]["object"]["key"]): e for e in events}
    assert sorted(by_key) == sorted(KEYS)
    for key, event in by_key.items():
        assert event["detail"]["object"]["key"] == quote_plus(key, safe="/")
        assert set(event) == {
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "detail",
        }
        assert event["source"] == "aws.s3"
        assert event["detail-type"] == "Object Created"
        assert event["account"] == ACCOUNT
        assert event["resources"] == [f"arn:aws:s3:::{bucket}"]
        assert ISO_TIME.match(event["time"])
        detail = event["detail"]
        assert set(detail) == {
            "version",
            "bucket",
            "object",
            "request-id",
            "requester",
            "source-ip-address",
            "reason",
        }
        assert detail["bucket"] == {"name": bucket}
        assert detail["reason"] == "PutObject"
        obj = detail["object"]
        assert set(obj) == {"key", "size", "etag", "version-id", "sequencer"}
        assert obj["size"] == 5
        assert obj["etag"] == "827ccb0eea8a706c4c34a16891f84e7b"  # md5 of b"12345"
        assert obj["version-id"] == versions[key]
    assert len({e["id"] for e in events}) == len(KEYS)
    assert len({e["detail"]["object"]["sequencer"] for e in events}) == len(KEYS)

    lambda_events = cloud.wait_for(
        lambda: len(recorded(tmp_path)) == len(KEYS) and recorded(tmp_path)
    )
    assert sorted(unquote_plus(e["detail"]["object"]["key"]) for e in lambda_events) == sorted(KEYS)


def test_s3_notification_records_use_the_same_encoding(cloud: Any) -> None:
    bucket = f"in-{uuid.uuid4().hex[:10]}"
    cloud.s3.create_bucket(Bucket=bucket)
    queue_url, queue_arn = cloud.queue()
    cloud.s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    cloud.receive(queue_url)  # S3's test event
    for key in KEYS:
        cloud.s3.put_object(Bucket=bucket, Key=key, Body=b"x")

    records = [json.loads(m["Body"])["Records"][0] for m in cloud.receive(queue_url, len(KEYS))]

    keys = [r["s3"]["object"]["key"] for r in records]
    assert sorted(keys) == sorted(quote_plus(k, safe="/") for k in KEYS)
    assert sorted(unquote_plus(k) for k in keys) == sorted(KEYS)


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
