"""Writing the pipeline's own records (failures) into the output bucket."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from transcribe_pipeline.keys import S3Object, failure_key


def failure_record(source_uri: str, job_name: str | None, reason: str) -> dict[str, Any]:
    """The ``failed/<key>.json`` document: source, job (or null) and reason."""
    return {"source": source_uri, "job": job_name, "reason": reason}


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
    body = json.dumps(failure_record(obj.uri, job_name, reason), ensure_ascii=False, indent=2)
    s3.put_object(
        Bucket=output_bucket,
        Key=key,
        Body=body.encode("utf-8"),
        ContentType="application/json",
        Metadata={"job-name": job_name or "", **(metadata or {})},
    )
    return key
