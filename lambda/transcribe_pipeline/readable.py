"""The readable outputs besides the .txt: styled subtitles and the words-and-turns JSON.

``readable_outputs`` is pure (a result document in, object bodies out) and ``write_outputs``
puts them in the output bucket; harvest writes the ``.txt`` after them, last. The JSON schema
is documented in docs/transcript-json.md; ``SCHEMA_VERSION`` changes only when a field
changes meaning or goes away (adding a field keeps it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from transcribe_pipeline.layout import transcript_key
from transcribe_pipeline.subtitle_style import SubtitleStyle
from transcribe_pipeline.subtitles import RENDERERS, cues
from transcribe_pipeline.words import Word, result_words

SCHEMA_VERSION = 1
# Every readable output is UTF-8; the charset keeps browsers from guessing another.
MEDIA_TYPES = {
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
) -> list[Output]:
    """The subtitles in each format and the ``.json`` for one result (TranscriptError if bad)."""
    words = result_words(result)
    cue_list = cues(words, style)
    outputs = [
        Output(
            transcript_key(source_key, fmt),
            RENDERERS[fmt](cue_list).encode("utf-8"),
            MEDIA_TYPES[fmt],
        )
        for fmt in subtitle_formats
    ]
    document = transcript_document(
        words, source_key=source_key, job_name=job_name, language_code=language_code
    )
    body = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    outputs.append(
        Output(transcript_key(source_key, "json"), body.encode("utf-8"), "application/json")
    )
    return outputs


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
    words: Sequence[Word], *, source_key: str, job_name: str, language_code: str | None
) -> dict[str, Any]:
    """The ``transcripts/<key>.json`` document: words, and turns of one speaker or channel."""
    return {
        "schema_version": SCHEMA_VERSION,
        "source_key": source_key,
        "job_name": job_name,
        "language_code": language_code,
        "transcript": " ".join(word.text for word in words),
        "turns": _turns(words),
        "words": [
            {
                "content": word.content,
                "text": word.text,
                "start": _seconds(word.start),
                "end": _seconds(word.end),
                "confidence": word.confidence,
                "speaker": word.speaker,
                "channel": word.channel,
            }
            for word in words
        ],
    }


def _turns(words: Sequence[Word]) -> list[dict[str, Any]]:
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
