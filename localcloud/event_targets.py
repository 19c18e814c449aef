"""EventBridge rule delivery in the local cloud: what a target receives, when, and its retries.

moto's `Rule.send_to_targets` cannot deliver to a Lambda function, drops `account` from
delivered events, ignores `Input`/`InputPath`, delivers to disabled rules and lets every
event on the bus match a schedule-only rule. `install()` replaces it: an enabled
rule with a pattern that matches delivers the full event (or the target's Input, InputPath or
InputTransformer) to each target, Lambda functions asynchronously; a failed delivery is retried
per the target's RetryPolicy, then sent to its dead-letter queue. Scheduled rules (`schedules`)
and S3's events (`s3_events`) reach targets through here; docs/local-cloud.md describes the
extension points.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.core.exceptions import ServiceException
from moto.events.models import Rule
from moto.utilities.arns import parse_arn
from werkzeug.exceptions import HTTPException

from localcloud import background, lambda_invoke

logger = logging.getLogger(__name__)

# EventBridge's defaults for a target's RetryPolicy (24 hours, 185 attempts).
DEFAULT_TARGET_RETRY_ATTEMPTS = 185
DEFAULT_TARGET_EVENT_AGE_SECONDS = 86400
_MAX_RETRY_DELAY_SECONDS = 30.0
DELIVERY_ERRORS = (ServiceException, HTTPException, KeyError, ValueError)


@dataclass
class _State:
    originals: dict[str, Any] = field(default_factory=dict)
    retry_delay_seconds: float = 1.0
    lock: threading.Lock = field(default_factory=threading.Lock)


_state = _State()


def install(*, retry_delay_seconds: float = 1.0) -> None:
    """Patch moto's rule delivery (idempotent, reconfigurable)."""
    with _state.lock:
        _state.retry_delay_seconds = retry_delay_seconds
        if not _state.originals:
            _state.originals = {"send_to_targets": Rule.send_to_targets}
            Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign,assignment]
    logger.info("EventBridge routing installed")


# --------------------------------------------------------------------------- rule delivery


def iso_time(value: Any) -> str:
    """A moment as EventBridge writes `time` (seconds since the epoch, a datetime, or now)."""
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        moment = datetime.fromtimestamp(float(value), UTC)
    elif isinstance(value, datetime):
        moment = value.astimezone(UTC)
    elif isinstance(value, str) and value:
        return value
    else:
        moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _delivered_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event as targets see it: every envelope field, ISO time, no moto internals."""
    delivered = {k: v for k, v in copy.deepcopy(event).items() if k != "ingestion-time"}
    delivered.setdefault("version", "0")
    delivered["time"] = iso_time(delivered.get("time"))
    return delivered


def target_input(target: dict[str, Any], event: dict[str, Any], rule: Rule | None = None) -> Any:
    """What a target receives for an event: Input, InputPath, InputTransformer or the event."""
    from jsonpath_ng.ext import parse

    delivered = _delivered_event(event)
    if target.get("Input") is not None:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        matches = parse(target["InputPath"]).find(delivered)
        return matches[0].value if matches else None
    transformer = target.get("InputTransformer")
    if not transformer:
        return delivered
    values: dict[str, Any] = {
        "aws.events.event.json": delivered,
        "aws.events.event.ingestion-time": iso_time(event.get("ingestion-time")),
        "aws.events.rule-arn": rule.arn if rule else "",
        "aws.events.rule-name": rule.name if rule else "",
    }
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        found = parse(path).find(delivered)
        values[name] = found[0].value if found else None
    return render_input_template(str(transformer.get("InputTemplate", "")), values)


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def render_input_template(template: str, values: dict[str, Any]) -> Any:
    """Fill an InputTemplate as EventBridge does (strings quoted outside JSON string literals).

    A template that is JSON once filled is delivered as JSON; any other template is text.
    """
    json_text = _fill(template, values, as_json=True)
    try:
        return json.loads(json_text)
    except json.JSONDecodeError:
        return _fill(template, values, as_json=False)


def _fill(template: str, values: dict[str, Any], *, as_json: bool) -> str:
    out: list[str] = []
    in_string = escaped = False
    position = 0
    while position < len(template):
        char = template[position]
        match = _PLACEHOLDER.match(template, position) if char == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if not as_json:
                out.append(value if isinstance(value, str) else json.dumps(value))
            elif in_string:
                # Inside a JSON string: the value's text, escaped for JSON.
                text = value if isinstance(value, str) else json.dumps(value)
                out.append(json.dumps(text)[1:-1])
            else:
                out.append(json.dumps(value))
            position = match.end()
            continue
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = in_string
        elif char == '"':
            in_string = not in_string
        out.append(char)
        position += 1
    return "".join(out)


def _send_to_targets(
    self: Rule, original_event: dict[str, Any], transform_input: bool = True
) -> None:
    # A rule without a pattern is a schedule-only rule: events on the bus never match it.
    if self.state != "ENABLED" or not self.event_pattern.get_pattern():
        return
    if not self.event_pattern.matches_event(original_event):  # type: ignore[arg-type]
        return
    deliver_to_targets(self, original_event)


def deliver_to_targets(rule: Rule, event: dict[str, Any]) -> None:
    """Deliver an event to every target of a rule, without pattern matching."""
    for target in list(rule.targets):
        _Delivery(rule, target, event, time.time()).start()


@dataclass
class _Delivery:
    rule: Rule
    target: dict[str, Any]
    event: dict[str, Any]
    first_seen: float
    attempt: int = 1

    def start(self) -> None:
        """Deliver now; Lambda targets are invoked asynchronously, as EventBridge does."""
        if parse_arn(self.target["Arn"]).service == "lambda":
            background.run_in_background(self.run, f"delivery to {self.target['Arn']}")
        else:
            self.run()

    def run(self) -> None:
        """One delivery attempt; a failure is retried per RetryPolicy, then sent to the DLQ."""
        try:
            payload = target_input(self.target, self.event, self.rule)
        except DELIVERY_ERRORS as exc:
            logger.warning("Rule %s: input for %s failed: %s", self.rule.name, self.target, exc)
            self._dead_letter(None, "InputTransformationFailed", str(exc))
            return
        try:
            _send(self.rule, self.target, payload, self.event)
        except DELIVERY_ERRORS as exc:
            code, message = _error_code(exc), getattr(exc, "message", str(exc))
            self._failed(payload, code, str(message))

    def _failed(self, payload: Any, code: str, message: str) -> None:
        policy = self.target.get("RetryPolicy") or {}
        max_attempts = int(policy.get("MaximumRetryAttempts", DEFAULT_TARGET_RETRY_ATTEMPTS))
        max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_TARGET_EVENT_AGE_SECONDS))
        delay = min(_state.retry_delay_seconds * 2 ** (self.attempt - 1), _MAX_RETRY_DELAY_SECONDS)
        # A missing target or a permission problem is not retried (EventBridge DLQ docs).
        retriable = code not in {"ResourceNotFoundException", "AccessDeniedException"} and (
            "NonExistentQueue" not in code
        )
        in_time = time.time() + delay - self.first_seen <= max_age
        if retriable and self.attempt <= max_attempts and in_time:
            logger.info(
                "Rule %s target %s failed (%s), retry %d in %.1fs",
                self.rule.name,
                self.target["Id"],
                code,
                self.attempt,
                delay,
            )
            self.attempt += 1
            background.run_later(delay, self.run)
            return
        logger.warning(
            "Rule %s could not deliver to %s: %s %s",
            self.rule.name,
            self.target["Arn"],
            code,
            message,
        )
        self._dead_letter(payload, code, message)

    def _dead_letter(self, payload: Any, code: str, message: str) -> None:
        dlq = (self.target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq:
            return
        body = payload if payload is not None else _delivered_event(self.event)
        # Attributes EventBridge adds to messages it sends to a target's DLQ.
        attributes = {
            "ERROR_CODE": {"DataType": "String", "StringValue": code},
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": message[:1024] or code},
            "RULE_ARN": {"DataType": "String", "StringValue": self.rule.arn},
            "TARGET_ARN": {"DataType": "String", "StringValue": self.target["Arn"]},
        }
        try:
            lambda_invoke.deliver(dlq, body, message_attributes=attributes)
        except DELIVERY_ERRORS:
            logger.exception("Rule %s: dead-letter queue %s failed too", self.rule.name, dlq)


def _error_code(exc: BaseException) -> str:
    code = getattr(exc, "error_type", None) or getattr(exc, "code", None)
    return str(code) if isinstance(code, str) and code else type(exc).__name__


def _send(rule: Rule, target: dict[str, Any], payload: Any, event: dict[str, Any]) -> None:
    arn = parse_arn(target["Arn"])
    body = payload if isinstance(payload, str) else json.dumps(payload)
    if arn.service == "lambda":
        function = get_lambda_backend(arn.account, arn.region).get_function(target["Arn"])
        lambda_invoke.invoke_async(function, payload)
    elif arn.service == "sqs":
        from moto.sqs.models import sqs_backends

        backend = sqs_backends[arn.account][arn.region]
        group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
        fifo = arn.resource_id.endswith(".fifo")
        backend.send_message(
            queue_name=arn.resource_id,
            message_body=body,
            group_id=group_id,
            deduplication_id=str(event.get("id")) if fifo else None,
        )
    elif arn.service == "sns":
        from moto.sns.models import sns_backends

        sns_backends[arn.account][arn.region].publish(message=body, arn=target["Arn"])
    elif arn.service == "states":
        from moto.stepfunctions.models import stepfunctions_backends

        stepfunctions_backends[arn.account][arn.region].start_execution(
            state_machine_arn=target["Arn"], name=str(uuid.uuid4()), execution_input=body
        )
    elif arn.service == "logs" and arn.resource_type == "log-group":
        from moto.logs import logs_backends

        logs = logs_backends[arn.account][arn.region]
        group = arn.resource_id.removesuffix(":*")
        stream = str(uuid.uuid4())
        logs.create_log_stream(group, stream)
        logs.put_log_events(
            group, stream, [{"timestamp": int(time.time() * 1000), "message": body}]
        )
    else:
        # Archives, other buses and API destinations: moto's own code handles them.
        single = copy.copy(rule)
        single.targets = [target]
        event_with_time = dict(event)
        event_with_time.setdefault("ingestion-time", time.time())
        _state.originals["send_to_targets"](single, event_with_time)
