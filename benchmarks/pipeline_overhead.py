"""What the deployed pipeline adds on top of bare recognition, on the local cloud.

Clips of 1 s, 10 s, 60 s and 10 min are built at run time from the shipped
``samples/hello-pipeline.wav`` (decoded with PyAV, looped and cut, written as 16 kHz mono
WAV into a temp dir). Each is timed upload→transcript through the deployed app and as a
bare in-process decode+recognize (localcloud.asr); the ratio is the pipeline's overhead.
Also: throughput with many uploads at once, the functions' billed durations (REPORT log
lines) and the bytes the pipeline writes per second of audio (for the cost model).
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from localcloud.asr import BYTES_PER_SECOND, SAMPLE_RATE, decode_media
from localcloud.deployment import ROOT, LocalEndpoint, wait_for_outcome
from localcloud.languages import LanguageRequest
from localcloud.whisper_asr import WhisperRecognizer
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME, StackOutputs

SOURCE = ROOT / "samples" / "hello-pipeline.wav"
LENGTHS = {"1s": 1, "10s": 10, "60s": 60, "10min": 600}
_REPORT = re.compile(r"REPORT RequestId: \S+\s+Duration: ([\d.]+) ms")


def make_clips(directory: Path, lengths: dict[str, int] = LENGTHS) -> dict[str, Path]:
    """Loop the source sample to each length; return the WAV paths by label."""
    pcm = decode_media(SOURCE).pcm
    clips = {}
    for label, seconds in lengths.items():
        size = seconds * BYTES_PER_SECOND
        data = (pcm * (size // len(pcm) + 1))[:size]
        path = directory / f"clip-{label}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(data)
        clips[label] = path
    return clips


def bare_seconds(recognizer: WhisperRecognizer, path: Path) -> float:
    """In-process decode + recognize of ``path`` (model already loaded)."""
    began = time.perf_counter()
    recognizer.recognize(decode_media(path).pcm, LanguageRequest("fixed", "en-US"))
    return time.perf_counter() - began


def _runs_for(seconds: int, runs: int) -> int:
    return 1 if seconds >= 300 else runs


class Overhead:
    """The ``extra`` step of local_pipeline.run: runs against the deployed stack."""

    def __init__(self, *, runs: int = 3, burst: int = 20) -> None:
        self.runs = runs
        self.burst = burst

    def __call__(self, endpoint: LocalEndpoint, outputs: StackOutputs) -> dict[str, Any]:
        """Measure everything; return the figures to merge into the local results."""
        s3 = endpoint.client("s3")
        results: dict[str, Any] = {}
        with tempfile.TemporaryDirectory(prefix="bench-clips-") as tmp:
            clips = make_clips(Path(tmp))
            recognizer = WhisperRecognizer()
            rows = []
            for label, path in clips.items():
                seconds = LENGTHS[label]
                pipeline, bare = [], []
                for run in range(_runs_for(seconds, self.runs)):
                    bare.append(bare_seconds(recognizer, path))
                    key = f"bench/overhead/run{run}/{path.name}"
                    began = time.monotonic()
                    s3.upload_file(str(path), outputs.input_bucket, key)
                    outcome = wait_for_outcome(s3, outputs.output_bucket, key,
                                               timeout=max(120.0, seconds * 2.0))  # fmt: skip
                    pipeline.append(time.monotonic() - began)
                    if outcome.transcript is None:
                        raise RuntimeError(f"{key} failed: {outcome.failure}")
                p, b = statistics.median(pipeline), statistics.median(bare)
                rows.append({
                    "clip": label, "audio_seconds": seconds, "runs": len(pipeline),
                    "pipeline_median_s": round(p, 2), "bare_median_s": round(b, 2),
                    "pipeline_runs_s": [round(x, 2) for x in pipeline],
                    "bare_runs_s": [round(x, 2) for x in bare],
                    "ratio": round(p / b, 2), "added_s": round(p - b, 2),
                })  # fmt: skip
            results["overhead"] = rows
            results["throughput"] = self._burst(s3, outputs, clips["10s"], LENGTHS["10s"])
        results["function_durations_ms"] = _function_durations(endpoint)
        results["output_bytes_per_audio_second"] = _output_bytes(s3, outputs, "clip-60s.wav", 60)
        return results

    def _burst(self, s3: Any, outputs: StackOutputs, clip: Path, seconds: int) -> dict[str, Any]:
        keys = [f"bench/burst/{n:03d}/{clip.name}" for n in range(self.burst)]
        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda k: s3.upload_file(str(clip), outputs.input_bucket, k),
                          keys))  # fmt: skip
        failed = 0
        for key in keys:
            outcome = wait_for_outcome(s3, outputs.output_bucket, key, timeout=600)
            failed += outcome.transcript is None
        wall = time.monotonic() - began
        return {
            "uploads": self.burst,
            "clip_seconds": seconds,
            "failed": failed,
            "wall_seconds": round(wall, 1),
            "audio_seconds_per_second": round(self.burst * seconds / wall, 2),
        }


def _function_durations(endpoint: LocalEndpoint) -> dict[str, dict[str, float]]:
    """Median and count of the REPORT durations of each of the stack's functions."""
    cfn, lam, logs = (endpoint.client(s) for s in ("cloudformation", "lambda", "logs"))
    resources = cfn.describe_stack_resources(StackName=DEFAULT_STACK_NAME)["StackResources"]
    found: dict[str, dict[str, float]] = {}
    for res in resources:
        if res["ResourceType"] != "AWS::Lambda::Function":
            continue
        config = lam.get_function_configuration(FunctionName=res["PhysicalResourceId"])
        group = (config.get("LoggingConfig") or {}).get("LogGroup") or (
            f"/aws/lambda/{config['FunctionName']}"
        )
        handler = str(config.get("Handler", "")).split(".")[0]
        durations: list[float] = []
        kwargs: dict[str, Any] = {"logGroupName": group}
        try:
            while True:
                page = logs.filter_log_events(**kwargs)
                durations += [float(m.group(1)) for e in page.get("events", [])
                              if (m := _REPORT.search(e.get("message", "")))]  # fmt: skip
                if not page.get("nextToken"):
                    break
                kwargs["nextToken"] = page["nextToken"]
        except logs.exceptions.ResourceNotFoundException:
            continue
        if durations:
            found[f"{handler} ({res['LogicalResourceId']})"] = {
                "median_ms": round(statistics.median(durations), 1),
                "invocations": len(durations),
            }
    return found


def _output_bytes(s3: Any, outputs: StackOutputs, name: str, seconds: int) -> float:
    """Bytes in the output bucket about ``name`` (all runs), per run and audio second."""
    total, runs = 0, set()
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=outputs.output_bucket):
        for obj in page.get("Contents", []):
            if name in obj["Key"]:
                total += obj["Size"]
                runs.add(obj["Key"].split("/run")[1].split("/")[0] if "/run" in obj["Key"]
                         else obj["Key"])  # fmt: skip
    return round(total / max(len(runs), 1) / seconds, 1)
