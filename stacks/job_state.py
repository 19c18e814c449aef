"""Transcribe job-state events -> readable transcripts or failure records (+ a sweeper)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.encryption import queue_encryption
from stacks.functions import PipelineFunction
from stacks.permissions import allow, objects, use_key
from transcribe_pipeline import environment as names
from transcribe_pipeline.layout import (
    FAILED_PREFIX,
    REDACTED_RESULT_PREFIX,
    TRANSCRIPTS_PREFIX,
    UNREDACTED_PREFIX,
)
from transcribe_pipeline.limits import SWEEPER_FUNCTION_TIMEOUT_SECONDS

# The output bucket's keys the harvesters read and write (the output layout).
_TRANSCRIPTS = f"{TRANSCRIPTS_PREFIX}*"
_FAILED = f"{FAILED_PREFIX}*"
_UNREDACTED = f"{UNREDACTED_PREFIX}*"


class JobStateHandler(Construct):
    """Harvests finished jobs on their state-change event, and on a schedule as a safety net."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        output_bucket: s3.IBucket,
        job_name_prefix: str,
        environment: dict[str, str],
        sweeper_environment: dict[str, str],
        topic: sns.ITopic | None,
        sweep_interval: Duration,
        metrics_namespace: str,
        log_retention: logs.RetentionDays,
        powertools_layer_version: int,
        encryption_key: kms.IKey | None,
        writes_unredacted: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=queue_encryption(encryption_key),
            encryption_master_key=encryption_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.DESTROY,
        )
        stack = Stack.of(self)
        jobs_arn = stack.format_arn(
            service="transcribe",
            resource="transcription-job",
            resource_name=f"{job_name_prefix}*",
        )
        self.handler, self.sweeper = (
            PipelineFunction(
                self,
                construct_id,
                handler=handler,
                description=description,
                timeout=timeout,
                environment=env,
                log_retention=log_retention,
                powertools_layer_version=powertools_layer_version,
            )
            for construct_id, handler, description, timeout, env in (
                (
                    "Handler",
                    "job_state_change.handler",
                    "Writes readable transcripts or failure records for finished jobs",
                    Duration.seconds(120),
                    environment,
                ),
                (
                    "Sweeper",
                    "sweeper.handler",
                    "Harvests finished jobs whose state-change event was lost",
                    Duration.seconds(SWEEPER_FUNCTION_TIMEOUT_SECONDS),
                    {
                        **environment,
                        **sweeper_environment,
                        names.METRICS_NAMESPACE: metrics_namespace,
                    },
                ),
            )
        )
        for pipeline_function in (self.handler, self.sweeper):
            function = pipeline_function.function
            allow(function, ["transcribe:GetTranscriptionJob"], [jobs_arn])
            # What harvest() does: read <job>.json (named after the job, at the root) or, for a
            # job that redacts, redacted-<job>.json; look up and write transcripts/ (.txt,
            # .json, our .srt/.vtt) and failed/, delete stale failed/.
            allow(
                function,
                ["s3:GetObject"],
                objects(
                    output_bucket,
                    f"{job_name_prefix}*",
                    f"{REDACTED_RESULT_PREFIX}{job_name_prefix}*",
                    _TRANSCRIPTS,
                    _FAILED,
                ),
            )
            # Without ListBucket, a HEAD of a missing key answers 403 instead of 404, and
            # "not harvested yet" would look like an error.
            allow(function, ["s3:ListBucket"], [output_bucket.bucket_arn])
            # Unredacted copies are written, never read: no pipeline role reads unredacted/.
            written = (_TRANSCRIPTS, _FAILED, *((_UNREDACTED,) if writes_unredacted else ()))
            allow(function, ["s3:PutObject"], objects(output_bucket, *written))
            allow(function, ["s3:DeleteObject"], objects(output_bucket, _FAILED))
            use_key(function, encryption_key, "kms:Decrypt", "kms:GenerateDataKey")
            if topic is not None:
                allow(function, ["sns:Publish"], [topic.topic_arn])
        allow(
            self.sweeper.function,
            ["transcribe:ListTranscriptionJobs"],
            # The Service Authorization Reference gives ListTranscriptionJobs no resource type:
            # "*" is the only Resource it accepts; the sweeper filters on the name prefix.
            ["*"],
        )
        allow(
            self.sweeper.function,
            ["cloudwatch:PutMetricData"],
            # PutMetricData has no resource type either; the condition pins the namespace.
            ["*"],
            {"StringEquals": {"cloudwatch:namespace": metrics_namespace}},
        )
        self.handler.function.configure_async_invoke(
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
        )
        self.rule = events.Rule(
            self,
            "ChangeRule",
            description="This pipeline's Transcribe jobs reaching COMPLETED or FAILED",
            event_pattern=events.EventPattern(
                source=["aws.transcribe"],
                detail_type=["Transcribe Job State Change"],
                detail={
                    "TranscriptionJobStatus": ["COMPLETED", "FAILED"],
                    "TranscriptionJobName": [{"prefix": job_name_prefix}],
                },
            ),
            targets=[
                targets.LambdaFunction(
                    self.handler.function,
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=185,
                    max_event_age=Duration.hours(24),
                )
            ],
        )
        self.sweep_rule = events.Rule(
            self,
            "SweepSchedule",
            description="Periodic sweep for finished jobs that were never harvested",
            schedule=events.Schedule.rate(sweep_interval),
            targets=[targets.LambdaFunction(self.sweeper.function, retry_attempts=2)],
        )
