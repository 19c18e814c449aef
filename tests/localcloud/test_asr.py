"""The local recognizer: PyAV decoding and Whisper recognition of the shipped samples."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import av
import pytest

from localcloud import asr, whisper_asr
from localcloud.asr import (
    MediaError,
    RecognizerError,
    RecognizerProcess,
    Transcription,
    decode_to_pcm16k,
)
from localcloud.languages import LanguageRequest
from localcloud.transcribe_items import transcript_text
from localcloud.wer import wer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SPEC = json.loads((SAMPLES / "texts.json").read_text())
HUMAN = json.loads((SAMPLES / "human" / "texts.json").read_text())["clips"]
CLIPS = [
    pytest.param(f"{clip['name']}.{fmt}", clip["text"], id=f"{clip['name']}.{fmt}")
    for clip in SPEC["clips"]
    for fmt in clip["formats"]
]
ENGLISH = LanguageRequest("fixed", "en-US")


@cache
def transcribed(name: str, request: LanguageRequest = ENGLISH) -> Transcription:
    """Each sample is recognized once per test session (recognition is the slow part)."""
    return asr.transcribe_media(SAMPLES / name, request)


def test_every_transcribe_media_format_is_shipped_as_a_sample() -> None:
    shipped = {p.suffix.lstrip(".") for p in SAMPLES.iterdir()}

    assert {"mp3", "mp4", "wav", "flac", "ogg", "amr", "webm", "m4a"} <= shipped


@pytest.mark.parametrize(("name", "text"), CLIPS)
def test_recognition_word_error_rate_is_at_most_15_percent_on_every_shipped_sample(
    name: str, text: str
) -> None:
    result = transcribed(name)

    hypothesis = transcript_text(result.items)
    assert wer(text, hypothesis) <= 0.15, hypothesis


@pytest.mark.parametrize("clip", HUMAN, ids=[clip["name"][-4:] for clip in HUMAN])
def test_human_readings_are_recognized_with_at_most_15_percent_errors(clip: dict) -> None:
    result = transcribed(f"human/{clip['name']}.flac")

    hypothesis = transcript_text(result.items)
    assert wer(clip["text"], hypothesis) <= 0.15, hypothesis


@pytest.mark.parametrize(("name", "text"), CLIPS)
def test_words_are_timed_in_order_within_the_audio_with_unit_confidences(
    name: str, text: str
) -> None:
    result = transcribed(name)

    words = [item for item in result.items if item.kind == "pronunciation"]
    assert words
    previous_end = 0.0
    for word in words:
        assert word.start is not None and word.end is not None
        assert previous_end <= word.start <= word.end <= result.duration_seconds + 0.01
        assert 0.0 <= word.confidence <= 1.0
        assert word.content == word.content.strip(" .,?!")
        previous_end = word.end


@pytest.mark.parametrize(("name", "text"), CLIPS)
def test_sentences_end_in_full_stop_punctuation_items(name: str, text: str) -> None:
    items = transcribed(name).items

    marks = [item.content for item in items if item.kind == "punctuation"]
    assert marks.count(".") == text.count(".")
    assert items[-1].kind == "punctuation"


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
    assert transcribed("silence.wav").items == []


def test_media_shorter_than_half_a_second_still_decodes_and_is_recognized() -> None:
    pcm, duration = decode_to_pcm16k(SAMPLES / "too-short.wav")

    assert duration == pytest.approx(0.3)
    assert isinstance(whisper_asr.recognizer().recognize(pcm, ENGLISH).items, list)


def test_long_audio_is_recognized_in_windows_without_losing_or_repeating_words_at_seams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Windows of about 6 s over 18 s of speech: seams fall inside sentences.
    monkeypatch.setattr(whisper_asr, "WINDOW_SECONDS", 6.5)
    monkeypatch.setattr(whisper_asr, "OVERLAP_SECONDS", 2.0)
    first, _ = decode_to_pcm16k(SAMPLES / "hello-pipeline.wav")
    second, _ = decode_to_pcm16k(SAMPLES / "weather.flac")
    texts = {clip["name"]: clip["text"] for clip in SPEC["clips"]}

    result = whisper_asr.recognizer().recognize(first + second, ENGLISH)

    reference = f"{texts['hello-pipeline']} {texts['weather']}"
    hypothesis = transcript_text(result.items)
    assert wer(reference, hypothesis) <= 0.15, hypothesis


def test_non_english_speech_is_recognized_in_the_language_identified_among_the_options() -> None:
    clip = SPEC["non_english"][0]
    request = LanguageRequest("identify", options=("en-US", clip["language"]))

    result = transcribed(f"{clip['name']}.mp3", request)

    assert result.language_code == clip["language"]
    assert [code for code, _ in result.language_identification] == [clip["language"], "en-US"]
    assert result.identified_language_score is not None
    assert result.identified_language_score > 0.5
    # espeak-ng's voice is harder to follow than flite's: a looser bound.
    assert wer(clip["text"], transcript_text(result.items)) <= 0.3


@pytest.fixture(scope="module")
def process() -> Iterator[RecognizerProcess]:
    child = RecognizerProcess()
    yield child
    child.close()


def test_recognizer_process_transcribes_media_and_reports_media_errors(
    process: RecognizerProcess,
) -> None:
    media = (SAMPLES / "meeting.ogg").read_bytes()

    result = process.transcribe(media, ENGLISH, timeout=120)
    with pytest.raises(MediaError):
        process.transcribe(b"not audio at all", ENGLISH, timeout=120)
    again = process.transcribe(media, ENGLISH, timeout=120)

    assert result == again == transcribed("meeting.ogg")  # same words as in-thread
    assert result.container == "ogg"


def test_recognizer_process_that_times_out_is_replaced_by_a_fresh_one(
    process: RecognizerProcess,
) -> None:
    media = (SAMPLES / "garden.webm").read_bytes()

    with pytest.raises(RecognizerError, match="did not finish"):
        process.transcribe(media, ENGLISH, timeout=0.01)
    result = process.transcribe(media, ENGLISH, timeout=120)

    assert result == transcribed("garden.webm")
