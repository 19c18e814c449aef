"""``wait``: follow uploaded object versions in the ledger until each item is final."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline_cli import last_upload
from pipeline_cli.errors import CliError, ExitCode
from pipeline_cli.ledger import Ledger
from pipeline_cli.readers import Expected, expect
from transcribe_pipeline.ledger_schema import State as LedgerState
from transcribe_pipeline.stack_outputs import StackOutputs


class State(enum.StrEnum):
    """The outcome of one input as ``wait`` reports it."""

    PENDING = "pending"
    TRANSCRIBED = "transcribed"
    FAILED = "failed"  # the job failed, or the input was rejected
    SUPERSEDED = "superseded"  # a newer upload of the key decides; this one wrote nothing


# How each final ledger state ends a wait (reprocess sets a final item back to RECEIVED).
_ENDS = {
    LedgerState.TRANSCRIBED: State.TRANSCRIBED,
    LedgerState.FAILED: State.FAILED,
    LedgerState.REJECTED: State.FAILED,
    LedgerState.SUPERSEDED: State.SUPERSEDED,
}
_SUPERSEDED_REASON = "a newer upload of the key superseded this version before it was transcribed"


@dataclass(frozen=True)
class Outcome:
    """Where one input stands."""

    key: str
    state: State
    job_name: str | None
    reason: str | None = None

    @property
    def ended_badly(self) -> bool:
        """Whether the input ended without its transcript."""
        return self.state in {State.FAILED, State.SUPERSEDED}

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "key": self.key,
            "state": self.state.value,
            "job": self.job_name,
            "reason": self.reason,
        }


def check(ledger: Ledger, expected: Expected) -> Outcome:
    """Where this very version's ledger item stands (one Query of the key's partition)."""
    item = ledger.version(expected.key, expected.version_id)
    if item is None or item.state not in _ENDS:
        job = item.job if item is not None and item.job else expected.job_name
        return Outcome(expected.key, State.PENDING, job)
    state = _ENDS[item.state]
    reason = item.reason if state is State.FAILED else None
    if state is State.FAILED and not reason:
        reason = "no reason recorded"
    if state is State.SUPERSEDED:
        reason = _SUPERSEDED_REASON
    return Outcome(expected.key, state, item.job, reason)


def awaited(s3: Any, pipeline: StackOutputs, keys: Sequence[str] | None) -> list[Expected]:
    """The versions to wait for: the current ones of ``keys``, else the last upload's."""
    if keys:
        return [expect(s3, pipeline, key) for key in dict.fromkeys(keys)]
    remembered = last_upload.recall(pipeline.input_bucket)
    if not remembered:
        raise CliError(
            "Nothing to wait for: no upload remembered for this pipeline.",
            ExitCode.USAGE,
            hint="Name the input keys, or upload first.",
        )
    return [expect(s3, pipeline, u.key, u.version_id) for u in remembered]


def follow(
    ledger: Ledger,
    expected: Sequence[Expected],
    *,
    timeout: float,
    interval: float,
    on_outcome: Callable[[Outcome], None],
) -> list[Outcome]:
    """Check every ``interval`` s until no input is pending or ``timeout`` s have passed.

    ``on_outcome`` hears of each input as it is transcribed or fails; the answer holds every
    input's outcome, in the order given (PENDING for those the timeout caught).
    """
    outcomes = {e.key: Outcome(e.key, State.PENDING, e.job_name) for e in expected}
    deadline = time.monotonic() + timeout
    while True:
        for item in expected:
            if outcomes[item.key].state is not State.PENDING:
                continue
            outcome = check(ledger, item)
            if outcome.state is State.PENDING:
                continue
            outcomes[item.key] = outcome
            on_outcome(outcome)
        pending = any(o.state is State.PENDING for o in outcomes.values())
        remaining = deadline - time.monotonic()
        if not pending or remaining <= 0:
            return list(outcomes.values())
        time.sleep(min(interval, remaining))
