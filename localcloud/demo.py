"""``make demo``: local cloud up, deploy, transcribe a shipped sample, print it, tear down."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.panel import Panel

from localcloud.deployment import (
    ROOT,
    DeploymentError,
    LocalEndpoint,
    deploy,
    destroy,
    wait_for_outcome,
)
from localcloud.wer import wer as word_error_rate
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME

SAMPLE = ROOT / "samples" / "hello-pipeline.mp3"
SAMPLE_KEY = "demo/hello pipeline.mp3"  # a space, as real file names have
T = TypeVar("T")


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 when a real transcript came back and everything was torn down."""
    parser = argparse.ArgumentParser(prog="python -m localcloud demo", description=__doc__)
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for a result")
    args = parser.parse_args(argv)
    console = Console()
    endpoint = LocalEndpoint(args.port)
    try:
        with _local_cloud(endpoint, console):
            return _run(endpoint, console, timeout=args.timeout)
    except (DeploymentError, TimeoutError, subprocess.CalledProcessError) as error:
        console.print(f"[bold red]Demo failed:[/] {error}")
        return 1


def _run(endpoint: LocalEndpoint, console: Console, *, timeout: float) -> int:
    outputs = _step(console, f"Deploying {DEFAULT_STACK_NAME} (cdk bootstrap + deploy)",
                    lambda: deploy(endpoint))  # fmt: skip
    try:
        s3 = endpoint.client("s3")
        s3.upload_file(str(SAMPLE), outputs.input_bucket, SAMPLE_KEY)
        console.print(f"[green]✓[/] Uploaded {SAMPLE.name} as s3://…/{SAMPLE_KEY}")
        with console.status("Waiting for the transcript…") as status:
            outcome = wait_for_outcome(
                s3,
                outputs.output_bucket,
                SAMPLE_KEY,
                timeout=timeout,
                on_tick=lambda s: status.update(f"Waiting for the transcript… {s:4.1f} s"),
            )
        if outcome.transcript is None:
            console.print(f"[bold red]The pipeline recorded a failure:[/] {outcome.failure}")
            return 1
        expected = json.loads((ROOT / "samples" / "texts.json").read_text())["clips"][0]["text"]
        wer = word_error_rate(expected, outcome.transcript)
        console.print(
            Panel(outcome.transcript.strip() or "(no speech)", title="Transcript", expand=False)
        )
        console.print(
            f"Upload → transcript in {outcome.seconds:.1f} s; word error rate against the "
            f"script the sample was synthesized from: {wer:.2f}"
        )
        listing = s3.list_objects_v2(Bucket=outputs.output_bucket).get("Contents", [])
        console.print("Output bucket:")
        for item in listing:
            console.print(f"  {item['Key']}  ({item['Size']} bytes)")
        return 0
    finally:
        _step(console, "Destroying the stack (cdk destroy)", lambda: destroy(endpoint))


def _step(console: Console, title: str, action: Callable[[], T]) -> T:
    started = time.monotonic()
    with console.status(title + "…"):
        result = action()
    console.print(f"[green]✓[/] {title} — {time.monotonic() - started:.1f} s")
    return result


@contextmanager
def _local_cloud(endpoint: LocalEndpoint, console: Console) -> Iterator[None]:
    python = sys.executable
    port = str(endpoint.port)
    subprocess.run([python, "-m", "localcloud", "up", "--port", port], cwd=ROOT, check=True)
    try:
        yield
    finally:
        subprocess.run([python, "-m", "localcloud", "down", "--port", port], cwd=ROOT, check=False)
        console.print("[green]✓[/] Local cloud stopped")


if __name__ == "__main__":
    sys.exit(main())
