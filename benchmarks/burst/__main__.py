"""``python -m benchmarks.burst``: run one scenario, print the table, write the results."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.burst.scenario import GOAL_MISSED, BurstResult, Scenario
from benchmarks.burst.simulation import simulate
from transcribe_pipeline.limits import START_CALLS_PER_SECOND
from transcribe_pipeline.throttling import START_ATTEMPTS

RESULTS = Path(__file__).resolve().parent.parent / "results" / "burst.json"


def _table(scenario: Scenario, result: BurstResult) -> Any:
    from rich.table import Table

    table = Table(title=f"Burst of {scenario.uploads:,} uploads (seed {scenario.seed}, "
                        f"{'paced' if scenario.pacing else 'unpaced'} starts at "
                        f"{scenario.start_jobs_per_second:g}/s, others {scenario.other_tps:g}/s, "
                        f"max_attempts {scenario.max_attempts})")  # fmt: skip
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal")
    goals = {"lost": "0", "duplicate_jobs": "0", "ratio": "≤ 1.1"}
    for name, value in asdict(result).items():
        if name != "lost_keys":
            table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value),
                          goals.get(name, ""))  # fmt: skip
    return table


def main(argv: list[str] | None = None) -> int:
    """Run the burst, print the table and write benchmarks/results/burst.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--uploads", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-attempts", type=int, default=START_ATTEMPTS)
    parser.add_argument(
        "--no-pacing", action="store_true", help="leave out the start function's Pacer"
    )
    parser.add_argument("--start-jobs-per-second", type=float, default=START_CALLS_PER_SECOND,
                        help="the stack's start_jobs_per_second setting")  # fmt: skip
    parser.add_argument("--other-tps", type=float, default=0.0,
                        help="starts per second other applications make (same quota)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    scenario = Scenario(
        uploads=args.uploads,
        seed=args.seed,
        max_attempts=args.max_attempts,
        pacing=not args.no_pacing,
        start_jobs_per_second=args.start_jobs_per_second,
        other_tps=args.other_tps,
    )
    result = simulate(scenario)
    from rich.console import Console

    Console().print(_table(scenario, result))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps({"scenario": asdict(scenario), "result": asdict(result)}, indent=2) + "\n",
        encoding="utf-8",
    )
    ok = result.lost == 0 and result.duplicate_jobs == 0 and result.ratio <= 1.1
    return 0 if ok else GOAL_MISSED


if __name__ == "__main__":
    raise SystemExit(main())
