"""SQS -> Lambda event-source mappings: background pollers that behave like Lambda's."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

RECORDING_FUNCTION = """
import json, os, time, uuid

def handler(event, context):
    started = time.time()
    time.sleep(float(os.environ.get("SLEEP", "0")))
    records = event["Records"]
    name = os.path.join(os.environ["OUT_DIR"], uuid.uuid4().hex)
    with open(name + ".tmp", "w") as out:  # atomically: the test reads these while we run
        json.dump({"start": started, "end": time.time(), "records": records}, out)
    os.replace(name + ".tmp", name + ".json")
    if os.environ.get("MODE") == "raise":
        raise RuntimeError("batch failed")
    if os.environ.get("MODE") == "partial":
        return {"batchItemFailures": [
            {"itemIdentifier": r["messageId"]} for r in records
            if "fail" in r["body"] and r["attributes"]["ApproximateReceiveCount"] == "1"
        ]}
    return None
"""


def calls(out_dir: Path) -> list[dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in out_dir.glob("*.json")]
    return sorted(found, key=lambda call: call["start"])


def records(out_dir: Path) -> list[dict[str, Any]]:
    return [record for call in calls(out_dir) for record in call["records"]]


def mapped_function(
    cloud: Any, out_dir: Path, queue_arn: str, *, env: dict[str, str] | None = None, **mapping: Any
) -> tuple[str, str]:
    name = cloud.function(
        {"index.py": RECORDING_FUNCTION},
        Environment={"Variables": {"OUT_DIR": str(out_dir), **(env or {})}},
    )
    uuid_ = cloud.lam.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=name, **mapping
    )["UUID"]
    return name, uuid_


def queue_counts(cloud: Any, url: str) -> tuple[int, int]:
    attributes = cloud.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def test_batches_have_the_lambda_sqs_event_shape(cloud: Any, tmp_path: Path) -> None:
    url, arn = cloud.queue()
    mapped_function(cloud, tmp_path, arn, BatchSize=3, MaximumBatchingWindowInSeconds=1)
    bodies = [f"message {i}" for i in range(3)]

    sent = cloud.sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": str(i),
                "MessageBody": body,
                "MessageAttributes": {"color": {"DataType": "String", "StringValue": "red"}},
            }
            for i, body in enumerate(bodies)
        ],
    )["Successful"]
    answered = time.time()

    [call] = cloud.wait_for(lambda: calls(tmp_path))
    # A poller, not SendMessage itself, runs the function: it starts after the send answered.
    assert call["start"] >= answered
    ids = {entry["MessageId"] for entry in sent}
    assert {record["messageId"] for record in call["records"]} == ids
    record = call["records"][0]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["body"] in bodies
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    assert record["messageAttributes"] == {
        "color": {
            "stringValue": "red",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    attributes = record["attributes"]
    assert attributes["ApproximateReceiveCount"] == "1"
    assert attributes["SenderId"]
    assert int(attributes["SentTimestamp"]) <= int(attributes["ApproximateFirstReceiveTimestamp"])
    cloud.wait_for(lambda: queue_counts(cloud, url) == (0, 0))


def test_partial_batch_failure_redelivers_only_failed_items(cloud: Any, tmp_path: Path) -> None:
    url, arn = cloud.queue(VisibilityTimeout="2")
    mapped_function(
        cloud,
        tmp_path,
        arn,
        env={"MODE": "partial"},
        BatchSize=4,
        MaximumBatchingWindowInSeconds=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    bodies = ["ok 1", "fail 1", "ok 2", "fail 2"]
    cloud.sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
    )

    cloud.wait_for(lambda: len(records(tmp_path)) == 6)
    cloud.wait_for(lambda: queue_counts(cloud, url) == (0, 0))
    seen = [(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in records(tmp_path)]
    assert sorted(seen) == sorted(
        [
            ("ok 1", "1"),
            ("ok 2", "1"),
            ("fail 1", "1"),
            ("fail 2", "1"),
            ("fail 1", "2"),
            ("fail 2", "2"),
        ]
    )
    first, *rest = calls(tmp_path)
    assert len(first["records"]) == 4
    # Redelivered only after the visibility timeout.
    assert all(call["start"] - first["start"] >= 1.8 for call in rest)


def test_function_error_retries_the_batch_then_redrives_to_the_dlq(
    cloud: Any, tmp_path: Path
) -> None:
    dlq_url, dlq_arn = cloud.queue()
    url, arn = cloud.queue(
        VisibilityTimeout="1",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
    )
    mapped_function(cloud, tmp_path, arn, env={"MODE": "raise"}, BatchSize=10)
    message_id = cloud.sqs.send_message(QueueUrl=url, MessageBody="poison")["MessageId"]

    [dead] = cloud.receive(dlq_url)

    assert dead["MessageId"] == message_id
    assert dead["Body"] == "poison"
    counts = [r["attributes"]["ApproximateReceiveCount"] for r in records(tmp_path)]
    assert counts == ["1", "2"]
    assert queue_counts(cloud, url) == (0, 0)


def test_maximum_concurrency_bounds_parallel_batches(cloud: Any, tmp_path: Path) -> None:
    url, arn = cloud.queue()
    mapped_function(
        cloud,
        tmp_path,
        arn,
        env={"SLEEP": "0.6"},
        BatchSize=1,
        ScalingConfig={"MaximumConcurrency": 2},
    )
    cloud.sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(6)]
    )

    cloud.wait_for(lambda: len(calls(tmp_path)) == 6, timeout=20)

    spans = [(call["start"], call["end"]) for call in calls(tmp_path)]
    overlap = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert overlap == 2
    assert sorted(r["body"] for r in records(tmp_path)) == [f"m{i}" for i in range(6)]


def test_mappings_disabled_enabled_and_deleted_at_runtime(cloud: Any, tmp_path: Path) -> None:
    url, arn = cloud.queue()
    _, mapping = mapped_function(cloud, tmp_path, arn, BatchSize=1)
    cloud.sqs.send_message(QueueUrl=url, MessageBody="first")
    cloud.wait_for(lambda: len(records(tmp_path)) == 1)

    cloud.lam.update_event_source_mapping(UUID=mapping, Enabled=False)
    time.sleep(0.3)  # longer than the pollers' reconcile interval in the fixture
    cloud.sqs.send_message(QueueUrl=url, MessageBody="while disabled")
    time.sleep(0.5)
    assert len(records(tmp_path)) == 1
    assert queue_counts(cloud, url) == (1, 0)

    cloud.lam.update_event_source_mapping(UUID=mapping, Enabled=True)
    cloud.wait_for(lambda: len(records(tmp_path)) == 2)

    cloud.lam.delete_event_source_mapping(UUID=mapping)
    time.sleep(0.3)
    cloud.sqs.send_message(QueueUrl=url, MessageBody="after delete")
    time.sleep(0.5)
    assert [r["body"] for r in records(tmp_path)] == ["first", "while disabled"]
    assert queue_counts(cloud, url) == (1, 0)


def test_mapping_created_via_update_to_new_function(cloud: Any, tmp_path: Path) -> None:
    url, arn = cloud.queue()
    first_dir, second_dir = tmp_path / "a", tmp_path / "b"
    first_dir.mkdir()
    second_dir.mkdir()
    _, mapping = mapped_function(cloud, first_dir, arn, BatchSize=1)
    second = cloud.function(
        {"index.py": RECORDING_FUNCTION},
        Environment={"Variables": {"OUT_DIR": str(second_dir)}},
    )

    cloud.lam.update_event_source_mapping(UUID=mapping, FunctionName=second)
    cloud.sqs.send_message(QueueUrl=url, MessageBody=f"to second {uuid.uuid4()}")

    cloud.wait_for(lambda: records(second_dir))
    assert records(first_dir) == []
