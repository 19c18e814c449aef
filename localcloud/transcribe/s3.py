"""moto's S3 backend as the local Transcribe uses it: media reads, result writes, presigned URLs.

Calls go to the backend in-process, not over HTTP: the service runs inside the moto server.
"""

from __future__ import annotations

from functools import cache
from typing import Any


def backend(account_id: str, region: str) -> Any:
    """moto's S3 backend of an account (and the region's partition)."""
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    # moto 5.2.5 keys S3 backends by account and partition ("aws"), not by region.
    return s3_backends[account_id][get_partition(region)]


def read_media(account_id: str, region: str, bucket: str, key: str) -> bytes | None:
    """The media object's bytes, or None when its bucket or key does not exist."""
    from moto.s3.exceptions import MissingBucket

    try:
        obj = backend(account_id, region).get_object(bucket, key)
    except MissingBucket:
        return None
    return None if obj is None else bytes(obj.value)


def media_exists(account_id: str, region: str, bucket: str, key: str) -> bool:
    """Whether the media object exists (HeadObject would answer)."""
    from moto.s3.exceptions import HeadOnDeleteMarker, MissingBucket

    try:
        return backend(account_id, region).head_object(bucket, key) is not None
    except (MissingBucket, HeadOnDeleteMarker):  # a deleted key of a versioned bucket
        return False


def bucket_exists(account_id: str, region: str, bucket: str) -> bool:
    """Whether the bucket exists."""
    from moto.s3.exceptions import MissingBucket

    try:
        backend(account_id, region).get_bucket(bucket)
    except MissingBucket:
        return False
    return True


def put_object(
    account_id: str,
    region: str,
    bucket: str,
    key: str,
    *,
    body: bytes,
    content_type: str,
    kms_key_id: str | None = None,
) -> None:
    """Write through moto's S3 backend: the PutObject path, notifications included."""
    # OutputEncryptionKMSKeyId: the real service writes its results SSE-KMS with that key.
    stored = backend(account_id, region).put_object(
        bucket,
        key,
        body,
        encryption="aws:kms" if kms_key_id else None,
        kms_key_id=kms_key_id,
    )
    stored.set_metadata({"Content-Type": content_type})


@cache
def signer(endpoint: str, region: str) -> Any:
    """The S3 client that presigns URLs for an endpoint and region (built once)."""
    import boto3
    from botocore.config import Config

    # Presigning is local computation; moto accepts any credentials.
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="localcloud",
        aws_secret_access_key="localcloud",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def presign(endpoint: str, region: str, bucket: str, key: str) -> str:
    """A presigned GET URL of an object on the local endpoint, valid for 15 minutes.

    The real service hands out such URLs for service-managed output, a fresh one on each
    Get/List (docs/transcribe-api.md, "Result files").
    """
    url: str = signer(endpoint, region).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=900
    )
    return url
