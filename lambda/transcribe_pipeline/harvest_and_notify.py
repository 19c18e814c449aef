"""Harvesting one finished job and announcing its outcome: what both job-state functions do.

The JobStateChange function calls it for the job its event names, the sweeper for each open
ledger item whose job finished without its event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from transcribe_pipeline.announce import announce_pending
from transcribe_pipeline.clients import client, error_code, table
from transcribe_pipeline.harvest import ForeignJobError, HarvestResult, harvest
from transcribe_pipeline.ledger import Ledger
from transcribe_pipeline.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger


def harvest_and_notify(
    job_name: str,
    *,
    transcribe: Any,
    s3: Any,
    sns: Any,
    settings: Settings,
    logger: Logger,
    events: Any = None,
    ledger: Ledger | None = None,
) -> HarvestResult | None:
    """Harvest one job and announce it once; None when the job is unknown or not ours.

    A version whose announcements are still pending (an earlier send failed) is announced
    now, whichever invocation committed its outcome: a duplicate event is a retry. Without
    ``events`` or ``ledger``, they are made from ``settings`` for this call.
    """
    events = events if events is not None else client("events")
    ledger = ledger if ledger is not None else Ledger(table(settings.require_ledger_table()))
    try:
        result = harvest(job_name, transcribe=transcribe, s3=s3, ledger=ledger, settings=settings)
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
    if result.version is not None:
        announce_pending(result.version, ledger=ledger, sns=sns, events=events, settings=settings)
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
