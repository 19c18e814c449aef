"""The burst simulation (benchmarks/burst.py) at a small scale: correctness only, no timing."""

from __future__ import annotations

import pytest

from benchmarks.burst import Scenario, simulate


@pytest.fixture(scope="module")
def burst():
    """500 uploads with duplicates and dropped completion events, real starter/harvest/sweep
    and Ledger (on the in-memory table)."""
    return simulate(Scenario(uploads=500, seed=11, duplicate_rate=0.05, drop_rate=0.05))


def test_no_upload_of_a_burst_is_lost(burst):
    assert burst.lost == 0
    assert burst.transcripts + burst.failure_records == 500


def test_duplicate_deliveries_never_start_a_second_job(burst):
    assert burst.duplicate_jobs == 0
    # Each duplicate delivery was answered by the ledger (or by Transcribe's Conflict), once.
    assert burst.already_handled + burst.already_started == burst.sqs_messages - burst.uploads > 0


def test_every_outcome_is_announced_once_and_no_ledger_item_is_left_open(burst):
    assert burst.outcome_events == burst.transcripts + burst.failure_records == 500
    assert burst.duplicate_outcome_events == 0
    assert burst.open_items_left == 0


def test_dropped_completion_events_are_harvested_by_the_sweeper_once(burst):
    assert burst.events_dropped > 0
    assert burst.harvested_by_sweeper == burst.events_dropped
    assert burst.harvested_by_both == 0


def test_paced_starts_stay_under_the_quota(burst):
    assert burst.throttled_calls == 0
    assert burst.requeued_items == 0


def test_without_pacing_or_retries_every_throttle_goes_back_to_the_queue_and_nothing_is_lost():
    result = simulate(Scenario(uploads=500, seed=3, max_attempts=1, pacing=False))
    assert result.throttled_calls > 0
    assert result.requeued_items == result.throttled_calls
    assert (result.lost, result.duplicate_jobs) == (0, 0)


def test_a_quota_shared_with_other_applications_throttles_but_loses_nothing():
    # Others use 10 of the 25 starts per second while the pipeline paces at the full 25
    result = simulate(Scenario(uploads=500, seed=5, other_tps=10))
    assert result.throttled_calls > 0
    assert result.requeued_items > 0  # still throttled after 4 attempts: back to the queue
    assert (result.lost, result.duplicate_jobs, result.dead_lettered) == (0, 0, 0)
