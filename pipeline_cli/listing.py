"""``list``: upload versions from the ledger, by state and key prefix, a page at a time."""

from __future__ import annotations

from pipeline_cli.ledger import Ledger, Page
from transcribe_pipeline.layout import FAILED_PREFIX
from transcribe_pipeline.ledger_schema import State

# What `list` shows without --state: every version that decides something. A superseded
# version never wrote anything; `--state SUPERSEDED` lists those.
DEFAULT_STATES: list[State] = [state for state in State if state is not State.SUPERSEDED]
DEFAULT_LIMIT = 1000


def list_versions(
    ledger: Ledger,
    *,
    states: list[State] | None = None,
    prefix: str = "",
    limit: int = DEFAULT_LIMIT,
    token: str | None = None,
) -> Page:
    """One page of version items in ``states`` under ``prefix``: one Query per state and page."""
    chosen = [s for s in State if s in set(states)] if states else DEFAULT_STATES
    return ledger.by_state(chosen, prefix=prefix, limit=limit, token=token)


def output_kinds(outputs: list[str]) -> list[str]:
    """The kinds of a version's outputs for a table cell: ``txt srt vtt json`` or ``failed``."""
    return [
        "failed" if key.startswith(FAILED_PREFIX) else key.rsplit(".", 1)[-1] for key in outputs
    ]
