"""The sweeper reads every page of ListTranscriptionJobs, which lists the newest jobs first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from transcribe_pipeline.settings import Settings
from transcribe_pipeline.sweeper import sweep

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SETTINGS = Settings.from_env(
    {
        "INPUT_BUCKET": "in",
        "OUTPUT_BUCKET": "out",
        "JOB_NAME_PREFIX": "tp-",
        "LANGUAGE_CODE": "en-US",
    }
)


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
        matching = [job for job in self.jobs if job["Status"] == Status
                    and JobNameContains in job["TranscriptionJobName"]]  # fmt: skip
        start = int(NextToken or 0)
        page: dict[str, Any] = {"TranscriptionJobSummaries": matching[start : start + MaxResults]}
        if start + MaxResults < len(matching):
            page["NextToken"] = str(start + MaxResults)
        return page


def queued(name: str, age: timedelta) -> dict[str, Any]:
    return {"TranscriptionJobName": name, "Status": "QUEUED", "CreationTime": NOW - age}


def test_a_stuck_job_behind_more_than_a_page_of_newer_queued_jobs_is_reported():
    # Given 250 jobs queued in the last hour, and the oldest, queued 7 hours ago (limit 6)
    jobs = [queued(f"tp-new-{n:03d}", timedelta(minutes=n % 60)) for n in range(250)]
    jobs.append(queued("tp-oldest", timedelta(hours=7)))
    transcribe = PagedTranscribe(jobs)
    pauses: list[float] = []

    # When the sweep runs
    report = sweep(
        transcribe=transcribe,
        s3=None,
        settings=SETTINGS,
        harvest_job=lambda name: None,
        lookback=timedelta(hours=24),
        grace=timedelta(minutes=2),
        stuck_after=timedelta(hours=6),
        now=NOW,
        sleep=pauses.append,
    )

    # Then the oldest, on the third page, is found, and the pages were paced (List quota 5/s)
    assert report.stuck == ["tp-oldest"]
    assert len(pauses) == 2
    assert all(pause >= 0.2 for pause in pauses)
