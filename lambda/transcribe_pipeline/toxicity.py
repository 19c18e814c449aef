"""Toxicity detection in a Transcribe result: the scored segments and the mark the .txt shows.

With ``ToxicityDetection`` Transcribe adds ``results.toxicity_detection``: one entry per segment
of speech with its ``text``, an overall ``toxicity`` score from 0 to 1, a score per category
(``categories``) and its ``start_time`` and ``end_time`` in seconds (docs/transcribe-features.md).
Transcribe flags nothing itself: the pipeline calls a segment toxic from ``TOXIC_THRESHOLD`` on
and marks it in the readable ``.txt`` with :func:`mark`, before its first word.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from transcribe_pipeline.transcript import TranscriptError
from transcribe_pipeline.words import Word

# A segment scored at least this is marked in the .txt and "flagged" in the .json; the .json
# keeps every score, so a reader can apply a threshold of its own.
TOXIC_THRESHOLD = 0.5
# A word belongs to a segment when it starts inside it; times are rounded to centiseconds by
# Transcribe, so a word may start this little before its segment.
_TIME_TOLERANCE = 0.01


@dataclass(frozen=True)
class ToxicSegment:
    """One scored segment of speech."""

    start: float
    end: float
    text: str
    toxicity: float
    categories: tuple[tuple[str, float], ...]

    @property
    def flagged(self) -> bool:
        """Whether the pipeline calls it toxic (score at or above TOXIC_THRESHOLD)."""
        return self.toxicity >= TOXIC_THRESHOLD

    @property
    def top_category(self) -> str | None:
        """The category with the highest score, None without categories."""
        return max(self.categories, key=lambda item: item[1])[0] if self.categories else None


def toxicity_segments(result: Any) -> list[ToxicSegment] | None:
    """The scored segments of a result; None when the job did not detect toxicity."""
    results = result.get("results") if isinstance(result, dict) else None
    if not isinstance(results, dict) or "toxicity_detection" not in results:
        return None
    entries = results["toxicity_detection"]
    if not isinstance(entries, list):
        raise TranscriptError("expected 'results.toxicity_detection' to be a list")
    return [_segment(entry) for entry in entries]


def _segment(entry: Any) -> ToxicSegment:
    if not isinstance(entry, dict):
        raise TranscriptError("expected every toxicity_detection entry to be an object")
    categories = entry.get("categories") or {}
    if not isinstance(categories, dict):
        raise TranscriptError("expected toxicity_detection[].categories to be an object")
    text = entry.get("text", "")
    return ToxicSegment(
        start=_number(entry, "start_time"),
        end=_number(entry, "end_time"),
        text=text if isinstance(text, str) else "",
        toxicity=_number(entry, "toxicity"),
        categories=tuple(
            (str(name), _number(categories, name)) for name in sorted(categories, key=str)
        ),
    )


def _number(entry: dict[str, Any], name: str) -> float:
    """A number Transcribe may write as a JSON number or as a string."""
    try:
        value = float(entry[name])
    except (KeyError, TypeError, ValueError) as error:
        raise TranscriptError(f"a toxicity_detection entry has no numeric {name}") from error
    if not math.isfinite(value) or value < 0:
        raise TranscriptError(f"a toxicity_detection entry has {name} {entry[name]!r}")
    return value


def mark(segment: ToxicSegment) -> str:
    """How the .txt flags a toxic segment: ``[toxic 0.76: profanity]`` before its first word."""
    category = segment.top_category
    score = f"{segment.toxicity:.2f}"
    return f"[toxic {score}: {category}]" if category else f"[toxic {score}]"


def first_words(words: Sequence[Word], segments: Sequence[ToxicSegment]) -> list[int]:
    """For each segment, the index of the first word starting in it (len(words) if none does).

    A segment with no word of its own (its words were merged elsewhere) is placed before the
    first word after its start, so that no flag is lost.
    """
    starts = [word.start for word in words]
    if all(a <= b for a, b in itertools.pairwise(starts)):
        return [bisect.bisect_left(starts, s.start - _TIME_TOLERANCE) for s in segments]
    return [
        next(
            (i for i, start in enumerate(starts) if start >= s.start - _TIME_TOLERANCE), len(starts)
        )
        for s in segments
    ]


def segment_json(segment: ToxicSegment) -> dict[str, Any]:
    """A segment as ``transcripts/<key>.json`` keeps it (docs/transcript-json.md)."""
    return {
        "start": round(segment.start, 3),
        "end": round(segment.end, 3),
        "text": segment.text,
        "toxicity": segment.toxicity,
        "categories": dict(segment.categories),
        "flagged": segment.flagged,
    }
