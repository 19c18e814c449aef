"""start_request: the StartTranscriptionJob parameters for one object and the settings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from transcribe_pipeline.keys import S3Object
from transcribe_pipeline.settings import Settings
from transcribe_pipeline.starter import start_request

BASE = Settings(
    input_bucket="media-in",
    output_bucket="media-out",
    job_name_prefix="tp-",
    language_code="en-US",
    identify_language=False,
    language_options=(),
    show_speaker_labels=False,
    max_speaker_labels=2,
    subtitle_formats=(),
    vocabulary_name=None,
    data_access_role_arn=None,
    topic_arn=None,
)
TALK = S3Object("media-in", "talks/my talk+1.mp3", size=1000, version_id="v1")


def request_for(obj: S3Object = TALK, **changes: object) -> dict[str, object]:
    return start_request(obj, "tp-my-talk-1-0123456789abcdef", replace(BASE, **changes))  # type: ignore[arg-type]


def test_a_plain_request_names_the_job_the_exact_object_and_the_output_bucket():
    assert request_for() == {
        "TranscriptionJobName": "tp-my-talk-1-0123456789abcdef",
        "Media": {"MediaFileUri": "s3://media-in/talks/my talk+1.mp3"},
        "MediaFormat": "mp3",
        "OutputBucketName": "media-out",
        "LanguageCode": "en-US",
    }


def test_no_output_key_is_sent_so_the_result_is_job_json_at_the_bucket_root():
    request = request_for(subtitle_formats=("srt", "vtt"), data_access_role_arn="arn:x")

    assert "OutputKey" not in request
    assert request["OutputBucketName"] == "media-out"


@pytest.mark.parametrize(
    ("key", "media_format"),
    [("a.MP3", "mp3"), ("b.wav", "wav"), ("c.Flac", "flac"), ("d.m4a", "m4a"), ("e.WEBM", "webm")],
)
def test_the_media_format_comes_from_the_extension(key, media_format):
    assert request_for(S3Object("media-in", key))["MediaFormat"] == media_format


def test_language_identification_replaces_the_language_code():
    request = request_for(identify_language=True, language_code=None)

    assert request["IdentifyLanguage"] is True
    assert "LanguageCode" not in request
    assert "LanguageOptions" not in request


def test_language_identification_passes_the_language_options():
    request = request_for(
        identify_language=True, language_code=None, language_options=("en-US", "fr-FR")
    )

    assert request["LanguageOptions"] == ["en-US", "fr-FR"]


def test_speaker_labels_are_requested_with_their_maximum():
    request = request_for(show_speaker_labels=True, max_speaker_labels=4)

    assert request["Settings"] == {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 4}


def test_a_custom_vocabulary_is_named_in_the_settings():
    request = request_for(vocabulary_name="medical-terms")

    assert request["Settings"] == {"VocabularyName": "medical-terms"}


def test_no_settings_are_sent_when_none_are_configured():
    assert "Settings" not in request_for()


def test_subtitles_are_requested_numbered_from_one():
    request = request_for(subtitle_formats=("srt", "vtt"))

    assert request["Subtitles"] == {"Formats": ["srt", "vtt"], "OutputStartIndex": 1}


def test_no_subtitles_are_requested_when_no_format_is_configured():
    assert "Subtitles" not in request_for()


def test_a_data_access_role_turns_on_deferred_execution():
    role = "arn:aws:iam::123456789012:role/TranscribeDataAccess"

    request = request_for(data_access_role_arn=role)

    assert request["JobExecutionSettings"] == {
        "AllowDeferredExecution": True,
        "DataAccessRoleArn": role,
    }


def test_without_a_data_access_role_execution_is_not_deferred():
    assert "JobExecutionSettings" not in request_for()


def test_a_kms_key_encrypts_the_transcribe_output():
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    request = request_for(output_encryption_kms_key_id=key)

    assert request["OutputEncryptionKMSKeyId"] == key


def test_without_a_kms_key_transcribe_output_uses_the_bucket_default():
    assert "OutputEncryptionKMSKeyId" not in request_for()
