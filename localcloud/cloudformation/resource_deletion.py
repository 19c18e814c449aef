"""Delete a stack's resources in CloudFormation's order, keeping what cannot go yet.

Custom resources go first (their handlers may need the rest, e.g. to empty a bucket), then
the others in reverse dependency order. A resource is kept when something that depends on it
could not be deleted, so a failed custom resource keeps its handler for a retry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from moto.cloudformation import models as cfn_models

from localcloud.cloudformation.custom_resources import (
    LocalCustomResource,
    delete_custom_resource,
)
from localcloud.cloudformation.dependencies import dependencies, dependency_order
from localcloud.cloudformation.errors import ResourceOperationError, failure_reason
from localcloud.cloudformation.stack_events import add_event, model_of, physical_id

# Several passes: moto raises on some dependency orders CloudFormation would accept.
_MAX_DELETE_PASSES = 5


def _delete_one(stack: cfn_models.Stack, logical_id: str, definition: dict[str, Any]) -> None:
    resource = model_of(stack, logical_id)
    if isinstance(resource, LocalCustomResource):
        delete_custom_resource(stack, resource)
    else:
        stack.resource_map._delete_resource(resource, definition)


def delete_resources(
    stack: cfn_models.Stack,
    resources: dict[str, Any],
    *,
    retain_policies: Iterable[str] = ("Retain",),
) -> dict[str, str]:
    """Delete resources: custom resources first, then reverse dependency order.

    Returns the reasons of the resources left behind.
    """
    parsed = stack.resource_map._parsed_resources
    dependents: dict[str, set[str]] = {logical_id: set() for logical_id in resources}
    for logical_id, needs in dependencies(resources).items():
        for dependency in needs:
            dependents[dependency].add(logical_id)
    order = list(reversed(dependency_order(resources)))
    custom = [lid for lid in order if isinstance(model_of(stack, lid), LocalCustomResource)]
    order = custom + [lid for lid in order if lid not in custom]
    failures: dict[str, str] = {}
    remaining: list[str] = []
    for logical_id in order:
        definition = resources[logical_id]
        resource = model_of(stack, logical_id)
        if resource is None:
            parsed.pop(logical_id, None)
            continue
        if definition.get("DeletionPolicy") in retain_policies:
            add_event(
                stack,
                logical_id,
                str(definition.get("Type", "")),
                "DELETE_SKIPPED",
                physical_id=physical_id(resource),
            )
            parsed.pop(logical_id, None)
            continue
        remaining.append(logical_id)

    for _ in range(_MAX_DELETE_PASSES):
        progressed = False
        for logical_id in list(remaining):
            definition = resources[logical_id]
            resource_type = str(definition.get("Type", ""))
            if any(d in remaining or d in failures for d in dependents[logical_id]):
                continue  # something that depends on it still exists
            resource = model_of(stack, logical_id)
            add_event(
                stack,
                logical_id,
                resource_type,
                "DELETE_IN_PROGRESS",
                physical_id=physical_id(resource),
            )
            try:
                _delete_one(stack, logical_id, definition)
            except ResourceOperationError as exc:
                failures[logical_id] = exc.reason
                remaining.remove(logical_id)
                add_event(stack, logical_id, resource_type, "DELETE_FAILED", reason=exc.reason)
                continue
            except Exception as exc:  # noqa: BLE001 - moto models raise anything; record it
                reason = failure_reason(exc)
                failures[logical_id] = reason
                add_event(stack, logical_id, resource_type, "DELETE_FAILED", reason=reason)
                continue
            failures.pop(logical_id, None)
            remaining.remove(logical_id)
            parsed.pop(logical_id, None)
            progressed = True
            add_event(
                stack,
                logical_id,
                resource_type,
                "DELETE_COMPLETE",
                physical_id=physical_id(resource),
            )
        if not remaining or not progressed:
            break
    for logical_id in remaining:
        failures.setdefault(
            logical_id, "not deleted because a resource that depends on it could not be deleted"
        )
    return failures


def describe_failures(failures: dict[str, str]) -> str:
    """The stack status reason for resources that could not be deleted."""
    return "The following resource(s) failed to delete: " + "; ".join(
        f"[{logical_id}] {reason}" for logical_id, reason in failures.items()
    )
