"""Local speech recognition: decode media with PyAV, recognize it with Whisper.

`decode_media` and `transcribe_media` run in the calling thread. The Transcribe service runs
them in child processes instead: `RecognizerProcess` drives `python -m localcloud.asr
--serve`, which loads the Whisper model once (`localcloud.whisper_asr`) and answers one
request at a time over its stdin/stdout. A child keeps the model's memory and CPU threads
out of the server process, and a crash or a hung recognition costs one job, not the server.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import select
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from localcloud.languages import LanguageRequest
from localcloud.transcribe_items import Item, merge_channels

__all__ = [
    "DecodedAudio",
    "MediaError",
    "RecognizerError",
    "RecognizerProcess",
    "Transcription",
    "decode_media",
    "decode_to_pcm16k",
    "transcribe_media",
]

LOG = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
BYTES_PER_SECOND = SAMPLE_RATE * 2
# Amazon Transcribe accepts media of up to 4 hours; decoding stops a little beyond that so
# a huge file cannot exhaust memory (4 h of 16 kHz s16 is 460 MB).
MAX_SECONDS = 4 * 3600 + 60

_REPO_ROOT = Path(__file__).resolve().parent.parent


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
    # Each channel on its own (s16le 16 kHz), when decoded with split_channels.
    channels: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class Transcription:
    """What the local engine produced for one media file."""

    items: list[Item]
    duration_seconds: float
    container: str
    source_sample_rate: int
    # The transcript's language; None for a multi-language transcript.
    language_code: str | None = None
    # Identification scores, best first (IdentifyLanguage).
    language_identification: list[tuple[str, float]] = field(default_factory=list)
    # Seconds of speech per language (multi-language identification).
    language_codes: list[tuple[str, float]] = field(default_factory=list)
    # Channels recognized separately (channel identification); None: recognized as one.
    number_of_channels: int | None = None

    @property
    def identified_language_score(self) -> float | None:
        """The score of the identified language (IdentifyLanguage only)."""
        return self.language_identification[0][1] if self.language_identification else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (the child process's answer)."""
        return {
            "items": [dataclasses.asdict(item) for item in self.items],
            "duration": self.duration_seconds,
            "container": self.container,
            "sample_rate": self.source_sample_rate,
            "language_code": self.language_code,
            "language_identification": self.language_identification,
            "language_codes": self.language_codes,
            "number_of_channels": self.number_of_channels,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transcription:
        """The inverse of `to_json`."""
        return cls(
            # JSON has no tuples: the redactions of an item come back as lists.
            items=[
                Item(**{**item, "redactions": tuple(tuple(r) for r in item.get("redactions", ()))})
                for item in data["items"]
            ],
            duration_seconds=float(data["duration"]),
            container=str(data["container"]),
            source_sample_rate=int(data["sample_rate"]),
            language_code=data["language_code"],
            language_identification=[(c, float(s)) for c, s in data["language_identification"]],
            language_codes=[(c, float(s)) for c, s in data["language_codes"]],
            number_of_channels=data.get("number_of_channels"),
        )


# Channel identification handles two channels at most (docs/transcribe-results.md).
MAX_CHANNELS = 2


def decode_media(
    source: bytes | str | os.PathLike[str], *, split_channels: bool = False
) -> DecodedAudio:
    """Decode the first audio stream of any FFmpeg-readable media to s16le mono 16 kHz.

    With `split_channels`, each channel is also decoded on its own (`DecodedAudio.channels`);
    media with more than two channels is refused, as channel identification is.
    """
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
        count = stream.codec_context.channels or 1
        if split_channels and count > MAX_CHANNELS:
            raise MediaError(
                f"The media has {count} audio channels; channel identification supports "
                f"{MAX_CHANNELS} at most."
            )
        layout = "mono" if count == 1 else "stereo"
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        # Planar output: one plane per channel, each the same length as the mono mix.
        splitter = (
            av.AudioResampler(format="s16p", layout=layout, rate=SAMPLE_RATE)
            if split_channels
            else None
        )
        chunks: list[bytes] = []
        planes: list[list[bytes]] = [[] for _ in range(count if split_channels else 0)]
        size = 0

        def split(frames: list[Any]) -> None:
            for out in frames:
                for channel, plane in enumerate(planes):
                    plane.append(bytes(out.planes[channel])[: out.samples * 2])

        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = bytes(out.planes[0])[: out.samples * 2]
                    chunks.append(chunk)
                    size += len(chunk)
                if splitter is not None:
                    split(splitter.resample(frame))
                if size > MAX_SECONDS * BYTES_PER_SECOND:
                    raise MediaError("The media is longer than the 4 hour maximum.")
            chunks.extend(bytes(o.planes[0])[: o.samples * 2] for o in resampler.resample(None))
            if splitter is not None:
                split(splitter.resample(None))
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
            channels=tuple(b"".join(plane) for plane in planes),
        )


def decode_to_pcm16k(source: bytes | str | os.PathLike[str]) -> tuple[bytes, float]:
    """Decode media to (s16le mono 16 kHz samples, duration in seconds); MediaError if unusable."""
    audio = decode_media(source)
    return audio.pcm, audio.duration_seconds


def transcribe_media(
    source: bytes | str | os.PathLike[str],
    request: LanguageRequest,
    *,
    split_channels: bool = False,
) -> Transcription:
    """Decode and recognize one media file in the calling thread (the process's model).

    With `split_channels` (channel identification) each channel is recognized on its own,
    its items labelled ``ch_0``, ``ch_1``, and the channels merged by time.
    """
    from localcloud import whisper_asr  # deferred: the server process never loads the model

    audio = decode_media(source, split_channels=split_channels)
    model = whisper_asr.recognizer()
    if not split_channels:
        recognition = model.recognize(audio.pcm, request)
        return Transcription(
            items=recognition.items,
            duration_seconds=audio.duration_seconds,
            container=audio.container,
            source_sample_rate=audio.source_sample_rate,
            language_code=recognition.language_code,
            language_identification=recognition.language_identification,
            language_codes=recognition.language_codes,
        )
    recognitions = [model.recognize(pcm, request) for pcm in audio.channels]
    labelled = [
        [dataclasses.replace(item, channel_label=f"ch_{n}") for item in recognition.items]
        for n, recognition in enumerate(recognitions)
    ]
    # Identification runs per channel; the job reports the language of the channel with
    # the most words, and the speech of every channel per language.
    main = max(recognitions, key=lambda r: len(r.items))
    seconds: dict[str, float] = {}
    for recognition in recognitions:
        for code, duration in recognition.language_codes:
            seconds[code] = seconds.get(code, 0.0) + duration
    return Transcription(
        items=merge_channels(labelled),
        duration_seconds=audio.duration_seconds,
        container=audio.container,
        source_sample_rate=audio.source_sample_rate,
        language_code=main.language_code,
        language_identification=main.language_identification,
        language_codes=sorted(seconds.items(), key=lambda pair: -pair[1]),
        number_of_channels=len(audio.channels),
    )


# --- child process --------------------------------------------------------------------
# Protocol: the parent writes two frames, each an 8-byte big-endian length and its bytes:
# the request as JSON ({"language": LanguageRequest, "split_channels": bool}), then the media.
# The child answers with one JSON line: {"ok": true, "result": Transcription} or
# {"ok": false, "kind": "media" | "internal", "reason": "..."}.

_HEADER = struct.Struct(">Q")


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _read_frame(stream: BinaryIO) -> bytes | None:
    header = _read_exact(stream, _HEADER.size)
    return None if header is None else _read_exact(stream, _HEADER.unpack(header)[0])


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Answer transcription requests from `stdin` until it closes (child-process side)."""
    while True:
        request = _read_frame(stdin)
        media = _read_frame(stdin) if request is not None else None
        if request is None or media is None:
            return
        answer: dict[str, Any]
        try:
            spec = json.loads(request)
            result = transcribe_media(
                media,
                LanguageRequest.from_json(spec["language"]),
                split_channels=bool(spec.get("split_channels")),
            )
            answer = {"ok": True, "result": result.to_json()}
        except MediaError as exc:
            answer = {"ok": False, "kind": "media", "reason": exc.reason}
        except Exception as exc:  # the parent must get an answer whatever happened
            LOG.exception("recognition failed")
            answer = {"ok": False, "kind": "internal", "reason": f"{type(exc).__name__}: {exc}"}
        stdout.write(json.dumps(answer).encode() + b"\n")
        stdout.flush()


class RecognizerProcess:
    """A long-lived recognizer child process; one request at a time (not thread-safe)."""

    def __init__(self, python: str = sys.executable, threads: int | None = None) -> None:
        self._python = python
        self._threads = threads
        self._proc: subprocess.Popen[bytes] | None = None
        self._start_lock = threading.Lock()  # warm() may come from another thread

    def warm(self) -> None:
        """Start the child now (it loads the model at once), so the next request need not wait."""
        self._running()

    def _running(self) -> subprocess.Popen[bytes]:
        with self._start_lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            return self._proc

    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        # The child imports this package by name whatever the server's working directory.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        if self._threads:
            env["LOCALCLOUD_ASR_THREADS"] = str(self._threads)
        proc = subprocess.Popen(
            [self._python, "-m", "localcloud.asr", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=str(_REPO_ROOT),
        )
        LOG.debug("started recognizer process %s", proc.pid)
        return proc

    def transcribe(
        self,
        media: bytes,
        request: LanguageRequest,
        timeout: float,
        *,
        split_channels: bool = False,
    ) -> Transcription:
        """Decode and recognize `media` in the child; MediaError or RecognizerError on failure."""
        proc = self._running()
        stdin: IO[bytes] | None = proc.stdin
        stdout: IO[bytes] | None = proc.stdout
        assert stdin is not None and stdout is not None
        try:
            spec = json.dumps(
                {"language": request.to_json(), "split_channels": split_channels}
            ).encode()
            stdin.write(_HEADER.pack(len(spec)) + spec + _HEADER.pack(len(media)) + media)
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
        return Transcription.from_json(answer["result"])

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
    _preload()
    serve(sys.stdin.buffer, sys.stdout.buffer)


def _preload() -> None:
    """Load the model before the first request arrives (the parent may be warming us)."""
    from localcloud import whisper_asr

    try:
        whisper_asr.recognizer()
    except Exception:  # each request loads it again and answers with the error
        LOG.warning("the model could not be loaded ahead of the first request", exc_info=True)


if __name__ == "__main__":
    main()
