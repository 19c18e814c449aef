"""How the model wires the ledger and the sweeper: the one place to adapt when they change.

- ``MemoryLedger`` is the ledger table in memory. The sweeper reads it with the same call it
  makes to DynamoDB (``query`` on ``OPEN_INDEX``, oldest first, pages of at most 1 MB with
  ``LastEvaluatedKey``), and the index is sparse as DynamoDB's is: an item is in it only while
  it has ``OPEN``. moto's DynamoDB was measured first and is too slow for this run: 1-2 ms
  a write on an idle machine (2-5 ms on a loaded one), ~30,000 writes for 10,000 uploads, and
  every Query page scans the whole table (56 ms at 5,000 items): 47 s of wall time for 2,000
  uploads on a loaded machine, where ``make bench`` gives the whole run 60 s.
- ``LedgerWrites`` makes the start and harvest functions' ledger writes as docs/ledger.md
  describes them (RECEIVED, then STARTED or REJECTED, then TRANSCRIBED, FAILED or SUPERSEDED;
  each a conditional transition), for start and harvest code that does not write the ledger
  itself yet. When it does, drop the calls to it in simulation.py (``received``, ``started``,
  ``rejected``, ``settled``) and give that code a table it can write: moto's (slow, see above)
  or this one with the writes it makes.
- ``run_sweep`` builds what the sweeper is given.

The jobs that finished in the day before the burst (``finished_in_lookback``) are not written
as items: settled items are not in the sparse index the sweeper reads, so they cost it
nothing (docs/sweeper.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer

from benchmarks.burst.scenario import SETTINGS
from transcribe_pipeline.harvest import Harvest
from transcribe_pipeline.keys import S3Object
from transcribe_pipeline.ledger_schema import (
    FINISHED_AT,
    JOB,
    OPEN,
    OPEN_INDEX,
    OPEN_SINCE,
    OPEN_VALUE,
    PARTITION_KEY,
    PROFILE,
    RECEIVED_AT,
    SEQUENCER,
    SORT_KEY,
    STARTED_AT,
    STATE,
    STATE_INDEX_SORT_KEY,
    VERSION_ID,
    State,
    padded_sequencer,
    version_sort_key,
)
from transcribe_pipeline.sweeper import SweepReport, sweep

if TYPE_CHECKING:
    from benchmarks.burst.simulation import Simulation
    from benchmarks.burst.sweeping import SweepProcess

TABLE = "Ledger"
GRACE = timedelta(minutes=2)
STUCK_AFTER = timedelta(hours=6)
# A Query returns at most 1 MB of items a page (docs/sweeper.md).
QUERY_PAGE_BYTES = 1024 * 1024
# Outcomes that settle a STARTED version (the others write nothing).
SETTLING = {
    Harvest.TRANSCRIBED: State.TRANSCRIBED,
    Harvest.FAILED: State.FAILED,
    Harvest.SUPERSEDED: State.SUPERSEDED,
}
_SERIALIZER = TypeSerializer()
ItemKey = tuple[str, str]


class MemoryLedger:
    """The ledger table in memory: its items, and the Query the sweeper makes on OPEN_INDEX."""

    def __init__(self) -> None:
        self.items: dict[ItemKey, dict[str, Any]] = {}

    def query(self, **request: Any) -> dict[str, Any]:
        """DynamoDB's Query on the sparse open-items index, as the sweeper sends it."""
        if (
            request["TableName"] != TABLE
            or request["IndexName"] != OPEN_INDEX
            or request["ExpressionAttributeNames"] != {"#open": OPEN}
            or request["ExpressionAttributeValues"] != {":open": {"S": OPEN_VALUE}}
            or request["KeyConditionExpression"] != "#open = :open"
        ):
            raise ValueError(f"Not the open-items query this model answers: {request}")
        ordered = sorted(
            (item[OPEN_SINCE], key) for key, item in self.items.items() if item.get(OPEN)
        )
        if not request.get("ScanIndexForward", True):
            ordered.reverse()
        start = request.get("ExclusiveStartKey")
        if start is not None:
            after = (start[OPEN_SINCE]["S"], (start[PARTITION_KEY]["S"], start[SORT_KEY]["S"]))
            ordered = ordered[ordered.index(after) + 1 :]
        page: list[dict[str, Any]] = []
        size = 0
        for _since, key in ordered:
            typed = {name: _SERIALIZER.serialize(value) for name, value in self.items[key].items()}
            size += sum(len(name) + len(str(value)) for name, value in self.items[key].items())
            if page and size > QUERY_PAGE_BYTES:
                last = page[-1]
                return {
                    "Items": page,
                    "LastEvaluatedKey": {
                        name: last[name] for name in (OPEN, OPEN_SINCE, PARTITION_KEY, SORT_KEY)
                    },
                }
            page.append(typed)
        return {"Items": page}


class LedgerWrites:
    """The ledger writes of the start and harvest functions, as docs/ledger.md describes them."""

    def __init__(self, ledger: MemoryLedger, now: Any) -> None:
        self.ledger, self.now = ledger, now
        self.keys: dict[str, ItemKey] = {}  # job name -> item key

    def received(self, obj: S3Object, sequencer: str) -> None:
        """The start function saw the version's event: RECEIVED and open, unless seen before."""
        key = (obj.key, version_sort_key(sequencer))
        if key in self.ledger.items:
            return  # A duplicate event: the item carries on from its state.
        at = self.now()
        self.ledger.items[key] = {
            PARTITION_KEY: obj.key,
            SORT_KEY: key[1],
            SEQUENCER: padded_sequencer(sequencer),
            VERSION_ID: obj.version_id or "",
            STATE: State.RECEIVED.value,
            STATE_INDEX_SORT_KEY: obj.key,
            PROFILE: "",
            RECEIVED_AT: at,
            OPEN: OPEN_VALUE,
            OPEN_SINCE: at,
        }

    def started(self, obj: S3Object, sequencer: str, job_name: str) -> None:
        """Its job was started (or found started): RECEIVED -> STARTED."""
        key = (obj.key, version_sort_key(sequencer))
        self.keys[job_name] = key
        item = self.ledger.items[key]
        if item[STATE] == State.RECEIVED:
            item.update({STATE: State.STARTED.value, JOB: job_name, STARTED_AT: self.now()})

    def rejected(self, obj: S3Object, sequencer: str) -> None:
        """Refused before or by StartTranscriptionJob: RECEIVED -> REJECTED, settled."""
        self._settle((obj.key, version_sort_key(sequencer)), State.RECEIVED, State.REJECTED)

    def settled(self, job_name: str, outcome: Harvest) -> None:
        """A harvest wrote (or skipped) the outcome: STARTED -> its final state, settled."""
        final = SETTLING.get(outcome)
        if final is not None and job_name in self.keys:
            self._settle(self.keys[job_name], State.STARTED, final)

    def _settle(self, key: ItemKey, before: State, after: State) -> None:
        item = self.ledger.items[key]
        if item[STATE] != before:
            return  # Another writer got there first: the condition fails.
        item.update({STATE: after.value, FINISHED_AT: self.now()})
        item.pop(OPEN, None)
        item.pop(OPEN_SINCE, None)


def run_sweep(sim: Simulation, process: SweepProcess) -> SweepReport:
    """One sweeper invocation, as the Sweeper function's handler makes it."""
    return sweep(
        ledger=sim.sweep_ledger,
        table_name=TABLE,
        transcribe=sim.sweep_api,
        job_name_prefix=SETTINGS.job_name_prefix,
        harvest_job=sim.harvest_by_sweeper,
        announce_item=None,  # no topic, no outcome events in the model: nothing to announce
        grace=GRACE,
        stuck_after=STUCK_AFTER,
        remaining_ms=process.remaining_ms,
        now=sim.clock.moment(),
        sleep=process.wait,  # the pause between list pages takes simulated time too
    )
