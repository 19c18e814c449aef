"""readable_text: Transcribe's result JSON -> plain text, or TranscriptError if malformed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transcribe_pipeline.transcript import TranscriptError, readable_text

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
item_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["pronunciation", "punctuation"]) | json_values,
        "speaker_label": st.sampled_from(["spk_0", "spk_1"]) | json_values,
        "alternatives": st.lists(
            st.fixed_dictionaries({}, optional={"content": json_values}) | json_values,
            max_size=2,
        )
        | json_values,
    },
)
# Documents that look like Transcribe's more or less closely, to reach every branch.
transcribe_like = st.fixed_dictionaries(
    {},
    optional={
        "results": st.fixed_dictionaries(
            {},
            optional={
                "transcripts": st.lists(
                    st.fixed_dictionaries({}, optional={"transcript": json_values}) | json_values,
                    max_size=2,
                )
                | json_values,
                "items": st.lists(item_like | json_values, max_size=4) | json_values,
            },
        )
        | json_values,
    },
)


def test_a_transcript_is_its_text_on_one_line(transcribe_output):
    result = transcribe_output("transcribeResult.json")

    assert readable_text(result) == "Hello world. This is a test.\n"


def test_silent_media_gives_an_empty_transcript(transcribe_output):
    result = transcribe_output("transcribeResultSilent.json")

    assert readable_text(result) == ""


def test_a_result_with_no_transcripts_at_all_gives_an_empty_transcript(transcribe_output):
    result = transcribe_output("transcribeResultSilent.json")
    result["results"]["transcripts"] = []

    assert readable_text(result) == ""


def test_labelled_speakers_give_one_line_per_turn_with_punctuation_attached(transcribe_output):
    result = transcribe_output("transcribeResultSpeakerLabels.json")

    assert readable_text(result) == "spk_0: How are you?\nspk_1: Fine, thanks.\n"


def test_a_speaker_speaking_again_after_another_starts_a_new_line(transcribe_output):
    result = transcribe_output("transcribeResultSpeakerLabels.json")
    again = {**result["results"]["items"][0], "speaker_label": "spk_0"}
    result["results"]["items"].append(again)

    assert readable_text(result).splitlines()[-1] == "spk_0: How"


def test_a_word_without_a_speaker_label_stays_with_the_current_speaker(transcribe_output):
    result = transcribe_output("transcribeResultSpeakerLabels.json")
    del result["results"]["items"][1]["speaker_label"]

    assert readable_text(result).splitlines()[0] == "spk_0: How are you?"


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        "transcript",
        {},
        {"results": []},
        {"results": {}},
        {"results": {"transcripts": "Hello"}},
        {"results": {"transcripts": [{"transcript": "Hi"}], "items": "Hi"}},
        {"results": {"transcripts": [{"transcript": None}]}},
        {"results": {"transcripts": [{"transcript": 42}]}},
        {"results": {"transcripts": [], "items": [{"speaker_label": "spk_0"}]}},
        {
            "results": {
                "transcripts": [],
                "items": [{"speaker_label": "spk_0", "alternatives": []}],
            }
        },
    ],
    ids=[
        "null",
        "a list",
        "a string",
        "no results",
        "results not an object",
        "no transcripts",
        "transcripts not a list",
        "items not a list",
        "transcript null",
        "transcript a number",
        "item without alternatives",
        "item with empty alternatives",
    ],
)
def test_a_document_not_in_transcribes_shape_raises_transcript_error(document):
    with pytest.raises(TranscriptError):
        readable_text(document)


@given(document=transcribe_like | json_values)
def test_any_json_document_gives_text_or_a_transcript_error_and_nothing_else(document):
    try:
        text = readable_text(document)
    except TranscriptError:
        return

    assert isinstance(text, str)
    assert text == "" or text.endswith("\n")
