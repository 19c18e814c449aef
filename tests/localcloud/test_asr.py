"""The local recognizer: PyAV decoding and pocketsphinx recognition of the shipped samples."""

from __future__ import annotations

import array
import io
import itertools
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import av
import pytest

from localcloud import asr
from localcloud.asr import (
    MediaError,
    RecognizerError,
    RecognizerProcess,
    Transcription,
    decode_to_pcm16k,
    recognize,
)
from localcloud.wer import wer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SPEC = json.loads((SAMPLES / "texts.json").read_text())
CLIPS = [
    pytest.param(f"{clip['name']}.{fmt}", clip["text"], id=f"{clip['name']}.{fmt}")
    for clip in SPEC["clips"]
    for fmt in clip["formats"]
]


@cache
def transcribed(name: str) -> Transcription:
    """Each sample is recognized once per test session (recognition is the slow part)."""
    return asr.transcribe_media(SAMPLES / name)


def test_every_transcribe_media_format_is_shipped_as_a_sample() -> None:
    shipped = {p.suffix.lstrip(".") for p in SAMPLES.iterdir()}

    assert {"mp3", "mp4", "wav", "flac", "ogg", "amr", "webm", "m4a"} <= shipped


@pytest.mark.parametrize(("name", "text"), CLIPS)
def test_recognition_word_error_rate_is_at_most_15_percent_on_every_shipped_sample(
    name: str, text: str
) -> None:
    result = transcribed(name)

    hypothesis = " ".join(w.content for w in result.words)
    assert wer(text, hypothesis) <= 0.15, hypothesis


@pytest.mark.parametrize(("name", "text"), CLIPS)
def test_words_are_timed_in_order_within_the_audio_with_unit_confidences(
    name: str, text: str
) -> None:
    result = transcribed(name)

    assert result.words
    previous_end = 0.0
    for word in result.words:
        assert previous_end <= word.start < word.end <= result.duration_seconds + 0.01
        assert 0.0 <= word.confidence <= 1.0
        assert word.content.isascii()
        assert not word.content.startswith(("<", "["))
        assert "(" not in word.content  # pronunciation variants such as "the(2)"
        previous_end = word.end


@pytest.mark.parametrize("name", ["hello-pipeline.mp3", "weather.flac", "garden.mp4"])
def test_decode_gives_mono_16_khz_samples_and_the_media_duration(name: str) -> None:
    with av.open(str(SAMPLES / name)) as container:
        expected = float(container.duration or 0) / 1_000_000

    pcm, duration = decode_to_pcm16k(SAMPLES / name)

    assert len(pcm) % 2 == 0
    assert duration == pytest.approx(len(pcm) / 32_000)
    assert duration == pytest.approx(expected, abs=0.1)


def test_decode_accepts_bytes_as_well_as_paths() -> None:
    path = SAMPLES / "meeting.ogg"

    assert decode_to_pcm16k(path.read_bytes()) == decode_to_pcm16k(str(path))


def test_decode_reports_where_the_media_came_from() -> None:
    audio = asr.decode_media(SAMPLES / "garden.mp4")

    assert audio.container == "mov,mp4,m4a,3gp,3g2,mj2"
    assert audio.source_sample_rate == 16_000


@pytest.mark.parametrize(
    "data",
    [
        pytest.param((SAMPLES / "not-media.mp3").read_bytes(), id="random-bytes"),
        pytest.param(b"", id="empty"),
        pytest.param(b"ID3\x03\x00\x00\x00\x00\x00\x00", id="truncated-mp3-header"),
    ],
)
def test_undecodable_media_raises_media_error_with_a_reason(data: bytes) -> None:
    with pytest.raises(MediaError) as caught:
        decode_to_pcm16k(data)

    assert caught.value.reason


def test_media_without_an_audio_stream_raises_media_error() -> None:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height = 16, 16
        for _ in range(3):
            frame = av.VideoFrame(16, 16, "yuv420p")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)

    with pytest.raises(MediaError, match="no audio stream"):
        decode_to_pcm16k(buffer.getvalue())


def test_silence_is_recognized_as_no_words() -> None:
    assert transcribed("silence.wav").words == []


def test_media_shorter_than_half_a_second_still_decodes() -> None:
    pcm, duration = decode_to_pcm16k(SAMPLES / "too-short.wav")

    assert duration == pytest.approx(0.3)
    assert isinstance(recognize(pcm), list)


@pytest.mark.parametrize("name", ["hello-pipeline.wav", "weather.flac", "meeting.ogg"])
def test_the_pause_between_sentences_shows_as_a_gap_between_words(name: str) -> None:
    words = transcribed(name).words  # the samples pause 0.7 s between sentences

    gaps = [b.start - a.end for a, b in itertools.pairwise(words)]
    assert max(gaps) > 0.6


def test_long_audio_is_cut_into_utterances_in_silences_covering_every_sample() -> None:
    speech, _ = decode_to_pcm16k(SAMPLES / "hello-pipeline.wav")
    pause = b"\x00\x00" * 8_000
    pcm = (speech + pause) * 8  # about 90 s

    parts = list(asr._utterances(pcm))

    assert len(parts) > 1
    assert b"".join(chunk for _, chunk in parts) == pcm
    offset = 0.0
    for start, chunk in parts:
        assert start == pytest.approx(offset)
        offset += len(chunk) / 32_000
        # A cut is made in the first silence after the limit, so no word is split.
        assert len(chunk) / 32_000 < asr.MAX_UTTERANCE_SECONDS + 12


def test_cuts_between_utterances_fall_in_silence() -> None:
    speech, _ = decode_to_pcm16k(SAMPLES / "hello-pipeline.wav")
    pcm = (speech + b"\x00\x00" * 8_000) * 8

    for start, _ in list(asr._utterances(pcm))[1:]:
        index = int(start * 16_000)
        window = array.array("h", pcm[(index - 800) * 2 : (index + 800) * 2])
        assert max(abs(s) for s in window) < 500  # +-50 ms around the cut is quiet


@pytest.fixture(scope="module")
def process() -> Iterator[RecognizerProcess]:
    child = RecognizerProcess()
    yield child
    child.close()


def test_recognizer_process_transcribes_media_and_reports_media_errors(
    process: RecognizerProcess,
) -> None:
    media = (SAMPLES / "meeting.ogg").read_bytes()

    result = process.transcribe(media, timeout=60)
    with pytest.raises(MediaError):
        process.transcribe(b"not audio at all", timeout=60)
    again = process.transcribe(media, timeout=60)

    assert result == again == transcribed("meeting.ogg")  # same words as in-thread
    assert result.container == "ogg"


def test_recognizer_process_that_times_out_is_replaced_by_a_fresh_one(
    process: RecognizerProcess,
) -> None:
    media = (SAMPLES / "garden.webm").read_bytes()

    with pytest.raises(RecognizerError, match="did not finish"):
        process.transcribe(media, timeout=0.01)
    result = process.transcribe(media, timeout=60)

    assert result == transcribed("garden.webm")
