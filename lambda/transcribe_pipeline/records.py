"""Writing the pipeline's own records (failures) into the output bucket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from transcribe_pipeline.keys import S3Object
from transcribe_pipeline.layout import (
    FAILURE_CONTENT_TYPE,
    JOB_NAME_META,
    FailureRecord,
    failure_key,
)


def write_failure(
    s3: Any,
    output_bucket: str,
    obj: S3Object,
    *,
    job_name: str | None,
    reason: str,
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Write the failure record of ``obj`` and return its key."""
    key = failure_key(obj.key)
    s3.put_object(
        Bucket=output_bucket,
        Key=key,
        Body=FailureRecord(source=obj.uri, job=job_name, reason=reason).body(),
        ContentType=FAILURE_CONTENT_TYPE,
        Metadata={JOB_NAME_META: job_name or "", **(metadata or {})},
    )
    return key
