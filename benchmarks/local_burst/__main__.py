"""``python -m benchmarks.local_burst``: the burst from the command line."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from benchmarks.burst import GOAL_MISSED
from benchmarks.local_burst.plan import RESULTS
from benchmarks.local_burst.reporting import report, run


def main(argv: list[str] | None = None) -> int:
    """Run the burst, print the table, write benchmarks/results/local_burst.json."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.local_burst",
        description="A real burst on the local cloud, with faults.",
    )
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds from the first upload until every output must be there",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)  # fmt: skip
    args = parser.parse_args(argv)
    if args.uploads < 3:
        parser.error("--uploads must be at least 3 (one dropped, one duplicated, one plain)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    results = report(run(uploads=args.uploads, seed=args.seed, timeout=args.timeout), args.output)
    return 0 if results["ok"] else GOAL_MISSED


if __name__ == "__main__":
    sys.exit(main())
