"""Announcing a version's outcome: the SNS notice and the EventBridge outcome event, each once.

An outcome's commit sets them PENDING; :func:`announce_pending` claims the item, sends what is
pending, marks each SENT and settles the item (docs/ledger.md, "Exactly once"). The functions
call it right after their commit; the sweeper calls it for open items whose send failed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from transcribe_pipeline.ledger import Ledger, Version
from transcribe_pipeline.ledger_schema import FINAL_STATES, NOTICE, OUTCOME_EVENT, State
from transcribe_pipeline.notify import publish_outcome
from transcribe_pipeline.outcome_events import DETAIL_FIELDS, EVENT_SOURCE, DetailType
from transcribe_pipeline.settings import Settings

DETAIL_TYPES: Mapping[State, DetailType] = {
    State.TRANSCRIBED: DetailType.TRANSCRIPT_READY,
    State.FAILED: DetailType.TRANSCRIPTION_FAILED,
    State.REJECTED: DetailType.INPUT_REJECTED,
}
# The notice's status, as subscribers have read it since before the ledger.
NOTICE_STATUS: Mapping[State, str] = {State.TRANSCRIBED: "COMPLETED", State.FAILED: "FAILED"}


class OutcomeEventError(RuntimeError):
    """EventBridge did not accept the outcome event (FailedEntryCount > 0): retry later."""


def announce_pending(
    version: Version,
    *,
    ledger: Ledger,
    sns: Any,
    events: Any,
    settings: Settings,
    now: datetime | None = None,
) -> tuple[str, ...]:
    """Send the item's pending announcements once each; settle it when nothing is left.

    Returns the announcements this call sent. Another invocation holding the claim means this
    one sends nothing. A send that fails releases the claim and raises: the platform's retry
    or the sweeper (the item stays open) sends it later.
    """
    now = now or datetime.now(UTC)
    if not version.pending:
        if version.is_open and version.state in FINAL_STATES:
            ledger.settle(version)
        return ()
    claimed = ledger.claim(version, now=now)
    if claimed is None:
        return ()
    sent: list[str] = []
    try:
        for announcement in claimed.pending:
            if announcement == NOTICE:
                _send_notice(claimed, sns=sns, settings=settings)
            elif announcement == OUTCOME_EVENT:
                put_outcome_event(claimed, events=events, settings=settings)
            ledger.mark_sent(claimed, announcement)
            sent.append(announcement)
    except BaseException:
        ledger.release(claimed)
        raise
    if not ledger.settle(claimed):
        ledger.release(claimed)
    return tuple(sent)


def _send_notice(version: Version, *, sns: Any, settings: Settings) -> None:
    # Without a topic (removed from the configuration since the outcome) nobody listens: the
    # notice counts as sent.
    status = NOTICE_STATUS.get(version.state)
    if status is None or version.job is None:
        return
    publish_outcome(
        sns,
        settings.topic_arn,
        status=status,
        source_uri=version.source(settings.input_bucket).uri,
        job_name=version.job,
        outputs=version.outputs,
        reason=version.reason,
    )


def outcome_detail(version: Version, settings: Settings) -> dict[str, Any]:
    """The ``detail`` of a version's outcome event: exactly DETAIL_FIELDS."""
    values = {
        "bucket": settings.input_bucket,
        "key": version.key,
        "version_id": version.version_id,
        "sequencer": version.sequencer,
        "state": version.state.value,
        "job": version.job,
        "language": version.language,
        "duration_s": version.duration_s,
        "output_bucket": settings.output_bucket,
        "outputs": list(version.outputs),
        "reason": version.reason,
    }
    return {field: values[field] for field in DETAIL_FIELDS}


def put_outcome_event(version: Version, *, events: Any, settings: Settings) -> None:
    """Put the version's outcome event on the default bus; OutcomeEventError if refused.

    PutEvents answers 200 even when an entry failed: FailedEntryCount says so
    (docs/ledger.md, "AWS facts").
    """
    detail_type = DETAIL_TYPES.get(version.state)
    if detail_type is None:
        return  # superseded or not finished: no outcome to report
    response = events.put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": detail_type.value,
                "Detail": json.dumps(outcome_detail(version, settings), ensure_ascii=False),
            }
        ]
    )
    if response.get("FailedEntryCount", 0):
        entry = (response.get("Entries") or [{}])[0]
        raise OutcomeEventError(
            f"EventBridge refused the {detail_type.value!r} event of {version.key!r}: "
            f"{entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
        )
