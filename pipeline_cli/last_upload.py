"""The last upload, remembered so that ``wait`` without arguments knows what to wait for."""

# One JSON file, $XDG_STATE_HOME/transcribe-pipeline/last-upload.json (default ~/.local/state/...;
# TRANSCRIBE_PIPELINE_STATE_DIR overrides the folder), holding the last upload per input bucket,
# so that several deployments (AWS accounts, local clouds) never mix. A state file in the user's
# state folder rather than the working directory: `wait` works from any folder.

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_DIR_VARIABLE = "TRANSCRIBE_PIPELINE_STATE_DIR"
FILE_NAME = "last-upload.json"


@dataclass(frozen=True)
class Upload:
    """One uploaded object version."""

    key: str
    version_id: str | None


def state_file() -> Path:
    """Where the state lives (see the comment at the top)."""
    override = os.environ.get(STATE_DIR_VARIABLE)
    if override:
        return Path(override) / FILE_NAME
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "transcribe-pipeline" / FILE_NAME


def remember(bucket: str, uploads: list[Upload]) -> None:
    """Record ``uploads`` as the last upload to ``bucket``."""
    state = _read()
    state[bucket] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "uploads": [asdict(upload) for upload in uploads],
    }
    _write(state)


def recall(bucket: str) -> list[Upload]:
    """The last upload to ``bucket`` (empty when there was none)."""
    entry = _read().get(bucket) or {}
    return [
        Upload(key=str(item["key"]), version_id=item.get("version_id"))
        for item in entry.get("uploads", [])
        if isinstance(item, dict) and "key" in item
    ]


def forget(bucket: str) -> None:
    """Drop what was remembered for ``bucket`` (its objects are gone)."""
    state = _read()
    if state.pop(bucket, None) is not None:
        _write(state)


def _read() -> dict[str, Any]:
    path = state_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError:
        return {}  # a corrupt state file only loses the "last upload" convenience
    return data if isinstance(data, dict) else {}


def _write(state: dict[str, Any]) -> None:
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write-then-rename: a concurrent reader never sees half a file.
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=".last-upload-", delete=False
    ) as handle:
        json.dump(state, handle, indent=2, ensure_ascii=False)
    Path(handle.name).replace(path)
