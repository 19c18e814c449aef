"""Helpers shared by the local cloud's test modules."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID


def wait_for(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll until check() is truthy (bounded), returning its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


ACCOUNT = DEFAULT_ACCOUNT_ID
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# A function that writes each event it receives to a file in $OUT_DIR.
RECORDING_FUNCTION = """
import json, os, uuid
from urllib.parse import unquote_plus

def handler(event, context):
    name = os.path.join(os.environ["OUT_DIR"], uuid.uuid4().hex)
    with open(name + ".tmp", "w") as out:  # atomically: the test reads these while we run
        json.dump(event, out)
    os.replace(name + ".tmp", name + ".json")
"""


def recorded(out_dir: Path) -> list[Any]:
    """The events a RECORDING_FUNCTION wrote to out_dir, in file name order."""
    return [json.loads(path.read_text()) for path in sorted(out_dir.glob("*.json"))]


def rule(cloud: Any, pattern: dict[str, Any] | None = None, **extra: Any) -> tuple[str, str]:
    """Create an EventBridge rule on the default bus; its name and ARN."""
    name = f"rule-{uuid.uuid4().hex[:8]}"
    if pattern is not None:
        extra["EventPattern"] = json.dumps(pattern)
    arn = cloud.events.put_rule(Name=name, **extra)["RuleArn"]
    return name, arn
