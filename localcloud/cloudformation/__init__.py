"""CloudFormation for the local cloud: stack operations that behave like the real service.

moto 5.2.5 runs every CloudFormation operation synchronously inside the API request, sends
custom resources a Create event only (to a ``host.docker.internal`` URL), marks stacks
complete before custom resources answer and deletes resources in no particular order while the
stack is already hidden. The CDK CLI then prints success while nothing ran. ``install``
replaces those code paths; each module below owns one part:

- ``stack_api``: the API calls (CreateStack, UpdateStack, change sets, DeleteStack) that
  validate, then start an operation;
- ``stack_operations``: deploy, roll back and delete on a worker thread, with the stack
  ``*_IN_PROGRESS`` until every resource is done; ``wait_for_idle``;
- ``apply_template``: create and update resources in dependency order, cleanup afterwards;
- ``resource_deletion``: custom resources first, then reverse dependency order, keeping what
  cannot go yet; ``dependencies``: the order itself;
- ``custom_resources``: Create, Update and Delete events sent to the ServiceToken function,
  and its answers awaited;
- ``resource_types``: which model creates each resource type, with the models moto lacks or
  gets wrong in ``lambda_resources``, ``s3_bucket`` and ``placeholders`` (types recorded but not
  emulated), and what they share in ``model_base``;
- ``stack_events``: the events and statuses a stack shows; ``errors``: the failures it reports;
  ``settings``: the timeouts ``install`` sets.

Threads: the moto server answers each request on its own thread, and a custom-resource
function answers by calling back into the server. No lock of this package is ever held while
a function runs.
"""

from __future__ import annotations

import logging

from localcloud.cloudformation.custom_resources import patch_custom_resources
from localcloud.cloudformation.resource_types import patch_resource_models
from localcloud.cloudformation.settings import Settings, settings
from localcloud.cloudformation.stack_api import patch_backend, patch_responses
from localcloud.cloudformation.stack_operations import wait_for_idle

__all__ = ["install", "wait_for_idle"]

logger = logging.getLogger(__name__)

_installed = False


def install(
    *,
    endpoint_url: str,
    custom_resource_timeout: float = Settings.custom_resource_timeout,
    operation_wait: float = Settings.operation_wait,
    answer_grace: float = Settings.answer_grace,
) -> None:
    """Patch moto's CloudFormation so stacks deploy, update and destroy like the real service.

    ``custom_resource_timeout``: seconds a custom resource may take to answer (then FAILED).
    ``operation_wait``: seconds a stack API call waits for its operation before returning.
    ``answer_grace``: seconds allowed for an answer after the function has returned.
    Calling it again only changes these settings.
    """
    settings.endpoint_url = endpoint_url.rstrip("/")
    settings.custom_resource_timeout = custom_resource_timeout
    settings.operation_wait = operation_wait
    settings.answer_grace = answer_grace
    global _installed  # noqa: PLW0603 - patches are process-wide and must be applied once
    if _installed:
        return
    patch_backend()
    patch_responses()
    patch_custom_resources()
    patch_resource_models()
    _installed = True
    logger.debug("CloudFormation patches installed (endpoint %s)", settings.endpoint_url)
