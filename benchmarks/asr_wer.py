"""Accuracy and speed of the local recognizer on every shipped sample.

Run: .venv/bin/python benchmarks/asr_wer.py
Prints a table and writes benchmarks/results/asr_wer.json.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localcloud.asr import Recognizer, decode_media  # noqa: E402
from localcloud.wer import wer  # noqa: E402

LOG = logging.getLogger("asr_wer")
SAMPLES = ROOT / "samples"
RESULTS = ROOT / "benchmarks" / "results" / "asr_wer.json"


def measure() -> dict[str, Any]:
    """Decode and recognize each sample once; time both and score the words."""
    spec = json.loads((SAMPLES / "texts.json").read_text())
    began = time.perf_counter()
    recognizer = Recognizer()
    load_seconds = time.perf_counter() - began
    rows: list[dict[str, Any]] = []
    for clip in spec["clips"]:
        for fmt in clip["formats"]:
            path = SAMPLES / f"{clip['name']}.{fmt}"
            began = time.perf_counter()
            audio = decode_media(path)
            decoded = time.perf_counter()
            words = recognizer.recognize(audio.pcm)
            done = time.perf_counter()
            hypothesis = " ".join(w.content for w in words)
            rows.append(
                {
                    "sample": clip["name"],
                    "format": fmt,
                    "duration_seconds": round(audio.duration_seconds, 2),
                    "decode_seconds": round(decoded - began, 3),
                    "recognize_seconds": round(done - decoded, 3),
                    "seconds": round(done - began, 3),
                    "realtime_factor": round((done - began) / audio.duration_seconds, 3),
                    "wer": round(wer(clip["text"], hypothesis), 3),
                    "reference": clip["text"],
                    "hypothesis": hypothesis,
                }
            )
    audio_total = sum(r["duration_seconds"] for r in rows)
    return {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "model_load_seconds": round(load_seconds, 3),
        "samples": rows,
        "overall": {
            "audio_seconds": round(audio_total, 2),
            "realtime_factor": round(sum(r["seconds"] for r in rows) / audio_total, 3),
            "mean_wer": round(sum(r["wer"] for r in rows) / len(rows), 3),
            "max_wer": max(r["wer"] for r in rows),
        },
    }


def table(report: dict[str, Any]) -> str:
    """The report as a fixed-width table."""
    lines = [
        f"{'sample':16} {'format':6} {'audio s':>8} {'decode+rec s':>13} {'RTF':>6} {'WER':>6}"
    ]
    for r in report["samples"]:
        lines.append(
            f"{r['sample']:16} {r['format']:6} {r['duration_seconds']:8.2f} {r['seconds']:13.2f}"
            f" {r['realtime_factor']:6.3f} {r['wer']:6.3f}"
        )
    overall = report["overall"]
    lines.append(
        f"{'all':16} {'':6} {overall['audio_seconds']:8.2f} {'':13} "
        f"{overall['realtime_factor']:6.3f} {overall['mean_wer']:6.3f} (mean; max "
        f"{overall['max_wer']:.3f}; model load {report['model_load_seconds']:.2f} s)"
    )
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark, log the table and save the JSON report."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = measure()
    LOG.info("%s", table(report))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    LOG.info("written %s", RESULTS.relative_to(ROOT))


if __name__ == "__main__":
    main()
