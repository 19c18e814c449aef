"""Finding finished jobs whose state-change event never arrived (delivery is best effort)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from transcribe_pipeline.harvest import ForeignJobError, is_harvested, source_of
from transcribe_pipeline.job_listing import pipeline_jobs
from transcribe_pipeline.metrics import STUCK_JOBS_METRIC, SWEEP_FAILURES_METRIC
from transcribe_pipeline.settings import Settings

# Called inside the except block with the job's name: log it there (the traceback is current).
FailureHook = Callable[[str, Exception], None]


@dataclass
class SweepReport:
    """What one sweep saw and did."""

    examined: int = 0
    harvested: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    # Jobs that raised while being looked at or harvested; the next sweep tries them again.
    failed: list[str] = field(default_factory=list)


def _jobs_in(
    transcribe: Any, prefix: str, statuses: tuple[str, ...], sleep: Callable[[float], None]
) -> Iterator[dict[str, Any]]:
    for status in statuses:
        yield from pipeline_jobs(transcribe, prefix, status, sleep=sleep)


def finished_jobs(
    transcribe: Any, prefix: str, *, since: datetime, sleep: Callable[[float], None] = time.sleep
) -> Iterator[dict[str, Any]]:
    """Summaries of this pipeline's COMPLETED/FAILED jobs that finished after ``since``."""
    for summary in _jobs_in(transcribe, prefix, ("COMPLETED", "FAILED"), sleep):
        finished = summary.get("CompletionTime")
        if finished is None or finished >= since:
            yield summary


def sweep(
    *,
    transcribe: Any,
    s3: Any,
    settings: Settings,
    harvest_job: Callable[[str], object],
    lookback: timedelta,
    grace: timedelta,
    stuck_after: timedelta,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_failure: FailureHook | None = None,
) -> SweepReport:
    """Harvest finished, unharvested jobs through ``harvest_job``; list jobs stuck too long.

    A job that raises is recorded in ``report.failed`` (and passed to ``on_failure``), and the
    sweep goes on with the next.
    """
    now = now or datetime.now(UTC)
    report = SweepReport()
    for summary in finished_jobs(
        transcribe, settings.job_name_prefix, since=now - lookback, sleep=sleep
    ):
        report.examined += 1
        name = summary["TranscriptionJobName"]
        finished = summary.get("CompletionTime")
        if finished is not None and now - finished < grace:
            continue  # Its event is probably on the way; the next sweep will look again.
        # One job that cannot be harvested (its <job>.json deleted, S3 refusing a write...)
        # must not strand the older jobs after it in the list: log it, count it, go on.
        try:
            harvested = _sweep_one(
                name, transcribe=transcribe, s3=s3, settings=settings, harvest_job=harvest_job
            )
        except Exception as error:  # noqa: BLE001 - one bad job must not strand the rest
            report.failed.append(name)
            if on_failure is not None:
                on_failure(name, error)
            continue
        if harvested:
            report.harvested.append(name)
    # Every page: the list is newest first, and the oldest jobs are the ones that get stuck.
    for summary in _jobs_in(transcribe, settings.job_name_prefix, ("QUEUED", "IN_PROGRESS"), sleep):
        created = summary.get("CreationTime")
        if created is not None and now - created > stuck_after:
            report.stuck.append(summary["TranscriptionJobName"])
    return report


def _sweep_one(
    name: str, *, transcribe: Any, s3: Any, settings: Settings, harvest_job: Callable[[str], object]
) -> bool:
    """Harvest one finished job unless it is foreign or already harvested; whether it was."""
    job = transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
    try:
        source = source_of(job, settings)
    except ForeignJobError:
        return False  # Same prefix, another application's media: not ours to harvest.
    if is_harvested(s3, settings.output_bucket, name, source.key):
        return False
    harvest_job(name)
    return True


def publish_metrics(cloudwatch: Any, namespace: str, report: SweepReport) -> None:
    """Put the sweep's counts: ``StuckJobs`` and ``SweepFailures`` (alarmed on), harvests."""
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": STUCK_JOBS_METRIC, "Value": len(report.stuck), "Unit": "Count"},
            {"MetricName": SWEEP_FAILURES_METRIC, "Value": len(report.failed), "Unit": "Count"},
            {"MetricName": "HarvestedBySweeper", "Value": len(report.harvested), "Unit": "Count"},
        ],
    )
