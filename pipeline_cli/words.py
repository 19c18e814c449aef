"""Amazon Transcribe's result JSON as a list of words with times and confidences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Word:
    """One recognized word: its text, start and end (seconds) and confidence (0-1)."""

    word: str
    start: float
    end: float
    confidence: float
    speaker: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form; ``speaker`` only when Transcribe labelled speakers."""
        data: dict[str, Any] = {
            "word": self.word,
            "start": self.start,
            "end": self.end,
            "confidence": self.confidence,
        }
        if self.speaker is not None:
            data["speaker"] = self.speaker
        return data


def words_of(result: dict[str, Any]) -> list[Word]:
    """The pronunciation items of a ``<job>.json`` (punctuation has no time and is left out)."""
    items = result.get("results", {}).get("items") or []
    words = []
    for item in items:
        if item.get("type") != "pronunciation":
            continue
        best = (item.get("alternatives") or [{}])[0]
        speaker = item.get("speaker_label")
        words.append(
            Word(
                word=str(best.get("content", "")),
                start=float(item["start_time"]),
                end=float(item["end_time"]),
                confidence=float(best.get("confidence", 0.0)),
                speaker=str(speaker) if speaker is not None else None,
            )
        )
    return words


def words_document(key: str, job_name: str, result: dict[str, Any]) -> dict[str, Any]:
    """``get --format json``: the source key, job, full transcript and every word."""
    transcripts = result.get("results", {}).get("transcripts") or []
    text = " ".join(str(t.get("transcript", "")).strip() for t in transcripts).strip()
    return {
        "key": key,
        "job": job_name,
        "transcript": text,
        "words": [word.to_json() for word in words_of(result)],
    }
