"""Least privilege: each role holds exactly the actions its code uses, on exact resources.

The expected permissions below are read from the code they serve (lambda/transcribe_pipeline):
a new AWS call in a function needs a new line here, on purpose. Resources are written as
cdk-nag prints them, ``<LogicalId.Attribute>`` with CDK's 8-character hash left out.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.infra.conftest import resources_of
from transcribe_pipeline.ledger_schema import OPEN_INDEX
from transcribe_pipeline.outcome_events import EVENT_SOURCE, DetailType

INPUT = "<StorageInputBucket.Arn>"
OUTPUT = "<StorageOutputBucket.Arn>"
KEY = "<EncryptionKey.Arn>"
JOBS = "arn:<AWS::Partition>:transcribe:<AWS::Region>:<AWS::AccountId>:transcription-job"
LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")
LEDGER = "<LedgerTable.Arn>"
# The ledger (docs/ledger.md): items read and written conditionally (TransactWriteItems is
# authorized per item action), a key's versions queried; no Scan, Delete or batch action.
LEDGER_ITEMS = {
    (f"dynamodb:{action}", LEDGER)
    for action in ("GetItem", "PutItem", "UpdateItem", "Query", "ConditionCheckItem")
}
# Outcome events, on the default bus only (the source is pinned by a condition, tested below).
DEFAULT_BUS = "arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default"
OUTCOME_EVENTS = {("events:PutEvents", DEFAULT_BUS)}
HARVEST_S3 = {
    # harvest(): HEAD/GET the outputs, read Transcribe's <job>.json, write transcripts/ (the
    # .txt, .json and our own .srt/.vtt: nothing is copied, so no tagging actions).
    ("s3:GetObject", f"{OUTPUT}/tp-*"),
    # A redacting job's result: the readable outputs are made from it (docs/transcribe-features.md).
    ("s3:GetObject", f"{OUTPUT}/redacted-tp-*"),
    ("s3:GetObject", f"{OUTPUT}/transcripts/*"),
    ("s3:GetObject", f"{OUTPUT}/failed/*"),
    # A HEAD of a missing key answers 404 (not 403) only with ListBucket.
    ("s3:ListBucket", OUTPUT),
    ("s3:PutObject", f"{OUTPUT}/transcripts/*"),
    ("s3:PutObject", f"{OUTPUT}/failed/*"),
    # A key shows its newest version's outcome only: a success removes the failure record, a
    # failure or rejection an older version's transcripts (docs/ledger.md).
    ("s3:DeleteObject", f"{OUTPUT}/failed/*"),
    ("s3:DeleteObject", f"{OUTPUT}/transcripts/*"),
}
# A job started before the ledger is harvested only while its upload exists (HeadObject, where
# ListBucket makes a missing key a 404).
UPLOAD_HEAD = {("s3:GetObject", f"{INPUT}/*"), ("s3:ListBucket", INPUT)}
EXPECTED = {
    "JobStarterTranscribeDataAccessRole": {
        ("s3:GetObject", f"{INPUT}/*"),
        # AWS's documented input-bucket policy for Transcribe: a missing key then reads as
        # NoSuchKey, not AccessDenied (docs/transcribe-permissions.md).
        ("s3:ListBucket", INPUT),
        ("s3:PutObject", f"{OUTPUT}/*"),
    },
    "JobStarterStartTranscriptionRole": {
        *((action, "<JobStarterStartTranscriptionLogs.Arn>") for action in LOGS),
        # The SQS event source mapping (CDK's grantConsumeMessages).
        *(
            (f"sqs:{action}", "<JobStarterStartQueue.Arn>")
            for action in (
                "ChangeMessageVisibility",
                "DeleteMessage",
                "GetQueueAttributes",
                "GetQueueUrl",
                "ReceiveMessage",
            )
        ),
        ("transcribe:StartTranscriptionJob", "*"),
        ("transcribe:GetTranscriptionJob", f"{JOBS}/tp-*"),
        ("iam:PassRole", "<JobStarterTranscribeDataAccessRole.Arn>"),
        ("s3:GetObject", f"{INPUT}/*"),
        # HeadObject of an upload Transcribe could not read: 404 (deleted) rather than 403.
        ("s3:ListBucket", INPUT),
        # A rejection is the key's outcome: it shows (and repairs a lost race) like a harvest.
        *HARVEST_S3,
        *LEDGER_ITEMS,
        *OUTCOME_EVENTS,
    },
    "JobStateHandlerRole": {
        *((action, "<JobStateHandlerLogs.Arn>") for action in LOGS),
        *HARVEST_S3,
        *UPLOAD_HEAD,
        ("transcribe:GetTranscriptionJob", f"{JOBS}/tp-*"),
        *LEDGER_ITEMS,
        *OUTCOME_EVENTS,
        # The on-failure destination (CDK's SqsDestination).
        *(
            (f"sqs:{action}", "<JobStateDeadLetterQueue.Arn>")
            for action in ("GetQueueAttributes", "GetQueueUrl", "SendMessage")
        ),
    },
    "JobStateSweeperRole": {
        *((action, "<JobStateSweeperLogs.Arn>") for action in LOGS),
        *HARVEST_S3,
        *UPLOAD_HEAD,
        ("transcribe:GetTranscriptionJob", f"{JOBS}/tp-*"),
        *LEDGER_ITEMS,
        # The open items, oldest first: the sweeper's whole work list.
        ("dynamodb:Query", f"{LEDGER}/index/{OPEN_INDEX}"),
        *OUTCOME_EVENTS,
        ("transcribe:ListTranscriptionJobs", "*"),
        # The StuckJobs metric (namespace pinned by a condition, tests/infra/test_monitoring.py).
        ("cloudwatch:PutMetricData", "*"),
    },
}


def render(value: Any) -> str:
    """A CloudFormation value as text: Ref -> <Id>, GetAtt -> <Id.Attr>, Join joined."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(render(part) for part in parts)
    raise AssertionError(f"unexpected intrinsic {value}")


def unhashed(text: str) -> str:
    """Logical IDs without CDK's trailing 8-character hash."""
    return re.sub(r"([A-Za-z0-9]+?)[0-9A-F]{8}(?=[.>])", r"\1", text)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allow_statements(template: Template) -> dict[str, list[dict[str, Any]]]:
    """The Allow statements of each role's policies, by role logical ID (hash removed)."""
    by_role: dict[str, list[dict[str, Any]]] = {}
    for policy in resources_of(template, "AWS::IAM::Policy").values():
        statements = [
            s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
        ]
        for role in policy["Properties"]["Roles"]:
            by_role.setdefault(unhashed(render(role)).strip("<>"), []).extend(statements)
    return by_role


def permissions(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource) pairs the statements allow."""
    return {
        (action, unhashed(render(resource)))
        for statement in statements
        for action in _list(statement["Action"])
        for resource in _list(statement["Resource"])
    }


def test_each_pipeline_role_holds_exactly_the_actions_its_code_uses(template: Template):
    granted = {
        role: permissions(statements)
        for role, statements in allow_statements(template).items()
        if role in EXPECTED
    }

    assert granted == EXPECTED


def test_no_policy_allows_a_wildcard_action(template: Template, all_options_template: Template):
    for candidate in (template, all_options_template):
        for role, statements in allow_statements(candidate).items():
            for action in {a for s in statements for a in _list(s["Action"])}:
                assert action != "*" and not action.endswith(":*"), (role, action)


def test_pipeline_roles_use_no_action_group_wildcards(template: Template):
    for role, statements in allow_statements(template).items():
        if role in EXPECTED:
            assert not any("*" in a for s in statements for a in _list(s["Action"])), role


def test_pass_role_is_granted_once_for_the_data_access_role_and_only_to_transcribe(
    template: Template,
):
    pass_role = [
        (role, statement)
        for role, statements in allow_statements(template).items()
        for statement in statements
        if "iam:PassRole" in _list(statement["Action"])
    ]

    assert len(pass_role) == 1
    role, statement = pass_role[0]
    assert role == "JobStarterStartTranscriptionRole"
    assert _list(statement["Action"]) == ["iam:PassRole"]
    assert unhashed(render(statement["Resource"])) == "<JobStarterTranscribeDataAccessRole.Arn>"
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "transcribe.amazonaws.com"}
    }


def test_transcribe_actions_are_on_this_pipeline_s_jobs_where_the_service_allows_it(
    template: Template,
):
    # Service Authorization Reference: GetTranscriptionJob has the transcription-job resource
    # type; StartTranscriptionJob and ListTranscriptionJobs have none ("*" only), so Start is
    # pinned by its condition key transcribe:OutputBucketName instead.
    for role, statements in allow_statements(template).items():
        for statement in statements:
            for action in _list(statement["Action"]):
                if not action.startswith("transcribe:"):
                    continue
                resources = {unhashed(render(r)) for r in _list(statement["Resource"])}
                if action == "transcribe:GetTranscriptionJob":
                    assert resources == {f"{JOBS}/tp-*"}, role
                elif action == "transcribe:StartTranscriptionJob":
                    assert statement["Condition"]["StringEquals"][
                        "transcribe:OutputBucketName"
                    ] == {"Ref": "StorageOutputBucketCD2EEB3A"}
                else:
                    assert action == "transcribe:ListTranscriptionJobs", (role, action)
                    assert role == "JobStateSweeperRole"


def test_only_cdk_s_own_deploy_time_handlers_have_a_managed_policy(template: Template):
    roles = resources_of(template, "AWS::IAM::Role")

    with_managed = {
        logical_id
        for logical_id, role in roles.items()
        if role["Properties"].get("ManagedPolicyArns")
    }

    # AWSLambdaBasicExecutionRole (logs only) on aws-cdk-lib's bucket-notification and
    # auto-delete handlers, which run during deploy/destroy only; the first is acknowledged as
    # AwsSolutions-IAM4, the second is a raw CfnResource cdk-nag does not inspect.
    assert {unhashed(f"<{r}>") for r in with_managed} == {
        "<BucketNotificationsHandler050a0587b7544547bf325f094a3db834Role>",
        "<CustomS3AutoDeleteObjectsCustomResourceProviderRole>",
    }


def test_only_transcribe_acting_for_this_account_may_assume_the_data_access_role(
    template: Template,
):
    roles = resources_of(template, "AWS::IAM::Role")
    role = next(r for k, r in roles.items() if k.startswith("JobStarterTranscribeDataAccessRole"))

    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "transcribe.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    assert render(statement["Condition"]["ArnLike"]["aws:SourceArn"]) == (
        "arn:<AWS::Partition>:transcribe:<AWS::Region>:<AWS::AccountId>:*"
    )


def test_prefixes_narrow_the_upload_reads_and_the_job_names(all_options_template: Template):
    granted = {
        role: permissions(statements)
        for role, statements in allow_statements(all_options_template).items()
    }

    for role in (
        "JobStarterTranscribeDataAccessRole",
        "JobStarterStartTranscriptionRole",
        "JobStateHandlerRole",
        "JobStateSweeperRole",
    ):
        assert ("s3:GetObject", f"{INPUT}/incoming/*") in granted[role]
        assert ("s3:GetObject", f"{INPUT}/*") not in granted[role]
    for role in ("JobStarterStartTranscriptionRole", "JobStateHandlerRole", "JobStateSweeperRole"):
        assert ("transcribe:GetTranscriptionJob", f"{JOBS}/mtg-*") in granted[role]
    assert ("s3:GetObject", f"{OUTPUT}/mtg-*") in granted["JobStateHandlerRole"]


def test_without_an_input_prefix_the_data_access_role_may_list_the_whole_input_bucket(
    template: Template,
):
    statements = allow_statements(template)["JobStarterTranscribeDataAccessRole"]

    (listing,) = [s for s in statements if "s3:ListBucket" in _list(s["Action"])]
    assert unhashed(render(listing["Resource"])) == INPUT
    assert "Condition" not in listing


def test_an_input_prefix_narrows_the_data_access_role_s_listing_to_that_prefix(
    all_options_template: Template,
):
    statements = allow_statements(all_options_template)["JobStarterTranscribeDataAccessRole"]

    (listing,) = [s for s in statements if "s3:ListBucket" in _list(s["Action"])]
    assert unhashed(render(listing["Resource"])) == INPUT
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "incoming/*"}}


@pytest.mark.parametrize(
    ("prefix", "literal"),
    [
        ("a*b/", "a${*}b/"),
        ("what?/", "what${?}/"),
        ("${aws:username}/", "${$}{aws:username}/"),
        ("réunions d'été+notes/", "réunions d'été+notes/"),
    ],
)
def test_wildcard_characters_of_the_input_prefix_stay_literal_in_every_iam_resource(
    synth_with, prefix, literal
):
    # IAM reads * and ? in a Resource as wildcards and ${...} as a policy variable: the
    # prefix "a*b/" must not open "a-anything-b/" (docs/iam-literal-characters.md)
    granted = {
        role: permissions(statements)
        for role, statements in allow_statements(synth_with({"input_prefix": prefix})).items()
    }

    for role in (
        "JobStarterTranscribeDataAccessRole",
        "JobStarterStartTranscriptionRole",
        "JobStateHandlerRole",
        "JobStateSweeperRole",
    ):
        assert ("s3:GetObject", f"{INPUT}/{literal}*") in granted[role]
        assert not any(
            action == "s3:GetObject" and resource != f"{INPUT}/{literal}*"
            for action, resource in granted[role]
            if resource.startswith(INPUT)
        ), role


def test_wildcard_characters_of_the_input_prefix_stay_literal_in_the_listing_condition(
    synth_with,
):
    statements = allow_statements(synth_with({"input_prefix": "a*b?/"}))[
        "JobStarterTranscribeDataAccessRole"
    ]

    (listing,) = [s for s in statements if "s3:ListBucket" in _list(s["Action"])]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "a${*}b${?}/*"}}


def test_with_a_kms_key_each_role_may_use_only_that_key_for_what_it_does(
    all_options_template: Template,
):
    granted = {
        role: {action for action, resource in permissions(statements) if resource == KEY}
        for role, statements in allow_statements(all_options_template).items()
    }

    # Transcribe (as the data-access role) reads SSE-KMS media and writes encrypted results.
    assert granted["JobStarterTranscribeDataAccessRole"] == {
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
    }
    # Consumes the encrypted queue, asks Transcribe for encrypted output (which Transcribe
    # validates against the caller: DescribeKey), writes failed/.
    assert granted["JobStarterStartTranscriptionRole"] == {
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    }
    # Reads and writes encrypted objects and ledger items (the table's key: Encrypt and
    # DescribeKey too), publishes to the encrypted topic; the handler's on-failure destination
    # adds CDK's SqsDestination grant (acknowledged IAM5 findings).
    assert granted["JobStateSweeperRole"] == {
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    }
    assert granted["JobStateHandlerRole"] == {
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    }
    assert all(
        resource == KEY
        for statements in allow_statements(all_options_template).values()
        for action, resource in permissions(statements)
        if action.startswith("kms:")
    )


def test_with_a_kms_key_jobs_may_only_be_started_with_that_key(all_options_template: Template):
    statements = allow_statements(all_options_template)["JobStarterStartTranscriptionRole"]

    start = next(s for s in statements if "transcribe:StartTranscriptionJob" in _list(s["Action"]))
    condition = start["Condition"]["StringEquals"]
    assert unhashed(render(condition["transcribe:OutputEncryptionKMSKeyId"])) == KEY
    assert unhashed(render(condition["transcribe:OutputBucketName"])) == "<StorageOutputBucket>"


def test_outcome_events_may_carry_only_the_pipeline_s_source_and_detail_types(
    template: Template,
):
    for role in ("JobStarterStartTranscriptionRole", "JobStateHandlerRole", "JobStateSweeperRole"):
        (put_events,) = [
            s for s in allow_statements(template)[role] if "events:PutEvents" in _list(s["Action"])
        ]

        assert _list(put_events["Action"]) == ["events:PutEvents"], role
        assert put_events["Condition"] == {
            "ForAllValues:StringEquals": {
                "events:source": [EVENT_SOURCE],
                "events:detail-type": [detail_type.value for detail_type in DetailType],
            }
        }, role


def test_only_the_sweeper_may_query_a_ledger_index(template: Template):
    index_queries = {
        role
        for role, statements in allow_statements(template).items()
        for action, resource in permissions(statements)
        if action == "dynamodb:Query" and "/index/" in resource
    }

    assert index_queries == {"JobStateSweeperRole"}


# A profile that keeps Transcribe's unredacted result: the harvest then writes unredacted/.
UNREDACTED_CONTEXT = {
    "profiles": json.dumps(
        [
            {
                "prefix": "calls/",
                "channel_identification": True,
                "content_redaction": {"output": "redacted_and_unredacted"},
            }
        ]
    )
}
UNREDACTED_OBJECT = f"{OUTPUT}/unredacted/calls/1.wav.txt"


def _reads(action: str) -> bool:
    """Whether an action (or an action pattern) lets its holder read an object's content."""
    return fnmatch.fnmatchcase("s3:GetObject", action) or fnmatch.fnmatchcase(
        "s3:GetObjectVersion", action
    )


def test_with_unredacted_copies_the_harvesters_may_put_them_and_nothing_else(synth_with):
    granted = {
        role: permissions(statements)
        for role, statements in allow_statements(synth_with(UNREDACTED_CONTEXT)).items()
    }

    for role in ("JobStateHandlerRole", "JobStateSweeperRole"):
        unredacted = {(a, r) for a, r in granted[role] if "unredacted" in r}
        assert unredacted == {("s3:PutObject", f"{OUTPUT}/unredacted/*")}, role


def test_without_unredacted_copies_no_role_may_write_there(template: Template):
    for role, statements in allow_statements(template).items():
        assert not any("unredacted" in r for _, r in permissions(statements)), role


@pytest.mark.parametrize("context", [{}, UNREDACTED_CONTEXT], ids=["default", "unredacted"])
def test_no_role_of_the_stack_may_read_unredacted_copies(synth_with, context):
    for role, statements in allow_statements(synth_with(context)).items():
        for action, resource in permissions(statements):
            if _reads(action):
                assert not fnmatch.fnmatchcase(UNREDACTED_OBJECT, resource), (role, action)
