"""CloudWatch alarms on everything that can strand an upload, and a dashboard of the pipeline."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.functions import SERVICE_NAME
from transcribe_pipeline.keys import RejectionClass
from transcribe_pipeline.metrics import (
    REASON_DIMENSION,
    REJECTED_INPUTS_METRIC,
    STUCK_JOBS_METRIC,
    SWEEP_FAILURES_METRIC,
)

# An upload event older than this has waited through many receives: starts are failing.
OLDEST_START_MESSAGE = Duration.minutes(15)
_PERIOD = Duration.minutes(5)
# Rejections that signal a fault rather than bad files: more than half of at least
# REJECTION_MIN_UPLOADS uploads in an hour. A fault (a misconfiguration Transcribe reports in
# words the start function does not know, an uploader sending the wrong files) rejects nearly
# every upload; users' stray non-media files are a minority of an hour's uploads, and the
# minimum keeps one or two bad files among a handful from paging anyone.
REJECTION_RATE_PERIOD = Duration.hours(1)
REJECTION_RATE_THRESHOLD = 0.5
REJECTION_MIN_UPLOADS = 5


class Monitoring(Construct):
    """Alarms (to an SNS alarm topic) on DLQs, functions, rules, the start queue, stuck jobs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        start_queue: sqs.IQueue,
        rules: Mapping[str, events.IRule],
        upload_rule: events.IRule,
        metrics_namespace: str,
        sweep_interval: Duration,
        notification_email: str | None,
        encryption_key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        # CloudWatch cannot publish to a topic under the AWS managed key alias/aws/sns, so the
        # alarm topic uses the stack's key when there is one (CloudWatch admitted to it below)
        # and SNS's default otherwise (nag_acknowledgments.py, checkov_allowlist.toml).
        self.alarm_topic = sns.Topic(
            self, "AlarmTopic", enforce_ssl=True, master_key=encryption_key
        )
        if encryption_key is not None:
            encryption_key.grant(
                iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                "kms:Decrypt",
                "kms:GenerateDataKey*",
            )
        if notification_email is not None:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(notification_email))
        self._action = cloudwatch_actions.SnsAction(self.alarm_topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        for name, queue in dead_letter_queues.items():
            self._alarm(
                f"{name}Depth",
                queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                f"{name} holds messages: events that failed every retry (see README Operations)",
            )
        for name, function in functions.items():
            self._alarm(
                f"{name}Errors",
                function.metric_errors(period=_PERIOD, statistic="Sum"),
                f"{name} raised errors (retried; persistent errors end in a DLQ)",
            )
            self._alarm(
                f"{name}Throttles",
                function.metric_throttles(period=_PERIOD, statistic="Sum"),
                f"{name} was throttled by Lambda (account concurrency)",
            )
        for name, rule in rules.items():
            for metric_name, meaning in (
                ("FailedInvocations", "could not deliver events to its target"),
                ("InvocationsSentToDLQ", "sent events to its dead-letter queue"),
            ):
                self._alarm(
                    f"{name}{metric_name}",
                    _rule_metric(rule, metric_name),
                    f"The {name} rule {meaning}",
                )
        self._alarm(
            "StartQueueOldestMessage",
            start_queue.metric_approximate_age_of_oldest_message(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            "An upload has waited over 15 minutes to start a job (throttling or failing starts)",
            threshold=OLDEST_START_MESSAGE.to_seconds(),
        )
        stuck_jobs = cloudwatch.Metric(
            namespace=metrics_namespace,
            metric_name=STUCK_JOBS_METRIC,
            period=sweep_interval,
            statistic="Maximum",
        )
        self._alarm(
            "StuckJobs",
            stuck_jobs,
            "The sweeper found jobs QUEUED/IN_PROGRESS longer than stuck_after_hours",
        )
        self._alarm(
            "SweepFailures",
            cloudwatch.Metric(
                namespace=metrics_namespace,
                metric_name=SWEEP_FAILURES_METRIC,
                period=sweep_interval,
                statistic="Maximum",
            ),
            "The sweeper could not harvest some finished jobs (see its log for their names)",
        )
        rejection_rate = self._rejection_rate(metrics_namespace, upload_rule)
        self._alarm(
            "RejectionRate",
            rejection_rate,
            "More than half of the last hour's uploads were rejected: a fault, not bad files",
            threshold=REJECTION_RATE_THRESHOLD,
        )
        self.dashboard = self._dashboard(
            functions, dead_letter_queues, start_queue, stuck_jobs, rejection_rate
        )

    @staticmethod
    def _rejection_rate(namespace: str, upload_rule: events.IRule) -> cloudwatch.MathExpression:
        """Rejected uploads (RejectedInputs, every reason class) per upload matched, hourly."""
        rejected = {
            f"r{index}": cloudwatch.Metric(
                namespace=namespace,
                metric_name=REJECTED_INPUTS_METRIC,
                # Powertools adds the service dimension to every metric it writes.
                dimensions_map={"service": SERVICE_NAME, REASON_DIMENSION: reason.value},
                period=REJECTION_RATE_PERIOD,
                statistic="Sum",
            )
            for index, reason in enumerate(RejectionClass)
        }
        uploads = _rule_metric(upload_rule, "MatchedEvents").with_(period=REJECTION_RATE_PERIOD)
        total = " + ".join(f"FILL({name}, 0)" for name in rejected)
        return cloudwatch.MathExpression(
            expression=f"IF(uploads >= {REJECTION_MIN_UPLOADS}, ({total}) / uploads, 0)",
            using_metrics={**rejected, "uploads": uploads},
            label="Rejected share of uploads",
            period=REJECTION_RATE_PERIOD,
        )

    def _alarm(
        self, construct_id: str, metric: cloudwatch.IMetric, description: str, threshold: float = 0
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            # No data (no traffic, no sweep yet) is not a problem.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        self.alarms[construct_id] = alarm

    def _dashboard(
        self,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        start_queue: sqs.IQueue,
        stuck_jobs: cloudwatch.IMetric,
        rejection_rate: cloudwatch.IMetric,
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(self.alarms.values()), width=24
            )
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Start queue",
                left=[
                    start_queue.metric_approximate_number_of_messages_visible(),
                    start_queue.metric_number_of_messages_deleted(),
                ],
                right=[start_queue.metric_approximate_age_of_oldest_message()],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queues",
                left=[
                    queue.metric_approximate_number_of_messages_visible(label=name)
                    for name, queue in dead_letter_queues.items()
                ],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Invocations",
                left=[f.metric_invocations(label=name) for name, f in functions.items()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Errors and throttles",
                left=[f.metric_errors(label=f"{name} errors") for name, f in functions.items()]
                + [f.metric_throttles(label=f"{name} throttles") for name, f in functions.items()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Duration (p90)",
                left=[
                    f.metric_duration(label=name, statistic="p90") for name, f in functions.items()
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Stuck jobs (sweeper)", left=[stuck_jobs], width=12),
            cloudwatch.GraphWidget(
                title="Rejected share of uploads", left=[rejection_rate], width=12
            ),
        )
        return dashboard


def _rule_metric(rule: events.IRule, metric_name: str) -> cloudwatch.Metric:
    """An AWS/Events metric of one rule (the Rule construct has no metric helpers)."""
    return cloudwatch.Metric(
        namespace="AWS/Events",
        metric_name=metric_name,
        dimensions_map={"RuleName": rule.rule_name},
        period=_PERIOD,
        statistic="Sum",
    )
