"""The seam between the engine and speech recognition: the one module that names the recognizer.

Each worker of the engine calls `open_recognizer(options)` once, then
`SpeechRecognizer.transcribe(media, languages, timeout, split_channels=...)` for each of its jobs,
and `close()` at shutdown. With `split_channels` (channel identification) a recognizer
recognizes each channel of the media on its own and labels its items ``ch_0``/``ch_1``.
A recognizer decodes the media bytes and recognizes the speech; it raises `MediaError` for
media it cannot use (the job FAILS with that reason) and `RecognizerError` when it fails
itself. Replacing the speech engine means returning another `SpeechRecognizer` from
`open_recognizer`; nothing else in the package imports `localcloud.asr`.

Today's recognizer is Whisper base (`localcloud.whisper_asr`, driven by `localcloud.asr`) in a
child process that keeps the model loaded: recognition holds a core for the whole decode, and
in-thread it would slow the server. A job takes about 0.2 s per second of audio on a free core.
A worker's process starts, verifies the model files and loads the model (a few seconds) when
the service gets its first job: the engine then warms every worker's recognizer at once, so
the jobs that follow do not wait for it.
"""

from __future__ import annotations

import os
from typing import Protocol

from localcloud import asr
from localcloud.asr import MediaError, RecognizerError, Transcription
from localcloud.languages import LanguageRequest
from localcloud.transcribe.options import TranscribeOptions

__all__ = [
    "InThreadRecognizer",
    "MediaError",
    "RecognizerError",
    "SpeechRecognizer",
    "Transcription",
    "open_recognizer",
    "worker_threads",
]


class SpeechRecognizer(Protocol):
    """Decodes and recognizes one media file at a time (one per worker, not thread-safe)."""

    def transcribe(
        self,
        media: bytes,
        request: LanguageRequest,
        timeout: float,
        *,
        split_channels: bool = False,
    ) -> Transcription:
        """Transcribe one media file; MediaError or RecognizerError on failure."""
        ...

    def warm(self) -> None:
        """Get ready for a first job now (may be called from another thread)."""
        ...

    def close(self) -> None:
        """Release the recognizer's resources."""
        ...


class InThreadRecognizer:
    """Recognize in the calling thread (isolation="thread")."""

    def transcribe(
        self,
        media: bytes,
        request: LanguageRequest,
        timeout: float,
        *,
        split_channels: bool = False,
    ) -> Transcription:
        """Transcribe one media file; `timeout` is not enforced in-thread."""
        return asr.transcribe_media(media, request, split_channels=split_channels)

    def warm(self) -> None:
        """Nothing to start: the model loads in the worker thread at its first job."""

    def close(self) -> None:
        """Nothing to release."""


def worker_threads(options: TranscribeOptions) -> int:
    """CPU threads of each worker's recognizer: the workers share the cores."""
    cores = os.cpu_count() or 1
    return max(1, cores // options.concurrency)


def open_recognizer(options: TranscribeOptions) -> SpeechRecognizer:
    """A new recognizer for one worker, isolated as the options say."""
    if options.isolation == "thread":
        return InThreadRecognizer()
    return asr.RecognizerProcess(threads=worker_threads(options))
