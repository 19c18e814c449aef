"""Harvesting one finished job and announcing its outcome: what both job-state functions do.

The JobStateChange function calls it for the job its event names, the sweeper for each job
whose event was lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from transcribe_pipeline.clients import error_code
from transcribe_pipeline.harvest import ForeignJobError, Harvest, HarvestResult, harvest
from transcribe_pipeline.notify import publish_outcome
from transcribe_pipeline.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger


def harvest_and_notify(
    job_name: str, *, transcribe: Any, s3: Any, sns: Any, settings: Settings, logger: Logger
) -> HarvestResult | None:
    """Harvest one job and notify; None when the job is unknown or not this pipeline's."""
    try:
        result = harvest(job_name, transcribe=transcribe, s3=s3, settings=settings)
    except ForeignJobError:
        logger.exception("Not harvesting a job of another bucket")
        return None
    except ClientError as error:
        if job_not_found(error):
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


def job_not_found(error: ClientError) -> bool:
    """Whether GetTranscriptionJob said the job does not exist.

    The API answers an unknown name with BadRequestException "The requested job couldn't be
    found" (not the NotFoundException its model also lists), so both count.
    """
    code = error_code(error)
    message = str(error.response.get("Error", {}).get("Message", ""))
    return code == "NotFoundException" or (
        code == "BadRequestException" and "couldn't be found" in message
    )
