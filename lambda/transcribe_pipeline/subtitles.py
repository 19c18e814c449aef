"""Readable subtitles from timed words: cues within a style's limits, as SubRip and WebVTT.

What is guaranteed for any word stream, and what is only aimed at, is in docs/subtitles.md:
every word appears once and in order; cues never overlap and always last at least 1 ms; a cue
has at most ``max_lines_per_cue`` lines of at most ``max_chars_per_line`` characters (a word
longer than a line is the only exception: it gets a cue of its own, on one line); a cue lasts
at most ``max_cue_seconds``. Minimum duration and reading speed are met whenever the next cue
leaves the time: a cue falls short of them only when its end already meets the next cue or its
maximum duration.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from transcribe_pipeline.subtitle_style import SubtitleStyle
from transcribe_pipeline.words import Word

SENTENCE_END = frozenset(".?!…。？！")
# Closing quotes and brackets may follow a sentence's last mark: `"Yes."`, `(really?)`.
CLOSING = "\"'”’»)]}"
# A line may end after these rather than in the middle of a clause.
CLAUSE_END = frozenset(",;:—–") | SENTENCE_END


@dataclass(frozen=True)
class Cue:
    """One subtitle: start and end in milliseconds, its lines and the words it shows."""

    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    words: tuple[Word, ...]
    voice: str | None = None

    @property
    def chars(self) -> int:
        """Characters a viewer reads (spaces included, line breaks not)."""
        return sum(len(line) for line in self.lines)


@dataclass(frozen=True)
class _Timed:
    word: Word
    start_ms: int
    end_ms: int


@dataclass
class _Group:
    words: list[_Timed]
    prefix: str

    @property
    def texts(self) -> list[str]:
        texts = [timed.word.text for timed in self.words]
        return [self.prefix + texts[0], *texts[1:]]

    @property
    def start_ms(self) -> int:
        return self.words[0].start_ms

    @property
    def end_ms(self) -> int:
        return max(timed.end_ms for timed in self.words)


def cues(
    words: Sequence[Word], style: SubtitleStyle, *, names: Mapping[str, str] | None = None
) -> list[Cue]:
    """Group words into timed cues within ``style``; ``names`` renames voices in prefixes."""
    timed = _monotonic(words)
    groups = _groups(timed, style, names or {})
    return _timed_cues(groups, style)


def _monotonic(words: Sequence[Word]) -> list[_Timed]:
    """Milliseconds, each start at or after the one before, each end at or after its start."""
    result: list[_Timed] = []
    previous = 0
    for word in words:
        start = max(_ms(word.start), previous)
        result.append(_Timed(word, start, max(_ms(word.end), start)))
        previous = start
    return result


def _groups(timed: list[_Timed], style: SubtitleStyle, names: Mapping[str, str]) -> list[_Group]:
    groups: list[_Group] = []
    current: _Group | None = None
    voice_shown: object = object()  # no voice yet: the first labelled cue gets a prefix
    for item in timed:
        if current is not None and not _must_split(current.words[-1], item, style):
            # Reading speed is not a reason to split: the speech sets it, and a cue can only
            # gain reading time from the silence after it (see _timed_cues).
            grown = _Group([*current.words, item], current.prefix)
            if _within_limits(grown, style):
                current = grown
                continue
        if current is not None:
            groups.append(current)
        voice = item.word.voice
        prefix = ""
        if style.speaker_prefix and voice is not None and voice != voice_shown:
            prefix = f"{names.get(voice, voice)}: "
        voice_shown = voice
        current = _Group([item], prefix)
    if current is not None:
        groups.append(current)
    return groups


def _must_split(last: _Timed, item: _Timed, style: SubtitleStyle) -> bool:
    """A new cue at a change of voice, after a sentence and after a pause."""
    return (
        item.word.voice != last.word.voice
        or ends_sentence(last.word)
        or item.start_ms - last.end_ms >= _ms(style.pause_seconds)
    )


def ends_sentence(word: Word) -> bool:
    """Whether the word ends a sentence: its text ends with . ? ! … (before closing quotes)."""
    return word.text.rstrip(CLOSING)[-1:] in SENTENCE_END


def _within_limits(group: _Group, style: SubtitleStyle) -> bool:
    """Whether the group's words fit the cue's lines and its maximum duration."""
    texts, width = group.texts, style.max_chars_per_line
    if len(texts) > 1 and (
        any(len(text) > width for text in texts)
        or _greedy_line_count(texts, width) > style.max_lines_per_cue
    ):
        return False
    return group.end_ms - group.start_ms <= _ms(style.max_cue_seconds)


def _layout(texts: list[str], style: SubtitleStyle) -> tuple[str, ...] | None:
    """The fewest lines of at most max_chars_per_line, balanced; None if too many are needed."""
    width = style.max_chars_per_line
    if len(texts) == 1:
        return (texts[0],)
    needed = _greedy_line_count(texts, width)
    if needed > style.max_lines_per_cue:
        return None
    best: tuple[tuple[int, int, int], tuple[str, ...]] | None = None
    for breaks in itertools.combinations(range(1, len(texts)), needed - 1):
        bounds = (0, *breaks, len(texts))
        lines = tuple(" ".join(texts[a:b]) for a, b in itertools.pairwise(bounds))
        if any(len(line) > width for line in lines):
            continue
        # Lines that end at a clause first (as subtitlers break), then balanced lines, then
        # the longer line below.
        mid_clause = sum(1 for line in lines[:-1] if line[-1] not in CLAUSE_END)
        score = (mid_clause, max(map(len, lines)), len(lines[0]))
        if best is None or score < best[0]:
            best = (score, lines)
    return best[1] if best else None


def _greedy_line_count(texts: list[str], width: int) -> int:
    count, used = 1, -1
    for text in texts:
        if used >= 0 and used + 1 + len(text) > width:
            count, used = count + 1, len(text)
        else:
            used = len(text) if used < 0 else used + 1 + len(text)
    return count


def _timed_cues(groups: list[_Group], style: SubtitleStyle) -> list[Cue]:
    """Cue times: from the first word, kept up for reading, never over the next cue."""
    result: list[Cue] = []
    min_ms, max_ms = _ms(style.min_cue_seconds), _ms(style.max_cue_seconds)
    previous_end = 0
    for index, group in enumerate(groups):
        lines = _layout(group.texts, style) or (" ".join(group.texts),)
        start = max(group.start_ms, previous_end)
        reading = math.ceil(sum(map(len, lines)) * 1000 / style.max_chars_per_second)
        end = min(max(group.end_ms, start + min_ms, start + reading), start + max_ms)
        if index + 1 < len(groups):
            end = min(end, groups[index + 1].start_ms)
        end = max(end, start + 1)
        words = tuple(timed.word for timed in group.words)
        result.append(Cue(start, end, lines, words, group.words[0].word.voice))
        previous_end = end
    return result


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _timestamp(ms: int, separator: str) -> str:
    """``HH:MM:SS<separator>mmm``; hours grow past two digits for media over 99 hours."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def to_srt(cue_list: Sequence[Cue]) -> str:
    """SubRip: numbered from 1, ``HH:MM:SS,mmm`` times, a blank line between cues."""
    return "\n".join(
        f"{number}\n{_timestamp(cue.start_ms, ',')} --> {_timestamp(cue.end_ms, ',')}\n"
        + "".join(f"{line}\n" for line in cue.lines)
        for number, cue in enumerate(cue_list, start=1)
    )


def to_vtt(cue_list: Sequence[Cue]) -> str:
    """WebVTT: the ``WEBVTT`` header, numbered cues, ``HH:MM:SS.mmm`` times, escaped text."""
    blocks = (
        f"\n{number}\n{_timestamp(cue.start_ms, '.')} --> {_timestamp(cue.end_ms, '.')}\n"
        + "".join(f"{_vtt_escape(line)}\n" for line in cue.lines)
        for number, cue in enumerate(cue_list, start=1)
    )
    return "WEBVTT\n" + "".join(blocks)


def _vtt_escape(text: str) -> str:
    """Cue text may not hold a raw ``&`` or ``<``, nor ``-->`` (escaping ``>`` rules it out)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


RENDERERS = {"srt": to_srt, "vtt": to_vtt}
