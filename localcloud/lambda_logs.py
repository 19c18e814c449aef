"""What a function's run leaves in CloudWatch Logs: Lambda's START, END and REPORT lines.

Each run writes its output, framed as Lambda frames it, to its execution environment's stream
of the function's log group (`/aws/lambda/<name>`, or the LoggingConfig's group, see
`lambda_config`): a warm environment's runs follow each other in one stream, as on Lambda.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime

from moto.awslambda import models as lambda_models
from moto.awslambda.models import LambdaFunction

logger = logging.getLogger(__name__)


def stream_name(fn: LambdaFunction) -> str:
    """A new log stream name, in Lambda's `YYYY/MM/DD/[version]id` form."""
    now = datetime.now(UTC)
    return f"{now:%Y/%m/%d}/[{fn.version}]{uuid.uuid4().hex}"


def format_logs(
    fn: LambdaFunction,
    request_id: str,
    output: str,
    duration_ms: float,
    timeout_payload: str | None,
) -> str:
    """The run's log as Lambda writes it: START, the output's lines, END and REPORT."""
    lines = [f"START RequestId: {request_id} Version: {fn.version}"]
    lines += [line for line in output.splitlines() if line.strip()]
    if timeout_payload:
        lines.append(json.loads(timeout_payload)["errorMessage"])
    lines.append(f"END RequestId: {request_id}")
    lines.append(
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {fn.memory_size} MB\t"
        f"Max Memory Used: {fn.memory_size} MB"
    )
    return "\n".join(lines)


def save_logs(fn: LambdaFunction, stream: str, started: float, logs: str) -> None:
    """Store the run's log in a new stream of the function's log group (a failure is logged)."""
    backend = fn.logs_backend
    group = fn.logs_group_name
    try:
        backend.ensure_log_group(group)
        backend.ensure_log_stream(group, stream)
        now_ms = int(time.time() * 1000)
        events = [
            {"timestamp": int(started * 1000) if i == 0 else now_ms, "message": line}
            for i, line in enumerate(logs.splitlines())
        ]
        backend.put_log_events(group, stream, events)
    except (KeyError, ValueError, lambda_models.RESTError) as exc:
        # Losing a log line must not fail the invocation; say so in our own log.
        logger.warning("Could not store logs of %s in %s: %s", fn.function_name, group, exc)
