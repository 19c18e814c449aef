"""``clean``: delete the pipeline's transcription jobs and every object version of its buckets."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from pipeline_cli.aws import Clients
from pipeline_cli.errors import CliError
from pipeline_cli.ledger import Ledger, pipeline_ledger
from pipeline_cli.readers import transcription_job
from transcribe_pipeline.clients import error_code
from transcribe_pipeline.job_listing import pipeline_jobs
from transcribe_pipeline.keys import parse_s3_uri
from transcribe_pipeline.stack_outputs import StackOutputs

_S3_DELETE_BATCH = 1000


@dataclass(frozen=True)
class SkippedJob:
    """A job named with the pipeline's prefix that ``clean`` leaves alone, and why."""

    job: str
    media: str | None
    why: str

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {"job": self.job, "media": self.media, "why": self.why}


@dataclass(frozen=True)
class Inventory:
    """What ``clean`` deletes (or deleted): job names, and object versions per bucket."""

    jobs: list[str]
    objects: dict[str, int]  # bucket -> object versions and delete markers
    skipped: list[SkippedJob] = field(default_factory=list)
    ledger_items: int = 0

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "jobs": self.jobs,
            "skipped_jobs": [s.to_json() for s in self.skipped],
            "object_versions": self.objects,
            "ledger_items": self.ledger_items,
        }


def inventory(clients: Clients, pipeline: StackOutputs) -> Inventory:
    """This pipeline's jobs (their media is in its input bucket), both buckets' versions and
    the ledger's items."""
    transcribe = clients("transcribe")
    jobs: list[str] = []
    skipped: list[SkippedJob] = []
    for summary in pipeline_jobs(transcribe, pipeline.job_name_prefix):
        name = summary["TranscriptionJobName"]
        foreign = _foreign(transcribe, pipeline, name)
        if foreign is None:
            jobs.append(name)
        else:
            skipped.append(foreign)
    s3 = clients("s3")
    objects = {
        bucket: sum(1 for _ in _versions(s3, bucket))
        for bucket in (pipeline.input_bucket, pipeline.output_bucket)
    }
    items = (
        sum(1 for _ in _ledger(clients, pipeline).every_item_key()) if pipeline.ledger_table else 0
    )
    return Inventory(jobs, objects, skipped, items)


def _foreign(transcribe: Any, pipeline: StackOutputs, name: str) -> SkippedJob | None:
    """Why a job with the pipeline's prefix is not the pipeline's, or None when it is.

    Job names are unique per account and region, not per pipeline: another deployment or
    application may use the same prefix (docs/transcribe-api.md). Only the media a job reads
    says whose it is.
    """
    job = transcription_job(transcribe, name)
    if job is None:
        return SkippedJob(name, None, "no longer exists")
    media = job.get("Media", {}).get("MediaFileUri")
    try:
        bucket, _ = parse_s3_uri(str(media or ""))
    except ValueError:
        return SkippedJob(name, media, "its media is not an s3:// object of this pipeline")
    if bucket != pipeline.input_bucket:
        return SkippedJob(name, media, f"it reads another bucket ({bucket})")
    return None


def clean_pipeline(clients: Clients, pipeline: StackOutputs, found: Inventory) -> Inventory:
    """Delete the pipeline's jobs first (so none writes again), then both buckets' versions,
    then the ledger's items (which would otherwise list inputs that are gone)."""
    transcribe = clients("transcribe")
    deleted: list[str] = []
    for name in found.jobs:
        try:
            transcribe.delete_transcription_job(TranscriptionJobName=name)
        except ClientError as error:
            if error_code(error) not in {"BadRequestException", "NotFoundException"}:
                raise  # anything but "already gone"
        else:
            deleted.append(name)
    s3 = clients("s3")
    objects = {
        bucket: empty_bucket(s3, bucket)
        for bucket in (pipeline.input_bucket, pipeline.output_bucket)
    }
    items = 0
    if pipeline.ledger_table:
        ledger = _ledger(clients, pipeline)
        items = ledger.delete_many(list(ledger.every_item_key()))
    return Inventory(deleted, objects, found.skipped, items)


def _ledger(clients: Clients, pipeline: StackOutputs) -> Ledger:
    return pipeline_ledger(clients("dynamodb"), pipeline)


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version, delete marker and unfinished multipart upload."""
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    deleted = 0
    batch: list[dict[str, str]] = []
    for version in _versions(s3, bucket):
        batch.append(version)
        if len(batch) == _S3_DELETE_BATCH:
            deleted += _delete(s3, bucket, batch)
            batch = []
    if batch:
        deleted += _delete(s3, bucket, batch)
    return deleted


def _versions(s3: Any, bucket: str) -> Iterator[dict[str, str]]:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            yield {"Key": item["Key"], "VersionId": item["VersionId"]}


def _delete(s3: Any, bucket: str, objects: list[dict[str, str]]) -> int:
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    errors = answer.get("Errors", [])
    if errors:
        first = errors[0]
        raise CliError(
            f"Could not delete {len(errors)} object(s) from {bucket}, e.g. {first.get('Key')}: "
            f"{first.get('Code')} {first.get('Message', '')}"
        )
    return len(objects)
