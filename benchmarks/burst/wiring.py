"""How the model runs the sweeper: the one place that builds what the sweeper is given.

Everything the sweeper's code is handed (clients, settings, time) is built here, so that a
change of the sweeper's signature is a change of this file only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from benchmarks.burst.scenario import SETTINGS
from transcribe_pipeline.sweeper import sweep

if TYPE_CHECKING:
    from benchmarks.burst.simulation import Simulation
    from benchmarks.burst.sweeping import SweepProcess

LOOKBACK_SECONDS = 24 * 3600.0
GRACE = timedelta(minutes=2)
STUCK_AFTER = timedelta(hours=6)


def run_sweep(sim: Simulation, process: SweepProcess) -> object:
    """One sweeper invocation, as the Sweeper function's handler makes it."""
    return sweep(
        transcribe=sim.sweep_api,
        s3=sim.sweep_s3,
        settings=SETTINGS,
        harvest_job=sim.harvest_by_sweeper,
        lookback=timedelta(seconds=LOOKBACK_SECONDS),
        grace=GRACE,
        stuck_after=STUCK_AFTER,
        now=sim.clock.moment(),
        sleep=process.wait,  # the pause between list pages takes simulated time too
    )
