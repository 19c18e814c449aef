"""The acceptance corpus: the shipped samples under keys S3, EventBridge and Transcribe must
carry through unchanged, plus inputs the pipeline must refuse, and one overwritten key."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
_TEXTS = {c["name"]: c["text"] for c in json.loads((SAMPLES / "texts.json").read_text())["clips"]}


class Expect(enum.StrEnum):
    """The outcome the output contract (README "Output layout") promises for an input."""

    TRANSCRIPT = "transcript"  # transcripts/<key>.txt/.srt/.vtt and Transcribe's <job>.json
    REJECTED = "rejected"  # failed/<key>.json with job null: never sent to Transcribe
    FAILED_JOB = "failed job"  # failed/<key>.json naming the job Transcribe failed


@dataclass(frozen=True)
class Version:
    """One upload of a key: a shipped sample (or literal bytes) and what it must become."""

    expect: Expect
    sample: str | None = None  # a file in samples/
    body: bytes = b""  # the bytes when there is no sample

    @property
    def reference(self) -> str | None:
        """The text the sample speaks (speech samples only)."""
        if self.sample is None or self.expect is not Expect.TRANSCRIPT:
            return None
        return _TEXTS[self.sample.rsplit(".", 1)[0]]


@dataclass(frozen=True)
class Case:
    """One input key, what it exercises, and its uploads in order (the last one counts)."""

    key: str
    exercises: str
    versions: tuple[Version, ...]

    @property
    def final(self) -> Version:
        """The version whose outcome the key must show at the end."""
        return self.versions[-1]


def _speech(sample: str) -> Version:
    return Version(Expect.TRANSCRIPT, sample)


CORPUS: tuple[Case, ...] = (
    Case("talks/hello pipeline.mp3", "a space", (_speech("hello-pipeline.mp3"),)),
    Case("meetings/team+room.ogg", "a literal +", (_speech("meeting.ogg"),)),
    Case("reports/weather %2B forecast.flac", "a literal %2B", (_speech("weather.flac"),)),
    Case("ünïcødé/récipe.m4a", "non-ASCII letters", (_speech("recipe.m4a"),)),
    Case("notes/garden #1.webm", "a #", (_speech("garden.webm"),)),
    Case("questions/library?.amr", "a ?", (_speech("library.amr"),)),
    Case("deep/nested/prefix/garden.mp4", "nested prefixes", (_speech("garden.mp4"),)),
    Case("empty/nothing.mp3", "an empty file", (Version(Expect.REJECTED, body=b""),)),
    Case(
        "notes/readme.txt",
        "a non-media file",
        (Version(Expect.REJECTED, body=b"Not media: the pipeline must refuse this file.\n"),),
    ),
    Case(
        "broken/not media.mp3",
        "undecodable bytes named .mp3",
        (Version(Expect.FAILED_JOB, "not-media.mp3"),),
    ),
    Case(
        "overwrite/take two.wav",
        "an overwrite: a failed version, then speech",
        (Version(Expect.FAILED_JOB, "not-media.mp3"), _speech("hello-pipeline.wav")),
    ),
)
