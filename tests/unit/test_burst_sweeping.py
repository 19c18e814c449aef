"""The burst model's timed sweeps and ledger (benchmarks/burst/): simulated time, no real time."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from benchmarks.burst import memory_table, wiring
from benchmarks.burst.latency import CALL_SECONDS
from benchmarks.burst.sweeping import RateQuota, SweepProcess, TimedClient
from benchmarks.burst.wiring import MemoryLedger
from transcribe_pipeline.keys import S3Object
from transcribe_pipeline.ledger import Ledger
from transcribe_pipeline.ledger_schema import (
    OPEN,
    OPEN_INDEX,
    OPEN_VALUE,
    PARTITION_KEY,
    SORT_KEY,
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


# --- the model's ledger (benchmarks/burst/wiring.py, memory_table.py) ---------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)
OPEN_ITEMS_QUERY: dict[str, Any] = {
    "TableName": wiring.TABLE,
    "IndexName": OPEN_INDEX,
    "KeyConditionExpression": "#open = :open",
    "ExpressionAttributeNames": {"#open": OPEN},
    "ExpressionAttributeValues": {":open": {"S": OPEN_VALUE}},
    "ScanIndexForward": True,
}


def _open_keys(table: MemoryLedger) -> list[str]:
    """Every page of the sweeper's Query, in order: the source keys."""
    request = dict(OPEN_ITEMS_QUERY)
    keys: list[str] = []
    while True:
        page = table.client.query(**request)
        keys += [item[PARTITION_KEY]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return keys
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_the_sweeper_reads_what_the_real_ledger_wrote_oldest_first_in_pages(monkeypatch):
    # Given five versions received in turn by the real Ledger, two of them since settled
    monkeypatch.setattr(memory_table, "QUERY_PAGE_BYTES", 700)
    table = MemoryLedger()
    ledger = Ledger(table.table, table.client)
    versions = [
        ledger.receive(
            S3Object(bucket="in", key=f"k{n}", version_id=f"v{n}"),
            sequencer=f"{n + 1:X}",
            profile="",
            now=T0 + timedelta(seconds=10 - n),  # received newest key first
        ).version
        for n in range(5)
    ]
    for settled in (versions[1], versions[3]):
        assert ledger.supersede(settled, now=T0 + timedelta(minutes=1))

    # When every page of the open-items Query is read, then only the open ones come, oldest first
    assert _open_keys(table) == ["k4", "k2", "k0"]
    assert len(table.client.query(**OPEN_ITEMS_QUERY)["Items"]) < 3  # more than one page


def test_a_transaction_whose_condition_fails_writes_nothing_and_says_which_failed():
    table = MemoryLedger()
    table.table.put_item(Item={PARTITION_KEY: "k", SORT_KEY: "HEAD", "sequencer": "2"})
    with pytest.raises(ClientError) as cancelled:
        table.client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": wiring.TABLE,
                         "Item": {PARTITION_KEY: {"S": "k"}, SORT_KEY: {"S": "V#1"}}}},
                {"ConditionCheck": {"TableName": wiring.TABLE,
                                    "Key": {PARTITION_KEY: {"S": "k"}, SORT_KEY: {"S": "HEAD"}},
                                    "ConditionExpression": "#s = :s",
                                    "ExpressionAttributeNames": {"#s": "sequencer"},
                                    "ExpressionAttributeValues": {":s": {"S": "1"}}}},
            ]
        )  # fmt: skip
    codes = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert codes == ["None", "ConditionalCheckFailed"]
    assert [item[SORT_KEY] for item in table.items()] == ["HEAD"]


@pytest.mark.parametrize(
    ("update", "condition"),
    [
        ("SET #a = #a + :v", None),  # arithmetic
        ("ADD #a :v", None),
        ("SET #a = :v", "contains(#a, :v)"),
        ("SET #a = :v", "#a BETWEEN :v AND :v"),
        ("SET #a = :v", "#a <> :v"),  # an absent attribute: DynamoDB's answer is not guessed
    ],
)
def test_an_expression_the_ledger_does_not_send_is_refused_not_guessed(update, condition):
    table = MemoryLedger()
    request = {"ConditionExpression": condition} if condition else {}
    with pytest.raises(NotImplementedError):
        table.table.update_item(
            Key={PARTITION_KEY: "k", SORT_KEY: "V#1"},
            UpdateExpression=update,
            ExpressionAttributeNames={"#a": "a"},
            ExpressionAttributeValues={":v": 1},
            **request,
        )
