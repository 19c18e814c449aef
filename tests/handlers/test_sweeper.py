"""Sweeper: reads the ledger's open items, harvests lost events, reports stuck work."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.handlers.conftest import OUTPUT_BUCKET, PREFIX, FakeLambdaContext
from tests.handlers.events import job_state_change, scheduled_event
from tests.handlers.ledger_table import OPEN_FOR, TABLE, Ledger
from transcribe_pipeline import environment as names
from transcribe_pipeline.ledger_schema import (
    FINISHED_AT,
    JOB,
    NOTICE,
    OUTCOME_EVENT,
    PARTITION_KEY,
    SORT_KEY,
    STATE,
    STATE_INDEX_SORT_KEY,
    Announcement,
    State,
    version_sort_key,
)

LOST_JOB = f"{PREFIX}lost-event-0123456789abcdef"
KEY = "talks/lost event.mp3"
NAMESPACE = "TranscriptionPipeline/Test"


@dataclass(frozen=True)
class TimedContext(FakeLambdaContext):
    """A Lambda context whose remaining time the test decides."""

    remaining: Callable[[], int] = field(default=lambda: 600_000)

    def get_remaining_time_in_millis(self) -> int:
        """What Lambda answers: milliseconds before the timeout."""
        return self.remaining()


@pytest.fixture
def context() -> TimedContext:
    """A Lambda context with all of the sweeper's 10 minutes left."""
    return TimedContext()


@pytest.fixture
def ledger(cloud, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    """The ledger table (both indexes from ledger_schema), named in the functions' environment."""
    monkeypatch.setenv(names.LEDGER_TABLE, TABLE)
    return Ledger()


@pytest.fixture
def sweeper_handler(ledger, load_handler):
    """The Sweeper function's module, with the ledger table."""
    return load_handler("sweeper")


@pytest.fixture
def metered_sweeper(ledger, load_handler):
    """The Sweeper function's module, putting its metrics in NAMESPACE."""
    return load_handler("sweeper", METRICS_NAMESPACE=NAMESPACE)


def lost_job(
    cloud, ledger: Ledger, name: str = LOST_JOB, key: str = KEY, age: timedelta = OPEN_FOR
) -> None:
    """A job that completed ten minutes ago, whose event never arrived; its item open ``age``."""
    cloud.start_job(name, key)
    cloud.complete_job(name)
    cloud.age_job(name, created=timedelta(minutes=15), completed=timedelta(minutes=10))
    ledger.put_version(key, State.STARTED, job=name, age=age)


def get_job_calls(handler) -> list[str]:
    """The names the sweeper's Transcribe client asks GetTranscriptionJob about, as it asks."""
    asked: list[str] = []
    handler.transcribe.meta.events.register(
        "before-parameter-build.transcribe.GetTranscriptionJob",
        lambda params, **_: asked.append(params["TranscriptionJobName"]),
    )
    return asked


def metric_maximum(handler, name: str) -> list[float]:
    """The maximum of each datapoint of ``name`` in NAMESPACE over the last hour."""
    stats = handler.cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=name,
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(hours=1),
        Period=3600,
        Statistics=["Maximum"],
    )
    return [point["Maximum"] for point in stats["Datapoints"]]


# --- lost events ------------------------------------------------------------------------------


def test_a_finished_job_whose_event_was_lost_is_harvested(cloud, ledger, sweeper_handler, context):
    # Given a job that completed ten minutes ago, whose event never arrived
    lost_job(cloud, ledger)

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then its transcript is written
    assert report["harvested"] == [LOST_JOB]
    assert cloud.read_output(f"transcripts/{KEY}.txt") == "Hello world. This is a test.\n"


def test_a_failed_job_whose_event_was_lost_gets_its_failure_record(
    cloud, ledger, sweeper_handler, context
):
    # Given a job that failed ten minutes ago, whose event never arrived
    cloud.start_job(LOST_JOB, KEY)
    cloud.fail_job(LOST_JOB, "Invalid sample rate for audio file.")
    cloud.age_job(LOST_JOB, created=timedelta(minutes=15), completed=timedelta(minutes=10))
    ledger.put_version(KEY, State.STARTED, job=LOST_JOB)

    # When the sweep runs
    sweeper_handler.handler(scheduled_event(), context)

    # Then the failure is recorded with Transcribe's reason
    assert cloud.read_output_json(f"failed/{KEY}.json")["reason"] == (
        "Invalid sample rate for audio file."
    )


def test_a_job_is_counted_as_harvested_by_only_one_of_two_sweeps(
    cloud, ledger, sweeper_handler, context
):
    # Given a finished, unharvested job
    lost_job(cloud, ledger)

    # When the sweep runs twice
    first = sweeper_handler.handler(scheduled_event(), context)
    second = sweeper_handler.handler(scheduled_event(), context)

    # Then only the first harvests it
    assert first["harvested"] == [LOST_JOB]
    assert second["harvested"] == []


def test_a_job_already_harvested_from_its_event_is_not_written_again(
    cloud, ledger, job_state, sweeper_handler, context
):
    # Given a finished job whose event was handled (its item still open, as if the settling
    # write had not been seen yet: the index is eventually consistent)
    lost_job(cloud, ledger)
    job_state.handler(job_state_change(LOST_JOB, "COMPLETED"), context)
    before = cloud.s3.head_object(Bucket=OUTPUT_BUCKET, Key=f"transcripts/{KEY}.txt")

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then it is not counted, and nothing is written again
    assert report["harvested"] == []
    after = cloud.s3.head_object(Bucket=OUTPUT_BUCKET, Key=f"transcripts/{KEY}.txt")
    assert after["LastModified"] == before["LastModified"]


def test_a_superseded_job_is_never_counted_as_harvested(cloud, ledger, sweeper_handler, context):
    # Given two uploads of one key: the newer one's job harvested, the older one's job finished
    # later and lost its event
    older, newer = f"{PREFIX}older-0123456789abcdef", f"{PREFIX}newer-0123456789abcdef"
    cloud.start_job(older, KEY)
    cloud.start_job(newer, KEY)
    ledger.put_version(KEY, State.STARTED, job=older)
    ledger.put_version(KEY, State.STARTED, job=newer)  # the later sequencer: the key's head
    cloud.complete_job(newer)
    cloud.age_job(newer, created=timedelta(minutes=20), completed=timedelta(minutes=15))
    sweeper_handler.harvest_job(newer)
    cloud.complete_job(older)
    cloud.age_job(older, created=timedelta(minutes=30), completed=timedelta(minutes=10))

    # When the sweep runs three times
    reports = [sweeper_handler.handler(scheduled_event(), context) for _ in range(3)]

    # Then the older job is never counted, and the newer transcript stays
    assert [report["harvested"] for report in reports] == [[], [], []]
    assert cloud.read_output(f"transcripts/{KEY}.txt") == "Hello world. This is a test.\n"
    head = cloud.s3.head_object(Bucket=OUTPUT_BUCKET, Key=f"transcripts/{KEY}.txt")
    assert head["Metadata"]["job-name"] == newer


def test_a_job_finished_within_the_grace_period_is_left_to_its_event(
    cloud, ledger, sweeper_handler, context
):
    # Given a job that completed thirty seconds ago (its event is probably on the way)
    cloud.start_job(LOST_JOB, KEY)
    cloud.complete_job(LOST_JOB)
    cloud.age_job(LOST_JOB, created=timedelta(minutes=5), completed=timedelta(seconds=30))
    ledger.put_version(KEY, State.STARTED, job=LOST_JOB)

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then it is not harvested yet
    assert report["harvested"] == []
    assert cloud.output_keys("transcripts/") == []


# --- only the ledger's open items -------------------------------------------------------------


def test_a_finished_job_without_an_open_item_is_not_swept(cloud, ledger, sweeper_handler, context):
    # Given a finished job of this prefix the ledger does not hold open (settled, or started
    # before the ledger existed: `reprocess --backfill` writes those)
    cloud.start_job(LOST_JOB, KEY)
    cloud.complete_job(LOST_JOB)
    cloud.age_job(LOST_JOB, created=timedelta(hours=1), completed=timedelta(hours=1))
    ledger.put_version(KEY, State.TRANSCRIBED, job=LOST_JOB, is_open=False)

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then it is left alone
    assert (report["open_items"], report["examined"], report["harvested"]) == (0, 0, [])
    assert cloud.output_keys("transcripts/") == []


def test_the_sweep_asks_transcribe_only_about_the_open_items(
    cloud, ledger, sweeper_handler, context
):
    # Given 1,000 settled versions and 3 open ones whose jobs just finished
    settled = [
        {
            "PutRequest": {
                "Item": {
                    PARTITION_KEY: {"S": f"archive/{n:04d}.mp3"},
                    SORT_KEY: {"S": version_sort_key(f"{n + 1:X}")},
                    STATE: {"S": State.TRANSCRIBED.value},
                    STATE_INDEX_SORT_KEY: {"S": f"archive/{n:04d}.mp3"},
                    JOB: {"S": f"{PREFIX}archive-{n:04d}"},
                }
            }
        }
        for n in range(1000)
    ]
    for start in range(0, len(settled), 25):
        ledger.client.batch_write_item(RequestItems={TABLE: settled[start : start + 25]})
    open_jobs = [f"{PREFIX}open-{n}-0123456789abcdef" for n in range(3)]
    for name in open_jobs:
        cloud.start_job(name, f"talks/{name}.mp3")
        cloud.complete_job(name)
        cloud.age_job(name, created=timedelta(minutes=3), completed=timedelta(seconds=30))
        ledger.put_version(f"talks/{name}.mp3", State.STARTED, job=name)
    asked = get_job_calls(sweeper_handler)

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then it made exactly three GetTranscriptionJob calls, one per open item
    assert sorted(asked) == open_jobs
    assert (report["open_items"], report["examined"]) == (3, 3)


def test_open_items_are_swept_oldest_first(cloud, ledger, sweeper_handler, context):
    # Given three lost jobs whose items became open 30, 20 and 10 minutes ago, written in a
    # shuffled order
    ages = {f"{PREFIX}age-{minutes}-0123456789abcdef": minutes for minutes in (30, 20, 10)}
    names_in_order = list(ages)
    shuffled = names_in_order[:]
    random.Random(3).shuffle(shuffled)
    for name in shuffled:
        lost_job(cloud, ledger, name, f"talks/{name}.mp3", age=timedelta(minutes=ages[name]))

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then they are harvested oldest first
    assert report["harvested"] == names_in_order


def test_a_job_whose_name_contains_the_prefix_without_starting_with_it_is_never_touched(
    cloud, ledger, sweeper_handler, context
):
    # Given another application's jobs whose names contain this prefix mid-name: one queued
    # for seven hours (limit: six), one finished an hour ago
    queued, finished = f"other-{PREFIX}queued-0123", f"other-{PREFIX}finished-0123"
    cloud.start_job(queued, "talks/queued.mp3")
    cloud.advance_job_to(queued, "QUEUED")
    cloud.age_job(queued, created=timedelta(hours=7))
    cloud.start_job(finished, "talks/finished.mp3")
    cloud.complete_job(finished)
    cloud.age_job(finished, created=timedelta(hours=1), completed=timedelta(hours=1))
    asked = get_job_calls(sweeper_handler)

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then neither is asked about, harvested or reported stuck
    assert asked == []
    assert (report["harvested"], report["stuck"], report["failed"]) == ([], [], [])
    assert cloud.output_keys("transcripts/") == []


# --- stuck work -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["QUEUED", "IN_PROGRESS"])
def test_a_job_waiting_or_running_longer_than_the_limit_is_reported_as_stuck(
    status, cloud, ledger, sweeper_handler, context
):
    # Given a job in `status` for seven hours (limit: six) and one for a minute
    stuck, fresh = f"{PREFIX}stuck-0123456789abcdef", f"{PREFIX}fresh-0123456789abcdef"
    for name, age in ((stuck, timedelta(hours=7)), (fresh, timedelta(minutes=1))):
        cloud.start_job(name, f"talks/{name}.mp3")
        cloud.advance_job_to(name, status)
        cloud.age_job(name, created=age)
        ledger.put_version(f"talks/{name}.mp3", State.STARTED, job=name, age=age)

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then only the old one is reported
    assert report["stuck"] == [stuck]


def test_an_upload_whose_job_never_started_is_reported_as_stuck(ledger, sweeper_handler, context):
    # Given an upload received seven hours ago whose start message never succeeded (it waits
    # in the start queue or its dead-letter queue), and one received a minute ago
    ledger.put_version("talks/waiting.mp3", State.RECEIVED, age=timedelta(hours=7))
    ledger.put_version("talks/fresh.mp3", State.RECEIVED, age=timedelta(minutes=1))

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then only the old one is reported, by its key
    assert report["stuck_uploads"] == ["talks/waiting.mp3"]


def test_a_sweep_publishes_its_stuck_jobs_count(cloud, ledger, metered_sweeper, context):
    # Given a job queued for seven hours
    cloud.start_job(LOST_JOB, KEY)
    cloud.advance_job_to(LOST_JOB, "QUEUED")
    cloud.age_job(LOST_JOB, created=timedelta(hours=7))
    ledger.put_version(KEY, State.STARTED, job=LOST_JOB, age=timedelta(hours=7))

    # When the sweep runs
    metered_sweeper.handler(scheduled_event(), context)

    # Then StuckJobs = 1 is in the namespace the alarm reads
    assert metric_maximum(metered_sweeper, "StuckJobs") == [1.0]


def test_a_sweep_publishes_the_open_items_and_the_age_of_the_oldest(
    ledger, metered_sweeper, context
):
    # Given two uploads waiting to start, received 40 and 5 minutes ago
    ledger.put_version("talks/a.mp3", State.RECEIVED, age=timedelta(minutes=40))
    ledger.put_version("talks/b.mp3", State.RECEIVED, age=timedelta(minutes=5))

    # When the sweep runs
    metered_sweeper.handler(scheduled_event(), context)

    # Then OpenItems = 2, and the backlog is the oldest's age (40 minutes and the test's time)
    assert metric_maximum(metered_sweeper, "OpenItems") == [2.0]
    [backlog] = metric_maximum(metered_sweeper, "SweepBacklogSeconds")
    assert 2400 <= backlog < 2700


# --- failures and the time budget -------------------------------------------------------------

POISON = f"{PREFIX}poison-0123456789abcdef"


def test_a_poison_item_does_not_strand_the_newer_ones(cloud, ledger, sweeper_handler, context):
    # Given a completed job whose <job>.json was deleted, its item the oldest open one, and a
    # newer lost job
    cloud.start_job(POISON, "talks/poison.mp3")
    cloud.complete_job(POISON)
    cloud.age_job(POISON, created=timedelta(minutes=15), completed=timedelta(minutes=10))
    cloud.s3.delete_object(Bucket=OUTPUT_BUCKET, Key=f"{POISON}.json")
    ledger.put_version("talks/poison.mp3", State.STARTED, job=POISON, age=timedelta(minutes=30))
    lost_job(cloud, ledger)

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then the lost job is harvested and the broken one is reported, not raised
    assert report["harvested"] == [LOST_JOB]
    assert report["failed"] == [POISON]
    assert cloud.read_output(f"transcripts/{KEY}.txt") == "Hello world. This is a test.\n"


def test_a_sweep_counts_the_items_it_could_not_handle_in_a_metric(
    cloud, ledger, metered_sweeper, context
):
    # Given a completed job whose result is gone
    cloud.start_job(POISON, "talks/poison.mp3")
    cloud.complete_job(POISON, write_result=False)
    cloud.age_job(POISON, created=timedelta(minutes=15), completed=timedelta(minutes=10))
    ledger.put_version("talks/poison.mp3", State.STARTED, job=POISON)

    # When the sweep runs
    metered_sweeper.handler(scheduled_event(), context)

    # Then SweepFailures = 1 is in the namespace the alarm reads
    assert metric_maximum(metered_sweeper, "SweepFailures") == [1.0]


def test_the_time_budget_stops_a_sweep_cleanly_and_the_next_sweep_goes_on(
    cloud, ledger, sweeper_handler
):
    # Given three lost jobs, and a clock on which each GetTranscriptionJob takes 25 s
    lost = [f"{PREFIX}budget-{n}-0123456789abcdef" for n in range(3)]
    for n, name in enumerate(lost):
        lost_job(cloud, ledger, name, f"talks/{name}.mp3", age=timedelta(minutes=30 - n))
    asked = get_job_calls(sweeper_handler)

    def seconds_left(total: int) -> Callable[[], int]:
        start = len(asked)
        return lambda: (total - 25 * (len(asked) - start)) * 1000

    # When a sweep with 150 s left runs (two lost jobs cost 100 s: 50 s is under the margin),
    # then one with all its time
    first = sweeper_handler.handler(scheduled_event(), TimedContext(remaining=seconds_left(150)))
    second = sweeper_handler.handler(scheduled_event(), TimedContext(remaining=seconds_left(600)))

    # Then the first harvests the two oldest and stops, and the second harvests the third
    assert (first["harvested"], first["out_of_time"]) == (lost[:2], True)
    assert (second["harvested"], second["out_of_time"]) == ([lost[2]], False)
    assert cloud.output_keys("transcripts/") == sorted(
        f"transcripts/talks/{name}.mp3.{ext}"
        for name in lost
        for ext in ("json", "srt", "txt", "vtt")
    )


# --- announcements ----------------------------------------------------------------------------


def test_a_final_item_with_a_pending_notice_is_handed_to_the_announcer(
    ledger, sweeper_handler, context, monkeypatch
):
    # Given a transcribed version whose notice failed to send 10 minutes ago, and an announcer
    finished = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    ledger.put_version(
        KEY,
        State.TRANSCRIBED,
        job=LOST_JOB,
        **{
            NOTICE: Announcement.PENDING.value,
            OUTCOME_EVENT: Announcement.SENT.value,
            FINISHED_AT: finished,
        },
    )
    handed: list[dict[str, Any]] = []

    def announce(item: dict[str, Any]) -> tuple[str, ...]:
        handed.append(item)
        return (NOTICE,)

    monkeypatch.setattr(sweeper_handler, "announce_item", announce)

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then the item is handed over once, and nothing else is done with it
    assert [(item[PARTITION_KEY], item[NOTICE]) for item in handed] == [(KEY, "PENDING")]
    assert (report["announced"], report["harvested"]) == ([KEY], [])


def test_a_pending_outcome_event_is_sent_by_the_sweep_and_marked_sent(
    ledger, sweeper_handler, context
):
    # Given a failed version whose outcome event is still pending (its first send failed)
    finished = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    ledger.put_version(
        KEY,
        State.FAILED,
        job=LOST_JOB,
        **{OUTCOME_EVENT: Announcement.PENDING.value, FINISHED_AT: finished},
    )

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then the sweep sends it, and the item records it as sent and leaves the open items
    assert (report["announced"], report["unannounced"]) == ([KEY], [])
    assert sweeper_handler.handler(scheduled_event(), context)["open_items"] == 0


def test_the_sweeper_refuses_to_start_without_the_ledger_table(cloud, load_handler, monkeypatch):
    # Given an environment without the ledger table's name
    monkeypatch.delenv(names.LEDGER_TABLE, raising=False)

    # When the function starts, then it says what is missing
    with pytest.raises(RuntimeError, match=names.LEDGER_TABLE):
        load_handler("sweeper")
