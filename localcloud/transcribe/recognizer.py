"""The seam between the engine and speech recognition: the one module that names the recognizer.

Each worker of the engine calls `open_recognizer(options)` once, then
`SpeechRecognizer.transcribe(media, timeout)` for each of its jobs, and `close()` at shutdown.
A recognizer decodes the media bytes and recognizes the speech; it raises `MediaError` for
media it cannot use (the job FAILS with that reason) and `RecognizerError` when it fails
itself. Replacing the speech engine means returning another `SpeechRecognizer` from
`open_recognizer`; nothing else in the package imports `localcloud.asr`.

Today's recognizer is pocketsphinx (`localcloud.asr`) in a child process: it holds the GIL
for a whole decode, and in-thread it would freeze the server. A job takes about 0.2 s per
second of audio, plus about 1 s for the first job of each worker (its process starts and
loads the model).
"""

from __future__ import annotations

from typing import Protocol

from localcloud import asr
from localcloud.asr import MediaError, RecognizerError, Transcription
from localcloud.transcribe.options import TranscribeOptions

__all__ = [
    "InThreadRecognizer",
    "MediaError",
    "RecognizerError",
    "SpeechRecognizer",
    "Transcription",
    "open_recognizer",
]


class SpeechRecognizer(Protocol):
    """Decodes and recognizes one media file at a time (one per worker, not thread-safe)."""

    def transcribe(self, media: bytes, timeout: float) -> Transcription:
        """Transcribe one media file; MediaError or RecognizerError on failure."""
        ...

    def close(self) -> None:
        """Release the recognizer's resources."""
        ...


class InThreadRecognizer:
    """Recognize in the calling thread (isolation="thread")."""

    def transcribe(self, media: bytes, timeout: float) -> Transcription:
        """Transcribe one media file; `timeout` is not enforced in-thread."""
        return asr.transcribe_media(media)

    def close(self) -> None:
        """Nothing to release."""


def open_recognizer(options: TranscribeOptions) -> SpeechRecognizer:
    """A new recognizer for one worker, isolated as the options say."""
    if options.isolation == "thread":
        return InThreadRecognizer()
    return asr.RecognizerProcess()
