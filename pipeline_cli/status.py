"""``status``: the pipeline's queue depths and upload versions by state, or one key's versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline_cli.aws import Clients
from pipeline_cli.errors import CliError, ExitCode
from pipeline_cli.ledger import Ledger, VersionItem
from transcribe_pipeline.ledger_schema import State
from transcribe_pipeline.stack_outputs import StackOutputs

_QUEUE_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@dataclass(frozen=True)
class QueueDepth:
    """Messages in one queue."""

    name: str
    visible: int
    in_flight: int
    delayed: int


@dataclass(frozen=True)
class Status:
    """The ``status`` command's findings."""

    pipeline: StackOutputs
    where: str
    queues: list[QueueDepth]
    versions: dict[str, int]  # ledger state -> version items

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "stack": self.pipeline.stack,
            "stack_status": self.pipeline.status,
            "where": self.where,
            "input_bucket": self.pipeline.input_bucket,
            "output_bucket": self.pipeline.output_bucket,
            "job_name_prefix": self.pipeline.job_name_prefix,
            "ledger_table": self.pipeline.ledger_table,
            "queues": {
                q.name: {"visible": q.visible, "in_flight": q.in_flight, "delayed": q.delayed}
                for q in self.queues
            },
            "versions": self.versions,
        }


def pipeline_status(clients: Clients, pipeline: StackOutputs, ledger: Ledger) -> Status:
    """Queue depths and the ledger's upload versions counted by state (empty states left out)."""
    queues = {
        "StartQueue": pipeline.start_queue_url,
        "StartDeadLetterQueue": pipeline.start_dead_letter_queue_url,
        "JobStateDeadLetterQueue": pipeline.job_state_dead_letter_queue_url,
    }
    depths = [
        queue_depth(clients("sqs"), name, url) for name, url in queues.items() if url is not None
    ]
    counts = {state.value: ledger.count(state) for state in State}
    return Status(pipeline, clients.where(), depths, {s: n for s, n in counts.items() if n})


def key_status(ledger: Ledger, key: str, *, every_version: bool) -> list[VersionItem]:
    """The key's current version item (the head's), or every version newest first.

    CliError (not found) when the ledger has nothing of the key.
    """
    found = ledger.versions(key) if every_version else []
    current = ledger.current(key)
    if every_version and found:
        return found
    if current is not None:
        return [current]
    raise CliError(
        f"The ledger has no item of {key!r}.",
        ExitCode.NOT_FOUND,
        hint="`transcribe-pipeline list --prefix` finds keys; an input uploaded before the "
        "ledger existed gets its item from `transcribe-pipeline reprocess --backfill`.",
    )


def queue_depth(sqs: Any, name: str, url: str) -> QueueDepth:
    """Approximate message counts of one queue."""
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_QUEUE_ATTRIBUTES)[
        "Attributes"
    ]
    return QueueDepth(
        name=name,
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
    )
