"""The readable outputs of profile features: channel roles, toxicity marks, redacted results."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from transcribe_pipeline.profiles import ContentRedaction, JobSettings
from transcribe_pipeline.readable import readable_outputs, transcript_text
from transcribe_pipeline.redaction import ResultFiles, result_files
from transcribe_pipeline.subtitle_style import SubtitleStyle
from transcribe_pipeline.toxicity import TOXIC_THRESHOLD, toxicity_segments
from transcribe_pipeline.transcript import readable_text

KEY = "calls/support/1234.wav"
JOB = "tp-call-0123456789abcdef"
ROLES = ("agent", "customer")
PLAIN = SubtitleStyle()


def outputs_of(result, *, roles=ROLES, formats=("srt",), style=PLAIN):
    return {
        output.key: output
        for output in readable_outputs(
            result,
            source_key=KEY,
            job_name=JOB,
            language_code="en-US",
            subtitle_formats=formats,
            style=style,
            channel_roles=roles,
        )
    }


def document_of(result, **kwargs):
    return json.loads(outputs_of(result, **kwargs)[f"transcripts/{KEY}.json"].body)


# --- channel roles ---------------------------------------------------------------------------


def test_channel_roles_prefix_each_turn_of_the_text(transcribe_output):
    result = transcribe_output("transcribeResultChannelsRedacted.json")

    assert transcript_text(result, channel_roles=ROLES) == (
        "agent: Thanks for calling. Your number please?\ncustomer: It's [PII].\nagent: Thank you.\n"
    )


def test_a_channel_without_a_role_keeps_its_label(transcribe_output):
    result = transcribe_output("transcribeResultChannelsRedacted.json")

    assert transcript_text(result, channel_roles=("agent",)).splitlines()[1] == "ch_1: It's [PII]."


def test_without_roles_the_text_of_a_channel_result_is_as_before(transcribe_output):
    result = transcribe_output("transcribeResultChannels.json")

    assert transcript_text(result) == readable_text(result)


def test_json_turns_and_words_carry_the_channel_and_its_role(transcribe_output):
    document = document_of(transcribe_output("transcribeResultChannels.json"))

    assert [(t["channel"], t["role"], t["text"]) for t in document["turns"]] == [
        ("ch_0", "agent", "Thanks for calling. Your number please?"),
        ("ch_1", "customer", "It's 555 0100."),
        ("ch_0", "agent", "Thank you."),
    ]
    assert {(w["channel"], w["role"]) for w in document["words"]} == {
        ("ch_0", "agent"),
        ("ch_1", "customer"),
    }


def test_subtitle_speaker_prefixes_use_the_role(transcribe_output):
    outputs = outputs_of(
        transcribe_output("transcribeResultChannels.json"),
        style=SubtitleStyle(speaker_prefix=True),
    )

    srt = outputs[f"transcripts/{KEY}.srt"].body.decode()
    assert re.findall(r"^(\w+): ", srt, flags=re.MULTILINE) == ["agent", "customer", "agent"]
    assert "ch_0" not in srt and "ch_1" not in srt


# --- redaction -------------------------------------------------------------------------------


def test_the_json_says_whether_it_was_made_from_a_redacted_result(transcribe_output):
    assert document_of(transcribe_output("transcribeResultChannelsRedacted.json"))["redacted"]
    assert not document_of(transcribe_output("transcribeResultChannels.json"))["redacted"]


def test_a_redacted_result_gives_pii_tags_and_no_digits_in_every_output(transcribe_output):
    result = transcribe_output("transcribeResultChannelsRedacted.json")
    outputs = outputs_of(result, formats=("srt", "vtt"))

    for output in [*outputs.values()]:
        body = output.body.decode()
        assert "[PII]" in body
        assert "555" not in body and "0100" not in body, output.key
    assert "555" not in transcript_text(result, channel_roles=ROLES)


def test_a_job_without_redaction_is_read_from_its_own_result():
    assert result_files(JOB, {}, JobSettings()) == ResultFiles(f"{JOB}.json")


def test_a_redacting_job_is_read_from_transcribes_redacted_result_only():
    job = {"ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted"}}

    assert result_files(JOB, job, JobSettings()) == ResultFiles(f"redacted-{JOB}.json", None)


def test_with_both_outputs_the_unredacted_result_is_copied_too():
    job = {"ContentRedaction": {"RedactionOutput": "redacted_and_unredacted"}}

    assert result_files(JOB, job, JobSettings()) == ResultFiles(
        f"redacted-{JOB}.json", f"{JOB}.json"
    )


def test_a_description_without_content_redaction_follows_the_profile():
    profile = JobSettings(content_redaction=ContentRedaction(output="redacted_and_unredacted"))

    assert result_files(JOB, {"TranscriptionJobName": JOB}, profile).readable == (
        f"redacted-{JOB}.json"
    )


# --- toxicity --------------------------------------------------------------------------------


def test_the_text_marks_each_toxic_segment_before_its_first_word(transcribe_output):
    result = transcribe_output("transcribeResultToxicity.json")

    assert transcript_text(result) == (
        "Good game everyone. [toxic 0.76: profanity] What the heck was that move? "
        "Let's play again.\n"
    )


def test_the_json_keeps_every_segments_scores(transcribe_output):
    document = document_of(transcribe_output("transcribeResultToxicity.json"), roles=())

    assert [(s["text"], s["toxicity"], s["flagged"]) for s in document["toxicity"]] == [
        ("Good game everyone.", 0.0128, False),
        ("What the heck was that move?", 0.7638, True),
        ("Let's play again.", 0.0061, False),
    ]
    assert document["toxicity"][1]["categories"]["insult"] == 0.6572
    assert (document["toxicity"][1]["start"], document["toxicity"][1]["end"]) == (2.5, 3.9)


def test_without_toxicity_detection_the_json_says_null(transcribe_output):
    assert document_of(transcribe_output("transcribeResult.json"), roles=())["toxicity"] is None


def test_marks_go_on_the_turn_lines_of_speaker_labels(transcribe_output):
    result = transcribe_output("transcribeResultToxicity.json")
    for index, item in enumerate(result["results"]["items"]):
        item["speaker_label"] = "spk_0" if index < 4 else "spk_1"

    assert transcript_text(result).splitlines() == [
        "spk_0: Good game everyone.",
        "spk_1: [toxic 0.76: profanity] What the heck was that move? Let's play again.",
    ]


MARK = re.compile(r"\[toxic \d\.\d\d(?:: \w+)?\] ?")


def result_with(words, segments):
    """A result document of ``words`` (text, start) and toxicity ``segments`` (start, score)."""
    items = [
        {
            "type": "pronunciation",
            "alternatives": [{"confidence": "0.9", "content": text}],
            "start_time": str(start),
            "end_time": str(start + 0.1),
        }
        for text, start in words
    ]
    return {
        "results": {
            "transcripts": [{"transcript": " ".join(text for text, _ in words)}],
            "items": items,
            "toxicity_detection": [
                {
                    "text": "",
                    "toxicity": score,
                    "categories": {"insult": score},
                    "start_time": start,
                    "end_time": start + 1,
                }
                for start, score in segments
            ],
        }
    }


@given(
    st.lists(
        st.tuples(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.integers(0, 500)),
        max_size=30,
    ).map(lambda ws: sorted(ws, key=lambda w: w[1])),
    st.lists(st.tuples(st.integers(0, 520), st.floats(0, 1)), max_size=8),
)
def test_marks_add_one_flag_per_toxic_segment_and_change_no_word(words, segments):
    timed = [(text, start / 10) for text, start in words]
    result = result_with(timed, [(start / 10, score) for start, score in segments])

    text = transcript_text(result)

    flagged = [s for s in toxicity_segments(result) or [] if s.toxicity >= TOXIC_THRESHOLD]
    assert len(MARK.findall(text)) == (len(flagged) if words else 0)
    assert MARK.sub("", text).split() == [word for word, _ in timed]
