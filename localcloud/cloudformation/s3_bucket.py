"""``AWS::S3::Bucket``: the properties, updates and deletion moto's CloudFormation gets wrong.

moto's create ignores ``VersioningConfiguration`` and ``PublicAccessBlockConfiguration``, its
in-place update fails on buckets with generated names, and its delete leaves a non-empty bucket
in place without an error.
"""

from __future__ import annotations

import logging
from typing import Any

from moto.s3 import models as s3_models
from moto.s3.exceptions import MissingBucket
from moto.utilities.utils import get_partition

from localcloud.cloudformation.custom_resources import stringify_properties
from localcloud.cloudformation.errors import BucketNotEmptyError
from localcloud.cloudformation.model_base import extend_create

logger = logging.getLogger(__name__)


def _s3_backend(account_id: str, region_name: str) -> Any:
    return s3_models.s3_backends[account_id][get_partition(region_name)]


def _apply_bucket_properties(
    bucket: s3_models.FakeBucket, properties: dict[str, Any], account_id: str, region_name: str
) -> None:
    backend = _s3_backend(account_id, region_name)
    name = bucket.name
    versioning = (properties.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        backend.put_bucket_versioning(name, versioning)
    public_access = properties.get("PublicAccessBlockConfiguration")
    if public_access:
        backend.put_public_access_block(name, stringify_properties(public_access))


def patch_s3_bucket() -> None:
    """Apply versioning and public access block; update in place; refuse to drop objects."""
    bucket_cls = s3_models.FakeBucket

    def update(  # noqa: PLR0917 - moto's update_from_cloudformation_json signature
        cls: type[s3_models.FakeBucket],
        original_resource: s3_models.FakeBucket,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> s3_models.FakeBucket:
        properties = cloudformation_json.get("Properties", {})
        backend = _s3_backend(account_id, region_name)
        if "BucketName" in properties and properties["BucketName"] != original_resource.name:
            # A new name replaces the bucket. CloudFormation deletes the old one during cleanup
            # and only warns when it cannot; do the same here, at once.
            replacement = cls.create_from_cloudformation_json(
                properties["BucketName"], cloudformation_json, account_id, region_name
            )
            try:
                delete(cls, original_resource.name, cloudformation_json, account_id, region_name)
            except BucketNotEmptyError as exc:
                logger.warning("replaced bucket kept: %s", exc)
            return replacement
        # moto's in-place update reads properties["BucketName"], absent for generated names.
        if "Tags" in properties:
            tags = {tag["Key"]: tag["Value"] for tag in properties["Tags"]}
            backend.put_bucket_tagging(original_resource.name, tags)
        _apply_bucket_properties(original_resource, properties, account_id, region_name)
        return original_resource

    def delete(
        cls: type[s3_models.FakeBucket],
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        backend = _s3_backend(account_id, region_name)
        try:
            bucket = backend.get_bucket(resource_name)
        except MissingBucket:
            return
        if len(bucket.keys):
            # moto's delete_bucket returns quietly and leaves the bucket: fail like S3 does.
            raise BucketNotEmptyError(
                f"The bucket you tried to delete is not empty (Service: S3, Status Code: 409): "
                f"{resource_name} still holds {len(bucket.keys)} key(s)"
            )
        backend.delete_bucket(resource_name)

    extend_create(bucket_cls, _apply_bucket_properties)
    bucket_cls.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign,assignment]
    bucket_cls.delete_from_cloudformation_json = classmethod(delete)  # type: ignore[method-assign,assignment]
