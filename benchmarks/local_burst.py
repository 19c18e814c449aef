"""A real burst on the local cloud: N uploads end to end, with duplicate and lost events.

Run: ``.venv/bin/python -m benchmarks.local_burst [--uploads 200] [--seed 7]``

``benchmarks/burst/`` simulates 10,000 uploads on a simulated clock; this is its smaller
real counterpart with the same counts: the app deployed to the local cloud with the CDK CLI
(``local_pipeline.deployed_app``), real uploads, real recognition, destroyed afterwards. The
clip is the first sentence of ``samples/hello-pipeline.mp3`` (3 s, cut at an MP3 frame
without re-encoding), uploaded under keys that exercise S3's event-key encoding (spaces,
``+``, ``%``, non-ASCII, nesting).

Faults are injected with the AWS APIs an operator would use, never by changing the stack:

1. **Lost completion events** (``DROP_SHARE`` of the uploads, first): the job-state rule is
   disabled (DisableRule), those files are uploaded, their jobs run to the end, the rule is
   enabled again: their "Transcribe Job State Change" events matched no rule. Once every
   other upload has its outputs and the sweeper's grace (``SWEEP_GRACE_MINUTES``) has passed
   since they finished, the sweeper function is invoked (RequestResponse) until it harvests
   nothing. It must harvest exactly those jobs.
2. **Duplicate upload events** (``DUPLICATE_SHARE``): a second target on the upload rule
   (PutTargets: the same start queue, DeadLetterConfig and RetryPolicy, another Id)
   delivers each of those uploads' events twice, then RemoveTargets. The start function's
   logs must show one "already-started" per duplicate, and Transcribe no second job.
3. **The rest** is uploaded at once (threads), as an archive dropped into the bucket.

Exit 0 only when nothing is lost, no object has two jobs, no dead-letter queue holds a
message, the sweeper harvested exactly the jobs whose event was dropped, and both faults
really happened; otherwise exit 3 (``burst.GOAL_MISSED``; 1 is a crash) with the reasons.
Figures: the table, and ``benchmarks/results/local_burst.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
from botocore.exceptions import ClientError
from rich.console import Console
from rich.table import Table

from benchmarks.burst import GOAL_MISSED
from benchmarks.local_pipeline import deployed_app
from benchmarks.report import machine
from localcloud.deployment import LocalEndpoint
from localcloud.wer import wer as word_error_rate
from transcribe_pipeline.environment import SWEEP_GRACE_MINUTES, SWEEP_GRACE_MINUTES_RANGE
from transcribe_pipeline.job_listing import pipeline_jobs
from transcribe_pipeline.keys import S3Object, job_name_for
from transcribe_pipeline.layout import (
    FAILED_PREFIX,
    TRANSCRIPTS_PREFIX,
    FailureRecord,
    failure_key,
    transcript_key,
)
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME, StackOutputs

RESULTS = Path(__file__).resolve().parent / "results" / "local_burst.json"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SOURCE = SAMPLES / "hello-pipeline.mp3"
CLIP_SECONDS = 3.0  # the first sentence: its last word ends before 3 s, the second starts at 4
DUPLICATE_SHARE = 0.05
DROP_SHARE = 0.10
UPLOAD_THREADS = 16
KEY_ROOT = "burst/"
# Every key is unique (its number) and its own S3 event-key encoding test.
KEY_PATTERNS = (
    "burst/{n:03d}/talk {n:03d} + ü.mp3",  # space -> "+", "+" -> "%2B", ü -> UTF-8 escapes
    "burst/{n:03d}/deep/er/still/räksmörgås_{n}.mp3",  # nesting, non-ASCII
    "burst/{n:03d}/会议 记录 {n}.mp3",  # no ASCII stem at all for the job name
    "burst/{n:03d}/50% off+more {n}.MP3",  # a literal "%", upper-case extension
    "burst/{n:03d}/already%20encoded {n}.mp3",  # decoded twice, it would name another key
)
DUPLICATE_TARGET_ID = "LocalBurstDuplicateDelivery"
# Before the job-state rule is enabled again, the events of the jobs that just finished must
# be through: Transcribe emits them after the status changes (milliseconds apart locally).
STATE_EVENT_SETTLE_SECONDS = 3.0
# Before the duplicate target goes: the local cloud routes S3's events within PutObject, so
# this is a margin (on AWS, events are delivered asynchronously, within seconds).
UPLOAD_EVENT_SETTLE_SECONDS = 1.0
SWEEP_MARGIN_SECONDS = 5.0
MAX_SWEEPS = 5
FINISHED = ("COMPLETED", "FAILED")
WER_SAMPLES = 5
START_QUOTA_PER_SECOND = 25  # Transcribe's default StartTranscriptionJob rate (the floor)
POLL_SECONDS = 1.0
LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """Which uploads get which fault."""

    keys: list[str]
    dropped: list[str]  # their completion events are dropped (job-state rule disabled)
    duplicated: list[str]  # their upload events are delivered twice (a second target)
    rest: list[str]


def make_plan(uploads: int, seed: int) -> Plan:
    """Keys and fault subsets, reproducible from the seed."""
    rng = random.Random(seed)
    keys = [rng.choice(KEY_PATTERNS).format(n=n) for n in range(uploads)]
    shuffled = rng.sample(keys, len(keys))
    n_drop = max(1, round(uploads * DROP_SHARE))
    n_dup = max(1, round(uploads * DUPLICATE_SHARE))
    dropped, duplicated = shuffled[:n_drop], shuffled[n_drop : n_drop + n_dup]
    faulty = {*dropped, *duplicated}
    return Plan(keys, dropped, duplicated, [k for k in keys if k not in faulty])


def cut_clip(source: Path, target: Path, seconds: float) -> None:
    """The first ``seconds`` of an MP3, whole frames, without re-encoding."""
    with av.open(str(source)) as media, av.open(str(target), "w", format="mp3") as out:
        audio = media.streams.audio[0]
        stream = out.add_stream_from_template(audio)
        for packet in media.demux(audio):
            if packet.pts is None:  # the demuxer's final flush packet
                continue
            if packet.time_base is not None and float(packet.pts * packet.time_base) >= seconds:
                break
            packet.stream = stream
            out.mux(packet)


def reference_text() -> str:
    """What the clip says: the first sentence of hello-pipeline's text in texts.json."""
    clips = json.loads((SAMPLES / "texts.json").read_text())["clips"]
    text = next(c["text"] for c in clips if c["name"] == SOURCE.stem)
    return str(re.split(r"(?<=[.!?])\s+", text)[0])


@dataclass(frozen=True)
class Resources:
    """The deployed stack's parts this benchmark uses, found by what they are."""

    input_bucket: str
    output_bucket: str
    job_name_prefix: str
    start_queue_arn: str
    upload_rule: str
    job_state_rule: str
    start_function: str
    job_state_function: str
    sweeper_function: str
    dead_letter_queues: dict[str, str]  # logical id -> queue URL

    @classmethod
    def find(cls, endpoint: LocalEndpoint, outputs: StackOutputs) -> Resources:
        """Rules by their event patterns, dead-letter queues by their logical ids."""
        cfn, events, sqs = (endpoint.client(s) for s in ("cloudformation", "events", "sqs"))
        resources = cfn.describe_stack_resources(StackName=DEFAULT_STACK_NAME)["StackResources"]
        rules: dict[str, list[str]] = {"Object Created": [], "Transcribe Job State Change": []}
        dead_letter_queues: dict[str, str] = {}
        for res in resources:
            logical_id = res["LogicalResourceId"]
            if res["ResourceType"] == "AWS::Events::Rule":
                name = res["PhysicalResourceId"].split("|")[-1].split("/")[-1]
                pattern = events.describe_rule(Name=name).get("EventPattern")
                detail_types = json.loads(pattern).get("detail-type", []) if pattern else []
                for detail_type, found in rules.items():
                    if detail_type in detail_types:
                        found.append(name)
            elif res["ResourceType"] == "AWS::SQS::Queue" and "DeadLetter" in logical_id:
                dead_letter_queues[logical_id] = res["PhysicalResourceId"]
        for detail_type, found in rules.items():
            if len(found) != 1:
                raise RuntimeError(f"expected one rule for {detail_type!r} events, found {found}")
        expected = {outputs.start_dead_letter_queue_url, outputs.job_state_dead_letter_queue_url}
        if not expected <= set(dead_letter_queues.values()):
            raise RuntimeError(
                f"the stack's dead-letter queues {dead_letter_queues} miss one of {expected}"
            )
        start_queue_arn = sqs.get_queue_attributes(
            QueueUrl=outputs.start_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        return cls(
            input_bucket=outputs.input_bucket,
            output_bucket=outputs.output_bucket,
            job_name_prefix=outputs.job_name_prefix,
            start_queue_arn=start_queue_arn,
            upload_rule=rules["Object Created"][0],
            job_state_rule=rules["Transcribe Job State Change"][0],
            start_function=outputs.start_function,
            job_state_function=outputs.job_state_function,
            sweeper_function=outputs.sweeper_function,
            dead_letter_queues=dead_letter_queues,
        )


@dataclass
class Burst:
    """One run against a deployed stack; the fields are what it saw along the way."""

    endpoint: LocalEndpoint
    res: Resources
    plan: Plan
    clip: bytes
    timeout: float
    objects: dict[str, S3Object] = field(default_factory=dict)
    first_upload: datetime | None = None
    began: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    dropped_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicate_target: dict[str, Any] = field(default_factory=dict)
    sweeps: list[dict[str, Any]] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    dropped_names: list[str] = field(default_factory=list)
    burst_began: datetime | None = None  # the duplicated and the rest, after the dropped
    grace_seconds: float = 0.0
    all_outputs_at: float | None = None

    def __post_init__(self) -> None:
        self.s3 = self.endpoint.client("s3", max_pool_connections=UPLOAD_THREADS)
        self.events = self.endpoint.client("events")
        self.transcribe = self.endpoint.client("transcribe")

    # --- the faults and the uploads ---------------------------------------------------------

    def run(self) -> None:
        """The three phases, then the sweep."""
        self._dropped_events_phase()
        self._duplicate_events_phase()
        began = time.monotonic()
        LOG.info("uploading the other %d files at once", len(self.plan.rest))
        self._upload(self.plan.rest)
        self.phases["bulk_upload_s"] = round(time.monotonic() - began, 1)
        others = [k for k in self.plan.keys if k not in set(self.plan.dropped)]
        LOG.info("waiting for the outputs of the %d uploads whose events flow", len(others))
        self._wait_outputs(others, "before the sweep")
        self.phases["outputs_before_sweep_s"] = round(time.monotonic() - self.began, 1)
        self._sweep()
        self._wait_outputs(self.plan.keys, "after the sweep")
        self.all_outputs_at = time.monotonic()

    def _upload(self, keys: list[str]) -> None:
        body, bucket = self.clip, self.res.input_bucket
        if self.first_upload is None:
            self.began, self.first_upload = time.monotonic(), datetime.now(UTC)

        def put(key: str) -> S3Object:
            answer = self.s3.put_object(Bucket=bucket, Key=key, Body=body)
            return S3Object(bucket, key, len(body), answer.get("VersionId"),
                            answer["ETag"].strip('"'))  # fmt: skip

        with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
            self.objects.update(zip(keys, pool.map(put, keys), strict=True))

    def job_name(self, key: str) -> str:
        """The job name the pipeline gives this upload (deterministic)."""
        return job_name_for(self.objects[key], prefix=self.res.job_name_prefix)

    def _dropped_events_phase(self) -> None:
        """Upload with the job-state rule disabled; enable it once their jobs have finished."""
        began = time.monotonic()
        LOG.info("disabling %s; uploading %d files", self.res.job_state_rule,
                 len(self.plan.dropped))  # fmt: skip
        self.events.disable_rule(Name=self.res.job_state_rule)
        try:
            self._upload(self.plan.dropped)
            names = [self.job_name(k) for k in self.plan.dropped]
            self.dropped_jobs = self._wait_finished(names)
            time.sleep(STATE_EVENT_SETTLE_SECONDS)
        finally:
            self.events.enable_rule(Name=self.res.job_state_rule)
        state = self.events.describe_rule(Name=self.res.job_state_rule)["State"]
        if state != "ENABLED":
            raise RuntimeError(f"{self.res.job_state_rule} is {state} after EnableRule")
        self.phases["dropped_events_phase_s"] = round(time.monotonic() - began, 1)
        LOG.info("%d jobs finished with their rule disabled; %s enabled again",
                 len(self.dropped_jobs), self.res.job_state_rule)  # fmt: skip

    def _wait_finished(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """Poll GetTranscriptionJob until every job is COMPLETED or FAILED."""
        deadline = time.monotonic() + self.timeout
        finished: dict[str, dict[str, Any]] = {}
        while len(finished) < len(names):
            for name in names:
                if name in finished:
                    continue
                try:
                    job = self.transcribe.get_transcription_job(TranscriptionJobName=name)
                except ClientError as error:
                    # Not started yet: AWS answers BadRequestException, the local cloud
                    # NotFoundException (the error the API model declares).
                    code = error.response["Error"]["Code"]
                    if code in {"BadRequestException", "NotFoundException"}:
                        continue
                    raise
                if job["TranscriptionJob"]["TranscriptionJobStatus"] in FINISHED:
                    finished[name] = job["TranscriptionJob"]
            if len(finished) < len(names):
                if time.monotonic() > deadline:
                    waiting = sorted(set(names) - set(finished))
                    raise TimeoutError(
                        f"{len(waiting)} of {len(names)} jobs not finished after "
                        f"{self.timeout:.0f} s, e.g. {waiting[:3]}"
                    )
                time.sleep(POLL_SECONDS)
        return finished

    def _duplicate_events_phase(self) -> None:
        """A second target on the upload rule for these uploads: each event arrives twice."""
        self.burst_began = datetime.now(UTC)
        rule = self.res.upload_rule
        targets = self.events.list_targets_by_rule(Rule=rule)["Targets"]
        originals = [t for t in targets if t["Arn"] == self.res.start_queue_arn]
        if len(targets) != 1 or len(originals) != 1:
            raise RuntimeError(f"expected one target (the start queue) on {rule}: {targets}")
        duplicate = {**originals[0], "Id": DUPLICATE_TARGET_ID}
        answer = self.events.put_targets(Rule=rule, Targets=[duplicate])
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"PutTargets on {rule} failed: {answer['FailedEntries']}")
        try:
            now = self.events.list_targets_by_rule(Rule=rule)["Targets"]
            added = next(t for t in now if t["Id"] == DUPLICATE_TARGET_ID)
            for setting in ("Arn", "DeadLetterConfig", "RetryPolicy"):
                if added.get(setting) != originals[0].get(setting):
                    raise RuntimeError(f"the duplicate target's {setting} differs: {added}")
            self.duplicate_target = added
            LOG.info("second target on %s; uploading %d files", rule, len(self.plan.duplicated))
            self._upload(self.plan.duplicated)
            time.sleep(UPLOAD_EVENT_SETTLE_SECONDS)
        finally:
            answer = self.events.remove_targets(Rule=rule, Ids=[DUPLICATE_TARGET_ID])
            if answer.get("FailedEntryCount"):
                raise RuntimeError(f"RemoveTargets on {rule} failed: {answer['FailedEntries']}")
        left = self.events.list_targets_by_rule(Rule=rule)["Targets"]
        if [t["Id"] for t in left] != [originals[0]["Id"]]:
            raise RuntimeError(f"{rule} has other targets than the start queue: {left}")

    # --- waiting and sweeping ---------------------------------------------------------------

    def outcomes(self, keys: Iterable[str]) -> tuple[set[str], set[str]]:
        """(keys with a transcript, keys with a failure record), listed from the output bucket."""
        present: set[str] = set()
        paginator = self.s3.get_paginator("list_objects_v2")
        for prefix in (TRANSCRIPTS_PREFIX, FAILED_PREFIX):
            for page in paginator.paginate(Bucket=self.res.output_bucket,
                                           Prefix=prefix + KEY_ROOT):  # fmt: skip
                present.update(obj["Key"] for obj in page.get("Contents", []))
        keys = list(keys)
        return (
            {k for k in keys if transcript_key(k, "txt") in present},
            {k for k in keys if failure_key(k) in present},
        )

    def _wait_outputs(self, keys: list[str], when: str) -> None:
        """Until each key has a transcript or a failure record; a timeout is recorded."""
        deadline = self.began + self.timeout
        while True:
            transcribed, failed = self.outcomes(keys)
            missing = sorted(set(keys) - transcribed - failed)
            if not missing:
                return
            if time.monotonic() > deadline:
                message = (
                    f"timed out {when}: {len(missing)} of {len(keys)} uploads had neither a "
                    f"transcript nor a failure record {self.timeout:.0f} s after the first "
                    f"upload, e.g. {missing[:3]}"
                )
                LOG.error("%s", message)
                self.timeouts.append(message)
                return
            time.sleep(POLL_SECONDS)

    def _events_dropped(self) -> list[str]:
        """Jobs that finished with the rule disabled and had no outputs before the sweep."""
        transcribed, failed = self.outcomes(self.plan.dropped)
        without = {self.job_name(k) for k in self.plan.dropped if k not in transcribed | failed}
        return sorted(set(self.dropped_jobs) & without)

    def _sweep(self) -> None:
        """Once the grace has passed since the dropped jobs finished, sweep until clean."""
        self.dropped_names = self._events_dropped()
        lam = self.endpoint.client("lambda")
        config = lam.get_function_configuration(FunctionName=self.res.sweeper_function)
        variables = (config.get("Environment") or {}).get("Variables") or {}
        grace = timedelta(
            minutes=int(variables.get(SWEEP_GRACE_MINUTES, SWEEP_GRACE_MINUTES_RANGE.default))
        )
        self.grace_seconds = grace.total_seconds()
        finished = [j["CompletionTime"] for j in self.dropped_jobs.values()]
        due = max(finished) + grace + timedelta(seconds=SWEEP_MARGIN_SECONDS)
        wait = (due - datetime.now(UTC)).total_seconds()
        self.phases["waited_for_grace_s"] = round(max(wait, 0.0), 1)
        if wait > 0:
            LOG.info("waiting %.0f s for the sweeper's grace (%.0f s) to pass", wait,
                     grace.total_seconds())  # fmt: skip
            time.sleep(wait)
        # RequestResponse: the read must outlast the function's timeout, and no retry may
        # run a second sweep behind a slow first one.
        invoker = self.endpoint.client("lambda", read_timeout=int(config["Timeout"]) + 60,
                                       retries={"total_max_attempts": 1})  # fmt: skip
        began = time.monotonic()
        for _ in range(MAX_SWEEPS):
            answer = invoker.invoke(FunctionName=self.res.sweeper_function,
                                    InvocationType="RequestResponse", Payload=b"{}")  # fmt: skip
            payload = json.loads(answer["Payload"].read() or b"null")
            if answer.get("FunctionError"):
                raise RuntimeError(f"the sweeper failed: {payload}")
            LOG.info("sweep: examined %s, harvested %d, stuck %d", payload["examined"],
                     len(payload["harvested"]), len(payload["stuck"]))  # fmt: skip
            self.sweeps.append(payload)
            if not payload["harvested"]:
                break
        self.phases["sweeps_s"] = round(time.monotonic() - began, 1)


# --- counting -------------------------------------------------------------------------------


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
    # job there (ConflictException) and logs "already-started": one per duplicate delivery.
    logs = {
        role: _log_messages(endpoint, function)
        for role, function in (("start", res.start_function),
                               ("job_state", res.job_state_function),
                               ("sweeper", res.sweeper_function))
    }  # fmt: skip
    already_started = [
        str(line.get("job_name"))
        for line in logs["start"]
        if isinstance(line, dict) and line.get("message") == "Transcription job already-started"
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
    burst.phases["burst_start_floor_s"] = round(burst_jobs / START_QUOTA_PER_SECOND, 1)
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


# --- running and reporting ------------------------------------------------------------------


def run(*, uploads: int, seed: int, timeout: float = 900.0) -> dict[str, Any]:
    """Deploy, burst with faults, count, destroy; the figures as a JSON-ready dict."""
    plan = make_plan(uploads, seed)
    reference = reference_text()
    with tempfile.TemporaryDirectory(prefix="local-burst-") as tmp:
        clip_path = Path(tmp) / f"clip{SOURCE.suffix}"
        cut_clip(SOURCE, clip_path, CLIP_SECONDS)
        clip = clip_path.read_bytes()
        with av.open(str(clip_path)) as media:
            clip_seconds = round(float(media.duration or 0) / av.time_base, 2)
    with deployed_app() as app:
        LOG.info("deployed in %.1f s on %s", app.deploy_seconds, app.endpoint.url)
        burst = Burst(app.endpoint, Resources.find(app.endpoint, app.outputs), plan, clip,
                      timeout)  # fmt: skip
        burst.run()
        counted = count(burst, reference, seed)
    return {
        "scenario": {
            "uploads": uploads,
            "seed": seed,
            "clip": f"{SOURCE.relative_to(SAMPLES.parent)}, first {CLIP_SECONDS} s",
            "clip_seconds": clip_seconds,
            "clip_bytes": len(clip),
            "reference_text": reference,
            "duplicate_share": DUPLICATE_SHARE,
            "drop_share": DROP_SHARE,
            "upload_threads": UPLOAD_THREADS,
            "timeout_s": timeout,
        },
        **counted,
        "ok": not counted["reasons"],
        "deploy_seconds": app.deploy_seconds,
        "destroy_seconds": app.destroy_seconds,
        "machine": machine(),
    }


GOALS = {
    "lost": "0",
    "duplicate_jobs": "0",
    "dead_lettered": "0",
    "harvested_by_sweeper": "= events_dropped",
}


def table(results: dict[str, Any]) -> Table:
    """The counts and timings as a rich table."""
    s = results["scenario"]
    title = (f"Local cloud burst: {s['uploads']} uploads of a {s['clip_seconds']} s clip "
             f"(seed {s['seed']})")  # fmt: skip
    out = Table(title=title)
    out.add_column("measure")
    out.add_column("value", justify="right")
    out.add_column("goal")
    for name, value in results["result"].items():
        out.add_row(name, "-" if value is None else str(value), GOALS.get(name, ""))
    out.add_row("deploy_seconds", str(results["deploy_seconds"]), "")
    out.add_row("destroy_seconds", str(results["destroy_seconds"]), "")
    return out


def report(results: dict[str, Any], output: Path = RESULTS) -> dict[str, Any]:
    """Print the table and the verdict, write the JSON; return the results."""
    console = Console()
    console.print(table(results))
    phases = results["detail"]["phases_s"]
    console.print("phases (s): " + ", ".join(f"{k} {v}" for k, v in phases.items()))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"written {output}")
    if results["ok"]:
        console.print("PASS: nothing lost, no duplicate job, no dead letter, every dropped "
                      "event harvested by the sweeper")  # fmt: skip
    else:
        console.print("FAIL:\n" + "\n".join(f"- {r}" for r in results["reasons"]))
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the burst, print the table, write benchmarks/results/local_burst.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds from the first upload until every output must be there",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)  # fmt: skip
    args = parser.parse_args(argv)
    if args.uploads < 3:
        parser.error("--uploads must be at least 3 (one dropped, one duplicated, one plain)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    results = report(run(uploads=args.uploads, seed=args.seed, timeout=args.timeout), args.output)
    return 0 if results["ok"] else GOAL_MISSED


if __name__ == "__main__":
    sys.exit(main())
