"""Readable subtitles: cues within the style's limits for any word stream, and their formats."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from transcribe_pipeline.subtitle_style import SubtitleStyle
from transcribe_pipeline.subtitles import Cue, cues, ends_sentence, to_srt, to_vtt
from transcribe_pipeline.words import Word, result_words

DEFAULT = SubtitleStyle()

styles = st.builds(
    SubtitleStyle,
    max_chars_per_line=st.integers(10, 60),
    max_lines_per_cue=st.integers(1, 3),
    min_cue_seconds=st.sampled_from([0.0, 0.5, 1.0]),
    max_cue_seconds=st.sampled_from([1.0, 3.0, 7.0]),
    max_chars_per_second=st.sampled_from([5.0, 17.0, 40.0]),
    pause_seconds=st.sampled_from([0.2, 1.0, 3.0]),
    speaker_prefix=st.booleans(),
)
# Words as Transcribe spells them (no spaces), now and then longer than any line.
contents = st.text(alphabet="abcxyzÉé'-0", min_size=1, max_size=8) | st.text(
    alphabet="w", min_size=40, max_size=130
)
times = st.decimals(min_value=0, max_value=30, places=3).map(str)
pronunciations = st.builds(
    lambda content, start, end, confidence, speaker: {
        "type": "pronunciation",
        "alternatives": [{"confidence": confidence, "content": content}],
        "start_time": start,
        "end_time": end,
        **({"speaker_label": speaker} if speaker else {}),
    },
    contents,
    times,
    times,  # independent of the start: zero-length, reversed and overlapping words too
    st.sampled_from(["0.0", "0.5", "1.0"]),
    st.sampled_from([None, "spk_0", "spk_1"]),
)
punctuations = st.builds(
    lambda content: {
        "type": "punctuation",
        "alternatives": [{"confidence": "0.0", "content": content}],
    },
    st.sampled_from([".", ",", "?", "!", "¿", "…"]),
)


def _speech(rows: list[Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    clock = 0
    for content, gap, length, mark, speaker in rows:
        start = clock + gap
        items.append(
            {
                "type": "pronunciation",
                "alternatives": [{"confidence": "0.9", "content": content}],
                "start_time": str(start),
                "end_time": str(start + length),
                **({"speaker_label": speaker} if speaker else {"speaker_label": "spk_0"}),
            }
        )
        if mark:
            items.append(
                {"type": "punctuation", "alternatives": [{"confidence": "0.0", "content": mark}]}
            )
        clock = start + length
    return items


# Mostly speech in time order (as Transcribe writes it), with some arbitrary streams.
ordered_items = st.lists(
    st.tuples(
        contents,
        st.decimals(min_value=0, max_value=3, places=3),
        st.decimals(min_value=0, max_value=1, places=3),
        st.sampled_from(["", "", "", ".", ",", "?"]),
        st.sampled_from([None, None, "spk_1"]),
    ),
    max_size=60,
).map(_speech)


item_streams = ordered_items | st.lists(st.one_of(pronunciations, punctuations), max_size=40)


def words_of(items: list[dict[str, Any]]) -> list[Word]:
    return result_words({"results": {"transcripts": [{"transcript": ""}], "items": items}})


def with_next(rendered: list[Cue]) -> list[tuple[Cue, Cue | None]]:
    """Each cue with the one after it (None for the last)."""
    return list(zip(rendered, [*rendered[1:], None], strict=False))


def prefix_of(cue: Cue, style: SubtitleStyle) -> str:
    """The speaker prefix the cue shows, if any."""
    if style.speaker_prefix and cue.voice is not None:
        candidate = f"{cue.voice}: "
        if " ".join(cue.lines).startswith(candidate + cue.words[0].text):
            return candidate
    return ""


@settings(max_examples=200)
@given(item_streams, styles)
@example([], DEFAULT)
@example([{"type": "punctuation", "alternatives": [{"content": "."}]}] * 3, DEFAULT)
def test_every_word_is_shown_once_in_order(items, style):
    words = words_of(items)

    rendered = cues(words, style)

    assert [word for cue in rendered for word in cue.words] == words
    for cue in rendered:
        shown = " ".join(cue.lines)
        assert shown == prefix_of(cue, style) + " ".join(word.text for word in cue.words)


@settings(max_examples=200)
@given(item_streams, styles)
def test_every_cue_has_at_most_the_lines_and_characters_the_style_allows(items, style):
    for cue in cues(words_of(items), style):
        assert 1 <= len(cue.lines) <= style.max_lines_per_cue
        if len(cue.words) > 1:
            assert all(len(line) <= style.max_chars_per_line for line in cue.lines), cue.lines


@settings(max_examples=200)
@given(item_streams, styles)
def test_a_word_longer_than_a_line_is_alone_on_one_line_of_its_own_cue(items, style):
    for cue in cues(words_of(items), style):
        if any(len(line) > style.max_chars_per_line for line in cue.lines):
            assert len(cue.words) == 1
            assert cue.lines == (prefix_of(cue, style) + cue.words[0].text,)


@settings(max_examples=200)
@given(item_streams, styles)
def test_cue_times_increase_never_overlap_and_stay_under_the_maximum(items, style):
    rendered = cues(words_of(items), style)

    for cue, following in with_next(rendered):
        assert 0 <= cue.start_ms < cue.end_ms
        assert cue.end_ms - cue.start_ms <= round(style.max_cue_seconds * 1000)
        if following is not None:
            assert cue.end_ms <= following.start_ms


@settings(max_examples=200)
@given(item_streams, styles)
def test_a_cue_is_short_or_fast_only_when_the_next_cue_or_its_maximum_leaves_no_time(items, style):
    rendered = cues(words_of(items), style)

    for cue, following in with_next(rendered):
        duration = cue.end_ms - cue.start_ms
        boxed_in = (following is not None and cue.end_ms == following.start_ms) or (
            duration == round(style.max_cue_seconds * 1000)
        )
        assert duration >= round(style.min_cue_seconds * 1000) or boxed_in
        assert cue.chars * 1000 <= style.max_chars_per_second * duration or boxed_in


@settings(max_examples=200)
@given(item_streams, styles)
def test_a_cue_never_spans_a_change_of_speaker_or_a_sentence_end(items, style):
    for cue in cues(words_of(items), style):
        assert len({word.voice for word in cue.words}) == 1
        assert not any(ends_sentence(word) for word in cue.words[:-1])


@pytest.mark.parametrize(
    ("text", "ends"),
    [("end.", True), ("why?", True), ("so…", True), ('"Yes."', True), ("(really?)", True),
     ("終わり。", True), ("well,", False), ("Mr", False), ("a.b", False), ("", False)],
)  # fmt: skip
def test_a_sentence_ends_with_a_full_stop_question_or_exclamation_mark(text, ends):
    assert ends_sentence(Word(text, 0.0, 1.0)) is ends


def test_a_pause_of_the_styles_length_ends_a_cue():
    words = [Word("one", 0.0, 0.5), Word("two", 1.5, 2.0), Word("three", 2.1, 2.5)]

    rendered = cues(words, SubtitleStyle(pause_seconds=1.0))

    assert [cue.lines for cue in rendered] == [("one",), ("two three",)]


def test_a_shorter_pause_does_not_end_a_cue():
    words = [Word("one", 0.0, 0.5), Word("two", 1.4, 2.0)]

    assert [cue.lines for cue in cues(words, SubtitleStyle(pause_seconds=1.0))] == [("one two",)]


def test_text_longer_than_a_line_is_broken_into_balanced_lines():
    text = "the quick brown fox jumps over the lazy dog and keeps running far away"
    words = [Word(w, n * 0.2, n * 0.2 + 0.15) for n, w in enumerate(text.split())]

    (cue,) = cues(words, SubtitleStyle(max_chars_per_second=100))

    assert cue.lines == (
        "the quick brown fox jumps over the",
        "lazy dog and keeps running far away",
    )


def test_a_line_breaks_after_a_comma_rather_than_inside_a_clause():
    words = [Word(w, n * 0.3, n * 0.3 + 0.2) for n, w in enumerate(["well,", "yes", "indeed"])]

    (cue,) = cues(words, SubtitleStyle(max_chars_per_line=11))

    assert cue.lines == ("well,", "yes indeed")


def test_a_cue_stays_up_for_its_reading_time_when_the_speech_leaves_room():
    # 34 characters spoken in 1 s need 2 s at 17 characters a second
    words = [Word("thirty-four characters", 0.0, 0.5), Word("in a second", 0.5, 1.0)]

    (cue,) = cues(words, SubtitleStyle(max_chars_per_second=17))

    assert (cue.start_ms, cue.end_ms) == (0, 2000)


def test_the_speaker_prefix_starts_each_turn_and_only_the_first_cue_of_it():
    words = [
        Word("Hi.", 0.0, 0.5, speaker="spk_0"),
        Word("Again.", 0.6, 1.0, speaker="spk_0"),
        Word("Hello.", 1.2, 1.6, speaker="spk_1"),
    ]

    rendered = cues(words, SubtitleStyle(speaker_prefix=True))

    assert [cue.lines for cue in rendered] == [("spk_0: Hi.",), ("Again.",), ("spk_1: Hello.",)]


def test_a_speaker_prefix_can_name_the_voice():
    words = [Word("Hello.", 0.0, 0.5, channel="ch_0")]

    (cue,) = cues(words, SubtitleStyle(speaker_prefix=True), names={"ch_0": "agent"})

    assert cue.lines == ("agent: Hello.",)


def test_words_without_time_to_show_them_get_a_millisecond_each_in_order():
    words = [Word("a", 5.0, 5.0, speaker="spk_0"), Word("b", 5.0, 5.0, speaker="spk_1")]

    rendered = cues(words, DEFAULT)

    assert [(cue.start_ms, cue.end_ms) for cue in rendered] == [(5000, 5001), (5001, 6001)]


SRT_BLOCK = re.compile(
    r"(\d+)\n(\d\d+:\d\d:\d\d,\d{3}) --> (\d\d+:\d\d:\d\d,\d{3})\n((?:[^\n]+\n)+)"
)
VTT_BLOCK = re.compile(
    r"\n(\d+)\n(\d\d+:\d\d:\d\d\.\d{3}) --> (\d\d+:\d\d:\d\d\.\d{3})\n((?:[^\n]+\n)+)"
)


@given(item_streams, styles)
def test_srt_numbers_cues_from_one_with_comma_milliseconds_and_blank_lines_between(items, style):
    rendered = cues(words_of(items), style)

    srt = to_srt(rendered)

    blocks = srt.split("\n\n") if srt else []
    assert len(blocks) == len(rendered)
    for number, (block, cue) in enumerate(zip(blocks, rendered, strict=True), start=1):
        match = SRT_BLOCK.fullmatch(block if block.endswith("\n") else block + "\n")
        assert match, block
        assert int(match[1]) == number
        assert match[4].splitlines() == list(cue.lines)


@given(item_streams, styles)
def test_vtt_has_the_header_and_dot_milliseconds_and_escapes_markup(items, style):
    rendered = cues(words_of(items), style)

    vtt = to_vtt(rendered)

    assert vtt.startswith("WEBVTT\n")
    matches = VTT_BLOCK.findall(vtt)
    assert len(matches) == len(rendered)
    assert "-->" not in "".join(text for *_, text in matches)


def test_timestamps_count_hours_past_a_day():
    cue = Cue(start_ms=90_061_001, end_ms=90_062_000, lines=("late",), words=())

    assert to_srt([cue]) == "1\n25:01:01,001 --> 25:01:02,000\nlate\n"
    assert to_vtt([cue]) == "WEBVTT\n\n1\n25:01:01.001 --> 25:01:02.000\nlate\n"


def test_vtt_escapes_ampersands_and_angle_brackets():
    cue = Cue(start_ms=0, end_ms=1000, lines=("R&D <-> you -->",), words=())

    assert to_vtt([cue]).splitlines()[-1] == "R&amp;D &lt;-&gt; you --&gt;"


def test_no_words_give_an_empty_srt_and_a_vtt_with_only_its_header():
    assert to_srt(cues([], DEFAULT)) == ""
    assert to_vtt(cues([], DEFAULT)) == "WEBVTT\n"
