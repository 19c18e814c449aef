"""Whisper's words as Amazon Transcribe result items, documents and subtitles (pure functions).

Whisper (faster-whisper's ``word_timestamps``) gives words as they are written: with their
leading space, with punctuation attached ("pipeline." / "¿Dónde"), and now and then a word
split in fragments ("well" "-known", "Mc" "Donald"). Amazon Transcribe's result lists
``items``: one ``pronunciation`` item per word with start/end times and a confidence, and
one ``punctuation`` item per mark, with no times and a confidence of 0.0
(docs/transcribe-results.md). `items_from_words` converts the one into the other.

Long media are recognized in windows (`plan_windows`) that overlap; `merge_windows` keeps
each word from exactly one window, the one whose *keep* range holds the word's midpoint, so
no word is lost or repeated at a seam as long as the overlap is longer than a word.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

# Marks that become punctuation items. "¿" and "¡" open a Spanish sentence and stand before
# their word; the rest close one. Runs of one mark ("...") give one item, "…" a full stop.
OPENING_MARKS = frozenset("¿¡")
CLOSING_MARKS = frozenset(".,?!;:。，？！、：；")
SENTENCE_END = frozenset(".?!。？！")
# Written by Whisper but never by Transcribe: quotes and brackets are dropped.
DROPPED = frozenset('"“”„«»()[]{}')
_EQUIVALENT = {"…": "."}
# Subtitle cue limits: short enough to read at a glance, as Transcribe's cues are.
CUE_MAX_SECONDS = 7.0
CUE_MAX_WORDS = 12


@dataclass(frozen=True)
class RecognizedWord:
    """One word as Whisper writes it: text (leading space included), times, probability."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Item:
    """One Transcribe result item: a pronunciation (timed word) or a punctuation mark."""

    kind: Literal["pronunciation", "punctuation"]
    content: str
    start: float | None = None
    end: float | None = None
    confidence: float = 0.0
    language_code: str | None = None  # set for multi-language transcripts only
    space_before: bool = True  # how the transcript text joins it to what precedes it
    channel_label: str | None = None  # "ch_0", "ch_1" with channel identification
    # (PII entity type, confidence) of a "[PII]" item that replaced redacted words.
    redactions: tuple[tuple[str, float], ...] = ()
    vocabulary_filter_match: bool = False  # tagged by a vocabulary filter ("tag")

    def to_json(self, item_id: int) -> dict[str, Any]:
        """The item as Transcribe writes it (times and confidences as strings)."""
        out: dict[str, Any] = {"id": item_id, "type": self.kind}
        if self.channel_label:
            out["channel_label"] = self.channel_label
        if self.redactions:
            # A redacted item has no recognition confidence, only the redaction's
            # (docs/transcribe-results.md, "Redaction").
            out["alternatives"] = [
                {
                    "content": self.content,
                    "redactions": [
                        {"confidence": _num(score), "type": kind, "category": "PII"}
                        for kind, score in self.redactions
                    ],
                }
            ]
        else:
            out["alternatives"] = [{"confidence": _num(self.confidence), "content": self.content}]
        if self.kind == "pronunciation":
            assert self.start is not None and self.end is not None
            out["start_time"] = _num(self.start)
            out["end_time"] = _num(self.end)
        if self.language_code:
            out["language_code"] = self.language_code
        if self.vocabulary_filter_match:
            out["vocabularyFilterMatch"] = True
        return out

    @classmethod
    def pronunciation(
        cls, content: str, start: float, end: float, confidence: float, **extra: Any
    ) -> Item:
        """A word with its times (end never before start) and confidence in 0..1."""
        start = round(max(0.0, float(start)), 3)
        return cls(
            "pronunciation",
            content,
            start,
            max(start, round(float(end), 3)),
            round(min(1.0, max(0.0, float(confidence))), 4),
            **extra,
        )


def _num(value: float) -> str:
    """A time or confidence as Transcribe writes it: a short decimal string."""
    return str(round(value, 4))


def _marks(chars: str) -> list[str]:
    """The punctuation items of a run of marks: dropped characters go, repeats collapse."""
    marks: list[str] = []
    for char in chars:
        mark = _EQUIVALENT.get(char, char)
        if mark in DROPPED or mark.isspace():
            continue
        if not marks or marks[-1] != mark:
            marks.append(mark)
    return marks


def _split(core: str) -> tuple[str, str, str]:
    """(leading marks, word, trailing marks) of a stripped Whisper word."""
    edge = OPENING_MARKS | CLOSING_MARKS | DROPPED | set(_EQUIVALENT)
    head = 0
    while head < len(core) and (core[head] in edge or core[head].isspace()):
        head += 1
    tail = len(core)
    while tail > head and (core[tail - 1] in edge or core[tail - 1].isspace()):
        tail -= 1
    return core[:head], core[head:tail], core[tail:]


def items_from_words(
    words: Sequence[RecognizedWord], *, spaced: bool = True, language_code: str | None = None
) -> list[Item]:
    """Transcribe items from Whisper's words, in order.

    `spaced`: the language separates words by spaces (False for Japanese, Chinese, Thai...:
    their words are never merged and the transcript joins them without spaces).
    `language_code` is stamped on each item (multi-language transcripts).
    """
    items: list[Item] = []
    extra: dict[str, Any] = {"language_code": language_code}
    for word in words:
        lead, core, trail = _split(word.text.strip())
        glued = spaced and not word.text[:1].isspace()
        previous = items[-1] if items and items[-1].kind == "pronunciation" else None
        # A fragment of the previous word: no space before it ("Mc" "Donald", "well"
        # "-known"), or after a word ending in a hyphen ("well-" "known").
        if (
            core
            and not lead
            and previous is not None
            and spaced
            and (glued or (previous.content.endswith("-") and core.strip("-")))
        ):
            assert previous.start is not None and previous.end is not None
            items[-1] = replace(
                previous,
                content=previous.content + core,
                end=max(previous.end, round(float(word.end), 3)),
                confidence=min(previous.confidence, round(float(word.probability), 4)),
            )
            items.extend(_punctuation(trail, extra))
            continue
        # Otherwise a hyphen at a word's start is a dash ("I - I think"), not part of it.
        while core.startswith("-"):
            more_lead, core, more_trail = _split(core.lstrip("-"))
            lead, trail = lead + more_lead, more_trail + trail
        items.extend(_punctuation(lead, extra))
        opened = bool(items) and items[-1].content in OPENING_MARKS
        if core:
            items.append(
                Item.pronunciation(
                    core,
                    word.start,
                    word.end,
                    word.probability,
                    space_before=spaced and not opened,
                    **extra,
                )
            )
        items.extend(_punctuation(trail, extra))
    return _drop_orphan_marks(items)


def _punctuation(chars: str, extra: dict[str, Any]) -> list[Item]:
    return [
        Item("punctuation", mark, space_before=mark in OPENING_MARKS, **extra)
        for mark in _marks(chars)
    ]


def _drop_orphan_marks(items: list[Item]) -> list[Item]:
    """Closing marks before any word and opening marks after the last one mean nothing."""
    out: list[Item] = []
    for index, item in enumerate(items):
        if item.kind == "punctuation":
            if item.content in OPENING_MARKS:
                if not any(i.kind == "pronunciation" for i in items[index + 1 :]):
                    continue
            elif not any(i.kind == "pronunciation" for i in out):
                continue
        out.append(item)
    return out


def transcript_text(items: Sequence[Item]) -> str:
    """The transcript as Transcribe writes it: words spaced, marks attached."""
    parts: list[str] = []
    for item in items:
        parts.append((" " if parts and item.space_before else "") + item.content)
    return "".join(parts)


def sentences(items: Sequence[Item]) -> list[list[int]]:
    """Indices of the items of each sentence (ending after a sentence-ending mark)."""
    groups: list[list[int]] = []
    current: list[int] = []
    for index, item in enumerate(items):
        current.append(index)
        if item.kind == "punctuation" and item.content in SENTENCE_END:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return [g for g in groups if any(items[i].kind == "pronunciation" for i in g)]


def merge_channels(channels: Sequence[Sequence[Item]]) -> list[Item]:
    """The items of every channel in one list ordered by time, each word with its own marks.

    A closing mark stays after the word before it in its channel, an opening mark before the
    word after it; words that start together keep the order of their channels.
    """
    groups: list[tuple[float, int, int, list[Item]]] = []

    def close(group: list[Item], channel: int) -> None:
        # A group is ordered by its word's start (its marks have no time).
        start = next((i.start or 0.0 for i in group if i.kind == "pronunciation"), 0.0)
        groups.append((start, channel, len(groups), group))

    for channel, items in enumerate(channels):
        current: list[Item] = []
        opening: list[Item] = []
        for item in items:
            if item.kind == "pronunciation":
                if current:
                    close(current, channel)
                current = [*opening, item]
                opening = []
            elif item.content in OPENING_MARKS:
                opening.append(item)
            else:
                current.append(item)
        current.extend(opening)
        if current:
            close(current, channel)
    groups.sort(key=lambda group: group[:3])
    return [item for *_, group in groups for item in group]


def _segment_groups(items: Sequence[Item]) -> list[list[int]]:
    """Indices of each audio segment: a sentence, of one channel when channels are labelled."""
    if not any(item.channel_label for item in items):
        return sentences(items)
    by_channel: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_channel.setdefault(item.channel_label or "", []).append(index)
    groups = [
        [indices[k] for k in group]
        for indices in by_channel.values()
        for group in sentences([items[i] for i in indices])
    ]

    def start(group: list[int]) -> float:
        return next(items[i].start or 0.0 for i in group if items[i].kind == "pronunciation")

    return sorted(groups, key=start)


# The seven categories a toxicity score is given for (docs/transcribe-results.md, "Toxicity").
TOXICITY_CATEGORIES = (
    "profanity",
    "hate_speech",
    "sexual",
    "insult",
    "violence_or_threat",
    "graphic",
    "harassment_or_abuse",
)


def build_document(
    job_name: str,
    account_id: str,
    items: Sequence[Item],
    *,
    language_code: str | None = None,
    language_identification: Sequence[tuple[str, float]] = (),
    language_codes: Sequence[tuple[str, float]] = (),
    number_of_channels: int | None = None,
    toxicity_scores: bool = False,
    is_redacted: bool | None = None,
) -> dict[str, Any]:
    """The Amazon Transcribe result document of a COMPLETED job (docs/transcribe-results.md).

    `number_of_channels` (channel identification) adds ``channel_labels``; `toxicity_scores`
    adds ``toxicity_detection`` with a score of 0 for every segment and category (the local
    engine does not classify toxicity); `is_redacted` (content redaction) adds ``isRedacted``.
    """
    segments: list[dict[str, Any]] = []
    for indices in _segment_groups(items):
        timed = [items[i] for i in indices if items[i].kind == "pronunciation"]
        segment: dict[str, Any] = {
            "id": len(segments),
            "transcript": transcript_text([items[i] for i in indices]),
            "start_time": _num(timed[0].start or 0.0),
            "end_time": _num(timed[-1].end or 0.0),
            "items": indices,
        }
        if timed[0].channel_label:
            segment["channel_label"] = timed[0].channel_label
        segments.append(segment)
    results: dict[str, Any] = {}
    if language_code:
        results["language_code"] = language_code
    results["transcripts"] = [{"transcript": transcript_text(items)}]
    if number_of_channels is not None:
        labels = [f"ch_{n}" for n in range(number_of_channels)]
        results["channel_labels"] = {
            "channels": [
                {
                    "channel_label": label,
                    "items": [
                        item.to_json(n)
                        for n, item in enumerate(items)
                        if item.channel_label == label
                    ],
                }
                for label in labels
            ],
            "number_of_channels": number_of_channels,
        }
    if language_identification:
        results["language_identification"] = [
            {"score": _num(score), "code": code} for code, score in language_identification
        ]
    if language_codes:
        results["language_codes"] = [
            {"language_code": code, "duration_in_seconds": round(seconds, 3)}
            for code, seconds in language_codes
        ]
    results["items"] = [item.to_json(n) for n, item in enumerate(items)]
    results["audio_segments"] = segments
    if toxicity_scores:
        results["toxicity_detection"] = [
            {
                "text": segment["transcript"],
                "toxicity": 0.0,
                "categories": dict.fromkeys(TOXICITY_CATEGORIES, 0.0),
                "start_time": float(segment["start_time"]),
                "end_time": float(segment["end_time"]),
            }
            for segment in segments
        ]
    document: dict[str, Any] = {"jobName": job_name, "accountId": account_id}
    if is_redacted is not None:
        document["isRedacted"] = is_redacted
    document.update(results=results, status="COMPLETED")
    return document


# --- subtitles ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    """One subtitle cue: start and end in seconds and its text."""

    start: float
    end: float
    text: str


def cues(
    items: Sequence[Item], max_seconds: float = CUE_MAX_SECONDS, max_words: int = CUE_MAX_WORDS
) -> list[Cue]:
    """Group items into subtitle cues: one sentence at most, within the size limits."""
    result: list[Cue] = []
    current: list[Item] = []

    def flush() -> None:
        timed = [i for i in current if i.kind == "pronunciation"]
        if not timed:
            return  # marks only: they go with the next word
        assert timed[0].start is not None and timed[-1].end is not None
        result.append(Cue(timed[0].start, timed[-1].end, transcript_text(current)))
        current.clear()

    for item in items:
        if item.kind == "pronunciation":
            timed = [i for i in current if i.kind == "pronunciation"]
            assert item.end is not None
            if timed and (
                len(timed) >= max_words or item.end - (timed[0].start or 0.0) > max_seconds
            ):
                # An opening mark belongs to the word after it, in the next cue.
                carried = [current.pop()] if current[-1].content in OPENING_MARKS else []
                flush()
                current.extend(carried)
        closing = item.kind == "punctuation" and item.content not in OPENING_MARKS
        if closing and not current and result:
            # A mark after the end of a sentence ("?" "?", "?" ",") closes that cue.
            last = result[-1]
            result[-1] = Cue(last.start, last.end, last.text + item.content)
            continue
        current.append(item)
        if item.kind == "punctuation" and item.content in SENTENCE_END:
            flush()
    flush()
    if current and result:  # marks with no word after them close the last cue
        last = result[-1]
        result[-1] = Cue(last.start, last.end, last.text + transcript_text(current))
    return result


def timestamp(seconds: float, separator: str) -> str:
    """Format seconds as HH:MM:SS<sep>mmm."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(items: Sequence[Item], start_index: int = 0) -> str:
    """SubRip subtitles; cues are numbered from `start_index` (Transcribe's default 0)."""
    blocks = [
        f"{start_index + n}\n{timestamp(c.start, ',')} --> {timestamp(c.end, ',')}\n{c.text}\n"
        for n, c in enumerate(cues(items))
    ]
    return "\n".join(blocks)


def to_vtt(items: Sequence[Item], start_index: int = 0) -> str:
    """WebVTT subtitles, with numeric cue identifiers from `start_index`."""
    blocks = [
        f"{start_index + n}\n{timestamp(c.start, '.')} --> {timestamp(c.end, '.')}\n{c.text}\n"
        for n, c in enumerate(cues(items))
    ]
    return "WEBVTT\n" + "".join("\n" + block for block in blocks)


# --- windows over long media ----------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A stretch of audio recognized on its own, and the part of it whose words count."""

    start: float
    end: float
    keep_start: float  # a word counts if keep_start <= its midpoint < keep_end
    keep_end: float
    language: str | None = None  # Whisper language; None: the job's language


def plan_windows(
    start: float,
    end: float,
    *,
    window_seconds: float,
    overlap_seconds: float,
    language: str | None = None,
    first: bool = True,
    last: bool = True,
) -> list[Window]:
    """Cut [start, end) into about equal windows of at most `window_seconds` plus overlaps.

    The keep ranges tile [start, end) exactly (open-ended at the audio's ends: `first`,
    `last`); each window reaches `overlap_seconds` beyond its keep range on either side.
    """
    if window_seconds <= 0 or overlap_seconds < 0:
        raise ValueError("window_seconds must be positive and overlap_seconds not negative")
    count = max(1, math.ceil((end - start) / window_seconds))
    seams = [start + (end - start) * k / count for k in range(count + 1)]
    windows = []
    for k in range(count):
        keep_start = -math.inf if (k == 0 and first) else seams[k]
        keep_end = math.inf if (k == count - 1 and last) else seams[k + 1]
        windows.append(
            Window(
                # Inner seams get the overlap; the span's own ends are cut in silence or
                # are the audio's ends, and need none.
                start=max(0.0, seams[k] - overlap_seconds) if k > 0 else start,
                end=seams[k + 1] + overlap_seconds if k < count - 1 else end,
                keep_start=keep_start,
                keep_end=keep_end,
                language=language,
            )
        )
    return windows


T = TypeVar("T")


def merge_windows(
    results: Sequence[tuple[Window, Sequence[T]]], span: Callable[[T], tuple[float, float]]
) -> list[T]:
    """The words of each window (absolute times) that fall in its keep range, in order."""
    merged: list[T] = []
    for window, words in results:
        for word in words:
            begin, finish = span(word)
            if window.keep_start <= (begin + finish) / 2 < window.keep_end:
                merged.append(word)
    return merged
