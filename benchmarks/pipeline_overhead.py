"""What the deployed pipeline adds on top of bare recognition, on the local cloud.

Clips of 1 s, 10 s, 60 s and 10 min are built at run time from the shipped
``samples/hello-pipeline.wav`` (decoded with PyAV, looped and cut, written as 16 kHz mono
WAV into a temp dir). Each is timed upload→transcript through the deployed app and as a
bare in-process decode+recognize with the engine of a local-cloud worker (Whisper with the
worker's CPU threads); the difference is the pipeline's overhead, split into stages (STAGES)
from the functions' START/END log lines and the job's timestamps. Also: throughput with many
uploads at once against the bare throughput of the same number of workers, the three
overhead goals (GOALS), the functions' billed durations (REPORT log lines) and the bytes the
pipeline writes per second of audio (for the cost model).

Alone: ``python -m benchmarks.pipeline_overhead [--clips 1s,10s] [--runs 3] [--burst 20]``
deploys the app on a local cloud, measures, destroys, and writes
benchmarks/results/pipeline_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import statistics
import sys
import tempfile
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.asr import BYTES_PER_SECOND, SAMPLE_RATE, RecognizerProcess, decode_media
from localcloud.deployment import ROOT, LocalEndpoint
from localcloud.languages import LanguageRequest
from localcloud.transcribe.options import TranscribeOptions
from localcloud.transcribe.recognizer import worker_threads
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


# The stages of one upload, in order: (name, the moment it starts, the moment it ends). The
# moments come from the client's clock, the functions' START/END log lines and the job's
# CreationTime/StartTime/CompletionTime; consecutive stages add up to upload→transcript: the
# harvest function's END, when the transcript is written (what a client sees after its poll).
STAGES: tuple[tuple[str, str, str], ...] = (
    ("upload (client PutObject)", "began", "uploaded"),
    ("S3 → EventBridge → SQS → start function invoked", "uploaded", "start_fn_start"),
    ("start function until StartTranscriptionJob", "start_fn_start", "job_created"),
    ("job queued until a worker takes it", "job_created", "job_started"),
    ("worker: media read, decode, recognize, results written", "job_started", "job_completed"),
    ("job-state event → harvest function invoked", "job_completed", "harvest_start"),
    ("harvest function", "harvest_start", "harvest_end"),
)
# The benchmark's own polling for outputs: its timing comes from the logs, not the poll, and
# a faster poll would take CPU from the recognizer it measures.
_SEEN_POLL_SECONDS = 0.1


@dataclass
class _Invocation:
    """One run of a function, from its START and END log lines."""

    start: float
    end: float
    text: str


@dataclass
class _Upload:
    """One timed upload: the client's moments (epoch seconds)."""

    key: str
    began: float
    uploaded: float
    seen: float = 0.0
    failure: Any = None


class Overhead:
    """The ``extra`` step of local_pipeline.run: runs against the deployed stack."""

    def __init__(
        self, *, runs: int = 3, burst: int = 20, lengths: dict[str, int] | None = None
    ) -> None:
        self.runs = runs
        self.burst = burst
        self.lengths = dict(lengths or LENGTHS)
        self.options = TranscribeOptions()
        self.threads = worker_threads(self.options)

    def __call__(self, endpoint: LocalEndpoint, outputs: StackOutputs) -> dict[str, Any]:
        """Measure everything; return the figures to merge into the local results."""
        s3 = endpoint.client("s3")
        timing = _Timing(endpoint, outputs)
        results: dict[str, Any] = {
            "engine": {
                "workers": self.options.concurrency,
                "threads_per_worker": self.threads,
                "cores": os.cpu_count(),
            },
            "load_before": _load(),
        }
        with tempfile.TemporaryDirectory(prefix="bench-clips-") as tmp:
            clips = make_clips(Path(tmp), self.lengths)
            # The same engine as a worker of the local cloud: its threads, its model.
            recognizer = WhisperRecognizer(threads=self.threads)
            all_cores = WhisperRecognizer() if self.threads != (os.cpu_count() or 1) else None
            rows = []
            for label, path in clips.items():
                seconds = self.lengths[label]
                uploads: list[_Upload] = []
                bare, bare_all = [], []
                for run in range(_runs_for(seconds, self.runs)):
                    bare.append(bare_seconds(recognizer, path))
                    if all_cores is not None and seconds <= 60:
                        bare_all.append(bare_seconds(all_cores, path))
                    key = f"bench/overhead/run{run}/{path.name}"
                    upload = _upload(s3, outputs, path, key)
                    _wait_seen(s3, outputs, upload, timeout=max(120.0, seconds * 2.0))
                    if upload.failure is not None:
                        raise RuntimeError(f"{key} failed: {upload.failure}")
                    uploads.append(upload)
                moments = timing.moments(uploads)
                pipeline = [m["done"] - m["began"] for m in moments]
                p, b = statistics.median(pipeline), statistics.median(bare)
                rows.append({
                    "clip": label, "audio_seconds": seconds, "runs": len(pipeline),
                    "pipeline_median_s": round(p, 2), "bare_median_s": round(b, 2),
                    "pipeline_runs_s": [round(x, 2) for x in pipeline],
                    "bare_runs_s": [round(x, 2) for x in bare],
                    "bare_all_cores_median_s": (
                        round(statistics.median(bare_all), 2) if bare_all else None
                    ),
                    "ratio": round(p / b, 2), "added_s": round(p - b, 2),
                    "stages_median_s": stage_medians(moments),
                })  # fmt: skip
            del recognizer, all_cores
            results["overhead"] = rows
            if "10s" in clips and self.burst:
                results["throughput"] = self._burst(s3, outputs, clips["10s"], timing)
            results["overhead_goals"] = goals(rows, results.get("throughput"))
        results["function_durations_ms"] = _function_durations(endpoint)
        if "60s" in self.lengths:
            results["output_bytes_per_audio_second"] = _output_bytes(
                s3, outputs, "clip-60s.wav", 60
            )
        results["load_after"] = _load()
        return results

    def _burst(self, s3: Any, outputs: StackOutputs, clip: Path, timing: _Timing) -> dict[str, Any]:
        seconds = self.lengths["10s"]
        bare_wall = bare_throughput_seconds(
            clip, uploads=self.burst, workers=self.options.concurrency, threads=self.threads
        )
        keys = [f"bench/burst/{n:03d}/{clip.name}" for n in range(self.burst)]
        began = time.time()
        with ThreadPoolExecutor(max_workers=8) as pool:
            uploads = list(pool.map(lambda k: _upload(s3, outputs, clip, k), keys))
        _wait_all_seen(s3, outputs, uploads, prefix="bench/burst/", timeout=600)
        failed = sum(u.failure is not None for u in uploads)
        moments = timing.moments([u for u in uploads if u.failure is None])
        wall = max([m["done"] for m in moments] + [u.seen for u in uploads if u.failure]) - began
        pipeline_per_minute = self.burst / wall * 60
        bare_per_minute = self.burst / bare_wall * 60
        return {
            "uploads": self.burst,
            "clip_seconds": seconds,
            "failed": failed,
            "wall_seconds": round(wall, 1),
            "audio_seconds_per_second": round(self.burst * seconds / wall, 2),
            "jobs_per_minute": round(pipeline_per_minute, 1),
            "bare_wall_seconds": round(bare_wall, 1),
            "bare_jobs_per_minute": round(bare_per_minute, 1),
            "share_of_bare": round(pipeline_per_minute / bare_per_minute, 2),
            "stages_median_s": stage_medians(moments),
        }


def bare_throughput_seconds(clip: Path, *, uploads: int, workers: int, threads: int) -> float:
    """Wall time of ``uploads`` decode+recognitions of ``clip`` on the engine's own workers.

    The same recognizer child processes as the local cloud's workers (``workers`` of them,
    ``threads`` CPU threads each), models loaded before the clock starts.
    """
    media = clip.read_bytes()
    request = LanguageRequest("fixed", "en-US")
    processes = [RecognizerProcess(threads=threads) for _ in range(workers)]
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda p: p.transcribe(media, request, 600), processes))  # warm up
            work: queue.SimpleQueue[int] = queue.SimpleQueue()
            for n in range(uploads):
                work.put(n)

            def drain(process: RecognizerProcess) -> None:
                while True:
                    try:
                        work.get_nowait()
                    except queue.Empty:
                        return
                    process.transcribe(media, request, 600)

            began = time.perf_counter()
            list(pool.map(drain, processes))
            return time.perf_counter() - began
    finally:
        for process in processes:
            process.close()


GOALS = {"fixed_overhead_s": 0.4, "ratio_10s": 1.3, "throughput_share": 0.8}


def goals(rows: list[dict[str, Any]], throughput: dict[str, Any] | None) -> dict[str, Any]:
    """The three overhead goals of the pipeline on the local cloud, each met or missed."""
    by_clip = {row["clip"]: row for row in rows}
    found: dict[str, Any] = {}
    if "1s" in by_clip:
        value = by_clip["1s"]["added_s"]
        found["fixed_overhead_s"] = {"value": value, "goal": GOALS["fixed_overhead_s"],
                                     "met": value <= GOALS["fixed_overhead_s"]}  # fmt: skip
    if "10s" in by_clip:
        value = by_clip["10s"]["ratio"]
        found["ratio_10s"] = {"value": value, "goal": GOALS["ratio_10s"],
                              "met": value <= GOALS["ratio_10s"]}  # fmt: skip
    if throughput:
        value = throughput["share_of_bare"]
        found["throughput_share"] = {"value": value, "goal": GOALS["throughput_share"],
                                     "met": value >= GOALS["throughput_share"]}  # fmt: skip
    return found


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _upload(s3: Any, outputs: StackOutputs, path: Path, key: str) -> _Upload:
    began = time.time()
    s3.upload_file(str(path), outputs.input_bucket, key)
    return _Upload(key, began, time.time())


def _wait_seen(s3: Any, outputs: StackOutputs, upload: _Upload, *, timeout: float) -> None:
    """Poll until the upload's transcript or failure record is in the output bucket."""
    bucket = outputs.output_bucket
    transcript, failure = f"transcripts/{upload.key}.txt", f"failed/{upload.key}.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name in (transcript, failure):
            try:
                s3.head_object(Bucket=bucket, Key=name)
            except s3.exceptions.ClientError:
                continue
            upload.seen = time.time()
            if name == failure:
                body = s3.get_object(Bucket=bucket, Key=name)["Body"].read()
                upload.failure = body.decode("utf-8", "replace")
            return
        time.sleep(_SEEN_POLL_SECONDS)
    raise TimeoutError(f"No transcript or failure record for {upload.key!r} after {timeout:.0f} s")


def _wait_all_seen(
    s3: Any, outputs: StackOutputs, uploads: list[_Upload], *, prefix: str, timeout: float
) -> None:
    """Like _wait_seen for many uploads at once: each is seen when a listing first shows it."""
    bucket = outputs.output_bucket
    pending = {u.key: u for u in uploads}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for folder, suffix in (("transcripts/", ".txt"), ("failed/", ".json")):
            listed = s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=folder + prefix
            )
            names = {o["Key"] for page in listed for o in page.get("Contents", [])}
            now = time.time()
            for key in [k for k in pending if f"{folder}{k}{suffix}" in names]:
                upload = pending.pop(key)
                upload.seen = now
                if folder == "failed/":
                    upload.failure = f"failed/{key}.json"
        time.sleep(_SEEN_POLL_SECONDS)
    if pending:
        raise TimeoutError(f"No transcript or failure record for {sorted(pending)} after "
                           f"{timeout:.0f} s")  # fmt: skip


class _Timing:
    """Per-stage timings of uploads, from the functions' logs and the jobs' timestamps."""

    def __init__(self, endpoint: LocalEndpoint, outputs: StackOutputs) -> None:
        self.logs = endpoint.client("logs")
        self.transcribe = endpoint.client("transcribe")
        self.groups = _function_log_groups(endpoint)
        self._described: dict[str, dict[str, Any]] = {}

    def moments(self, uploads: list[_Upload]) -> list[dict[str, float]]:
        """The moments of STAGES of each upload, and ``done``: its transcript written."""
        if not uploads:
            return []
        jobs = self._jobs_by_key()
        starts = _invocations(self.logs, self.groups.get("start_transcription"))
        harvests = _invocations(self.logs, self.groups.get("job_state_change"))
        found = []
        for upload in uploads:
            moments = _moments(upload, jobs.get(upload.key), starts, harvests)
            moments["done"] = moments.get("harvest_end", upload.seen)
            found.append(moments)
        return found

    def _jobs_by_key(self) -> dict[str, dict[str, Any]]:
        """The newest job of each media key (described once; jobs are read when ended)."""
        names = []
        kwargs: dict[str, Any] = {"MaxResults": 100}
        while True:
            page = self.transcribe.list_transcription_jobs(**kwargs)
            names += [j["TranscriptionJobName"] for j in page["TranscriptionJobSummaries"]]
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        for name in names:
            if name not in self._described:
                job = self.transcribe.get_transcription_job(TranscriptionJobName=name)
                self._described[name] = job["TranscriptionJob"]
        found: dict[str, dict[str, Any]] = {}
        for job in sorted(self._described.values(), key=lambda j: j["CreationTime"]):
            key = job["Media"]["MediaFileUri"].split("/", 3)[-1]
            found[key] = job
        return found


def stage_medians(moments: list[dict[str, float]]) -> dict[str, float | None]:
    """The median of each stage (STAGES) over uploads' moments; None where unknown."""
    per_stage: dict[str, list[float]] = {name: [] for name, _, _ in STAGES}
    for found in moments:
        for name, first, last in STAGES:
            if first in found and last in found:
                per_stage[name].append(found[last] - found[first])
    return {name: round(statistics.median(v), 3) if v else None
            for name, v in per_stage.items()}  # fmt: skip


def _moments(
    upload: _Upload,
    job: dict[str, Any] | None,
    starts: list[_Invocation],
    harvests: list[_Invocation],
) -> dict[str, float]:
    """When each moment of STAGES happened for one upload (those that can be told)."""
    moments = {"began": upload.began, "uploaded": upload.uploaded, "seen": upload.seen}
    if job is None:
        return moments
    for moment, field_name in (("job_created", "CreationTime"), ("job_started", "StartTime"),
                               ("job_completed", "CompletionTime")):  # fmt: skip
        if field_name in job:
            moments[moment] = job[field_name].timestamp()
    quoted = f'"{job["TranscriptionJobName"]}"'
    start = next((i for i in starts if quoted in i.text), None)
    if start is not None:
        moments["start_fn_start"] = start.start
    harvest = next((i for i in harvests if quoted in i.text), None)
    if harvest is not None:
        moments["harvest_start"], moments["harvest_end"] = harvest.start, harvest.end
    return moments


def _function_log_groups(endpoint: LocalEndpoint) -> dict[str, str]:
    """The log group of each of the stack's functions, by handler module."""
    cfn, lam = endpoint.client("cloudformation"), endpoint.client("lambda")
    resources = cfn.describe_stack_resources(StackName=DEFAULT_STACK_NAME)["StackResources"]
    groups = {}
    for res in resources:
        if res["ResourceType"] != "AWS::Lambda::Function":
            continue
        config = lam.get_function_configuration(FunctionName=res["PhysicalResourceId"])
        handler = str(config.get("Handler", "")).split(".")[0]
        groups[handler] = (config.get("LoggingConfig") or {}).get("LogGroup") or (
            f"/aws/lambda/{config['FunctionName']}"
        )
    return groups


def _invocations(logs: Any, group: str | None) -> list[_Invocation]:
    """Every run of a function in its log group, oldest first (START to END of a request)."""
    if group is None:
        return []
    found: dict[str, _Invocation] = {}
    kwargs: dict[str, Any] = {"logGroupName": group}
    current: dict[str, str] = {}  # stream -> the request whose lines are being read
    while True:
        page = logs.filter_log_events(**kwargs)
        for event in page.get("events", []):
            message, stream = event.get("message", ""), event.get("logStreamName", "")
            seconds = event["timestamp"] / 1000
            if message.startswith("START RequestId: "):
                request = message.split()[2]
                current[stream] = request
                found[request] = _Invocation(seconds, seconds, "")
            elif message.startswith("END RequestId: "):
                request = message.split()[2]
                if request in found:
                    found[request].end = seconds
            elif stream in current and current[stream] in found:
                found[current[stream]].text += message + "\n"
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    return sorted(found.values(), key=lambda i: i.start)


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


RESULTS = ROOT / "benchmarks" / "results" / "pipeline_overhead.json"


def main(argv: list[str] | None = None) -> int:
    """Deploy, measure the overhead (the clips asked for), destroy; print and write figures."""
    from benchmarks.local_pipeline import deployed_app

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="timed uploads of each clip")
    parser.add_argument("--burst", type=int, default=20, help="uploads at once (0: none)")
    parser.add_argument("--clips", default=",".join(LENGTHS), help="of " + ", ".join(LENGTHS))
    args = parser.parse_args(argv)
    lengths = {label: LENGTHS[label] for label in args.clips.split(",")}
    with deployed_app() as app:
        results = Overhead(runs=args.runs, burst=args.burst, lengths=lengths)(
            app.endpoint, app.outputs
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    shown = ("engine", "load_before", "load_after", "overhead_goals")
    print(json.dumps({k: results[k] for k in shown}))
    for row in results["overhead"]:
        print(f"{row['clip']}: pipeline {row['pipeline_median_s']} s, bare {row['bare_median_s']}"
              f" s (all cores {row['bare_all_cores_median_s']}), +{row['added_s']} s")  # fmt: skip
        for stage, value in row["stages_median_s"].items():
            print(f"    {stage:60s} {value}")
    if throughput := results.get("throughput"):
        print({k: v for k, v in throughput.items() if k != "stages_median_s"})
        for stage, value in throughput["stages_median_s"].items():
            print(f"    {stage:60s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
