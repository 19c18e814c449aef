"""The CloudFormation API calls that start stack operations, routed to the local engine.

CreateStack, UpdateStack, ExecuteChangeSet and DeleteStack validate and return like the real
service and leave the work to ``stack_operations``. Change sets are found by name within their
stack (the CDK CLI reuses one name on every stack); a missing one is ``ChangeSetNotFound``,
deleting a missing one succeeds, and ``UsePreviousValue`` re-resolves SSM parameters from their
names rather than from their previous values.
"""

from __future__ import annotations

import logging
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult, EmptyResult

from localcloud.cloudformation.stack_operations import check_idle, start_delete, start_deploy

logger = logging.getLogger(__name__)


class ChangeSetNotFoundError(CloudFormationError):
    """DescribeChangeSet/ExecuteChangeSet of a change set that does not exist (HTTP 404)."""

    code = "ChangeSetNotFound"

    def __init__(self, name: str) -> None:
        super().__init__(f"ChangeSet [{name}] does not exist")


def _find_change_set(
    backend: cfn_models.CloudFormationBackend, name: str, stack_name: str | None
) -> cfn_models.ChangeSet:
    if name in backend.change_sets:
        return backend.change_sets[name]
    for change_set in reversed(list(backend.change_sets.values())):
        if change_set.change_set_name != name:
            continue
        # moto keys change sets by id only; CDK reuses one name on every stack.
        if stack_name and stack_name not in (change_set.stack_name, change_set.stack_id):
            continue
        return change_set
    raise ChangeSetNotFoundError(name)


def patch_backend() -> None:
    """Replace the backend's stack and change-set operations with the engine's."""
    backend_cls = cfn_models.CloudFormationBackend

    def create_stack(
        self: cfn_models.CloudFormationBackend,
        name: str,
        template: str,
        parameters: dict[str, Any],
        **kwargs: Any,
    ) -> cfn_models.Stack:
        if name in [stack.name for stack in self.stacks.values()]:
            raise cfn_models.AlreadyExistsException(f"Stack {name} already exists")
        # Validate synchronously (template, parameters, outputs) as CreateStack does; the
        # resources are then created by the engine.
        stack_id = cfn_models.generate_stack_id(name, self.region_name, self.account_id)
        parsing.ResourceMap(
            stack_id,
            name,
            parameters,
            {},
            region_name=self.region_name,
            account_id=self.account_id,
            template=cfn_models.Stack.parse_template(template),
            cross_stack_resources=self.exports,
        ).load()
        stack = cfn_models.Stack(  # type: ignore[abstract]
            stack_id=stack_id,
            name=name,
            template={},
            parameters=parameters,
            account_id=self.account_id,
            region_name=self.region_name,
            notification_arns=kwargs.get("notification_arns"),
            tags=kwargs.get("tags"),
            role_arn=kwargs.get("role_arn"),
            cross_stack_resources=self.exports,
            enable_termination_protection=kwargs.get("enable_termination_protection"),
            timeout_in_mins=kwargs.get("timeout_in_mins"),
            stack_policy_body=kwargs.get("stack_policy_body"),
        )
        self.stacks[stack_id] = stack
        start_deploy(self, stack, "create", template=template, parameters=parameters, creating=True)
        return stack

    def update_stack(  # noqa: PLR0917 - moto's CloudFormationBackend.update_stack signature
        self: cfn_models.CloudFormationBackend,
        name: str,
        template: str,
        role_arn: str | None,
        parameters: list[dict[str, Any]],
        tags: dict[str, str] | None,
    ) -> cfn_models.Stack:
        stack = self.get_stack(name)
        check_idle(stack)
        resolved = {
            p["ParameterKey"]: p["ParameterValue"] for p in parameters if "ParameterValue" in p
        }
        for parameter in parameters:
            key = parameter["ParameterKey"]
            if parameter.get("UsePreviousValue") and key in stack.parameters:
                resolved[key] = stack.parameters[key]
        if tags is not None:
            stack.tags = tags
        stack.role_arn = role_arn
        start_deploy(self, stack, "update", template=template, parameters=resolved, creating=False)
        return stack

    def execute_change_set(
        self: cfn_models.CloudFormationBackend, change_set_name: str, stack_name: str | None = None
    ) -> None:
        change_set = _find_change_set(self, change_set_name, stack_name)
        if change_set.execution_status != "AVAILABLE":
            raise ValidationError(
                message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                f"execution status of [{change_set.execution_status}]"
            )
        stack = self.stacks.get(change_set.stack_id)
        if stack is None:
            raise ValidationError(change_set.stack_name)
        check_idle(stack)
        # moto builds change-set stacks without the region's exports (Fn::ImportValue).
        stack.resource_map.cross_stack_resources = self.exports
        # Executing one change set invalidates the stack's others, as in CloudFormation.
        for other_id in [
            cid
            for cid, cs in self.change_sets.items()
            if cs.stack_id == stack.stack_id and cid != change_set.change_set_id
        ]:
            self.change_sets.pop(other_id)
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        if change_set.tags:
            stack.tags = change_set.tags

        def finished(succeeded: bool) -> None:
            change_set.execution_status = "EXECUTE_COMPLETE" if succeeded else "EXECUTE_FAILED"

        start_deploy(
            self,
            stack,
            "execute",
            template=change_set.template,
            parameters=change_set.parameters,
            creating=change_set.change_set_type == "CREATE",
            on_done=finished,
        )

    def delete_stack(self: cfn_models.CloudFormationBackend, name_or_stack_id: str) -> None:
        stack = self.stacks.get(name_or_stack_id)
        if stack is None:
            stack = next((s for s in self.stacks.values() if s.name == name_or_stack_id), None)
        if stack is None:
            # Deleting a stack that does not exist (or no longer) succeeds, as in CloudFormation.
            return
        if stack.status == "DELETE_IN_PROGRESS":
            return
        check_idle(stack)
        start_delete(self, stack)

    def describe_change_set(
        self: cfn_models.CloudFormationBackend, change_set_name: str, stack_name: str | None = None
    ) -> cfn_models.ChangeSet:
        return _find_change_set(self, change_set_name, stack_name)

    def delete_change_set(
        self: cfn_models.CloudFormationBackend, change_set_name: str, stack_name: str | None = None
    ) -> None:
        try:
            change_set = _find_change_set(self, change_set_name, stack_name)
        except ChangeSetNotFoundError:
            # CloudFormation accepts deleting a change set that does not exist; the CDK CLI
            # relies on it before every deployment.
            return
        self.change_sets.pop(change_set.change_set_id, None)
        stack = self.stacks.get(change_set.stack_id)
        if (
            stack is not None
            and stack.status == "REVIEW_IN_PROGRESS"
            and not any(cs.stack_id == stack.stack_id for cs in self.change_sets.values())
        ):
            logger.debug("stack %s keeps REVIEW_IN_PROGRESS without change sets", stack.name)

    for name, function in {
        "create_stack": create_stack,
        "update_stack": update_stack,
        "execute_change_set": execute_change_set,
        "delete_stack": delete_stack,
        "describe_change_set": describe_change_set,
        "delete_change_set": delete_change_set,
    }.items():
        setattr(backend_cls, name, function)

    def stack_resources(self: cfn_models.Stack) -> list[Any]:
        # moto's version walks the lazy ResourceMap, which *creates* resources that are not yet
        # created; an API thread must only list what exists.
        resource_map = self.resource_map
        parsed = dict(resource_map._parsed_resources)
        names = list(resource_map._resource_json_map) + [
            name for name in parsed if name not in resource_map._resource_json_map
        ]
        return [parsed[name] for name in names if isinstance(parsed.get(name), CloudFormationModel)]

    cfn_models.Stack.stack_resources = property(stack_resources)  # type: ignore[method-assign,assignment]


def patch_responses() -> None:
    """Pass the stack name to change-set lookups; keep SSM parameters' previous input names."""
    response_cls = cfn_responses.CloudFormationResponse
    original_create_change_set = response_cls.create_change_set

    def describe_change_set(self: cfn_responses.CloudFormationResponse) -> ActionResult:
        change_set = self.cloudformation_backend.describe_change_set(
            self._get_param("ChangeSetName"),
            self._get_param("StackName"),  # type: ignore[call-arg]
        )
        return ActionResult(change_set)

    def delete_change_set(self: cfn_responses.CloudFormationResponse) -> EmptyResult:
        self.cloudformation_backend.delete_change_set(
            self._get_param("ChangeSetName"),
            self._get_param("StackName"),  # type: ignore[call-arg]
        )
        return EmptyResult()

    def create_change_set(self: cfn_responses.CloudFormationResponse) -> ActionResult:
        # moto turns UsePreviousValue into the previous *resolved* value; for SSM-typed
        # parameters (CDK's BootstrapVersion) that value is then looked up as a parameter
        # name and fails. CloudFormation re-resolves the previous *input*: pass that instead,
        # or nothing so the template default applies.
        parameters = self._get_param("Parameters", [])
        if self._get_param("ChangeSetType", "CREATE") == "UPDATE" and any(
            p.get("UsePreviousValue") for p in parameters
        ):
            stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
            rewritten = []
            for parameter in parameters:
                key = parameter["ParameterKey"]
                if parameter.get("UsePreviousValue"):
                    if key in stack.parameters:
                        rewritten.append(
                            {"ParameterKey": key, "ParameterValue": stack.parameters[key]}
                        )
                    continue
                rewritten.append(parameter)
            self.params["Parameters"] = rewritten
        return original_create_change_set(self)

    response_cls.describe_change_set = describe_change_set  # type: ignore[method-assign]
    response_cls.delete_change_set = delete_change_set  # type: ignore[method-assign]
    response_cls.create_change_set = create_change_set  # type: ignore[method-assign]
