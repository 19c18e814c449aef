"""The outcome events the pipeline puts on the default EventBridge bus: its public contract.

One event per settled upload version, so that other applications subscribe with a rule
instead of polling the buckets (docs/outcome-events.md documents the shape for them).
"""

from __future__ import annotations

import enum

# The `source` of every outcome event. Not "aws.*": EventBridge reserves those for AWS.
EVENT_SOURCE = "transcription-pipeline"


class DetailType(enum.StrEnum):
    """The `detail-type` of an outcome event: which outcome it reports."""

    TRANSCRIPT_READY = "Transcript Ready"
    TRANSCRIPTION_FAILED = "Transcription Failed"
    INPUT_REJECTED = "Input Rejected"


# The fields of `detail`, each present in every event (null when it does not apply).
DETAIL_FIELDS = (
    "bucket",  # the input bucket
    "key",  # the source key, decoded
    "version_id",  # S3's version id of the upload (null for an unversioned object)
    "sequencer",  # S3's sequencer of the upload's event, left-padded to 64 hex digits
    "state",  # the ledger state: TRANSCRIBED, FAILED or REJECTED
    "job",  # the Transcribe job name (null when rejected before a job)
    "language",  # the job's language code (null when unknown)
    "duration_s",  # audio seconds (null when unknown)
    "output_bucket",  # where the outputs are
    "outputs",  # the output keys written for this version (transcripts/ or failed/)
    "reason",  # why it failed or was rejected (null when transcribed)
)
