"""The sweeper reads every page: the ledger's open items, and Transcribe's unfinished jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from transcribe_pipeline.ledger_schema import (
    JOB,
    OPEN_INDEX,
    OPEN_SINCE,
    PARTITION_KEY,
    STATE,
    State,
)
from transcribe_pipeline.sweeper import sweep

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class PagedTranscribe:
    """ListTranscriptionJobs as AWS answers it: newest first, at most MaxResults a page."""

    def __init__(self, jobs: list[dict[str, Any]]) -> None:
        self.jobs = sorted(jobs, key=lambda job: job["CreationTime"], reverse=True)
        self.calls = 0

    def list_transcription_jobs(
        self,
        *,
        Status: str,  # noqa: N803
        JobNameContains: str,  # noqa: N803
        MaxResults: int,  # noqa: N803
        NextToken: str | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        self.calls += 1
        matching = [job for job in self.jobs if job["TranscriptionJobStatus"] == Status
                    and JobNameContains in job["TranscriptionJobName"]]  # fmt: skip
        start = int(NextToken or 0)
        page: dict[str, Any] = {"TranscriptionJobSummaries": matching[start : start + MaxResults]}
        if start + MaxResults < len(matching):
            page["NextToken"] = str(start + MaxResults)
        return page


class PagedLedger:
    """Query on the open-items index as DynamoDB answers it: ``page_size`` items a page."""

    def __init__(self, items: list[dict[str, str]], page_size: int) -> None:
        self.items = sorted(items, key=lambda item: item[OPEN_SINCE])
        self.page_size = page_size
        self.queries: list[dict[str, Any]] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.queries.append(request)
        assert request["IndexName"] == OPEN_INDEX
        start = int(request.get("ExclusiveStartKey", {}).get("at", {}).get("N", "0"))
        chunk = self.items[start : start + self.page_size]
        page: dict[str, Any] = {
            "Items": [{name: {"S": value} for name, value in item.items()} for item in chunk]
        }
        if start + self.page_size < len(self.items):
            page["LastEvaluatedKey"] = {"at": {"N": str(start + self.page_size)}}
        return page


def started(name: str, age: timedelta) -> dict[str, str]:
    return {
        PARTITION_KEY: f"talks/{name}.mp3",
        STATE: State.STARTED.value,
        JOB: name,
        OPEN_SINCE: (NOW - age).isoformat(),
    }


def queued(name: str, age: timedelta) -> dict[str, Any]:
    return {
        "TranscriptionJobName": name,
        "TranscriptionJobStatus": "QUEUED",
        "CreationTime": NOW - age,
    }


def run(ledger: PagedLedger, transcribe: PagedTranscribe, pauses: list[float], seconds_left=600):
    return sweep(
        ledger=ledger,
        table_name="Ledger",
        transcribe=transcribe,
        job_name_prefix="tp-",
        harvest_job=lambda name: None,
        announce_item=None,
        grace=timedelta(minutes=2),
        stuck_after=timedelta(hours=6),
        remaining_ms=lambda: seconds_left * 1000,
        now=NOW,
        sleep=pauses.append,
    )


def test_a_stuck_job_behind_more_than_a_page_of_newer_queued_jobs_is_reported():
    # Given 250 jobs queued in the last hour, and the oldest, queued 7 hours ago (limit 6),
    # each with its open ledger item
    ages = {f"tp-new-{n:03d}": timedelta(minutes=n % 60) for n in range(250)}
    ages["tp-oldest"] = timedelta(hours=7)
    transcribe = PagedTranscribe([queued(name, age) for name, age in ages.items()])
    ledger = PagedLedger([started(name, age) for name, age in ages.items()], page_size=1000)
    pauses: list[float] = []

    # When the sweep runs
    report = run(ledger, transcribe, pauses)

    # Then the oldest, on the third page, is found, and the pages were paced (List quota 5/s)
    assert report.stuck == ["tp-oldest"]
    assert len(pauses) == 2
    assert all(pause >= 0.2 for pause in pauses)


def test_every_page_of_open_items_is_read_oldest_first():
    # Given 25 open items, 10 a page
    ages = {f"tp-job-{n:02d}": timedelta(hours=n) for n in range(25)}
    transcribe = PagedTranscribe([queued(name, age) for name, age in ages.items()])
    ledger = PagedLedger([started(name, age) for name, age in ages.items()], page_size=10)

    # When the sweep runs
    report = run(ledger, transcribe, [])

    # Then three pages were read in ascending order, and the 18 jobs past 6 hours are stuck,
    # oldest first
    assert [query.get("ExclusiveStartKey") for query in ledger.queries] == [
        None,
        {"at": {"N": "10"}},
        {"at": {"N": "20"}},
    ]
    assert all(query["ScanIndexForward"] for query in ledger.queries)
    assert (report.open_items, report.examined) == (25, 25)
    assert report.stuck == [f"tp-job-{n:02d}" for n in range(24, 6, -1)]


def test_with_no_time_left_a_sweep_reads_one_page_and_looks_at_nothing():
    # Given 25 open items, 10 a page, and a function with 30 s left (margin: 60 s)
    ages = {f"tp-job-{n:02d}": timedelta(hours=n) for n in range(25)}
    transcribe = PagedTranscribe([queued(name, age) for name, age in ages.items()])
    ledger = PagedLedger([started(name, age) for name, age in ages.items()], page_size=10)

    # When the sweep runs
    report = run(ledger, transcribe, [], seconds_left=30)

    # Then it stops after the first page, having looked at no item
    assert len(ledger.queries) == 1
    assert (report.open_items, report.examined, report.out_of_time) == (10, 0, True)
    assert report.oldest_open_since == NOW - timedelta(hours=24)
