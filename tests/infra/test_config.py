"""Bad configuration fails synth with a message naming the key and the allowed values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, fields

import aws_cdk as cdk
import pytest

from app import STACK_ID, build_app
from stacks.config import ConfigError, PipelineConfig
from tests.infra.conftest import ROOT, cdk_json_context
from transcribe_pipeline.environment import SUBTITLE_STYLE
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME
from transcribe_pipeline.subtitle_style import SubtitleStyle, style_from_json


def test_the_defaults_are_en_us_srt_and_vtt_and_destroy_everything():
    config = PipelineConfig()

    assert config.language == "en-US"
    assert config.subtitle_formats == ("srt", "vtt")
    assert config.retain_data is False
    assert config.job_name_prefix == "tp-"


def test_the_stack_is_named_transcription_pipeline_by_default():
    stack = build_app(cdk.App(context=cdk_json_context())).node.find_child(STACK_ID)

    assert isinstance(stack, cdk.Stack)
    assert stack.stack_name == DEFAULT_STACK_NAME == "TranscriptionPipeline"


def test_stack_name_renames_the_cloudformation_stack_but_not_its_construct_paths():
    app = build_app(cdk.App(context={**cdk_json_context(), "stack_name": "tp-acceptance-1"}))

    stack = app.node.find_child(STACK_ID)
    assert isinstance(stack, cdk.Stack)
    assert stack.stack_name == "tp-acceptance-1"
    assert app.synth().get_stack_by_name("tp-acceptance-1").hierarchical_id == STACK_ID


def test_cdk_json_context_matches_the_documented_defaults():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]

    assert PipelineConfig.from_mapping(context) == PipelineConfig()


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("language", "english", "one of "),
        ("language_options", "en-US", "at least two languages"),
        ("max_speaker_labels", "31", "an integer 2-30"),
        ("max_speaker_labels", "two", "an integer"),
        ("subtitle_formats", "srt,txt", "srt, vtt"),
        ("vocabulary_name", "my vocabulary", "0-9 a-z A-Z . _ -"),
        ("job_name_prefix", "bad prefix!", "0-9 a-z A-Z . _ -"),
        ("input_prefix", "incoming", 'ending in "/"'),
        ("retain_data", "yes", "true or false"),
        ("notification_email", "not-an-address", "an e-mail address"),
        ("starter_concurrency", "1", "an integer 2-1000"),
        ("start_jobs_per_second", "0", "an integer 1-1000"),
        ("start_jobs_per_second", "fast", "an integer"),
        ("log_retention_days", "42", "one of 1, 3, 5"),
        ("sweep_interval_minutes", "0", "an integer 1-1440"),
        ("sweep_lookback_hours", "0", "an integer 1-720"),
        ("sweep_lookback_hours", "a day", "an integer"),
        ("sweep_grace_minutes", "61", "an integer 0-60"),
        ("stuck_after_hours", "0", "an integer 1-720"),
        ("stack_name", "1st-pipeline", "starting with a letter"),
        ("stack_name", "my_pipeline", "A-Z a-z 0-9 -"),
        ("stack_name", "P" * 129, "1-128 characters"),
        ("stack_name", "Pipeline\n", "A-Z a-z 0-9 -"),
    ],
)
def test_a_bad_value_names_the_key_and_the_allowed_values(key, value, allowed):
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.from_mapping({key: value})

    assert f"'{key}'" in str(raised.value)
    assert allowed in str(raised.value)


def test_the_subtitle_style_takes_the_fields_given_and_defaults_the_rest():
    config = PipelineConfig.from_mapping(
        {"subtitle_style": {"max_chars_per_line": 32, "speaker_prefix": True}}
    )

    assert config.subtitle_style == SubtitleStyle(max_chars_per_line=32, speaker_prefix=True)


def test_the_subtitle_style_is_read_from_json_on_the_command_line():
    config = PipelineConfig.from_mapping({"subtitle_style": '{"max_lines_per_cue": 1}'})

    assert config.subtitle_style == SubtitleStyle(max_lines_per_cue=1)


@pytest.mark.parametrize(
    ("style", "field", "allowed"),
    [
        ({"max_chars_per_line": 5}, "max_chars_per_line", "an integer 10-120"),
        ({"max_chars_per_line": 42.5}, "max_chars_per_line", "an integer 10-120"),
        ({"max_lines_per_cue": 4}, "max_lines_per_cue", "an integer 1-3"),
        ({"min_cue_seconds": -1}, "min_cue_seconds", "a number at least 0 and at most 10"),
        ({"max_cue_seconds": "7"}, "max_cue_seconds", "a number at least 1 and at most 60"),
        ({"max_chars_per_second": 0}, "max_chars_per_second", "a number at least 1"),
        ({"pause_seconds": 0}, "pause_seconds", "a number more than 0 and at most 10"),
        ({"speaker_prefix": "yes"}, "speaker_prefix", "true or false"),
        ({"min_cue_seconds": 8, "max_cue_seconds": 7}, "min_cue_seconds", "at most max_cue"),
    ],
)
def test_a_bad_subtitle_style_field_names_the_key_the_field_and_the_allowed_values(
    style, field, allowed
):
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.from_mapping({"subtitle_style": style})

    message = str(raised.value)
    assert message.startswith("Invalid context value for 'subtitle_style': ")
    assert f"field '{field}'" in message
    assert allowed in message


def test_an_unknown_subtitle_style_field_is_refused_listing_the_fields():
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.from_mapping({"subtitle_style": {"max_line_length": 40}})

    message = str(raised.value)
    assert "'subtitle_style'" in message and "unknown field 'max_line_length'" in message
    assert "max_chars_per_line" in message


@pytest.mark.parametrize("value", ["[1, 2]", "42", "{not json", [1, 2]])
def test_a_subtitle_style_that_is_not_an_object_is_refused(value):
    with pytest.raises(ConfigError, match=r"'subtitle_style'.*object"):
        PipelineConfig.from_mapping({"subtitle_style": value})


def test_the_functions_get_the_subtitle_style_as_one_json_variable():
    style = SubtitleStyle(max_chars_per_line=32, min_cue_seconds=0.5)
    environment = PipelineConfig(subtitle_style=style).transcription_environment()

    assert style_from_json(environment[SUBTITLE_STYLE]) == style


@pytest.mark.parametrize(
    "prefix",
    ["会議/", "notes\x7f/", "notes\x85/", "tab\there/", "emoji 🎙/"],
    ids=["CJK", "DEL", "a C1 control", "a tab", "an emoji"],
)
def test_an_input_prefix_iam_cannot_name_is_refused_naming_the_key(prefix):
    # IAM policy documents accept U+0020-U+00FF (and tab, LF, CR) only, and the policies name
    # the prefix (docs/iam-literal-characters.md): such a deploy would fail, or widen access.
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.from_mapping({"input_prefix": prefix})

    assert "'input_prefix'" in str(raised.value)
    assert "U+0020" in str(raised.value)


@pytest.mark.parametrize(
    "prefix", ["incoming/", "réunions d'été+notes/", "a*b?$c/", "Ünïcødé ÿ/", "x/y/"]
)
def test_an_input_prefix_of_printable_latin_1_characters_is_accepted(prefix):
    assert PipelineConfig.from_mapping({"input_prefix": prefix}).input_prefix == prefix


def test_a_sweep_look_back_shorter_than_the_sweep_interval_is_refused_naming_both():
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.from_mapping({"sweep_interval_minutes": 180, "sweep_lookback_hours": 2})

    assert "'sweep_lookback_hours'" in str(raised.value)
    assert "sweep_interval_minutes=180" in str(raised.value)


def test_language_options_need_identify_language():
    with pytest.raises(ConfigError, match=r"'language_options'.*identify_language"):
        PipelineConfig.from_mapping({"language_options": "en-US,de-DE"})


def test_a_vocabulary_with_language_identification_is_refused_saying_what_to_do():
    # StartTranscriptionJob takes a vocabulary per identified language in LanguageIdSettings,
    # not Settings.VocabularyName with IdentifyLanguage (docs/transcribe-api.md).
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.from_mapping({"identify_language": "true", "vocabulary_name": "terms"})

    message = str(raised.value)
    assert "'vocabulary_name'" in message
    assert "identify_language" in message
    assert "language=" in message  # what to do: name the vocabulary's language instead


def test_running_the_app_with_a_vocabulary_and_language_identification_exits_non_zero(tmp_path):
    result = run_app(tmp_path, {"identify_language": "true", "vocabulary_name": "terms"})

    assert result.returncode == 1
    assert "Invalid context value for 'vocabulary_name'" in result.stderr
    assert "Traceback" not in result.stderr


def test_context_strings_from_the_command_line_are_parsed_to_their_types():
    config = PipelineConfig.from_mapping(
        {
            "identify_language": "true",
            "language_options": '["en-US", "de-DE"]',
            "max_speaker_labels": "5",
            "subtitle_formats": "",
            "notification_email": "null",
        }
    )

    assert config.identify_language is True
    assert config.language_options == ("en-US", "de-DE")
    assert config.max_speaker_labels == 5
    assert config.subtitle_formats == ()
    assert config.notification_email is None


def test_running_the_app_with_a_bad_value_exits_non_zero_with_one_clear_line(tmp_path):
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"language": "klingon"}),
        "CDK_OUTDIR": str(tmp_path),
    }

    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 1
    assert "Invalid context value for 'language'" in result.stderr
    assert "en-US" in result.stderr
    assert "Traceback" not in result.stderr


def run_app(tmp_path, context: dict[str, object]) -> subprocess.CompletedProcess[str]:
    """``python app.py`` with the context the CDK CLI would pass (cdk.json's, then ``-c``)."""
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({**cdk_json_context(), **context}),
        "CDK_OUTDIR": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_a_mistyped_key_is_refused_naming_the_closest_setting():
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.from_mapping({"langauge": "de-DE"})

    assert "'langauge'" in str(raised.value)
    assert "did you mean 'language'?" in str(raised.value)


def test_a_setting_spelled_with_hyphens_is_refused_naming_the_setting():
    with pytest.raises(ConfigError, match=r"'job-name-prefix'.*did you mean 'job_name_prefix'\?"):
        PipelineConfig.from_mapping({"job-name-prefix": "mtg-"})


def test_an_unknown_key_without_a_close_setting_lists_what_is_known():
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.from_mapping({"colour": "blue"})

    assert "'colour'" in str(raised.value)
    assert "did you mean" not in str(raised.value)
    assert "input_prefix" in str(raised.value)


def test_every_pipeline_setting_is_a_known_key():
    defaults = PipelineConfig()
    known = {
        field.name: json.loads(json.dumps(getattr(defaults, field.name), default=asdict))
        for field in fields(PipelineConfig)
    }

    assert PipelineConfig.from_mapping(known) == PipelineConfig()


# What the pinned CDK CLI (2.1148) passes on `cdk synth`/`deploy` besides cdk.json's context
# (printed from CDK_CONTEXT_JSON by an app run under `npx cdk synth`), what `cdk.context.json`
# caches (lookups, acknowledged notices, `cdk cli-telemetry`) and what `cdk migrate` writes.
CDK_KEYS = {
    "@aws-cdk/core:failSynthOnValidationErrors": True,
    "@aws-cdk/core:target-partitions": ["aws"],
    "@aws-cdk-containers/ecs-service-extensions:enableDefaultLogDriver": True,
    "aws:cdk:bundling-stacks": ["**"],
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:disable-asset-staging": True,
    "aws-cdk:enableDiffNoFail": True,
    "availability-zones:account=123456789012:region=eu-west-1": ["eu-west-1a", "eu-west-1b"],
    "ssm:account=123456789012:parameterName=/my/param:region=eu-west-1": "value",
    "acknowledged-issue-numbers": [32775],
    "cli-telemetry": False,
    "cdk-migrate": True,
}


@pytest.mark.parametrize("key", CDK_KEYS)
def test_a_key_cdk_itself_uses_is_accepted(key):
    assert PipelineConfig.from_mapping({key: CDK_KEYS[key]}) == PipelineConfig()


def test_running_the_app_with_a_mistyped_key_exits_non_zero_naming_the_closest_setting(tmp_path):
    result = run_app(tmp_path, {"langauge": "de-DE"})

    assert result.returncode == 1
    assert "'langauge'" in result.stderr
    assert "did you mean 'language'?" in result.stderr
    assert "Traceback" not in result.stderr
