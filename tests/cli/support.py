"""Helpers of the CLI tests: a stand-in pipeline in moto, and running commands in-process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from pipeline_cli.cli import app
from pipeline_cli.ledger import to_attributes
from transcribe_pipeline import ledger_schema as schema
from transcribe_pipeline import stack_outputs as output
from transcribe_pipeline.keys import S3Object, job_name_for
from transcribe_pipeline.layout import failure_key, transcript_key
from transcribe_pipeline.ledger_schema import (
    State,
    table_keys_and_indexes,
)
from transcribe_pipeline.stack_outputs import StackOutputs

EVENTS = Path(__file__).resolve().parent.parent / "events"
REGION = "us-east-1"
PREFIX = "tp-"


# The ledger's keys and indexes as stacks/ledger.py declares them.
LEDGER_TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {"BillingMode": "PAY_PER_REQUEST", **table_keys_and_indexes()},
}
# The outputs every deployment of the stack has, over the same kinds of resources the real
# stack creates (the CLI calls no function, so their names are plain values).
TEMPLATE = {
    "Resources": {
        "LedgerTable": LEDGER_TABLE,
        "InputBucket": {"Type": "AWS::S3::Bucket"},
        "OutputBucket": {"Type": "AWS::S3::Bucket"},
        "StartDeadLetterQueue": {"Type": "AWS::SQS::Queue"},
        "StartQueue": {"Type": "AWS::SQS::Queue"},
        "JobStateDeadLetterQueue": {"Type": "AWS::SQS::Queue"},
    },
    "Outputs": {
        output.INPUT_BUCKET_NAME: {"Value": {"Ref": "InputBucket"}},
        output.OUTPUT_BUCKET_NAME: {"Value": {"Ref": "OutputBucket"}},
        output.LEDGER_TABLE_NAME: {"Value": {"Ref": "LedgerTable"}},
        output.START_QUEUE_URL: {"Value": {"Ref": "StartQueue"}},
        output.START_DEAD_LETTER_QUEUE_URL: {"Value": {"Ref": "StartDeadLetterQueue"}},
        output.JOB_STATE_DEAD_LETTER_QUEUE_URL: {"Value": {"Ref": "JobStateDeadLetterQueue"}},
        output.START_FUNCTION_NAME: {"Value": "tp-start"},
        output.JOB_STATE_FUNCTION_NAME: {"Value": "tp-job-state"},
        output.SWEEPER_FUNCTION_NAME: {"Value": "tp-sweeper"},
        output.JOB_NAME_PREFIX: {"Value": PREFIX},
    },
}


def version_item(obj: S3Object, state: State, sequencer: str, **attributes: Any) -> dict[str, Any]:
    """A version item as the functions write it (docs/ledger.md), with ``attributes`` added."""
    item: dict[str, Any] = {
        schema.PARTITION_KEY: obj.key,
        schema.SORT_KEY: schema.version_sort_key(sequencer),
        schema.SEQUENCER: schema.padded_sequencer(sequencer),
        schema.STATE_INDEX_SORT_KEY: obj.key,
        schema.VERSION_ID: obj.version_id,
        schema.ETAG: obj.etag,
        schema.SIZE: obj.size,
        schema.STATE: state.value,
        schema.ATTEMPT: 1,
        schema.PROFILE: "",
        schema.RECEIVED_AT: "2026-11-02T10:00:00+00:00",
    }
    if state in {State.RECEIVED, State.STARTED}:
        item[schema.OPEN] = schema.OPEN_VALUE
        item[schema.OPEN_SINCE] = item[schema.RECEIVED_AT]
    item.update(attributes)
    return item


@dataclass
class FakePipeline:
    """The stand-in stack's outputs and clients to arrange and inspect it."""

    outputs: StackOutputs
    s3: Any
    sqs: Any
    transcribe: Any
    dynamodb: Any
    lambda_: Any = None
    iam: Any = None
    sequencer: int = 0x6408CAD69598B05E  # S3's sequencers grow per key; one counter will do

    def record(self, obj: S3Object, state: State, **attributes: Any) -> dict[str, Any]:
        """Record ``obj`` in the ledger as the functions would: its version item, then the head
        naming it (the newest version seen)."""
        self.sequencer += 1
        sequencer = f"{self.sequencer:X}"
        if state in {State.STARTED, State.TRANSCRIBED, State.FAILED}:
            attributes.setdefault(schema.JOB, job_name_for(obj, prefix=PREFIX))
        item = version_item(obj, state, sequencer, **attributes)
        self.put_item(item)
        self.put_item(
            {
                schema.PARTITION_KEY: obj.key,
                schema.SORT_KEY: schema.HEAD_SORT_KEY,
                schema.SEQUENCER: item[schema.SEQUENCER],
                schema.VERSION_ID: obj.version_id,
            }
        )
        return item

    def put_item(self, item: dict[str, Any]) -> None:
        """Write one ledger item as given."""
        self.dynamodb.put_item(TableName=self.outputs.ledger_table, Item=to_attributes(item))

    def items_of(self, key: str) -> list[dict[str, Any]]:
        """Every ledger item of ``key`` (raw attribute values)."""
        return self.dynamodb.query(
            TableName=self.outputs.ledger_table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": key}},
        )["Items"]

    def deploy_job_state_function(self, variables: dict[str, str]) -> None:
        """The job-state function with this environment (what `reprocess` reads settings from)."""
        role = self.iam.create_role(
            RoleName="tp-job-state-role", AssumeRolePolicyDocument=json.dumps({})
        )["Role"]["Arn"]
        self.lambda_.create_function(
            FunctionName=self.outputs.job_state_function,
            Runtime="python3.12",
            Role=role,
            Handler="job_state_change.handler",
            Code={"ZipFile": _EMPTY_ZIP},
            Environment={"Variables": variables},
        )

    @property
    def input_bucket(self) -> str:
        """The input bucket's name."""
        return self.outputs.input_bucket

    @property
    def output_bucket(self) -> str:
        """The output bucket's name."""
        return self.outputs.output_bucket

    def put_input(self, key: str, body: bytes = b"ID3 fake mp3") -> S3Object:
        """Upload an input as a user would; return the version the pipeline would see."""
        self.s3.put_object(Bucket=self.input_bucket, Key=key, Body=body)
        return self.current(key)

    def current(self, key: str) -> S3Object:
        """The current version of an input, as its "Object Created" event names it."""
        head = self.s3.head_object(Bucket=self.input_bucket, Key=key)
        return S3Object(
            self.input_bucket,
            key,
            head["ContentLength"],
            head["VersionId"],
            head["ETag"].strip('"'),
        )

    def transcribe_done(self, obj: S3Object, text: str = "Hello world. This is a test.\n") -> str:
        """Write what the pipeline writes for a completed job, ledger item too; return the job."""
        job = job_name_for(obj, prefix=PREFIX)
        meta = {"job-name": job}
        for ext, body in (("txt", text), ("srt", "1\r\n00:00:00,040 --> 00:00:02,300\r\nHi\r\n")):
            key = transcript_key(obj.key, ext)
            self.s3.put_object(Bucket=self.output_bucket, Key=key, Body=body, Metadata=meta)
        raw = (EVENTS / "transcribeResult.json").read_text()
        self.s3.put_object(Bucket=self.output_bucket, Key=f"{job}.json", Body=raw)
        self.record(
            obj,
            State.TRANSCRIBED,
            job=job,
            language="en-US",
            duration_s=2.3,
            started_at="2026-11-02T10:00:01+00:00",
            finished_at="2026-11-02T10:00:09+00:00",
            outputs=[transcript_key(obj.key, ext) for ext in ("txt", "srt")],
        )
        return job

    def fail(self, obj: S3Object, reason: str, *, job: str | None = "") -> None:
        """Write a failure record and its ledger item; ``job=""`` means "the job of this
        version", None a rejection."""
        name = job_name_for(obj, prefix=PREFIX) if job == "" else job
        record = {"source": obj.uri, "job": name, "reason": reason}
        self.s3.put_object(
            Bucket=self.output_bucket,
            Key=failure_key(obj.key),
            Body=json.dumps(record),
            Metadata={"job-name": name or ""},
        )
        self.record(
            obj,
            State.FAILED if name else State.REJECTED,
            job=name,
            reason=reason,
            finished_at="2026-11-02T10:00:09+00:00",
            outputs=[failure_key(obj.key)],
        )

    def start_job(self, obj: S3Object, *, until: str = "COMPLETED") -> str:
        """A Transcribe job under the pipeline's name for ``obj``, advanced to ``until``."""
        name = job_name_for(obj, prefix=PREFIX)
        self.transcribe.start_transcription_job(
            TranscriptionJobName=name,
            LanguageCode="en-US",
            Media={"MediaFileUri": obj.uri},
            MediaFormat="mp3",
            OutputBucketName=self.output_bucket,
        )
        for _ in range(5):  # moto advances a job one state per GetTranscriptionJob
            job = self.transcribe.get_transcription_job(TranscriptionJobName=name)
            if job["TranscriptionJob"]["TranscriptionJobStatus"] == until:
                break
        return name


def _zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("job_state_change.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


_EMPTY_ZIP = _zip()


def run(*args: str, input: str | None = None) -> Result:
    """Invoke the CLI in-process, as the console script would run it."""
    return CliRunner().invoke(app, list(args), input=input)


def said(text: str) -> str:
    """Output with line wrapping undone, for asserting on messages."""
    return " ".join(text.split())
