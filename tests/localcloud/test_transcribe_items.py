"""Whisper's words as Transcribe items, documents and subtitles; windows over long media."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localcloud.transcribe_items import (
    TOXICITY_CATEGORIES,
    Item,
    RecognizedWord,
    Window,
    build_document,
    cues,
    items_from_words,
    merge_channels,
    merge_windows,
    plan_windows,
    to_srt,
    to_vtt,
    transcript_text,
)


def words(*specs: str, step: float = 0.5) -> list[RecognizedWord]:
    """Whisper-style words, one every `step` seconds, probability 0.9."""
    return [
        RecognizedWord(text, n * step, n * step + step * 0.8, 0.9) for n, text in enumerate(specs)
    ]


def contents(items: list[Item]) -> list[tuple[str, str]]:
    return [(item.kind[:4], item.content) for item in items]


def test_leading_spaces_go_and_attached_punctuation_becomes_punctuation_items() -> None:
    items = items_from_words(words(" Hello,", " world."))

    assert contents(items) == [("pron", "Hello"), ("punc", ","), ("pron", "world"), ("punc", ".")]


def test_pronunciation_items_keep_their_times_and_confidence_and_marks_have_none() -> None:
    items = items_from_words([RecognizedWord(" Hi!", 0.25, 0.5, 0.875)])

    assert items[0] == Item("pronunciation", "Hi", 0.25, 0.5, 0.875)
    assert items[1].kind == "punctuation"
    assert (items[1].start, items[1].end, items[1].confidence) == (None, None, 0.0)


@pytest.mark.parametrize(
    "fragments",
    [(" well", "-known"), (" well-", "known"), (" well", "-", "known")],
    ids=["hyphen-opens-second", "hyphen-ends-first", "hyphen-alone"],
)
def test_hyphen_fragments_merge_into_one_word_spanning_both(fragments: tuple[str, ...]) -> None:
    pieces = words(*fragments, " fact.")
    pieces[1] = RecognizedWord(pieces[1].text, pieces[1].start, pieces[1].end, 0.5)

    items = items_from_words(pieces)

    assert contents(items) == [("pron", "well-known"), ("pron", "fact"), ("punc", ".")]
    assert items[0].start == pieces[0].start
    assert items[0].end == pieces[len(fragments) - 1].end
    assert items[0].confidence == 0.5  # the least sure fragment


def test_a_fragment_without_a_leading_space_continues_the_previous_word() -> None:
    items = items_from_words(words(" Mc", "Donald's", " farm"))

    assert [i.content for i in items] == ["McDonald's", "farm"]


def test_a_dash_between_spaces_is_not_a_word() -> None:
    items = items_from_words(words(" I", " -", " I", " think."))

    assert transcript_text(items) == "I I think."


def test_quotes_and_brackets_are_dropped_as_transcribe_writes_none() -> None:
    items = items_from_words(words(' "Hello', " (there)", ' friend."'))

    assert transcript_text(items) == "Hello there friend."


def test_runs_of_one_mark_give_one_item_and_an_ellipsis_a_full_stop() -> None:
    assert transcript_text(items_from_words(words(" Wait...", " no…"))) == "Wait. no."


def test_internal_apostrophes_and_decimal_points_stay_inside_the_word() -> None:
    assert [i.content for i in items_from_words(words(" don't", " 3.5"))] == ["don't", "3.5"]


def test_spanish_opening_marks_stand_before_their_word_in_the_transcript() -> None:
    items = items_from_words(words(" Hola.", " ¿Dónde", " está?"))

    assert contents(items)[2] == ("punc", "¿")
    assert transcript_text(items) == "Hola. ¿Dónde está?"


def test_unspaced_languages_keep_each_word_and_join_them_without_spaces() -> None:
    items = items_from_words(words("今日", "は", "晴れ", "です。"), spaced=False)

    assert [i.content for i in items] == ["今日", "は", "晴れ", "です", "。"]
    assert transcript_text(items) == "今日は晴れです。"


def test_marks_before_the_first_word_are_dropped() -> None:
    assert contents(items_from_words(words(" ...", " Yes."))) == [("pron", "Yes"), ("punc", ".")]


def test_language_code_is_stamped_on_every_item_when_given() -> None:
    items = items_from_words(words(" Hola."), language_code="es-US")

    assert {i.language_code for i in items} == {"es-US"}
    assert items[0].to_json(0)["language_code"] == "es-US"


# Whisper's words: an optional leading space, then letters and marks without spaces.
_WORD = st.builds(
    lambda space, text: " " * space + text,
    st.booleans(),
    st.text(alphabet="abcXYZ'-.,?!¿\"(", min_size=1, max_size=8),
)


@given(st.lists(_WORD, max_size=30))
def test_no_letter_is_lost_or_invented_and_words_carry_no_space_or_mark(texts: list[str]) -> None:
    items = items_from_words(words(*texts))

    letters = "".join(c for t in texts for c in t if c.isalpha())
    assert "".join(c for i in items for c in i.content if c.isalpha()) == letters
    for item in items:
        if item.kind == "pronunciation":
            assert item.content == item.content.strip()
            assert item.content[-1] not in '.,?!"(' and item.content[0] not in '.,?!¿"('
        else:
            assert item.content in {".", ",", "?", "!", "¿"}


@given(st.lists(_WORD, max_size=30))
def test_pronunciation_times_never_go_backwards(texts: list[str]) -> None:
    timed = [i for i in items_from_words(words(*texts)) if i.kind == "pronunciation"]

    for before, after in itertools.pairwise(timed):
        assert before.start is not None and before.end is not None and after.start is not None
        assert before.start <= before.end <= after.start


def test_document_has_transcribes_schema_with_string_times_and_consecutive_ids() -> None:
    items = items_from_words(words(" Hello", " there.", " Bye."))

    document = build_document("job", "123456789012", items)

    results = document["results"]
    assert document["status"] == "COMPLETED"
    assert results["transcripts"] == [{"transcript": "Hello there. Bye."}]
    assert [i["id"] for i in results["items"]] == list(range(len(items)))
    assert results["items"][0]["start_time"] == "0.0"
    assert results["items"][2] == {
        "id": 2,
        "type": "punctuation",
        "alternatives": [{"confidence": "0.0", "content": "."}],
    }
    assert [s["transcript"] for s in results["audio_segments"]] == ["Hello there.", "Bye."]
    assert "language_identification" not in results and "language_code" not in results


def test_document_reports_identification_scores_and_languages_when_given() -> None:
    results = build_document(
        "job",
        "123456789012",
        items_from_words(words(" Hola.")),
        language_code="es-US",
        language_identification=[("es-US", 0.98765), ("en-US", 0.01235)],
        language_codes=[("es-US", 1.25)],
    )["results"]

    assert results["language_code"] == "es-US"
    assert results["language_identification"] == [
        {"score": "0.9877", "code": "es-US"},
        {"score": "0.0123", "code": "en-US"},
    ]
    assert results["language_codes"] == [{"language_code": "es-US", "duration_in_seconds": 1.25}]


def test_subtitle_cues_end_at_sentences_and_carry_the_punctuation() -> None:
    items = items_from_words(words(" Hello", " there.", " Bye", " now."))

    assert [(c.start, c.text) for c in cues(items)] == [(0.0, "Hello there."), (1.0, "Bye now.")]


def test_long_sentences_are_split_into_cues_of_at_most_twelve_words() -> None:
    items = items_from_words(words(*[f" w{n}" for n in range(30)], step=0.2))

    assert [len(c.text.split()) for c in cues(items)] == [12, 12, 6]


def test_srt_and_vtt_number_cues_from_the_start_index() -> None:
    items = items_from_words(words(" Hello.", " Bye."))

    assert to_srt(items, 1).startswith("1\n00:00:00,000 --> 00:00:00,400\nHello.\n\n2\n")
    assert to_vtt(items).startswith("WEBVTT\n\n0\n00:00:00.000 --> 00:00:00.400\nHello.\n")


def test_short_media_is_one_window_keeping_everything() -> None:
    assert plan_windows(0, 42, window_seconds=300, overlap_seconds=5) == [
        Window(0, 42, -math.inf, math.inf)
    ]


def test_long_media_windows_overlap_and_their_keep_ranges_meet_exactly() -> None:
    windows = plan_windows(0, 900, window_seconds=300, overlap_seconds=5)

    assert [(w.start, w.end) for w in windows] == [(0, 305), (295, 605), (595, 900)]
    assert [(w.keep_start, w.keep_end) for w in windows] == [
        (-math.inf, 300),
        (300, 600),
        (600, math.inf),
    ]


@given(
    gaps=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=80),
    lengths=st.lists(st.floats(0.05, 2.0), min_size=80, max_size=80),
    window=st.floats(4.0, 60.0),
    edge_noise=st.booleans(),
)
def test_merged_windows_give_every_word_once_when_the_overlap_exceeds_a_word(
    gaps: list[float], lengths: list[float], window: float, edge_noise: bool
) -> None:
    truth: list[tuple[float, float]] = []
    at = 0.0
    for gap, length in zip(gaps, lengths, strict=False):
        truth.append((at + gap, at + gap + length))
        at += gap + length
    duration = at + 0.5
    windows = plan_windows(0, duration, window_seconds=window, overlap_seconds=2.0)

    def recognize(w: Window) -> list[tuple[float, float]]:
        # A window hears the words wholly inside it; words cut by its edges come out mangled.
        heard = [t for t in truth if w.start <= t[0] and t[1] <= w.end]
        if edge_noise:
            heard += [(w.start, w.start + 0.3), (max(w.start, w.end - 0.3), w.end)]
        return sorted(heard)

    merged = merge_windows([(w, recognize(w)) for w in windows], lambda t: t)

    assert [t for t in merged if t in truth] == truth
    if not edge_noise:
        assert merged == truth


def test_silence_gives_an_empty_transcript_and_valid_subtitle_files_without_cues() -> None:
    results = build_document("quiet", "1", [])["results"]

    assert results == {"transcripts": [{"transcript": ""}], "items": [], "audio_segments": []}
    assert to_srt([]) == ""
    assert to_vtt([]) == "WEBVTT\n"


def test_subtitle_timestamps_carry_hours_and_round_to_milliseconds() -> None:
    items = [Item.pronunciation("late", 3723.4564, 3725.0014, 1.0)]

    assert "01:02:03,456 --> 01:02:05,001" in to_srt(items)
    assert "01:02:03.456 --> 01:02:05.001" in to_vtt(items)


def test_slow_speech_is_split_into_cues_of_at_most_seven_seconds() -> None:
    items = items_from_words(words(*[f" w{n}" for n in range(12)], step=0.9))

    result = cues(items)

    assert all(c.end - c.start <= 7.0 for c in result)
    assert sum(len(c.text.split()) for c in result) == 12


@given(st.lists(_WORD, max_size=40), st.floats(0.05, 1.5))
def test_cues_keep_every_item_in_order_within_the_size_limits(
    texts: list[str], step: float
) -> None:
    items = items_from_words(words(*texts, step=step))

    result = cues(items)

    assert " ".join(c.text for c in result) == transcript_text(items)
    for cue in result:
        count = len(cue.text.split())
        assert count <= 12
        assert count == 1 or cue.end - cue.start <= 7.0


# --- channels, toxicity, redaction in the document ---------------------------------------


def _channel(label: str, *timed: tuple[str, float]) -> list[Item]:
    items: list[Item] = []
    for word, start in timed:
        if word in {".", ","}:
            items.append(Item("punctuation", word, space_before=False, channel_label=label))
        else:
            items.append(Item.pronunciation(word, start, start + 0.3, 0.9, channel_label=label))
    return items


def test_merge_channels_orders_words_by_time_and_keeps_marks_with_their_words() -> None:
    agent = _channel("ch_0", ("Hello", 0.0), (".", 0), ("Bye", 3.0), (".", 0))
    caller = _channel("ch_1", ("Hi", 1.0), (",", 0), ("thanks", 1.5), (".", 0))

    merged = merge_channels([agent, caller])

    assert [(i.content, i.channel_label) for i in merged] == [
        ("Hello", "ch_0"),
        (".", "ch_0"),
        ("Hi", "ch_1"),
        (",", "ch_1"),
        ("thanks", "ch_1"),
        (".", "ch_1"),
        ("Bye", "ch_0"),
        (".", "ch_0"),
    ]


def test_a_channel_document_groups_items_per_channel_and_merges_them_in_results_items() -> None:
    merged = merge_channels(
        [
            _channel("ch_0", ("Hello", 0.0), (".", 0)),
            _channel("ch_1", ("Hi", 1.0), ("there", 1.4), (".", 0)),
        ]
    )

    results = build_document("job", "123", merged, number_of_channels=2)["results"]

    channels = results["channel_labels"]["channels"]
    assert results["channel_labels"]["number_of_channels"] == 2
    assert [c["channel_label"] for c in channels] == ["ch_0", "ch_1"]
    assert [i["alternatives"][0]["content"] for i in channels[1]["items"]] == ["Hi", "there", "."]
    assert all(i["channel_label"] == "ch_1" for i in channels[1]["items"])
    assert [i["channel_label"] for i in results["items"]] == [
        "ch_0",
        "ch_0",
        "ch_1",
        "ch_1",
        "ch_1",
    ]
    assert results["transcripts"] == [{"transcript": "Hello. Hi there."}]
    assert [(s["transcript"], s["channel_label"]) for s in results["audio_segments"]] == [
        ("Hello.", "ch_0"),
        ("Hi there.", "ch_1"),
    ]


def test_a_mono_file_with_channel_identification_has_one_channel() -> None:
    items = _channel("ch_0", ("Hello", 0.0))

    labels = build_document("job", "123", items, number_of_channels=1)["results"]["channel_labels"]

    assert labels["number_of_channels"] == 1
    assert [c["channel_label"] for c in labels["channels"]] == ["ch_0"]


def test_toxicity_detection_scores_every_segment_zero_in_each_of_the_seven_categories() -> None:
    items = _channel("ch_0", ("Hello", 0.0), (".", 0), ("Bye", 2.0), (".", 0))

    toxicity = build_document("job", "123", items, toxicity_scores=True)["results"][
        "toxicity_detection"
    ]

    assert [t["text"] for t in toxicity] == ["Hello.", "Bye."]
    assert toxicity[1]["start_time"] == 2.0 and toxicity[1]["end_time"] == 2.3
    assert all(t["toxicity"] == 0.0 for t in toxicity)
    assert set(toxicity[0]["categories"]) == set(TOXICITY_CATEGORIES)
    assert len(TOXICITY_CATEGORIES) == 7


def test_a_redaction_document_says_whether_it_is_redacted() -> None:
    assert build_document("job", "1", [], is_redacted=True)["isRedacted"] is True
    assert build_document("job", "1", [], is_redacted=False)["isRedacted"] is False
    assert "isRedacted" not in build_document("job", "1", [])


def test_merge_channels_orders_a_word_followed_by_a_mark_by_the_words_own_start() -> None:
    agent = _channel("ch_0", ("Later", 5.0), (".", 0), ("Bye", 6.0))
    caller = _channel("ch_1", ("Hi", 1.0))

    merged = merge_channels([agent, caller])

    assert [i.content for i in merged] == ["Hi", "Later", ".", "Bye"]
