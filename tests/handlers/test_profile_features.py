"""Profile features in the functions against moto: the redacted result, unredacted copies, roles.

moto's GetTranscriptionJob leaves ContentRedaction out of the description, so the harvest
follows the key's profile there; `with_content_redaction_in_descriptions` puts it back, as the
real API returns it, for the tests about the job's own record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from moto.transcribe.models import FakeTranscriptionJob

from tests.handlers.conftest import PREFIX
from tests.handlers.events import job_state_change, sqs_batch, transcribe_result
from transcribe_pipeline.harvest import TranscriptMissingError

CALLS = {
    "prefix": "calls/",
    "channel_identification": True,
    "channel_roles": ["agent", "customer"],
    "content_redaction": {"pii_entity_types": "ALL", "output": "redacted_and_unredacted"},
    "subtitle_formats": ["srt", "vtt"],
    "subtitle_style": {"speaker_prefix": True},
}
REDACTED_ONLY = {**CALLS, "prefix": "hotline/", "content_redaction": {"output": "redacted"}}
MODERATED = {"prefix": "chat/", "toxicity_detection": True}
MULTILINGUAL = {
    "prefix": "multilingual/",
    "identify_multiple_languages": True,
    "language_options": ["en-US", "es-US"],
}
JOB = f"{PREFIX}call-0123456789abcdef"
DIGITS = ("555", "0100")


@pytest.fixture
def profiled(load_handler):
    """Load a handler module with the feature profiles in its environment."""

    def load(module_name):
        profiles = [CALLS, REDACTED_ONLY, MODERATED, MULTILINGUAL]
        return load_handler(module_name, PROFILES=json.dumps(profiles))

    return load


@pytest.fixture
def with_content_redaction_in_descriptions(monkeypatch):
    """GetTranscriptionJob with the job's ContentRedaction, as AWS returns it."""
    original: Callable[..., Any] = FakeTranscriptionJob.response_object

    def response_object(self, response_type):
        response = original(self, response_type)
        if response_type == "GET" and self.content_redaction.get("RedactionOutput"):
            response["TranscriptionJob"]["ContentRedaction"] = self.content_redaction
        return response

    monkeypatch.setattr(FakeTranscriptionJob, "response_object", response_object)


def finish_redacted_call(cloud, key, *, unredacted=True, redacted=True):
    """A job for ``key`` finished as Transcribe finishes a redacting one: its files at the root."""
    cloud.start_job(JOB, key)
    cloud.complete_job(JOB, write_result=False)
    if redacted:
        document = transcribe_result(JOB, "transcribeResultChannelsRedacted.json")
        cloud.put_output(f"redacted-{JOB}.json", json.dumps(document))
    if unredacted:
        cloud.put_output(
            f"{JOB}.json", json.dumps(transcribe_result(JOB, "transcribeResultChannels.json"))
        )


def root_files(cloud):
    """Transcribe's own files at the bucket root, with their bodies."""
    return {key: cloud.read_output(key) for key in cloud.output_keys() if "/" not in key}


def test_a_redacting_profile_starts_a_job_that_redacts(cloud, profiled, context):
    starter = profiled("start_transcription")

    assert (
        starter.handler(sqs_batch(cloud.upload("calls/1.wav")), context)["batchItemFailures"] == []
    )

    (name,) = cloud.job_uris()
    assert cloud.fake_job(name).content_redaction == {
        "RedactionType": "PII",
        "RedactionOutput": "redacted_and_unredacted",
        "PiiEntityTypes": ["ALL"],
    }


def test_a_multilingual_profile_starts_a_job_that_identifies_several_languages(
    cloud, profiled, context
):
    profiled("start_transcription").handler(sqs_batch(cloud.upload("multilingual/1.mp3")), context)

    (name,) = cloud.job_uris()
    job = cloud.transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
    assert job["IdentifyMultipleLanguages"] is True
    assert job["LanguageOptions"] == ["en-US", "es-US"]
    assert "LanguageCode" not in job or job["LanguageCode"] is None


def test_every_output_under_transcripts_comes_from_the_redacted_result(cloud, profiled, context):
    finish_redacted_call(cloud, "calls/1.wav")

    profiled("job_state_change").handler(job_state_change(JOB, "COMPLETED"), context)

    written = cloud.output_keys("transcripts/")
    assert written == [f"transcripts/calls/1.wav.{ext}" for ext in ("json", "srt", "txt", "vtt")]
    for key in written:
        body = cloud.read_output(key)
        assert "[PII]" in body, key
        assert not any(digits in body for digits in DIGITS), key
    assert cloud.read_output("transcripts/calls/1.wav.txt") == (
        "agent: Thanks for calling. Your number please?\ncustomer: It's [PII].\nagent: Thank you.\n"
    )
    assert cloud.read_output_json("transcripts/calls/1.wav.json")["redacted"] is True


def test_with_both_outputs_readable_unredacted_copies_go_under_their_own_prefix(
    cloud, profiled, context
):
    finish_redacted_call(cloud, "calls/1.wav")

    profiled("job_state_change").handler(job_state_change(JOB, "COMPLETED"), context)

    assert cloud.output_keys("unredacted/") == [
        "unredacted/calls/1.wav.json",
        "unredacted/calls/1.wav.txt",
    ]
    assert cloud.read_output("unredacted/calls/1.wav.txt").splitlines()[1] == (
        "customer: It's 555 0100."
    )
    copy = cloud.read_output_json("unredacted/calls/1.wav.json")
    assert copy["redacted"] is False
    assert [turn["role"] for turn in copy["turns"]] == ["agent", "customer", "agent"]


def test_transcribes_own_files_stay_at_the_root_untouched(cloud, profiled, context):
    finish_redacted_call(cloud, "calls/1.wav")
    before = root_files(cloud)

    profiled("job_state_change").handler(job_state_change(JOB, "COMPLETED"), context)

    assert sorted(before) == sorted(
        [f"{JOB}.json", f"{JOB}.srt", f"{JOB}.vtt", f"redacted-{JOB}.json"]
    )
    assert root_files(cloud) == before


def test_with_the_redacted_output_only_nothing_goes_under_unredacted(cloud, profiled, context):
    finish_redacted_call(cloud, "hotline/1.wav", unredacted=False)

    profiled("job_state_change").handler(job_state_change(JOB, "COMPLETED"), context)

    assert cloud.output_keys("unredacted/") == []
    assert "[PII]" in cloud.read_output("transcripts/hotline/1.wav.txt")


def test_a_missing_redacted_result_is_retried_never_replaced_by_the_unredacted_one(
    cloud, profiled, context
):
    finish_redacted_call(cloud, "calls/1.wav", redacted=False)

    with pytest.raises(TranscriptMissingError, match=f"redacted-{JOB}.json"):
        profiled("job_state_change").handler(job_state_change(JOB, "COMPLETED"), context)

    assert cloud.output_keys("transcripts/") == []
    assert cloud.output_keys("unredacted/") == []


def test_the_jobs_own_redaction_wins_over_a_key_outside_every_redacting_profile(
    cloud, profiled, context, with_content_redaction_in_descriptions
):
    # Given a job that redacted (started when talks/ still had a redacting profile)
    cloud.start_job(JOB, "talks/1.wav")
    cloud.fake_job(JOB).content_redaction = {"RedactionType": "PII", "RedactionOutput": "redacted"}
    cloud.complete_job(JOB, write_result=False)
    cloud.put_output(
        f"redacted-{JOB}.json",
        json.dumps(transcribe_result(JOB, "transcribeResultChannelsRedacted.json")),
    )

    # When it is harvested under a configuration without redaction for talks/
    profiled("job_state_change").handler(job_state_change(JOB, "COMPLETED"), context)

    # Then its transcript is the redacted one
    assert "[PII]" in cloud.read_output("transcripts/talks/1.wav.txt")


def test_toxic_segments_are_marked_in_the_text_and_scored_in_the_json(cloud, profiled, context):
    cloud.start_job(JOB, "chat/1.mp3")
    cloud.complete_job(JOB, result=transcribe_result(JOB, "transcribeResultToxicity.json"))

    profiled("job_state_change").handler(job_state_change(JOB, "COMPLETED"), context)

    assert "[toxic 0.76: profanity] What the heck" in cloud.read_output(
        "transcripts/chat/1.mp3.txt"
    )
    scores = cloud.read_output_json("transcripts/chat/1.mp3.json")["toxicity"]
    assert [segment["flagged"] for segment in scores] == [False, True, False]
