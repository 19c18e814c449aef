"""Uploads -> EventBridge rule -> SQS start queue -> start function -> Transcribe jobs."""

from __future__ import annotations

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from stacks.encryption import queue_encryption
from stacks.functions import PipelineFunction
from stacks.permissions import allow, allow_showing_outputs, iam_literal, objects, use_key
from transcribe_pipeline import environment as names
from transcribe_pipeline.keys import encode_event_key
from transcribe_pipeline.limits import (
    START_BATCH_SIZE,
    START_FUNCTION_TIMEOUT_SECONDS,
    START_QUEUE_MAX_RECEIVES,
    START_QUEUE_VISIBILITY_TIMEOUT_SECONDS,
)
from transcribe_pipeline.starter import UPLOAD_EVENT_DETAIL_TYPE, UPLOAD_EVENT_SOURCE

FUNCTION_TIMEOUT = Duration.seconds(START_FUNCTION_TIMEOUT_SECONDS)
VISIBILITY_TIMEOUT = Duration.seconds(START_QUEUE_VISIBILITY_TIMEOUT_SECONDS)
TRANSCRIBE = "transcribe.amazonaws.com"
EVENTS = "events.amazonaws.com"
# What CDK's SqsQueue target grants EventBridge on a queue's KMS key (QueueGrants.sendMessages).
EVENTS_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")


def start_rate(jobs_per_second: int, concurrency: int) -> str:
    """One execution environment's share of the start quota, as START_RATE_PER_SECOND."""
    return f"{jobs_per_second / concurrency:.6g}"


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
        start_jobs_per_second: int,
        metrics_namespace: str,
        log_retention: logs.RetentionDays,
        powertools_layer_version: int,
        encryption_key: kms.IKey | None,
        writes_unredacted: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "StartDeadLetterQueue",
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.DESTROY,
            encryption=queue_encryption(encryption_key),
            encryption_master_key=encryption_key,
        )
        self.queue = sqs.Queue(
            self,
            "StartQueue",
            enforce_ssl=True,
            visibility_timeout=VISIBILITY_TIMEOUT,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=START_QUEUE_MAX_RECEIVES
            ),
            removal_policy=RemovalPolicy.DESTROY,
            encryption=queue_encryption(encryption_key),
            encryption_master_key=encryption_key,
        )
        stack = Stack.of(self)
        self.data_access_role = iam.Role(
            self,
            "TranscribeDataAccessRole",
            # Confused-deputy guard: only Transcribe acting for this account may assume it.
            assumed_by=iam.ServicePrincipal(
                TRANSCRIBE,
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="transcribe", resource="*", resource_name=None
                        )
                    },
                },
            ),
            description="Assumed by Amazon Transcribe to read uploads and write results",
        )
        # IAM would read * ? $ of the prefix as wildcards or variables: they stay literal.
        uploads = objects(input_bucket, f"{iam_literal(input_prefix)}*")
        allow(self.data_access_role, ["s3:GetObject"], uploads)
        # AWS's documented input-bucket policy for Transcribe's data-access role lists the
        # bucket: a missing key then reads as NoSuchKey, not AccessDenied. S3 checks that
        # listing with the requested key as s3:prefix, so the input prefix narrows it
        # (docs/transcribe-permissions.md).
        under_prefix = {"StringLike": {"s3:prefix": f"{iam_literal(input_prefix)}*"}}
        allow(
            self.data_access_role,
            ["s3:ListBucket"],
            [input_bucket.bucket_arn],
            under_prefix if input_prefix else None,
        )
        # Transcribe writes <job>.json (+ .srt/.vtt) at the output bucket's root (no OutputKey:
        # the output layout contract), so the role writes objects of the whole bucket.
        allow(self.data_access_role, ["s3:PutObject"], objects(output_bucket, "*"))
        # Reading SSE-KMS media, writing SSE-KMS results (OutputEncryptionKMSKeyId).
        use_key(
            self.data_access_role,
            encryption_key,
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:DescribeKey",
        )

        self.handler = PipelineFunction(
            self,
            "StartTranscription",
            handler="start_transcription.handler",
            description="Starts one Amazon Transcribe job per uploaded object version",
            environment={
                **environment,
                names.DATA_ACCESS_ROLE_ARN: self.data_access_role.role_arn,
                names.OUTPUT_ENCRYPTION_KMS_KEY_ID: (
                    encryption_key.key_arn if encryption_key else ""
                ),
                # Each concurrent batch's equal share of the start quota (throttling.Pacer).
                names.START_RATE_PER_SECOND: start_rate(start_jobs_per_second, concurrency),
                names.START_QUEUE_URL: self.queue.queue_url,
                # RejectedInputs, written as embedded-metric-format log lines: CloudWatch Logs
                # extracts them, so the function needs no cloudwatch: permission.
                names.METRICS_NAMESPACE: metrics_namespace,
            },
            timeout=FUNCTION_TIMEOUT,
            log_retention=log_retention,
            powertools_layer_version=powertools_layer_version,
        )
        function = self.handler.function
        function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=START_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=concurrency,
            )
        )
        self._allow_starting_jobs(
            function, output_bucket, job_name_prefix=job_name_prefix, encryption_key=encryption_key
        )
        # StartTranscriptionJob's dependent action: the caller must be able to read the media.
        # It is also what HeadObject needs, to tell an upload deleted before its start from a
        # configuration fault; without ListBucket, a missing key would answer 403, not 404.
        allow(function, ["s3:GetObject"], uploads)
        allow(function, ["s3:ListBucket"], [input_bucket.bucket_arn])
        # A rejection shows as the key's failure record; a rejection that lost a race to a newer
        # version repairs the key's outputs (docs/ledger.md).
        allow_showing_outputs(
            function,
            output_bucket,
            job_name_prefix=job_name_prefix,
            writes_unredacted=writes_unredacted,
        )
        # Queue messages and failed/ records under the key; StartTranscriptionJob with
        # OutputEncryptionKMSKeyId needs the caller to be able to use (describe) the key
        # (docs/transcribe-permissions.md).
        use_key(
            function,
            encryption_key,
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:DescribeKey",
        )

        object_filter: dict[str, object] = {}
        if input_prefix:
            # S3 puts keys URL-encoded into its events and EventBridge compares that text as
            # is: the filter is the prefix encoded the same way (docs/s3-event-keys.md).
            object_filter["key"] = [{"prefix": encode_event_key(input_prefix)}]
        self.rule = events.Rule(
            self,
            "UploadRule",
            description="Every object created in the input bucket, to the start queue",
            event_pattern=events.EventPattern(
                source=[UPLOAD_EVENT_SOURCE],
                detail_type=[UPLOAD_EVENT_DETAIL_TYPE],
                detail={
                    "bucket": {"name": [input_bucket.bucket_name]},
                    **({"object": object_filter} if object_filter else {}),
                },
            ),
            targets=[
                RuleOnlyQueueTarget(
                    self.queue,
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=185,
                    max_event_age=Duration.hours(24),
                )
            ],
        )

    def _allow_starting_jobs(
        self,
        function: iam.IGrantable,
        output_bucket: s3.IBucket,
        *,
        job_name_prefix: str,
        encryption_key: kms.IKey | None,
    ) -> None:
        """StartTranscriptionJob to this output bucket, Get on this pipeline's jobs, PassRole."""
        # The Service Authorization Reference gives StartTranscriptionJob no resource type
        # (Resource must be "*"); its condition keys pin what a started job may write to.
        output_conditions = {"transcribe:OutputBucketName": output_bucket.bucket_name}
        if encryption_key is not None:
            output_conditions["transcribe:OutputEncryptionKMSKeyId"] = encryption_key.key_arn
        allow(
            function,
            ["transcribe:StartTranscriptionJob"],
            ["*"],
            {"StringEquals": output_conditions},
        )
        # GetTranscriptionJob (a duplicate delivery's ConflictException) has the
        # transcription-job resource type: this pipeline's job names only.
        allow(
            function,
            ["transcribe:GetTranscriptionJob"],
            [
                Stack.of(self).format_arn(
                    service="transcribe",
                    resource="transcription-job",
                    resource_name=f"{job_name_prefix}*",
                )
            ],
        )
        allow(
            function,
            ["iam:PassRole"],
            [self.data_access_role.role_arn],
            {"StringEquals": {"iam:PassedToService": TRANSCRIBE}},
        )


@jsii.implements(events.IRuleTarget)
class RuleOnlyQueueTarget:
    """An SQS rule target whose queue and dead-letter queue accept events of that rule only.

    CDK's SqsQueue target conditions the queue policy on the rule's ARN, except when the queue
    has a KMS key: then it falls back to ``aws:SourceAccount``, and any rule of the account
    could write to the queue. Here both queue policies name the rule (``aws:SourceArn``) with
    or without a key; only the key policy stays account-wide, since a key statement naming
    the rule would be a dependency cycle (key -> rule -> queue -> key, aws-cdk#11158), and
    the queue policies already decide who may send.
    """

    def __init__(
        self,
        queue: sqs.IQueue,
        *,
        dead_letter_queue: sqs.IQueue,
        retry_attempts: int,
        max_event_age: Duration,
    ) -> None:
        self.queue = queue
        self.dead_letter_queue = dead_letter_queue
        self.retry_attempts = retry_attempts
        self.max_event_age = max_event_age

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        """Admit the rule to both queues (and EventBridge to their key); the target's settings."""
        only_this_rule = {"ArnEquals": {"aws:SourceArn": events.CfnRule.arn_for_rule(rule)}}
        for queue in (self.queue, self.dead_letter_queue):
            queue.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(EVENTS)],
                    actions=["sqs:SendMessage"],
                    resources=[queue.queue_arn],
                    conditions=only_this_rule,
                )
            )
        key = self.queue.encryption_master_key
        if key is not None:
            this_account = {"StringEquals": {"aws:SourceAccount": Stack.of(self.queue).account}}
            key.grant(iam.ServicePrincipal(EVENTS, conditions=this_account), *EVENTS_KEY_ACTIONS)
        return events.RuleTargetConfig(
            arn=self.queue.queue_arn,
            target_resource=self.queue,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(
                arn=self.dead_letter_queue.queue_arn
            ),
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self.retry_attempts,
                maximum_event_age_in_seconds=int(self.max_event_age.to_seconds()),
            ),
        )
