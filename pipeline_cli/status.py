"""``status``: the deployed pipeline's queue depths and its jobs counted by state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from pipeline_cli.aws import Clients
from transcribe_pipeline.job_listing import pipeline_jobs
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
    jobs: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "stack": self.pipeline.stack,
            "stack_status": self.pipeline.status,
            "where": self.where,
            "input_bucket": self.pipeline.input_bucket,
            "output_bucket": self.pipeline.output_bucket,
            "job_name_prefix": self.pipeline.job_name_prefix,
            "queues": {
                q.name: {"visible": q.visible, "in_flight": q.in_flight, "delayed": q.delayed}
                for q in self.queues
            },
            "jobs": self.jobs,
        }


def pipeline_status(clients: Clients, pipeline: StackOutputs) -> Status:
    """Queue depths and this pipeline's jobs counted by state."""
    queues = {
        "StartQueue": pipeline.start_queue_url,
        "StartDeadLetterQueue": pipeline.start_dead_letter_queue_url,
        "JobStateDeadLetterQueue": pipeline.job_state_dead_letter_queue_url,
    }
    depths = [
        queue_depth(clients("sqs"), name, url) for name, url in queues.items() if url is not None
    ]
    counts = Counter(
        job["TranscriptionJobStatus"]
        for job in pipeline_jobs(clients("transcribe"), pipeline.job_name_prefix)
    )
    return Status(pipeline, clients.where(), depths, dict(sorted(counts.items())))


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
