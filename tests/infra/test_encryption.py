"""Encryption at rest: SSE-S3/SSE-SQS by default; ``use_kms_key`` puts one customer key on all."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from stacks.config import ConfigError, PipelineConfig
from tests.infra.conftest import resources_of

KEY_ARN = {"Fn::GetAtt": ["EncryptionKey1B843E66", "Arn"]}
DATA_BUCKETS = ("StorageInputBucket0767FBBB", "StorageOutputBucketCD2EEB3A")


def test_by_default_there_is_no_customer_key(template: Template):
    assert resources_of(template, "AWS::KMS::Key") == {}
    starter = next(
        f
        for k, f in resources_of(template, "AWS::Lambda::Function").items()
        if k.startswith("JobStarterStartTranscription")
    )
    assert starter["Properties"]["Environment"]["Variables"]["OUTPUT_ENCRYPTION_KMS_KEY_ID"] == ""


def test_use_kms_key_must_be_true_or_false():
    with pytest.raises(ConfigError, match=r"'use_kms_key': expected true or false"):
        PipelineConfig.from_mapping({"use_kms_key": "yes please"})


def test_the_customer_key_rotates_and_is_kept_when_the_data_is_kept(
    all_options_template: Template, synth_with
):
    kept = resources_of(all_options_template, "AWS::KMS::Key")
    removed = resources_of(synth_with({"use_kms_key": "true"}), "AWS::KMS::Key")

    assert list(kept) == ["EncryptionKey1B843E66"]
    assert kept["EncryptionKey1B843E66"]["Properties"]["EnableKeyRotation"] is True
    # all options include retain_data=true: deleting the key would make kept data unreadable.
    assert kept["EncryptionKey1B843E66"]["DeletionPolicy"] == "Retain"
    assert removed["EncryptionKey1B843E66"]["DeletionPolicy"] == "Delete"
    assert removed["EncryptionKey1B843E66"]["Properties"]["PendingWindowInDays"] == 7


def test_the_customer_key_encrypts_both_data_buckets_with_bucket_keys(
    all_options_template: Template,
):
    buckets = resources_of(all_options_template, "AWS::S3::Bucket")

    for logical_id in DATA_BUCKETS:
        (rule,) = buckets[logical_id]["Properties"]["BucketEncryption"][
            "ServerSideEncryptionConfiguration"
        ]
        assert rule["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": KEY_ARN,
        }
        assert rule["BucketKeyEnabled"] is True


def test_the_customer_key_encrypts_every_queue_and_the_topic(all_options_template: Template):
    queues = resources_of(all_options_template, "AWS::SQS::Queue")
    topics = resources_of(all_options_template, "AWS::SNS::Topic")

    assert len(queues) == 3
    assert all(q["Properties"]["KmsMasterKeyId"] == KEY_ARN for q in queues.values())
    assert all("SqsManagedSseEnabled" not in q["Properties"] for q in queues.values())
    # The notification topic and the alarm topic.
    assert [t["Properties"]["KmsMasterKeyId"] for t in topics.values()] == [KEY_ARN, KEY_ARN]


def test_the_start_function_asks_transcribe_to_encrypt_results_with_the_key(
    all_options_template: Template,
):
    starter = next(
        f
        for k, f in resources_of(all_options_template, "AWS::Lambda::Function").items()
        if k.startswith("JobStarterStartTranscription")
    )

    variables = starter["Properties"]["Environment"]["Variables"]
    assert variables["OUTPUT_ENCRYPTION_KMS_KEY_ID"] == KEY_ARN


def test_the_key_policy_admits_the_account_eventbridge_and_cloudwatch_alarms_only(
    all_options_template: Template,
):
    key = resources_of(all_options_template, "AWS::KMS::Key")["EncryptionKey1B843E66"]
    statements = key["Properties"]["KeyPolicy"]["Statement"]

    assert len(statements) == 3
    account = statements[0]
    # The account root: IAM policies decide, role by role (tests in test_least_privilege.py).
    assert account["Principal"]["AWS"]["Fn::Join"][1][-1] == ":root"
    events = statements[1]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert events["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    # Alarm actions publish to the encrypted alarm topic as CloudWatch, not as a role.
    alarms = statements[2]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(alarms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert not any(s["Principal"] in ("*", {"AWS": "*"}) for s in statements)


def test_without_the_key_the_topic_uses_the_sns_managed_key(synth_with):
    template = synth_with({"notification_email": "ops@example.com"})

    (topic,) = (
        t
        for k, t in resources_of(template, "AWS::SNS::Topic").items()
        if k.startswith("NotificationTopic")
    )
    assert "alias/aws/sns" in str(topic["Properties"]["KmsMasterKeyId"])
