"""Transcribe job-state events -> readable transcripts or failure records (+ a sweeper)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.functions import PipelineFunction


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
        topic: sns.ITopic | None,
        sweep_interval: Duration,
        log_retention: logs.RetentionDays,
        powertools_layer_version: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
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
                environment=environment,
                log_retention=log_retention,
                powertools_layer_version=powertools_layer_version,
            )
            for construct_id, handler, description, timeout in (
                (
                    "Handler",
                    "job_state_change.handler",
                    "Writes readable transcripts or failure records for finished jobs",
                    Duration.seconds(120),
                ),
                (
                    "Sweeper",
                    "sweeper.handler",
                    "Harvests finished jobs whose state-change event was lost",
                    Duration.minutes(10),
                ),
            )
        )
        for pipeline_function in (self.handler, self.sweeper):
            function = pipeline_function.function
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["transcribe:GetTranscriptionJob"], resources=[jobs_arn]
                )
            )
            output_bucket.grant_read(function)
            output_bucket.grant_put(function, "transcripts/*")
            output_bucket.grant_put(function, "failed/*")
            output_bucket.grant_delete(function, "failed/*")
            if topic is not None:
                topic.grant_publish(function)
        self.sweeper.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["transcribe:ListTranscriptionJobs"],
                # List has no resource type in the service authorization reference.
                resources=["*"],
            )
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
