"""Scheduled EventBridge rules in the local cloud: the scheduled event, the clock, expressions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from localcloud import schedules
from tests.localcloud.support import ACCOUNT, RECORDING_FUNCTION, recorded, rule


def test_scheduled_rule_fires_with_the_scheduled_event_shape(cloud: Any, tmp_path: Path) -> None:
    function = cloud.function(
        {"index.py": RECORDING_FUNCTION}, Environment={"Variables": {"OUT_DIR": str(tmp_path)}}
    )
    name, arn = rule(cloud, ScheduleExpression="rate(1 minute)")
    cloud.events.put_targets(Rule=name, Targets=[{"Id": "fn", "Arn": cloud.function_arn(function)}])

    sent = schedules.fire_scheduled_rule_now(arn)

    [event] = cloud.wait_for(lambda: recorded(tmp_path))
    assert event == {
        "version": "0",
        "id": sent["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": sent["time"],
        "region": "us-east-1",
        "resources": [arn],
        "detail": {},
    }


def test_scheduler_fires_due_enabled_rules_only(cloud: Any) -> None:
    enabled, _ = rule(cloud, ScheduleExpression="rate(2 minutes)")
    disabled, _ = rule(cloud, ScheduleExpression="rate(1 minute)", State="DISABLED")
    (e_url, e_arn), (d_url, d_arn) = cloud.queue(), cloud.queue()
    cloud.events.put_targets(Rule=enabled, Targets=[{"Id": "q", "Arn": e_arn}])
    cloud.events.put_targets(Rule=disabled, Targets=[{"Id": "q", "Arn": d_arn}])
    scheduler = schedules._Scheduler(interval=1.0)  # driven by hand, not started
    now = datetime.now(UTC)

    scheduler.tick(now)  # first sight: the clock starts
    scheduler.tick(now + timedelta(seconds=90))  # not due yet
    assert "Messages" not in cloud.sqs.receive_message(QueueUrl=e_url)
    scheduler.tick(now + timedelta(seconds=121))

    [message] = cloud.receive(e_url)
    assert json.loads(message["Body"])["detail-type"] == "Scheduled Event"
    assert "Messages" not in cloud.sqs.receive_message(QueueUrl=d_url)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(5 minutes)", "2024-01-01T10:00:00", "2024-01-01T10:05:00"),
        ("rate(1 hour)", "2024-01-01T10:00:00", "2024-01-01T11:00:00"),
        ("cron(0/15 * * * ? *)", "2024-01-01T10:07:00", "2024-01-01T10:15:00"),
        ("cron(30 2 * * ? *)", "2024-01-01T10:00:00", "2024-01-02T02:30:00"),
        ("cron(0 9 ? * MON-FRI *)", "2024-01-06T10:00:00", "2024-01-08T09:00:00"),  # Sat -> Mon
        ("cron(0 0 1 JAN ? 2025)", "2024-03-01T00:00:00", "2025-01-01T00:00:00"),
    ],
)
def test_schedule_expressions(expression: str, after: str, expected: str) -> None:
    start = datetime.fromisoformat(after).replace(tzinfo=UTC)
    assert schedules.next_fire_time(expression, start) == datetime.fromisoformat(expected).replace(
        tzinfo=UTC
    )
