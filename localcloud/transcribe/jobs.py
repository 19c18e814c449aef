"""Transcription jobs: records, QUEUED → IN_PROGRESS → COMPLETED/FAILED, quotas, listing.

Jobs live in memory only, on moto's Transcribe backend objects, so moto's reset forgets
them. One lock guards the job tables and every Job's mutable fields; it is never held across
S3, events or recognition calls: those re-enter moto, and other requests must proceed.
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from localcloud.transcribe import s3
from localcloud.transcribe.errors import (
    ConflictError,
    LimitExceededError,
    NotFoundError,
)
from localcloud.transcribe.pagination import decode_token, encode_token

LOG = logging.getLogger(__name__)
# What this module's NextToken values page (localcloud/transcribe/pagination.py).
_TOKEN_KIND = "localcloud-v1"

# Creation order of jobs, process-wide: job tables outlive a service that install()
# replaces, and listings sort on it.
_SEQUENCE = itertools.count(1)
# ListTranscriptionJobs' page size without MaxResults (docs/transcribe-api.md, "Listing").
DEFAULT_PAGE_SIZE = 5


@dataclass
class Job:
    """One transcription job: the request as given and the state the service tracks."""

    account_id: str
    region: str
    name: str
    request: dict[str, Any]
    bucket: str
    key: str
    seq: int
    creation_time: datetime
    status: str = "QUEUED"
    start_time: datetime | None = None
    completion_time: datetime | None = None
    failure_reason: str | None = None
    media_format: str | None = None
    media_sample_rate: int | None = None
    language_code: str | None = None
    language_codes: list[dict[str, Any]] | None = None
    identified_language_score: float | None = None
    # Where the results were written: bucket, JSON key, subtitle keys.
    output_bucket: str | None = None
    transcript_key: str | None = None
    redacted_transcript_key: str | None = None
    subtitle_keys: list[str] = field(default_factory=list)
    # Base URL of service-managed result URIs (the local endpoint).
    service_endpoint: str = "http://localhost:4566"

    @property
    def output_location_type(self) -> str:
        """CUSTOMER_BUCKET with OutputBucketName, else SERVICE_BUCKET."""
        return "CUSTOMER_BUCKET" if self.request.get("OutputBucketName") else "SERVICE_BUCKET"

    def uri(self, key: str) -> str:
        """The URI Transcribe reports for one of the job's result files."""
        assert self.output_bucket is not None
        if self.output_location_type == "CUSTOMER_BUCKET":
            return f"https://s3.{self.region}.amazonaws.com/{self.output_bucket}/{key}"
        # The real service hands out a presigned URL valid for 15 minutes, a fresh one on
        # each Get/List; the local one is signed for the local endpoint.
        return s3.presign(self.service_endpoint, self.region, self.output_bucket, key)

    def _transcript(self) -> dict[str, str] | None:
        """The Transcript structure: the result's URI, the redacted result's with redaction."""
        uris = {
            "TranscriptFileUri": self.transcript_key,
            "RedactedTranscriptFileUri": self.redacted_transcript_key,
        }
        found = {name: self.uri(key) for name, key in uris.items() if key}
        return found or None

    def describe(self) -> dict[str, Any]:
        """The TranscriptionJob structure of Start/GetTranscriptionJob."""
        req = self.request
        out: dict[str, Any] = {
            "TranscriptionJobName": self.name,
            "TranscriptionJobStatus": self.status,
            "LanguageCode": self.language_code,
            "LanguageCodes": self.language_codes,
            "MediaSampleRateHertz": self.media_sample_rate,
            "MediaFormat": self.media_format,
            "Media": req["Media"],
            "Transcript": self._transcript(),
            "StartTime": self.start_time,
            "CreationTime": self.creation_time,
            "CompletionTime": self.completion_time,
            "FailureReason": self.failure_reason,
            # The real service echoes these two settings even when they were not given.
            "Settings": {
                "ChannelIdentification": False,
                "ShowAlternatives": False,
                **req.get("Settings", {}),
            },
            "ModelSettings": req.get("ModelSettings"),
            "JobExecutionSettings": req.get("JobExecutionSettings"),
            "ContentRedaction": req.get("ContentRedaction"),
            "IdentifyLanguage": req.get("IdentifyLanguage"),
            "IdentifyMultipleLanguages": req.get("IdentifyMultipleLanguages"),
            "LanguageOptions": req.get("LanguageOptions"),
            "IdentifiedLanguageScore": self.identified_language_score,
            "Tags": req.get("Tags"),
            "LanguageIdSettings": req.get("LanguageIdSettings"),
            "ToxicityDetection": req.get("ToxicityDetection"),
        }
        if "Subtitles" in req:
            subtitles = dict(req["Subtitles"])
            subtitles.setdefault("OutputStartIndex", 0)
            if self.status == "COMPLETED":
                subtitles["SubtitleFileUris"] = [self.uri(k) for k in self.subtitle_keys]
            out["Subtitles"] = subtitles
        return {k: v for k, v in out.items() if v is not None}

    def summary(self) -> dict[str, Any]:
        """The TranscriptionJobSummary structure of ListTranscriptionJobs."""
        described = self.describe()
        keys = (
            "TranscriptionJobName",
            "CreationTime",
            "StartTime",
            "CompletionTime",
            "LanguageCode",
            "TranscriptionJobStatus",
            "FailureReason",
            "ContentRedaction",
            "ModelSettings",
            "IdentifyLanguage",
            "IdentifyMultipleLanguages",
            "IdentifiedLanguageScore",
            "LanguageCodes",
            "ToxicityDetection",
        )
        out = {k: described[k] for k in keys if k in described}
        out["OutputLocationType"] = self.output_location_type
        return out


@dataclass(frozen=True)
class Outcome:
    """How processing ended: COMPLETED with outputs, or FAILED with a reason."""

    failure_reason: str | None = None
    media_format: str | None = None
    media_sample_rate: int | None = None
    language_code: str | None = None
    language_codes: list[dict[str, Any]] | None = None
    identified_language_score: float | None = None
    output_bucket: str | None = None
    transcript_key: str | None = None
    redacted_transcript_key: str | None = None
    subtitle_keys: tuple[str, ...] = ()


class JobTable:
    """Every job, by account and region, and the transitions of the job state machine."""

    def __init__(self, max_queued_jobs: int, max_concurrent_jobs: int) -> None:
        self._max_queued = max_queued_jobs
        self._max_concurrent = max_concurrent_jobs
        self._lock = threading.Lock()

    @staticmethod
    def _table(account_id: str, region: str) -> dict[str, Job]:
        """The jobs of one account and region (call with the lock held).

        The table lives on moto's Transcribe backend object, so moto's reset (the
        /moto-api/reset endpoint, or a new mock) forgets the jobs with the rest of the
        state; a worker then finds its job gone and drops the result.
        """
        from moto.transcribe.models import transcribe_backends

        backend = transcribe_backends[account_id][region]
        table: dict[str, Job] | None = getattr(backend, "localcloud_jobs", None)
        if table is None:
            table = {}
            setattr(backend, "localcloud_jobs", table)  # noqa: B010 - undeclared on moto's type
        return table

    def _is_current(self, job: Job) -> bool:
        """Whether the job is still in its table (not deleted, not reset; lock held)."""
        return self._table(job.account_id, job.region).get(job.name) is job

    def is_current(self, job: Job) -> bool:
        """Whether the job is still in its table: not deleted, not forgotten by a reset."""
        with self._lock:
            return self._is_current(job)

    def check_name_free(self, account_id: str, region: str, name: str) -> None:
        """Raise ConflictError when a job of that name exists."""
        with self._lock:
            if name in self._table(account_id, region):
                raise ConflictError()

    def add(
        self,
        account_id: str,
        region: str,
        params: dict[str, Any],
        *,
        bucket: str,
        key: str,
        service_endpoint: str,
    ) -> tuple[Job, dict[str, Any]]:
        """Record a new QUEUED job (ConflictError, LimitExceededError); it and its description."""
        name = params["TranscriptionJobName"]
        deferred = bool((params.get("JobExecutionSettings") or {}).get("AllowDeferredExecution"))
        now = datetime.now(UTC)
        with self._lock:
            table = self._table(account_id, region)
            if name in table:
                raise ConflictError()
            mine = list(table.values())
            queued = sum(j.status == "QUEUED" for j in mine)
            active = sum(j.status in ("QUEUED", "IN_PROGRESS") for j in mine)
            if queued >= self._max_queued:
                raise LimitExceededError(
                    f"You have reached the limit of {self._max_queued} queued "
                    "transcription jobs. Wait for jobs to finish and try your request again."
                )
            if not deferred and active >= self._max_concurrent:
                raise LimitExceededError(
                    f"You have reached the limit of {self._max_concurrent} "
                    "concurrent transcription jobs. Set JobExecutionSettings."
                    "AllowDeferredExecution to queue jobs, or try again later."
                )
            job = Job(
                account_id=account_id,
                region=region,
                name=name,
                request=params,
                bucket=bucket,
                key=key,
                seq=next(_SEQUENCE),
                creation_time=now,
                media_format=params.get("MediaFormat"),
                media_sample_rate=params.get("MediaSampleRateHertz"),
                language_code=params.get("LanguageCode"),
                service_endpoint=service_endpoint,
            )
            table[name] = job
            return job, job.describe()

    def describe(self, account_id: str, region: str, name: str) -> dict[str, Any]:
        """The TranscriptionJob structure of a job; NotFoundError when there is none."""
        with self._lock:
            job = self._table(account_id, region).get(name)
            if job is None:
                raise NotFoundError()
            return job.describe()

    def page(
        self,
        account_id: str,
        region: str,
        *,
        status: str | None,
        name_contains: str | None,
        next_token: str | None,
        max_results: int | None,
    ) -> dict[str, Any]:
        """One page of ListTranscriptionJobs: newest first, with a NextToken if more follow."""
        after = decode_token(_TOKEN_KIND, next_token) if next_token else None
        limit = max_results or DEFAULT_PAGE_SIZE
        needle = name_contains.lower() if name_contains else None  # not case sensitive
        with self._lock:
            jobs = sorted(
                (
                    j
                    for j in self._table(account_id, region).values()
                    if (status is None or j.status == status)
                    and (needle is None or needle in j.name.lower())
                    and (after is None or j.seq < after)
                ),
                key=lambda j: j.seq,
                reverse=True,
            )
            page = jobs[:limit]
            response: dict[str, Any] = {"TranscriptionJobSummaries": [j.summary() for j in page]}
        if status:
            response["Status"] = status
        if len(jobs) > limit:
            response["NextToken"] = encode_token(_TOKEN_KIND, page[-1].seq)
        return response

    def delete(self, account_id: str, region: str, name: str) -> None:
        """Forget a job (a running one is abandoned); NotFoundError when there is none."""
        with self._lock:
            if self._table(account_id, region).pop(name, None) is None:
                raise NotFoundError()

    def snapshot(self, account_id: str, region: str) -> list[Job]:
        """Copies of the jobs of one account and region."""
        with self._lock:
            return [replace(j) for j in self._table(account_id, region).values()]

    def begin(self, job: Job) -> bool:
        """QUEUED → IN_PROGRESS; False when the job was deleted while queued."""
        with self._lock:
            if not self._is_current(job):
                return False
            job.status = "IN_PROGRESS"
            job.start_time = datetime.now(UTC)
        LOG.info("job %s in progress", job.name)
        return True

    def finish(self, job: Job, outcome: Outcome) -> Job | None:
        """IN_PROGRESS → COMPLETED or FAILED; a copy of the ended job, None if it was deleted."""
        with self._lock:
            if not self._is_current(job):
                LOG.info("job %s was deleted while running; result dropped", job.name)
                return None
            job.status = "FAILED" if outcome.failure_reason else "COMPLETED"
            job.completion_time = datetime.now(UTC)
            job.failure_reason = outcome.failure_reason
            job.media_format = outcome.media_format or job.media_format
            job.media_sample_rate = outcome.media_sample_rate or job.media_sample_rate
            job.language_code = outcome.language_code or job.language_code
            job.language_codes = outcome.language_codes
            job.identified_language_score = outcome.identified_language_score
            job.output_bucket = outcome.output_bucket
            job.transcript_key = outcome.transcript_key
            job.redacted_transcript_key = outcome.redacted_transcript_key
            job.subtitle_keys = list(outcome.subtitle_keys)
            ended = replace(job)
        LOG.info(
            "job %s %s%s",
            job.name,
            ended.status,
            f": {outcome.failure_reason}" if outcome.failure_reason else "",
        )
        return ended
