"""The ledger table: keys and indexes from the schema, on demand, recoverable, encrypted."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

from tests.infra.conftest import resources_of
from transcribe_pipeline import environment as names
from transcribe_pipeline import stack_outputs as output
from transcribe_pipeline.ledger_schema import (
    OPEN,
    OPEN_INDEX,
    OPEN_SINCE,
    PARTITION_KEY,
    SORT_KEY,
    STATE,
    STATE_INDEX,
    STATE_INDEX_SORT_KEY,
    table_keys_and_indexes,
)

KEY_ARN = {"Fn::GetAtt": ["EncryptionKey1B843E66", "Arn"]}
PIPELINE_FUNCTIONS = ("JobStarterStartTranscription", "JobStateHandler", "JobStateSweeper")


def ledger(template: Template) -> tuple[str, dict[str, Any]]:
    """The one DynamoDB table of the stack: its logical ID and its resource."""
    ((logical_id, table),) = resources_of(template, "AWS::DynamoDB::Table").items()
    return logical_id, table


def test_the_ledger_is_keyed_by_source_key_and_item_kind_from_the_schema(template: Template):
    _, table = ledger(template)

    assert table["Properties"]["KeySchema"] == [
        {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
    ]


def test_the_ledger_has_the_open_items_and_by_state_indexes_projecting_all(template: Template):
    _, table = ledger(template)

    indexes = {
        index["IndexName"]: (index["KeySchema"], index["Projection"])
        for index in table["Properties"]["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        OPEN_INDEX: (
            [
                {"AttributeName": OPEN, "KeyType": "HASH"},
                {"AttributeName": OPEN_SINCE, "KeyType": "RANGE"},
            ],
            {"ProjectionType": "ALL"},
        ),
        STATE_INDEX: (
            [
                {"AttributeName": STATE, "KeyType": "HASH"},
                {"AttributeName": STATE_INDEX_SORT_KEY, "KeyType": "RANGE"},
            ],
            {"ProjectionType": "ALL"},
        ),
    }
    key_names = [PARTITION_KEY, SORT_KEY, OPEN, OPEN_SINCE, STATE, STATE_INDEX_SORT_KEY]
    assert table["Properties"]["AttributeDefinitions"] == [
        {"AttributeName": name, "AttributeType": "S"} for name in key_names
    ]


def test_the_ledger_is_billed_per_request_and_recoverable_to_any_second(template: Template):
    _, table = ledger(template)

    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in table["Properties"]
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }


def test_by_default_the_ledger_uses_dynamodb_s_aws_owned_key(template: Template):
    _, table = ledger(template)

    # SSEEnabled false (or absent) is DynamoDB's AWS owned key, not no encryption: every table
    # is encrypted at rest (docs/ledger.md, "The table").
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": False}


def test_with_use_kms_key_the_ledger_is_encrypted_with_the_pipeline_s_key(synth_with):
    _, table = ledger(synth_with({"use_kms_key": "true"}))

    assert table["Properties"]["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": KEY_ARN,
    }


def test_by_default_destroy_deletes_the_ledger(template: Template):
    _, table = ledger(template)

    assert table["DeletionPolicy"] == "Delete"
    assert table["UpdateReplacePolicy"] == "Delete"


def test_retain_data_keeps_the_ledger(synth_with):
    _, table = ledger(synth_with({"retain_data": "true"}))

    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_every_pipeline_function_gets_the_ledger_table_name(template: Template):
    logical_id, _ = ledger(template)
    functions = resources_of(template, "AWS::Lambda::Function")

    for prefix in PIPELINE_FUNCTIONS:
        (function,) = [f for k, f in functions.items() if k.startswith(f"{prefix}Function")]
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables[names.LEDGER_TABLE] == {"Ref": logical_id}, prefix


def test_the_stack_outputs_the_ledger_table_name(template: Template):
    logical_id, _ = ledger(template)

    assert template.to_json()["Outputs"][output.LEDGER_TABLE_NAME]["Value"] == {"Ref": logical_id}


def test_the_stack_declares_the_keys_and_indexes_every_other_user_of_the_schema_creates(
    template: Template,
):
    # Tests, the CLI's stand-in stack and the burst model create the table from
    # ledger_schema.table_keys_and_indexes(): the stack must declare exactly that.
    _, table = ledger(template)
    declared = table["Properties"]
    expected = table_keys_and_indexes()

    assert declared["KeySchema"] == expected["KeySchema"]
    assert sorted(declared["GlobalSecondaryIndexes"], key=lambda i: i["IndexName"]) == sorted(
        expected["GlobalSecondaryIndexes"], key=lambda i: i["IndexName"]
    )
    assert sorted(declared["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        expected["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
