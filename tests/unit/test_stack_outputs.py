"""The typed reader of the pipeline stack's outputs."""

from __future__ import annotations

import pytest

from transcribe_pipeline import stack_outputs as output
from transcribe_pipeline.stack_outputs import (
    MissingOutputError,
    StackOutputs,
    output_names,
    required_outputs,
)


def _answer(outputs: dict[str, str]) -> dict:
    """A describe_stacks answer for one stack with these outputs."""
    return {
        "Stacks": [
            {
                "StackName": "MyPipeline",
                "StackStatus": "UPDATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            }
        ]
    }


def _required() -> dict[str, str]:
    return {name: f"value of {name}" for name in required_outputs()}


def test_the_reader_takes_the_stack_name_status_and_each_output_into_its_field():
    outputs = {**_required(), output.SWEEPER_FUNCTION_LOG_GROUP_NAME: "sweeper-logs"}

    read = StackOutputs.from_describe_stacks(_answer(outputs))

    assert (read.stack, read.status) == ("MyPipeline", "UPDATE_COMPLETE")
    assert read.input_bucket == f"value of {output.INPUT_BUCKET_NAME}"
    assert read.start_dead_letter_queue_url == f"value of {output.START_DEAD_LETTER_QUEUE_URL}"
    assert read.job_name_prefix == f"value of {output.JOB_NAME_PREFIX}"
    assert read.sweeper_function_log_group == "sweeper-logs"


def test_outputs_a_stack_declares_only_with_some_settings_are_none_when_absent():
    read = StackOutputs.from_describe_stacks(_answer(_required()))

    assert read.notification_topic_arn is None
    assert read.encryption_key_arn is None


def test_a_missing_output_is_an_error_naming_the_stack_and_the_output():
    outputs = _required()
    del outputs[output.OUTPUT_BUCKET_NAME]

    with pytest.raises(MissingOutputError) as raised:
        StackOutputs.from_describe_stacks(_answer(outputs))

    assert raised.value.missing == [output.OUTPUT_BUCKET_NAME]
    assert "Stack 'MyPipeline' (UPDATE_COMPLETE) lacks the output(s) OutputBucketName" in str(
        raised.value
    )


def test_a_stack_without_outputs_names_every_required_one():
    with pytest.raises(MissingOutputError) as raised:
        StackOutputs.from_describe_stacks(_answer({}))

    assert raised.value.missing == required_outputs()


def test_each_field_reads_its_own_output():
    assert len(set(output_names())) == len(output_names())


def test_the_reader_knows_every_output_name_the_module_defines():
    defined = {
        value
        for name, value in vars(output).items()
        if name[0].isalpha()
        and name.isupper()
        and isinstance(value, str)
        and name != "DEFAULT_STACK_NAME"
    }

    assert defined == set(output_names())
