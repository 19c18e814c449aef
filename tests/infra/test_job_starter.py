"""Uploads reach the start function through one filtered rule and a buffered, redriven queue."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match, Template

from tests.infra.conftest import resources_of


def _rule_with_source(template: Template, source: str) -> dict:
    rules = resources_of(template, "AWS::Events::Rule").values()
    return next(
        r for r in rules if r["Properties"].get("EventPattern", {}).get("source") == [source]
    )


def test_the_upload_rule_matches_object_created_in_the_input_bucket_only(template: Template):
    pattern = _rule_with_source(template, "aws.s3")["Properties"]["EventPattern"]

    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert list(pattern["detail"]) == ["bucket"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": "StorageInputBucket0767FBBB"}]


def test_an_input_prefix_narrows_the_upload_rule_to_that_prefix(synth_with):
    template = synth_with({"input_prefix": "incoming/"})

    pattern = _rule_with_source(template, "aws.s3")["Properties"]["EventPattern"]
    assert pattern["detail"]["object"] == {"key": [{"prefix": "incoming/"}]}


def test_the_upload_rule_filters_on_the_prefix_encoded_as_s3_encodes_event_keys(synth_with):
    # S3 puts keys URL-encoded into its events (docs/s3-event-keys.md) and EventBridge compares
    # the encoded text: "réunions d'été+notes/" arrives as the prefix below
    template = synth_with({"input_prefix": "réunions d'été+notes/"})

    pattern = _rule_with_source(template, "aws.s3")["Properties"]["EventPattern"]
    assert pattern["detail"]["object"] == {
        "key": [{"prefix": "r%C3%A9unions+d%27%C3%A9t%C3%A9%2Bnotes/"}]
    }


def _upload_rule_arn(template: Template) -> dict:
    (rule_id,) = [
        logical_id
        for logical_id, rule in resources_of(template, "AWS::Events::Rule").items()
        if rule["Properties"].get("EventPattern", {}).get("source") == ["aws.s3"]
    ]
    return {"Fn::GetAtt": [rule_id, "Arn"]}


def _events_statements_on(template: Template, queue_prefix: str) -> list[dict]:
    """The queue-policy statements that let EventBridge act on one queue."""
    (queue_id,) = [
        k for k in resources_of(template, "AWS::SQS::Queue") if k.startswith(queue_prefix)
    ]
    return [
        statement
        for policy in resources_of(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in policy["Properties"]["Queues"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Principal") == {"Service": "events.amazonaws.com"}
    ]


def test_only_the_upload_rule_may_send_to_the_start_queue(template: Template):
    (statement,) = _events_statements_on(template, "JobStarterStartQueue")

    assert statement["Effect"] == "Allow"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": _upload_rule_arn(template)}}


def test_with_the_kms_key_only_the_upload_rule_may_send_to_the_start_queue(
    all_options_template: Template,
):
    # CDK's SqsQueue target drops to aws:SourceAccount for KMS-encrypted queues, which lets
    # every rule of the account write upload events; the queue policy names the rule instead
    (statement,) = _events_statements_on(all_options_template, "JobStarterStartQueue")

    assert statement["Effect"] == "Allow"
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": _upload_rule_arn(all_options_template)}
    }


def test_only_the_upload_rule_may_dead_letter_into_the_start_dead_letter_queue(
    template: Template, all_options_template: Template
):
    for candidate in (template, all_options_template):
        statements = _events_statements_on(candidate, "JobStarterStartDeadLetterQueue")

        assert [s["Condition"] for s in statements] == [
            {"ArnEquals": {"aws:SourceArn": _upload_rule_arn(candidate)}}
        ]


def test_the_upload_rule_targets_the_start_queue_with_retries_and_a_dead_letter_queue(
    template: Template,
):
    target = _rule_with_source(template, "aws.s3")["Properties"]["Targets"][0]

    assert target["Arn"]["Fn::GetAtt"][0].startswith("JobStarterStartQueue")
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith(
        "JobStarterStartDeadLetterQueue"
    )


def test_the_start_queue_is_encrypted_and_redrives_to_its_dead_letter_queue(template: Template):
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "SqsManagedSseEnabled": True,
            "VisibilityTimeout": 360,
            "RedrivePolicy": {
                "deadLetterTargetArn": {
                    "Fn::GetAtt": [
                        Match.string_like_regexp("^JobStarterStartDeadLetterQueue"),
                        "Arn",
                    ]
                },
                "maxReceiveCount": 10,
            },
        },
    )


def test_the_start_queue_visibility_timeout_is_at_least_six_function_timeouts(template: Template):
    functions = resources_of(template, "AWS::Lambda::Function")
    starter = next(f for k, f in functions.items() if k.startswith("JobStarterStartTranscription"))
    queues = resources_of(template, "AWS::SQS::Queue")
    queue = next(q for k, q in queues.items() if k.startswith("JobStarterStartQueue"))

    assert queue["Properties"]["VisibilityTimeout"] >= 6 * starter["Properties"]["Timeout"]


def test_every_queue_is_encrypted_and_refuses_plain_http(template: Template):
    queues = resources_of(template, "AWS::SQS::Queue")
    policies = resources_of(template, "AWS::SQS::QueuePolicy")

    assert all(q["Properties"]["SqsManagedSseEnabled"] for q in queues.values())
    assert len(policies) == len(queues)
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_the_start_function_reads_the_queue_in_batches_with_partial_failures_and_a_cap(
    template: Template,
):
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": 5},
        },
    )


def test_starter_concurrency_sets_the_event_source_mapping_cap(synth_with):
    template = synth_with({"starter_concurrency": "20"})

    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"ScalingConfig": {"MaximumConcurrency": 20}}
    )


def start_environment(template: Template) -> dict[str, Any]:
    """The start function's environment variables."""
    (function,) = [
        resource
        for resource in resources_of(template, "AWS::Lambda::Function").values()
        if resource["Properties"].get("Handler") == "start_transcription.handler"
    ]
    variables: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
    return variables


def test_each_concurrent_batch_gets_an_equal_share_of_the_start_quota(template, synth_with):
    # The default quota (25 per second) over the default 5 concurrent batches; then overridden
    assert start_environment(template)["START_RATE_PER_SECOND"] == "5"
    overridden = synth_with({"start_jobs_per_second": "10", "starter_concurrency": "4"})
    assert start_environment(overridden)["START_RATE_PER_SECOND"] == "2.5"


def test_the_start_function_may_shorten_the_visibility_of_its_own_queues_messages(template):
    # come_back_sooner: START_QUEUE_URL names the start queue, and the event source mapping's
    # grant (ChangeMessageVisibility among the consume actions) covers that queue only
    queue_url = start_environment(template)["START_QUEUE_URL"]
    (queue_id,) = [
        name
        for name, resource in resources_of(template, "AWS::SQS::Queue").items()
        if resource["Properties"].get("VisibilityTimeout") == 360
    ]
    assert queue_url == {"Ref": queue_id}
    statements = [
        statement
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "sqs:ChangeMessageVisibility" in statement["Action"]
    ]
    assert [statement["Resource"] for statement in statements] == [
        {"Fn::GetAtt": [queue_id, "Arn"]}
    ]


def test_transcribe_assumes_a_data_access_role_that_reads_input_and_writes_output(
    template: Template,
):
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "transcribe.amazonaws.com"},
                        }
                    )
                ]
            }
        },
    )
    policies = resources_of(template, "AWS::IAM::Policy")
    role_policy = next(p for k, p in policies.items() if "TranscribeDataAccessRole" in k)
    statements = role_policy["Properties"]["PolicyDocument"]["Statement"]
    actions = {a for s in statements for a in _list(s["Action"])}
    assert {"s3:GetObject", "s3:PutObject"} <= actions
    assert not any(a in {"s3:*", "*"} or a.startswith("s3:Delete") for a in actions)


def test_the_start_function_may_pass_only_the_data_access_role_and_only_to_transcribe(
    template: Template,
):
    policies = resources_of(template, "AWS::IAM::Policy")
    starter_policy = next(p for k, p in policies.items() if k.startswith("JobStarterStartTrans"))
    statements = starter_policy["Properties"]["PolicyDocument"]["Statement"]
    pass_role = [s for s in statements if "iam:PassRole" in _list(s["Action"])]

    assert len(pass_role) == 1
    assert pass_role[0]["Resource"]["Fn::GetAtt"][0].startswith(
        "JobStarterTranscribeDataAccessRole"
    )
    assert pass_role[0]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "transcribe.amazonaws.com"}
    }


def test_the_start_function_may_start_jobs_only_into_the_output_bucket(template: Template):
    policies = resources_of(template, "AWS::IAM::Policy")
    starter_policy = next(p for k, p in policies.items() if k.startswith("JobStarterStartTrans"))
    statements = starter_policy["Properties"]["PolicyDocument"]["Statement"]
    start = next(s for s in statements if "transcribe:StartTranscriptionJob" in _list(s["Action"]))

    # StartTranscriptionJob has no resource type: "*", pinned by a condition key.
    assert start["Resource"] == "*"
    assert start["Condition"] == {
        "StringEquals": {"transcribe:OutputBucketName": {"Ref": "StorageOutputBucketCD2EEB3A"}}
    }


def test_the_start_function_may_look_up_only_jobs_with_the_pipeline_prefix(template: Template):
    policies = resources_of(template, "AWS::IAM::Policy")
    starter_policy = next(p for k, p in policies.items() if k.startswith("JobStarterStartTrans"))
    statements = starter_policy["Properties"]["PolicyDocument"]["Statement"]
    get = next(s for s in statements if "transcribe:GetTranscriptionJob" in _list(s["Action"]))

    assert "transcription-job/tp-*" in str(get["Resource"])


def _list(value: object) -> list[str]:
    return [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
