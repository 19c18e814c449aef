"""The private input and output buckets."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct


class Storage(Construct):
    """Input bucket (versioned, EventBridge notifications) and output bucket, both private."""

    def __init__(self, scope: Construct, construct_id: str, *, retain_data: bool) -> None:
        super().__init__(scope, construct_id)
        # Versioning: simultaneous writes of one key each keep their own event and job.
        self.input_bucket = self._private_bucket(
            "InputBucket", retain_data, versioned=True, event_bridge=True
        )
        self.output_bucket = self._private_bucket(
            "OutputBucket", retain_data, versioned=False, event_bridge=False
        )

    def _private_bucket(
        self, construct_id: str, retain: bool, *, versioned: bool, event_bridge: bool
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
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=versioned,
            event_bridge_enabled=event_bridge,
            lifecycle_rules=lifecycle,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
            auto_delete_objects=not retain,
        )
