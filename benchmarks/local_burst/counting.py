"""What a finished burst counts: jobs, duplicates, dead letters, sweeper harvests, WER."""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from typing import Any

from benchmarks.local_burst.plan import (
    MAX_SWEEPS,
    WER_SAMPLES,
)
from benchmarks.local_burst.run_burst import Burst
from localcloud.deployment import LocalEndpoint
from localcloud.wer import wer as word_error_rate
from transcribe_pipeline.job_listing import pipeline_jobs
from transcribe_pipeline.layout import (
    FailureRecord,
    failure_key,
    transcript_key,
)
from transcribe_pipeline.limits import START_CALLS_PER_SECOND
from transcribe_pipeline.starter import Outcome

# What the start function logs for a redelivered upload event (lambda/start_transcription.py).
_DUPLICATE_MESSAGES = frozenset(
    f"Transcription job {outcome.value}"
    for outcome in (Outcome.ALREADY_HANDLED, Outcome.ALREADY_STARTED)
)


def _log_messages(endpoint: LocalEndpoint, function: str) -> list[dict[str, Any] | str]:
    """A function's log lines: Powertools' JSON lines parsed, the runtime's lines as text."""
    lam, logs = endpoint.client("lambda"), endpoint.client("logs")
    config = lam.get_function_configuration(FunctionName=function)
    group = (config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{function}"
    lines: list[dict[str, Any] | str] = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
        for event in page.get("events", []):
            message = event.get("message", "")
            try:
                parsed = json.loads(message) if message.startswith("{") else message
            except json.JSONDecodeError:
                parsed = message
            lines.append(parsed if isinstance(parsed, dict | str) else message)
    return lines


def _log_summary(lines: list[dict[str, Any] | str]) -> dict[str, Any]:
    """Invocations and the count of each structured message (``LEVEL message``)."""
    messages = Counter(
        f"{line.get('level', '?')} {line.get('message', '')}"[:120]
        for line in lines
        if isinstance(line, dict)
    )
    invocations = sum(isinstance(x, str) and x.startswith("START RequestId:") for x in lines)
    return {"invocations": invocations, "messages": dict(messages.most_common())}


def _jobs(transcribe: Any, prefix: str) -> list[dict[str, Any]]:
    """Every job of the stack's prefix, all statuses (the functions' own listing, then Get)."""
    names = [summary["TranscriptionJobName"] for summary in pipeline_jobs(transcribe, prefix)]
    return [transcribe.get_transcription_job(TranscriptionJobName=n)["TranscriptionJob"]
            for n in names]  # fmt: skip


def count(burst: Burst, reference: str, seed: int) -> dict[str, Any]:
    """The figures of a finished run, and the reasons it failed (none: it passed)."""
    plan, res, endpoint = burst.plan, burst.res, burst.endpoint
    jobs = _jobs(burst.transcribe, res.job_name_prefix)
    per_uri = Counter(job["Media"]["MediaFileUri"] for job in jobs)
    duplicate_jobs = sum(n - 1 for n in per_uri.values() if n > 1)
    transcribed, failed = burst.outcomes(plan.keys)
    lost = sorted(set(plan.keys) - transcribed - failed)
    sqs = endpoint.client("sqs")
    dead_lettered = {
        logical: int(sqs.get_queue_attributes(QueueUrl=url,
                     AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
                     ["ApproximateNumberOfMessages"])
        for logical, url in sorted(res.dead_letter_queues.items())
    }  # fmt: skip

    # The start function logs one line per record it handled; a redelivered event finds its
    # version handled in the ledger ("already-handled") or, if the start was not recorded, its
    # job there ("already-started"): one such line per duplicate delivery.
    logs = {
        role: _log_messages(endpoint, function)
        for role, function in (("start", res.start_function),
                               ("job_state", res.job_state_function),
                               ("sweeper", res.sweeper_function))
    }  # fmt: skip
    already_started = [
        str(line.get("job_name"))
        for line in logs["start"]
        if isinstance(line, dict) and line.get("message") in _DUPLICATE_MESSAGES
    ]
    duplicated_names = {burst.job_name(k) for k in plan.duplicated}
    duplicates_delivered = sum(name in duplicated_names for name in already_started)
    # Ours, and any scheduled sweep's (the schedule rule stays as deployed: 15 minutes).
    harvested = sorted(
        {name for sweep in burst.sweeps for name in sweep["harvested"]}
        | {
            str(name)
            for line in logs["sweeper"]
            if isinstance(line, dict) and line.get("message") == "Sweep done"
            for name in line.get("harvested") or []
        }
    )

    rng = random.Random(seed)
    sampled = rng.sample(sorted(transcribed), min(WER_SAMPLES, len(transcribed)))
    wers = {}
    for key in sampled:
        body = burst.s3.get_object(Bucket=res.output_bucket, Key=transcript_key(key, "txt"))
        wers[key] = round(word_error_rate(reference, body["Body"].read().decode("utf-8")), 3)
    failures = {}
    for key in sorted(failed)[:5]:
        body = burst.s3.get_object(Bucket=res.output_bucket, Key=failure_key(key))
        failures[key] = FailureRecord.from_body(body["Body"].read()).reason

    assert burst.first_upload is not None and burst.burst_began is not None
    created = max((job["CreationTime"] for job in jobs), default=burst.first_upload)
    # The dropped-events phase runs alone first (its jobs must finish before the rule is
    # enabled again): how fast the rest started is timed from the duplicated uploads on.
    burst.phases["burst_to_last_job_created_s"] = round(
        (created - burst.burst_began).total_seconds(), 1
    )
    burst_jobs = sum(job["CreationTime"] >= burst.burst_began for job in jobs)
    burst.phases["burst_start_floor_s"] = round(burst_jobs / START_CALLS_PER_SECOND, 1)
    dropped = burst.dropped_names
    result = {
        "uploads": len(plan.keys),
        "duplicate_events_delivered": duplicates_delivered,
        "jobs_started": len(jobs),
        "duplicate_jobs": duplicate_jobs,
        "transcripts": len(transcribed),
        "failure_records": len(failed),
        "lost": len(lost),
        "dead_lettered": sum(dead_lettered.values()),
        "events_dropped": len(dropped),
        "harvested_by_sweeper": len(harvested),
        "time_to_last_job_created_s": round((created - burst.first_upload).total_seconds(), 1),
        "time_to_all_outputs_s": round(burst.all_outputs_at - burst.began, 1)
        if burst.all_outputs_at and not burst.timeouts
        else None,
        "wer_mean": round(statistics.mean(wers.values()), 3) if wers else None,
    }
    detail = {
        "planned": {
            "dropped": len(plan.dropped),
            "duplicated": len(plan.duplicated),
            "rest": len(plan.rest),
        },
        "function_logs": {role: _log_summary(lines) for role, lines in logs.items()},
        "already_started_outside_the_duplicated": len(already_started) - duplicates_delivered,
        "duplicate_target": burst.duplicate_target,
        "dead_letter_queues": dead_lettered,
        "job_statuses": dict(Counter(job["TranscriptionJobStatus"] for job in jobs)),
        "dropped_jobs": dropped,
        "harvested_jobs": harvested,
        "sweeps": [
            {k: (len(v) if isinstance(v, list) else v) for k, v in s.items()} for s in burst.sweeps
        ],
        "sweep_grace_seconds": burst.grace_seconds,
        "phases_s": burst.phases,
        "wer": wers,
        "failure_reasons": failures,
        "lost_keys": lost[:20],
        "timeouts": burst.timeouts,
    }
    reasons = list(burst.timeouts)
    if lost:
        reasons.append(f"{len(lost)} upload(s) lost (neither transcript nor failure record), "
                       f"e.g. {lost[:3]}")  # fmt: skip
    if duplicate_jobs:
        doubled = [uri for uri, n in per_uri.items() if n > 1]
        reasons.append(f"{duplicate_jobs} duplicate job(s), e.g. for {doubled[:3]}")
    if result["dead_lettered"]:
        reasons.append(f"messages in dead-letter queues: {dead_lettered}")
    if set(harvested) != set(dropped):
        reasons.append(
            f"the sweeper harvested {len(harvested)} job(s) but {len(dropped)} event(s) were "
            f"dropped: not dropped but harvested {sorted(set(harvested) - set(dropped))[:3]}, "
            f"dropped but not harvested {sorted(set(dropped) - set(harvested))[:3]}"
        )
    if burst.sweeps and burst.sweeps[-1]["harvested"]:
        reasons.append(f"the sweeper still harvested jobs after {MAX_SWEEPS} sweeps")
    if plan.duplicated and not duplicates_delivered:
        reasons.append("no duplicate upload event reached the start function: not injected")
    if plan.dropped and not dropped:
        reasons.append("no completion event was dropped: the fault was not injected")
    return {"result": result, "detail": detail, "reasons": reasons}
