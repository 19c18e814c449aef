"""The Transcribe result document and subtitles built from recognized words."""

from __future__ import annotations

import itertools
import re

from hypothesis import given
from hypothesis import strategies as st

from localcloud.transcript import (
    CUE_MAX_SECONDS,
    CUE_MAX_WORDS,
    Word,
    build_result,
    cues,
    punctuate,
    to_srt,
    to_vtt,
)

SRT_TIME = r"\d{2}:\d{2}:\d{2},\d{3}"
VTT_TIME = r"\d{2}:\d{2}:\d{2}\.\d{3}"


def words_of(*spec: tuple[str, float, float]) -> list[Word]:
    return [Word(text, start, end, 0.9) for text, start, end in spec]


HELLO = words_of(
    ("hello", 0.12, 0.5),
    ("world", 0.5, 0.9),
    # a 1.1 s pause ends the sentence
    ("how", 2.0, 2.2),
    ("are", 2.2, 2.35),
    ("you", 2.35, 2.6),
)


def test_result_document_has_the_real_transcribe_top_level_shape() -> None:
    result = build_result("my-job", "123456789012", HELLO)

    assert result["jobName"] == "my-job"
    assert result["accountId"] == "123456789012"
    assert result["status"] == "COMPLETED"
    assert set(result["results"]) == {"transcripts", "items", "audio_segments"}
    assert result["results"]["transcripts"] == [{"transcript": "Hello world. How are you."}]


def test_pronunciation_items_carry_string_times_and_confidences() -> None:
    items = build_result("j", "1", HELLO)["results"]["items"]
    first = items[0]

    assert first == {
        "id": 0,
        "type": "pronunciation",
        "alternatives": [{"confidence": "0.9", "content": "Hello"}],
        "start_time": "0.12",
        "end_time": "0.5",
    }
    for item in items:
        for value in item["alternatives"][0].values():
            assert isinstance(value, str)


def test_punctuation_items_have_no_times_and_zero_confidence() -> None:
    items = build_result("j", "1", HELLO)["results"]["items"]
    stops = [i for i in items if i["type"] == "punctuation"]

    assert [i["id"] for i in stops] == [2, 6]
    for item in stops:
        assert item["alternatives"] == [{"confidence": "0.0", "content": "."}]
        assert "start_time" not in item
        assert "end_time" not in item
    assert [i["id"] for i in items] == list(range(len(items)))


def test_audio_segments_are_sentences_referring_to_their_item_ids() -> None:
    segments = build_result("j", "1", HELLO)["results"]["audio_segments"]

    assert segments == [
        {
            "id": 0,
            "transcript": "Hello world.",
            "start_time": "0.12",
            "end_time": "0.9",
            "items": [0, 1, 2],
        },
        {
            "id": 1,
            "transcript": "How are you.",
            "start_time": "2.0",
            "end_time": "2.6",
            "items": [3, 4, 5, 6],
        },
    ]


def test_a_short_pause_does_not_end_a_sentence() -> None:
    words = words_of(("one", 0.0, 0.3), ("two", 0.8, 1.0))  # 0.5 s pause

    assert build_result("j", "1", words)["results"]["transcripts"][0]["transcript"] == "One two."


def test_the_pronoun_i_is_capitalized_anywhere() -> None:
    words = words_of(("yes", 0.0, 0.2), ("i'm", 0.2, 0.4), ("sure", 0.4, 0.6))

    assert [t.text for t in punctuate(words)] == ["Yes", "I'm", "sure"]


def test_silence_gives_a_completed_result_with_empty_transcript_and_items() -> None:
    result = build_result("quiet", "1", [])

    assert result["status"] == "COMPLETED"
    assert result["results"] == {
        "transcripts": [{"transcript": ""}],
        "items": [],
        "audio_segments": [],
    }


def test_srt_numbers_cues_from_zero_by_default_as_transcribe_does() -> None:
    srt = to_srt(HELLO)

    assert srt == (
        "0\n00:00:00,120 --> 00:00:00,900\nHello world.\n"
        "\n"
        "1\n00:00:02,000 --> 00:00:02,600\nHow are you.\n"
    )


def test_srt_output_start_index_one_numbers_cues_from_one() -> None:
    blocks = to_srt(HELLO, start_index=1).split("\n\n")

    assert [b.splitlines()[0] for b in blocks] == ["1", "2"]


def test_vtt_has_a_header_and_dotted_millisecond_timestamps() -> None:
    vtt = to_vtt(HELLO, start_index=1)

    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.120 --> 00:00:00.900\nHello world.\n")
    assert re.findall(rf"{VTT_TIME} --> {VTT_TIME}", vtt) == [
        "00:00:00.120 --> 00:00:00.900",
        "00:00:02.000 --> 00:00:02.600",
    ]


def test_timestamps_carry_hours_and_round_to_milliseconds() -> None:
    words = [Word("late", 3723.4564, 3725.0014, 1.0)]

    assert "01:02:03,456 --> 01:02:05,001" in to_srt(words)
    assert "01:02:03.456 --> 01:02:05.001" in to_vtt(words)


def test_silence_gives_valid_subtitle_files_without_cues() -> None:
    assert to_srt([]) == ""
    assert to_vtt([]) == "WEBVTT\n"


def test_long_speech_without_pauses_is_split_into_cues_of_at_most_twelve_words() -> None:
    words = [Word(f"w{i}", i * 0.3, i * 0.3 + 0.3, 1.0) for i in range(30)]

    result = cues(words)

    assert [len(c.text.split()) for c in result] == [12, 12, 6]
    assert all(re.fullmatch(SRT_TIME, t) for t in re.findall(SRT_TIME, to_srt(words)))


def test_slow_speech_is_split_into_cues_of_at_most_seven_seconds() -> None:
    words = [Word(f"w{i}", i * 0.9, i * 0.9 + 0.9, 1.0) for i in range(12)]

    result = cues(words)

    assert all(c.end - c.start <= CUE_MAX_SECONDS for c in result)
    assert sum(len(c.text.split()) for c in result) == 12


@st.composite
def word_sequences(draw: st.DrawFn) -> list[Word]:
    count = draw(st.integers(min_value=0, max_value=60))
    t = draw(st.floats(min_value=0, max_value=100))
    words = []
    for i in range(count):
        t += draw(st.floats(min_value=0, max_value=2.0))  # pause before the word
        length = draw(st.floats(min_value=0.05, max_value=1.5))
        words.append(Word(f"w{i}", t, t + length, draw(st.floats(min_value=0, max_value=1))))
        t += length
    return words


@given(word_sequences())
def test_cues_keep_every_word_in_order_within_the_size_limits(words: list[Word]) -> None:
    result = cues(words)

    flat = [w.rstrip(".").lower() for c in result for w in c.text.split()]
    assert flat == [w.content for w in words]
    for cue in result:
        n = len(cue.text.split())
        assert n <= CUE_MAX_WORDS
        assert n == 1 or cue.end - cue.start <= CUE_MAX_SECONDS
        assert cue.start <= cue.end


@given(word_sequences())
def test_result_items_alternate_words_and_full_stops_consistently(words: list[Word]) -> None:
    items = build_result("j", "1", words)["results"]["items"]

    spoken = [i for i in items if i["type"] == "pronunciation"]
    assert [i["alternatives"][0]["content"].lower() for i in spoken] == [w.content for w in words]
    if words:
        assert items[-1]["type"] == "punctuation"
    for earlier, later in itertools.pairwise(items):
        assert not (earlier["type"] == later["type"] == "punctuation")
    for item in spoken:
        assert 0.0 <= float(item["alternatives"][0]["confidence"]) <= 1.0
        assert float(item["start_time"]) <= float(item["end_time"])
