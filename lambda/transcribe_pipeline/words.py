"""The timed words of a Transcribe result, with their punctuation, speaker and channel.

Transcribe's ``items`` are pronunciation items (one word, with ``start_time``, ``end_time``
and a confidence, all strings) and punctuation items (no times). The speaker of a word is its
``speaker_label``, or, in older results, the label of the ``speaker_labels.segments`` item
with the same times. With channel identification each channel's items are in
``channel_labels.channels[].items``; the words are then read from there, so that punctuation
stays with its own channel's words (docs/transcribe-results.md).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from transcribe_pipeline.transcript import TranscriptError

# Punctuation that opens (¿Qué? «Oui») sticks to the word after it; the rest to the word before.
OPENING_PUNCTUATION = frozenset("¿¡([{«‹“‘„‚")


@dataclass(frozen=True)
class Word:
    """One recognized word with the punctuation around it, as it is displayed."""

    content: str
    start: float
    end: float
    confidence: float | None = None
    speaker: str | None = None
    channel: str | None = None
    before: str = ""
    after: str = ""

    @property
    def text(self) -> str:
        """The word with its punctuation: ``¿Qué``, ``world.``."""
        return f"{self.before}{self.content}{self.after}"

    @property
    def voice(self) -> str | None:
        """Who speaks it: the speaker label, else the channel label, else None."""
        return self.speaker if self.speaker is not None else self.channel


def result_words(result: Any) -> list[Word]:
    """Every word of a Transcribe result document, in the order it was spoken."""
    if not isinstance(result, dict) or not isinstance(result.get("results"), dict):
        raise TranscriptError("expected an object with a 'results' object")
    results = result["results"]
    channels = (results.get("channel_labels") or {}).get("channels")
    if isinstance(channels, list) and channels:
        per_channel = [
            list(
                words_of(
                    _list(channel.get("items"), "channel_labels.channels[].items"),
                    channel=_label(channel.get("channel_label")),
                )
            )
            for channel in channels
            if isinstance(channel, dict)
        ]
        # Each channel is in time order; merging keeps each one's order on equal times.
        return list(heapq.merge(*per_channel, key=lambda word: word.start))
    items = _list(results.get("items"), "results.items")
    return list(words_of(items, speakers=_segment_speakers(results.get("speaker_labels"))))


def words_of(
    items: Iterable[Any],
    *,
    channel: str | None = None,
    speakers: dict[tuple[str, str], str] | None = None,
) -> Iterator[Word]:
    """Words from Transcribe items, punctuation attached; punctuation with no word is dropped."""
    pending_before = ""
    current: Word | None = None
    for item in items:
        if not isinstance(item, dict):
            raise TranscriptError("expected every item to be an object")
        content = " ".join(_content(item).split())
        if item.get("type") == "punctuation":
            if content in OPENING_PUNCTUATION or current is None:
                pending_before += content
            else:
                current = replace(current, after=current.after + content)
            continue
        if not content:
            continue
        if current is not None:
            yield current
        start, end = _time(item, "start_time"), _time(item, "end_time")
        speaker = item.get("speaker_label")
        if speaker is None and speakers:
            speaker = speakers.get((str(item.get("start_time")), str(item.get("end_time"))))
        current = Word(
            content=content,
            start=start,
            end=end,
            confidence=_confidence(item),
            speaker=_label(speaker),
            channel=_label(item.get("channel_label", channel)),
            before=pending_before,
        )
        pending_before = ""
    if current is not None:
        # Opening punctuation after the last word has no word to open: it closes this one.
        yield replace(current, after=current.after + pending_before) if pending_before else current


def _segment_speakers(speaker_labels: Any) -> dict[tuple[str, str], str]:
    """(start_time, end_time) -> speaker, from ``speaker_labels.segments[].items``."""
    speakers: dict[tuple[str, str], str] = {}
    if not isinstance(speaker_labels, dict):
        return speakers
    for segment in speaker_labels.get("segments") or []:
        if not isinstance(segment, dict):
            continue
        for item in segment.get("items") or []:
            if isinstance(item, dict) and "speaker_label" in item:
                key = (str(item.get("start_time")), str(item.get("end_time")))
                speakers.setdefault(key, str(item["speaker_label"]))
    return speakers


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TranscriptError(f"expected '{where}' to be a list")
    return value


def _content(item: dict[str, Any]) -> str:
    try:
        content = item["alternatives"][0]["content"]
    except (KeyError, IndexError, TypeError) as error:
        raise TranscriptError("an item has no alternatives[0].content") from error
    if not isinstance(content, str):
        raise TranscriptError("expected alternatives[0].content to be a string")
    return content


def _time(item: dict[str, Any], name: str) -> float:
    try:
        value = float(item[name])
    except (KeyError, TypeError, ValueError) as error:
        raise TranscriptError(f"a pronunciation item has no numeric {name}") from error
    if not math.isfinite(value) or value < 0:
        raise TranscriptError(f"a pronunciation item has {name} {item[name]!r}")
    return value


def _confidence(item: dict[str, Any]) -> float | None:
    try:
        value = float(item["alternatives"][0]["confidence"])
    except (KeyError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _label(value: Any) -> str | None:
    return None if value is None else str(value)
