"""The functions' environment variables: the names the stack sets and ``Settings`` reads.

One home for each name, imported by both sides (``stacks/`` and ``settings.py``), with the
sweeper's tunables' defaults and ranges, which the typed configuration (synth) and ``Settings``
(cold start) both check.
"""

from __future__ import annotations

from dataclasses import dataclass

INPUT_BUCKET = "INPUT_BUCKET"
OUTPUT_BUCKET = "OUTPUT_BUCKET"
JOB_NAME_PREFIX = "JOB_NAME_PREFIX"
LANGUAGE_CODE = "LANGUAGE_CODE"
IDENTIFY_LANGUAGE = "IDENTIFY_LANGUAGE"
LANGUAGE_OPTIONS = "LANGUAGE_OPTIONS"
SHOW_SPEAKER_LABELS = "SHOW_SPEAKER_LABELS"
MAX_SPEAKER_LABELS = "MAX_SPEAKER_LABELS"
SUBTITLE_FORMATS = "SUBTITLE_FORMATS"
VOCABULARY_NAME = "VOCABULARY_NAME"
TOPIC_ARN = "TOPIC_ARN"
# The ledger table's name (transcribe_pipeline/ledger_schema.py, docs/ledger.md).
LEDGER_TABLE = "LEDGER_TABLE"
# The subtitle_style setting, as the JSON of subtitle_style.SubtitleStyle.
SUBTITLE_STYLE = "SUBTITLE_STYLE"
# The profiles setting: a JSON list of profiles.Profile (transcribe_pipeline/profiles.py).
PROFILES = "PROFILES"
# The start function's: the data-access role Transcribe assumes, the KMS key of its results,
# its share of the start quota and its queue.
DATA_ACCESS_ROLE_ARN = "DATA_ACCESS_ROLE_ARN"
OUTPUT_ENCRYPTION_KMS_KEY_ID = "OUTPUT_ENCRYPTION_KMS_KEY_ID"
START_RATE_PER_SECOND = "START_RATE_PER_SECOND"
START_QUEUE_URL = "START_QUEUE_URL"
# The namespace of the functions' own metrics (the start function's and the sweeper's).
METRICS_NAMESPACE = "METRICS_NAMESPACE"
# The sweeper's tunables.
SWEEP_LOOKBACK_HOURS = "SWEEP_LOOKBACK_HOURS"
SWEEP_GRACE_MINUTES = "SWEEP_GRACE_MINUTES"
STUCK_AFTER_HOURS = "STUCK_AFTER_HOURS"


@dataclass(frozen=True)
class IntegerRange:
    """An integer setting's default and the inclusive range it must lie in."""

    default: int
    low: int
    high: int

    def __contains__(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
        )

    @property
    def allowed(self) -> str:
        """The range in words, for error messages: ``an integer 1-720``."""
        return f"an integer {self.low}-{self.high}"


# How far back the sweeper looks for finished jobs without outputs (a sweep that fails is
# covered by the next one as long as the job is still in this window).
SWEEP_LOOKBACK_HOURS_RANGE = IntegerRange(default=24, low=1, high=720)
# How long after a job finished the sweeper leaves it to its state-change event.
SWEEP_GRACE_MINUTES_RANGE = IntegerRange(default=2, low=0, high=60)
# How long a job may stay QUEUED or IN_PROGRESS before the sweeper reports it as stuck.
STUCK_AFTER_HOURS_RANGE = IntegerRange(default=6, low=1, high=720)
