"""Render the collected results as BENCHMARKS.md (and machine details for summary.json)."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    """CPU model, cores, Python, Node, CDK CLI, date and commit of this run."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def output(*command: str) -> str:
        try:
            done = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
            )
        except OSError:
            return "unknown"
        return done.stdout.strip() or "unknown"

    cdk_package = ROOT / "node_modules" / "aws-cdk" / "package.json"
    cdk_version = json.loads(cdk_package.read_text())["version"] if cdk_package.exists() else "?"
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "node": output("node", "--version"),
        "cdk_cli": cdk_version,
        "platform": platform.platform(),
        "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": output("git", "rev-parse", "--short", "HEAD"),
    }


def _err(section: Any) -> str | None:
    if isinstance(section, dict) and "error" in section:
        return str(section["error"]).splitlines()[0][:200]
    return None


def _rows(summary: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(benchmark, ours, reference, ratio) rows of the main table."""
    rows: list[tuple[str, str, str, str]] = []
    synth = summary.get("synth", {})
    if err := _err(synth):
        rows.append(("`cdk synth`", f"failed: {err}", "", ""))
    elif synth:
        rows.append((
            f"`cdk synth` (median of {synth['runs']})",
            f"{synth['app_median_s']:.1f} s",
            f"{synth['reference_median_s']:.1f} s (minimal app, same counts)",
            f"{synth['ratio']:.2f}×",
        ))  # fmt: skip
    handlers = summary.get("handlers", {})
    if err := _err(handlers):
        rows.append(("handler cold import", f"failed: {err}", "", ""))
    elif handlers:
        floor = handlers["stdlib_json_import_median_ms"]
        for name, h in handlers["handlers"].items():
            rows.append((
                f"cold import `{name}` (median of {handlers['runs']})",
                f"{h['median_ms']:.0f} ms", f"{floor:.1f} ms (`import json`)", "",
            ))  # fmt: skip
        asset = handlers["asset"]
        rows.append((
            "deployed asset `lambda/` (shared by the 3 functions)",
            f"{asset['zip_bytes'] / 1024:.1f} KiB zipped",
            f"{asset['unzipped_bytes'] / 1024:.1f} KiB unzipped", "",
        ))  # fmt: skip
    local = summary.get("local", {})
    if err := _err(local):
        rows.append(("local cloud", f"failed: {err}", "", ""))
    elif local:
        rows.append(("local cloud deploy (bootstrap + deploy)", f"{local['deploy_seconds']} s",
                     "goal < 20 s", ""))  # fmt: skip
        threads = (local.get("engine") or {}).get("threads_per_worker")
        engine = f"{threads} thread{'s' if threads != 1 else ''}, a worker's" if threads else ""
        for o in local.get("overhead", []):
            rows.append((
                f"upload→transcript, {o['clip']} clip (median of {o['runs']})",
                f"{o['pipeline_median_s']:.2f} s",
                f"{o['bare_median_s']:.2f} s bare decode+recognition"
                + (f" ({engine})" if engine else ""),
                f"{o['ratio']:.2f}× (+{o['added_s']:.2f} s)",
            ))  # fmt: skip
        if t := local.get("throughput"):
            bare = (f"{t['bare_jobs_per_minute']} jobs/min bare ({t['share_of_bare']:.0%})"
                    if "bare_jobs_per_minute" in t else "")  # fmt: skip
            rows.append((
                f"throughput: {t['uploads']} uploads of a {t['clip_seconds']} s clip at once",
                f"{t['wall_seconds']} s to all transcripts ({t['failed']} failed)"
                + (f", {t['jobs_per_minute']} jobs/min" if "jobs_per_minute" in t else ""),
                bare or f"{t['audio_seconds_per_second']} audio-s per s", "",
            ))  # fmt: skip
        clips = local.get("clips", [])
        if clips:
            mean = sum(c["wer"] for c in clips) / len(clips)
            lat = sorted(c["median_latency_s"] for c in clips)
            rows.append((
                f"shipped samples through the pipeline ({len(clips)} files)",
                f"mean WER {mean:.3f}", f"latency {lat[0]:.1f}–{lat[-1]:.1f} s", "",
            ))  # fmt: skip
    asr = summary.get("asr_wer", {})
    if err := _err(asr):
        rows.append(("bare recognition WER", f"failed: {err}", "", ""))
    elif asr:
        for name, o in asr.get("sets", {"synthetic": asr["overall"]}).items():
            rows.append((
                f"bare recognition (Whisper base), {name} speech ({o.get('files', '?')} files)",
                f"mean WER {o['mean_wer']:.3f} (max {o['max_wer']:.3f})",
                f"realtime factor {o['realtime_factor']:.3f}", "",
            ))  # fmt: skip
    burst = summary.get("burst")
    if not burst:
        rows.append(("burst simulation", "**not yet** (no burst.json)", "", ""))
    elif err := _err(burst):
        rows.append(("burst simulation", f"failed: {err}", "", ""))
    elif isinstance(burst.get("result"), dict) and "floor_s" in burst["result"]:
        r = burst["result"]
        rows.append((
            f"burst simulation: {r['uploads']} uploads (benchmarks/burst/, simulated clock"
            + (f"; {burst['note']}" if "timed out" in str(burst.get("note")) else "")
            + ")",
            f"all jobs started after {r['time_to_start_s']} s; lost {r['lost']}, "
            f"duplicate jobs {r['duplicate_jobs']}, duplicated events {r['events_duplicated']}",
            f"{r['floor_s']} s quota floor",
            f"{r['ratio']}×",
        ))  # fmt: skip
        if "longest_sweep_s" in r:
            rows.append(_burst_sweep_row(burst))
    else:
        figures = ", ".join(f"{k} {v}" for k, v in burst.items()
                            if isinstance(v, int | float | str))  # fmt: skip
        rows.append(("burst simulation (benchmarks/results/burst.json)", figures[:400], "", ""))
    rows += _local_burst_rows(summary.get("local_burst"))
    cost = summary.get("cost", {})
    if err := _err(cost):
        rows.append(("cost model", f"failed: {err}", "", ""))
    elif cost:
        for r in cost["rows"]:
            h = r["per_hour_of_audio_usd"]
            rows.append((
                f"AWS cost per hour of audio, {r['file_minutes']} min files",
                f"USD {h['pipeline_total']:.5f} pipeline",
                f"USD {h['transcribe']:.2f} Transcribe",
                f"{r['pipeline_share_of_transcribe_pct']:.3f} %",
            ))  # fmt: skip
    return rows


def _burst_sweep_row(burst: dict[str, Any]) -> tuple[str, str, str, str]:
    """The burst simulation's sweeps: how long the longest took, how late a lost event was."""
    r, s, goals = burst["result"], burst["scenario"], burst.get("goals", {})
    delay = r["lost_event_max_delay_s"]
    return (
        f"burst simulation: sweeps, with {s['finished_in_lookback']:,} jobs finished the day "
        f"before and {s['drop_rate']:.0%} of completion events lost (latencies assumed: "
        "benchmarks/burst/latency.py)",
        f"longest sweep {r['longest_sweep_s']} s ({r['sweeps_timed_out']} of {r['sweeps']} "
        f"ended by the timeout); lost event to harvest at most "
        + (f"{delay} s" if delay is not None else
           f"never ({r['lost_events_unharvested']} not harvested)"),
        f"sweep {goals.get('longest_sweep_s', '')} s; lost event "
        f"{goals.get('lost_event_max_delay_s', '')} s",
        "goals met" if not burst.get("missed") else "missed: " + ", ".join(burst["missed"]),
    )  # fmt: skip


def _local_burst_rows(burst: Any) -> list[tuple[str, str, str, str]]:
    """The row of benchmarks/local_burst/: real uploads with faults, on the local cloud."""
    if not burst:
        return []
    if err := _err(burst):
        return [("local cloud burst (benchmarks/local_burst/)", f"failed: {err}", "", "")]
    r, s, phases = burst["result"], burst["scenario"], burst["detail"]["phases_s"]
    verdict = "goals met" if burst["ok"] else "**goal missed**: " + "; ".join(burst["reasons"])
    floor = phases.get("burst_start_floor_s")
    return [(
        f"local cloud burst: {r['uploads']} real uploads of a {s['clip_seconds']} s clip, "
        f"{r['duplicate_events_delivered']} duplicate upload events delivered, "
        f"{r['events_dropped']} completion events dropped (benchmarks/local_burst/)",
        f"lost {r['lost']}, duplicate jobs {r['duplicate_jobs']}, dead-lettered "
        f"{r['dead_lettered']}, harvested by the sweeper {r['harvested_by_sweeper']}; "
        f"jobs started {phases.get('burst_to_last_job_created_s')} s after the burst's first "
        f"upload, all outputs {r['time_to_all_outputs_s']} s after the first upload "
        f"(sweeper grace included); WER {r['wer_mean']}; {verdict[:300]}",
        f"{floor} s quota floor (the burst's jobs at 25 starts/s)" if floor else "",
        f"{phases['burst_to_last_job_created_s'] / floor:.2f}×" if floor else "",
    )]  # fmt: skip


_GOAL_TEXT = {
    "fixed_overhead_s": ("fixed overhead: 1 s clip through the pipeline minus bare", "≤ {} s",
                         "{} s"),
    "ratio_10s": ("10 s clip through the pipeline ÷ bare", "≤ {}×", "{}×"),
    "throughput_share": ("20 uploads of a 10 s clip at once: jobs/min ÷ bare jobs/min with the "
                         "same workers", "≥ {:.0%}", "{:.0%}"),
}  # fmt: skip


def _overhead_section(local: dict[str, Any]) -> list[str]:
    """The overhead goals (met or missed) and the per-stage latency of an upload."""
    rows = [o for o in local.get("overhead", []) if o.get("stages_median_s")]
    goals = local.get("overhead_goals") or {}
    if not rows and not goals:
        return []
    engine = local.get("engine") or {}
    lines = [
        "",
        "## Pipeline overhead on the local cloud",
        "",
        "Bare = decode+recognition in one process with the engine of a local-cloud worker "
        f"(Whisper base, {engine.get('threads_per_worker', '?')} CPU thread(s) each, "
        f"{engine.get('workers', '?')} workers on {engine.get('cores', '?')} cores); "
        "throughput's bare runs that many recognizer processes side by side. Load average "
        f"before/after: {local.get('load_before', '?')} / {local.get('load_after', '?')}.",
        "",
        "| Goal | Measured | Target | |",
        "|---|---|---|---|",
    ]
    for name, goal in goals.items():
        label, target, value = _GOAL_TEXT.get(name, (name, "{}", "{}"))
        verdict = "met" if goal["met"] else "**missed**"
        lines.append(f"| {label} | {value.format(goal['value'])} | "
                     f"{target.format(goal['goal'])} | {verdict} |")  # fmt: skip
    burst = (local.get("throughput") or {}).get("stages_median_s") or {}
    columns = [f"{o['clip']} clip" for o in rows] + (["burst of 20 (per job)"] if burst else [])
    stages = list(rows[0]["stages_median_s"]) if rows else list(burst)
    lines += [
        "",
        "Where an upload's time goes (medians, seconds): from the client's clock, the functions' "
        "START/END log lines and the job's CreationTime/StartTime/CompletionTime.",
        "",
        "| Stage | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for stage in stages:
        values = [o["stages_median_s"].get(stage) for o in rows]
        if burst:
            values.append(burst.get(stage))
        cells = " | ".join("?" if v is None else f"{v:.3f}" for v in values)
        lines.append(f"| {stage} | {cells} |")
    return lines


def markdown(summary: dict[str, Any]) -> str:
    """BENCHMARKS.md."""
    m = summary["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m benchmarks`); do not edit by hand. Machines are",
        "noisy: compare the ratios (ours vs a reference measured in the same run), not the",
        "absolute seconds. Figures are medians; every run is in",
        "[`benchmarks/results/summary.json`](benchmarks/results/summary.json).",
        "",
        "| Benchmark | Ours | Reference | Ratio |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in _rows(summary)]
    lines += _overhead_section(summary.get("local", {}))
    cost = summary.get("cost", {})
    if cost and "rows" in cost:
        fixed = cost["fixed_per_month_usd"]
        lines += [
            "",
            "## Cost model",
            "",
            "Per hour of audio, us-east-1 list prices from",
            "[`benchmarks/prices.py`](benchmarks/prices.py) (each with its source and date; "
            "re-check them), free tiers ignored,",
            "Lambda durations measured on the local cloud as a stand-in for 256 MB arm64.",
            "",
            "| File length | Lambda requests | Lambda GB-s | SQS | EventBridge | DynamoDB (ledger) "
            "| S3 requests | S3 storage (1 month) | Pipeline total | Transcribe |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in cost["rows"]:
            h = r["per_hour_of_audio_usd"]
            keys = ("lambda_requests", "lambda_gb_s", "sqs", "eventbridge", "dynamodb",
                    "s3_requests", "s3_output_storage_month", "pipeline_total",
                    "transcribe")  # fmt: skip
            lines.append(f"| {r['file_minutes']} min | " + " | ".join(f"{h[k]:.6f}" for k in keys)
                         + " |")  # fmt: skip
        lines += [
            "",
            f"Fixed, whatever the volume: sweeper every 15 min USD {fixed['sweeper_lambda']:.4f}"
            f"/month; Lambda's idle SQS long polling USD {fixed['sqs_idle_long_polling']:.4f}"
            "/month.",
        ]
    lines += [
        "",
        "## How to reproduce",
        "",
        "```",
        "make bench            # = make setup, then .venv/bin/python -m benchmarks",
        "```",
        "",
        "It needs no AWS account: the app deploys to the local cloud (`localcloud/`) on a free",
        "port and is destroyed afterwards. Clips of 1 s, 10 s, 60 s and 10 min are built at run",
        "time from `samples/hello-pipeline.wav`. Results: `benchmarks/results/summary.json`;",
        "this file is rewritten. The burst row is read from `benchmarks/results/burst.json`,",
        "which the simulation writes. The local cloud burst deploys the app once more",
        "and uploads 200 real files with duplicate and dropped events (about 3 minutes; alone:",
        "`python -m benchmarks.local_burst`; figures in `benchmarks/results/local_burst.json`).",
        "The overhead goals and the per-stage table alone: `python -m",
        "benchmarks.pipeline_overhead --clips 1s,10s` (figures in",
        "`benchmarks/results/pipeline_overhead.json`).",
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in m.items()]
    lines += ["", f"Total wall time of the run: {summary.get('wall_seconds', '?')} s.", ""]
    return "\n".join(lines)
