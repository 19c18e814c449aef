"""Local speech recognition: decode media with PyAV, recognize US English with pocketsphinx.

`decode_to_pcm16k` and `recognize` run in the calling thread. pocketsphinx holds the GIL
for the whole of a decode (measured: a 10 s clip starves other Python threads for about a
second), which would freeze the moto server's request threads, so the Transcribe service
runs them in a child process instead: `RecognizerProcess` drives `python -m localcloud.asr
--serve`, which answers one request at a time over its stdin/stdout.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
import re
import select
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from localcloud.transcript import Word

__all__ = [
    "DecodedAudio",
    "MediaError",
    "RecognizerError",
    "RecognizerProcess",
    "Transcription",
    "Word",
    "decode_media",
    "decode_to_pcm16k",
    "recognize",
    "transcribe_media",
]

LOG = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
BYTES_PER_SECOND = SAMPLE_RATE * 2
# Amazon Transcribe accepts media of up to 4 hours; decoding stops a little beyond that so
# a huge file cannot exhaust memory (4 h of 16 kHz s16 is 460 MB).
MAX_SECONDS = 4 * 3600 + 60
# Audio longer than this is decoded as several utterances cut in silences: pocketsphinx's
# lattice grows with utterance length, and a fresh utterance also re-anchors its live
# cepstral mean normalization.
MAX_UTTERANCE_SECONDS = 30.0

_REPO_ROOT = Path(__file__).resolve().parent.parent
_ALTERNATIVE = re.compile(r"\(\d+\)$")


class MediaError(Exception):
    """The media cannot be used: undecodable, no audio stream, too long."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecognizerError(Exception):
    """The recognizer itself failed (crashed, timed out): not the media's fault."""


@dataclass(frozen=True)
class DecodedAudio:
    """Decoded audio (s16le mono 16 kHz) and what was learned about the source."""

    pcm: bytes
    duration_seconds: float
    container: str  # FFmpeg's demuxer name, e.g. "mp3" or "mov,mp4,m4a,3gp,3g2,mj2"
    source_sample_rate: int


@dataclass(frozen=True)
class Transcription:
    """What the local engine produced for one media file."""

    words: list[Word]
    duration_seconds: float
    container: str
    source_sample_rate: int


def decode_media(source: bytes | str | os.PathLike[str]) -> DecodedAudio:
    """Decode the first audio stream of any FFmpeg-readable media to s16le mono 16 kHz."""
    import av  # deferred: importing this module must stay cheap for the server

    try:
        container = av.open(
            io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source), mode="r"
        )
    except av.FFmpegError as exc:
        raise MediaError(f"The media could not be decoded: {exc.strerror or exc}") from exc
    with container:
        if not container.streams.audio:
            raise MediaError("The media has no audio stream.")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        chunks: list[bytes] = []
        size = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = bytes(out.planes[0])[: out.samples * 2]
                    chunks.append(chunk)
                    size += len(chunk)
                if size > MAX_SECONDS * BYTES_PER_SECOND:
                    raise MediaError("The media is longer than the 4 hour maximum.")
            chunks.extend(bytes(o.planes[0])[: o.samples * 2] for o in resampler.resample(None))
        except av.FFmpegError as exc:
            # Damaged tails are common (truncated uploads); keep what decoded cleanly, as
            # FFmpeg-based tools do, but a file that yields nothing is undecodable.
            if not chunks:
                raise MediaError(f"The media could not be decoded: {exc.strerror or exc}") from exc
            LOG.warning("decoding stopped early: %s", exc)
        pcm = b"".join(chunks)
        if not pcm:
            raise MediaError("The media contains no audio samples.")
        return DecodedAudio(
            pcm=pcm,
            duration_seconds=len(pcm) / BYTES_PER_SECOND,
            container=container.format.name,
            source_sample_rate=int(stream.sample_rate or stream.codec_context.sample_rate or 0),
        )


def decode_to_pcm16k(source: bytes | str | os.PathLike[str]) -> tuple[bytes, float]:
    """Decode media to (s16le mono 16 kHz samples, duration in seconds); MediaError if unusable."""
    audio = decode_media(source)
    return audio.pcm, audio.duration_seconds


class Recognizer:
    """One pocketsphinx decoder with the wheel's en-US model (not thread-safe)."""

    def __init__(self, **config: Any) -> None:
        from pocketsphinx import Decoder  # deferred: loading the model takes ~0.5 s

        # pocketsphinx 5's defaults (beam 1e-48, wbeam 7e-29, lw 6.5, fwdtree + fwdflat +
        # bestpath) measured best on 65 flite clips in 5 formats: wider beams (1e-60) cost
        # 3x the time for no accuracy, lw 5/8/10, topn 8 and no phone lookahead were no
        # better or worse. benchmarks/asr_wer.py measures the shipped samples.
        # bestpath must stay on: it computes the lattice posteriors used as confidences.
        # Dither (half-bit noise, fixed seed for repeatable results) keeps digital silence
        # from being recognized as a word ("dog" on 2 s of zeros without it); it does not
        # change accuracy on speech.
        settings: dict[str, Any] = {
            "loglevel": "ERROR",
            "bestpath": True,
            "dither": True,
            "seed": 1,
        }
        settings.update(config)
        self._decoder = Decoder(**settings)
        self._frame_rate = int(self._decoder.config["frate"])

    def recognize(self, pcm: bytes) -> list[Word]:
        """Recognize s16le mono 16 kHz speech into timed words."""
        # Reset feature extraction: the live cepstral mean and the dither generator would
        # otherwise carry over from the previous media, and the same file could come out
        # differently depending on what was recognized before it.
        self._decoder.reinit_feat()
        words: list[Word] = []
        for offset, chunk in _utterances(pcm):
            words.extend(self._recognize_utterance(chunk, offset))
        return words

    def _recognize_utterance(self, pcm: bytes, offset: float) -> list[Word]:
        decoder = self._decoder
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        words: list[Word] = []
        for seg in decoder.seg():
            # Fillers and silences are not words: <s>, </s>, <sil>, [NOISE], [SPEECH]...
            if seg.word.startswith(("<", "[", "+")):
                continue
            # Confidence: Segment.prob, pocketsphinx's word posterior probability
            # P(word | audio) from the forward-backward pass over the bestpath lattice
            # (acoustic scores scaled by `ascale`). It is already linear, in 0..1 up to
            # floating-point error (1.0002 was seen), hence the clamp.
            confidence = min(1.0, max(0.0, float(seg.prob)))
            words.append(
                Word(
                    content=_ALTERNATIVE.sub("", seg.word),  # "the(2)" is a pronunciation variant
                    start=round(offset + seg.start_frame / self._frame_rate, 3),
                    end=round(offset + (seg.end_frame + 1) / self._frame_rate, 3),
                    confidence=round(confidence, 4),
                )
            )
        return words


def _utterances(pcm: bytes) -> Iterator[tuple[float, bytes]]:
    """Cut long audio into utterances of about MAX_UTTERANCE_SECONDS at silences."""
    limit = int(MAX_UTTERANCE_SECONDS * BYTES_PER_SECOND)
    if len(pcm) <= limit:
        yield 0.0, pcm
        return
    from pocketsphinx import Segmenter

    # Cut points: the middle of each silence the voice activity detector finds; the audio
    # between speech segments is kept so that no word is clipped.
    cuts = [0]
    previous_end: float | None = None
    for speech in Segmenter().segment(io.BytesIO(pcm)):
        if previous_end is not None:
            middle = int((previous_end + speech.start_time) / 2 * SAMPLE_RATE) * 2
            if middle - cuts[-1] >= limit:
                cuts.append(middle)
        previous_end = speech.end_time
    cuts.append(len(pcm))
    for start, end in itertools.pairwise(cuts):
        if end > start:
            yield start / BYTES_PER_SECOND, pcm[start:end]


_local = threading.local()


def recognize(pcm: bytes) -> list[Word]:
    """Recognize s16le mono 16 kHz speech with a per-thread pocketsphinx decoder."""
    recognizer: Recognizer | None = getattr(_local, "recognizer", None)
    if recognizer is None:
        recognizer = Recognizer()
        _local.recognizer = recognizer
    return recognizer.recognize(pcm)


def transcribe_media(source: bytes | str | os.PathLike[str]) -> Transcription:
    """Decode and recognize one media file in the calling thread."""
    audio = decode_media(source)
    return Transcription(
        words=recognize(audio.pcm),
        duration_seconds=audio.duration_seconds,
        container=audio.container,
        source_sample_rate=audio.source_sample_rate,
    )


# --- child process --------------------------------------------------------------------
# Protocol: the parent writes an 8-byte big-endian length and the media bytes; the child
# answers with one JSON line: {"ok": true, ...Transcription} or {"ok": false, "kind":
# "media" | "internal", "reason": "..."}.

_HEADER = struct.Struct(">Q")


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Answer transcription requests from `stdin` until it closes (child-process side)."""
    while True:
        header = _read_exact(stdin, _HEADER.size)
        if header is None:
            return
        media = _read_exact(stdin, _HEADER.unpack(header)[0])
        if media is None:
            return
        answer: dict[str, Any]
        try:
            result = transcribe_media(media)
            answer = {
                "ok": True,
                "duration": result.duration_seconds,
                "container": result.container,
                "sample_rate": result.source_sample_rate,
                "words": [[w.content, w.start, w.end, w.confidence] for w in result.words],
            }
        except MediaError as exc:
            answer = {"ok": False, "kind": "media", "reason": exc.reason}
        except Exception as exc:  # the parent must get an answer whatever happened
            LOG.exception("recognition failed")
            answer = {"ok": False, "kind": "internal", "reason": f"{type(exc).__name__}: {exc}"}
        stdout.write(json.dumps(answer).encode() + b"\n")
        stdout.flush()


class RecognizerProcess:
    """A long-lived recognizer child process; one request at a time (not thread-safe)."""

    def __init__(self, python: str = sys.executable) -> None:
        self._python = python
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        # The child imports this package by name whatever the server's working directory.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        proc = subprocess.Popen(
            [self._python, "-m", "localcloud.asr", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=str(_REPO_ROOT),
        )
        LOG.debug("started recognizer process %s", proc.pid)
        return proc

    def transcribe(self, media: bytes, timeout: float) -> Transcription:
        """Decode and recognize `media` in the child; MediaError or RecognizerError on failure."""
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._start()
        proc = self._proc
        stdin: IO[bytes] | None = proc.stdin
        stdout: IO[bytes] | None = proc.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(_HEADER.pack(len(media)) + media)
            stdin.flush()
            ready, _, _ = select.select([stdout], [], [], timeout)
            line = stdout.readline() if ready else b""
        except OSError as exc:  # broken pipe: the child died
            self.close()
            raise RecognizerError(f"The recognizer process failed: {exc}") from exc
        if not ready:
            self.close()
            raise RecognizerError(f"The recognizer did not finish within {timeout:.0f} s.")
        if not line:
            code = proc.poll()
            self.close()
            raise RecognizerError(f"The recognizer process exited unexpectedly (code {code}).")
        answer = json.loads(line)
        if not answer["ok"]:
            if answer["kind"] == "media":
                raise MediaError(answer["reason"])
            raise RecognizerError(answer["reason"])
        return Transcription(
            words=[Word(c, s, e, p) for c, s, e, p in answer["words"]],
            duration_seconds=float(answer["duration"]),
            container=str(answer["container"]),
            source_sample_rate=int(answer["sample_rate"]),
        )

    def close(self) -> None:
        """Stop the child process (closing its stdin ends it; kill if it does not exit)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                LOG.debug("recognizer stdin already closed")
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the recognizer child process (`python -m localcloud.asr --serve`)."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["--serve"]:
        raise SystemExit("usage: python -m localcloud.asr --serve")
    logging.basicConfig(level=logging.WARNING, format="asr: %(levelname)s %(message)s")
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
