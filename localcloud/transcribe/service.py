"""The local Transcribe's batch operations: Start, Get, List and DeleteTranscriptionJob, and
the vocabulary filter and language model operations moto lacks (`resources`).

StartTranscriptionJob, in the order the checks run:

* more than `TranscribeOptions.start_calls_per_second` calls per second (25, the default
  quota) are refused with ``LimitExceededException``;
* the request is validated (`validation`): ``BadRequestException`` in AWS's wording, the
  model's constraints, then the cross-field rules, then the feature combinations AWS
  refuses (redaction, toxicity, language models; docs/transcribe-features.md), then the
  named vocabularies, vocabulary filters and language models must exist;
* a job name already in use raises ``ConflictException``;
* the media object is checked at start: a missing bucket or key is rejected with
  ``BadRequestException`` ("The S3 URI that you provided can't be accessed..."), so the
  caller learns at once. That is a choice: the real service reports some inaccessible
  media this way and some as a FAILED job. Media that disappears after the start FAILS
  the job with the same reason (`engine`);
* the job quotas (`jobs`): more than `max_queued_jobs` QUEUED jobs (more than
  `max_concurrent_jobs` active ones without deferred execution) raise
  ``LimitExceededException``;
* the job is recorded QUEUED and handed to the worker pool (`engine`).

Get and Delete of an unknown job raise ``NotFoundException`` (the error GetTranscriptionJob
models).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from localcloud.transcribe import resources, s3
from localcloud.transcribe.engine import WorkerPool
from localcloud.transcribe.errors import (
    MEDIA_ACCESS_MESSAGE,
    START_RATE_MESSAGE,
    BadRequestError,
    LimitExceededError,
)
from localcloud.transcribe.jobs import Job, JobTable
from localcloud.transcribe.options import TranscribeOptions
from localcloud.transcribe.validation import (
    check_feature_rules,
    check_start_rules,
    check_vocabulary,
    parse_media_uri,
    validate_request,
)

LOG = logging.getLogger(__name__)


class _TokenBucket:
    """``rate`` calls per second, bursts of up to ``rate`` calls (a one-second bucket)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._clock = rate, clock
        self._tokens, self._at = max(rate, 1.0), clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take a token if one is there."""
        with self._lock:
            now = self._clock()
            self._tokens = min(max(self._rate, 1.0), self._tokens + (now - self._at) * self._rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class TranscribeService:
    """The Transcribe API: a job table, and workers that transcribe in the background."""

    def __init__(self, options: TranscribeOptions | None = None) -> None:
        self.options = options or TranscribeOptions()
        if self.options.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        rate = self.options.start_calls_per_second
        self._start_tokens = _TokenBucket(rate) if rate is not None else None
        self._jobs = JobTable(self.options.max_queued_jobs, self.options.max_concurrent_jobs)
        self._workers = WorkerPool(self.options, self._jobs)

    def start(self) -> None:
        """Start the worker threads."""
        self._workers.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the workers; a job still running is abandoned (its recognizer is killed)."""
        self._workers.shutdown(timeout)

    def start_job(self, account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        """StartTranscriptionJob."""
        if self._start_tokens is not None and not self._start_tokens.take():
            raise LimitExceededError(START_RATE_MESSAGE)
        validate_request("StartTranscriptionJob", params)
        check_start_rules(params)
        check_feature_rules(params)
        check_vocabulary(account_id, region, params)
        bucket, key = parse_media_uri(params["Media"]["MediaFileUri"])
        name = params["TranscriptionJobName"]
        # A duplicate name is a conflict whatever became of the media (a redelivered start
        # must learn that its job exists); the media check itself runs outside the lock.
        self._jobs.check_name_free(account_id, region, name)
        if not s3.media_exists(account_id, region, bucket, key):
            raise BadRequestError(MEDIA_ACCESS_MESSAGE)
        job, described = self._jobs.add(
            account_id,
            region,
            params,
            bucket=bucket,
            key=key,
            service_endpoint=self.options.endpoint_url,
        )
        self._workers.submit(job)
        LOG.info("job %s queued (s3://%s/%s)", name, bucket, key)
        return {"TranscriptionJob": described}

    def get_job(self, account_id: str, region: str, name: str) -> dict[str, Any]:
        """GetTranscriptionJob."""
        validate_request("GetTranscriptionJob", {"TranscriptionJobName": name})
        return {"TranscriptionJob": self._jobs.describe(account_id, region, name)}

    def list_jobs(
        self,
        account_id: str,
        region: str,
        *,
        status: str | None = None,
        name_contains: str | None = None,
        next_token: str | None = None,
        max_results: int | None = None,
    ) -> dict[str, Any]:
        """ListTranscriptionJobs: newest first, 5 per page unless MaxResults says otherwise."""
        request = {
            "Status": status,
            "JobNameContains": name_contains,
            "NextToken": next_token,
            "MaxResults": max_results,
        }
        validate_request(
            "ListTranscriptionJobs", {k: v for k, v in request.items() if v is not None}
        )
        return self._jobs.page(
            account_id,
            region,
            status=status,
            name_contains=name_contains,
            next_token=next_token,
            max_results=max_results,
        )

    def delete_job(self, account_id: str, region: str, name: str) -> None:
        """DeleteTranscriptionJob (a running job is abandoned: its results are not written)."""
        validate_request("DeleteTranscriptionJob", {"TranscriptionJobName": name})
        self._jobs.delete(account_id, region, name)

    # --- vocabulary filters and language models (`resources`) ---

    def create_vocabulary_filter(
        self, account_id: str, region: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """CreateVocabularyFilter."""
        validate_request("CreateVocabularyFilter", params)
        return resources.create_vocabulary_filter(
            account_id, region, params, self.options.endpoint_url
        )

    def get_vocabulary_filter(self, account_id: str, region: str, name: str) -> dict[str, Any]:
        """GetVocabularyFilter."""
        validate_request("GetVocabularyFilter", {"VocabularyFilterName": name})
        return resources.get_vocabulary_filter(account_id, region, name, self.options.endpoint_url)

    def list_vocabulary_filters(
        self, account_id: str, region: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """ListVocabularyFilters."""
        validate_request("ListVocabularyFilters", params)
        return resources.list_vocabulary_filters(
            account_id,
            region,
            name_contains=params.get("NameContains"),
            next_token=params.get("NextToken"),
            max_results=params.get("MaxResults"),
        )

    def delete_vocabulary_filter(self, account_id: str, region: str, name: str) -> None:
        """DeleteVocabularyFilter."""
        validate_request("DeleteVocabularyFilter", {"VocabularyFilterName": name})
        resources.delete_vocabulary_filter(account_id, region, name)

    def create_language_model(
        self, account_id: str, region: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """CreateLanguageModel."""
        validate_request("CreateLanguageModel", params)
        return resources.create_language_model(account_id, region, params)

    def describe_language_model(self, account_id: str, region: str, name: str) -> dict[str, Any]:
        """DescribeLanguageModel."""
        validate_request("DescribeLanguageModel", {"ModelName": name})
        return resources.describe_language_model(account_id, region, name)

    def list_language_models(
        self, account_id: str, region: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """ListLanguageModels."""
        validate_request("ListLanguageModels", params)
        return resources.list_language_models(
            account_id,
            region,
            status=params.get("StatusEquals"),
            name_contains=params.get("NameContains"),
            next_token=params.get("NextToken"),
            max_results=params.get("MaxResults"),
        )

    def delete_language_model(self, account_id: str, region: str, name: str) -> None:
        """DeleteLanguageModel."""
        validate_request("DeleteLanguageModel", {"ModelName": name})
        resources.delete_language_model(account_id, region, name)

    def jobs(self, account_id: str, region: str) -> list[Job]:
        """A snapshot of the jobs of one account and region (for diagnostics and tests)."""
        return self._jobs.snapshot(account_id, region)
