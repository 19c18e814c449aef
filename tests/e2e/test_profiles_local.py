"""The README's worked profiles example, deployed to the local cloud, gives what the README says.

The profiles are read from the README's own JSON block, so the example there is the one proven:
two-channel calls with channel roles and PII redaction (redacted and unredacted), lectures with
speaker labels, a language model and a subtitle style, and a multilingual folder with a
vocabulary per language. The vocabularies, the filter and the language model the example names
are created first, as the README says to, since the deploy-time check refuses missing ones.
One deployment serves every test of the module.
"""

from __future__ import annotations

import io
import json
import re
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from localcloud.asr import decode_to_pcm16k
from localcloud.deployment import (
    ACCOUNT,
    ROOT,
    LocalEndpoint,
    Outcome,
    deploy,
    destroy,
    wait_for_outcome,
)
from localcloud.wer import wer
from tests.e2e.support import srt_cues, vtt_cues, wait_until_empty
from transcribe_pipeline.layout import (
    job_result_key,
    redacted_result_key,
    transcript_key,
    unredacted_key,
)
from transcribe_pipeline.stack_outputs import StackOutputs
from transcribe_pipeline.subtitle_style import SubtitleStyle, style_from_mapping

# A deployment of its own (the profiles are deploy-time context) on a local cloud of its own.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-profiles")]

SAMPLES = ROOT / "samples"
SPEC = json.loads((SAMPLES / "texts.json").read_text())
TEXTS = {clip["name"]: clip["text"] for clip in [*SPEC["clips"], *SPEC["pii"]]}
SPANISH = SPEC["non_english"][0]
RATE = 16_000
# The agent greets on the left channel; the customer, on the right, then gives a phone number.
CALL = "calls/2024-05-01/4711.wav"
CALLBACK = "calls/2024-05-02/callback.mp3"
LECTURE = "lectures/week-1/welcome.mp3"
MULTILINGUAL = "multilingual/mercado-then-weather.wav"
ELSEWHERE = "interviews/weather.flac"
KEYS = (CALL, CALLBACK, LECTURE, MULTILINGUAL, ELSEWHERE)
# The digits of the phone number spoken in samples/callback.mp3.
PHONE_DIGITS = "5552124367"
MAX_WER = 0.15
WAIT_SECONDS = 240


def readme_profiles() -> list[dict[str, Any]]:
    """The profiles of the README's worked example (the first JSON block under "Profiles")."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("\n### Profiles\n", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block, "no JSON block in the README's Profiles section"
    profiles: list[dict[str, Any]] = json.loads("{" + block.group(1) + "}")["profiles"]
    return profiles


PROFILES = {profile["prefix"]: profile for profile in readme_profiles()}


def _create_named_resources(endpoint: LocalEndpoint) -> None:
    """The vocabularies, vocabulary filter and language model the example names, ready."""
    transcribe = endpoint.client("transcribe")
    calls, lectures = PROFILES["calls/"], PROFILES["lectures/"]
    transcribe.create_vocabulary_filter(
        VocabularyFilterName=calls["vocabulary_filter_name"],
        LanguageCode=calls["language"],
        Words=["darn", "heck"],
    )
    transcribe.create_language_model(
        LanguageCode=lectures["language"],
        BaseModelName="WideBand",
        ModelName=lectures["language_model_name"],
        InputDataConfig={
            "S3Uri": "s3://training-data/physics-lectures/",
            "DataAccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/language-model-training",
        },
    )
    per_language = PROFILES["multilingual/"]["language_id_settings"]
    for language, settings in per_language.items():
        transcribe.create_vocabulary(
            VocabularyName=settings["vocabulary_name"],
            LanguageCode=language,
            Phrases=["Transcribe"],
        )
    for settings in per_language.values():
        transcribe.get_waiter("vocabulary_ready").wait(
            VocabularyName=settings["vocabulary_name"], WaiterConfig={"Delay": 1}
        )


@pytest.fixture(scope="module")
def pipeline(endpoint: LocalEndpoint, cdk_out: Path) -> Iterator[StackOutputs]:
    """The stack deployed with the README's profiles; destroyed afterwards."""
    _create_named_resources(endpoint)
    context = {"profiles": json.dumps(list(PROFILES.values()))}
    outputs = deploy(endpoint, context=context, output_dir=cdk_out)
    try:
        yield outputs
    finally:
        destroy(endpoint, output_dir=cdk_out)


def _wav(channels: list[bytes]) -> bytes:
    """A 16 kHz WAV of one or two s16le signals, the shorter padded with silence."""
    frames = max(len(pcm) for pcm in channels) // 2
    samples = np.zeros((frames, len(channels)), dtype=np.int16)
    for channel, pcm in enumerate(channels):
        signal = np.frombuffer(pcm, dtype=np.int16)
        samples[: len(signal), channel] = signal
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(len(channels))
        file.setsampwidth(2)
        file.setframerate(RATE)
        file.writeframes(samples.tobytes())
    return out.getvalue()


def _silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(RATE * seconds)


def _media() -> dict[str, bytes]:
    """Each key's media: built calls and recordings, or a sample as shipped."""
    agent, agent_seconds = decode_to_pcm16k(SAMPLES / "hello-pipeline.wav")
    customer, _ = decode_to_pcm16k(SAMPLES / "callback.mp3")
    spanish, _ = decode_to_pcm16k(SAMPLES / f"{SPANISH['name']}.mp3")
    english, _ = decode_to_pcm16k(SAMPLES / "weather.flac")
    return {
        CALL: _wav([agent, _silence(agent_seconds + 1) + customer]),
        CALLBACK: (SAMPLES / "callback.mp3").read_bytes(),
        LECTURE: (SAMPLES / "hello-pipeline.mp3").read_bytes(),
        MULTILINGUAL: _wav([spanish + _silence(1) + english]),
        ELSEWHERE: (SAMPLES / "weather.flac").read_bytes(),
    }


@pytest.fixture(scope="module")
def outcomes(endpoint: LocalEndpoint, pipeline: StackOutputs) -> dict[str, Outcome]:
    """Upload every key at once, then wait for each one's transcript or failure record."""
    s3 = endpoint.client("s3")
    for key, body in _media().items():
        s3.put_object(Bucket=pipeline.input_bucket, Key=key, Body=body)
    deadline = time.monotonic() + WAIT_SECONDS
    done = {
        key: wait_for_outcome(
            s3, pipeline.output_bucket, key, timeout=max(1.0, deadline - time.monotonic())
        )
        for key in KEYS
    }
    wait_until_empty(endpoint.client("sqs"), pipeline.start_queue_url, timeout=60)
    return done


class Results:
    """Reads the output bucket and the jobs of the deployed pipeline."""

    def __init__(self, endpoint: LocalEndpoint, pipeline: StackOutputs) -> None:
        self.s3 = endpoint.client("s3")
        self.transcribe = endpoint.client("transcribe")
        self.bucket = pipeline.output_bucket

    def text(self, key: str) -> str:
        """The object's body as UTF-8 text."""
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return str(body.decode("utf-8"))

    def document(self, key: str) -> dict[str, Any]:
        """The object's body as JSON."""
        loaded: dict[str, Any] = json.loads(self.text(key))
        return loaded

    def exists(self, key: str) -> bool:
        """Whether the output bucket holds the key."""
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key)
        return any(item["Key"] == key for item in listed.get("Contents", []))

    def job_name(self, source_key: str) -> str:
        """The job that made the key's readable outputs."""
        return str(self.document(transcript_key(source_key, "json"))["job_name"])

    def job(self, source_key: str) -> dict[str, Any]:
        """GetTranscriptionJob of the key's job."""
        name = self.job_name(source_key)
        answer = self.transcribe.get_transcription_job(TranscriptionJobName=name)
        job: dict[str, Any] = answer["TranscriptionJob"]
        return job


@pytest.fixture(scope="module")
def results(
    endpoint: LocalEndpoint, pipeline: StackOutputs, outcomes: dict[str, Outcome]
) -> Results:
    """The outputs, once every upload has one."""
    return Results(endpoint, pipeline)


@pytest.mark.parametrize("key", KEYS)
def test_every_upload_is_transcribed(outcomes: dict[str, Outcome], key: str) -> None:
    assert outcomes[key].failure is None, outcomes[key].failure
    assert outcomes[key].transcript


def test_a_call_has_one_line_per_turn_named_by_its_channel_role(results: Results) -> None:
    lines = results.text(transcript_key(CALL, "txt")).splitlines()

    assert [line.split(": ", 1)[0] for line in lines] == ["agent", "customer"]
    agent = lines[0].removeprefix("agent: ")
    assert wer(TEXTS["hello-pipeline"], agent) <= MAX_WER, agent
    assert lines[1].startswith("customer: Thank you for calling."), lines[1]


def test_a_call_json_labels_each_turn_with_its_channel_and_role(results: Results) -> None:
    document = results.document(transcript_key(CALL, "json"))

    turns = [(turn["channel"], turn["role"]) for turn in document["turns"]]
    assert turns == [("ch_0", "agent"), ("ch_1", "customer")]
    assert {(w["channel"], w["role"]) for w in document["words"]} == set(turns)


@pytest.mark.parametrize("key", [CALL, CALLBACK])
def test_the_phone_number_of_a_call_is_pii_in_its_readable_transcripts(
    results: Results, key: str
) -> None:
    text = results.text(transcript_key(key, "txt"))
    document = results.document(transcript_key(key, "json"))

    assert "[PII]" in text and not re.search(r"\d", text), text
    assert document["redacted"] is True
    assert "[PII]" in document["transcript"]
    spoken = [value for word in document["words"] for value in (word["content"], word["text"])]
    assert "[PII]" in spoken
    assert not re.search(r"\d", " ".join([document["transcript"], *spoken]))


def test_calls_get_no_subtitles_since_their_profile_asks_for_none(results: Results) -> None:
    job_name = results.job_name(CALL)
    subtitles = [
        key
        for fmt in ("srt", "vtt")
        for key in (transcript_key(CALL, fmt), job_result_key(job_name, fmt))
    ]

    assert PROFILES["calls/"]["subtitle_formats"] == []
    assert [key for key in subtitles if results.exists(key)] == []


@pytest.mark.parametrize("key", [CALL, CALLBACK])
def test_the_unredacted_copies_keep_the_phone_number(results: Results, key: str) -> None:
    text = results.text(unredacted_key(key, "txt"))
    document = results.document(unredacted_key(key, "json"))

    assert PHONE_DIGITS in re.sub(r"\D", "", text), text
    assert document["redacted"] is False
    assert PHONE_DIGITS in re.sub(r"\D", "", document["transcript"])


def test_transcribe_writes_its_redacted_and_unredacted_results_at_the_root(
    results: Results,
) -> None:
    job_name = results.job_name(CALL)

    redacted = results.document(redacted_result_key(job_name))
    unredacted = results.document(job_result_key(job_name))

    assert redacted["isRedacted"] is True and unredacted["isRedacted"] is False
    assert "[PII]" in redacted["results"]["transcripts"][0]["transcript"]
    assert redacted["results"]["channel_labels"]["number_of_channels"] == 2


def test_the_call_job_asks_for_channels_redaction_and_the_vocabulary_filter(
    results: Results,
) -> None:
    job = results.job(CALL)
    calls = PROFILES["calls/"]

    assert job["LanguageCode"] == calls["language"]
    assert job["Settings"]["ChannelIdentification"] is True
    assert job["Settings"]["VocabularyFilterName"] == calls["vocabulary_filter_name"]
    assert job["Settings"]["VocabularyFilterMethod"] == calls["vocabulary_filter_method"]
    assert job["ContentRedaction"] == {
        "RedactionType": "PII",
        "RedactionOutput": "redacted_and_unredacted",
        "PiiEntityTypes": ["ALL"],
    }


def test_the_lecture_job_asks_for_its_language_speaker_labels_and_language_model(
    results: Results,
) -> None:
    job = results.job(LECTURE)
    lectures = PROFILES["lectures/"]

    assert job["LanguageCode"] == lectures["language"]
    assert job["Settings"]["ShowSpeakerLabels"] is True
    assert job["Settings"]["MaxSpeakerLabels"] == lectures["max_speaker_labels"]
    assert job["ModelSettings"] == {"LanguageModelName": lectures["language_model_name"]}
    assert wer(TEXTS["hello-pipeline"], results.text(transcript_key(LECTURE, "txt"))) <= MAX_WER


@pytest.mark.parametrize(("fmt", "parse"), [("srt", srt_cues), ("vtt", vtt_cues)])
def test_lecture_subtitles_keep_to_the_profile_subtitle_style(
    results: Results, fmt: str, parse: Any
) -> None:
    style = style_from_mapping(PROFILES["lectures/"]["subtitle_style"])
    cues = parse(results.text(transcript_key(LECTURE, fmt)))
    document = results.document(transcript_key(LECTURE, "json"))

    assert style.max_chars_per_line == 32 < SubtitleStyle().max_chars_per_line
    assert len(cues) > 1
    assert all(1 <= len(lines) <= style.max_lines_per_cue for _, _, lines in cues), cues
    assert all(len(line) <= style.max_chars_per_line for _, _, lines in cues for line in lines)
    shown = " ".join(line for _, _, lines in cues for line in lines).split()
    assert shown == [word["text"] for word in document["words"]]


def test_the_multilingual_recording_is_transcribed_in_each_language_it_switches_to(
    results: Results,
) -> None:
    job = results.job(MULTILINGUAL)
    result = results.document(job_result_key(results.job_name(MULTILINGUAL)))["results"]
    words = [item for item in result["items"] if item["type"] == "pronunciation"]
    spanish = [w["alternatives"][0]["content"] for w in words if w["language_code"] == "es-US"]
    english = [w["alternatives"][0]["content"] for w in words if w["language_code"] == "en-US"]

    assert job["IdentifyMultipleLanguages"] is True
    assert job["LanguageOptions"] == PROFILES["multilingual/"]["language_options"]
    assert job["LanguageIdSettings"] == {
        "en-US": {"VocabularyName": "products-en"},
        "es-US": {"VocabularyName": "products-es"},
    }
    assert {code["LanguageCode"] for code in job["LanguageCodes"]} == {"es-US", "en-US"}
    assert wer(SPANISH["text"], " ".join(spanish)) <= 0.3
    assert wer(TEXTS["weather"], " ".join(english)) <= MAX_WER


def test_the_multilingual_transcript_json_names_each_language_spoken(results: Results) -> None:
    document = results.document(transcript_key(MULTILINGUAL, "json"))
    job = results.job(MULTILINGUAL)

    languages = document["language_codes"]
    assert [language["language_code"] for language in languages] == [
        code["LanguageCode"] for code in job["LanguageCodes"]
    ]
    assert {language["language_code"] for language in languages} == {"es-US", "en-US"}
    assert all(language["duration_in_seconds"] > 4 for language in languages), languages


def test_a_key_outside_every_profile_gets_the_top_level_settings(results: Results) -> None:
    job = results.job(ELSEWHERE)
    style = SubtitleStyle()  # cdk.json's subtitle_style
    text = results.text(transcript_key(ELSEWHERE, "txt"))
    cues = srt_cues(results.text(transcript_key(ELSEWHERE, "srt")))

    assert job["LanguageCode"] == "en-US"
    assert "ContentRedaction" not in job and "ModelSettings" not in job
    assert not job.get("Settings", {}).get("ChannelIdentification")
    assert not job.get("Settings", {}).get("ShowSpeakerLabels")
    assert not results.exists(redacted_result_key(results.job_name(ELSEWHERE)))
    assert not results.exists(unredacted_key(ELSEWHERE, "txt"))
    assert wer(TEXTS["weather"], text) <= MAX_WER and ": " not in text
    assert vtt_cues(results.text(transcript_key(ELSEWHERE, "vtt")))
    assert all(len(line) <= style.max_chars_per_line for _, _, lines in cues for line in lines)
