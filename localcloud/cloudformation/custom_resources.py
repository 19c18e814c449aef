"""Custom resources: lifecycle events sent to their function, and the answers waited for.

moto sends a custom resource a Create event only, to a URL nobody answers on, and carries on
without waiting. Here every Create, Update and Delete invokes the ServiceToken function with
properties stringified as CloudFormation sends them and a ``ResponseURL`` on the local endpoint,
and the stack operation waits for the answer the function PUTs there (with a timeout).

Threads: the function answers by calling back into the server on another request thread, so
the lock below is never held while a function runs or while an answer is awaited.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.custom_model import CustomModel

from localcloud.cloudformation.errors import ResourceOperationError
from localcloud.cloudformation.settings import settings

logger = logging.getLogger(__name__)

CUSTOM_RESOURCE_TYPE = "AWS::CloudFormation::CustomResource"


@dataclass
class _PendingAnswer:
    done: threading.Event = field(default_factory=threading.Event)
    body: dict[str, Any] = field(default_factory=dict)


# Guards only this registry; never held across a function call or a wait.
_pending_lock = threading.Lock()
_pending_answers: dict[str, _PendingAnswer] = {}


def stringify_properties(value: Any) -> Any:
    """Turn every scalar into a string, recursively, as CloudFormation does for custom resources."""
    if isinstance(value, dict):
        return {key: stringify_properties(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stringify_properties(item) for item in value]
    if isinstance(value, bool):
        # CloudFormation sends JSON booleans as "true"/"false", not Python's "True"/"False".
        return "true" if value else "false"
    if value is None:
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class LocalCustomResource(CustomModel):
    """A custom resource whose lifecycle events really ran and were answered."""

    def __init__(
        self,
        *,
        region_name: str,
        logical_id: str,
        resource_type: str,
        properties: dict[str, Any],
        answer: dict[str, Any],
        physical_id: str,
    ) -> None:
        """Record what the function answered; ``physical_id`` is used if the answer has none."""
        physical_id = answer.get("PhysicalResourceId") or physical_id
        super().__init__(region_name, str(uuid.uuid4()), logical_id, physical_id)
        self.resource_type = resource_type
        self.service_token = properties["ServiceToken"]
        self.properties = properties
        self.set_data(answer.get("Data") or {})

    @property
    def physical_resource_id(self) -> str:
        """The id the function answered with, as CloudFormation reports it."""
        return self.resource_name

    # The engine sends Update and Delete events itself (see update_custom_resource and
    # delete_custom_resource); these complete the abstract interface moto's CustomModel leaves.
    @staticmethod
    def cloudformation_name_type() -> str:
        """Custom resources have no name property."""
        return ""

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        """Not used: updates go through the stack engine."""
        raise NotImplementedError("custom resources are updated by localcloud.cloudformation")

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        """Not used: deletions go through the stack engine."""
        raise NotImplementedError("custom resources are deleted by localcloud.cloudformation")


def _response_url(region: str, stack_id: str, request_id: str) -> str:
    # Real ResponseURLs are presigned S3 URLs; any URL on the local endpoint works because the
    # handlers only PUT to it (CDK's Node.js handler keeps host and path, and the local Node
    # runner sends localhost answers to the endpoint).
    return (
        f"{settings.endpoint_url}/cloudformation_{region}/cfnresponse"
        f"?stack={quote(stack_id, safe='')}&request={request_id}"
    )


def send_custom_resource_event(
    *,
    account_id: str,
    region: str,
    stack_id: str,
    logical_id: str,
    resource_type: str,
    request_type: str,
    properties: dict[str, Any],
    physical_id: str | None = None,
    old_properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Invoke the ServiceToken function with one lifecycle event and return its SUCCESS answer."""
    service_token = properties.get("ServiceToken")
    if not service_token:
        raise ResourceOperationError(logical_id, "ServiceToken is missing")
    try:
        function = get_lambda_backend(account_id, region).get_function(service_token)
    except LambdaClientError as exc:
        raise ResourceOperationError(
            logical_id, f"ServiceToken function {service_token} does not exist ({exc})"
        ) from exc

    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": service_token,
        "ResponseURL": _response_url(region, stack_id, request_id),
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": properties,
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = old_properties

    pending = _PendingAnswer()
    with _pending_lock:
        _pending_answers[request_id] = pending
    invocation: dict[str, Any] = {}
    finished = threading.Event()

    def invoke() -> None:
        # CloudFormation invokes asynchronously and waits for the PUT; a synchronous call on
        # this helper thread is equivalent and tells when the function has returned.
        headers: dict[str, str] = {}
        try:
            output = function.invoke(
                json.dumps(event), {"x-amz-invocation-type": "RequestResponse"}, headers
            )
            invocation["output"] = output.decode() if isinstance(output, bytes) else output
            invocation["errored"] = "x-amz-function-error" in headers
        except Exception as exc:
            logger.exception("%s %s: invoking %s failed", request_type, logical_id, service_token)
            invocation["error"] = exc
        finally:
            finished.set()

    thread = threading.Thread(
        target=invoke, name=f"cfn-custom-{logical_id}-{request_type}", daemon=True
    )
    logger.info("%s %s (%s) -> %s", request_type, logical_id, resource_type, service_token)
    thread.start()
    try:
        answer = _wait_for_answer(pending, finished, invocation, logical_id, request_type)
    finally:
        with _pending_lock:
            _pending_answers.pop(request_id, None)

    status = answer.get("Status")
    if status != "SUCCESS":
        # CloudFormation's own wording, which users search for.
        raise ResourceOperationError(
            logical_id,
            f"Received response status [{status}] from custom resource. Message returned: "
            f"{answer.get('Reason') or '(none)'} (RequestId: {request_id}, {request_type})",
        )
    return answer


def _wait_for_answer(
    pending: _PendingAnswer,
    finished: threading.Event,
    invocation: dict[str, Any],
    logical_id: str,
    request_type: str,
) -> dict[str, Any]:
    deadline = time.monotonic() + settings.custom_resource_timeout
    finished_at: float | None = None
    while not pending.done.wait(0.05):
        now = time.monotonic()
        if finished_at is None and finished.is_set():
            finished_at = now
        if finished_at is not None and now - finished_at > settings.answer_grace:
            detail = invocation.get("error") or invocation.get("output") or "no output"
            outcome = "failed" if invocation.get("errored") else "returned"
            raise ResourceOperationError(
                logical_id,
                f"{request_type}: the custom resource function {outcome} without sending a "
                f"response to the ResponseURL (result: {str(detail)[:500]})",
            )
        if now > deadline:
            raise ResourceOperationError(
                logical_id,
                f"{request_type}: no response from the custom resource function within "
                f"{settings.custom_resource_timeout:.0f} s",
            )
    return pending.body


def update_custom_resource(
    stack: cfn_models.Stack,
    logical_id: str,
    original: LocalCustomResource,
    resource_type: str,
    properties: dict[str, Any],
) -> LocalCustomResource:
    """Send an Update event (with the previous properties and physical id); the new resource."""
    answer = send_custom_resource_event(
        account_id=stack.account_id,
        region=stack.region_name,
        stack_id=stack.stack_id,
        logical_id=logical_id,
        resource_type=resource_type,
        request_type="Update",
        properties=properties,
        physical_id=original.physical_resource_id,
        old_properties=original.properties,
    )
    updated = LocalCustomResource(
        region_name=stack.region_name,
        logical_id=logical_id,
        resource_type=resource_type,
        properties=properties,
        answer=answer,
        physical_id=original.physical_resource_id,
    )
    # parse_and_create_resource sets these on new resources; DescribeStackResources reads them.
    updated.cf_resource_type = resource_type  # type: ignore[attr-defined]
    updated.logical_resource_id = logical_id  # type: ignore[attr-defined]
    return updated


def delete_custom_resource(stack: cfn_models.Stack, resource: LocalCustomResource) -> None:
    """Send a Delete event for the resource and wait for its SUCCESS answer."""
    send_custom_resource_event(
        account_id=stack.account_id,
        region=stack.region_name,
        stack_id=stack.stack_id,
        logical_id=resource.logical_id,
        resource_type=resource.resource_type,
        request_type="Delete",
        properties=resource.properties,
        physical_id=resource.physical_resource_id,
    )


def _create_custom_resource(
    cls: type[CustomModel],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> LocalCustomResource:
    """Replacement for CustomModel.create_from_cloudformation_json: a synchronous Create."""
    logical_id = kwargs["LogicalId"]
    properties = stringify_properties(cloudformation_json.get("Properties", {}))
    answer = send_custom_resource_event(
        account_id=account_id,
        region=region_name,
        stack_id=kwargs["StackId"],
        logical_id=logical_id,
        resource_type=kwargs["ResourceType"],
        request_type="Create",
        properties=properties,
    )
    return LocalCustomResource(
        region_name=region_name,
        logical_id=logical_id,
        resource_type=kwargs["ResourceType"],
        properties=properties,
        answer=answer,
        physical_id=resource_name,
    )


def _process_cfn_response(
    self: cfn_responses.CloudFormationResponse,
) -> tuple[int, dict[str, int], str]:
    """Replacement for CloudFormationResponse.process_cfn_response: wake the answer's waiter."""
    raw = self.body
    text = raw.decode("utf-8") if isinstance(raw, bytes) else (raw or "")
    try:
        body = json.loads(text) if text else {}
    except json.JSONDecodeError:
        logger.warning("custom resource response is not JSON: %r", text[:200])
        return 400, {"status": 400}, ""
    request_id = str(body.get("RequestId") or self.querystring.get("request", [""])[0])
    with _pending_lock:
        pending = _pending_answers.get(request_id)
    if pending is None:
        logger.warning(
            "custom resource response for unknown or expired request %s (%s): %s",
            request_id,
            body.get("LogicalResourceId"),
            body.get("Status"),
        )
    else:
        pending.body = body
        pending.done.set()
    return 200, {"status": 200}, ""


def patch_custom_resources() -> None:
    """Make moto's Create wait for the function's answer, and route answers to their waiter."""
    CustomModel.create_from_cloudformation_json = classmethod(_create_custom_resource)  # type: ignore[method-assign,assignment]
    cfn_responses.CloudFormationResponse.process_cfn_response = _process_cfn_response  # type: ignore[method-assign]
