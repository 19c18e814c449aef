"""S3's events in the local cloud: encoded keys and AWS's event shapes, to rules and to queues."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from tests.localcloud.support import ACCOUNT, ISO_TIME, RECORDING_FUNCTION, recorded, rule
from transcribe_pipeline.keys import decode_event_key, encode_event_key

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
    by_key = {decode_event_key(e["detail"]["object"]["key"]): e for e in events}
    assert sorted(by_key) == sorted(KEYS)
    for key, event in by_key.items():
        assert event["detail"]["object"]["key"] == encode_event_key(key)
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
    assert sorted(decode_event_key(e["detail"]["object"]["key"]) for e in lambda_events) == sorted(
        KEYS
    )


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
    assert sorted(keys) == sorted(encode_event_key(k) for k in KEYS)
    assert sorted(decode_event_key(k) for k in keys) == sorted(KEYS)


def test_a_multipart_upload_is_one_object_created_event(cloud: Any) -> None:
    # moto stores a completed multipart upload with its own PutObject, whose event would be a
    # second "Object Created" (another sequencer) for the same version: S3 sends one
    bucket = f"in-{uuid.uuid4().hex[:10]}"
    cloud.s3.create_bucket(Bucket=bucket)
    cloud.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    cloud.s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    name, _ = rule(cloud, {"source": ["aws.s3"], "detail": {"bucket": {"name": [bucket]}}})
    queue_url, queue_arn = cloud.queue()
    cloud.events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": queue_arn}])

    upload = cloud.s3.create_multipart_upload(Bucket=bucket, Key="big.wav")["UploadId"]
    part = cloud.s3.upload_part(
        Bucket=bucket, Key="big.wav", UploadId=upload, PartNumber=1, Body=b"x" * 5 * 1024**2
    )
    done = cloud.s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big.wav",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )

    messages = cloud.receive(queue_url, count=1)
    time.sleep(2)  # long enough for a second event of the same upload to arrive
    messages += cloud.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    )
    events = [json.loads(m["Body"]) for m in messages]
    created = [e for e in events if e["detail-type"] == "Object Created"]
    assert [(e["detail"]["reason"], e["detail"]["object"]["version-id"]) for e in created] == [
        ("CompleteMultipartUpload", done["VersionId"])
    ]
