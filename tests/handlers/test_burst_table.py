"""The burst model's in-memory ledger table answers the real Ledger's calls as DynamoDB does.

The same script of ``Ledger`` calls (every method, each of its outcomes) runs against moto's
DynamoDB and against ``benchmarks/burst/memory_table.py``; what each call returns, the items
left and the sweeper's open-items Query must be the same. A change to an expression in
ledger.py that the in-memory table does not implement fails here (NotImplementedError), as
does one it would answer differently.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from benchmarks.burst import wiring
from benchmarks.burst.wiring import MemoryLedger
from tests.handlers.conftest import LEDGER_TABLE, REGION
from transcribe_pipeline.keys import S3Object
from transcribe_pipeline.ledger import Commit, Ledger, Received, Version
from transcribe_pipeline.ledger_schema import (
    NOTICE,
    OPEN,
    OPEN_INDEX,
    OPEN_VALUE,
    OUTCOME_EVENT,
    PARTITION_KEY,
    SORT_KEY,
    State,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Script:
    """Ledger calls in order, each at its own time, recording what each returned."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.seen: list[Any] = []
        self.tick = 0

    def now(self) -> datetime:
        self.tick += 1
        return T0 + timedelta(seconds=self.tick)

    def record(self, value: Any) -> Any:
        self.seen.append(_comparable(value))
        return value


def _comparable(value: Any) -> Any:
    if isinstance(value, Version):
        return ("version", dict(value.item))
    if isinstance(value, Received):
        return ("received", dict(value.version.item), value.head_sequencer, value.is_head)
    return value


def every_ledger_call(ledger: Ledger) -> list[Any]:
    """Each Ledger method through each of its outcomes; what every call returned."""
    s = Script(ledger)
    a = S3Object(bucket="media-in", key="a/one.mp3", size=10, version_id="va1", etag="e1")
    older = S3Object(bucket="media-in", key="a/one.mp3", size=9, version_id="va0")
    # Receiving: new, duplicate, an older event (the head stays), superseding that one twice.
    first = s.record(ledger.receive(a, sequencer="1A", profile="", now=s.now())).version
    s.record(ledger.receive(a, sequencer="1A", profile="", now=s.now()))
    stale = s.record(ledger.receive(older, sequencer="F", profile="p/", now=s.now())).version
    s.record(ledger.supersede(stale, now=s.now()))
    s.record(ledger.supersede(stale, now=s.now()))
    # Starting: once only; found by its job.
    s.record(ledger.mark_started(first, job_name="tp-a-1", now=s.now()))
    s.record(ledger.mark_started(first, job_name="tp-a-1", now=s.now()))
    started = s.record(ledger.find_by_job(a.key, "tp-a-1"))
    s.record(ledger.find_by_job(a.key, "tp-other"))
    # Its outcome: committed once, with a notice; then announced and settled.
    outcome: dict[str, Any] = {
        "outputs": ["transcripts/a/one.txt"],
        "reason": None,
        "language": "en-US",
    }
    s.record(ledger.commit_outcome(started, source=State.STARTED, target=State.TRANSCRIBED,
                                   job_name="tp-a-1", duration_s=12.5, notice=True, now=s.now(),
                                   **outcome))  # fmt: skip
    s.record(ledger.commit_outcome(started, source=State.STARTED, target=State.TRANSCRIBED,
                                   job_name="tp-a-1", duration_s=12.5, notice=True, now=s.now(),
                                   **outcome))  # fmt: skip
    done = s.record(ledger.current(a.key))
    claimed = s.record(ledger.claim(done, now=s.now()))
    s.record(ledger.claim(done, now=s.now()))  # held
    ledger.mark_sent(claimed, NOTICE)
    s.record(ledger.settle(claimed))  # the outcome event is still pending
    ledger.release(claimed)
    again = s.record(ledger.claim(done, now=s.now()))
    ledger.mark_sent(again, OUTCOME_EVENT)
    with pytest.raises(ClientError) as sent_twice:
        ledger.mark_sent(again, OUTCOME_EVENT)
    s.record(sent_twice.value.response["Error"]["Code"])
    s.record(ledger.settle(again))
    # A newer version while one is started: the older one's commit is superseded.
    newer = S3Object(bucket="media-in", key="a/one.mp3", size=11, version_id="va2")
    second = s.record(ledger.receive(newer, sequencer="2B", profile="", now=s.now())).version
    s.record(ledger.mark_started(second, job_name="tp-a-2", now=s.now()))
    racing = s.record(ledger.receive(newer, sequencer="3C", profile="", now=s.now()))
    running = ledger.find_by_job(a.key, "tp-a-2")
    assert running is not None
    s.record(ledger.commit_outcome(running, source=State.STARTED,
                                   target=State.FAILED, job_name="tp-a-2", outputs=["failed/a"],
                                   reason="corrupt", language=None, duration_s=None,
                                   notice=False, now=s.now()))  # fmt: skip
    # An unversioned upload (no version id, size or etag), rejected before any job.
    b = S3Object(bucket="media-in", key="b.txt")
    plain = s.record(ledger.receive(b, sequencer="5", profile="", now=s.now())).version
    s.record(ledger.head(b.key))
    s.record(ledger.commit_outcome(plain, source=State.RECEIVED, target=State.REJECTED,
                                   job_name=None, outputs=["failed/b.txt.json"],
                                   reason="extension", language=None, duration_s=None,
                                   notice=False, now=s.now()))  # fmt: skip
    # Backfill: a fresh key, the same job again, and a key with a real version.
    c = S3Object(bucket="media-in", key="c.mp3", version_id="vc")
    backfill: dict[str, Any] = {
        "state": State.TRANSCRIBED,
        "outputs": ["transcripts/c.txt"],
        "reason": None,
        "language": "en-GB",
        "duration_s": 3.0,
        "notice": True,
        "profile": "",
    }
    s.record(ledger.backfill(c, job_name="tp-c", now=s.now(), **backfill))
    s.record(ledger.backfill(c, job_name="tp-c", now=s.now(), **backfill))
    s.record(ledger.backfill(a, job_name="tp-a-0", now=s.now(), **backfill))
    s.record(ledger.head_sequencer(c.key))
    s.record(ledger.head_sequencer("never-seen"))
    s.record(ledger.version(a.key, racing.version.sort_key))
    return s.seen


def _items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: (item[PARTITION_KEY], item[SORT_KEY]))


def _open_items(client: Any, table_name: str) -> list[dict[str, Any]]:
    """Every page of the sweeper's Query (sweeper._open_items), in order."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": OPEN_INDEX,
        "KeyConditionExpression": "#open = :open",
        "ExpressionAttributeNames": {"#open": OPEN},
        "ExpressionAttributeValues": {":open": {"S": OPEN_VALUE}},
        "ScanIndexForward": True,
    }
    found: list[dict[str, Any]] = []
    while True:
        page = client.query(**request)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def moto_ledger(cloud) -> tuple[Ledger, Any]:
    """The real Ledger on the `cloud` fixture's table in moto's DynamoDB, and a client."""
    return cloud.ledger, boto3.client("dynamodb", region_name=REGION)


def test_every_ledger_call_returns_what_dynamodb_returns(moto_ledger):
    memory = MemoryLedger()
    assert every_ledger_call(Ledger(memory.table, memory.client)) == every_ledger_call(
        moto_ledger[0]
    )


def test_the_items_left_and_the_open_items_query_are_dynamodbs(moto_ledger):
    memory = MemoryLedger()
    every_ledger_call(Ledger(memory.table, memory.client))
    ledger, client = moto_ledger
    every_ledger_call(ledger)
    stored = [_plain(item) for item in client.scan(TableName=LEDGER_TABLE)["Items"]]
    assert _items(memory.items()) == _items(stored)
    assert _open_items(memory.client, wiring.TABLE) == _open_items(client, LEDGER_TABLE)


def test_an_unused_placeholder_is_refused_as_dynamodb_refuses_it(moto_ledger):
    memory = MemoryLedger()
    for table in (memory.table, moto_ledger[0].table):
        with pytest.raises(ClientError) as refused:
            table.update_item(
                Key={PARTITION_KEY: "k", SORT_KEY: "HEAD"},
                UpdateExpression="SET #a = :a",
                ExpressionAttributeNames={"#a": "a"},
                ExpressionAttributeValues={":a": "1", ":unused": "2"},
            )
        assert refused.value.response["Error"]["Code"] == "ValidationException"


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    deserialize = TypeDeserializer().deserialize
    return {name: deserialize(value) for name, value in item.items()}


def test_the_script_reaches_every_commit_outcome():
    # Guards the script itself: each of the commits' three outcomes is compared above.
    memory = MemoryLedger()
    seen = every_ledger_call(Ledger(memory.table, memory.client))
    commits = {value for value in seen if isinstance(value, Commit)}
    assert commits == {Commit.COMMITTED, Commit.ALREADY_DONE, Commit.SUPERSEDED}
