"""The ledger's schema: one DynamoDB item per upload version, and one head item per key.

The one home of this contract (docs/ledger.md explains it for people): the stack declares the
table and its indexes from these names, the functions write by them, the sweeper and the
operator CLI read by them.

Items of one source key share its partition:

- the **head** item (sort key ``HEAD``) holds the sequencer and version id of the newest
  version of the key the pipeline has seen: the version that decides what ``transcripts/``
  and ``failed/`` show;
- a **version** item (sort key ``V#<padded sequencer>``) per upload version: its state, job,
  times, language, duration, outputs, reason and attempts.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Any

# The table's primary key: the source object's key (decoded, exactly as S3 stores it) and the
# item's kind within that key.
PARTITION_KEY = "pk"
SORT_KEY = "sk"
HEAD_SORT_KEY = "HEAD"
VERSION_SORT_KEY_PREFIX = "V#"

# Attributes of version items (and, for SEQUENCER and VERSION_ID, of the head item).
SEQUENCER = "sequencer"  # S3's sequencer, left-padded (padded_sequencer): compares as text
VERSION_ID = "version_id"  # S3's version id; absent for an unversioned object
ETAG = "etag"
SIZE = "size"  # bytes, from the event
STATE = "state"  # a State value
JOB = "job"  # the Transcribe job name of the latest attempt
ATTEMPT = "attempt"  # 1 for the upload's own job, +1 for each `reprocess`
PROFILE = "profile"  # the prefix of the profile the key matched; "" for the top-level settings
RECEIVED_AT = "received_at"  # ISO-8601 UTC times, as written by iso_time()
STARTED_AT = "started_at"
FINISHED_AT = "finished_at"
LANGUAGE = "language"  # the job's language code (identified or fixed)
DURATION_SECONDS = "duration_s"  # audio seconds, from the result's last timed item
OUTPUTS = "outputs"  # list of the output keys written for this version
REASON = "reason"  # why REJECTED or FAILED, in words for people
NOTICE = "notice"  # an Announcement value: the SNS notice of the outcome (absent: no topic)
OUTCOME_EVENT = "outcome_event"  # an Announcement value: the EventBridge outcome event
CLAIM_UNTIL = "claim_until"  # ISO time until which one invocation holds the announcements

# Sparse index of open items: present while a version awaits something (its job to start or
# finish, or an announcement to be sent), removed in the same write that settles it. The
# sweeper reads it oldest first, so its cost follows the open work, not the history.
OPEN_INDEX = "open-items"
OPEN = "open"  # index partition key: always OPEN_VALUE while open, absent once settled
OPEN_VALUE = "open"
OPEN_SINCE = "open_since"  # index sort key: ISO time the item (last) became open

# Index of version items by state, sorted by source key: `list --state S --prefix P` is one
# Query (begins_with on the sort key), fast at any number of items.
STATE_INDEX = "by-state"
STATE_INDEX_SORT_KEY = "source_key"  # the source key again (an index needs its own attribute)

# S3 sequencers are hexadecimal strings of varying length; left-padded with zeros to this
# width they compare as text (docs/ledger.md, "Ordering").
SEQUENCER_WIDTH = 64
# The sequencer given to items written for objects uploaded before the ledger existed
# (`reprocess --backfill`): older than any real event, so the next upload supersedes them.
BACKFILL_SEQUENCER = "0" * SEQUENCER_WIDTH
_HEX = re.compile(r"[0-9A-Fa-f]{1,64}")


class State(enum.StrEnum):
    """Where one upload version is (docs/ledger.md, "State machine")."""

    RECEIVED = "RECEIVED"  # its event was seen; no job started yet
    REJECTED = "REJECTED"  # refused before or by StartTranscriptionJob (failed/ record)
    STARTED = "STARTED"  # its job runs
    TRANSCRIBED = "TRANSCRIBED"  # its job completed and the readable outputs were written
    FAILED = "FAILED"  # its job failed (failed/ record)
    SUPERSEDED = "SUPERSEDED"  # a newer version of the key decides what shows; nothing written


# States nothing happens after (except `reprocess`, which starts a new attempt).
FINAL_STATES = frozenset({State.REJECTED, State.TRANSCRIBED, State.FAILED, State.SUPERSEDED})
# The transitions the functions may make; anything else is refused by a conditional write.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.RECEIVED: frozenset({State.REJECTED, State.STARTED, State.SUPERSEDED}),
    State.STARTED: frozenset({State.TRANSCRIBED, State.FAILED, State.SUPERSEDED}),
    State.REJECTED: frozenset({State.RECEIVED}),  # reprocess
    State.TRANSCRIBED: frozenset({State.RECEIVED}),  # reprocess
    State.FAILED: frozenset({State.RECEIVED}),  # reprocess
    State.SUPERSEDED: frozenset(),
}


class Announcement(enum.StrEnum):
    """Whether an outcome's notice or event is still to be sent."""

    PENDING = "PENDING"
    SENT = "SENT"


def padded_sequencer(sequencer: str) -> str:
    """S3's sequencer, left-padded to SEQUENCER_WIDTH upper-case hex digits; ValueError if not."""
    if not _HEX.fullmatch(sequencer):
        raise ValueError(f"Not an S3 sequencer (1-{SEQUENCER_WIDTH} hex digits): {sequencer!r}")
    return sequencer.upper().rjust(SEQUENCER_WIDTH, "0")


def version_sort_key(sequencer: str) -> str:
    """The sort key of a version item: ``V#`` and the padded sequencer."""
    return f"{VERSION_SORT_KEY_PREFIX}{padded_sequencer(sequencer)}"


def iso_time(moment: datetime) -> str:
    """A time as the ledger writes it: UTC, fixed width, so that times compare as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def table_keys_and_indexes() -> dict[str, Any]:
    """The table's key, index and attribute definitions, as CreateTable takes them.

    The same shape as CloudFormation's ``AWS::DynamoDB::Table`` properties: what tests, the
    local cloud's checks and the burst model create; the stack declares the same with CDK
    (stacks/ledger.py, checked against this in tests/infra/test_ledger.py).
    """
    indexed = (PARTITION_KEY, SORT_KEY, OPEN, OPEN_SINCE, STATE, STATE_INDEX_SORT_KEY)
    return {
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in indexed],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": partition, "KeyType": "HASH"},
                    {"AttributeName": sort, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, partition, sort in (
                (OPEN_INDEX, OPEN, OPEN_SINCE),
                (STATE_INDEX, STATE, STATE_INDEX_SORT_KEY),
            )
        ],
    }
