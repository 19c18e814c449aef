"""Uploads -> EventBridge rule -> SQS start queue -> start function -> Transcribe jobs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.functions import PipelineFunction

FUNCTION_TIMEOUT = Duration.seconds(60)
# AWS asks for a visibility timeout of at least 6x the function timeout for SQS sources.
VISIBILITY_TIMEOUT = Duration.seconds(6 * 60)
MAX_RECEIVES = 5


class JobStarter(Construct):
    """Buffers upload events in SQS and starts one Transcribe job per object version."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        input_bucket: s3.IBucket,
        output_bucket: s3.IBucket,
        input_prefix: str,
        job_name_prefix: str,
        environment: dict[str, str],
        concurrency: int,
        log_retention: logs.RetentionDays,
        powertools_layer_version: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "StartDeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.queue = sqs.Queue(
            self,
            "StartQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=VISIBILITY_TIMEOUT,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVES
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.data_access_role = iam.Role(
            self,
            "TranscribeDataAccessRole",
            assumed_by=iam.ServicePrincipal("transcribe.amazonaws.com"),
            description="Assumed by Amazon Transcribe to read uploads and write results",
        )
        input_bucket.grant_read(self.data_access_role)
        output_bucket.grant_put(self.data_access_role)

        self.handler = PipelineFunction(
            self,
            "StartTranscription",
            handler="start_transcription.handler",
            description="Starts one Amazon Transcribe job per uploaded object version",
            environment={
                **environment,
                "DATA_ACCESS_ROLE_ARN": self.data_access_role.role_arn,
            },
            timeout=FUNCTION_TIMEOUT,
            log_retention=log_retention,
            powertools_layer_version=powertools_layer_version,
        )
        function = self.handler.function
        function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=10,
                report_batch_item_failures=True,
                max_concurrency=concurrency,
            )
        )
        stack = Stack.of(self)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["transcribe:StartTranscriptionJob", "transcribe:GetTranscriptionJob"],
                resources=[
                    stack.format_arn(
                        service="transcribe",
                        resource="transcription-job",
                        resource_name=f"{job_name_prefix}*",
                    )
                ],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.data_access_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "transcribe.amazonaws.com"}},
            )
        )
        # Transcribe checks the caller can read the media, as well as the data-access role.
        input_bucket.grant_read(function)
        output_bucket.grant_put(function, "failed/*")

        object_filter: dict[str, object] = {}
        if input_prefix:
            object_filter["key"] = [{"prefix": input_prefix}]
        self.rule = events.Rule(
            self,
            "UploadRule",
            description="Every object created in the input bucket, to the start queue",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [input_bucket.bucket_name]},
                    **({"object": object_filter} if object_filter else {}),
                },
            ),
            targets=[
                targets.SqsQueue(
                    self.queue,
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=185,
                    max_event_age=Duration.hours(24),
                )
            ],
        )
