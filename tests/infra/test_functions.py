"""Every function has an explicit lifecycle: log group, retention, memory, timeout, arch."""

from __future__ import annotations

import json

from aws_cdk.assertions import Template

from stacks.config import PipelineConfig
from tests.infra.conftest import resources_of
from transcribe_pipeline.environment import PROFILES, SUBTITLE_STYLE
from transcribe_pipeline.profiles import profiles_from_json
from transcribe_pipeline.stack_outputs import (
    JOB_STATE_FUNCTION_LOG_GROUP_NAME,
    START_FUNCTION_LOG_GROUP_NAME,
    SWEEPER_FUNCTION_LOG_GROUP_NAME,
    output_names,
    required_outputs,
)
from transcribe_pipeline.subtitle_style import SubtitleStyle, style_from_json

PIPELINE_FUNCTIONS = ("JobStarterStartTranscription", "JobStateHandler", "JobStateSweeper")


def _pipeline_functions(template: Template) -> dict:
    functions = resources_of(template, "AWS::Lambda::Function")
    return {k: f for k, f in functions.items() if k.startswith(PIPELINE_FUNCTIONS)}


def test_the_three_pipeline_functions_exist_with_their_handlers(template: Template):
    handlers = {f["Properties"]["Handler"] for f in _pipeline_functions(template).values()}

    assert handlers == {
        "start_transcription.handler",
        "job_state_change.handler",
        "sweeper.handler",
    }


def test_pipeline_functions_run_python_3_12_on_arm_with_memory_and_timeout(template: Template):
    for function in _pipeline_functions(template).values():
        props = function["Properties"]
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["arm64"]
        assert props["MemorySize"] == 256
        assert 30 <= props["Timeout"] <= 900
        assert "FunctionName" not in props


def test_pipeline_functions_log_to_their_own_log_group_with_retention(template: Template):
    groups = resources_of(template, "AWS::Logs::LogGroup")

    assert len(groups) == 3
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {30}
    assert {g["DeletionPolicy"] for g in groups.values()} == {"Delete"}
    for function in _pipeline_functions(template).values():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert group in groups


def test_log_retention_is_configurable(synth_with):
    template = synth_with({"log_retention_days": "90"})

    groups = resources_of(template, "AWS::Logs::LogGroup")
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {90}


def test_pipeline_functions_use_the_aws_powertools_layer_for_their_architecture(
    template: Template,
):
    for function in _pipeline_functions(template).values():
        layers = str(function["Properties"]["Layers"])
        # The publisher account depends on the partition: tests/infra/test_partitions.py.
        assert ":layer:AWSLambdaPowertoolsPythonV3-python312-arm64:27" in layers


def test_functions_get_the_transcription_settings_through_the_environment(synth_with):
    context = {
        "identify_language": "true",
        "language_options": "en-US,es-US",
        "show_speaker_labels": "true",
        "max_speaker_labels": "4",
        "subtitle_formats": "vtt",
    }
    template = synth_with(context)

    starter = next(
        f
        for k, f in _pipeline_functions(template).items()
        if k.startswith("JobStarterStartTranscription")
    )
    env = starter["Properties"]["Environment"]["Variables"]
    assert env["IDENTIFY_LANGUAGE"] == "true"
    assert env["LANGUAGE_CODE"] == ""
    assert env["LANGUAGE_OPTIONS"] == "en-US,es-US"
    assert env["SHOW_SPEAKER_LABELS"] == "true"
    assert env["MAX_SPEAKER_LABELS"] == "4"
    assert env["SUBTITLE_FORMATS"] == "vtt"
    assert env["VOCABULARY_NAME"] == ""
    # The very variables the start-request model test feeds to Settings.from_env.
    assert env.items() >= PipelineConfig.from_mapping(context).transcription_environment().items()
    assert env["INPUT_BUCKET"]["Ref"].startswith("StorageInputBucket")
    assert env["OUTPUT_BUCKET"]["Ref"].startswith("StorageOutputBucket")
    assert env["DATA_ACCESS_ROLE_ARN"]["Fn::GetAtt"][0].startswith(
        "JobStarterTranscribeDataAccessRole"
    )


def test_the_stack_declares_every_output_the_reader_requires(template: Template):
    outputs = template.to_json()["Outputs"]

    assert set(required_outputs()) <= set(outputs)
    assert all(output.get("Description") for output in outputs.values())


def test_every_output_the_stack_can_declare_is_one_the_reader_knows(
    all_options_template: Template,
):
    """With every option on, the stack declares all its outputs: the reader must name each."""
    outputs = all_options_template.to_json()["Outputs"]

    assert set(outputs) == set(output_names())


def test_the_outputs_name_each_functions_log_group(template: Template):
    """The explicit log groups have generated names, not /aws/lambda/<function>: an operator
    finds them through the outputs."""
    outputs = template.to_json()["Outputs"]
    log_groups = resources_of(template, "AWS::Logs::LogGroup")

    for output_id, construct in {
        START_FUNCTION_LOG_GROUP_NAME: "JobStarterStartTranscription",
        JOB_STATE_FUNCTION_LOG_GROUP_NAME: "JobStateHandler",
        SWEEPER_FUNCTION_LOG_GROUP_NAME: "JobStateSweeper",
    }.items():
        referenced = outputs[output_id]["Value"]["Ref"]
        assert referenced in log_groups
        assert referenced.startswith(construct)


def test_the_harvesting_functions_get_the_configured_subtitle_style(synth_with):
    template = synth_with({"subtitle_style": '{"max_chars_per_line": 32, "speaker_prefix": true}'})

    harvesters = {
        k: f
        for k, f in _pipeline_functions(template).items()
        if k.startswith(("JobStateHandler", "JobStateSweeper"))
    }

    assert len(harvesters) == 2
    for function in harvesters.values():
        style = function["Properties"]["Environment"]["Variables"][SUBTITLE_STYLE]
        assert style_from_json(style) == SubtitleStyle(max_chars_per_line=32, speaker_prefix=True)


def test_every_pipeline_function_gets_the_profiles_in_one_variable(synth_with):
    profiles = [
        {"prefix": "calls/", "channel_identification": True, "subtitle_formats": []},
        {"prefix": "lectures/", "show_speaker_labels": True, "max_speaker_labels": 4},
    ]
    template = synth_with({"profiles": json.dumps(profiles)})

    functions = _pipeline_functions(template)
    assert len(functions) == 3
    for function in functions.values():
        text = function["Properties"]["Environment"]["Variables"][PROFILES]
        read = profiles_from_json(text)
        assert [profile.prefix for profile in read] == ["calls/", "lectures/"]
        assert read[0].job.channel_identification is True
        assert read[0].job.subtitle_formats == ()
        assert read[1].job.max_speaker_labels == 4
