"""How the model wires the ledger and the sweeper: the one place to adapt when they change.

- ``MemoryLedger`` is the ledger table in memory (memory_table.py), with the key schema and
  indexes of ledger_schema. The start and harvest functions write it through the real
  ``Ledger`` (its ``table`` and ``client``), and the sweeper reads it with the Query it makes
  on DynamoDB: one store, so the sweeper sees what the functions wrote. moto's DynamoDB was
  measured first and is too slow for this run: 1-2 ms a write on an idle machine (2-5 ms on a
  loaded one), ~30,000 writes for 10,000 uploads, and every Query page scans the whole table
  (56 ms at 5,000 items): 47 s of wall time for 2,000 uploads on a loaded machine, where
  ``make bench`` gives the whole run 60 s.
- ``run_sweep`` builds what the sweeper is given.

The jobs that finished in the day before the burst (``finished_in_lookback``) are not written
as items: settled items are not in the sparse index the sweeper reads, so they cost it
nothing (docs/sweeper.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from benchmarks.burst.memory_table import MemoryTable
from benchmarks.burst.scenario import SETTINGS
from transcribe_pipeline.ledger_schema import table_keys_and_indexes
from transcribe_pipeline.sweeper import SweepReport, sweep

if TYPE_CHECKING:
    from benchmarks.burst.simulation import Simulation
    from benchmarks.burst.sweeping import SweepProcess

TABLE = "Ledger"
GRACE = timedelta(minutes=2)
STUCK_AFTER = timedelta(hours=6)


class MemoryLedger(MemoryTable):
    """The ledger table in memory: ledger_schema's keys and both of its indexes."""

    def __init__(self) -> None:
        shape = table_keys_and_indexes()
        partition, sort = (key["AttributeName"] for key in shape["KeySchema"])
        indexes = {
            index["IndexName"]: tuple(key["AttributeName"] for key in index["KeySchema"])
            for index in shape["GlobalSecondaryIndexes"]
        }
        super().__init__(TABLE, partition, sort, indexes=indexes)


def run_sweep(sim: Simulation, process: SweepProcess) -> SweepReport:
    """One sweeper invocation, as the Sweeper function's handler makes it."""
    return sweep(
        ledger=sim.sweep_ledger,
        table_name=TABLE,
        transcribe=sim.sweep_api,
        job_name_prefix=SETTINGS.job_name_prefix,
        harvest_job=sim.harvest_by_sweeper,
        announce_item=sim.announce_by_sweeper,
        grace=GRACE,
        stuck_after=STUCK_AFTER,
        remaining_ms=process.remaining_ms,
        now=sim.clock.moment(),
        sleep=process.wait,  # the pause between list pages takes simulated time too
    )
