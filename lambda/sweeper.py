"""Scheduled: the ledger's open items, oldest first: harvest lost events, report stuck work."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from transcribe_pipeline.announce import announce_pending
from transcribe_pipeline.clients import client, table
from transcribe_pipeline.harvest_and_notify import harvest_and_notify
from transcribe_pipeline.ledger import Ledger, Version
from transcribe_pipeline.settings import Settings
from transcribe_pipeline.sweeper import (
    backlog_seconds,
    publish_metrics,
    sweep,
)

logger = Logger()
settings = Settings.from_env()
# The sweeper reads the ledger's open items: without the table it cannot work at all.
table_name = settings.require_ledger_table()
transcribe = client("transcribe")
s3 = client("s3")
sns = client("sns")
events = client("events")
cloudwatch = client("cloudwatch")
ledger = client("dynamodb")
records = Ledger(table(table_name))
harvest_job = partial(
    harvest_and_notify,
    transcribe=transcribe,
    s3=s3,
    sns=sns,
    events=events,
    ledger=records,
    settings=settings,
    logger=logger,
)


def announce_item(item: dict[str, Any]) -> object:
    """Send a final item's PENDING announcements once (docs/ledger.md, "Announce")."""
    return announce_pending(
        Version(item), ledger=records, sns=sns, events=events, settings=settings
    )


def log_failure(what: str, error: Exception) -> None:
    """Log an item the sweep could not handle, with its traceback (called in the except block)."""
    logger.exception(
        "Could not handle an open item; the next sweep tries again",
        extra={"item": what, "error": str(error)},
    )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One sweep; the counts are logged and returned for operators and tests."""
    report = sweep(
        ledger=ledger,
        table_name=table_name,
        transcribe=transcribe,
        job_name_prefix=settings.job_name_prefix,
        harvest_job=harvest_job,
        announce_item=announce_item,
        grace=settings.sweep_grace,
        stuck_after=settings.stuck_after,
        remaining_ms=context.get_remaining_time_in_millis,
        on_failure=log_failure,
    )
    # The stack sets the namespace (the StuckJobs alarm reads it); without it, only logged.
    if settings.metrics_namespace:
        publish_metrics(cloudwatch, settings.metrics_namespace, report)
    if report.stuck or report.stuck_uploads:
        logger.warning(
            "Work stuck longer than stuck_after",
            extra={"jobs": report.stuck, "uploads_not_started": report.stuck_uploads},
        )
    if report.unannounced:
        logger.warning("Outcomes not announced yet", extra={"keys": report.unannounced})
    summary = {
        "open_items": report.open_items,
        "examined": report.examined,
        "harvested": report.harvested,
        "stuck": report.stuck,
        "stuck_uploads": report.stuck_uploads,
        "announced": report.announced,
        "unannounced": report.unannounced,
        "failed": report.failed,
        "out_of_time": report.out_of_time,
        "backlog_seconds": backlog_seconds(report, datetime.now(UTC)),
    }
    logger.info("Sweep done", extra=summary)
    return summary
