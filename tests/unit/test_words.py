"""result_words: Transcribe's items -> timed words with punctuation, speaker and channel."""

from __future__ import annotations

from typing import Any

import pytest

from transcribe_pipeline.transcript import TranscriptError
from transcribe_pipeline.words import Word, result_words


def word(content: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "pronunciation",
        "alternatives": [{"confidence": "0.9", "content": content}],
        "start_time": start,
        "end_time": end,
        **extra,
    }


def mark(content: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "punctuation",
        "alternatives": [{"confidence": "0.0", "content": content}],
        **extra,
    }


def document(items: list[Any], **results: Any) -> dict[str, Any]:
    return {"results": {"transcripts": [{"transcript": ""}], "items": items, **results}}


def test_the_sample_result_gives_its_words_with_times_and_confidences(transcribe_output):
    words = result_words(transcribe_output("transcribeResult.json"))

    assert [w.text for w in words] == ["Hello", "world.", "This", "is", "a", "test."]
    assert words[0] == Word("Hello", 0.04, 0.52, confidence=0.999)


def test_speaker_labels_on_items_become_each_words_speaker(transcribe_output):
    words = result_words(transcribe_output("transcribeResultSpeakerLabels.json"))

    assert [(w.text, w.speaker) for w in words] == [
        ("How", "spk_0"),
        ("are", "spk_0"),
        ("you?", "spk_0"),
        ("Fine,", "spk_1"),
        ("thanks.", "spk_1"),
    ]


def test_speaker_labels_only_in_the_segments_are_matched_by_times(transcribe_output):
    # Older results carry the label only in speaker_labels.segments[].items
    result = transcribe_output("transcribeResultSpeakerLabels.json")
    for item in result["results"]["items"]:
        item.pop("speaker_label", None)

    words = result_words(result)

    assert [w.speaker for w in words] == ["spk_0", "spk_0", "spk_0", "spk_1", "spk_1"]


def test_channel_identification_reads_each_channels_items_merged_by_time():
    channels = {
        "channels": [
            {"channel_label": "ch_0", "items": [word("hold", "4.8", "5.0"), mark(".")]},
            {
                "channel_label": "ch_1",
                "items": [word("Sorry", "3.0", "3.5"), mark(","), word("yes", "6.0", "6.2")],
            },
        ]
    }
    # The merged items carry no channel here: the channels' own lists are the ones read
    result = document(
        [word("Sorry", "3.0", "3.5"), word("hold", "4.8", "5.0")], channel_labels=channels
    )

    words = result_words(result)

    assert [(w.text, w.channel) for w in words] == [
        ("Sorry,", "ch_1"),
        ("hold.", "ch_0"),
        ("yes", "ch_1"),
    ]


def test_opening_punctuation_goes_with_the_next_word():
    words = result_words(document([mark("¿"), word("Qué", "0", "1"), mark("?")]))

    assert [w.text for w in words] == ["¿Qué?"]
    assert (words[0].before, words[0].content, words[0].after) == ("¿", "Qué", "?")


def test_punctuation_before_any_word_goes_with_the_first_word():
    words = result_words(document([mark("."), mark(","), word("so", "0", "1")]))

    assert [w.text for w in words] == [".,so"]


def test_punctuation_only_gives_no_words():
    assert result_words(document([mark("."), mark("?")])) == []


def test_an_empty_result_gives_no_words(transcribe_output):
    assert result_words(transcribe_output("transcribeResultSilent.json")) == []


def test_whitespace_inside_a_word_is_collapsed_so_it_cannot_break_a_cue():
    words = result_words(document([word("New\nYork", "0", "1")]))

    assert words[0].content == "New York"


@pytest.mark.parametrize(
    "item",
    [
        {"type": "pronunciation", "alternatives": [{"content": "x"}]},
        word("x", "soon", "1"),
        word("x", "-1", "1"),
        word("x", "nan", "1"),
        {"type": "pronunciation", "start_time": "0", "end_time": "1"},
        "not an item",
    ],
)
def test_a_malformed_item_is_reported_as_a_transcript_error(item):
    with pytest.raises(TranscriptError):
        result_words(document([item]))


def test_a_result_without_results_is_reported_as_a_transcript_error():
    with pytest.raises(TranscriptError):
        result_words({"jobName": "x"})
