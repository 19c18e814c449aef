"""Regenerate the shipped sample media from samples/texts.json.

Needs Debian's `flite` (the English clips) and `espeak-ng` (the non-English ones).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import re
import shutil
import struct
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import av

LOG = logging.getLogger("make_samples")
HERE = Path(__file__).resolve().parent
RATE = 16_000
SENTENCE_PAUSE_SECONDS = 0.7
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Encoding:
    """How one Transcribe media format is written: container, codec, rate, bit rate."""

    container: str
    codec: str
    rate: int
    bit_rate: int | None


# Modest bit rates keep the committed media small (< 3 MB in total) while the speech
# stays clear enough for the local recognizer. AMR is narrow-band by definition (8 kHz).
ENCODINGS: dict[str, Encoding] = {
    "mp3": Encoding("mp3", "libmp3lame", RATE, 48_000),
    "flac": Encoding("flac", "flac", RATE, None),
    "ogg": Encoding("ogg", "libopus", RATE, 24_000),
    "webm": Encoding("webm", "libopus", RATE, 24_000),
    "m4a": Encoding("ipod", "aac", RATE, 48_000),
    "mp4": Encoding("mp4", "aac", RATE, 48_000),
    "amr": Encoding("amr", "libopencore_amrnb", 8_000, 12_200),
}


def synthesize(text: str, voice: str, out_wav: Path) -> None:
    """Speak `text` with flite into a 16 kHz mono WAV file."""
    flite = shutil.which("flite")
    if flite is None:
        raise SystemExit("flite is not installed: apt-get install -y flite")
    subprocess.run([flite, "-voice", voice, "-t", text, "-o", str(out_wav)], check=True)


def speak(text: str, voice: str, out_wav: Path) -> None:
    """Speak `text` with espeak-ng (its voices cover many languages) into a WAV file."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng is not installed: apt-get install -y espeak-ng")
    subprocess.run([espeak, "-v", voice, "-w", str(out_wav), text], check=True)


def read_pcm(path: Path) -> bytes:
    """Read a 16-bit mono WAV file's samples at 16 kHz (resampled if need be)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise SystemExit(f"{path}: expected mono 16-bit audio")
        rate, pcm = wav.getframerate(), wav.readframes(wav.getnframes())
    if rate == RATE:
        return pcm
    # espeak-ng speaks at 22.05 kHz.
    source = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
    source.planes[0].update(pcm)
    source.sample_rate = rate
    source.pts = 0
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    frames = [*resampler.resample(source), *resampler.resample(None)]
    return b"".join(bytes(f.planes[0])[: f.samples * 2] for f in frames)


def write_wav(path: Path, pcm: bytes, rate: int = RATE) -> None:
    """Write 16-bit mono samples as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)


def encode(pcm: bytes, fmt: str, out: Path) -> None:
    """Encode 16 kHz mono samples into `out` in the Transcribe media format `fmt`."""
    if fmt == "wav":
        write_wav(out, pcm)
        return
    enc = ENCODINGS[fmt]
    # bitexact: no random stream serials or encoder tags, so regeneration is reproducible.
    with av.open(
        str(out), "w", format=enc.container, container_options={"fflags": "+bitexact"}
    ) as container:
        stream = container.add_stream(enc.codec, rate=enc.rate, layout="mono")
        if not isinstance(stream, av.audio.stream.AudioStream):
            raise TypeError(f"{enc.codec} is not an audio encoder")
        if enc.bit_rate:
            stream.codec_context.bit_rate = enc.bit_rate
        ctx = stream.codec_context
        # Encoders such as AAC, Opus and AMR take fixed-size frames: let the resampler
        # re-chunk into exactly that size.
        resampler = av.AudioResampler(
            format=ctx.format.name if ctx.format else "s16",
            layout="mono",
            rate=enc.rate,
            frame_size=ctx.frame_size or None,
        )
        source = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        source.planes[0].update(pcm)
        source.sample_rate = RATE
        source.pts = 0
        for frame in [*resampler.resample(source), *resampler.resample(None)]:
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def tone(seconds: float, freq: float = 440.0) -> bytes:
    """A quiet sine tone as 16-bit mono samples."""
    n = int(seconds * RATE)
    return b"".join(
        struct.pack("<h", int(6000 * math.sin(2 * math.pi * freq * i / RATE))) for i in range(n)
    )


def room_tone(seconds: float, rng: random.Random, level: float = 100.0) -> bytes:
    """Quiet Gaussian noise (about -50 dBFS) standing in for a room between sentences."""
    n = int(seconds * RATE)
    return struct.pack(f"<{n}h", *(int(rng.gauss(0.0, level)) for _ in range(n)))


# Debian's pocketsphinx-testdata: five LibriVox readings (public domain) with their texts.
TESTDATA = Path("/usr/share/pocketsphinx/test/data/librivox")
_REFERENCE = re.compile(r"^<s> (.*) </s> \((.*)\)$")


def import_human(out: Path) -> None:
    """Copy the LibriVox readings of pocketsphinx-testdata into out/human/ as FLAC."""
    if not TESTDATA.is_dir():
        raise SystemExit("pocketsphinx-testdata is not installed: apt-get install -y "
                         "pocketsphinx-testdata")  # fmt: skip
    target = out / "human"
    target.mkdir(parents=True, exist_ok=True)
    clips = []
    for line in (TESTDATA / "transcription").read_text().splitlines():
        match = _REFERENCE.match(line.strip())
        if not match:
            continue
        text, name = match.groups()
        encode(read_pcm(TESTDATA / f"{name}.wav"), "flac", target / f"{name}.flac")
        clips.append({"name": name, "text": text})
    (target / "texts.json").write_text(json.dumps({"clips": clips}, indent=2) + "\n")
    LOG.info("human/: %d LibriVox readings", len(clips))


def main() -> None:
    """Generate every clip of texts.json plus the edge-case files into samples/."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE, help="output directory")
    parser.add_argument(
        "--human",
        action="store_true",
        help="only copy the human recordings of Debian's pocketsphinx-testdata into human/",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.human:
        import_human(args.out)
        return
    spec = json.loads((HERE / "texts.json").read_text())
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20240601)  # seeded, so regeneration does not churn the repository
    # The non-English clips have a generator of their own: adding one changes no other file.
    other_rng = random.Random(20240602)
    # So have the clips that speak PII (content redaction).
    pii_rng = random.Random(20240603)
    clips = (
        [(c, rng) for c in spec["clips"]]
        + [(c, other_rng) for c in spec["non_english"]]
        + [(c, pii_rng) for c in spec["pii"]]
    )
    with tempfile.TemporaryDirectory() as tmp:
        for clip, clip_rng in clips:
            # One flite call per sentence, joined by a pause as a speaker would make (flite
            # itself barely pauses between sentences), so transcripts get their full stops.
            # The pause is quiet room tone: digital silence between sentences made the
            # recognizer insert words at the sentence edges.
            parts = []
            for n, sentence in enumerate(SENTENCE_END.split(clip["text"])):
                raw = Path(tmp) / f"{clip['name']}-{n}.wav"
                if clip.get("synthesizer") == "espeak-ng":
                    speak(sentence, clip["voice"], raw)
                else:
                    synthesize(sentence, spec["voice"], raw)
                parts.append(read_pcm(raw))
            pcm = room_tone(SENTENCE_PAUSE_SECONDS, clip_rng).join(parts)
            for fmt in clip["formats"]:
                target = out / f"{clip['name']}.{fmt}"
                encode(pcm, fmt, target)
                LOG.info(
                    "%s: %.1f s, %d bytes", target.name, len(pcm) / 2 / RATE, target.stat().st_size
                )
    write_wav(out / "silence.wav", b"\x00\x00" * (2 * RATE))
    write_wav(out / "too-short.wav", tone(0.3))
    noise = rng.randbytes(4096)
    (out / "not-media.mp3").write_bytes(noise)
    LOG.info("edge cases: silence.wav, too-short.wav, not-media.mp3")


if __name__ == "__main__":
    main()
