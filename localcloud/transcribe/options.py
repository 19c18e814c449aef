"""How the local Transcribe behaves: workers, quotas, limits, isolation of the recognizer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from transcribe_pipeline.limits import (
    MAX_CONCURRENT_JOBS,
    MAX_QUEUED_JOBS,
    START_CALLS_PER_SECOND,
)


@dataclass(frozen=True)
class TranscribeOptions:
    """How the local Transcribe engine behaves; the defaults suit a 2-core laptop."""

    # Jobs transcribed at the same time; the rest wait QUEUED. Each worker owns one
    # recognizer process (~400 MB with the model) and shares the cores with the others.
    concurrency: int = 2
    # AWS's default quotas (docs/transcribe-api.md, "Quotas"): queued jobs with deferred
    # execution, jobs running at once.
    max_queued_jobs: int = MAX_QUEUED_JOBS
    max_concurrent_jobs: int = MAX_CONCURRENT_JOBS
    # The StartTranscriptionJob rate quota: beyond it, calls are refused with
    # LimitExceededException and its documented "too many requests" text. None: no limit.
    start_calls_per_second: float | None = float(START_CALLS_PER_SECOND)
    # The real minimum media duration (docs/transcribe-api.md, "Quotas").
    min_media_seconds: float = 0.5
    # Generous: recognition runs at ~0.2x real time, and a 4 h file must not time out.
    job_timeout_seconds: float = 3600.0
    # Base of the URIs of service-managed output (jobs without OutputBucketName).
    endpoint_url: str = "http://localhost:4566"
    # "process": recognizer child processes (keeps the server responsive); "thread":
    # recognize in the worker thread (no subprocess; for debugging).
    isolation: Literal["process", "thread"] = "process"
    # Real Transcribe writes no subtitle file when the media has no speech; True writes
    # valid cue-less files instead.
    empty_subtitles_on_silence: bool = False
    # Fail a job whose MediaFormat contradicts the detected container, as AWS does.
    check_media_format: bool = True
