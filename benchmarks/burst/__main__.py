"""``python -m benchmarks.burst``: run one scenario, print the table, write the results."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.burst.scenario import GOAL_MISSED, BurstResult, Scenario
from benchmarks.burst.simulation import simulate
from benchmarks.burst.wiring import GRACE
from transcribe_pipeline.limits import START_CALLS_PER_SECOND
from transcribe_pipeline.throttling import START_ATTEMPTS

RESULTS = Path(__file__).resolve().parent.parent / "results" / "burst.json"
# Simulated seconds a sweep may take at the burst's peak (issue goal).
LONGEST_SWEEP_GOAL_SECONDS = 60.0


def _table(scenario: Scenario, result: BurstResult) -> Any:
    from rich.table import Table

    table = Table(title=f"Burst of {scenario.uploads:,} uploads (seed {scenario.seed}, "
                        f"{'paced' if scenario.pacing else 'unpaced'} starts at "
                        f"{scenario.start_jobs_per_second:g}/s, others {scenario.other_tps:g}/s, "
                        f"max_attempts {scenario.max_attempts})")  # fmt: skip
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal")
    goals = {name: f"{sign} {limit:g}" for name, (sign, limit) in goals_of(scenario).items()}
    for name, value in asdict(result).items():
        if name != "lost_keys":
            table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value),
                          goals.get(name, ""))  # fmt: skip
    return table


def goals_of(scenario: Scenario) -> dict[str, tuple[str, float]]:
    """Each goal: the measure, ``=`` or ``≤``, and its limit (benchmarks/README.md, "Burst")."""
    return {
        "lost": ("=", 0),
        "duplicate_jobs": ("=", 0),
        "ratio": ("≤", 1.1),
        "longest_sweep_s": ("≤", LONGEST_SWEEP_GOAL_SECONDS),
        # A lost event is told from a late one only after the grace; the next sweep starts
        # within one interval and gets to it within its own length.
        "lost_event_max_delay_s": (
            "≤",
            scenario.sweep_interval + GRACE.total_seconds() + LONGEST_SWEEP_GOAL_SECONDS,
        ),
        "lost_events_unharvested": ("=", 0),
    }


def missed_goals(scenario: Scenario, result: BurstResult) -> list[str]:
    """The measures that missed their goal (a lost event never harvested misses its delay)."""
    figures = asdict(result)
    missed = []
    for name, (sign, limit) in goals_of(scenario).items():
        value = figures[name]
        if value is None or (value != limit if sign == "=" else value > limit):
            missed.append(name)
    return missed


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
    parser.add_argument("--finished-in-lookback", type=int, default=100_000,
                        help="jobs of the pipeline that finished the day before")  # fmt: skip
    parser.add_argument("--lost-event-fraction", type=float, default=Scenario.drop_rate,
                        help="the share of completion events that never arrive")  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    scenario = Scenario(
        uploads=args.uploads,
        seed=args.seed,
        max_attempts=args.max_attempts,
        pacing=not args.no_pacing,
        start_jobs_per_second=args.start_jobs_per_second,
        other_tps=args.other_tps,
        finished_in_lookback=args.finished_in_lookback,
        drop_rate=args.lost_event_fraction,
    )
    result = simulate(scenario)
    from rich.console import Console

    Console().print(_table(scenario, result))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    missed = missed_goals(scenario, result)
    goals = {name: f"{sign} {limit:g}" for name, (sign, limit) in goals_of(scenario).items()}
    figures = {"scenario": asdict(scenario), "result": asdict(result), "goals": goals,
               "missed": missed}  # fmt: skip
    args.output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    if missed:
        Console().print(f"Goals missed: {', '.join(missed)}")
    return GOAL_MISSED if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
