"""Bad configuration fails synth with a message naming the key and the allowed values."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from stacks.config import ConfigError, PipelineConfig
from tests.infra.conftest import ROOT


def test_the_defaults_are_en_us_srt_and_vtt_and_destroy_everything():
    config = PipelineConfig()

    assert config.language == "en-US"
    assert config.subtitle_formats == ("srt", "vtt")
    assert config.retain_data is False
    assert config.job_name_prefix == "tp-"


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
    ],
)
def test_a_bad_value_names_the_key_and_the_allowed_values(key, value, allowed):
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.from_mapping({key: value})

    assert f"'{key}'" in str(raised.value)
    assert allowed in str(raised.value)


def test_language_options_need_identify_language():
    with pytest.raises(ConfigError, match=r"'language_options'.*identify_language"):
        PipelineConfig.from_mapping({"language_options": "en-US,de-DE"})


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
