"""A completed job's result files: subtitles, then ``<job>.json`` in Transcribe's schema.

They are written through moto's S3 backend ``put_object`` (the same call a PutObject request
makes, so bucket notifications and EventBridge "Object Created" events fire as for any
upload; SSE-KMS with OutputEncryptionKMSKeyId): subtitles first, ``<job>.json`` last, so
whoever reacts to the JSON finds the subtitles in place. Where they go follows the request
(docs/transcribe-api.md, "Result files"): OutputBucketName and OutputKey, or a
service-managed bucket laid out as the real one (``aws-transcribe-<region>-prod``, key
``<account>/<job>/<uuid>/asrOutput.json``). A subtitle file is written only when the media has
speech, as AWS documents; SubtitleFileUris then lists the files actually written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace

from localcloud import transcribe_items
from localcloud.transcribe import s3
from localcloud.transcribe.jobs import Job, JobTable, Outcome
from localcloud.transcribe.recognizer import Transcription

SUBTITLE_RENDERERS: dict[str, Callable[[list[transcribe_items.Item], int], str]] = {
    "srt": transcribe_items.to_srt,
    "vtt": transcribe_items.to_vtt,
}
SUBTITLE_CONTENT_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt"}


def output_location(job: Job) -> tuple[str, str]:
    """(bucket, key of the JSON without ".json") of the job's results."""
    req = job.request
    bucket = req.get("OutputBucketName")
    if bucket:
        key = req.get("OutputKey")
        if not key:
            return bucket, job.name
        if key.endswith(".json"):
            return bucket, key[: -len(".json")]
        # Any other value names a folder: <key>/<job>.json (docs/transcribe-api.md).
        return bucket, f"{key.rstrip('/')}/{job.name}"
    # Service-managed location, laid out as the real one.
    return (
        f"aws-transcribe-{job.region}-prod",
        f"{job.account_id}/{job.name}/{uuid.uuid4()}/asrOutput",
    )


def write_results(
    job: Job,
    result: Transcription,
    base: Outcome,
    *,
    jobs: JobTable,
    empty_subtitles_on_silence: bool,
) -> Outcome:
    """Write the job's result files; `base` completed with where they are, or FAILED."""
    bucket, stem = output_location(job)
    if job.output_location_type == "SERVICE_BUCKET":
        # Build the URL signer now rather than on the first Get, under the lock.
        s3.signer(job.service_endpoint, job.region)
        if not s3.bucket_exists(job.account_id, job.region, bucket):
            s3.backend(job.account_id, job.region).create_bucket(bucket, job.region)
    if not s3.bucket_exists(job.account_id, job.region, bucket):
        return replace(
            base,
            failure_reason=(
                f"The output bucket {bucket} doesn't exist or can't be accessed. Check the "
                "bucket name and try your request again."
            ),
        )
    if not jobs.is_current(job):
        return base  # deleted while running: write nothing (JobTable.finish drops it)
    kms_key_id = job.request.get("OutputEncryptionKMSKeyId")
    subtitles = job.request.get("Subtitles") or {}
    start_index = int(subtitles.get("OutputStartIndex", 0))
    written: list[str] = []
    if result.items or empty_subtitles_on_silence:
        for fmt in subtitles.get("Formats") or []:
            body = SUBTITLE_RENDERERS[fmt](result.items, start_index).encode()
            s3.put_object(
                job.account_id,
                job.region,
                bucket,
                f"{stem}.{fmt}",
                body=body,
                content_type=SUBTITLE_CONTENT_TYPES[fmt],
                kms_key_id=kms_key_id,
            )
            written.append(f"{stem}.{fmt}")
    document = transcribe_items.build_document(
        job.name,
        job.account_id,
        result.items,
        language_code=result.language_code,
        language_identification=result.language_identification,
        language_codes=result.language_codes,
    )
    s3.put_object(
        job.account_id,
        job.region,
        bucket,
        f"{stem}.json",
        body=json.dumps(document, ensure_ascii=False).encode(),
        content_type="application/json",
        kms_key_id=kms_key_id,
    )
    return replace(
        base,
        output_bucket=bucket,
        transcript_key=f"{stem}.json",
        subtitle_keys=tuple(written),
    )
