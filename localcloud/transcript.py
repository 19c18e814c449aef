"""Amazon Transcribe result documents and subtitles built from recognized words (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# A pause longer than this between two words ends a sentence (a full stop is added) and
# a subtitle cue. 0.6 s separates sentences of read speech from the short pauses inside
# them (commas, breaths) in the shipped samples and in ordinary speech.
SENTENCE_PAUSE_SECONDS = 0.6
# Subtitle cue limits: short enough to read at a glance, as Transcribe's cues are.
CUE_MAX_SECONDS = 7.0
CUE_MAX_WORDS = 12

_PRONOUN_I = {"i", "i'm", "i'll", "i've", "i'd"}


@dataclass(frozen=True)
class Word:
    """One recognized word: text, start and end in seconds, confidence in 0..1."""

    content: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Token:
    """A word as displayed (capitalized), and whether a full stop follows it."""

    word: Word
    text: str
    ends_sentence: bool


@dataclass(frozen=True)
class Cue:
    """One subtitle cue: start and end in seconds and its text."""

    start: float
    end: float
    text: str


def punctuate(words: Sequence[Word], pause: float = SENTENCE_PAUSE_SECONDS) -> list[Token]:
    """Split words into sentences at long pauses and capitalize sentence starts."""
    tokens: list[Token] = []
    sentence_start = True
    for index, word in enumerate(words):
        is_last = index == len(words) - 1
        ends_sentence = is_last or words[index + 1].start - word.end > pause
        text = word.content
        if text.lower() in _PRONOUN_I:
            text = "I" + text[1:]
        elif sentence_start and text:
            text = text[0].upper() + text[1:]
        tokens.append(Token(word=word, text=text, ends_sentence=ends_sentence))
        sentence_start = ends_sentence
    return tokens


def _num(value: float) -> str:
    """Format a time or confidence the way Transcribe does: a short decimal string."""
    return str(round(value, 3))


def transcript_text(tokens: Sequence[Token]) -> str:
    """Join tokens into readable text with full stops."""
    return " ".join(token.text + ("." if token.ends_sentence else "") for token in tokens)


def build_result(
    job_name: str,
    account_id: str,
    words: Sequence[Word],
    pause: float = SENTENCE_PAUSE_SECONDS,
) -> dict[str, Any]:
    """Build the Amazon Transcribe result document of a COMPLETED job."""
    tokens = punctuate(words, pause)
    items: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []
    sentence: list[Token] = []
    sentence_items: list[int] = []
    for token in tokens:
        # Real Transcribe output carries string-typed times and confidences; punctuation
        # items have no times and a confidence of "0.0".
        sentence_items.append(len(items))
        items.append(
            {
                "id": len(items),
                "type": "pronunciation",
                "alternatives": [
                    {"confidence": _num(token.word.confidence), "content": token.text}
                ],
                "start_time": _num(token.word.start),
                "end_time": _num(token.word.end),
            }
        )
        sentence.append(token)
        if token.ends_sentence:
            sentence_items.append(len(items))
            items.append(
                {
                    "id": len(items),
                    "type": "punctuation",
                    "alternatives": [{"confidence": "0.0", "content": "."}],
                }
            )
            segments.append(
                {
                    "id": len(segments),
                    "transcript": transcript_text(sentence),
                    "start_time": _num(sentence[0].word.start),
                    "end_time": _num(sentence[-1].word.end),
                    "items": sentence_items,
                }
            )
            sentence, sentence_items = [], []
    return {
        "jobName": job_name,
        "accountId": account_id,
        "status": "COMPLETED",
        "results": {
            "transcripts": [{"transcript": transcript_text(tokens)}],
            "items": items,
            "audio_segments": segments,
        },
    }


def cues(
    words: Sequence[Word],
    max_seconds: float = CUE_MAX_SECONDS,
    max_words: int = CUE_MAX_WORDS,
    pause: float = SENTENCE_PAUSE_SECONDS,
) -> list[Cue]:
    """Group words into subtitle cues, split at sentence ends, pauses and size limits."""
    result: list[Cue] = []
    current: list[Token] = []

    def flush() -> None:
        if current:
            result.append(
                Cue(current[0].word.start, current[-1].word.end, transcript_text(current))
            )
            current.clear()

    for token in punctuate(words, pause):
        if current and (
            len(current) >= max_words or token.word.end - current[0].word.start > max_seconds
        ):
            flush()
        current.append(token)
        if token.ends_sentence:
            flush()
    flush()
    return result


def timestamp(seconds: float, separator: str) -> str:
    """Format seconds as HH:MM:SS<sep>mmm."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(words: Sequence[Word], start_index: int = 0) -> str:
    """Render words as SubRip; cues are numbered from `start_index` (Transcribe's default 0)."""
    blocks = [
        f"{start_index + n}\n{timestamp(c.start, ',')} --> {timestamp(c.end, ',')}\n{c.text}\n"
        for n, c in enumerate(cues(words))
    ]
    return "\n".join(blocks)


def to_vtt(words: Sequence[Word], start_index: int = 0) -> str:
    """Render words as WebVTT, with numeric cue identifiers from `start_index`."""
    blocks = [
        f"{start_index + n}\n{timestamp(c.start, '.')} --> {timestamp(c.end, '.')}\n{c.text}\n"
        for n, c in enumerate(cues(words))
    ]
    return "WEBVTT\n" + "".join("\n" + block for block in blocks)
