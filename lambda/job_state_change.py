"""EventBridge "Transcribe Job State Change" -> readable transcripts or a failure record."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from transcribe_pipeline.clients import client
from transcribe_pipeline.harvest import ForeignJobError, Harvest, HarvestResult, harvest
from transcribe_pipeline.keys import is_job_name
from transcribe_pipeline.notify import publish_outcome
from transcribe_pipeline.settings import Settings

logger = Logger()
settings = Settings.from_env()
transcribe = client("transcribe")
s3 = client("s3")
sns = client("sns")


def harvest_and_notify(job_name: str) -> HarvestResult | None:
    """Harvest one job and notify; None when the job is unknown or not this pipeline's."""
    try:
        result = harvest(job_name, transcribe=transcribe, s3=s3, settings=settings)
    except ForeignJobError:
        logger.exception("Not harvesting a job of another bucket")
        return None
    except ClientError as error:
        if _job_not_found(error):
            # Deleted since the event was sent: there is nothing left to harvest.
            logger.warning("Job no longer exists", extra={"job_name": job_name})
            return None
        raise
    logger.info(
        f"Job {result.outcome.value}",
        extra={"job_name": job_name, "source_key": result.source.key, "outputs": result.written},
    )
    if result.outcome in {Harvest.TRANSCRIBED, Harvest.FAILED}:
        publish_outcome(
            sns,
            settings.topic_arn,
            status="COMPLETED" if result.outcome is Harvest.TRANSCRIBED else "FAILED",
            source_uri=result.source.uri,
            job_name=job_name,
            outputs=result.written,
            reason=result.reason,
        )
    return result


def _job_not_found(error: ClientError) -> bool:
    """Whether GetTranscriptionJob said the job does not exist.

    The API answers an unknown name with BadRequestException "The requested job couldn't be
    found" (not the NotFoundException its model also lists), so both count.
    """
    details = error.response.get("Error", {})
    code, message = details.get("Code"), str(details.get("Message", ""))
    return code == "NotFoundException" or (
        code == "BadRequestException" and "couldn't be found" in message
    )


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
    harvest_and_notify(job_name)
