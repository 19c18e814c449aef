"""Run the burst, count it, print the table and write benchmarks/results/local_burst.json."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import av
from rich.console import Console
from rich.table import Table

from benchmarks.local_burst.counting import count
from benchmarks.local_burst.plan import (
    CLIP_SECONDS,
    DROP_SHARE,
    DUPLICATE_SHARE,
    LOG,
    RESULTS,
    SAMPLES,
    SOURCE,
    UPLOAD_THREADS,
    cut_clip,
    make_plan,
    reference_text,
)
from benchmarks.local_burst.run_burst import Burst, Resources
from benchmarks.local_pipeline import deployed_app
from benchmarks.report import machine


def run(*, uploads: int, seed: int, timeout: float = 900.0) -> dict[str, Any]:
    """Deploy, burst with faults, count, destroy; the figures as a JSON-ready dict."""
    plan = make_plan(uploads, seed)
    reference = reference_text()
    with tempfile.TemporaryDirectory(prefix="local-burst-") as tmp:
        clip_path = Path(tmp) / f"clip{SOURCE.suffix}"
        cut_clip(SOURCE, clip_path, CLIP_SECONDS)
        clip = clip_path.read_bytes()
        with av.open(str(clip_path)) as media:
            clip_seconds = round(float(media.duration or 0) / av.time_base, 2)
    with deployed_app() as app:
        LOG.info("deployed in %.1f s on %s", app.deploy_seconds, app.endpoint.url)
        burst = Burst(app.endpoint, Resources.find(app.endpoint, app.outputs), plan, clip,
                      timeout)  # fmt: skip
        burst.run()
        counted = count(burst, reference, seed)
    return {
        "scenario": {
            "uploads": uploads,
            "seed": seed,
            "clip": f"{SOURCE.relative_to(SAMPLES.parent)}, first {CLIP_SECONDS} s",
            "clip_seconds": clip_seconds,
            "clip_bytes": len(clip),
            "reference_text": reference,
            "duplicate_share": DUPLICATE_SHARE,
            "drop_share": DROP_SHARE,
            "upload_threads": UPLOAD_THREADS,
            "timeout_s": timeout,
        },
        **counted,
        "ok": not counted["reasons"],
        "deploy_seconds": app.deploy_seconds,
        "destroy_seconds": app.destroy_seconds,
        "machine": machine(),
    }


GOALS = {
    "lost": "0",
    "duplicate_jobs": "0",
    "dead_lettered": "0",
    "harvested_by_sweeper": "= events_dropped",
}


def table(results: dict[str, Any]) -> Table:
    """The counts and timings as a rich table."""
    s = results["scenario"]
    title = (f"Local cloud burst: {s['uploads']} uploads of a {s['clip_seconds']} s clip "
             f"(seed {s['seed']})")  # fmt: skip
    out = Table(title=title)
    out.add_column("measure")
    out.add_column("value", justify="right")
    out.add_column("goal")
    for name, value in results["result"].items():
        out.add_row(name, "-" if value is None else str(value), GOALS.get(name, ""))
    out.add_row("deploy_seconds", str(results["deploy_seconds"]), "")
    out.add_row("destroy_seconds", str(results["destroy_seconds"]), "")
    return out


def report(results: dict[str, Any], output: Path = RESULTS) -> dict[str, Any]:
    """Print the table and the verdict, write the JSON; return the results."""
    console = Console()
    console.print(table(results))
    phases = results["detail"]["phases_s"]
    console.print("phases (s): " + ", ".join(f"{k} {v}" for k, v in phases.items()))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"written {output}")
    if results["ok"]:
        console.print("PASS: nothing lost, no duplicate job, no dead letter, every dropped "
                      "event harvested by the sweeper")  # fmt: skip
    else:
        console.print("FAIL:\n" + "\n".join(f"- {r}" for r in results["reasons"]))
    return results
