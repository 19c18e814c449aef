"""The ledger: one DynamoDB item per upload version, and who may do what with it.

Names (keys, indexes) come from ``transcribe_pipeline/ledger_schema.py``; docs/ledger.md ("The
table") gives the reasons for the settings below and their AWS sources.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.permissions import allow, use_key
from transcribe_pipeline.ledger_schema import (
    OPEN,
    OPEN_INDEX,
    OPEN_SINCE,
    PARTITION_KEY,
    SORT_KEY,
    STATE,
    STATE_INDEX,
    STATE_INDEX_SORT_KEY,
)
from transcribe_pipeline.outcome_events import EVENT_SOURCE, DetailType

_STRING = dynamodb.AttributeType.STRING
# What each function does to the ledger (docs/ledger.md): the start function receives versions
# and moves the head; the job-state function harvests, settles and repairs; the sweeper reads
# the open items and settles them through the same code. TransactWriteItems is authorized per
# item action (Put/Update/ConditionCheck), so it needs no action of its own.
STARTER_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
)
# The sweeper settles items through the job-state function's code, so it needs the same
# actions, plus a Query of the open-items index.
HARVESTER_ACTIONS = STARTER_ACTIONS
# The items are encrypted with the table's KMS key when use_kms_key: reads need Decrypt,
# writes Encrypt and GenerateDataKey (CDK's table grants add the same, as wildcards).
TABLE_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")


class Ledger(Construct):
    """The ledger table: on demand, point-in-time recovery, encrypted, two indexes."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        retain_data: bool,
        encryption_key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.encryption_key = encryption_key
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=_STRING),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=_STRING),
            # Uploads come in bursts and then nothing for days: pay per request.
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Without the pipeline's key, DynamoDB's AWS owned key: no KMS charge, no key
            # permission, as SSE-S3 and SSE-SQS elsewhere (checkov_allowlist.toml, CKV_AWS_119).
            encryption=(
                dynamodb.TableEncryption.CUSTOMER_MANAGED
                if encryption_key
                else dynamodb.TableEncryption.DEFAULT
            ),
            encryption_key=encryption_key,
            # The ledger is what decides which version's outputs show: kept with the data.
            removal_policy=RemovalPolicy.RETAIN if retain_data else RemovalPolicy.DESTROY,
        )
        # Both indexes project every attribute: the sweeper and `list` need nearly all of them,
        # and a global secondary index cannot fetch what it does not hold (docs/ledger.md).
        self.table.add_global_secondary_index(
            index_name=OPEN_INDEX,
            partition_key=dynamodb.Attribute(name=OPEN, type=_STRING),
            sort_key=dynamodb.Attribute(name=OPEN_SINCE, type=_STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        self.table.add_global_secondary_index(
            index_name=STATE_INDEX,
            partition_key=dynamodb.Attribute(name=STATE, type=_STRING),
            sort_key=dynamodb.Attribute(name=STATE_INDEX_SORT_KEY, type=_STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )

    def index_arn(self, index_name: str) -> str:
        """The ARN of one of the table's indexes (what a Query on that index is authorized on)."""
        return f"{self.table.table_arn}/index/{index_name}"

    def allow_starter(self, principal: iam.IGrantable) -> None:
        """Receive versions: read and conditionally write items, query a key's versions."""
        allow(principal, STARTER_ACTIONS, [self.table.table_arn])
        use_key(principal, self.encryption_key, *TABLE_KEY_ACTIONS)

    def allow_harvester(self, principal: iam.IGrantable) -> None:
        """Harvest and settle versions: read and conditionally write items, query a key's."""
        allow(principal, HARVESTER_ACTIONS, [self.table.table_arn])
        use_key(principal, self.encryption_key, *TABLE_KEY_ACTIONS)

    def allow_sweeper(self, principal: iam.IGrantable) -> None:
        """Read the open items oldest first, and settle them as the harvester does."""
        self.allow_harvester(principal)
        allow(principal, ["dynamodb:Query"], [self.index_arn(OPEN_INDEX)])


def allow_outcome_events(scope: Construct, principal: iam.IGrantable) -> None:
    """PutEvents on the account's default bus, for the pipeline's own outcome events only."""
    default_bus = Stack.of(scope).format_arn(
        service="events", resource="event-bus", resource_name="default"
    )
    # Every entry of a PutEvents request must carry this source and one of these detail types
    # (ForAllValues: the keys hold one value per entry; docs/ledger.md, "The table").
    allow(
        principal,
        ["events:PutEvents"],
        [default_bus],
        {
            "ForAllValues:StringEquals": {
                "events:source": [EVENT_SOURCE],
                "events:detail-type": [detail_type.value for detail_type in DetailType],
            }
        },
    )
