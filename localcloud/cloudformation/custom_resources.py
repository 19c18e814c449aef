"""CloudFormation for the local cloud: stack operations that behave like the real service.

moto 5.2.5 runs every CloudFormation operation synchronously inside the API request, sends
custom resources a Create event only (to a ``host.docker.internal`` URL), marks stacks
complete before custom resources answer and deletes resources in no particular order while the
stack is already hidden. The CDK CLI then prints success while nothing ran. This module
replaces those code paths (see ``install``) with an engine that:

- runs each stack operation on a worker thread, keeping the stack ``*_IN_PROGRESS`` until
  every resource, custom resources included, is done (API calls return at once, or as soon as
  the operation finishes if that is quicker than ``operation_wait`` seconds);
- creates and updates resources in dependency order and removes old ones in a final cleanup
  phase, as CloudFormation does;
- sends custom resources Create, Update (with ``OldResourceProperties`` and the previous
  ``PhysicalResourceId``) and Delete events, with every property scalar turned into a string,
  and a ``ResponseURL`` on the local endpoint; waits for each answer, with a timeout;
- rolls back (``ROLLBACK_COMPLETE`` / ``UPDATE_ROLLBACK_COMPLETE``) when a resource fails;
- deletes custom resources first, then the rest in reverse dependency order, keeping the stack
  visible as ``DELETE_IN_PROGRESS`` and ending in ``DELETE_FAILED`` when something (a
  non-empty bucket, a failed Delete answer) could not be deleted;
- rebuilds the template and outputs after a change set runs, reports missing change sets as
  ``ChangeSetNotFound``, ignores deletion of unknown ones, and re-resolves SSM parameters
  from their names rather than from their previous values;
- implements ``AWS::Lambda::EventInvokeConfig`` (stored on the function, where
  ``lambda_runtime``'s asynchronous invoke reads it), passes the function properties moto
  drops (``Layers``, ``LoggingConfig``, ``DeadLetterConfig``, ``Architectures``), fixes
  in-place updates of buckets and of functions with inline code, and records resource types
  moto does not model as placeholders with a warning, so they are listed by
  ``DescribeStackResources`` instead of vanishing.

Threads: the moto server answers each request on its own thread, and a custom-resource
function answers by calling back into the server. No lock of this module is ever held while
a function runs.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import (
    LambdaClientError,
    UnknownEventConfig,
    UnknownFunctionException,
)
from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.custom_model import CustomModel
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult, EmptyResult
from moto.s3 import models as s3_models
from moto.s3.exceptions import MissingBucket
from moto.utilities.utils import get_partition

logger = logging.getLogger(__name__)

# Types the pipeline does not depend on for its behaviour; recorded as placeholders so that the
# gap is visible (DescribeStackResources lists them, the log warns) rather than silent. Any
# other type moto lacks is handled the same way.
PLACEHOLDER_TYPES = (
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::Scheduler::Schedule",
)

_CUSTOM_RESOURCE_TYPE = "AWS::CloudFormation::CustomResource"
# CDK's version-reporting resource: CloudFormation itself treats it as a no-op.
_CDK_METADATA_TYPE = "AWS::CDK::Metadata"
_MAX_DELETE_PASSES = 5


class ChangeSetNotFoundError(CloudFormationError):
    """DescribeChangeSet/ExecuteChangeSet of a change set that does not exist (HTTP 404)."""

    code = "ChangeSetNotFound"

    def __init__(self, name: str) -> None:
        super().__init__(f"ChangeSet [{name}] does not exist")


class ResourceOperationError(Exception):
    """A resource could not be created, updated or deleted; the reason is user-facing."""

    def __init__(self, logical_id: str, reason: str) -> None:
        super().__init__(f"{logical_id}: {reason}")
        self.logical_id = logical_id
        self.reason = reason


@dataclass
class _Settings:
    endpoint_url: str = "http://localhost:4566"
    custom_resource_timeout: float = 300.0
    operation_wait: float = 20.0
    # How long a custom-resource function may take to answer once its invocation has returned:
    # CDK's handlers send their answer before returning, so a short grace is enough.
    answer_grace: float = 5.0


@dataclass
class _PendingAnswer:
    done: threading.Event = field(default_factory=threading.Event)
    body: dict[str, Any] = field(default_factory=dict)


_settings = _Settings()
_installed = False
# Guards only the two registries below; never held across a function call or a wait.
_registry_lock = threading.Lock()
_pending_answers: dict[str, _PendingAnswer] = {}
_operations: dict[str, threading.Thread] = {}


def install(
    *,
    endpoint_url: str,
    custom_resource_timeout: float = _Settings.custom_resource_timeout,
    operation_wait: float = _Settings.operation_wait,
    answer_grace: float = _Settings.answer_grace,
) -> None:
    """Patch moto's CloudFormation so stacks deploy, update and destroy like the real service.

    ``custom_resource_timeout``: seconds a custom resource may take to answer (then FAILED).
    ``operation_wait``: seconds a stack API call waits for its operation before returning.
    ``answer_grace``: seconds allowed for an answer after the function has returned.
    Calling it again only changes these settings.
    """
    _settings.endpoint_url = endpoint_url.rstrip("/")
    _settings.custom_resource_timeout = custom_resource_timeout
    _settings.operation_wait = operation_wait
    _settings.answer_grace = answer_grace
    global _installed  # noqa: PLW0603 - patches are process-wide and must be applied once
    if _installed:
        return
    _patch_backend()
    _patch_responses()
    _patch_resource_models()
    _installed = True
    logger.debug("CloudFormation patches installed (endpoint %s)", _settings.endpoint_url)


def wait_for_idle(timeout: float = 30.0) -> bool:
    """Wait until no stack operation is running; return False if some still run after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        with _registry_lock:
            running = [t for t in _operations.values() if t.is_alive()]
        if not running:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        running[0].join(min(remaining, 0.5))


# --------------------------------------------------------------------------------------------
# Property handling
# --------------------------------------------------------------------------------------------


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


def _references(node: Any, names: set[str], found: set[str]) -> None:
    """Collect the logical ids a template fragment refers to (Ref, GetAtt, Sub)."""
    if isinstance(node, list):
        for item in node:
            _references(item, names, found)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            if value in names:
                found.add(value)
        elif key == "Fn::GetAtt":
            target = value[0] if isinstance(value, list) else str(value).split(".")[0]
            if target in names:
                found.add(target)
        elif key == "Fn::Sub":
            text = value[0] if isinstance(value, list) else value
            if isinstance(text, str):
                for match in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    target = match.split(".")[0]
                    if target in names:
                        found.add(target)
            if isinstance(value, list) and len(value) > 1:
                _references(value[1], names, found)
        else:
            _references(value, names, found)


def dependencies(resources: dict[str, Any]) -> dict[str, set[str]]:
    """Map each logical id to the resources it depends on (DependsOn, Ref, GetAtt, Sub)."""
    names = set(resources)
    result: dict[str, set[str]] = {}
    for logical_id, definition in resources.items():
        found: set[str] = set()
        depends_on = definition.get("DependsOn", [])
        found.update(d for d in ([depends_on] if isinstance(depends_on, str) else depends_on))
        _references(definition.get("Properties", {}), names, found)
        result[logical_id] = (found & names) - {logical_id}
    return result


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """Order logical ids so that every resource comes after what it depends on."""
    depends = dependencies(resources)
    ordered: list[str] = []
    visiting: set[str] = set()
    placed: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in placed or logical_id in visiting:
            # A cycle is a template error CloudFormation rejects; keep going rather than hang.
            return
        visiting.add(logical_id)
        for dependency in sorted(depends[logical_id]):
            visit(dependency)
        visiting.discard(logical_id)
        placed.add(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return ordered


# --------------------------------------------------------------------------------------------
# Custom resources
# --------------------------------------------------------------------------------------------


class LocalCustomResource(CustomModel):
    """A custom resource whose lifecycle events really ran and were answered."""

    def __init__(
        self,
        *,
        region_name: str,
        logical_id: str,
        resource_type: str,
        service_token: str,
        physical_id: str,
        properties: dict[str, Any],
        data: dict[str, Any],
    ) -> None:
        super().__init__(region_name, str(uuid.uuid4()), logical_id, physical_id)
        self.resource_type = resource_type
        self.service_token = service_token
        self.properties = properties
        self.set_data(data)

    @property
    def physical_resource_id(self) -> str:
        """The id the function answered with, as CloudFormation reports it."""
        return self.resource_name

    # The engine sends Update and Delete events itself (see _Apply and _delete_custom); these
    # complete the abstract interface moto's CustomModel leaves open.
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
        f"{_settings.endpoint_url}/cloudformation_{region}/cfnresponse"
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
    with _registry_lock:
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
        with _registry_lock:
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
    deadline = time.monotonic() + _settings.custom_resource_timeout
    finished_at: float | None = None
    while not pending.done.wait(0.05):
        now = time.monotonic()
        if finished_at is None and finished.is_set():
            finished_at = now
        if finished_at is not None and now - finished_at > _settings.answer_grace:
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
                f"{_settings.custom_resource_timeout:.0f} s",
            )
    return pending.body


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
        service_token=properties["ServiceToken"],
        physical_id=answer.get("PhysicalResourceId") or resource_name,
        properties=properties,
        data=answer.get("Data") or {},
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
    with _registry_lock:
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


# --------------------------------------------------------------------------------------------
# Resource models moto lacks or gets wrong
# --------------------------------------------------------------------------------------------


class PlaceholderResource(CloudFormationModel):
    """A resource type the local cloud records but does not emulate."""

    resource_type = "AWS::LocalCloud::Placeholder"

    def __init__(self, physical_id: str, properties: dict[str, Any]) -> None:
        self.physical_id = physical_id
        self.properties = properties

    @staticmethod
    def cloudformation_name_type() -> str:
        """No name property: CloudFormation generates the physical id."""
        return ""

    @classmethod
    def cloudformation_type(cls) -> str:
        """The resource type this placeholder stands for."""
        return cls.resource_type

    @property
    def physical_resource_id(self) -> str:
        """The generated physical id."""
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        """Accept any attribute; the value is unknown."""
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        """Attributes of placeholders are unknown."""
        logger.warning(
            "%s has no attribute values locally (%s)", self.resource_type, attribute_name
        )
        return None

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> PlaceholderResource:
        """Record the resource and warn that it has no effect locally."""
        if cls.resource_type != _CDK_METADATA_TYPE:
            logger.warning(
                "%s %s is recorded but not emulated by the local cloud (known gap)",
                cls.resource_type,
                kwargs.get("LogicalId", resource_name),
            )
        return cls(resource_name, cloudformation_json.get("Properties", {}))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: PlaceholderResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> PlaceholderResource:
        """Keep the physical id, record the new properties."""
        original_resource.properties = cloudformation_json.get("Properties", {})
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        """Nothing exists to delete."""

    def delete(self, account_id: str, region_name: str) -> None:
        """Nothing exists to delete."""

    def is_created(self) -> bool:
        """Placeholders are complete at once."""
        return True


_placeholder_classes: dict[str, type[PlaceholderResource]] = {}


def _placeholder_class(resource_type: str) -> type[PlaceholderResource]:
    cls = _placeholder_classes.get(resource_type)
    if cls is None:
        name = "Placeholder_" + re.sub(r"\W", "_", resource_type)
        cls = type(name, (PlaceholderResource,), {"resource_type": resource_type})
        _placeholder_classes[resource_type] = cls
    return cls


class EventInvokeConfigResource(CloudFormationModel):
    """AWS::Lambda::EventInvokeConfig, stored where moto's PutFunctionEventInvokeConfig puts it."""

    _CONFIG_KEYS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")

    def __init__(self, function_name: str, qualifier: str) -> None:
        self.function_name = function_name
        self.qualifier = qualifier

    @staticmethod
    def cloudformation_name_type() -> str:
        """No name property."""
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        """The CloudFormation type implemented here."""
        return "AWS::Lambda::EventInvokeConfig"

    @property
    def physical_resource_id(self) -> str:
        """Function and qualifier, which identify the configuration."""
        return f"{self.function_name}:{self.qualifier}"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        """The type has no attributes."""
        return False

    @classmethod
    def _put(cls, properties: dict[str, Any], account_id: str, region_name: str) -> str:
        backend = get_lambda_backend(account_id, region_name)
        function_name = properties["FunctionName"]
        config = {key: properties[key] for key in cls._CONFIG_KEYS if key in properties}
        function = backend.get_function(function_name)
        # moto appends on every put and reads the first entry: start empty so an update takes
        # effect (lambda_runtime's put replaces too; its async invoke reads what is stored here).
        function.event_invoke_config = []
        backend.put_function_event_invoke_config(function_name, config)
        return str(function.function_name)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EventInvokeConfigResource:
        """Store the configuration on the function."""
        properties = cloudformation_json["Properties"]
        name = cls._put(properties, account_id, region_name)
        return cls(name, str(properties.get("Qualifier", "$LATEST")))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: EventInvokeConfigResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> EventInvokeConfigResource:
        """Replace the stored configuration."""
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        """Unused: instances delete themselves (see delete)."""

    def delete(self, account_id: str, region_name: str) -> None:
        """Remove the configuration; a function that is already gone took it with it."""
        backend = get_lambda_backend(account_id, region_name)
        try:
            backend.delete_function_event_invoke_config(self.function_name)
        except (UnknownEventConfig, UnknownFunctionException):
            logger.debug("event invoke config of %s already gone", self.function_name)

    def is_created(self) -> bool:
        """Complete at once."""
        return True


def _patch_resource_models() -> None:
    original_class_from_type = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> type[CloudFormationModel]:
        if resource_type == _CUSTOM_RESOURCE_TYPE:
            return CustomModel
        if resource_type == EventInvokeConfigResource.cloudformation_type():
            return EventInvokeConfigResource
        if resource_type in PLACEHOLDER_TYPES or resource_type == _CDK_METADATA_TYPE:
            return _placeholder_class(resource_type)
        if resource_type in parsing.NULL_MODELS or resource_type.startswith("Custom::"):
            return original_class_from_type(resource_type)
        if resource_type not in parsing.get_model_map():
            # moto would log and drop it; record it instead (with a warning, once per resource).
            return _placeholder_class(resource_type)
        return original_class_from_type(resource_type)

    parsing.resource_class_from_type = resource_class_from_type
    CustomModel.create_from_cloudformation_json = classmethod(_create_custom_resource)  # type: ignore[method-assign,assignment]
    _patch_lambda_function()
    _patch_s3_bucket()


# Function properties moto's CloudFormation create drops. They are applied through the
# function's own update_configuration (what UpdateFunctionConfiguration uses), so the Lambda
# model's rules apply: localcloud.lambda_runtime accepts layers the local cloud does not have
# (AWS-managed ones such as Powertools) and keeps LoggingConfig and DeadLetterConfig.
_FUNCTION_CONFIG_PROPERTIES = ("Layers", "LoggingConfig", "DeadLetterConfig")


def _patch_lambda_function() -> None:
    function_cls = lambda_models.LambdaFunction
    original_create = function_cls.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    original_update = function_cls.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(
        cls: type[lambda_models.LambdaFunction],
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> lambda_models.LambdaFunction:
        function = original_create(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        properties = cloudformation_json["Properties"]
        extra = {key: properties[key] for key in _FUNCTION_CONFIG_PROPERTIES if key in properties}
        if extra:
            function.update_configuration(extra)
        if "Architectures" in properties:
            function.architectures = properties["Architectures"]
        return function

    def update(  # noqa: PLR0917 - moto's update_from_cloudformation_json signature
        cls: type[lambda_models.LambdaFunction],
        original_resource: lambda_models.LambdaFunction,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> lambda_models.LambdaFunction:
        properties = cloudformation_json["Properties"]
        code = dict(properties["Code"])
        if "ZipFile" in code:
            # Inline code is plain text in templates; moto's update decodes it as a base64 zip,
            # which only its create path builds.
            code["ZipFile"] = base64.b64encode(
                cls._create_zipfile_from_plaintext_code(code["ZipFile"])
            )
        updated = dict(cloudformation_json, Properties=dict(properties, Code=code))
        return original_update(
            cls, original_resource, new_resource_name, updated, account_id, region_name
        )

    function_cls.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
    function_cls.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign,assignment]


class BucketNotEmptyError(Exception):
    """A bucket still holds objects when its stack deletes it."""


def _apply_bucket_properties(backend: Any, name: str, properties: dict[str, Any]) -> None:
    versioning = (properties.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        backend.put_bucket_versioning(name, versioning)
    public_access = properties.get("PublicAccessBlockConfiguration")
    if public_access:
        backend.put_public_access_block(name, stringify_properties(public_access))


def _patch_s3_bucket() -> None:
    bucket_cls = s3_models.FakeBucket
    original_create = bucket_cls.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(
        cls: type[s3_models.FakeBucket],
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> s3_models.FakeBucket:
        bucket = original_create(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        backend = s3_models.s3_backends[account_id][get_partition(region_name)]
        _apply_bucket_properties(backend, bucket.name, cloudformation_json.get("Properties", {}))
        return bucket

    def update(  # noqa: PLR0917 - moto's update_from_cloudformation_json signature
        cls: type[s3_models.FakeBucket],
        original_resource: s3_models.FakeBucket,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> s3_models.FakeBucket:
        properties = cloudformation_json.get("Properties", {})
        backend = s3_models.s3_backends[account_id][get_partition(region_name)]
        if "BucketName" in properties and properties["BucketName"] != original_resource.name:
            # A new name replaces the bucket. CloudFormation deletes the old one during cleanup
            # and only warns when it cannot; do the same here, at once.
            replacement = create(
                cls, properties["BucketName"], cloudformation_json, account_id, region_name
            )
            try:
                delete(cls, original_resource.name, cloudformation_json, account_id, region_name)
            except BucketNotEmptyError as exc:
                logger.warning("replaced bucket kept: %s", exc)
            return replacement
        # moto's in-place update reads properties["BucketName"], absent for generated names.
        if "Tags" in properties:
            tags = {tag["Key"]: tag["Value"] for tag in properties["Tags"]}
            backend.put_bucket_tagging(original_resource.name, tags)
        _apply_bucket_properties(backend, original_resource.name, properties)
        return original_resource

    def delete(
        cls: type[s3_models.FakeBucket],
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        backend = s3_models.s3_backends[account_id][get_partition(region_name)]
        try:
            bucket = backend.get_bucket(resource_name)
        except MissingBucket:
            return
        if len(bucket.keys):
            # moto's delete_bucket returns quietly and leaves the bucket: fail like S3 does.
            raise BucketNotEmptyError(
                f"The bucket you tried to delete is not empty (Service: S3, Status Code: 409): "
                f"{resource_name} still holds {len(bucket.keys)} key(s)"
            )
        backend.delete_bucket(resource_name)

    bucket_cls.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
    bucket_cls.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign,assignment]
    bucket_cls.delete_from_cloudformation_json = classmethod(delete)  # type: ignore[method-assign,assignment]


# --------------------------------------------------------------------------------------------
# The stack engine
# --------------------------------------------------------------------------------------------


def _add_event(
    stack: cfn_models.Stack,
    logical_id: str,
    resource_type: str,
    status: str,
    *,
    physical_id: str | None = None,
    reason: str | None = None,
) -> None:
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


def _set_stack_status(stack: cfn_models.Stack, status: str, reason: str | None = None) -> None:
    stack.status = status
    # Serialized as StackStatusReason, which the CDK CLI prints on failure.
    stack.status_reason = reason  # type: ignore[attr-defined]
    stack._add_stack_event(status, resource_status_reason=reason)
    logger.info("stack %s: %s%s", stack.name, status, f" ({reason})" if reason else "")


def _model_of(stack: cfn_models.Stack, logical_id: str) -> Any:
    resource = stack.resource_map._parsed_resources.get(logical_id)
    return resource if isinstance(resource, CloudFormationModel) else None


def _physical_id(resource: Any) -> str | None:
    value = getattr(resource, "physical_resource_id", None)
    return str(value) if value is not None else None


@dataclass
class _Apply:
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
                logical_id in modified and _model_of(self.stack, logical_id) is None
            ):
                self._create(logical_id)
            elif logical_id in modified:
                self._update(logical_id)

    def _resource_type(self, logical_id: str) -> str:
        definition = self.stack.resource_map._resource_json_map.get(
            logical_id
        ) or self.old_resources.get(logical_id, {})
        return str(definition.get("Type", ""))

    def _create(self, logical_id: str) -> None:
        resource_map = self.stack.resource_map
        condition = resource_map._resource_json_map[logical_id].get("Condition")
        if condition and not resource_map.lazy_condition_map[condition]:
            return  # CloudFormation neither creates nor reports a resource whose Condition fails
        resource_type = self._resource_type(logical_id)
        _add_event(self.stack, logical_id, resource_type, "CREATE_IN_PROGRESS")
        try:
            # ResourceMap creates lazily; dependencies were created before (dependency order).
            resource = self.stack.resource_map[logical_id]
        except ResourceOperationError as exc:
            _add_event(self.stack, logical_id, resource_type, "CREATE_FAILED", reason=exc.reason)
            raise
        except Exception as exc:
            logger.exception("creating %s (%s) failed", logical_id, resource_type)
            reason = f"{type(exc).__name__}: {exc}"
            _add_event(self.stack, logical_id, resource_type, "CREATE_FAILED", reason=reason)
            raise ResourceOperationError(logical_id, reason) from exc
        _add_event(
            self.stack,
            logical_id,
            resource_type,
            "CREATE_COMPLETE",
            physical_id=_physical_id(resource),
        )

    def _update(self, logical_id: str) -> None:
        resource_map = self.stack.resource_map
        resource_type = self._resource_type(logical_id)
        original = _model_of(self.stack, logical_id)
        _add_event(
            self.stack,
            logical_id,
            resource_type,
            "UPDATE_IN_PROGRESS",
            physical_id=_physical_id(original),
        )
        try:
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
        except ResourceOperationError as exc:
            _add_event(self.stack, logical_id, resource_type, "UPDATE_FAILED", reason=exc.reason)
            raise
        except Exception as exc:
            logger.exception("updating %s (%s) failed", logical_id, resource_type)
            reason = f"{type(exc).__name__}: {exc}"
            _add_event(self.stack, logical_id, resource_type, "UPDATE_FAILED", reason=reason)
            raise ResourceOperationError(logical_id, reason) from exc
        resource_map._parsed_resources[logical_id] = updated
        _add_event(
            self.stack,
            logical_id,
            resource_type,
            "UPDATE_COMPLETE",
            physical_id=_physical_id(updated),
        )

    def _update_custom(self, logical_id: str, original: LocalCustomResource) -> LocalCustomResource:
        resource_map = self.stack.resource_map
        definition = copy.deepcopy(resource_map._resource_json_map[logical_id])
        properties = stringify_properties(
            parsing.clean_json(definition.get("Properties", {}), resource_map)
        )
        answer = send_custom_resource_event(
            account_id=self.stack.account_id,
            region=self.stack.region_name,
            stack_id=self.stack.stack_id,
            logical_id=logical_id,
            resource_type=str(definition["Type"]),
            request_type="Update",
            properties=properties,
            physical_id=original.physical_resource_id,
            old_properties=original.properties,
        )
        physical_id = answer.get("PhysicalResourceId") or original.physical_resource_id
        if physical_id != original.physical_resource_id:
            # A new physical id means replacement: the old one gets a Delete during cleanup.
            self.replaced_custom.append(original)
        updated = LocalCustomResource(
            region_name=self.stack.region_name,
            logical_id=logical_id,
            resource_type=str(definition["Type"]),
            service_token=properties["ServiceToken"],
            physical_id=physical_id,
            properties=properties,
            data=answer.get("Data") or {},
        )
        # parse_and_create_resource sets these on new resources; DescribeStackResources reads them.
        updated.cf_resource_type = definition["Type"]  # type: ignore[attr-defined]
        updated.logical_resource_id = logical_id  # type: ignore[attr-defined]
        return updated

    def cleanup(self) -> None:
        """Delete what the new template no longer has; failures are reported, not fatal."""
        for old in self.replaced_custom:
            try:
                _delete_custom(self.stack, old.logical_id, old, old.resource_type)
            except ResourceOperationError as exc:
                logger.warning("cleanup of replaced %s failed: %s", old.logical_id, exc.reason)
        removed = {
            logical_id: self.old_resources[logical_id]
            for logical_id in self.removed
            if logical_id in self.old_resources
        }
        failures = _delete_resources(self.stack, removed)
        for logical_id, reason in failures.items():
            logger.warning("cleanup: %s could not be deleted: %s", logical_id, reason)


def _delete_custom(
    stack: cfn_models.Stack, logical_id: str, resource: LocalCustomResource, resource_type: str
) -> None:
    send_custom_resource_event(
        account_id=stack.account_id,
        region=stack.region_name,
        stack_id=stack.stack_id,
        logical_id=logical_id,
        resource_type=resource_type,
        request_type="Delete",
        properties=resource.properties,
        physical_id=resource.physical_resource_id,
    )


def _delete_one(stack: cfn_models.Stack, logical_id: str, definition: dict[str, Any]) -> None:
    resource = _model_of(stack, logical_id)
    resource_type = str(definition.get("Type", ""))
    if isinstance(resource, LocalCustomResource):
        _delete_custom(stack, logical_id, resource, resource_type)
    else:
        stack.resource_map._delete_resource(resource, definition)


def _delete_resources(
    stack: cfn_models.Stack,
    resources: dict[str, Any],
    *,
    retain_policies: Iterable[str] = ("Retain",),
) -> dict[str, str]:
    """Delete resources: custom resources first, then reverse dependency order.

    A resource is kept when something that depends on it could not be deleted, as
    CloudFormation does, so a failed custom resource keeps its handler for a retry.
    Returns the reasons of the resources left behind.
    """
    parsed = stack.resource_map._parsed_resources
    dependents: dict[str, set[str]] = {logical_id: set() for logical_id in resources}
    for logical_id, needs in dependencies(resources).items():
        for dependency in needs:
            dependents[dependency].add(logical_id)
    order = list(reversed(dependency_order(resources)))
    custom = [lid for lid in order if isinstance(_model_of(stack, lid), LocalCustomResource)]
    order = custom + [lid for lid in order if lid not in custom]
    failures: dict[str, str] = {}
    remaining: list[str] = []
    for logical_id in order:
        definition = resources[logical_id]
        resource = _model_of(stack, logical_id)
        if resource is None:
            parsed.pop(logical_id, None)
            continue
        if definition.get("DeletionPolicy") in retain_policies:
            _add_event(
                stack,
                logical_id,
                str(definition.get("Type", "")),
                "DELETE_SKIPPED",
                physical_id=_physical_id(resource),
            )
            parsed.pop(logical_id, None)
            continue
        remaining.append(logical_id)

    # Several passes: moto raises on some dependency orders CloudFormation would accept.
    for _ in range(_MAX_DELETE_PASSES):
        progressed = False
        for logical_id in list(remaining):
            definition = resources[logical_id]
            resource_type = str(definition.get("Type", ""))
            if any(d in remaining or d in failures for d in dependents[logical_id]):
                continue  # something that depends on it still exists
            resource = _model_of(stack, logical_id)
            _add_event(
                stack,
                logical_id,
                resource_type,
                "DELETE_IN_PROGRESS",
                physical_id=_physical_id(resource),
            )
            try:
                _delete_one(stack, logical_id, definition)
            except ResourceOperationError as exc:
                failures[logical_id] = exc.reason
                remaining.remove(logical_id)
                _add_event(stack, logical_id, resource_type, "DELETE_FAILED", reason=exc.reason)
                continue
            except Exception as exc:  # noqa: BLE001 - moto models raise anything; record it
                reason = (
                    str(exc)
                    if isinstance(exc, BucketNotEmptyError)
                    else f"{type(exc).__name__}: {exc}"
                )
                failures[logical_id] = reason
                _add_event(stack, logical_id, resource_type, "DELETE_FAILED", reason=reason)
                continue
            failures.pop(logical_id, None)
            remaining.remove(logical_id)
            parsed.pop(logical_id, None)
            progressed = True
            _add_event(
                stack,
                logical_id,
                resource_type,
                "DELETE_COMPLETE",
                physical_id=_physical_id(resource),
            )
        if not remaining or not progressed:
            break
    for logical_id in remaining:
        failures.setdefault(
            logical_id, "not deleted because a resource that depends on it could not be deleted"
        )
    return failures


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


def _update_exports(backend: cfn_models.CloudFormationBackend, stack: cfn_models.Stack) -> None:
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
    apply = _Apply(stack, stack.parse_template(template), parameters)
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
            reason = f"{type(exc).__name__}: {exc}"
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
    _refresh_stack_template(stack, template, parameters)
    _update_exports(backend, stack)
    if not creating:
        _set_stack_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        apply.cleanup()
    _set_stack_status(stack, f"{prefix}_COMPLETE")
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
        _set_stack_status(stack, "ROLLBACK_IN_PROGRESS", reason)
        failures = _delete_resources(
            stack,
            dict(stack.resource_map._resource_json_map),
            retain_policies=("Retain", "RetainExceptOnCreate"),
        )
        if failures:
            _set_stack_status(stack, "ROLLBACK_FAILED", _describe_failures(failures))
        else:
            _set_stack_status(stack, "ROLLBACK_COMPLETE", reason)
        return
    _set_stack_status(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
    try:
        previous = _Apply(
            stack,
            stack.parse_template(previous_template)
            if isinstance(previous_template, str)
            else previous_template,
            previous_parameters,
        )
        previous.run()
        _set_stack_status(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        previous.cleanup()
    except Exception as exc:  # noqa: BLE001 - any failure leaves UPDATE_ROLLBACK_FAILED
        detail = (
            exc.reason
            if isinstance(exc, ResourceOperationError)
            else f"{type(exc).__name__}: {exc}"
        )
        logger.warning("stack %s: rollback failed: %s", stack.name, detail)
        _set_stack_status(stack, "UPDATE_ROLLBACK_FAILED", detail)
        return
    _refresh_stack_template(stack, previous_template, previous_parameters)
    _update_exports(backend, stack)
    _set_stack_status(stack, "UPDATE_ROLLBACK_COMPLETE", reason)


def _describe_failures(failures: dict[str, str]) -> str:
    return "The following resource(s) failed to delete: " + "; ".join(
        f"[{logical_id}] {reason}" for logical_id, reason in failures.items()
    )


def _run_delete(backend: cfn_models.CloudFormationBackend, stack: cfn_models.Stack) -> None:
    """Delete a stack's resources, then the stack; DELETE_FAILED if anything is left."""
    failures = _delete_resources(stack, dict(stack.resource_map._resource_json_map))
    if failures:
        _set_stack_status(stack, "DELETE_FAILED", _describe_failures(failures))
        return
    _set_stack_status(stack, "DELETE_COMPLETE")
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
            _set_stack_status(
                stack,
                f"{stack.status.split('_')[0]}_FAILED",
                "internal error in the local cloud (see its log)",
            )

    thread = threading.Thread(target=run, name=f"cfn-{name}-{stack.name}", daemon=True)
    with _registry_lock:
        _operations[stack.stack_id] = thread
    thread.start()
    # The CDK CLI polls every 5 s; most local operations finish well within a second or two,
    # so returning at the end of a short operation saves the CLI a poll without changing what
    # it observes (the API stays asynchronous for long operations).
    thread.join(_settings.operation_wait)


def _check_idle(stack: cfn_models.Stack) -> None:
    if stack.status.endswith("_IN_PROGRESS") and stack.status != "REVIEW_IN_PROGRESS":
        raise ValidationError(
            stack.stack_id,
            message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.",
        )


# --------------------------------------------------------------------------------------------
# Backend and response patches
# --------------------------------------------------------------------------------------------


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


def _patch_backend() -> None:
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
        _set_stack_status(stack, "CREATE_IN_PROGRESS", "User Initiated")
        _start_operation(
            stack,
            "create",
            lambda: _run_deploy(
                self, stack, template=template, parameters=parameters, creating=True
            ),
        )
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
        _check_idle(stack)
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
        _set_stack_status(stack, "UPDATE_IN_PROGRESS", "User Initiated")
        _start_operation(
            stack,
            "update",
            lambda: _run_deploy(
                self, stack, template=template, parameters=resolved, creating=False
            ),
        )
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
        _check_idle(stack)
        creating = change_set.change_set_type == "CREATE"
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
        _set_stack_status(
            stack, "CREATE_IN_PROGRESS" if creating else "UPDATE_IN_PROGRESS", "User Initiated"
        )

        def finished(succeeded: bool) -> None:
            change_set.execution_status = "EXECUTE_COMPLETE" if succeeded else "EXECUTE_FAILED"

        _start_operation(
            stack,
            "execute",
            lambda: _run_deploy(
                self,
                stack,
                template=change_set.template,
                parameters=change_set.parameters,
                creating=creating,
                on_done=finished,
            ),
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
        _check_idle(stack)
        _set_stack_status(stack, "DELETE_IN_PROGRESS", "User Initiated")
        _start_operation(stack, "delete", lambda: _run_delete(self, stack))

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


def _patch_responses() -> None:
    response_cls = cfn_responses.CloudFormationResponse
    response_cls.process_cfn_response = _process_cfn_response  # type: ignore[method-assign]
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
