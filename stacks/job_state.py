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
from stacks.permissions import allow, allow_showing_outputs, iam_literal, objects, use_key
from transcribe_pipeline import environment as names
from transcribe_pipeline.limits import SWEEPER_FUNCTION_TIMEOUT_SECONDS


class JobStateHandler(Construct):
    """Harvests finished jobs on their state-change event, and on a schedule as a safety net."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        input_bucket: s3.IBucket,
        input_prefix: str,
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
        uploads = objects(input_bucket, f"{iam_literal(input_prefix)}*")
        for pipeline_function in (self.handler, self.sweeper):
            function = pipeline_function.function
            allow(function, ["transcribe:GetTranscriptionJob"], [jobs_arn])
            allow_showing_outputs(
                function,
                output_bucket,
                job_name_prefix=job_name_prefix,
                writes_unredacted=writes_unredacted,
            )
            # A job started before the ledger is harvested only while its upload exists
            # (HeadObject; ListBucket makes a missing key a 404, not a 403).
            allow(function, ["s3:GetObject"], uploads)
            allow(function, ["s3:ListBucket"], [input_bucket.bucket_arn])
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
