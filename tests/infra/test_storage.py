"""The buckets are private, encrypted, TLS-only and removed (or kept) as configured."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from tests.infra.conftest import resources_of

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def test_both_buckets_block_all_public_access_disable_acls_and_encrypt(template: Template):
    buckets = resources_of(template, "AWS::S3::Bucket")

    assert len(buckets) == 2
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == BLOCK_ALL
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        assert "AccessControl" not in props
        encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert encryption[0]["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_both_bucket_policies_deny_requests_without_tls(template: Template):
    policies = resources_of(template, "AWS::S3::BucketPolicy")

    assert len(policies) == 2
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
    assert len(resources_of(template, "Custom::S3AutoDeleteObjects")) == 2


def test_retain_data_keeps_the_buckets_and_their_objects(synth_with):
    template = synth_with({"retain_data": "true"})

    buckets = resources_of(template, "AWS::S3::Bucket")
    assert {b["DeletionPolicy"] for b in buckets.values()} == {"Retain"}
    assert resources_of(template, "Custom::S3AutoDeleteObjects") == {}


def test_the_buckets_keep_their_logical_ids(template: Template):
    ids = set(resources_of(template, "AWS::S3::Bucket"))

    # Changing these replaces the buckets and loses data: change them only on purpose.
    assert ids == {"StorageInputBucket0767FBBB", "StorageOutputBucketCD2EEB3A"}
