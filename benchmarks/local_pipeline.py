"""Local cloud end to end: deploy time, upload-to-transcript latency, word error rate."""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from localcloud.deployment import (
    ROOT,
    DeploymentError,
    LocalEndpoint,
    deploy,
    destroy,
    wait_for_outcome,
)
from localcloud.server import free_port
from localcloud.wer import wer as word_error_rate
from transcribe_pipeline.stack_outputs import StackOutputs

RESULTS = Path(__file__).resolve().parent / "results" / "local_pipeline.json"
SAMPLES = ROOT / "samples"
LOG = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Deploy once, time uploads of every shipped clip, destroy; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="timed uploads of each clip")
    args = parser.parse_args(argv)
    _report(run(runs=args.runs))
    return 0


@dataclass
class Deployment:
    """The app deployed on a local cloud: where it listens, its stack outputs, its timings."""

    endpoint: LocalEndpoint
    outputs: StackOutputs
    deploy_seconds: float
    destroy_seconds: float | None = None


@contextmanager
def deployed_app() -> Iterator[Deployment]:
    """Local cloud up on a free port, the app deployed with the CDK CLI; both undone afterwards.

    The stack is destroyed and the local cloud stopped also when deploying or the body fails
    (a failed destroy is then logged, and the body's error is the one raised).
    """
    port = free_port()
    endpoint = LocalEndpoint(port)
    python = sys.executable
    subprocess.run([python, "-m", "localcloud", "up", "--port", str(port)], cwd=ROOT, check=True)
    try:
        # Our own cdk.out: other CDK CLIs (tests, a developer's synth) may be using ./cdk.out.
        with tempfile.TemporaryDirectory(prefix="bench-cdk-out-") as out:
            output_dir = Path(out)
            try:
                started = time.monotonic()
                outputs = deploy(endpoint, output_dir=output_dir)
                app = Deployment(endpoint, outputs, round(time.monotonic() - started, 1))
                yield app
            except BaseException:
                _destroy_after_failure(endpoint, output_dir)
                raise
            started = time.monotonic()
            destroy(endpoint, output_dir=output_dir)
            app.destroy_seconds = round(time.monotonic() - started, 1)
    finally:
        subprocess.run([python, "-m", "localcloud", "down", "--port", str(port)], cwd=ROOT,
                       check=False)  # fmt: skip


def _destroy_after_failure(endpoint: LocalEndpoint, output_dir: Path) -> None:
    """Destroy what a failed run left; its own failure is logged, not raised over the first."""
    try:
        destroy(endpoint, output_dir=output_dir)
    except (DeploymentError, subprocess.TimeoutExpired, BotoCoreError, ClientError) as exc:
        LOG.error("destroying the stack after a failure failed too: %s", exc)


def run(
    *, runs: int, extra: Callable[[LocalEndpoint, StackOutputs], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Local cloud up on a free port, deploy, measure (plus ``extra``), destroy, down."""
    with deployed_app() as app:
        clips = _measure(app.endpoint, app.outputs, runs=runs)
        extra_results = extra(app.endpoint, app.outputs) if extra else {}
    return {
        "machine": {
            "python": platform.python_version(),
            "cpu_count": __import__("os").cpu_count(),
            "platform": platform.platform(),
        },
        "runs_per_clip": runs,
        "deploy_seconds": app.deploy_seconds,
        "destroy_seconds": app.destroy_seconds,
        "clips": clips,
        "goals": {"deploy_seconds": 20, "latency_10s_clip_seconds": 10, "wer": 0.15},
        **extra_results,
    }


def _measure(endpoint: LocalEndpoint, outputs: StackOutputs, *, runs: int) -> list[dict[str, Any]]:
    """Upload every shipped clip ``runs`` times; latency to its transcript and its WER."""
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
                s3.upload_file(str(sample), outputs.input_bucket, key)
                outcome = wait_for_outcome(s3, outputs.output_bucket, key, timeout=120)
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
    return rows


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
