"""Scheduled EventBridge rules in the local cloud: `rate(...)` and `cron(...)` rules fire.

moto stores a rule's ScheduleExpression and never fires it. `install()` starts a thread that,
once a second, sends the scheduled event to the targets of every enabled rule that is due
(through `event_targets`, with its retries and dead-letter queues). A rule's clock starts when
the thread first sees it, and again when its expression changes. Cron supports AWS's six
fields without `L`, `W` and `#`.
"""

from __future__ import annotations

import calendar
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.events.models import Rule, events_backends

from localcloud import event_targets

logger = logging.getLogger(__name__)


@dataclass
class _State:
    scheduler: _Scheduler | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_state = _State()


def install(*, interval_seconds: float = 1.0) -> None:
    """Start the thread that fires due scheduled rules (idempotent)."""
    with _state.lock:
        if _state.scheduler is None:
            _state.scheduler = _Scheduler(interval_seconds)
            _state.scheduler.start()


def shutdown() -> None:
    """Stop the schedule thread."""
    with _state.lock:
        scheduler, _state.scheduler = _state.scheduler, None
    if scheduler is not None:
        scheduler.stop()


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
        "time": event_targets.iso_time(time.time()),
        "region": rule.region_name,
        "resources": [rule.arn],
        "detail": {},
    }


def fire_scheduled_rule_now(rule_arn: str) -> dict[str, Any]:
    """Fire a scheduled rule at once (for tests and demos); returns the event sent."""
    for rule in _all_rules():
        if rule.arn == rule_arn:
            event = scheduled_event(rule)
            event_targets.deliver_to_targets(rule, event)
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
                event_targets.deliver_to_targets(rule, scheduled_event(rule))
        for arn in set(self.next_fire) - seen:
            del self.next_fire[arn]
