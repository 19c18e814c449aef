"""Helpers of the CLI tests: a stand-in pipeline in moto, and running commands in-process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from pipeline_cli.cli import app
from transcribe_pipeline import stack_outputs as output
from transcribe_pipeline.keys import S3Object, job_name_for
from transcribe_pipeline.layout import failure_key, transcript_key
from transcribe_pipeline.ledger_schema import (
    OPEN,
    OPEN_INDEX,
    OPEN_SINCE,
    PARTITION_KEY,
    SORT_KEY,
    STATE,
    STATE_INDEX,
    STATE_INDEX_SORT_KEY,
)
from transcribe_pipeline.stack_outputs import StackOutputs

EVENTS = Path(__file__).resolve().parent.parent / "events"
REGION = "us-east-1"
PREFIX = "tp-"


def _index(name: str, partition: str, sort: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": partition, "KeyType": "HASH"},
            {"AttributeName": sort, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


# The ledger's keys and indexes as stacks/ledger.py declares them.
LEDGER_TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (PARTITION_KEY, SORT_KEY, OPEN, OPEN_SINCE, STATE, STATE_INDEX_SORT_KEY)
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            _index(OPEN_INDEX, OPEN, OPEN_SINCE),
            _index(STATE_INDEX, STATE, STATE_INDEX_SORT_KEY),
        ],
    },
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


@dataclass(frozen=True)
class FakePipeline:
    """The stand-in stack's outputs and clients to arrange and inspect it."""

    outputs: StackOutputs
    s3: Any
    sqs: Any
    transcribe: Any

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
        """Write what the pipeline writes for a completed job; return the job name."""
        job = job_name_for(obj, prefix=PREFIX)
        meta = {"job-name": job}
        for ext, body in (("txt", text), ("srt", "1\r\n00:00:00,040 --> 00:00:02,300\r\nHi\r\n")):
            key = transcript_key(obj.key, ext)
            self.s3.put_object(Bucket=self.output_bucket, Key=key, Body=body, Metadata=meta)
        raw = (EVENTS / "transcribeResult.json").read_text()
        self.s3.put_object(Bucket=self.output_bucket, Key=f"{job}.json", Body=raw)
        return job

    def fail(self, obj: S3Object, reason: str, *, job: str | None = "") -> None:
        """Write a failure record; ``job=""`` means "the job of this version", None a rejection."""
        name = job_name_for(obj, prefix=PREFIX) if job == "" else job
        record = {"source": obj.uri, "job": name, "reason": reason}
        self.s3.put_object(
            Bucket=self.output_bucket,
            Key=failure_key(obj.key),
            Body=json.dumps(record),
            Metadata={"job-name": name or ""},
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


def run(*args: str, input: str | None = None) -> Result:
    """Invoke the CLI in-process, as the console script would run it."""
    return CliRunner().invoke(app, list(args), input=input)


def said(text: str) -> str:
    """Output with line wrapping undone, for asserting on messages."""
    return " ".join(text.split())
