"""The TranscriptionPipeline stack: composes storage, job starter, job-state handler, monitoring."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.config import PipelineConfig
from stacks.encryption import pipeline_key
from stacks.job_starter import JobStarter
from stacks.job_state import JobStateHandler
from stacks.ledger import Ledger, allow_outcome_events
from stacks.monitoring import Monitoring
from stacks.resource_check import TranscribeResourceCheck
from stacks.storage import Storage
from transcribe_pipeline import environment as names
from transcribe_pipeline import stack_outputs as output

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS, 7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS, 150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS, 545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS, 1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS, 2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS, 2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS, 3653: logs.RetentionDays.TEN_YEARS,
}  # fmt: skip


class PipelineStack(Stack):
    """Uploads to a private bucket become transcripts in another, with nothing lost."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: PipelineConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        key = (
            pipeline_key(self, "EncryptionKey", retain_data=config.retain_data)
            if config.use_kms_key
            else None
        )
        storage = Storage(self, "Storage", retain_data=config.retain_data, encryption_key=key)
        ledger = Ledger(self, "Ledger", retain_data=config.retain_data, encryption_key=key)
        topic = self._topic(config.notification_email, key)
        retention = _RETENTION[config.log_retention_days]
        environment = {
            names.INPUT_BUCKET: storage.input_bucket.bucket_name,
            names.OUTPUT_BUCKET: storage.output_bucket.bucket_name,
            names.LEDGER_TABLE: ledger.table.table_name,
            **config.transcription_environment(),
            names.TOPIC_ARN: topic.topic_arn if topic else "",
        }
        # The functions' own metrics (the sweeper's, the start function's RejectedInputs); one
        # namespace per stack keeps deployments apart.
        metrics_namespace = f"TranscriptionPipeline/{self.stack_name}"
        starter = JobStarter(
            self,
            "JobStarter",
            input_bucket=storage.input_bucket,
            output_bucket=storage.output_bucket,
            input_prefix=config.input_prefix,
            job_name_prefix=config.job_name_prefix,
            environment=environment,
            concurrency=config.starter_concurrency,
            start_jobs_per_second=config.start_jobs_per_second,
            metrics_namespace=metrics_namespace,
            log_retention=retention,
            powertools_layer_version=config.powertools_layer_version,
            encryption_key=key,
            writes_unredacted=config.keeps_unredacted,
        )
        job_state = JobStateHandler(
            self,
            "JobState",
            input_bucket=storage.input_bucket,
            input_prefix=config.input_prefix,
            output_bucket=storage.output_bucket,
            job_name_prefix=config.job_name_prefix,
            environment=environment,
            sweeper_environment=config.sweeper_environment(),
            topic=topic,
            sweep_interval=Duration.minutes(config.sweep_interval_minutes),
            metrics_namespace=metrics_namespace,
            log_retention=retention,
            powertools_layer_version=config.powertools_layer_version,
            encryption_key=key,
            writes_unredacted=config.keeps_unredacted,
        )
        ledger.allow_starter(starter.handler.function)
        ledger.allow_harvester(job_state.handler.function)
        ledger.allow_sweeper(job_state.sweeper.function)
        # Each function may announce an outcome (the sweeper retries unsent announcements).
        for function in (
            starter.handler.function,
            job_state.handler.function,
            job_state.sweeper.function,
        ):
            allow_outcome_events(self, function)
        named = config.named_resources()
        if named:
            TranscribeResourceCheck(
                self,
                "ResourceCheck",
                resources=named,
                log_retention=retention,
                powertools_layer_version=config.powertools_layer_version,
            )
        monitoring = Monitoring(
            self,
            "Monitoring",
            functions={
                "StartTranscription": starter.handler.function,
                "JobStateChange": job_state.handler.function,
                "Sweeper": job_state.sweeper.function,
            },
            dead_letter_queues={
                "StartDeadLetterQueue": starter.dead_letter_queue,
                "JobStateDeadLetterQueue": job_state.dead_letter_queue,
            },
            start_queue=starter.queue,
            rules={"UploadRule": starter.rule, "JobStateChangeRule": job_state.rule},
            upload_rule=starter.rule,
            metrics_namespace=metrics_namespace,
            sweep_interval=Duration.minutes(config.sweep_interval_minutes),
            notification_email=config.notification_email,
            encryption_key=key,
        )
        outputs = {
            output.INPUT_BUCKET_NAME: (storage.input_bucket.bucket_name, "Upload media here"),
            output.OUTPUT_BUCKET_NAME: (
                storage.output_bucket.bucket_name,
                "Transcripts (transcripts/), failure records (failed/), raw <job>.json",
            ),
            output.LEDGER_TABLE_NAME: (
                ledger.table.table_name,
                "The ledger: one item per upload version (docs/ledger.md)",
            ),
            output.START_QUEUE_URL: (
                starter.queue.queue_url,
                "Upload events waiting to start a job",
            ),
            output.START_DEAD_LETTER_QUEUE_URL: (
                starter.dead_letter_queue.queue_url,
                "Upload events that could not start a job after retries",
            ),
            output.JOB_STATE_DEAD_LETTER_QUEUE_URL: (
                job_state.dead_letter_queue.queue_url,
                "Job-state events that could not be harvested after retries",
            ),
            output.START_FUNCTION_NAME: (starter.handler.function.function_name, "Starts jobs"),
            output.JOB_STATE_FUNCTION_NAME: (
                job_state.handler.function.function_name,
                "Harvests finished jobs",
            ),
            output.SWEEPER_FUNCTION_NAME: (
                job_state.sweeper.function.function_name,
                "Harvests jobs whose event was lost",
            ),
            # The explicit log groups have generated names, not /aws/lambda/<function name>.
            output.START_FUNCTION_LOG_GROUP_NAME: (
                starter.handler.log_group.log_group_name,
                "Logs of the start function",
            ),
            output.JOB_STATE_FUNCTION_LOG_GROUP_NAME: (
                job_state.handler.log_group.log_group_name,
                "Logs of the job-state function",
            ),
            output.SWEEPER_FUNCTION_LOG_GROUP_NAME: (
                job_state.sweeper.log_group.log_group_name,
                "Logs of the sweeper",
            ),
            output.JOB_NAME_PREFIX: (config.job_name_prefix, "Prefix of this pipeline's job names"),
            output.ALARM_TOPIC_ARN: (monitoring.alarm_topic.topic_arn, "Alarm notifications"),
            output.DASHBOARD_NAME: (monitoring.dashboard.dashboard_name, "CloudWatch dashboard"),
        }
        if topic is not None:
            outputs[output.NOTIFICATION_TOPIC_ARN] = (topic.topic_arn, "Job outcome notices")
        if key is not None:
            outputs[output.ENCRYPTION_KEY_ARN] = (
                key.key_arn,
                "Customer-managed KMS key of the buckets, queues, topic, ledger and transcripts",
            )
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)

    def _topic(self, email: str | None, key: kms.IKey | None) -> sns.Topic | None:
        """An encrypted SNS topic for job outcomes, only when an e-mail address is configured."""
        if email is None:
            return None
        # Without the pipeline's key, SNS's AWS managed key: the publishing functions need no
        # kms: permission for it (its key policy admits any caller SNS authorizes).
        master_key = key or kms.Alias.from_alias_name(self, "SnsManagedKey", "alias/aws/sns")
        topic = sns.Topic(self, "NotificationTopic", enforce_ssl=True, master_key=master_key)
        topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic
