"""Local cloud end to end: deploy time, upload-to-transcript latency, word error rate."""

from __future__ import annotations

import argparse
import json
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from localcloud.deployment import ROOT, LocalEndpoint, deploy, destroy, wait_for_outcome
from localcloud.wer import wer as word_error_rate

RESULTS = Path(__file__).resolve().parent / "results" / "local_pipeline.json"
SAMPLES = ROOT / "samples"


def main(argv: list[str] | None = None) -> int:
    """Deploy once, time uploads of every shipped clip, destroy; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="timed uploads of each clip")
    args = parser.parse_args(argv)
    _report(run(runs=args.runs))
    return 0


def run(
    *, runs: int, extra: Callable[[LocalEndpoint, dict[str, str]], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Local cloud up on a free port, deploy, measure (plus ``extra``), destroy, down."""
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        port = int(sock.getsockname()[1])
    endpoint = LocalEndpoint(port)
    python = sys.executable
    subprocess.run([python, "-m", "localcloud", "up", "--port", str(port)], cwd=ROOT, check=True)
    try:
        return _measure(endpoint, runs=runs, extra=extra)
    finally:
        subprocess.run([python, "-m", "localcloud", "down", "--port", str(port)], cwd=ROOT,
                       check=False)  # fmt: skip


def _measure(
    endpoint: LocalEndpoint,
    *,
    runs: int,
    extra: Callable[[LocalEndpoint, dict[str, str]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    # Our own cdk.out: other CDK CLIs (tests, a developer's synth) may be using ./cdk.out.
    with tempfile.TemporaryDirectory(prefix="bench-cdk-out-") as out:
        return _measure_in(endpoint, runs=runs, extra=extra, output_dir=Path(out))


def _measure_in(
    endpoint: LocalEndpoint,
    *,
    runs: int,
    extra: Callable[[LocalEndpoint, dict[str, str]], dict[str, Any]] | None,
    output_dir: Path,
) -> dict[str, Any]:
    started = time.monotonic()
    outputs = deploy(endpoint, output_dir=output_dir)
    deploy_seconds = time.monotonic() - started
    s3 = endpoint.client("s3")
    clips = json.loads((SAMPLES / "texts.json").read_text())["clips"]
    rows = []
    for clip in clips:
        for fmt in clip["formats"]:
            sample = SAMPLES / f"{clip['name']}.{fmt}"
            latencies, wers = [], []
            for run in range(runs):
                key = f"bench/run{run}/{sample.name}"
                uploaded = time.monotonic()
                s3.upload_file(str(sample), outputs["InputBucketName"], key)
                outcome = wait_for_outcome(s3, outputs["OutputBucketName"], key, timeout=120)
                latencies.append(time.monotonic() - uploaded)
                wers.append(word_error_rate(clip["text"], outcome.transcript or ""))
            rows.append(
                {
                    "sample": sample.name,
                    "audio_seconds": clip.get("seconds"),
                    "median_latency_s": round(statistics.median(latencies), 2),
                    "latencies_s": [round(x, 2) for x in latencies],
                    "wer": round(statistics.median(wers), 3),
                }
            )
    extra_results = extra(endpoint, outputs) if extra else {}
    started = time.monotonic()
    destroy(endpoint, output_dir=output_dir)
    destroy_seconds = time.monotonic() - started
    return {
        "machine": {
            "python": platform.python_version(),
            "cpu_count": __import__("os").cpu_count(),
            "platform": platform.platform(),
        },
        "runs_per_clip": runs,
        "deploy_seconds": round(deploy_seconds, 1),
        "destroy_seconds": round(destroy_seconds, 1),
        "clips": rows,
        "goals": {"deploy_seconds": 20, "latency_10s_clip_seconds": 10, "wer": 0.15},
        **extra_results,
    }


def _report(results: dict[str, Any]) -> None:
    console = Console()
    table = Table(title="Local cloud: upload → transcript")
    for column in ("sample", "median latency (s)", "all runs (s)", "WER"):
        table.add_column(column)
    for row in results["clips"]:
        table.add_row(row["sample"], f"{row['median_latency_s']:.2f}",
                      ", ".join(map(str, row["latencies_s"])), f"{row['wer']:.3f}")  # fmt: skip
    console.print(table)
    console.print(
        f"deploy {results['deploy_seconds']} s (goal < 20 s), "
        f"destroy {results['destroy_seconds']} s"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
