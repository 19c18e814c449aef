"""The burst model's timed sweeps and ledger (benchmarks/burst/): simulated time, no real time."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

import pytest

from benchmarks.burst import wiring
from benchmarks.burst.latency import CALL_SECONDS
from benchmarks.burst.sweeping import RateQuota, SweepProcess, TimedClient
from benchmarks.burst.wiring import LedgerWrites, MemoryLedger
from transcribe_pipeline.harvest import Harvest
from transcribe_pipeline.keys import S3Object
from transcribe_pipeline.ledger_schema import (
    OPEN,
    OPEN_INDEX,
    OPEN_VALUE,
    PARTITION_KEY,
    STATE,
    State,
)


class Loop:
    """A minimal event loop on a simulated clock, like the burst simulation's."""

    def __init__(self) -> None:
        self.now = 0.0
        self.events: list[tuple[float, int, Callable[[], None]]] = []
        self.seq = itertools.count()

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.events, (when, next(self.seq), action))

    def run(self) -> None:
        while self.events:
            self.now, _, action = heapq.heappop(self.events)
            action()


def run_sweep(loop: Loop, body, timeout: float = 600.0) -> SweepProcess:
    ended: list[SweepProcess] = []
    process = SweepProcess(
        now=lambda: loop.now, schedule=loop.at, timeout=timeout, body=body, on_end=ended.append
    )
    loop.at(0.0, process.start)
    loop.run()
    assert ended == [process]
    return process


class Service:
    def get_transcription_job(self, **_: object) -> str:
        return "job"


def test_each_call_of_a_sweep_takes_its_latency_on_the_simulated_clock():
    loop = Loop()
    holder: list[SweepProcess] = []

    def body(process: SweepProcess) -> None:
        holder.append(process)
        client = TimedClient(Service(), lambda: holder[0], {})
        for _ in range(3):
            client.get_transcription_job(TranscriptionJobName="x")

    process = run_sweep(loop, body)
    assert process.duration == pytest.approx(3 * CALL_SECONDS["GetTranscriptionJob"])
    assert process.calls == 3
    assert not process.timed_out


def test_calls_beyond_the_quota_wait_for_their_turn():
    quota = RateQuota(5)
    waits = [quota.delay(0.0) for _ in range(7)]
    assert waits[:5] == [0.0] * 5
    assert waits[5:] == pytest.approx([0.2, 0.4])
    assert quota.delay(0.2) == pytest.approx(0.4)  # after the two already waiting


def test_a_sweep_that_outlasts_the_timeout_is_ended_there_and_its_handlers_do_not_catch_it():
    loop = Loop()
    caught: list[BaseException] = []

    def body(process: SweepProcess) -> None:
        while True:
            try:
                process.wait(7.0)
            except Exception as error:  # noqa: BLE001 - what the sweeper's own handler does
                caught.append(error)

    process = run_sweep(loop, body, timeout=60.0)
    assert process.timed_out
    assert process.duration == 60.0
    assert caught == []


def test_the_event_loop_goes_on_while_a_sweep_waits():
    loop = Loop()
    seen: list[tuple[float, float]] = []
    loop.at(5.0, lambda: seen.append((loop.now, -1.0)))

    def body(process: SweepProcess) -> None:
        process.wait(3.0)
        seen.append((loop.now, process.remaining_ms()))
        process.wait(4.0)
        seen.append((loop.now, process.remaining_ms()))

    run_sweep(loop, body, timeout=10.0)
    assert seen == [(3.0, 7000), (5.0, -1.0), (7.0, 3000)]


# --- the model's ledger (benchmarks/burst/wiring.py) --------------------------------------------


def _writes(monkeypatch: pytest.MonkeyPatch, page_bytes: int) -> tuple[MemoryLedger, LedgerWrites]:
    monkeypatch.setattr(wiring, "QUERY_PAGE_BYTES", page_bytes)
    clock = itertools.count()
    ledger = MemoryLedger()
    return ledger, LedgerWrites(ledger, lambda: f"2026-01-01T00:00:{next(clock):02d}+00:00")


def _open_keys(ledger: MemoryLedger) -> list[str]:
    """Every page of the sweeper's Query, in order: the source keys."""
    request = dict(OPEN_ITEMS_QUERY)
    keys: list[str] = []
    while True:
        page = ledger.query(**request)
        keys += [item[PARTITION_KEY]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return keys
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


OPEN_ITEMS_QUERY = {
    "TableName": wiring.TABLE,
    "IndexName": OPEN_INDEX,
    "KeyConditionExpression": "#open = :open",
    "ExpressionAttributeNames": {"#open": OPEN},
    "ExpressionAttributeValues": {":open": {"S": OPEN_VALUE}},
    "ScanIndexForward": True,
}


def test_the_model_ledger_answers_the_open_items_oldest_first_in_pages(monkeypatch):
    # Given five versions received in order, pages of about two items, two of them settled
    ledger, writes = _writes(monkeypatch, page_bytes=600)
    uploads = [S3Object(bucket="in", key=f"k{n}", version_id=f"v{n}") for n in range(5)]
    for n, obj in enumerate(uploads):
        writes.received(obj, f"{n + 1:X}")
        writes.started(obj, f"{n + 1:X}", f"tp-job-{n}")
    writes.settled("tp-job-1", Harvest.TRANSCRIBED)
    writes.settled("tp-job-3", Harvest.SUPERSEDED)

    # When every page of the open-items Query is read, then only the open ones come, oldest first
    assert _open_keys(ledger) == ["k0", "k2", "k4"]
    assert len(ledger.query(**OPEN_ITEMS_QUERY)["Items"]) < 3  # more than one page


def test_the_model_ledger_makes_each_transition_once(monkeypatch):
    # Given a version received twice (a duplicate event), started, then harvested twice
    ledger, writes = _writes(monkeypatch, page_bytes=1 << 20)
    obj = S3Object(bucket="in", key="k", version_id="v")
    writes.received(obj, "A")
    writes.started(obj, "A", "tp-job")
    writes.received(obj, "A")
    writes.settled("tp-job", Harvest.FAILED)
    writes.settled("tp-job", Harvest.ALREADY_HARVESTED)

    # Then it stays FAILED and settled
    [item] = ledger.items.values()
    assert item[STATE] == State.FAILED.value
    assert OPEN not in item
    assert _open_keys(ledger) == []
