"""readable_outputs: the styled subtitles and the words-and-turns JSON of one result."""

from __future__ import annotations

import json

import pytest

from transcribe_pipeline.readable import SCHEMA_VERSION, readable_outputs, transcript_document
from transcribe_pipeline.subtitle_style import SubtitleStyle
from transcribe_pipeline.transcript import TranscriptError
from transcribe_pipeline.words import Word, result_words

KEY = "talks/my talk.mp3"


def outputs_of(result, formats=("srt", "vtt")):
    return {
        output.key: output
        for output in readable_outputs(
            result,
            source_key=KEY,
            job_name="tp-my-talk-0123456789abcdef",
            language_code="en-US",
            subtitle_formats=formats,
            style=SubtitleStyle(),
        )
    }


def test_each_configured_format_and_the_json_go_under_the_transcript_keys(transcribe_output):
    outputs = outputs_of(transcribe_output("transcribeResult.json"), formats=("vtt",))

    assert sorted(outputs) == [f"transcripts/{KEY}.json", f"transcripts/{KEY}.vtt"]
    assert outputs[f"transcripts/{KEY}.vtt"].content_type == "text/vtt; charset=utf-8"
    assert outputs[f"transcripts/{KEY}.json"].content_type == "application/json"


def test_the_json_names_its_schema_source_job_and_language(transcribe_output):
    outputs = outputs_of(transcribe_output("transcribeResult.json"))

    document = json.loads(outputs[f"transcripts/{KEY}.json"].body)

    assert document["schema_version"] == SCHEMA_VERSION == 1
    assert document["source_key"] == KEY
    assert document["job_name"] == "tp-my-talk-0123456789abcdef"
    assert document["language_code"] == "en-US"
    assert document["transcript"] == "Hello world. This is a test."


def test_the_json_of_a_multi_language_result_names_each_language_and_its_seconds(
    transcribe_output,
):
    result = transcribe_output("transcribeResult.json")
    result["results"]["language_codes"] = [
        {"language_code": "es-US", "duration_in_seconds": 6.21},
        {"language_code": "en-US", "duration_in_seconds": 5.5},
    ]

    outputs = {
        output.key: output
        for output in readable_outputs(
            result,
            source_key=KEY,
            job_name="j",
            language_code=None,  # a multi-language job has LanguageCodes, no LanguageCode
            subtitle_formats=(),
            style=SubtitleStyle(),
        )
    }
    document = json.loads(outputs[f"transcripts/{KEY}.json"].body)

    assert document["language_code"] is None
    assert document["language_codes"] == [
        {"language_code": "es-US", "duration_in_seconds": 6.21},
        {"language_code": "en-US", "duration_in_seconds": 5.5},
    ]


def test_the_json_of_a_single_language_result_has_no_language_codes(transcribe_output):
    outputs = outputs_of(transcribe_output("transcribeResult.json"))

    document = json.loads(outputs[f"transcripts/{KEY}.json"].body)

    assert document["language_codes"] is None


def test_malformed_language_codes_are_a_transcript_error_naming_the_field(transcribe_output):
    result = transcribe_output("transcribeResult.json")
    result["results"]["language_codes"] = {"language_code": "es-US"}

    with pytest.raises(TranscriptError, match=r"results\.language_codes"):
        outputs_of(result)


def test_without_labels_the_json_has_one_turn_of_every_word(transcribe_output):
    outputs = outputs_of(transcribe_output("transcribeResult.json"))

    document = json.loads(outputs[f"transcripts/{KEY}.json"].body)

    assert document["turns"] == [
        {
            "speaker": None,
            "channel": None,
            "role": None,
            "start": 0.04,
            "end": 2.3,
            "text": "Hello world. This is a test.",
            "first_word": 0,
            "last_word": 5,
        }
    ]
    assert len(document["words"]) == 6


def test_turns_change_with_the_channel():
    words = [
        Word("I've", 4.86, 5.01, confidence=1.0, channel="ch_0"),
        Word("waited.", 5.01, 5.5, confidence=0.9, channel="ch_0"),
        Word("Sorry.", 8.5, 8.89, confidence=0.8, channel="ch_1"),
    ]

    document = transcript_document(words, source_key=KEY, job_name="j", language_code=None)

    assert [
        (t["channel"], t["text"], t["first_word"], t["last_word"]) for t in document["turns"]
    ] == [
        ("ch_0", "I've waited.", 0, 1),
        ("ch_1", "Sorry.", 2, 2),
    ]
    assert document["words"][2] == {
        "content": "Sorry.",
        "text": "Sorry.",
        "start": 8.5,
        "end": 8.89,
        "confidence": 0.8,
        "speaker": None,
        "channel": "ch_1",
        "role": None,
    }


def test_a_silent_result_gives_empty_subtitles_and_a_json_without_words(transcribe_output):
    outputs = outputs_of(transcribe_output("transcribeResultSilent.json"))

    assert outputs[f"transcripts/{KEY}.srt"].body == b""
    assert outputs[f"transcripts/{KEY}.vtt"].body == b"WEBVTT\n"
    document = json.loads(outputs[f"transcripts/{KEY}.json"].body)
    assert (document["transcript"], document["turns"], document["words"]) == ("", [], [])


def test_the_json_keeps_non_ascii_text_readable():
    result = {
        "results": {
            "transcripts": [{"transcript": "café"}],
            "items": [
                {
                    "type": "pronunciation",
                    "alternatives": [{"confidence": "0.9", "content": "café"}],
                    "start_time": "0.1",
                    "end_time": "0.5",
                }
            ],
        }
    }

    body = outputs_of(result)[f"transcripts/{KEY}.json"].body

    assert "café".encode() in body
    assert [w.text for w in result_words(result)] == ["café"]
