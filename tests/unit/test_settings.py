"""Settings: environment variables checked once at cold start, errors naming the variable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from transcribe_pipeline.settings import Settings, SettingsError
from transcribe_pipeline.subtitle_style import SubtitleStyle

VALID = {
    "INPUT_BUCKET": "media-in",
    "OUTPUT_BUCKET": "media-out",
    "JOB_NAME_PREFIX": "tp-",
    "LANGUAGE_CODE": "en-US",
}


def env(**changes: str | None) -> dict[str, str]:
    """The valid environment with some variables changed (None removes one)."""
    result = {**VALID, **{k: v for k, v in changes.items() if v is not None}}
    for name in (k for k, v in changes.items() if v is None):
        result.pop(name)
    return result


def test_the_minimal_environment_gives_the_documented_defaults():
    settings = Settings.from_env(VALID)

    assert settings.input_bucket == "media-in"
    assert settings.output_bucket == "media-out"
    assert settings.job_name_prefix == "tp-"
    assert settings.language_code == "en-US"
    assert settings.identify_language is False
    assert settings.show_speaker_labels is False
    assert settings.max_speaker_labels == 2
    assert settings.subtitle_formats == ()
    assert settings.vocabulary_name is None
    assert settings.data_access_role_arn is None
    assert settings.topic_arn is None
    assert settings.output_encryption_kms_key_id is None


@pytest.mark.parametrize(
    "name", ["INPUT_BUCKET", "OUTPUT_BUCKET", "JOB_NAME_PREFIX", "LANGUAGE_CODE"]
)
def test_a_missing_required_variable_is_named_in_the_error(name):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env(**{name: None}))


@pytest.mark.parametrize("name", ["INPUT_BUCKET", "OUTPUT_BUCKET", "JOB_NAME_PREFIX"])
def test_a_blank_required_variable_counts_as_missing(name):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env(**{name: "   "}))


@pytest.mark.parametrize("name", ["IDENTIFY_LANGUAGE", "SHOW_SPEAKER_LABELS"])
@pytest.mark.parametrize("value", ["yes", "1", "on", ""])
def test_a_flag_that_is_not_true_or_false_is_named_in_the_error(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env(**{name: value}))


@pytest.mark.parametrize("value", ["True", " FALSE "])
def test_flags_are_read_case_insensitively(value):
    settings = Settings.from_env(env(SHOW_SPEAKER_LABELS=value))

    assert settings.show_speaker_labels is (value.strip().lower() == "true")


@pytest.mark.parametrize("value", ["two", "-1", "2.5", ""])
def test_a_speaker_maximum_that_is_not_a_whole_number_is_named_in_the_error(value):
    with pytest.raises(SettingsError, match="MAX_SPEAKER_LABELS"):
        Settings.from_env(env(MAX_SPEAKER_LABELS=value))


def test_language_identification_needs_no_language_code():
    settings = Settings.from_env(
        env(LANGUAGE_CODE=None, IDENTIFY_LANGUAGE="true", LANGUAGE_OPTIONS="en-US, fr-FR,,")
    )

    assert settings.identify_language is True
    assert settings.language_code is None
    assert settings.language_options == ("en-US", "fr-FR")


def test_a_vocabulary_with_language_identification_is_refused_naming_both_variables():
    # Transcribe takes vocabularies per identified language (LanguageIdSettings), never
    # Settings.VocabularyName with IdentifyLanguage (docs/transcribe-api.md).
    with pytest.raises(SettingsError, match=r"VOCABULARY_NAME.*IDENTIFY_LANGUAGE"):
        Settings.from_env(
            env(LANGUAGE_CODE=None, IDENTIFY_LANGUAGE="true", VOCABULARY_NAME="medical-terms")
        )


def test_lists_and_optional_values_are_parsed():
    settings = Settings.from_env(
        env(
            SUBTITLE_FORMATS="srt, vtt",
            VOCABULARY_NAME=" medical-terms ",
            DATA_ACCESS_ROLE_ARN="arn:aws:iam::123456789012:role/TranscribeDataAccess",
            TOPIC_ARN="",
            MAX_SPEAKER_LABELS="5",
        )
    )

    assert settings.subtitle_formats == ("srt", "vtt")
    assert settings.vocabulary_name == "medical-terms"
    assert settings.data_access_role_arn == "arn:aws:iam::123456789012:role/TranscribeDataAccess"
    assert settings.topic_arn is None
    assert settings.max_speaker_labels == 5


def test_the_output_encryption_key_is_read_when_set():
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    settings = Settings.from_env(env(OUTPUT_ENCRYPTION_KMS_KEY_ID=key))

    assert settings.output_encryption_kms_key_id == key


@pytest.mark.parametrize("value", ["alias/my-key", "1234abcd", "arn:aws:s3:::bucket"])
def test_an_output_encryption_key_that_is_not_a_kms_key_arn_is_named_in_the_error(value):
    with pytest.raises(SettingsError, match="OUTPUT_ENCRYPTION_KMS_KEY_ID"):
        Settings.from_env(env(OUTPUT_ENCRYPTION_KMS_KEY_ID=value))


def test_the_start_rate_is_read_as_calls_per_second_and_absent_means_unpaced():
    assert Settings.from_env(VALID).start_rate_per_second is None
    assert Settings.from_env(env(START_RATE_PER_SECOND="2.5")).start_rate_per_second == 2.5


@pytest.mark.parametrize("value", ["0", "-5", "fast", "nan", "inf"])
def test_a_start_rate_that_is_not_a_positive_number_is_named_in_the_error(value):
    with pytest.raises(SettingsError, match="START_RATE_PER_SECOND"):
        Settings.from_env(env(START_RATE_PER_SECOND=value))


def test_without_a_subtitle_style_the_default_style_is_used():
    assert Settings.from_env(VALID).subtitle_style == SubtitleStyle()


def test_the_subtitle_style_is_read_from_its_json_variable():
    settings = Settings.from_env(env(SUBTITLE_STYLE='{"max_chars_per_line": 32}'))

    assert settings.subtitle_style == SubtitleStyle(max_chars_per_line=32)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ('{"max_lines_per_cue": 9}', "field 'max_lines_per_cue' expected an integer 1-3"),
        ('{"colour": "red"}', "unknown field 'colour'"),
        ("max_lines_per_cue=2", "expected a JSON object"),
    ],
)
def test_a_bad_subtitle_style_is_refused_at_cold_start_naming_the_variable(value, said):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env(SUBTITLE_STYLE=value))

    assert str(raised.value).startswith("Environment variable SUBTITLE_STYLE: ")
    assert said in str(raised.value)


def test_the_sweepers_tunables_default_to_a_day_back_two_minutes_grace_and_six_hours():
    settings = Settings.from_env(VALID)

    assert settings.sweep_lookback == timedelta(hours=24)
    assert settings.sweep_grace == timedelta(minutes=2)
    assert settings.stuck_after == timedelta(hours=6)
    assert settings.metrics_namespace is None


def test_the_sweepers_tunables_are_read_from_their_variables():
    settings = Settings.from_env(
        env(
            SWEEP_LOOKBACK_HOURS="48",
            SWEEP_GRACE_MINUTES="0",
            STUCK_AFTER_HOURS="12",
            METRICS_NAMESPACE="TranscriptionPipeline/Test",
        )
    )

    assert settings.sweep_lookback == timedelta(hours=48)
    assert settings.sweep_grace == timedelta(0)
    assert settings.stuck_after == timedelta(hours=12)
    assert settings.metrics_namespace == "TranscriptionPipeline/Test"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SWEEP_LOOKBACK_HOURS", "a day"),
        ("SWEEP_LOOKBACK_HOURS", "0"),
        ("SWEEP_LOOKBACK_HOURS", "721"),
        ("SWEEP_GRACE_MINUTES", "-1"),
        ("SWEEP_GRACE_MINUTES", "2.5"),
        ("STUCK_AFTER_HOURS", "0"),
    ],
)
def test_a_sweeper_tunable_out_of_its_range_is_named_in_the_error_with_the_range(name, value):
    with pytest.raises(SettingsError, match=rf"{name} must be an integer \d+-\d+, got '"):
        Settings.from_env(env(**{name: value}))
