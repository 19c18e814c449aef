"""The readable outputs besides the .txt: styled subtitles and the words-and-turns JSON.

``readable_outputs`` is pure (a result document in, object bodies out) and ``write_outputs``
puts them in the output bucket; harvest writes the ``.txt`` after them, last. The JSON schema
is documented in docs/transcript-json.md; ``SCHEMA_VERSION`` changes only when a field
changes meaning or goes away (adding a field keeps it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from transcribe_pipeline.layout import transcript_key
from transcribe_pipeline.subtitle_style import SubtitleStyle
from transcribe_pipeline.subtitles import RENDERERS, cues
from transcribe_pipeline.toxicity import (
    ToxicSegment,
    first_words,
    mark,
    segment_json,
    toxicity_segments,
)
from transcribe_pipeline.transcript import TranscriptError, readable_text
from transcribe_pipeline.words import Word, result_words

SCHEMA_VERSION = 1
# Every readable output is UTF-8; the charset keeps browsers from guessing another.
MEDIA_TYPES = {
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "json": "application/json",
}


@dataclass(frozen=True)
class Output:
    """One object to write: key, body and Content-Type."""

    key: str
    body: bytes
    content_type: str


def readable_outputs(
    result: Any,
    *,
    source_key: str,
    job_name: str,
    language_code: str | None,
    subtitle_formats: Sequence[str],
    style: SubtitleStyle,
    channel_roles: Sequence[str] = (),
    key_for: Callable[[str, str], str] = transcript_key,
) -> list[Output]:
    """The subtitles in each format and the ``.json`` for one result (TranscriptError if bad).

    ``channel_roles`` name ``ch_0``, ``ch_1`` in the speaker prefixes and the JSON; ``key_for``
    places each output (``transcript_key``, or ``unredacted_key`` for unredacted copies).
    """
    words = result_words(result)
    names = role_names(channel_roles)
    cue_list = cues(words, style, names=names)
    outputs = [
        Output(
            key_for(source_key, fmt),
            RENDERERS[fmt](cue_list).encode("utf-8"),
            MEDIA_TYPES[fmt],
        )
        for fmt in subtitle_formats
    ]
    document = transcript_document(
        words,
        source_key=source_key,
        job_name=job_name,
        language_code=language_code,
        roles=names,
        toxicity=toxicity_segments(result),
        redacted=result.get("isRedacted") is True,
        language_codes=result_language_codes(result),
    )
    body = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    outputs.append(Output(key_for(source_key, "json"), body.encode("utf-8"), "application/json"))
    return outputs


def result_language_codes(result: Any) -> list[dict[str, Any]] | None:
    """The languages of a multi-language result (``results.language_codes``), else None.

    A job with ``IdentifyMultipleLanguages`` has no single ``LanguageCode``; its result lists
    each language with the seconds it is spoken (docs/transcribe-results.md).
    """
    codes = result["results"].get("language_codes")
    if codes is None:
        return None
    if not isinstance(codes, list) or not all(
        isinstance(code, dict) and isinstance(code.get("language_code"), str) for code in codes
    ):
        raise TranscriptError("expected 'results.language_codes' to be a list of languages")
    return [
        {
            "language_code": code["language_code"],
            "duration_in_seconds": _number(code.get("duration_in_seconds")),
        }
        for code in codes
    ]


def _number(value: Any) -> float | None:
    """A duration as a number (a result may give it as a string); None when absent."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise TranscriptError(f"expected a number of seconds, got {value!r}") from error


def role_names(channel_roles: Sequence[str]) -> dict[str, str]:
    """Channel label -> role (``ch_0`` -> the first role), as Transcribe labels channels."""
    return {f"ch_{index}": role for index, role in enumerate(channel_roles)}


def transcript_text(result: Any, *, channel_roles: Sequence[str] = ()) -> str:
    """The ``.txt``: as ``readable_text``, with role names and toxicity marks when there are any.

    With ``channel_roles`` each turn is a line ``<role>: words…`` (a channel without a role
    keeps its label, ``ch_1``); with toxicity detection every flagged segment is preceded by
    its mark (``[toxic 0.76: profanity]``, transcribe_pipeline/toxicity.py). Otherwise the text
    is exactly ``readable_text``'s.
    """
    toxic = toxicity_segments(result)
    if not channel_roles and toxic is None:
        return readable_text(result)
    readable_text(result)  # the same shape checks as the plain text, the same errors
    words = result_words(result)
    if not words:
        return ""
    texts = _marked(words, toxic or [])
    names = role_names(channel_roles)
    labelled = any(word.speaker is not None for word in words) or (
        bool(channel_roles) and any(word.channel is not None for word in words)
    )
    if not labelled:
        return " ".join(texts) + "\n"
    lines: list[tuple[str, list[str]]] = []
    for word, text in zip(words, texts, strict=True):
        voice = word.voice or (lines[-1][0] if lines else "spk_0")
        if not lines or lines[-1][0] != voice:
            lines.append((voice, []))
        lines[-1][1].append(text)
    return "".join(f"{names.get(voice, voice)}: {' '.join(parts)}\n" for voice, parts in lines)


def _marked(words: Sequence[Word], segments: Sequence[ToxicSegment]) -> list[str]:
    """Each word's text, with the marks of the flagged segments that start at it before it."""
    flagged = [segment for segment in segments if segment.flagged]
    texts = [word.text for word in words]
    for segment, index in zip(flagged, first_words(words, flagged), strict=True):
        if index < len(texts):
            texts[index] = f"{mark(segment)} {texts[index]}"
        else:
            texts[-1] = f"{texts[-1]} {mark(segment)}"
    return texts


def write_outputs(
    s3: Any, bucket: str, outputs: Iterable[Output], *, metadata: Mapping[str, str]
) -> list[str]:
    """Put each output with the harvest's metadata; return the keys written."""
    written = []
    for output in outputs:
        s3.put_object(
            Bucket=bucket,
            Key=output.key,
            Body=output.body,
            ContentType=output.content_type,
            Metadata=dict(metadata),
        )
        written.append(output.key)
    return written


def transcript_document(
    words: Sequence[Word],
    *,
    source_key: str,
    job_name: str,
    language_code: str | None,
    roles: Mapping[str, str] | None = None,
    toxicity: Sequence[ToxicSegment] | None = None,
    redacted: bool = False,
    language_codes: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``transcripts/<key>.json`` document: words, and turns of one speaker or channel."""
    names = roles or {}
    return {
        "schema_version": SCHEMA_VERSION,
        "source_key": source_key,
        "job_name": job_name,
        "language_code": language_code,
        "language_codes": None if language_codes is None else [dict(c) for c in language_codes],
        "redacted": redacted,
        "transcript": " ".join(word.text for word in words),
        "turns": _turns(words, names),
        "words": [
            {
                "content": word.content,
                "text": word.text,
                "start": _seconds(word.start),
                "end": _seconds(word.end),
                "confidence": word.confidence,
                "speaker": word.speaker,
                "channel": word.channel,
                "role": _role(word, names),
            }
            for word in words
        ],
        "toxicity": None if toxicity is None else [segment_json(s) for s in toxicity],
    }


def _role(word: Word, names: Mapping[str, str]) -> str | None:
    return None if word.channel is None else names.get(word.channel)


def _turns(words: Sequence[Word], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Runs of words with one speaker and channel; one turn when nothing is labelled."""
    turns: list[dict[str, Any]] = []
    first = 0
    for index, word in enumerate(words):
        last = index + 1 == len(words)
        if last or (words[index + 1].speaker, words[index + 1].channel) != (
            word.speaker,
            word.channel,
        ):
            run = words[first : index + 1]
            turns.append(
                {
                    "speaker": word.speaker,
                    "channel": word.channel,
                    "role": _role(word, names),
                    "start": _seconds(min(w.start for w in run)),
                    "end": _seconds(max(w.end for w in run)),
                    "text": " ".join(w.text for w in run),
                    "first_word": first,
                    "last_word": index,
                }
            )
            first = index + 1
    return turns


def _seconds(value: float) -> float:
    return round(value, 3)
