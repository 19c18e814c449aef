"""Profiles in the CDK context: checked at synth against the feature matrix, before anything runs.

The matrix and its sources: docs/transcribe-features.md.
"""

from __future__ import annotations

import json

import botocore.session
import pytest

from stacks.config import ConfigError, PipelineConfig
from stacks.transcribe_features import CUSTOM_LANGUAGE_MODEL_LANGUAGES, TRANSCRIBE_LANGUAGES

CALLS = {"prefix": "calls/", "channel_identification": True}
LECTURES = {
    "prefix": "lectures/",
    "show_speaker_labels": True,
    "max_speaker_labels": 4,
    "subtitle_style": {"max_chars_per_line": 32, "speaker_prefix": True},
}
MULTILINGUAL = {
    "prefix": "multilingual/",
    "identify_language": True,
    "language_options": ["en-US", "es-US"],
    "language_id_settings": {
        "en-US": {"vocabulary_name": "product-names-en", "vocabulary_filter_name": "profanity-en"},
        "es-US": {"vocabulary_name": "product-names-es"},
    },
    "vocabulary_filter_method": "mask",
}


def test_the_readme_example_profiles_are_accepted_from_a_json_string():
    config = PipelineConfig.from_mapping({"profiles": json.dumps([CALLS, LECTURES, MULTILINGUAL])})

    assert [profile.prefix for profile in config.profiles] == [
        "calls/",
        "lectures/",
        "multilingual/",
    ]


def test_no_profiles_is_the_default_and_every_key_gets_the_top_level_settings():
    assert PipelineConfig.from_mapping({"profiles": []}).profiles == ()


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (
            {**CALLS, "show_speaker_labels": True},
            "profile 'calls/': 'show_speaker_labels', 'channel_identification': "
            "Transcribe refuses both",
        ),
        (
            {"prefix": "calls/", "language": "fr-FR", "language_model_name": "m"},
            "Invalid context value for 'profiles': profile 'calls/': "
            "'language_model_name', 'language': "
            "custom language models exist only for de-DE, en-AU, en-GB, en-US, es-US, hi-IN, "
            "ja-JP, not fr-FR.",
        ),
        (
            {
                **MULTILINGUAL,
                "language_options": ["en-US", "fr-FR"],
                "language_id_settings": {"fr-FR": {"language_model_name": "m"}},
                "vocabulary_filter_method": None,
            },
            "Invalid context value for 'profiles': profile 'multilingual/': "
            "'language_id_settings.fr-FR.language_model_name': custom language models exist only",
        ),
        (
            {"prefix": "m/", "identify_language": True, "language_options": ["en-US", "sv-SE"]},
            "Invalid context value for 'profiles': profile 'm/': "
            "'language_options', 'identify_language': sv-SE "
            "cannot be identified",
        ),
        (
            {"prefix": "m/", "language": "xx-XX"},
            "Invalid context value for 'profiles': profile 'm/': 'language': one of ",
        ),
        (
            {"prefix": "calls", "channel_identification": True},
            "Invalid context value for 'profiles': profile 'calls': 'prefix' expected a key prefix",
        ),
        (
            {"prefix": "calls/\x7f/", "channel_identification": True},
            "'prefix' expected a key prefix",
        ),
        ({"channel_identification": True}, "'prefix': a non-empty key prefix"),
    ],
)
def test_an_invalid_profile_fails_synth_naming_its_prefix_the_keys_and_why(profile, message):
    with pytest.raises(ConfigError) as error:
        PipelineConfig.from_mapping({"profiles": [profile]})

    assert message in str(error.value)


def test_a_profile_prefix_must_lie_under_the_input_prefix():
    with pytest.raises(ConfigError, match="'prefix' must lie under input_prefix 'incoming/'"):
        PipelineConfig.from_mapping({"input_prefix": "incoming/", "profiles": [CALLS]})


def test_a_profile_under_the_input_prefix_is_accepted():
    config = PipelineConfig.from_mapping(
        {"input_prefix": "incoming/", "profiles": [{**CALLS, "prefix": "incoming/calls/"}]}
    )

    assert config.profiles[0].prefix == "incoming/calls/"


def test_two_profiles_with_one_prefix_fail_synth():
    with pytest.raises(ConfigError, match="'prefix' appears in more than one profile"):
        PipelineConfig.from_mapping({"profiles": [CALLS, {**LECTURES, "prefix": "calls/"}]})


def test_the_top_level_settings_are_checked_against_the_matrix_too():
    with pytest.raises(ConfigError) as error:
        PipelineConfig.from_mapping(
            {"identify_language": True, "language_options": ["en-US", "vi-VN"]}
        )

    assert str(error.value) == (
        "Invalid top-level settings 'language_options', 'identify_language': vi-VN cannot be "
        "identified by Transcribe's language identification."
    )


def test_the_top_level_vocabulary_with_identification_stays_refused():
    with pytest.raises(ConfigError, match="'vocabulary_name': expected null when identify"):
        PipelineConfig.from_mapping({"identify_language": True, "vocabulary_name": "terms"})


def test_profiles_that_are_not_a_list_fail_synth():
    with pytest.raises(ConfigError, match="'profiles': expected a list of objects"):
        PipelineConfig.from_mapping({"profiles": '{"prefix": "calls/"}'})


def test_the_custom_language_model_languages_are_those_of_botocores_model():
    model = botocore.session.get_session().get_service_model("transcribe")
    create = model.operation_model("CreateLanguageModel").input_shape

    assert frozenset(create.members["LanguageCode"].enum) == CUSTOM_LANGUAGE_MODEL_LANGUAGES
    assert CUSTOM_LANGUAGE_MODEL_LANGUAGES <= TRANSCRIBE_LANGUAGES


REDACTED_CALLS = {
    "prefix": "calls/",
    "language": "en-US",
    "channel_identification": True,
    "channel_roles": ["agent", "customer"],
    "content_redaction": {"pii_entity_types": "ALL", "output": "redacted_and_unredacted"},
    "toxicity_detection": True,
}
MULTI = {
    "prefix": "multilingual/",
    "identify_multiple_languages": True,
    "language_options": ["en-US", "es-US", "hi-IN"],
    "language_id_settings": {"es-US": {"vocabulary_name": "product-names-es"}},
}


def test_calls_with_roles_redaction_and_toxicity_and_a_multilingual_folder_are_accepted():
    config = PipelineConfig.from_mapping({"profiles": [REDACTED_CALLS, LECTURES, MULTI]})

    calls, _, multi = (profile.job for profile in config.profiles)
    assert calls.channel_roles == ("agent", "customer")
    assert calls.content_redaction is not None and calls.content_redaction.keeps_unredacted
    assert calls.toxicity_detection
    assert multi.identify_multiple_languages and multi.language is None


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (
            {**MULTI, "identify_language": True},
            "profile 'multilingual/': 'identify_language', 'identify_multiple_languages': "
            "Transcribe takes one of them",
        ),
        (
            {**MULTI, "language": "en-US"},
            "profile 'multilingual/': 'language', 'identify_multiple_languages': a fixed "
            "language and language identification exclude each other",
        ),
        (
            {**MULTI, "language_id_settings": {"en-US": {"language_model_name": "m"}}},
            "'language_id_settings.en-US.language_model_name', 'identify_multiple_languages': "
            "multi-language identification does not support custom language models",
        ),
        (
            {**MULTI, "language_options": ["en-US", "pl-PL"], "language_id_settings": {}},
            "'language_options', 'identify_multiple_languages': pl-PL cannot be identified by "
            "multi-language identification",
        ),
        (
            {**MULTI, "language_options": ["en-US", "sv-SE"], "language_id_settings": {}},
            "'language_options', 'identify_multiple_languages': sv-SE cannot be identified",
        ),
        (
            {**MULTI, "vocabulary_name": "terms", "language_id_settings": {}},
            "'vocabulary_name', 'identify_multiple_languages': with language identification "
            "Transcribe takes it per language",
        ),
        (
            {"prefix": "calls/", "channel_roles": ["agent", "customer"]},
            "profile 'calls/': 'channel_roles', 'channel_identification': roles name the "
            "channels Transcribe labels ch_0 and ch_1",
        ),
        (
            {**REDACTED_CALLS, "channel_roles": ["agent", "customer", "supervisor"]},
            "'channel_roles': at most 2 names (for ch_0 and ch_1)",
        ),
        (
            {**REDACTED_CALLS, "channel_roles": ["agent", "agent"]},
            "'channel_roles': each name at most once",
        ),
        (
            {**REDACTED_CALLS, "channel_roles": ["agent:", "customer"]},
            "'channel_roles': 'agent:' is not a name of 1-40 printable characters",
        ),
        (
            {**REDACTED_CALLS, "channel_roles": "agent"},
            "'channel_roles': a list of strings, got 'agent'",
        ),
        (
            {**REDACTED_CALLS, "language": "fr-FR", "toxicity_detection": False},
            "profile 'calls/': 'content_redaction', 'language': batch PII redaction exists "
            "only for en-US, es-US, not fr-FR.",
        ),
        (
            {
                "prefix": "calls/",
                "identify_language": True,
                "content_redaction": {"output": "redacted"},
            },
            "'content_redaction', 'identify_language': Transcribe's redaction is not "
            "compatible with language identification",
        ),
        (
            {**MULTI, "content_redaction": {"output": "redacted"}},
            "'content_redaction', 'identify_multiple_languages': Transcribe's redaction is not "
            "compatible with language identification",
        ),
        (
            {**REDACTED_CALLS, "content_redaction": {"output": "unredacted"}},
            "'content_redaction.output': one of redacted, redacted_and_unredacted",
        ),
        (
            {**REDACTED_CALLS, "content_redaction": {"pii_entity_types": ["SSN", "SHOE_SIZE"]}},
            "'content_redaction.pii_entity_types': \"ALL\" or a list of distinct PII entity types",
        ),
        (
            {**REDACTED_CALLS, "content_redaction": {"pii_entity_types": ["ALL", "SSN"]}},
            "'content_redaction.pii_entity_types': \"ALL\" alone",
        ),
        (
            {**REDACTED_CALLS, "content_redaction": {"types": "ALL"}},
            "'content_redaction': an object such as",
        ),
        (
            {**REDACTED_CALLS, "content_redaction": None, "language": "en-GB"},
            "profile 'calls/': 'toxicity_detection', 'language': toxicity detection exists "
            "only for en-US, not en-GB.",
        ),
        (
            {"prefix": "m/", "identify_language": True, "toxicity_detection": True},
            "'toxicity_detection', 'identify_language': toxicity detection needs the language "
            "set to en-US",
        ),
        (
            {"prefix": "m/", "toxicity_detection": True, "language_model_name": "m"},
            "'toxicity_detection', 'language_model_name': Transcribe does not support custom "
            "language models with toxicity detection",
        ),
    ],
)
def test_an_invalid_feature_combination_fails_synth_naming_the_profile_the_keys_and_why(
    profile, message
):
    with pytest.raises(ConfigError) as error:
        PipelineConfig.from_mapping({"profiles": [profile]})

    assert message in str(error.value)
    assert str(error.value).startswith("Invalid context value for 'profiles': profile ")
