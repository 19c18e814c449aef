"""Scheduled: harvest finished jobs whose state-change event was lost; report stuck jobs."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from transcribe_pipeline.clients import client
from transcribe_pipeline.harvest_and_notify import harvest_and_notify
from transcribe_pipeline.settings import Settings
from transcribe_pipeline.sweeper import publish_metrics, sweep

logger = Logger()
settings = Settings.from_env()
transcribe = client("transcribe")
s3 = client("s3")
sns = client("sns")
cloudwatch = client("cloudwatch")
harvest_job = partial(
    harvest_and_notify, transcribe=transcribe, s3=s3, sns=sns, settings=settings, logger=logger
)


def log_failure(job_name: str, error: Exception) -> None:
    """Log a job the sweep could not harvest, with its traceback (called in the except block)."""
    logger.exception(
        "Could not harvest a job; the next sweep tries again",
        extra={"job_name": job_name, "error": str(error)},
    )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One sweep; the counts are logged and returned for operators and tests."""
    report = sweep(
        transcribe=transcribe,
        s3=s3,
        settings=settings,
        harvest_job=harvest_job,
        lookback=settings.sweep_lookback,
        grace=settings.sweep_grace,
        stuck_after=settings.stuck_after,
        on_failure=log_failure,
    )
    # The stack sets the namespace (the StuckJobs alarm reads it); without it, only logged.
    if settings.metrics_namespace:
        publish_metrics(cloudwatch, settings.metrics_namespace, report)
    if report.stuck:
        logger.warning("Jobs stuck in QUEUED/IN_PROGRESS", extra={"jobs": report.stuck})
    logger.info(
        "Sweep done",
        extra={
            "examined": report.examined,
            "harvested": report.harvested,
            "failed": report.failed,
        },
    )
    return {
        "examined": report.examined,
        "harvested": report.harvested,
        "stuck": report.stuck,
        "failed": report.failed,
    }
