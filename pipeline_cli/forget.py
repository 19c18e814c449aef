"""``forget KEY``: remove everything the pipeline holds of one key, e.g. for a privacy request.

Every version of the input (and its delete markers), the ledger items of the key, the
Transcribe jobs of every version and attempt, and every output: ``transcripts/<key>.*``,
``unredacted/<key>.*``, ``failed/<key>.json`` and each job's own ``<job>.json/.srt/.vtt``,
with Transcribe's ``redacted-<job>.json`` and whatever files the job itself reports
(docs/transcribe-results.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.exceptions import ClientError

from pipeline_cli.aws import Clients
from pipeline_cli.ledger import Ledger
from pipeline_cli.readers import head_or_none, read_failure, transcription_job
from transcribe_pipeline.clients import error_code
from transcribe_pipeline.job_listing import pipeline_jobs
from transcribe_pipeline.keys import S3Object, job_name_for
from transcribe_pipeline.layout import (
    JOB_NAME_META,
    failure_key,
    job_result_key,
    redacted_result_key,
    transcript_key,
    unredacted_key,
)
from transcribe_pipeline.stack_outputs import StackOutputs

READABLE_EXTENSIONS = ("txt", "srt", "vtt", "json")
UNREDACTED_EXTENSIONS = ("txt", "json")
JOB_EXTENSIONS = ("json", "srt", "vtt")
_FINISHED = {"COMPLETED", "FAILED"}


@dataclass
class Inventory:
    """What ``forget`` found (and then removed) of one key."""

    key: str
    input_versions: list[str] = field(default_factory=list)  # version ids and delete markers
    ledger_items: list[str] = field(default_factory=list)  # sort keys
    jobs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # output keys (every version of each)
    left: list[str] = field(default_factory=list)  # what could not be removed, and why

    @property
    def empty(self) -> bool:
        """Whether nothing of the key was found."""
        return not (self.input_versions or self.ledger_items or self.jobs or self.outputs)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "key": self.key,
            "input_versions": self.input_versions,
            "ledger_items": self.ledger_items,
            "jobs": self.jobs,
            "outputs": self.outputs,
            "left": self.left,
        }


def inventory(clients: Clients, pipeline: StackOutputs, ledger: Ledger, key: str) -> Inventory:
    """Everything of ``key``: input versions, ledger items, its jobs, existing outputs."""
    s3 = clients("s3")
    found = Inventory(key)
    versions = list(_versions(s3, pipeline.input_bucket, key))
    found.input_versions = [v["VersionId"] for v in versions]
    found.ledger_items = [sort_key for _, sort_key in ledger.item_keys(key)]
    jobs = _jobs(clients, pipeline, ledger, key, versions)
    found.jobs = list(jobs)
    candidates = dict.fromkeys(output_keys(key, found.jobs))
    for job in jobs.values():
        candidates.update(dict.fromkeys(_reported_files(job, pipeline.output_bucket)))
    found.outputs = [k for k in candidates if head_or_none(s3, pipeline.output_bucket, k)]
    return found


def forget(
    clients: Clients,
    pipeline: StackOutputs,
    ledger: Ledger,
    found: Inventory,
    *,
    timeout: float = 600.0,
    interval: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Inventory:
    """Remove what ``found`` lists, in an order that leaves nothing behind.

    1. The input's versions, then the ledger items: from then on, a job that finishes (or a
       start, harvest or sweep already under way) finds neither the media nor an item, so it
       records and announces nothing, and a redelivered upload event finds no object.
    2. The jobs: Transcribe deletes only finished jobs, so a running one is waited for (up to
       ``timeout`` s) before it is deleted; once none runs, Transcribe writes nothing more.
    3. The outputs, every version of each: nothing can write them again.
    4. A last look for anything a writer that had read the key's item before step 1 put back
       meanwhile (inputs, items, outputs), removed too; what remains is reported in ``left``.
    """
    s3, transcribe = clients("s3"), clients("transcribe")
    removed = Inventory(found.key)
    removed.input_versions = _delete_versions(s3, pipeline.input_bucket, found.key)
    for sort_key in found.ledger_items:
        ledger.delete(found.key, sort_key)
    removed.ledger_items = list(found.ledger_items)
    for job in found.jobs:
        why = _delete_job(transcribe, job, timeout=timeout, interval=interval, sleep=sleep)
        if why is None:
            removed.jobs.append(job)
        else:
            removed.left.append(f"job {job}: {why}")
    outputs = list(dict.fromkeys([*output_keys(found.key, found.jobs), *found.outputs]))
    for output in outputs:
        if _delete_versions(s3, pipeline.output_bucket, output):
            removed.outputs.append(output)
    # The last look: a late writer may have put something back.
    removed.input_versions += _delete_versions(s3, pipeline.input_bucket, found.key)
    for _, sort_key in ledger.item_keys(found.key):
        ledger.delete(found.key, sort_key)
        removed.ledger_items.append(sort_key)
    for output in outputs:
        if _delete_versions(s3, pipeline.output_bucket, output) and output not in removed.outputs:
            removed.outputs.append(output)
    return removed


def output_keys(key: str, jobs: Iterable[str]) -> list[str]:
    """Every output key the pipeline or Transcribe may have written for ``key`` and ``jobs``."""
    keys = [transcript_key(key, ext) for ext in READABLE_EXTENSIONS]
    keys += [unredacted_key(key, ext) for ext in UNREDACTED_EXTENSIONS] + [failure_key(key)]
    for job in jobs:
        keys += [job_result_key(job, ext) for ext in JOB_EXTENSIONS]
        keys.append(redacted_result_key(job))
    return keys


def _jobs(
    clients: Clients,
    pipeline: StackOutputs,
    ledger: Ledger,
    key: str,
    versions: list[dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """The key's jobs that still exist (name -> GetTranscriptionJob): named in the ledger, by
    the outputs, or listed.

    Candidates: each ledger item's job, the first attempt's name of each input version (the
    name a pre-ledger upload got), the job the outputs name, and the jobs whose name starts
    with the key's readable stem. A candidate is the key's only when Transcribe shows it reads
    this very object (the stem alone is shared by keys with the same file name).
    """
    s3, transcribe = clients("s3"), clients("transcribe")
    uri = S3Object(pipeline.input_bucket, key).uri
    candidates: dict[str, None] = {}
    for item in ledger.versions(key):
        if item.job:
            candidates[item.job] = None
    for version in versions:
        obj = _object(pipeline.input_bucket, key, version)
        candidates[job_name_for(obj, prefix=pipeline.job_name_prefix)] = None
    text = head_or_none(s3, pipeline.output_bucket, transcript_key(key, "txt"))
    if text and text.get("Metadata", {}).get(JOB_NAME_META):
        candidates[text["Metadata"][JOB_NAME_META]] = None
    record = read_failure(s3, pipeline.output_bucket, failure_key(key))
    if record and record.job:
        candidates[record.job] = None
    stem = job_name_for(S3Object(pipeline.input_bucket, key), prefix=pipeline.job_name_prefix)
    named = stem.rpartition("-")[0]
    if len(named) > len(pipeline.job_name_prefix):  # a readable stem, not the bare prefix
        for summary in pipeline_jobs(transcribe, named):
            candidates[summary["TranscriptionJobName"]] = None
    jobs = {}
    for name in candidates:
        job = transcription_job(transcribe, name)
        if job is not None and job.get("Media", {}).get("MediaFileUri") == uri:
            jobs[name] = job
    return jobs


def _reported_files(job: dict[str, Any], bucket: str) -> list[str]:
    """The output-bucket keys of the files the job reports (transcript, redacted, subtitles)."""
    transcript = job.get("Transcript", {})
    uris = [
        transcript.get("TranscriptFileUri"),
        transcript.get("RedactedTranscriptFileUri"),
        *job.get("Subtitles", {}).get("SubtitleFileUris", []),
    ]
    keys = []
    for uri in uris:
        if not uri:
            continue
        parts = urlsplit(str(uri))
        path = unquote(parts.path).lstrip("/")
        # Path-style (s3.<region>.amazonaws.com/<bucket>/<key>) or virtual-hosted addresses.
        if parts.hostname and parts.hostname.startswith(f"{bucket}."):
            keys.append(path)
        elif path.startswith(f"{bucket}/"):
            keys.append(path[len(bucket) + 1 :])
    return keys


def _object(bucket: str, key: str, version: dict[str, Any]) -> S3Object:
    version_id = version.get("VersionId")
    return S3Object(
        bucket=bucket,
        key=key,
        size=version.get("Size"),
        version_id=None if version_id in (None, "null") else str(version_id),
        etag=str(version.get("ETag", "")).strip('"') or None,
    )


def _delete_job(
    transcribe: Any, name: str, *, timeout: float, interval: float, sleep: Callable[[float], None]
) -> str | None:
    """Delete one job once it has finished; None when gone, else why it is still there."""
    waited = 0.0
    while True:
        job = transcription_job(transcribe, name)
        if job is None:
            return None
        status = job.get("TranscriptionJobStatus")
        if status in _FINISHED:
            try:
                transcribe.delete_transcription_job(TranscriptionJobName=name)
            except ClientError as error:
                if error_code(error) not in {"BadRequestException", "NotFoundException"}:
                    raise
                if transcription_job(transcribe, name) is not None:
                    return str(error)
            return None
        if waited >= timeout:
            return f"still {status} after {timeout:g} s: run `forget` again once it has finished"
        sleep(interval)
        waited += interval


def _versions(s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    """Every version and delete marker of exactly ``key`` (not of keys it is a prefix of)."""
    found = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            if entry["Key"] == key:
                found.append(entry)
    return found


def _delete_versions(s3: Any, bucket: str, key: str) -> list[str]:
    """Delete every version and delete marker of exactly ``key``; their version ids."""
    gone = []
    for version in _versions(s3, bucket, key):
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
        gone.append(str(version["VersionId"]))
    return gone
