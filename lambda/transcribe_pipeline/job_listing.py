"""Listing this pipeline's Transcribe jobs: every page, only names with the pipeline's prefix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

# ListTranscriptionJobs allows 5 calls per second by default; stay under it.
LIST_INTERVAL_SECONDS = 0.25


def pipeline_jobs(
    transcribe: Any,
    prefix: str,
    status: str | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Summaries of the jobs whose names start with ``prefix`` (in ``status``, or all).

    Every page is read; the service lists the newest jobs first.

    ``sleep`` paces the pages under ListTranscriptionJobs' quota (5 per second); None reads
    them back to back (the operator CLI's one-off listings).
    """
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"JobNameContains": prefix, "MaxResults": 100}
        if status:
            kwargs["Status"] = status
        if token:
            kwargs["NextToken"] = token
        page = transcribe.list_transcription_jobs(**kwargs)
        for summary in page.get("TranscriptionJobSummaries", []):
            # JobNameContains matches anywhere in the name; the pipeline's jobs start with it.
            if summary["TranscriptionJobName"].startswith(prefix):
                yield summary
        token = page.get("NextToken")
        if not token:
            return
        if sleep is not None:
            sleep(LIST_INTERVAL_SECONDS)
