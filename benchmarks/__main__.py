"""``make bench``: run every benchmark, write BENCHMARKS.md and benchmarks/results/summary.json."""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import asr_wer, cost_model, handlers, local_burst, local_pipeline, report, synth
from benchmarks.burst import GOAL_MISSED
from benchmarks.pipeline_overhead import Overhead

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SUMMARY = RESULTS / "summary.json"
PARTIAL = RESULTS / "partial.jsonl"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
LOG = logging.getLogger("benchmarks")


def _section(name: str, step: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one benchmark; a failure is recorded, not fatal to the others."""
    LOG.info("== %s", name)
    began = time.monotonic()
    try:
        result = step()
    except Exception as exc:  # noqa: BLE001 - one broken benchmark must not lose the rest
        LOG.error("%s failed: %s", name, exc)
        result = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
    result["section_seconds"] = round(time.monotonic() - began, 1)
    LOG.info("   %s done in %.0f s", name, result["section_seconds"])
    PARTIAL.parent.mkdir(parents=True, exist_ok=True)
    with PARTIAL.open("a") as out:  # survives an interrupted run
        out.write(json.dumps({name: result}) + "\n")
    return result


BURST_TIMEOUT_SECONDS = 60
LOCAL_BURST_UPLOADS = 200
LOCAL_BURST_SEED = 7


def _burst() -> dict[str, Any]:
    """Run the burst simulation (benchmarks/burst/) with a time limit; read its JSON."""
    burst_json = RESULTS / "burst.json"
    command = [sys.executable, "-m", "benchmarks.burst", "--output", str(burst_json)]
    note = "run by this benchmark"
    try:
        done = subprocess.run(command, cwd=ROOT, check=False, timeout=BURST_TIMEOUT_SECONDS,
                              stdout=subprocess.DEVNULL)  # fmt: skip
        # GOAL_MISSED: the simulation ran but missed a goal; its figures are the result.
        if done.returncode not in {0, GOAL_MISSED}:
            raise subprocess.CalledProcessError(done.returncode, command)
        note += "; goals met" if done.returncode == 0 else "; a goal was missed (see ratio)"
    except subprocess.TimeoutExpired:
        if not burst_json.exists():
            raise
        note = f"timed out after {BURST_TIMEOUT_SECONDS} s: figures of an earlier burst.json"
    return {**json.loads(burst_json.read_text()), "note": note}


def _durations(local: dict[str, Any]) -> dict[str, float]:
    found = local.get("function_durations_ms", {})
    return {name.split(" ")[0]: float(v["median_ms"]) for name, v in found.items()}


def main(argv: list[str] | None = None) -> int:
    """Run everything; non-zero if a benchmark failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each timed step")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["synth", "handlers", "local", "asr_wer", "burst",
                                 "local_burst"])  # fmt: skip
    parser.add_argument("--render", action="store_true",
                        help="only rewrite BENCHMARKS.md from summary.json")  # fmt: skip
    args = parser.parse_args(argv)
    if args.render:
        BENCHMARKS_MD.write_text(report.markdown(json.loads(SUMMARY.read_text())))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    began = time.monotonic()
    PARTIAL.unlink(missing_ok=True)
    summary: dict[str, Any] = {"machine": report.machine(), "runs": args.runs}
    if "synth" not in args.skip:
        summary["synth"] = _section("cdk synth", lambda: synth.measure(runs=args.runs))
    if "handlers" not in args.skip:
        summary["handlers"] = _section("handler imports", lambda: handlers.measure(runs=5))
    if "local" not in args.skip:
        summary["local"] = _section(
            "local cloud",
            lambda: local_pipeline.run(runs=args.runs, extra=Overhead(runs=args.runs)),
        )
    if "asr_wer" not in args.skip:
        summary["asr_wer"] = _section("bare recognition WER", asr_wer.measure)
    if "burst" not in args.skip:
        summary["burst"] = _section("burst simulation", _burst)
    if "local_burst" not in args.skip:
        # Real uploads on the local cloud, about 3 minutes; a missed goal is a result (its
        # reasons are in the figures), not a failed benchmark.
        summary["local_burst"] = _section(
            "local cloud burst",
            lambda: local_burst.report(
                local_burst.run(uploads=LOCAL_BURST_UPLOADS, seed=LOCAL_BURST_SEED)
            ),
        )
    local = summary.get("local", {})
    summary["cost"] = _section(
        "cost model",
        lambda: cost_model.model(_durations(local),
                                 float(local.get("output_bytes_per_audio_second") or 0.0)),
    )  # fmt: skip
    summary["wall_seconds"] = round(time.monotonic() - began, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")
    BENCHMARKS_MD.write_text(report.markdown(summary))
    PARTIAL.unlink(missing_ok=True)
    LOG.info("written %s and %s in %.0f s", SUMMARY.relative_to(ROOT),
             BENCHMARKS_MD.relative_to(ROOT), summary["wall_seconds"])  # fmt: skip
    failed = [k for k, v in summary.items() if isinstance(v, dict) and "error" in v]
    if failed:
        LOG.error("failed: %s", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
