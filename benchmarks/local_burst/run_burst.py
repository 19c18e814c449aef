"""The burst itself: the deployed app's resources, the faults injected, the uploads."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from benchmarks.local_burst.plan import (
    DUPLICATE_TARGET_ID,
    FINISHED,
    KEY_ROOT,
    LOG,
    MAX_SWEEPS,
    POLL_SECONDS,
    STATE_EVENT_SETTLE_SECONDS,
    SWEEP_MARGIN_SECONDS,
    UPLOAD_EVENT_SETTLE_SECONDS,
    UPLOAD_THREADS,
    Plan,
)
from localcloud.deployment import LocalEndpoint
from transcribe_pipeline.environment import SWEEP_GRACE_MINUTES, SWEEP_GRACE_MINUTES_RANGE
from transcribe_pipeline.keys import S3Object, job_name_for
from transcribe_pipeline.layout import (
    FAILED_PREFIX,
    TRANSCRIPTS_PREFIX,
    failure_key,
    transcript_key,
)
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME, StackOutputs


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
