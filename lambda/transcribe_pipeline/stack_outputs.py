"""The pipeline stack's default name, the names of its outputs, and one typed reader of them.

The outputs are the contract between the stack that declares them (stacks/pipeline_stack.py)
and everything that operates a deployment: the operator CLI, the local cloud's deploy helper,
the benchmarks and the tests. The contract lives in the function package because that is the
one package all of them can import: the CLI is installed with only ``pipeline_cli`` and
``transcribe_pipeline`` (pyproject.toml), and the stack must import neither the CLI nor the
local cloud. It needs nothing beyond the standard library, so it costs the functions nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

# The CloudFormation stack's name unless the deployment chooses another.
DEFAULT_STACK_NAME = "TranscriptionPipeline"

# The stack's outputs (CfnOutput ids, which CloudFormation reports as OutputKey).
INPUT_BUCKET_NAME = "InputBucketName"
OUTPUT_BUCKET_NAME = "OutputBucketName"
LEDGER_TABLE_NAME = "LedgerTableName"
START_QUEUE_URL = "StartQueueUrl"
START_DEAD_LETTER_QUEUE_URL = "StartDeadLetterQueueUrl"
JOB_STATE_DEAD_LETTER_QUEUE_URL = "JobStateDeadLetterQueueUrl"
START_FUNCTION_NAME = "StartFunctionName"
JOB_STATE_FUNCTION_NAME = "JobStateFunctionName"
SWEEPER_FUNCTION_NAME = "SweeperFunctionName"
START_FUNCTION_LOG_GROUP_NAME = "StartFunctionLogGroupName"
JOB_STATE_FUNCTION_LOG_GROUP_NAME = "JobStateFunctionLogGroupName"
SWEEPER_FUNCTION_LOG_GROUP_NAME = "SweeperFunctionLogGroupName"
JOB_NAME_PREFIX = "JobNamePrefix"
ALARM_TOPIC_ARN = "AlarmTopicArn"
DASHBOARD_NAME = "DashboardName"
NOTIFICATION_TOPIC_ARN = "NotificationTopicArn"  # only with a notification e-mail
ENCRYPTION_KEY_ARN = "EncryptionKeyArn"  # only with use_kms_key

_OUTPUT = "output"  # dataclass field metadata: the output a field is read from


def _output(name: str) -> Any:
    """A required field read from the output ``name``."""
    return field(metadata={_OUTPUT: name})


def _optional(name: str) -> Any:
    """A field read from the output ``name``, None when the stack does not declare it."""
    return field(default=None, metadata={_OUTPUT: name})


class MissingOutputError(LookupError):
    """A stack lacks outputs every deployment of the pipeline has: it is not (yet) a pipeline."""

    def __init__(self, stack: str, status: str, missing: list[str]) -> None:
        where = f"Stack {stack!r}" + (f" ({status})" if status else "")
        super().__init__(
            f"{where} lacks the output(s) {', '.join(missing)}: it is not (or not yet) a "
            "deployed transcription pipeline."
        )
        self.stack = stack
        self.status = status
        self.missing = missing


@dataclass(frozen=True)
class StackOutputs:
    """A deployed pipeline as its stack's outputs describe it.

    Required: the outputs every version of the stack has declared. Optional: the ones a stack
    declares only with some settings, or that a stack deployed by an earlier version lacks
    (the log groups, alarm topic, dashboard and ledger table were added later).
    """

    stack: str
    status: str
    input_bucket: str = _output(INPUT_BUCKET_NAME)
    output_bucket: str = _output(OUTPUT_BUCKET_NAME)
    start_queue_url: str = _output(START_QUEUE_URL)
    start_dead_letter_queue_url: str = _output(START_DEAD_LETTER_QUEUE_URL)
    job_state_dead_letter_queue_url: str = _output(JOB_STATE_DEAD_LETTER_QUEUE_URL)
    start_function: str = _output(START_FUNCTION_NAME)
    job_state_function: str = _output(JOB_STATE_FUNCTION_NAME)
    sweeper_function: str = _output(SWEEPER_FUNCTION_NAME)
    job_name_prefix: str = _output(JOB_NAME_PREFIX)
    start_function_log_group: str | None = _optional(START_FUNCTION_LOG_GROUP_NAME)
    job_state_function_log_group: str | None = _optional(JOB_STATE_FUNCTION_LOG_GROUP_NAME)
    sweeper_function_log_group: str | None = _optional(SWEEPER_FUNCTION_LOG_GROUP_NAME)
    # A stack deployed before the ledger lacks it until its next `cdk deploy`.
    ledger_table: str | None = _optional(LEDGER_TABLE_NAME)
    alarm_topic_arn: str | None = _optional(ALARM_TOPIC_ARN)
    dashboard_name: str | None = _optional(DASHBOARD_NAME)
    notification_topic_arn: str | None = _optional(NOTIFICATION_TOPIC_ARN)
    encryption_key_arn: str | None = _optional(ENCRYPTION_KEY_ARN)

    @classmethod
    def from_mapping(
        cls, stack: str, outputs: Mapping[str, str], *, status: str = ""
    ) -> StackOutputs:
        """Read outputs given as ``{OutputKey: OutputValue}``; MissingOutputError names gaps."""
        missing = [name for name in required_outputs() if name not in outputs]
        if missing:
            raise MissingOutputError(stack, status, missing)
        # Every name is present or optional (checked above); the dataclass types the values.
        values: dict[str, Any] = {
            f.name: outputs.get(f.metadata[_OUTPUT]) for f in fields(cls) if _OUTPUT in f.metadata
        }
        return cls(stack=stack, status=status, **values)

    @classmethod
    def from_stack(cls, stack: Mapping[str, Any]) -> StackOutputs:
        """Read one stack of a CloudFormation ``describe_stacks`` answer."""
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return cls.from_mapping(stack["StackName"], outputs, status=stack["StackStatus"])

    @classmethod
    def from_describe_stacks(cls, answer: Mapping[str, Any]) -> StackOutputs:
        """Read a ``describe_stacks(StackName=...)`` answer (which names exactly one stack)."""
        (stack,) = answer["Stacks"]
        return cls.from_stack(stack)


def output_names() -> list[str]:
    """Every output the reader knows, in field order."""
    return [f.metadata[_OUTPUT] for f in fields(StackOutputs) if _OUTPUT in f.metadata]


def required_outputs() -> list[str]:
    """The outputs a stack must declare to be read as a pipeline."""
    return [
        f.metadata[_OUTPUT]
        for f in fields(StackOutputs)
        if _OUTPUT in f.metadata and f.default is not None
    ]
