"""``AWS::DynamoDB::Table``: the properties moto's CloudFormation model gets wrong.

moto creates the table, its keys, indexes and billing mode from the template, and deletes it,
but it ignores ``PointInTimeRecoverySpecification`` (point-in-time recovery stays disabled),
passes ``SSESpecification`` on in CloudFormation's shape (``SSEEnabled``) where its DynamoDB
model reads the API's (``Enabled``), so a table encrypted with a KMS key is described without
its key and ``SSEEnabled: false`` (DynamoDB's AWS owned key) creates the AWS managed key
``alias/aws/dynamodb``, and it cannot update a table in place.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.kms.models import kms_backends


def _enabled(value: Any) -> bool:
    """A CloudFormation boolean, which may arrive as a string."""
    return value is True or str(value).lower() == "true"


def _api_sse_specification(
    properties: dict[str, Any], account_id: str, region_name: str
) -> dict[str, Any] | None:
    """SSESpecification as DynamoDB's API takes it; None for the AWS owned key."""
    specification = properties.get("SSESpecification")
    if not specification or not _enabled(specification.get("SSEEnabled")):
        return None
    translated: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
    key = specification.get("KMSMasterKeyId")
    if key:
        # DynamoDB reports the key's ARN whether the template names it by id, alias or ARN.
        translated["KMSMasterKeyId"] = kms_backends[account_id][region_name].describe_key(key).arn
    return translated


def _apply_table_properties(
    table: Table, properties: dict[str, Any], account_id: str, region_name: str
) -> None:
    recovery = properties.get("PointInTimeRecoverySpecification") or {}
    dynamodb_backends[account_id][region_name].update_continuous_backups(
        table.name,
        {"PointInTimeRecoveryEnabled": _enabled(recovery.get("PointInTimeRecoveryEnabled"))},
    )


def patch_dynamodb_table() -> None:
    """Translate SSESpecification, apply point-in-time recovery, update those in place."""
    original_create = Table.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(
        cls: type[Table],
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Table:
        definition = copy.deepcopy(cloudformation_json)
        properties = definition.setdefault("Properties", {})
        sse = _api_sse_specification(properties, account_id, region_name)
        if sse is None:
            properties.pop("SSESpecification", None)
        else:
            properties["SSESpecification"] = sse
        table: Table = original_create(
            cls, resource_name, definition, account_id, region_name, **kwargs
        )
        _apply_table_properties(table, properties, account_id, region_name)
        return table

    def update(  # noqa: PLR0917 - moto's update_from_cloudformation_json signature
        cls: type[Table],
        original_resource: Table,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Table:
        # Encryption and recovery change in place, as UpdateTable and
        # UpdateContinuousBackups do; keys and indexes keep what the table was created with.
        properties = cloudformation_json.get("Properties", {})
        original_resource.sse_specification = _api_sse_specification(
            properties, account_id, region_name
        )
        _apply_table_properties(original_resource, properties, account_id, region_name)
        return original_resource

    Table.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
    Table.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign,assignment]
