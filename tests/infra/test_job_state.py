"""Finished jobs reach the job-state function through a filtered rule with retries and DLQs."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from tests.infra.conftest import resources_of


def _transcribe_rule(template: Template) -> dict:
    rules = resources_of(template, "AWS::Events::Rule").values()
    return next(
        r
        for r in rules
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.transcribe"]
    )


def test_the_job_state_rule_matches_finished_jobs_of_this_pipeline_only(template: Template):
    pattern = _transcribe_rule(template)["Properties"]["EventPattern"]

    assert pattern == {
        "source": ["aws.transcribe"],
        "detail-type": ["Transcribe Job State Change"],
        "detail": {
            "TranscriptionJobStatus": ["COMPLETED", "FAILED"],
            "TranscriptionJobName": [{"prefix": "tp-"}],
        },
    }


def test_the_job_name_prefix_is_configurable_and_filters_the_rule(synth_with):
    template = synth_with({"job_name_prefix": "meetings-"})

    pattern = _transcribe_rule(template)["Properties"]["EventPattern"]
    assert pattern["detail"]["TranscriptionJobName"] == [{"prefix": "meetings-"}]


def test_the_job_state_target_retries_then_dead_letters(template: Template):
    target = _transcribe_rule(template)["Properties"]["Targets"][0]

    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith("JobStateDeadLetterQueue")


def test_the_job_state_function_retries_twice_then_sends_to_its_on_failure_queue(
    template: Template,
):
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 21600,
            "DestinationConfig": {
                "OnFailure": {
                    "Destination": {
                        "Fn::GetAtt": [Match.string_like_regexp("^JobStateDeadLetterQueue"), "Arn"]
                    }
                }
            },
        },
    )


def test_a_schedule_runs_the_sweeper_at_the_configured_rate(synth_with):
    template = synth_with({"sweep_interval_minutes": "30"})

    template.has_resource_properties(
        "AWS::Events::Rule", {"ScheduleExpression": "rate(30 minutes)", "State": "ENABLED"}
    )


def test_no_notification_topic_without_an_email(template: Template):
    topics = resources_of(template, "AWS::SNS::Topic")
    assert [k for k in topics if not k.startswith("MonitoringAlarmTopic")] == []


def test_a_notification_email_adds_a_subscribed_topic_the_handlers_may_publish_to(synth_with):
    template = synth_with({"notification_email": "ops@example.com"})

    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    template.has_output("NotificationTopicArn", {})
    policies = resources_of(template, "AWS::IAM::Policy")
    handler_policy = next(p for k, p in policies.items() if k.startswith("JobStateHandler"))
    assert "sns:Publish" in str(handler_policy["Properties"]["PolicyDocument"])


def test_job_state_functions_write_only_under_transcripts_and_failed(template: Template):
    policies = resources_of(template, "AWS::IAM::Policy")
    for logical_id in ("JobStateHandler", "JobStateSweeper"):
        policy = next(p for k, p in policies.items() if k.startswith(logical_id))
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        writes = [s for s in statements if "s3:PutObject" in str(s["Action"])]
        resources = " ".join(str(s["Resource"]) for s in writes)
        assert "/transcripts/*" in resources
        assert "/failed/*" in resources
        assert all(
            "/transcripts/*" in str(s["Resource"]) or "/failed/*" in str(s["Resource"])
            for s in writes
        )


def test_the_sweeper_gets_its_configured_tunables_and_the_other_functions_none(synth_with):
    template = synth_with(
        {"sweep_lookback_hours": "48", "sweep_grace_minutes": "5", "stuck_after_hours": "12"}
    )
    functions = resources_of(template, "AWS::Lambda::Function")
    # The pipeline's functions (CDK's own bucket-notification handler has no environment).
    variables = {
        logical_id: f["Properties"]["Environment"]["Variables"]
        for logical_id, f in functions.items()
        if "Environment" in f["Properties"]
    }
    tunables = ("SWEEP_LOOKBACK_HOURS", "SWEEP_GRACE_MINUTES", "STUCK_AFTER_HOURS")

    (sweeper,) = [v for k, v in variables.items() if k.startswith("JobStateSweeper")]
    assert [sweeper[name] for name in tunables] == ["48", "5", "12"]
    others = [v for k, v in variables.items() if not k.startswith("JobStateSweeper")]
    assert len(others) == 2
    assert all(name not in v for v in others for name in tunables)
