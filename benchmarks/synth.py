"""`cdk synth` of the app against a minimal reference app with the same resource counts."""

from __future__ import annotations

import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_APP = Path(__file__).resolve().parent / "reference_app" / "app.py"
COUNTED = ("AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::SQS::Queue", "AWS::Events::Rule")


def _synth_once(app: Path) -> tuple[float, dict[str, int]]:
    """Time one ``cdk synth`` of ``app`` into a fresh directory; count its resources."""
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "CDK_DEFAULT_ACCOUNT": "123456789012",
        "CDK_DEFAULT_REGION": "us-east-1",
    }
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as out:
        command = ["npx", "--no-install", "cdk", "synth", "--quiet",
                   "--app", f"{sys.executable} {app}", "--output", out]  # fmt: skip
        began = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                check=False, timeout=600)  # fmt: skip
        seconds = time.perf_counter() - began
        if result.returncode != 0:
            raise RuntimeError(f"cdk synth of {app} failed:\n{result.stderr[-3000:]}")
        counts: collections.Counter[str] = collections.Counter()
        for template in Path(out).glob("*.template.json"):
            resources = json.loads(template.read_text()).get("Resources", {})
            counts.update(r["Type"] for r in resources.values())
    return seconds, dict(sorted(counts.items()))


def measure(runs: int = 3) -> dict[str, Any]:
    """Alternate app and reference synths ``runs`` times each; medians and their ratio."""
    apps = {"app": ROOT / "app.py", "reference": REFERENCE_APP}
    times: dict[str, list[float]] = {name: [] for name in apps}
    counts: dict[str, dict[str, int]] = {}
    for _ in range(runs):
        for name, path in apps.items():  # interleaved, so drift hits both alike
            seconds, counts[name] = _synth_once(path)
            times[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "runs": runs,
        "app_seconds": [round(x, 2) for x in times["app"]],
        "reference_seconds": [round(x, 2) for x in times["reference"]],
        "app_median_s": round(medians["app"], 2),
        "reference_median_s": round(medians["reference"], 2),
        "ratio": round(medians["app"] / medians["reference"], 2),
        "app_counts": {k: counts["app"].get(k, 0) for k in COUNTED},
        "reference_counts": {k: counts["reference"].get(k, 0) for k in COUNTED},
        "app_resources_total": sum(counts["app"].values()),
        "reference_resources_total": sum(counts["reference"].values()),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
