"""The buckets are private, encrypted, TLS-only, logged and removed (or kept) as configured."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from tests.infra.conftest import resources_of

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


DATA_BUCKETS = ("StorageInputBucket0767FBBB", "StorageOutputBucketCD2EEB3A")
ACCESS_LOGS_BUCKET = "StorageAccessLogsBucketFEE4D6FB"


def test_every_bucket_blocks_all_public_access_disables_acls_and_encrypts(template: Template):
    buckets = resources_of(template, "AWS::S3::Bucket")

    assert len(buckets) == 3  # input, output, and their access logs
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == BLOCK_ALL
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        assert "AccessControl" not in props
        encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption[0]["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_every_bucket_policy_denies_requests_without_tls(template: Template):
    policies = resources_of(template, "AWS::S3::BucketPolicy")

    assert len(policies) == 3
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s["Action"] == "s3:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_the_input_bucket_is_versioned_and_sends_events_to_eventbridge(template: Template):
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {"VersioningConfiguration": {"Status": "Enabled"}},
    )
    template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "BucketName": {"Ref": Match.string_like_regexp("^StorageInputBucket")},
            "NotificationConfiguration": {"EventBridgeConfiguration": {}},
        },
    )


def test_buckets_abort_stale_multipart_uploads_and_expire_old_versions(template: Template):
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}
                        ),
                        Match.object_like({"NoncurrentVersionExpiration": {"NoncurrentDays": 30}}),
                    ]
                )
            },
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    )


def test_by_default_destroy_removes_the_buckets_and_their_objects(template: Template):
    buckets = resources_of(template, "AWS::S3::Bucket")

    assert {b["DeletionPolicy"] for b in buckets.values()} == {"Delete"}
    assert len(resources_of(template, "Custom::S3AutoDeleteObjects")) == 3


def test_retain_data_keeps_the_buckets_and_their_objects(synth_with):
    template = synth_with({"retain_data": "true"})

    buckets = resources_of(template, "AWS::S3::Bucket")
    assert {b["DeletionPolicy"] for b in buckets.values()} == {"Retain"}
    assert resources_of(template, "Custom::S3AutoDeleteObjects") == {}


def test_the_buckets_keep_their_logical_ids(template: Template):
    ids = set(resources_of(template, "AWS::S3::Bucket"))

    # Changing these replaces the buckets and loses data: change them only on purpose.
    assert ids == {*DATA_BUCKETS, ACCESS_LOGS_BUCKET}


def test_both_data_buckets_log_requests_to_the_access_logs_bucket(template: Template):
    buckets = resources_of(template, "AWS::S3::Bucket")

    for logical_id in DATA_BUCKETS:
        logging = buckets[logical_id]["Properties"]["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": ACCESS_LOGS_BUCKET}
        assert logging["LogFilePrefix"].endswith("/")
    assert "LoggingConfiguration" not in buckets[ACCESS_LOGS_BUCKET]["Properties"]


def test_the_logging_service_may_write_each_bucket_s_logs_under_its_own_prefix_only(
    template: Template,
):
    policies = resources_of(template, "AWS::S3::BucketPolicy")
    logs_policy = next(
        p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": ACCESS_LOGS_BUCKET}
    )
    statements = logs_policy["Properties"]["PolicyDocument"]["Statement"]

    services = [s for s in statements if "Service" in s["Principal"]]
    assert len(services) == 2
    for statement in services:
        source = statement["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::GetAtt"][0]
        assert statement["Principal"] == {"Service": "logging.s3.amazonaws.com"}
        assert statement["Action"] == "s3:PutObject"
        assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]
        prefix = statement["Resource"]["Fn::Join"][1][1]
        assert source in DATA_BUCKETS
        assert source.startswith(f"Storage{prefix.strip('/*')}")


def test_access_logs_stay_sse_s3_even_with_a_kms_key(synth_with):
    # S3 server access logging delivers only to buckets encrypted with SSE-S3.
    template = synth_with({"use_kms_key": "true"})

    bucket = resources_of(template, "AWS::S3::Bucket")[ACCESS_LOGS_BUCKET]
    encryption = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption[0]["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_access_logs_expire_and_are_removed_or_kept_with_the_data(synth_with, template):
    logs_bucket = resources_of(template, "AWS::S3::Bucket")[ACCESS_LOGS_BUCKET]
    kept = resources_of(synth_with({"retain_data": "true"}), "AWS::S3::Bucket")

    rules = logs_bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {"ExpirationInDays": 90} in [
        {"ExpirationInDays": r.get("ExpirationInDays")} for r in rules
    ]
    assert logs_bucket["DeletionPolicy"] == "Delete"
    assert kept[ACCESS_LOGS_BUCKET]["DeletionPolicy"] == "Retain"
