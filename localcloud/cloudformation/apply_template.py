"""Bring a stack's resources to a template: create and update in dependency order.

Removal is a separate, final cleanup phase, as in CloudFormation: nothing the new template
drops is deleted until everything it keeps or adds is in place.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing

from localcloud.cloudformation.custom_resources import (
    LocalCustomResource,
    delete_custom_resource,
    stringify_properties,
    update_custom_resource,
)
from localcloud.cloudformation.dependencies import dependency_order
from localcloud.cloudformation.errors import ResourceOperationError, failure_reason
from localcloud.cloudformation.resource_deletion import delete_resources
from localcloud.cloudformation.stack_events import add_event, model_of, physical_id

logger = logging.getLogger(__name__)


@dataclass
class ApplyTemplate:
    """One pass that brings a stack's resources to a template."""

    stack: cfn_models.Stack
    template: dict[str, Any]
    parameters: dict[str, Any] | None
    # Filled by run(): what the cleanup phase must delete afterwards.
    removed: list[str] = field(default_factory=list)
    old_resources: dict[str, Any] = field(default_factory=dict)
    replaced_custom: list[LocalCustomResource] = field(default_factory=list)

    def run(self) -> None:
        """Create and update resources in dependency order; removal is left to cleanup()."""
        resource_map = self.stack.resource_map
        self.old_resources = dict(resource_map._resource_json_map)
        diff = resource_map.build_resource_diff(self.template, self.parameters)
        self.removed = list(diff["Remove"])
        added, modified = set(diff["Add"]), set(diff["Modify"])

        resource_map._template = self.template
        if self.parameters is not None:
            resource_map.input_parameters = self.parameters
        resource_map.load_mapping()
        resource_map.transform_mapping()
        resource_map.load_parameters()
        resource_map.load_conditions()
        resource_map._resource_json_map = self.template.get("Resources", {})

        for logical_id in dependency_order(resource_map._resource_json_map):
            if logical_id in added or (
                logical_id in modified and model_of(self.stack, logical_id) is None
            ):
                self._create(logical_id)
            elif logical_id in modified:
                self._update(logical_id)

    def _resource_type(self, logical_id: str) -> str:
        definition = self.stack.resource_map._resource_json_map.get(
            logical_id
        ) or self.old_resources.get(logical_id, {})
        return str(definition.get("Type", ""))

    @contextmanager
    def _failure_recorded(self, logical_id: str, resource_type: str, action: str) -> Iterator[None]:
        """Record an ``<action>_FAILED`` event for any failure and raise it as a resource's."""
        try:
            yield
        except ResourceOperationError as exc:
            add_event(self.stack, logical_id, resource_type, f"{action}_FAILED", reason=exc.reason)
            raise
        except Exception as exc:
            logger.exception("%s of %s (%s) failed", action.lower(), logical_id, resource_type)
            reason = failure_reason(exc)
            add_event(self.stack, logical_id, resource_type, f"{action}_FAILED", reason=reason)
            raise ResourceOperationError(logical_id, reason) from exc

    def _create(self, logical_id: str) -> None:
        resource_map = self.stack.resource_map
        condition = resource_map._resource_json_map[logical_id].get("Condition")
        if condition and not resource_map.lazy_condition_map[condition]:
            return  # CloudFormation neither creates nor reports a resource whose Condition fails
        resource_type = self._resource_type(logical_id)
        add_event(self.stack, logical_id, resource_type, "CREATE_IN_PROGRESS")
        with self._failure_recorded(logical_id, resource_type, "CREATE"):
            # ResourceMap creates lazily; dependencies were created before (dependency order).
            resource = self.stack.resource_map[logical_id]
        add_event(
            self.stack,
            logical_id,
            resource_type,
            "CREATE_COMPLETE",
            physical_id=physical_id(resource),
        )

    def _update(self, logical_id: str) -> None:
        resource_map = self.stack.resource_map
        resource_type = self._resource_type(logical_id)
        original = model_of(self.stack, logical_id)
        add_event(
            self.stack,
            logical_id,
            resource_type,
            "UPDATE_IN_PROGRESS",
            physical_id=physical_id(original),
        )
        with self._failure_recorded(logical_id, resource_type, "UPDATE"):
            if isinstance(original, LocalCustomResource):
                updated: Any = self._update_custom(logical_id, original)
            else:
                updated = parsing.parse_and_update_resource(
                    logical_id,
                    resource_map._resource_json_map[logical_id],
                    resource_map,
                    account_id=self.stack.account_id,
                    region_name=self.stack.region_name,
                )
                if updated is None:
                    # moto cannot update this type: keep the resource (moto would lose it).
                    updated = original
        resource_map._parsed_resources[logical_id] = updated
        add_event(
            self.stack,
            logical_id,
            resource_type,
            "UPDATE_COMPLETE",
            physical_id=physical_id(updated),
        )

    def _update_custom(self, logical_id: str, original: LocalCustomResource) -> LocalCustomResource:
        resource_map = self.stack.resource_map
        definition = copy.deepcopy(resource_map._resource_json_map[logical_id])
        properties = stringify_properties(
            parsing.clean_json(definition.get("Properties", {}), resource_map)
        )
        updated = update_custom_resource(
            self.stack, logical_id, original, str(definition["Type"]), properties
        )
        if updated.physical_resource_id != original.physical_resource_id:
            # A new physical id means replacement: the old one gets a Delete during cleanup.
            self.replaced_custom.append(original)
        return updated

    def cleanup(self) -> None:
        """Delete what the new template no longer has; failures are reported, not fatal."""
        for old in self.replaced_custom:
            try:
                delete_custom_resource(self.stack, old)
            except ResourceOperationError as exc:
                logger.warning("cleanup of replaced %s failed: %s", old.logical_id, exc.reason)
        removed = {
            logical_id: self.old_resources[logical_id]
            for logical_id in self.removed
            if logical_id in self.old_resources
        }
        failures = delete_resources(self.stack, removed)
        for logical_id, reason in failures.items():
            logger.warning("cleanup: %s could not be deleted: %s", logical_id, reason)
