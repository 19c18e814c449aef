"""The local cloud deploys and destroys the ledger table as the stack declares it.

The template is the real ``stacks.ledger.Ledger`` construct, synthesized in a small stack (with
and without the pipeline's KMS key, with and without ``retain_data``), created through the
local cloud's CloudFormation and then used with boto3 as the functions use it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from botocore.exceptions import ClientError

from localcloud.deployment import LocalEndpoint
from localcloud.server import LocalCloud, free_port
from stacks.encryption import pipeline_key
from stacks.ledger import Ledger
from transcribe_pipeline.ledger_schema import (
    OPEN,
    OPEN_INDEX,
    OPEN_SINCE,
    OPEN_VALUE,
    PARTITION_KEY,
    SORT_KEY,
    STATE,
    STATE_INDEX,
    STATE_INDEX_SORT_KEY,
    State,
    version_sort_key,
)

pytestmark = pytest.mark.xdist_group("localcloud-ledger")

TABLE_OUTPUT = "TableName"
KEY_OUTPUT = "KeyArn"


def ledger_template(*, retain_data: bool, use_kms_key: bool) -> str:
    """A stack holding the Ledger construct (and the pipeline's key), as JSON."""
    app = cdk.App()
    # No bootstrap version parameter: the template goes to CreateStack as it is.
    stack = cdk.Stack(app, "LedgerOnly", synthesizer=cdk.BootstraplessSynthesizer())
    key: kms.Key | None = None
    if use_kms_key:
        key = pipeline_key(stack, "EncryptionKey", retain_data=retain_data)
        cdk.CfnOutput(stack, KEY_OUTPUT, value=key.key_arn)
    ledger = Ledger(stack, "Ledger", retain_data=retain_data, encryption_key=key)
    cdk.CfnOutput(stack, TABLE_OUTPUT, value=ledger.table.table_name)
    cdk.CfnOutput(stack, "TableArn", value=ledger.table.table_arn)
    template = app.synth().get_stack_by_name("LedgerOnly").template
    return json.dumps(template)


class Cloud:
    """boto3 clients on the local cloud and stack helpers."""

    def __init__(self, endpoint: LocalEndpoint) -> None:
        self.cfn = endpoint.client("cloudformation")
        self.dynamodb = endpoint.client("dynamodb")

    def deploy(self, template: str) -> tuple[str, dict[str, str]]:
        """Create a stack from the template; its name and outputs once CREATE_COMPLETE."""
        name = f"ledger-{uuid.uuid4().hex[:8]}"
        self.cfn.create_stack(StackName=name, TemplateBody=template)
        stack = self._settled(name)
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        return name, {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def destroy(self, name: str) -> None:
        """Delete the stack and wait until CloudFormation no longer knows it."""
        self.cfn.delete_stack(StackName=name)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.cfn.describe_stacks(StackName=name)
            except ClientError:
                return
            time.sleep(0.1)
        raise AssertionError(f"stack {name} was not deleted")

    def _settled(self, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while True:
            stack = dict(self.cfn.describe_stacks(StackName=name)["Stacks"][0])
            if not stack["StackStatus"].endswith("_IN_PROGRESS"):
                return stack
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} still {stack['StackStatus']}")
            time.sleep(0.1)

    def table_exists(self, table: str) -> bool:
        """Whether DynamoDB still has the table."""
        return table in self.dynamodb.list_tables()["TableNames"]


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    """The whole local cloud in this process, on a free port."""
    with LocalCloud(free_port()) as local_cloud:
        yield Cloud(LocalEndpoint(local_cloud.port))


@pytest.fixture(scope="module")
def default_template() -> str:
    """The ledger as the default configuration declares it."""
    return ledger_template(retain_data=False, use_kms_key=False)


def _version_item(key: str, sequencer: str, state: State, *, open_since: str | None) -> dict:
    item = {
        PARTITION_KEY: {"S": key},
        SORT_KEY: {"S": version_sort_key(sequencer)},
        STATE: {"S": state.value},
        STATE_INDEX_SORT_KEY: {"S": key},
    }
    if open_since is not None:
        item[OPEN] = {"S": OPEN_VALUE}
        item[OPEN_SINCE] = {"S": open_since}
    return item


def test_the_ledger_takes_conditional_writes_and_answers_both_index_queries(
    cloud: Cloud, default_template: str
) -> None:
    name, outputs = cloud.deploy(default_template)
    table = outputs[TABLE_OUTPUT]
    db = cloud.dynamodb
    first = _version_item("talks/a.mp3", "0A", State.STARTED, open_since="2025-01-01T00:00:01Z")
    settled = _version_item("talks/b.mp3", "0B", State.TRANSCRIBED, open_since=None)
    only_new = f"attribute_not_exists({PARTITION_KEY})"

    db.put_item(TableName=table, Item=first, ConditionExpression=only_new)
    db.put_item(TableName=table, Item=settled, ConditionExpression=only_new)
    with pytest.raises(ClientError) as duplicate:
        db.put_item(TableName=table, Item=first, ConditionExpression=only_new)
    open_items = db.query(
        TableName=table,
        IndexName=OPEN_INDEX,
        KeyConditionExpression="#o = :open",
        ExpressionAttributeNames={"#o": OPEN},
        ExpressionAttributeValues={":open": {"S": OPEN_VALUE}},
    )["Items"]
    transcribed = db.query(
        TableName=table,
        IndexName=STATE_INDEX,
        KeyConditionExpression="#s = :state AND begins_with(#k, :prefix)",
        ExpressionAttributeNames={"#s": STATE, "#k": STATE_INDEX_SORT_KEY},
        ExpressionAttributeValues={
            ":state": {"S": State.TRANSCRIBED.value},
            ":prefix": {"S": "talks/"},
        },
    )["Items"]
    cloud.destroy(name)

    assert duplicate.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert [item[PARTITION_KEY]["S"] for item in open_items] == ["talks/a.mp3"]
    assert [item[PARTITION_KEY]["S"] for item in transcribed] == ["talks/b.mp3"]


def test_the_deployed_ledger_is_on_demand_with_point_in_time_recovery(
    cloud: Cloud, default_template: str
) -> None:
    name, outputs = cloud.deploy(default_template)
    table = outputs[TABLE_OUTPUT]

    described = cloud.dynamodb.describe_table(TableName=table)["Table"]
    backups = cloud.dynamodb.describe_continuous_backups(TableName=table)
    cloud.destroy(name)

    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {index["IndexName"] for index in described["GlobalSecondaryIndexes"]} == {
        OPEN_INDEX,
        STATE_INDEX,
    }
    assert (
        backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"
        ]
        == "ENABLED"
    )


def test_by_default_the_deployed_ledger_uses_the_aws_owned_key(
    cloud: Cloud, default_template: str
) -> None:
    name, outputs = cloud.deploy(default_template)

    described = cloud.dynamodb.describe_table(TableName=outputs[TABLE_OUTPUT])["Table"]
    cloud.destroy(name)

    # DescribeTable reports no SSEDescription for the AWS owned key.
    assert "SSEDescription" not in described


def test_with_the_pipeline_s_key_the_deployed_ledger_is_encrypted_with_it(cloud: Cloud) -> None:
    name, outputs = cloud.deploy(ledger_template(retain_data=False, use_kms_key=True))

    described = cloud.dynamodb.describe_table(TableName=outputs[TABLE_OUTPUT])["Table"]
    cloud.destroy(name)

    assert described["SSEDescription"] == {
        "Status": "ENABLED",
        "SSEType": "KMS",
        "KMSMasterKeyArn": outputs[KEY_OUTPUT],
    }


def test_the_table_arn_resolves_to_the_deployed_table(cloud: Cloud, default_template: str) -> None:
    name, outputs = cloud.deploy(default_template)

    described = cloud.dynamodb.describe_table(TableName=outputs[TABLE_OUTPUT])["Table"]
    cloud.destroy(name)

    assert outputs["TableArn"] == described["TableArn"]


def test_destroy_deletes_the_ledger(cloud: Cloud, default_template: str) -> None:
    name, outputs = cloud.deploy(default_template)

    cloud.destroy(name)

    assert not cloud.table_exists(outputs[TABLE_OUTPUT])


def test_with_retain_data_destroy_keeps_the_ledger_and_its_items(cloud: Cloud) -> None:
    name, outputs = cloud.deploy(ledger_template(retain_data=True, use_kms_key=False))
    table = outputs[TABLE_OUTPUT]
    item = _version_item("kept.mp3", "01", State.TRANSCRIBED, open_since=None)
    cloud.dynamodb.put_item(TableName=table, Item=item)

    cloud.destroy(name)

    assert cloud.table_exists(table)
    assert (
        cloud.dynamodb.get_item(
            TableName=table, Key={PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]}
        )["Item"]
        == item
    )
    cloud.dynamodb.delete_table(TableName=table)
