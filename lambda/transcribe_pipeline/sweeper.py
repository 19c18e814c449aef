"""The safety net: the ledger's open items, oldest first, within the invocation's time budget.

An upload version is *open* in the ledger while it awaits something: its job to start or to
finish, or an announcement of its outcome (docs/ledger.md). The sweeper reads only those,
from the sparse ``OPEN_INDEX``, so its cost follows the open work, not the history: a day with
100,000 finished jobs costs it nothing once they are settled (docs/sweeper.md).

For each open item, oldest first:

- ``RECEIVED`` longer than ``stuck_after``: stuck (its start message waits in the start queue
  or its dead-letter queue);
- ``STARTED``: if its job was listed as QUEUED or IN_PROGRESS at the sweep's start, it is
  stuck once older than ``stuck_after``; otherwise GetTranscriptionJob says whether it has
  finished, and a job finished longer ago than ``grace`` (its event was lost) is harvested;
- a final state with an announcement still ``PENDING``: announced again.

Listing the unfinished jobs once (at most concurrent + queued jobs, ~103 pages at the default
quotas) rather than asking about each STARTED item keeps a sweep short when a burst has
thousands of jobs waiting in Transcribe's queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from transcribe_pipeline.harvest import Harvest, HarvestResult
from transcribe_pipeline.job_listing import pipeline_jobs
from transcribe_pipeline.ledger_schema import (
    FINAL_STATES,
    FINISHED_AT,
    JOB,
    NOTICE,
    OPEN,
    OPEN_INDEX,
    OPEN_SINCE,
    OPEN_VALUE,
    OUTCOME_EVENT,
    PARTITION_KEY,
    RECEIVED_AT,
    STATE,
    Announcement,
    State,
)
from transcribe_pipeline.metrics import (
    HARVESTED_BY_SWEEPER_METRIC,
    OPEN_ITEMS_METRIC,
    STUCK_JOBS_METRIC,
    SWEEP_BACKLOG_METRIC,
    SWEEP_FAILURES_METRIC,
)

# Called inside the except block with what failed (a job name or a source key) and the error:
# log it there (the traceback is current).
FailureHook = Callable[[str, Exception], None]
# Harvests one job by name; its result says whether this call wrote the outcome.
HarvestJob = Callable[[str], HarvestResult | None]
# Sends the PENDING announcements of one final item (the item as a plain dict).
AnnounceItem = Callable[[dict[str, Any]], object]

# No new item is started with less time than this left: one harvest (a long transcript read
# and rendered) finishes well within it, and the function is never cut off mid-item.
TIME_MARGIN = timedelta(seconds=60)
UNFINISHED_STATUSES = ("QUEUED", "IN_PROGRESS")
# What counts as harvested by the sweeper: this call wrote the outcome. A superseded or
# already harvested job is not counted (it would be, again, on every sweep).
HARVESTED = frozenset({Harvest.TRANSCRIBED, Harvest.FAILED})
_DESERIALIZER = TypeDeserializer()


@dataclass
class SweepReport:
    """What one sweep saw and did."""

    # Open items found, and how many of them this sweep looked at (the rest: budget spent).
    open_items: int = 0
    examined: int = 0
    harvested: list[str] = field(default_factory=list)
    # Jobs queued or running longer than stuck_after.
    stuck: list[str] = field(default_factory=list)
    # Source keys whose job has not started after stuck_after.
    stuck_uploads: list[str] = field(default_factory=list)
    announced: list[str] = field(default_factory=list)
    # Final items with a PENDING announcement, left because no announcer was given.
    unannounced: list[str] = field(default_factory=list)
    # Jobs or keys that raised; the next sweep tries them again.
    failed: list[str] = field(default_factory=list)
    # When the oldest item still open after this sweep became open (None: none is).
    oldest_open_since: datetime | None = None
    # Whether the time budget ended the sweep before every open item was looked at.
    out_of_time: bool = False


def sweep(
    *,
    ledger: Any,
    table_name: str,
    transcribe: Any,
    job_name_prefix: str,
    harvest_job: HarvestJob,
    announce_item: AnnounceItem | None,
    grace: timedelta,
    stuck_after: timedelta,
    remaining_ms: Callable[[], int],
    margin: timedelta = TIME_MARGIN,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_failure: FailureHook | None = None,
) -> SweepReport:
    """Look at the ledger's open items, oldest first, until done or ``margin`` is all that is left.

    ``ledger`` is a DynamoDB client. An item that raises is recorded in ``report.failed`` (and
    passed to ``on_failure``), and the sweep goes on with the next: one poison item must not
    strand the ones after it.
    """
    now = now or datetime.now(UTC)

    def out_of_time() -> bool:
        return remaining_ms() < margin.total_seconds() * 1000

    report = SweepReport()
    items = list(_open_items(ledger, table_name, out_of_time))
    report.open_items = len(items)
    report.out_of_time = out_of_time()
    started = any(item[STATE] == State.STARTED for item in items)
    unfinished = {}
    if started and not report.out_of_time:
        unfinished = _unfinished_jobs(transcribe, job_name_prefix, sleep)
    still_open: list[dict[str, Any]] = []
    for item in items:
        if report.out_of_time or out_of_time():
            report.out_of_time = True
            still_open.append(item)
            continue
        report.examined += 1
        what = str(item.get(JOB) or item[PARTITION_KEY])
        try:
            settled = _sweep_item(
                item,
                report,
                transcribe=transcribe,
                unfinished=unfinished,
                harvest_job=harvest_job,
                announce_item=announce_item,
                grace=grace,
                stuck_after=stuck_after,
                now=now,
            )
        except Exception as error:  # noqa: BLE001 - one bad item must not strand the rest
            report.failed.append(what)
            if on_failure is not None:
                on_failure(what, error)
            settled = False
        if not settled:
            still_open.append(item)
    report.oldest_open_since = min(
        (_time(item[OPEN_SINCE]) for item in still_open if item.get(OPEN_SINCE)), default=None
    )
    return report


def _open_items(
    ledger: Any, table_name: str, out_of_time: Callable[[], bool]
) -> Iterator[dict[str, Any]]:
    """The open items, oldest first, page by page while time is left."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": OPEN_INDEX,
        "KeyConditionExpression": "#open = :open",
        "ExpressionAttributeNames": {"#open": OPEN},
        "ExpressionAttributeValues": {":open": {"S": OPEN_VALUE}},
        "ScanIndexForward": True,  # ascending OPEN_SINCE: the oldest first
    }
    while True:
        page = ledger.query(**request)
        for raw in page.get("Items", []):
            yield {name: _DESERIALIZER.deserialize(value) for name, value in raw.items()}
        last = page.get("LastEvaluatedKey")
        if not last or out_of_time():
            return
        request["ExclusiveStartKey"] = last


def _unfinished_jobs(
    transcribe: Any, prefix: str, sleep: Callable[[float], None]
) -> dict[str, dict[str, Any]]:
    """This pipeline's QUEUED and IN_PROGRESS jobs by name: a bounded listing.

    Transcribe runs at most its concurrency quota and queues at most its queue quota, so the
    listing has at most that many jobs, whatever the history (docs/sweeper.md).
    """
    return {
        summary["TranscriptionJobName"]: summary
        for status in UNFINISHED_STATUSES
        for summary in pipeline_jobs(transcribe, prefix, status, sleep=sleep)
    }


def _sweep_item(
    item: dict[str, Any],
    report: SweepReport,
    *,
    transcribe: Any,
    unfinished: dict[str, dict[str, Any]],
    harvest_job: HarvestJob,
    announce_item: AnnounceItem | None,
    grace: timedelta,
    stuck_after: timedelta,
    now: datetime,
) -> bool:
    """Do what one open item needs; whether it is settled now (no longer open)."""
    state = State(item[STATE])
    key = str(item[PARTITION_KEY])
    if state is State.RECEIVED:
        received = _time(item.get(RECEIVED_AT) or item[OPEN_SINCE])
        if now - received > stuck_after:
            report.stuck_uploads.append(key)
        return False
    if state is State.STARTED:
        return _sweep_started(
            str(item[JOB]),
            report,
            transcribe=transcribe,
            unfinished=unfinished,
            harvest_job=harvest_job,
            grace=grace,
            stuck_after=stuck_after,
            now=now,
        )
    if state in FINAL_STATES and _pending(item):
        finished = item.get(FINISHED_AT)
        if finished and now - _time(finished) < grace:
            return False  # The invocation that wrote the outcome is probably announcing it.
        if announce_item is None:
            report.unannounced.append(key)
            return False
        # What the announcer sent: nothing when another invocation holds the item's claim.
        if announce_item(item):
            report.announced.append(key)
            return True
        report.unannounced.append(key)
        return False
    return False


def _sweep_started(
    job_name: str,
    report: SweepReport,
    *,
    transcribe: Any,
    unfinished: dict[str, dict[str, Any]],
    harvest_job: HarvestJob,
    grace: timedelta,
    stuck_after: timedelta,
    now: datetime,
) -> bool:
    listed = unfinished.get(job_name)
    if listed is None:
        # Not waiting or running when the sweep began: ask (it may also have started since).
        listed = transcribe.get_transcription_job(TranscriptionJobName=job_name)["TranscriptionJob"]
    if listed["TranscriptionJobStatus"] in UNFINISHED_STATUSES:
        created = listed.get("CreationTime")
        if created is not None and now - created > stuck_after:
            report.stuck.append(job_name)
        return False
    finished = listed.get("CompletionTime")
    if finished is not None and now - finished < grace:
        return False  # Its event is probably on the way; the next sweep will look again.
    result = harvest_job(job_name)
    if result is None:
        return False  # Not this pipeline's, or gone: nothing was written.
    if result.outcome in HARVESTED:
        report.harvested.append(job_name)
    return result.outcome is not Harvest.NOT_FINISHED


def _pending(item: dict[str, Any]) -> bool:
    return Announcement.PENDING in (item.get(NOTICE), item.get(OUTCOME_EVENT))


def _time(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def backlog_seconds(report: SweepReport, now: datetime) -> float:
    """How long the oldest item still open after the sweep has been open (0 when none is)."""
    if report.oldest_open_since is None:
        return 0.0
    return max(0.0, (now - report.oldest_open_since).total_seconds())


def publish_metrics(
    cloudwatch: Any, namespace: str, report: SweepReport, now: datetime | None = None
) -> None:
    """Put the sweep's counts (``StuckJobs``, ``SweepFailures``: alarmed on; harvests) and
    gauges (open items, the age of the oldest)."""
    now = now or datetime.now(UTC)
    figures = (
        (STUCK_JOBS_METRIC, len(report.stuck) + len(report.stuck_uploads), "Count"),
        (SWEEP_FAILURES_METRIC, len(report.failed), "Count"),
        (HARVESTED_BY_SWEEPER_METRIC, len(report.harvested), "Count"),
        (OPEN_ITEMS_METRIC, report.open_items, "Count"),
        (SWEEP_BACKLOG_METRIC, backlog_seconds(report, now), "Seconds"),
    )
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": name, "Value": value, "Unit": unit} for name, value, unit in figures
        ],
    )
