"""EventBridge "Transcribe Job State Change" -> readable transcripts or a failure record."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from transcribe_pipeline.clients import client, table
from transcribe_pipeline.harvest_and_notify import harvest_and_notify
from transcribe_pipeline.keys import is_job_name
from transcribe_pipeline.ledger import Ledger
from transcribe_pipeline.settings import Settings

logger = Logger()
settings = Settings.from_env()
transcribe = client("transcribe")
s3 = client("s3")
sns = client("sns")
events = client("events")
ledger = Ledger(table(settings.require_ledger_table()))


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> None:
    """Harvest the job the event names; errors raise so EventBridge/Lambda retry, then DLQ."""
    job_name = str(event.detail.get("TranscriptionJobName", ""))
    # A name Transcribe would refuse is no job of ours: looking it up would only raise (and be
    # retried for hours), since GetTranscriptionJob answers it with a validation error.
    if not job_name.startswith(settings.job_name_prefix) or not is_job_name(job_name):
        logger.warning("Ignoring a job of another pipeline", extra={"job_name": job_name})
        return
    harvest_and_notify(
        job_name,
        transcribe=transcribe,
        s3=s3,
        sns=sns,
        events=events,
        ledger=ledger,
        settings=settings,
        logger=logger,
    )
