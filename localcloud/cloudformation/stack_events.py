"""What a stack shows while the engine works: resource events, stack status, live resources."""

from __future__ import annotations

import logging
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.core.common_models import CloudFormationModel

logger = logging.getLogger(__name__)


def add_event(
    stack: cfn_models.Stack,
    logical_id: str,
    resource_type: str,
    status: str,
    *,
    physical_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Record one resource event (what DescribeStackEvents and the CDK CLI show)."""
    stack.events.append(
        cfn_models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical_id or "",
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def set_stack_status(stack: cfn_models.Stack, status: str, reason: str | None = None) -> None:
    """Change the stack's status, with its reason and a stack event."""
    stack.status = status
    # Serialized as StackStatusReason, which the CDK CLI prints on failure.
    stack.status_reason = reason  # type: ignore[attr-defined]
    stack._add_stack_event(status, resource_status_reason=reason)
    logger.info("stack %s: %s%s", stack.name, status, f" ({reason})" if reason else "")


def model_of(stack: cfn_models.Stack, logical_id: str) -> Any:
    """The resource that exists for a logical id, or None (never creates it)."""
    resource = stack.resource_map._parsed_resources.get(logical_id)
    return resource if isinstance(resource, CloudFormationModel) else None


def physical_id(resource: Any) -> str | None:
    """A resource's physical id, if it has one."""
    value = getattr(resource, "physical_resource_id", None)
    return str(value) if value is not None else None
