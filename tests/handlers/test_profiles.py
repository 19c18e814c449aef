"""Profiles in the functions: the start request and the outputs follow the key's profile."""

from __future__ import annotations

import json

import pytest

from tests.handlers.conftest import PREFIX
from tests.handlers.events import job_state_change, sqs_batch
from transcribe_pipeline.settings import SettingsError

PROFILES = [
    {"prefix": "calls/", "channel_identification": True, "subtitle_formats": ["vtt"]},
    {
        "prefix": "lectures/",
        "show_speaker_labels": True,
        "max_speaker_labels": 4,
        "language": "en-GB",
        "subtitle_formats": [],
    },
]


@pytest.fixture
def profiled(load_handler):
    """Load a handler module with the two profiles in its environment."""

    def load(module_name):
        return load_handler(module_name, PROFILES=json.dumps(PROFILES))

    return load


def started_job(cloud, key):
    uri = f"s3://media-in/{key}"
    (name,) = [name for name, job_uri in cloud.job_uris().items() if job_uri == uri]
    return cloud.transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]


def test_two_keys_under_two_profiles_start_two_different_jobs(cloud, profiled, context):
    # Given a starter with a profile for calls/ and one for lectures/
    starter = profiled("start_transcription")
    batch = sqs_batch(cloud.upload("calls/1.wav"), cloud.upload("lectures/2.mp3"))

    # When both uploads are handled
    assert starter.handler(batch, context)["batchItemFailures"] == []

    # Then each job has its own profile's settings
    call, lecture = started_job(cloud, "calls/1.wav"), started_job(cloud, "lectures/2.mp3")
    assert call["LanguageCode"] == "en-US"
    assert call["Settings"]["ChannelIdentification"] is True
    assert "ShowSpeakerLabels" not in call["Settings"]
    assert call["Subtitles"]["Formats"] == ["vtt"]
    assert lecture["LanguageCode"] == "en-GB"
    assert lecture["Settings"]["ShowSpeakerLabels"] is True
    assert lecture["Settings"]["MaxSpeakerLabels"] == 4
    assert "Subtitles" not in lecture or not lecture["Subtitles"].get("Formats")


def test_a_key_outside_every_profile_starts_a_job_with_the_top_level_settings(
    cloud, profiled, context
):
    starter = profiled("start_transcription")

    starter.handler(sqs_batch(cloud.upload("talks/3.mp3")), context)

    talk = started_job(cloud, "talks/3.mp3")
    assert talk["LanguageCode"] == "en-US"
    assert talk["Subtitles"]["Formats"] == ["srt", "vtt"]


def test_the_harvest_writes_the_subtitle_formats_of_the_keys_profile(cloud, profiled, context):
    # Given a finished job for a key under calls/ (whose profile asks for vtt only)
    job = f"{PREFIX}call-0123456789abcdef"
    cloud.start_job(job, "calls/1.wav")
    cloud.complete_job(job)

    # When its event is handled
    profiled("job_state_change").handler(job_state_change(job, "COMPLETED"), context)

    # Then our subtitles are the profile's: a .vtt and no .srt
    written = cloud.output_keys("transcripts/")
    assert "transcripts/calls/1.wav.vtt" in written
    assert "transcripts/calls/1.wav.srt" not in written
    assert "transcripts/calls/1.wav.txt" in written


def test_a_malformed_profiles_variable_fails_the_cold_start_naming_it(cloud, load_handler):
    with pytest.raises(SettingsError, match="Environment variable PROFILES: profile 'calls/'"):
        load_handler(
            "start_transcription",
            PROFILES=json.dumps([{"prefix": "calls/", "channel_identification": "yes"}]),
        )
