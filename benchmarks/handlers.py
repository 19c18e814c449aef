"""Cold import time of each function handler module, and the size of the deployed asset."""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from transcribe_pipeline import environment as names

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = ROOT / "lambda"
HANDLERS = ("start_transcription", "job_state_change", "sweeper")
# What the stack passes (lambda/transcribe_pipeline/settings.py reads these at cold start).
FUNCTION_ENV = {
    names.INPUT_BUCKET: "bench-input",
    names.OUTPUT_BUCKET: "bench-output",
    names.JOB_NAME_PREFIX: "bench",
    names.LANGUAGE_CODE: "en-US",
    names.IDENTIFY_LANGUAGE: "false",
    names.SHOW_SPEAKER_LABELS: "false",
    names.MAX_SPEAKER_LABELS: "2",
    names.LEDGER_TABLE: "bench-ledger",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
}
_PROBE = (
    "import time, importlib; t = time.perf_counter(); importlib.import_module({name!r}); "
    "print(time.perf_counter() - t)"
)


def import_seconds(name: str) -> float:
    """Seconds to import handler module ``name`` in a fresh interpreter."""
    env = {
        **os.environ,
        **FUNCTION_ENV,
        "PYTHONPATH": str(LAMBDA_DIR),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(name=name)],
        cwd=LAMBDA_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(result.stdout.strip().splitlines()[-1])


def asset_zip_bytes(directory: Path = LAMBDA_DIR) -> tuple[int, int]:
    """(zipped, unzipped) bytes of ``directory`` zipped as CDK does (no __pycache__/.pyc)."""
    buffer = io.BytesIO()
    raw = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            archive.write(path, path.relative_to(directory).as_posix())
            raw += path.stat().st_size
    return len(buffer.getvalue()), raw


def measure(runs: int = 5) -> dict[str, Any]:
    """Median of ``runs`` cold imports per handler (interleaved), and the asset size."""
    samples: dict[str, list[float]] = {name: [] for name in HANDLERS}
    baseline: list[float] = []
    for _ in range(runs):
        baseline.append(import_seconds("json"))  # interpreter floor: a stdlib module
        for name in HANDLERS:
            samples[name].append(import_seconds(name))
    zipped, raw = asset_zip_bytes()
    return {
        "runs": runs,
        "handlers": {
            name: {
                "median_ms": round(statistics.median(values) * 1000, 1),
                "runs_ms": [round(v * 1000, 1) for v in values],
            }
            for name, values in samples.items()
        },
        "stdlib_json_import_median_ms": round(statistics.median(baseline) * 1000, 2),
        "asset": {
            "shared_by": list(HANDLERS),
            "zip_bytes": zipped,
            "unzipped_bytes": raw,
            "note": "one lambda/ asset for all three functions (Powertools comes from the "
            "AWS-published layer, not the asset)",
        },
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
