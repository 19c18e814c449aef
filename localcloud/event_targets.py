"""EventBridge delivery for the local cloud: Lambda targets, retries, DLQs, schedules, S3 events.

moto 5.2.5's `Rule.send_to_targets` raises `NotImplementedError` for Lambda targets, drops
`account` from delivered events, ignores `Input`/`InputPath`, delivers to disabled rules and
lets every event match a schedule-only rule; schedules never fire; and S3's EventBridge event
carries the raw key, a fixed event id and a wrong `reason`. `install()` fixes all of these
(extension points in /work/shared/moto-internals.md).
"""

from __future__ import annotations

import calendar
import copy
import json
import logging
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.core.exceptions import ServiceException
from moto.events.models import EventsBackend, Rule, events_backends
from moto.s3 import notifications as s3_notifications
from moto.utilities.arns import parse_arn
from werkzeug.exceptions import HTTPException

from localcloud import lambda_processes

logger = logging.getLogger(__name__)

# EventBridge's defaults for a target's RetryPolicy (24 hours, 185 attempts).
DEFAULT_TARGET_RETRY_ATTEMPTS = 185
DEFAULT_TARGET_EVENT_AGE_SECONDS = 86400
_MAX_RETRY_DELAY_SECONDS = 30.0
_DeliveryError = (ServiceException, HTTPException, KeyError, ValueError)


@dataclass
class _State:
    originals: dict[str, Any] = field(default_factory=dict)
    retry_delay_seconds: float = 1.0
    scheduler: _Scheduler | None = None
    timers: set[threading.Timer] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    sequencer: int = 0


_state = _State()


def install(
    *,
    retry_delay_seconds: float = 1.0,
    scheduler_interval_seconds: float = 1.0,
    start_scheduler: bool = True,
) -> None:
    """Patch moto's EventBridge and S3 event delivery; start the schedule thread (idempotent)."""
    with _state.lock:
        _state.retry_delay_seconds = retry_delay_seconds
        if not _state.originals:
            _state.originals = {
                "send_to_targets": Rule.send_to_targets,
                "_send_event_bridge_message": s3_notifications._send_event_bridge_message,
                "_get_s3_event": s3_notifications._get_s3_event,
                "_invoke_awslambda": s3_notifications._invoke_awslambda,
            }
            Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign,assignment]
            s3_notifications._send_event_bridge_message = _send_s3_event_bridge_message
            s3_notifications._get_s3_event = _get_s3_event
            s3_notifications._invoke_awslambda = _invoke_s3_notification_lambda
        if start_scheduler and _state.scheduler is None:
            _state.scheduler = _Scheduler(scheduler_interval_seconds)
            _state.scheduler.start()
    logger.info("EventBridge routing installed")


def shutdown() -> None:
    """Stop the scheduler and pending target retries."""
    with _state.lock:
        scheduler, _state.scheduler = _state.scheduler, None
        timers = list(_state.timers)
        _state.timers.clear()
    for timer in timers:
        timer.cancel()
    if scheduler is not None:
        scheduler.stop()


# --------------------------------------------------------------------------- rule delivery


def _iso_time(value: Any) -> str:
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
    delivered["time"] = _iso_time(delivered.get("time"))
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
        "aws.events.event.ingestion-time": _iso_time(event.get("ingestion-time")),
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
            lambda_processes.run_in_background(self.run, f"delivery to {self.target['Arn']}")
        else:
            self.run()

    def run(self) -> None:
        """One delivery attempt; a failure is retried per RetryPolicy, then sent to the DLQ."""
        try:
            payload = target_input(self.target, self.event, self.rule)
        except _DeliveryError as exc:
            logger.warning("Rule %s: input for %s failed: %s", self.rule.name, self.target, exc)
            self._dead_letter(None, "InputTransformationFailed", str(exc))
            return
        try:
            _send(self.rule, self.target, payload, self.event)
        except _DeliveryError as exc:
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
            _schedule(delay, self.run)
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
            lambda_processes.deliver(dlq, body, message_attributes=attributes)
        except _DeliveryError:
            logger.exception("Rule %s: dead-letter queue %s failed too", self.rule.name, dlq)


def _error_code(exc: BaseException) -> str:
    code = getattr(exc, "error_type", None) or getattr(exc, "code", None)
    return str(code) if isinstance(code, str) and code else type(exc).__name__


def _schedule(delay: float, action: Callable[[], None]) -> None:
    def fire() -> None:
        with _state.lock:
            _state.timers.discard(timer)
        action()

    timer = threading.Timer(delay, fire)
    timer.daemon = True
    with _state.lock:
        _state.timers.add(timer)
    timer.start()


def _send(rule: Rule, target: dict[str, Any], payload: Any, event: dict[str, Any]) -> None:
    arn = parse_arn(target["Arn"])
    body = payload if isinstance(payload, str) else json.dumps(payload)
    if arn.service == "lambda":
        function = get_lambda_backend(arn.account, arn.region).get_function(target["Arn"])
        lambda_processes.invoke_async(function, payload)
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


# --------------------------------------------------------------------------- schedules


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def _cron_field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    values: set[int] = set()
    for item in text.upper().split(","):
        part = item
        if part in {"*", "?"}:
            values.update(range(low, high + 1))
            continue
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in {"*", ""}:
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _cron_value(first, names), _cron_value(last, names)
        else:
            start = _cron_value(part, names)
            end = high if "/" in item else start
        values.update(range(start, end + 1, step))
    return values


def _cron_value(text: str, names: dict[str, int] | None) -> int:
    if names and text in names:
        return names[text]
    return int(text)


def _cron_times(expression: str, after: datetime) -> Iterator[datetime]:
    fields = expression.split()
    if len(fields) != 6:
        raise ValueError(f"cron needs 6 fields: {expression}")
    minutes = _cron_field(fields[0], 0, 59)
    hours = _cron_field(fields[1], 0, 23)
    days = _cron_field(fields[2], 1, 31)
    months = _cron_field(fields[3], 1, 12, _MONTHS)
    weekdays = _cron_field(fields[4], 1, 7, _DAYS)
    years = _cron_field(fields[5], 1970, 2199)
    day = after.replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(366 * 5):
        # AWS numbers days 1 (Sunday) to 7; Python's weekday() is 0 (Monday) to 6.
        aws_weekday = (day.weekday() + 1) % 7 + 1
        if (
            day.year in years
            and day.month in months
            and day.day in days
            and aws_weekday in weekdays
        ):
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    moment = day.replace(hour=hour, minute=minute)
                    if moment > after:
                        yield moment
        day += timedelta(days=1)


def next_fire_time(expression: str, after: datetime) -> datetime | None:
    """When a `rate(...)` or `cron(...)` expression next fires after a moment (None: never)."""
    rate = _RATE.match(expression.strip())
    if rate:
        seconds = int(rate.group(1)) * _UNIT_SECONDS[rate.group(2).rstrip("s")]
        return after + timedelta(seconds=seconds)
    if expression.startswith("cron(") and expression.endswith(")"):
        return next(_cron_times(expression[5:-1], after), None)
    raise ValueError(f"unsupported schedule expression {expression!r}")


def _all_rules() -> Iterator[Rule]:
    for account in list(events_backends.values()):
        for backend in list(account.values()):
            for bus in list(backend.event_buses.values()):
                yield from list(bus.rules.values())


def scheduled_event(rule: Rule) -> dict[str, Any]:
    """The event EventBridge sends to the targets of a scheduled rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": rule.account_id,
        "time": _iso_time(time.time()),
        "region": rule.region_name,
        "resources": [rule.arn],
        "detail": {},
    }


def fire_scheduled_rule_now(rule_arn: str) -> dict[str, Any]:
    """Fire a scheduled rule at once (for tests and demos); returns the event sent."""
    for rule in _all_rules():
        if rule.arn == rule_arn:
            event = scheduled_event(rule)
            deliver_to_targets(rule, event)
            return event
    raise KeyError(f"no rule {rule_arn}")


class _Scheduler(threading.Thread):
    def __init__(self, interval: float) -> None:
        super().__init__(name="events-scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()
        # rule ARN -> (expression, next fire time); a changed expression restarts the clock.
        self.next_fire: dict[str, tuple[str, datetime | None]] = {}

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.tick(datetime.now(UTC))
            except (RuntimeError, ValueError, KeyError):
                # A rule changed under our feet (dicts resized): try again next tick.
                logger.exception("Scheduler tick failed")

    def tick(self, now: datetime) -> None:
        seen: set[str] = set()
        for rule in _all_rules():
            expression = rule.scheduled_expression
            if not expression:
                continue
            seen.add(rule.arn)
            known = self.next_fire.get(rule.arn)
            if known is None or known[0] != expression:
                try:
                    self.next_fire[rule.arn] = (expression, next_fire_time(expression, now))
                except ValueError as exc:
                    logger.warning("Rule %s: %s; it will not fire", rule.name, exc)
                    self.next_fire[rule.arn] = (expression, None)
                continue
            due = known[1]
            if due is None or due > now:
                continue
            self.next_fire[rule.arn] = (expression, next_fire_time(expression, now))
            if rule.state == "ENABLED":
                logger.info("Schedule %s fires rule %s", expression, rule.name)
                deliver_to_targets(rule, scheduled_event(rule))
        for arn in set(self.next_fire) - seen:
            del self.next_fire[arn]


# --------------------------------------------------------------------------- S3 events


def encode_s3_key(key: str) -> str:
    """Encode an object key as S3 does in event records (`red flower.jpg` -> `red+flower.jpg`)."""
    return quote_plus(key, safe="/")


def _get_s3_event(
    event_name: str, bucket: Any, key: Any, notification_id: str
) -> dict[str, list[dict[str, Any]]]:
    # moto encodes '/' too; S3 keeps it, as in the EventBridge events below.
    record: dict[str, list[dict[str, Any]]] = _state.originals["_get_s3_event"](
        event_name, bucket, key, notification_id
    )
    for entry in record["Records"]:
        entry["s3"]["object"]["key"] = encode_s3_key(key.name)
        entry["s3"]["object"]["sequencer"] = _sequencer()
        if getattr(key, "version_id", None) not in (None, "null"):
            entry["s3"]["object"]["versionId"] = key.version_id
    return record


def _invoke_s3_notification_lambda(
    account_id: str, event_body: Any, fn_arn: str, region_name: str
) -> None:
    # S3 invokes notification functions asynchronously; moto ran them inside the upload.
    try:
        function = get_lambda_backend(account_id, region_name).get_function(fn_arn)
    except _DeliveryError as exc:
        logger.warning("S3 notification target %s: %s", fn_arn, exc)
        return
    lambda_processes.invoke_async(function, event_body)


def _sequencer() -> str:
    with _state.lock:
        _state.sequencer = max(_state.sequencer + 1, time.time_ns() // 1000)
        return f"{_state.sequencer:016X}"


_S3_REASONS = {
    "Put": "PutObject",
    "Post": "POST Object",
    "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
    "Delete": "DeleteObject",
    "DeleteMarkerCreated": "DeleteObject",
}


def s3_event_bridge_event(
    account_id: str, bucket: Any, event_name: str, key: Any
) -> dict[str, Any]:
    """The EventBridge event S3 emits for an object (AWS's published sample shape)."""
    detail_type = s3_notifications._detail_type(event_name)
    action = event_name.rsplit(":", maxsplit=1)[-1]
    obj: dict[str, Any] = {"key": encode_s3_key(key.name)}
    if detail_type != "Object Deleted":
        obj["size"] = int(key.size)
        obj["etag"] = str(key.etag).replace('"', "")
    version_id = getattr(key, "version_id", None)
    if version_id not in (None, "null"):
        obj["version-id"] = str(version_id)
    obj["sequencer"] = _sequencer()
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": obj,
        "request-id": "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)
        ),
        "requester": account_id,
        "source-ip-address": "127.0.0.1",
        "reason": _S3_REASONS.get(action, action),
    }
    if detail_type == "Object Deleted":
        detail["deletion-type"] = (
            "Delete Marker Created" if action == "DeleteMarkerCreated" else "Permanently Deleted"
        )
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": account_id,
        "time": _iso_time(time.time()),
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": detail,
    }


def _send_s3_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
    try:
        event = s3_event_bridge_event(account_id, bucket, event_name, key)
    except ValueError as exc:  # an S3 event type EventBridge does not carry
        logger.debug("No EventBridge event for %s: %s", event_name, exc)
        return
    backend: EventsBackend = events_backends[account_id][bucket.region_name]
    # S3 sends to the default bus of the bucket's account and region only.
    bus = backend.event_buses.get("default")
    if bus is None:
        return
    event["ingestion-time"] = time.time()
    for rule in list(bus.rules.values()):
        rule.send_to_targets(event)  # type: ignore[arg-type]
