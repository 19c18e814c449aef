"""The burst model's knobs, its counts, and the settings the real code runs with."""

from __future__ import annotations

from dataclasses import dataclass, field

from stacks.config import PipelineConfig
from transcribe_pipeline.limits import START_CALLS_PER_SECOND
from transcribe_pipeline.settings import Settings
from transcribe_pipeline.throttling import START_ATTEMPTS

# How far back the jobs of ``finished_in_lookback`` finished before the burst: a day.
LOOKBACK_SECONDS = 24 * 3600.0
# The exit status of a run that finished but missed a goal (1 is Python's for a crash).
GOAL_MISSED = 3
# The start function's concurrent batches (the event source mapping's maximum concurrency).
MAX_CONCURRENT_BATCHES = PipelineConfig().starter_concurrency
SETTINGS = Settings(
    input_bucket="media-in",
    output_bucket="media-out",
    job_name_prefix="tp-",
    language_code="en-US",
    identify_language=False,
    language_options=(),
    show_speaker_labels=False,
    max_speaker_labels=2,
    subtitle_formats=("srt",),
    vocabulary_name=None,
    data_access_role_arn="arn:aws:iam::123456789012:role/TranscribeDataAccess",
    topic_arn=None,
)


@dataclass(frozen=True)
class Scenario:
    """The knobs of one run."""

    uploads: int = 10_000
    seed: int = 7
    max_attempts: int = START_ATTEMPTS
    pacing: bool = True
    # The stack's start_jobs_per_second (each of the 5 concurrent batches paces at a fifth).
    start_jobs_per_second: float = START_CALLS_PER_SECOND
    # StartTranscriptionJob calls per second other applications in the account make: they use
    # the same quota, leaving START_CALLS_PER_SECOND - other_tps for the pipeline.
    other_tps: float = 0.0
    upload_window: float = 10.0
    call_latency: float = 0.12
    job_median: float = 180.0
    job_sigma: float = 0.6
    duplicate_rate: float = 0.02
    drop_rate: float = 0.01
    too_long_rate: float = 0.003
    failed_job_rate: float = 0.005
    event_delay: float = 1.0
    sweep_interval: float = 900.0
    # Jobs of this pipeline that finished (and were harvested) within the day before the burst:
    # Transcribe lists them, newest first, after the burst's own.
    finished_in_lookback: int = 0


@dataclass
class BurstResult:
    """What one run counted."""

    uploads: int = 0
    sqs_messages: int = 0
    jobs_started: int = 0
    duplicate_jobs: int = 0
    already_started: int = 0
    # Duplicate events the ledger answered: the version was started (or refused) already.
    already_handled: int = 0
    throttled_calls: int = 0
    requeued_items: int = 0
    invocation_timeouts: int = 0
    dead_lettered: int = 0
    rejected_at_start: int = 0
    transcripts: int = 0
    failure_records: int = 0
    lost: int = 0
    events_dropped: int = 0
    events_duplicated: int = 0
    harvested_by_event: int = 0
    harvested_by_sweeper: int = 0
    harvested_by_both: int = 0
    # Outcome events put on EventBridge, and those put more than once for one version.
    outcome_events: int = 0
    duplicate_outcome_events: int = 0
    # Ledger items still open (awaiting a start, a harvest or an announcement) at the end.
    open_items_left: int = 0
    sweeps: int = 0
    sweeps_timed_out: int = 0
    longest_sweep_s: float = 0.0
    most_calls_in_a_sweep: int = 0
    # From the finish of a job whose completion event was lost to its harvest by the sweeper;
    # None when one was never harvested.
    lost_event_max_delay_s: float | None = 0.0
    lost_events_unharvested: int = 0
    max_queued_jobs: int = 0
    time_to_start_s: float = 0.0
    floor_s: float = 0.0
    ratio: float = 0.0
    time_to_drain_s: float = 0.0
    wall_s: float = 0.0
    lost_keys: list[str] = field(default_factory=list)
