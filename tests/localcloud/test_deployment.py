"""The local cloud's reader of pipeline outcomes finds them where the functions write them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localcloud.deployment import wait_for_outcome
from transcribe_pipeline.layout import FailureRecord, failure_key, transcript_key

BUCKET = "media-out"
# Long enough that its output keys pass S3's 1024 bytes and are shortened.
LONG_KEY = "talks/" + "a" * 1020 + ".mp3"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An S3 account in moto with the output bucket."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_the_transcript_of_a_key_too_long_for_s3_is_found_under_its_shortened_key(s3):
    s3.put_object(Bucket=BUCKET, Key=transcript_key(LONG_KEY, "txt"), Body=b"hello world")

    outcome = wait_for_outcome(s3, BUCKET, LONG_KEY, timeout=2)

    assert outcome.transcript == "hello world"


def test_the_failure_record_of_a_key_too_long_for_s3_is_found_under_its_shortened_key(s3):
    record = FailureRecord(source=f"s3://media-in/{LONG_KEY}", job=None, reason="too long")
    s3.put_object(Bucket=BUCKET, Key=failure_key(LONG_KEY), Body=record.body())

    outcome = wait_for_outcome(s3, BUCKET, LONG_KEY, timeout=2)

    assert outcome.failure == record
