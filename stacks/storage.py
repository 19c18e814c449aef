"""The private input and output buckets, and the bucket their server access logs go to."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

ACCESS_LOG_RETENTION = Duration.days(90)
S3_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


class Storage(Construct):
    """Input bucket (versioned, EventBridge notifications) and output bucket, both private.

    Both log every request to a third private bucket (S3 server access logging), which is
    kept or removed on destroy together with the data.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        retain_data: bool,
        encryption_key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        # Grant S3's logging service through the logs bucket's policy, not the legacy
        # LogDeliveryWrite ACL that ACLs-disabled buckets refuse. cdk.json sets this flag too;
        # setting it here keeps the construct correct in any app.
        self.node.set_context(S3_LOGS_USE_BUCKET_POLICY, True)
        self._retain = retain_data
        self.access_logs_bucket = self._access_logs_bucket()
        # Versioning: simultaneous writes of one key each keep their own event and job.
        self.input_bucket = self._private_bucket(
            "InputBucket", encryption_key, versioned=True, event_bridge=True
        )
        self.output_bucket = self._private_bucket(
            "OutputBucket", encryption_key, versioned=False, event_bridge=False
        )

    def _access_logs_bucket(self) -> s3.Bucket:
        # S3 delivers server access logs only to a target bucket encrypted with SSE-S3 (not
        # SSE-KMS), so this bucket never uses the customer key.
        return s3.Bucket(
            self,
            "AccessLogsBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            lifecycle_rules=[
                s3.LifecycleRule(id="ExpireAccessLogs", expiration=ACCESS_LOG_RETENTION),
                s3.LifecycleRule(
                    id="AbortIncompleteMultipartUploads",
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN if self._retain else RemovalPolicy.DESTROY,
            auto_delete_objects=not self._retain,
        )

    def _private_bucket(
        self,
        construct_id: str,
        encryption_key: kms.IKey | None,
        *,
        versioned: bool,
        event_bridge: bool,
    ) -> s3.Bucket:
        lifecycle = [
            s3.LifecycleRule(
                id="AbortIncompleteMultipartUploads",
                abort_incomplete_multipart_upload_after=Duration.days(7),
            )
        ]
        if versioned:
            lifecycle.append(
                s3.LifecycleRule(
                    id="ExpireNoncurrentVersions",
                    noncurrent_version_expiration=Duration.days(30),
                )
            )
        return s3.Bucket(
            self,
            construct_id,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # ACLs disabled: the design card's "private ACL", without legacy AccessControl.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption=(
                s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED
            ),
            encryption_key=encryption_key,
            # S3 Bucket Keys cut the KMS requests (and their cost) per object by ~99 %.
            bucket_key_enabled=True if encryption_key else None,
            enforce_ssl=True,
            versioned=versioned,
            event_bridge_enabled=event_bridge,
            lifecycle_rules=lifecycle,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix=f"{construct_id}/",
            removal_policy=RemovalPolicy.RETAIN if self._retain else RemovalPolicy.DESTROY,
            auto_delete_objects=not self._retain,
        )
