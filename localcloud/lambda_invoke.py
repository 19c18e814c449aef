"""How the local cloud's Lambda answers Invoke, and what it does with asynchronous invocations.

moto runs every invocation synchronously, whatever its type. `install()` makes Invoke follow
the invocation type (`RequestResponse` answers with the payload and the log's tail, `Event`
queues the event and answers at once, `DryRun` runs nothing), and gives asynchronous
invocations Lambda's semantics: retries on function error within the function's
EventInvokeConfig (maximum retry attempts and event age), then its on-success or on-failure
destination and its dead-letter queue. moto keeps every EventInvokeConfig put and reads the
first; here a put replaces it. Each run is `lambda_processes.run_function`; docs/local-cloud.md
describes the extension points.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.awslambda.models import EventInvokeConfig, LambdaBackend, LambdaFunction
from moto.awslambda.utils import get_backend as get_lambda_backend

from localcloud import background, lambda_processes
from localcloud.lambda_processes import InvocationResult

logger = logging.getLogger(__name__)

# Lambda's async defaults (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html):
# two retries on function error, events kept up to six hours.
DEFAULT_MAX_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE_SECONDS = 21600
# CloudWatch Logs' x-amz-log-result carries the last 4 KB of the log.
_LOG_TAIL_BYTES = 4096


@dataclass
class _State:
    retry_delay_seconds: float = 1.0
    originals: dict[str, Any] = field(default_factory=dict)


_state = _State()


def install(*, retry_delay_seconds: float = 1.0) -> None:
    """Patch moto's Invoke and PutFunctionEventInvokeConfig (idempotent, reconfigurable)."""
    _state.retry_delay_seconds = retry_delay_seconds
    if _state.originals:
        return
    _state.originals = {
        "invoke": LambdaFunction.invoke,
        "put_function_event_invoke_config": LambdaBackend.put_function_event_invoke_config,
    }
    LambdaFunction.invoke = _patched_invoke  # type: ignore[method-assign]
    LambdaBackend.put_function_event_invoke_config = _patched_put_event_invoke_config  # type: ignore[method-assign]


def _patched_invoke(
    self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any
) -> str | bytes:
    event = lambda_processes.parse_event(body)
    invocation_type = (request_headers or {}).get("x-amz-invocation-type") or (
        request_headers or {}
    ).get("X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        invoke_async(self, event)
        return b""
    result = lambda_processes.run_function(self, event)
    response_headers["x-amz-executed-version"] = str(self.version)
    if result.errored:
        response_headers["x-amz-function-error"] = "Unhandled"
    tail = result.logs.encode("utf-8")[-_LOG_TAIL_BYTES:]
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
    return result.payload.encode("utf-8")


def _patched_put_event_invoke_config(
    self: LambdaBackend, function_name: str, config: dict[str, Any]
) -> dict[str, Any]:
    # moto appends and reads the first entry, so an update would never be seen: replace.
    fn = self.get_function(function_name)
    return set_event_invoke_config(fn, config)


# --------------------------------------------------------------------------- event invoke config


def get_event_invoke_config(function: LambdaFunction) -> dict[str, Any]:
    """The function's async settings (retries, maximum event age, destinations), defaulted."""
    configs = getattr(function, "event_invoke_config", None) or []
    config: dict[str, Any] = dict(configs[-1].config) if configs else {}
    config.setdefault("MaximumRetryAttempts", DEFAULT_MAX_RETRY_ATTEMPTS)
    config.setdefault("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_SECONDS)
    config.setdefault("DestinationConfig", {})
    return config


def set_event_invoke_config(function: LambdaFunction, config: dict[str, Any]) -> dict[str, Any]:
    """Store (replace) the function's async settings, validated as the Lambda API does."""
    stored = EventInvokeConfig(function.function_arn, function.last_modified, dict(config))
    function.event_invoke_config = [stored]
    return stored.response()


# --------------------------------------------------------------------------- async invocation


@dataclass
class _AsyncJob:
    fn: LambdaFunction
    event: Any
    request_id: str
    first_seen: float
    attempt: int = 1
    on_done: Callable[[InvocationResult], None] | None = None


def invoke_async(
    fn: LambdaFunction,
    event: Any,
    *,
    on_done: Callable[[InvocationResult], None] | None = None,
) -> str:
    """Queue an asynchronous invocation (retries, destinations) and return its request id."""
    request_id = str(uuid.uuid4())
    _submit(
        _AsyncJob(fn, lambda_processes.parse_event(event), request_id, time.time(), on_done=on_done)
    )
    return request_id


def _submit(job: _AsyncJob) -> None:
    background.run_in_background(
        functools.partial(_async_attempt, job), f"asynchronous invocation of {job.fn.function_name}"
    )


def _async_attempt(job: _AsyncJob) -> None:
    fn = job.fn
    result = lambda_processes.run_function(fn, job.event, job.request_id)
    config = get_event_invoke_config(fn)
    destinations = config.get("DestinationConfig") or {}
    if not result.errored:
        success = (destinations.get("OnSuccess") or {}).get("Destination")
        if success:
            _send_destination_record(job, success, result, "Success")
        if job.on_done:
            job.on_done(result)
        return
    max_retries = int(config["MaximumRetryAttempts"])
    max_age = float(config["MaximumEventAgeInSeconds"])
    # Lambda waits about a minute, then two, between retries; scaled down for a laptop.
    delay = _state.retry_delay_seconds * job.attempt
    if job.attempt <= max_retries:
        if time.time() + delay - job.first_seen <= max_age:
            logger.info(
                "%s failed (%s), retry %d of %d in %.1fs",
                fn.function_name,
                result.error_type,
                job.attempt,
                max_retries,
                delay,
            )
            job.attempt += 1
            background.run_later(delay, functools.partial(_submit, job))
            return
        condition = "EventAgeExceeded"
    else:
        condition = "RetriesExhausted"
    logger.info(
        "%s: asynchronous invocation %s failed (%s)", fn.function_name, job.request_id, condition
    )
    failure = (destinations.get("OnFailure") or {}).get("Destination")
    if failure:
        _send_destination_record(job, failure, result, condition)
    dead_letter = (getattr(fn, "dead_letter_config", None) or {}).get("TargetArn")
    if dead_letter:
        _send_dead_letter(dead_letter, job.event, result)
    if job.on_done:
        job.on_done(result)


def _destination_record(
    fn: LambdaFunction, event: Any, result: InvocationResult, attempts: int, condition: str
) -> dict[str, Any]:
    # Shape of https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": str(fn.version)}
    if result.errored:
        response_context["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": f"{fn.function_arn}:{fn.version}",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": response_context,
        "responsePayload": result.payload_json(),
    }


def _send_destination_record(
    job: _AsyncJob, destination: str, result: InvocationResult, condition: str
) -> None:
    fn = job.fn
    record = _destination_record(fn, job.event, result, job.attempt, condition)
    outcome = "Success" if condition == "Success" else "Failure"
    deliver(
        destination,
        record,
        detail_type=f"Lambda Function Invocation Result - {outcome}",
        source="lambda",
        resources=[fn.function_arn],
    )


def _send_dead_letter(target: str, event: Any, result: InvocationResult) -> None:
    payload = result.payload_json() or {}
    message = str(payload.get("errorMessage", "")) if isinstance(payload, dict) else ""
    attributes = {
        "RequestID": {"DataType": "String", "StringValue": result.request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": message[:1024] or "error"},
    }
    deliver(target, event, message_attributes=attributes)


def deliver(
    arn: str,
    payload: Any,
    *,
    message_attributes: dict[str, Any] | None = None,
    detail_type: str = "Lambda Function Invocation Result - Failure",
    source: str = "lambda",
    resources: list[str] | None = None,
) -> None:
    """Send a JSON payload to an SQS queue, SNS topic, Lambda function or EventBridge bus ARN."""
    parts = arn.split(":")
    service, region, account = parts[2], parts[3], parts[4]
    body = json.dumps(payload)
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        sqs_backends[account][region].send_message(
            queue_name=parts[5], message_body=body, message_attributes=message_attributes or {}
        )
    elif service == "sns":
        from moto.sns.models import sns_backends

        sns_backends[account][region].publish(
            message=body, arn=arn, message_attributes=message_attributes or {}
        )
    elif service == "lambda":
        target = get_lambda_backend(account, region).get_function(arn)
        invoke_async(target, payload)
    elif service == "events":
        from moto.events.models import events_backends

        events_backends[account][region].put_events(
            [
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": body,
                    "Resources": resources or [],
                    "EventBusName": arn,
                }
            ]
        )
    else:
        raise ValueError(f"unsupported destination {arn}")
