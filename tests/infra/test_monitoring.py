"""Monitoring: alarms on everything that can strand an upload, to an alarm topic; a dashboard."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match, Template

from tests.infra.conftest import resources_of
from transcribe_pipeline.keys import RejectionClass


def alarms_on(template: Template, namespace: str, metric: str) -> list[dict[str, Any]]:
    """The alarm properties on ``namespace``/``metric``."""
    return [
        alarm["Properties"]
        for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == namespace
        and alarm["Properties"].get("MetricName") == metric
    ]


def dimension(alarm: dict[str, Any]) -> str:
    """The logical ID (hash kept) an alarm's single dimension refers to."""
    (value,) = [d["Value"] for d in alarm["Dimensions"]]
    return str(value.get("Ref") or value["Fn::GetAtt"][0])


def test_each_dead_letter_queue_alarms_on_its_first_message(template: Template):
    alarms = alarms_on(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")

    queues = sorted(dimension(a).rstrip("0123456789ABCDEF") for a in alarms)
    assert queues == ["JobStarterStartDeadLetterQueue", "JobStateDeadLetterQueue"]
    assert all(
        (a["Threshold"], a["ComparisonOperator"]) == (0, "GreaterThanThreshold") for a in alarms
    )


def test_every_pipeline_function_alarms_on_errors_and_on_throttles(template: Template):
    functions = sorted(resources_of(template, "AWS::Lambda::Function"))
    pipeline = [f for f in functions if f.startswith(("JobStarter", "JobState"))]

    for metric in ("Errors", "Throttles"):
        alarmed = sorted(dimension(a) for a in alarms_on(template, "AWS/Lambda", metric))
        assert alarmed == pipeline, metric


def test_both_event_rules_alarm_on_failed_deliveries_and_dead_letters(template: Template):
    rules = sorted(
        k
        for k in resources_of(template, "AWS::Events::Rule")
        if k.startswith(("JobStarterUploadRule", "JobStateChangeRule"))
    )

    for metric in ("FailedInvocations", "InvocationsSentToDLQ"):
        alarmed = sorted(dimension(a) for a in alarms_on(template, "AWS/Events", metric))
        assert alarmed == rules, metric


def test_an_upload_waiting_over_fifteen_minutes_to_start_raises_an_alarm(template: Template):
    (alarm,) = alarms_on(template, "AWS/SQS", "ApproximateAgeOfOldestMessage")

    assert dimension(alarm).startswith("JobStarterStartQueue")
    assert alarm["Threshold"] == 900


def test_stuck_jobs_reported_by_the_sweeper_raise_an_alarm(template: Template):
    alarms = [
        a["Properties"]
        for a in resources_of(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "StuckJobs"
    ]

    (alarm,) = alarms
    assert alarm["Namespace"] == "TranscriptionPipeline/TranscriptionPipeline"
    assert alarm["Threshold"] == 0
    sweeper = next(
        f
        for k, f in resources_of(template, "AWS::Lambda::Function").items()
        if k.startswith("JobStateSweeper")
    )
    assert (
        sweeper["Properties"]["Environment"]["Variables"]["METRICS_NAMESPACE"]
        == (alarm["Namespace"])
    )


def test_the_sweeper_may_put_metrics_only_in_its_namespace(template: Template):
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "cloudwatch:PutMetricData",
                            "Effect": "Allow",
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {
                                    "cloudwatch:namespace": (
                                        "TranscriptionPipeline/TranscriptionPipeline"
                                    )
                                }
                            },
                        }
                    ]
                )
            }
        },
    )


def test_every_alarm_notifies_the_alarm_topic_and_ignores_missing_data(template: Template):
    (topic_id,) = [k for k in resources_of(template, "AWS::SNS::Topic") if "AlarmTopic" in k]
    alarms = resources_of(template, "AWS::CloudWatch::Alarm").values()

    # DLQs, function errors and throttles, rules, oldest start message, stuck jobs, sweep
    # failures, rejection rate.
    assert len(alarms) == 2 + 3 * 2 + 2 * 2 + 1 + 1 + 1 + 1
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


def test_the_alarm_topic_mails_the_notification_address_when_configured(synth_with):
    template = synth_with({"notification_email": "ops@example.com"})

    subscriptions = [
        s["Properties"]
        for s in resources_of(template, "AWS::SNS::Subscription").values()
        if "AlarmTopic" in s["Properties"]["TopicArn"]["Ref"]
    ]
    assert subscriptions == [
        {
            "Protocol": "email",
            "Endpoint": "ops@example.com",
            "TopicArn": subscriptions[0]["TopicArn"],
        }
    ]


def test_the_alarm_topic_accepts_only_tls(template: Template):
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_the_pipeline_has_a_dashboard_named_in_the_outputs(template: Template):
    (dashboard_id,) = resources_of(template, "AWS::CloudWatch::Dashboard")

    template.has_output("DashboardName", {"Value": {"Ref": dashboard_id}})
    template.has_output("AlarmTopicArn", {})


def test_jobs_the_sweeper_could_not_harvest_raise_an_alarm(template: Template):
    (alarm,) = alarms_on(template, "TranscriptionPipeline/TranscriptionPipeline", "SweepFailures")

    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def rejection_rate_alarm(template: Template) -> dict[str, Any]:
    """The one alarm on a metric math expression: the share of uploads rejected."""
    (alarm,) = [
        a["Properties"]
        for a in resources_of(template, "AWS::CloudWatch::Alarm").values()
        if "Metrics" in a["Properties"]
    ]
    return alarm


def test_a_rejection_rate_over_half_of_the_hours_uploads_raises_an_alarm(template: Template):
    alarm = rejection_rate_alarm(template)

    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["ReturnData"] is True
    assert expression["Expression"].startswith("IF(uploads >= 5, (FILL(")
    assert expression["Expression"].endswith(") / uploads, 0)")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0.5, "GreaterThanThreshold")
    assert alarm["EvaluationPeriods"] == 1


def test_the_rejection_rate_counts_every_reason_class_the_start_function_writes(
    template: Template,
):
    alarm = rejection_rate_alarm(template)
    stats = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]

    rejected = [s for s in stats if s["Metric"]["MetricName"] == "RejectedInputs"]
    assert {s["Metric"]["Namespace"] for s in rejected} == {
        "TranscriptionPipeline/TranscriptionPipeline"
    }
    reasons = {
        d["Value"] for s in rejected for d in s["Metric"]["Dimensions"] if d["Name"] == "Reason"
    }
    assert reasons == {reason.value for reason in RejectionClass}
    services = {
        d["Value"] for s in rejected for d in s["Metric"]["Dimensions"] if d["Name"] == "service"
    }
    assert services == {"transcription-pipeline"}
    assert all((s["Period"], s["Stat"]) == (3600, "Sum") for s in stats)
    # CloudWatch's hard limit for an alarm on metric math (docs/cloudwatch-metrics.md).
    assert len(stats) <= 10


def test_the_rejection_rate_divides_by_the_uploads_the_upload_rule_matched(template: Template):
    alarm = rejection_rate_alarm(template)

    (uploads,) = [m for m in alarm["Metrics"] if m["Id"] == "uploads"]
    metric = uploads["MetricStat"]["Metric"]
    assert (metric["Namespace"], metric["MetricName"]) == ("AWS/Events", "MatchedEvents")
    (rule,) = [d["Value"]["Ref"] for d in metric["Dimensions"] if d["Name"] == "RuleName"]
    assert rule.startswith("JobStarterUploadRule")


def test_the_start_function_writes_its_metrics_in_the_alarms_namespace(template: Template):
    starter = next(
        f
        for k, f in resources_of(template, "AWS::Lambda::Function").items()
        if k.startswith("JobStarterStartTranscription")
    )
    variables = starter["Properties"]["Environment"]["Variables"]

    assert variables["METRICS_NAMESPACE"] == "TranscriptionPipeline/TranscriptionPipeline"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "transcription-pipeline"
