"""Reading Amazon Transcribe's result JSON into plain text."""

from __future__ import annotations

from typing import Any


class TranscriptError(ValueError):
    """The result document does not have Transcribe's shape."""


def readable_text(result: Any) -> str:
    """The transcript as text; one paragraph per speaker turn when speakers are labelled."""
    if not isinstance(result, dict) or not isinstance(result.get("results"), dict):
        raise TranscriptError("expected an object with a 'results' object")
    results = result["results"]
    transcripts = results.get("transcripts")
    if not isinstance(transcripts, list):
        raise TranscriptError("expected 'results.transcripts' to be a list")
    items = results.get("items") or []
    if not isinstance(items, list):
        raise TranscriptError("expected 'results.items' to be a list")
    if any(isinstance(item, dict) and "speaker_label" in item for item in items):
        return _speaker_turns(items)
    texts = [t.get("transcript", "") for t in transcripts if isinstance(t, dict)]
    if not all(isinstance(part, str) for part in texts):
        raise TranscriptError("expected 'results.transcripts[].transcript' to be a string")
    text = " ".join(part.strip() for part in texts if part.strip())
    return f"{text}\n" if text else ""


def _speaker_turns(items: list[Any]) -> str:
    """``spk_0: words…`` lines, a new line at each change of speaker."""
    lines: list[tuple[str, list[str]]] = []
    for item in items:
        content = _content(item)
        if item.get("type") == "punctuation":
            if lines and lines[-1][1]:
                lines[-1][1][-1] += content
            continue
        speaker = str(item.get("speaker_label", lines[-1][0] if lines else "spk_0"))
        if not lines or lines[-1][0] != speaker:
            lines.append((speaker, []))
        lines[-1][1].append(content)
    return "".join(f"{speaker}: {' '.join(words)}\n" for speaker, words in lines)


def _content(item: Any) -> str:
    try:
        return str(item["alternatives"][0]["content"])
    except (KeyError, IndexError, TypeError) as error:
        raise TranscriptError("an item has no alternatives[0].content") from error
