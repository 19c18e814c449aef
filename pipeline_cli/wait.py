"""``wait``: follow uploaded object versions until each is transcribed or has failed."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline_cli import last_upload
from pipeline_cli.errors import CliError, ExitCode
from pipeline_cli.readers import Expected, expect, head_or_none, read_failure
from transcribe_pipeline.layout import JOB_NAME_META, failure_key, transcript_key
from transcribe_pipeline.stack_outputs import StackOutputs


class State(enum.StrEnum):
    """The outcome of one input as ``wait`` reports it."""

    PENDING = "pending"
    TRANSCRIBED = "transcribed"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """Where one input stands."""

    key: str
    state: State
    job_name: str
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "key": self.key,
            "state": self.state.value,
            "job": self.job_name,
            "reason": self.reason,
        }


def check(s3: Any, output_bucket: str, expected: Expected) -> Outcome:
    """Whether this very version has its transcript or failure record yet (older ones ignored)."""
    text = head_or_none(s3, output_bucket, transcript_key(expected.key, "txt"))
    if text is not None and _belongs(text, expected):
        return Outcome(expected.key, State.TRANSCRIBED, expected.job_name)
    failure_object = failure_key(expected.key)
    failed = head_or_none(s3, output_bucket, failure_object)
    if failed is not None and _belongs(failed, expected):
        record = read_failure(s3, output_bucket, failure_object)
        reason = (record.reason or "no reason recorded") if record else "unknown"
        return Outcome(expected.key, State.FAILED, expected.job_name, reason)
    return Outcome(expected.key, State.PENDING, expected.job_name)


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
    s3: Any,
    output_bucket: str,
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
            outcome = check(s3, output_bucket, item)
            if outcome.state is State.PENDING:
                continue
            outcomes[item.key] = outcome
            on_outcome(outcome)
        pending = any(o.state is State.PENDING for o in outcomes.values())
        remaining = deadline - time.monotonic()
        if not pending or remaining <= 0:
            return list(outcomes.values())
        time.sleep(min(interval, remaining))


def _belongs(head: dict[str, Any], expected: Expected) -> bool:
    """Whether an output was written for this version rather than an earlier upload of the key."""
    job = head.get("Metadata", {}).get(JOB_NAME_META)
    if job:
        return bool(job == expected.job_name)
    # Rejections never reach Transcribe and carry no job name: written after the upload is ours.
    return bool(head["LastModified"] >= expected.uploaded.replace(microsecond=0))
