"""Stack operations: deploy (create or update), roll back and delete, each on a worker thread.

moto runs every operation inside the API request and marks the stack complete at once. Here
an operation runs on its own thread and the stack stays ``*_IN_PROGRESS`` until every resource,
custom resources included, is done; the API call returns at once, or as soon as the operation
finishes if that is quicker than ``operation_wait`` seconds. A failed deploy rolls back
(``ROLLBACK_COMPLETE`` / ``UPDATE_ROLLBACK_COMPLETE``); a delete that leaves something behind (a
non-empty bucket, a failed Delete answer) ends in ``DELETE_FAILED`` with the stack still there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation.exceptions import ValidationError

from localcloud.cloudformation.apply_template import ApplyTemplate
from localcloud.cloudformation.errors import ResourceOperationError, failure_reason
from localcloud.cloudformation.resource_deletion import delete_resources, describe_failures
from localcloud.cloudformation.settings import settings
from localcloud.cloudformation.stack_events import set_stack_status

logger = logging.getLogger(__name__)

# Guards only this registry; never held across a function call or a wait.
_operations_lock = threading.Lock()
_operations: dict[str, threading.Thread] = {}


def _refresh_stack_template(
    stack: cfn_models.Stack, template: str, parameters: dict[str, Any] | None
) -> None:
    stack.template = template
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    if parameters is not None:
        stack.parameters = parameters
    stack.output_map = stack._create_output_map()
    # Resolve outputs here, on the worker thread, so API threads only read cached values.
    _ = stack.outputs


def _remove_exports(backend: cfn_models.CloudFormationBackend, stack: cfn_models.Stack) -> None:
    for name, export in list(backend.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            backend.exports.pop(name)


def _complete_deploy(
    backend: cfn_models.CloudFormationBackend,
    stack: cfn_models.Stack,
    template: Any,
    parameters: dict[str, Any] | None,
) -> None:
    """Make the stack show the template it now has: template, outputs and exports."""
    _refresh_stack_template(stack, template, parameters)
    _remove_exports(backend, stack)
    for export in stack.exports:
        backend.exports[export.name] = export


def _run_deploy(
    backend: cfn_models.CloudFormationBackend,
    stack: cfn_models.Stack,
    *,
    template: str,
    parameters: dict[str, Any] | None,
    creating: bool,
    on_done: Callable[[bool], None] | None = None,
) -> None:
    """Bring a stack to a template; roll back on failure. Runs on a worker thread."""
    prefix = "CREATE" if creating else "UPDATE"
    previous_template = stack.template
    previous_parameters = dict(stack.resource_map.input_parameters or {})
    apply = ApplyTemplate(stack, stack.parse_template(template), parameters)
    try:
        apply.run()
    except Exception as exc:
        if isinstance(exc, ResourceOperationError):
            reason = (
                f"The following resource(s) failed to {prefix.lower()}: "
                f"[{exc.logical_id}]. {exc.reason}"
            )
        else:
            logger.exception("stack %s: %s failed", stack.name, prefix.lower())
            reason = failure_reason(exc)
        _rollback(
            backend,
            stack,
            creating=creating,
            previous_template=previous_template,
            previous_parameters=previous_parameters,
            reason=reason,
        )
        if on_done:
            on_done(False)
        return
    _complete_deploy(backend, stack, template, parameters)
    if not creating:
        set_stack_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        apply.cleanup()
    set_stack_status(stack, f"{prefix}_COMPLETE")
    if on_done:
        on_done(True)


def _rollback(
    backend: cfn_models.CloudFormationBackend,
    stack: cfn_models.Stack,
    *,
    creating: bool,
    previous_template: Any,
    previous_parameters: dict[str, Any],
    reason: str,
) -> None:
    if creating:
        set_stack_status(stack, "ROLLBACK_IN_PROGRESS", reason)
        failures = delete_resources(
            stack,
            dict(stack.resource_map._resource_json_map),
            retain_policies=("Retain", "RetainExceptOnCreate"),
        )
        if failures:
            set_stack_status(stack, "ROLLBACK_FAILED", describe_failures(failures))
        else:
            set_stack_status(stack, "ROLLBACK_COMPLETE", reason)
        return
    set_stack_status(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
    try:
        previous = ApplyTemplate(
            stack,
            stack.parse_template(previous_template)
            if isinstance(previous_template, str)
            else previous_template,
            previous_parameters,
        )
        previous.run()
        set_stack_status(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        previous.cleanup()
    except Exception as exc:  # noqa: BLE001 - any failure leaves UPDATE_ROLLBACK_FAILED
        detail = failure_reason(exc)
        logger.warning("stack %s: rollback failed: %s", stack.name, detail)
        set_stack_status(stack, "UPDATE_ROLLBACK_FAILED", detail)
        return
    _complete_deploy(backend, stack, previous_template, previous_parameters)
    set_stack_status(stack, "UPDATE_ROLLBACK_COMPLETE", reason)


def _run_delete(backend: cfn_models.CloudFormationBackend, stack: cfn_models.Stack) -> None:
    """Delete a stack's resources, then the stack; DELETE_FAILED if anything is left."""
    failures = delete_resources(stack, dict(stack.resource_map._resource_json_map))
    if failures:
        set_stack_status(stack, "DELETE_FAILED", describe_failures(failures))
        return
    set_stack_status(stack, "DELETE_COMPLETE")
    _remove_exports(backend, stack)
    backend.stacks.pop(stack.stack_id, None)
    backend.deleted_stacks[stack.stack_id] = stack
    for change_set_id in [
        cid for cid, cs in backend.change_sets.items() if cs.stack_id == stack.stack_id
    ]:
        backend.change_sets.pop(change_set_id)


def _start_operation(stack: cfn_models.Stack, name: str, target: Callable[[], None]) -> None:
    """Run a stack operation on a worker thread; return when it ends or after operation_wait."""

    def run() -> None:
        try:
            target()
        except Exception:
            # The engine records failures on the stack itself; this is a bug in the engine.
            logger.exception("stack %s: %s crashed", stack.name, name)
            set_stack_status(
                stack,
                f"{stack.status.split('_')[0]}_FAILED",
                "internal error in the local cloud (see its log)",
            )

    thread = threading.Thread(target=run, name=f"cfn-{name}-{stack.name}", daemon=True)
    with _operations_lock:
        _operations[stack.stack_id] = thread
    thread.start()
    # The CDK CLI polls every 5 s; most local operations finish well within a second or two,
    # so returning at the end of a short operation saves the CLI a poll without changing what
    # it observes (the API stays asynchronous for long operations).
    thread.join(settings.operation_wait)


def start_deploy(
    backend: cfn_models.CloudFormationBackend,
    stack: cfn_models.Stack,
    operation: str,
    *,
    template: str,
    parameters: dict[str, Any] | None,
    creating: bool,
    on_done: Callable[[bool], None] | None = None,
) -> None:
    """Mark the stack CREATE_/UPDATE_IN_PROGRESS and bring it to the template on a worker."""
    set_stack_status(
        stack, "CREATE_IN_PROGRESS" if creating else "UPDATE_IN_PROGRESS", "User Initiated"
    )
    _start_operation(
        stack,
        operation,
        lambda: _run_deploy(
            backend,
            stack,
            template=template,
            parameters=parameters,
            creating=creating,
            on_done=on_done,
        ),
    )


def start_delete(backend: cfn_models.CloudFormationBackend, stack: cfn_models.Stack) -> None:
    """Mark the stack DELETE_IN_PROGRESS and delete it on a worker."""
    set_stack_status(stack, "DELETE_IN_PROGRESS", "User Initiated")
    _start_operation(stack, "delete", lambda: _run_delete(backend, stack))


def check_idle(stack: cfn_models.Stack) -> None:
    """Refuse a new operation while one is running on the stack, as CloudFormation does."""
    if stack.status.endswith("_IN_PROGRESS") and stack.status != "REVIEW_IN_PROGRESS":
        raise ValidationError(
            stack.stack_id,
            message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.",
        )


def wait_for_idle(timeout: float = 30.0) -> bool:
    """Wait until no stack operation is running; return False if some still run after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        with _operations_lock:
            running = [t for t in _operations.values() if t.is_alive()]
        if not running:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        running[0].join(min(remaining, 0.5))
