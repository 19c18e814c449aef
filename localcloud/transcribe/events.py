"""The "Transcribe Job State Change" event that every terminal state of a job puts.

The event goes on the account's default bus through moto's ``put_events`` (source
``aws.transcribe``), so rules route it like any event. Delivery is best effort, as AWS
documents (docs/transcribe-api.md, "Events"): a failed delivery is logged and the job's state
stands.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from localcloud.transcribe.jobs import Job

LOG = logging.getLogger(__name__)

EVENT_SOURCE = "aws.transcribe"
EVENT_DETAIL_TYPE = "Transcribe Job State Change"


def emit_state_change(job: Job) -> None:
    """Put the job's "Transcribe Job State Change" event on its account's default bus."""
    from moto.events.models import events_backends

    detail: dict[str, Any] = {
        "TranscriptionJobName": job.name,
        "TranscriptionJobStatus": job.status,
    }
    if job.failure_reason:
        detail["FailureReason"] = job.failure_reason
    try:
        entries = events_backends[job.account_id][job.region].put_events(
            [
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": EVENT_DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                    "Resources": [],
                }
            ]
        )
    except Exception:  # best-effort delivery, as AWS documents: the job's state stands
        LOG.exception("could not deliver the state-change event of job %s", job.name)
        return
    LOG.debug("job %s: event %s", job.name, entries)
