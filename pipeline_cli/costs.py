"""``costs``: Amazon Transcribe's bill estimated from the ledger, per prefix and month.

Each TRANSCRIBED version item is one billed job: its audio seconds (``duration_s``) rounded
up to whole seconds, at least 15 (pipeline_cli/pricing.py, docs/transcribe-pricing.md).
FAILED jobs are counted but not priced: AWS prices transcribed audio, and a failed job's item
has no duration. Only an item's latest attempt is in the ledger, so jobs of earlier attempts
(before a `reprocess`) are not counted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from pipeline_cli import pricing
from pipeline_cli.ledger import Ledger, VersionItem
from transcribe_pipeline.ledger_schema import State

UNKNOWN_MONTH = "unknown"


class GroupBy(enum.StrEnum):
    """What a cost line's prefix is."""

    FOLDER = "folder"  # the key's first path segment ("talks/"; "" for top-level keys)
    PROFILE = "profile"  # the prefix of the profile the key matched ("" for the top level)


@dataclass
class CostLine:
    """One prefix's jobs of one month and what they cost."""

    prefix: str
    month: str
    jobs: int = 0
    audio_seconds: float = 0.0
    billed_seconds: int = 0
    unknown_durations: int = 0  # billed at the minimum: the item has no duration
    failed_jobs: int = 0

    @property
    def usd(self) -> float:
        """The list price of the billed seconds."""
        return pricing.usd(self.billed_seconds)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "prefix": self.prefix,
            "month": self.month,
            "jobs": self.jobs,
            "audio_seconds": round(self.audio_seconds, 3),
            "billed_seconds": self.billed_seconds,
            "usd": round(self.usd, 6),
            "unknown_durations": self.unknown_durations,
            "failed_jobs": self.failed_jobs,
        }


@dataclass(frozen=True)
class Costs:
    """The ``costs`` command's findings."""

    lines: list[CostLine]
    group_by: GroupBy

    @property
    def total_usd(self) -> float:
        """Every line's price together."""
        return pricing.usd(sum(line.billed_seconds for line in self.lines))

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "group_by": self.group_by.value,
            "usd_per_second": pricing.USD_PER_SECOND,
            "minimum_billed_seconds": pricing.MINIMUM_BILLED_SECONDS,
            "price_region": pricing.PRICE_REGION,
            "pricing_page": pricing.PRICING_PAGE,
            "lines": [line.to_json() for line in self.lines],
            "total_usd": round(self.total_usd, 6),
        }


def costs(ledger: Ledger, *, prefix: str = "", group_by: GroupBy = GroupBy.FOLDER) -> Costs:
    """Billed seconds and list price per prefix and month (of ``finished_at``)."""
    lines: dict[tuple[str, str], CostLine] = {}

    def line(item: VersionItem) -> CostLine:
        where = (_group(item, group_by), (item.finished_at or "")[:7] or UNKNOWN_MONTH)
        return lines.setdefault(where, CostLine(*where))

    for item in ledger.by_state([State.TRANSCRIBED], prefix=prefix, limit=0).items:
        add_job(line(item), item.duration_s)
    for item in ledger.by_state([State.FAILED], prefix=prefix, limit=0).items:
        line(item).failed_jobs += 1
    return Costs(sorted(lines.values(), key=lambda c: (c.month, c.prefix)), group_by)


def add_job(line: CostLine, duration_s: float | None) -> None:
    """Count one transcribed job on ``line``."""
    line.jobs += 1
    if duration_s is None:
        line.unknown_durations += 1
        line.billed_seconds += pricing.MINIMUM_BILLED_SECONDS
        return
    line.audio_seconds += duration_s
    line.billed_seconds += pricing.billed_seconds(duration_s)


def _group(item: VersionItem, group_by: GroupBy) -> str:
    if group_by is GroupBy.PROFILE:
        return item.profile or ""
    folder, slash, _ = item.key.partition("/")
    return f"{folder}/" if slash else ""
