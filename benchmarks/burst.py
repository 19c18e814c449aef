"""A burst of uploads through the real start/harvest/sweep code, on a simulated clock.

Run: ``.venv/bin/python -m benchmarks.burst [--uploads 10000] [--seed 7] [--max-attempts 4]
[--no-pacing]``

The model (everything in memory, no real sleeps; time is a simulated clock in seconds):

- **Uploads**: ``uploads`` object versions land in the input bucket within ``upload_window``
  seconds (an archive dropped at once). Each "Object Created" event is sent to the start
  queue, and ``duplicate_rate`` of them twice (S3 and EventBridge deliver at least once).
- **Start queue (SQS)**: batches of up to 10, visibility timeout 360 s, redrive to the DLQ on
  the receive after the 10th (``maxReceiveCount`` 10), at most 5 concurrent batches (the event
  source mapping's maximum concurrency). A message whose record fails (partial batch
  response) or whose invocation times out (60 s, the function timeout) becomes visible again
  when its visibility timeout ends, as on AWS; one whose start was still throttled gets the
  shorter timeout the function sets (``throttling.requeue_delay_seconds``).
- **Start function**: each record goes through the real
  ``transcribe_pipeline.starter.start_transcription``; each API call takes ``call_latency``.
  Its client (``throttling.StartClient``) is modelled on the simulated clock with its real
  parts: each execution environment's ``Pacer`` spaces StartTranscriptionJob calls at the
  stack's share of the quota (25 TPS / 5 concurrent batches = 5 per second; ``--no-pacing``
  leaves it out), and a call ``is_retryable`` calls retryable waits ``backoff_seconds`` and is
  made again, up to ``max_attempts`` (``--max-attempts 1``: every throttle re-queues). When
  the attempts are spent the real ``ClientError`` reaches the starter, which raises it: the
  item goes back to SQS. A permanent "too long" refusal is not retried.
- **Fake Transcribe**: StartTranscriptionJob is a token bucket of 25 calls per second
  (``LimitExceededException``/``ThrottlingException`` beyond it, chosen at random); 250 jobs
  run at once, the rest wait as QUEUED (deferred execution), at most 10,000 queued; job names
  are unique (``ConflictException``). Durations are lognormal (median ``job_median`` s).
  ``too_long_rate`` of the media is refused as too long (permanent ``LimitExceededException``)
  and ``failed_job_rate`` of the jobs end FAILED. Get/List calls are not throttled here.
- **Completion events**: a finished job writes ``<job>.json`` (and ``.srt``) to the output
  bucket and emits its state-change event ``event_delay`` s later, except ``drop_rate`` of
  them (lost); ``duplicate_rate`` are delivered twice. The event handler runs the real
  ``transcribe_pipeline.harvest.harvest``.
- **Sweeper**: the real ``transcribe_pipeline.sweeper.sweep`` every ``sweep_interval`` s
  (grace 2 min), harvesting through the same ``harvest``; the run ends with the first sweep
  that finds nothing left to do once every job has finished.

"Time to start" runs from the first upload to the last job created; its floor is the number
of StartTranscriptionJob calls that must succeed (jobs plus permanent refusals) / 25 TPS.
"""

from __future__ import annotations

import argparse
import functools
import heapq
import itertools
import json
import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from transcribe_pipeline.harvest import Harvest, harvest
from transcribe_pipeline.keys import S3Object, failure_key, transcript_key
from transcribe_pipeline.settings import Settings
from transcribe_pipeline.starter import start_transcription
from transcribe_pipeline.sweeper import sweep
from transcribe_pipeline.throttling import (
    START_ATTEMPTS,
    Pacer,
    backoff_seconds,
    is_retryable,
    requeue_delay_seconds,
)

RESULTS = Path(__file__).resolve().parent / "results" / "burst.json"
# The exit status of a run that finished but missed a goal (1 is Python's for a crash).
GOAL_MISSED = 3
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
START_TPS = 25  # Transcribe default quotas (../shared/aws-facts.md)
MAX_RUNNING = 250
MAX_QUEUED = 10_000
BATCH_SIZE = 10
VISIBILITY_TIMEOUT = 360.0  # stacks/job_starter.py
MAX_RECEIVES = 10  # stacks/job_starter.py
FUNCTION_TIMEOUT = 60.0
MAX_CONCURRENT_BATCHES = 5  # config.starter_concurrency default
THROTTLING_CODES = {"LimitExceededException", "ThrottlingException"}
SETTINGS = Settings(
    input_bucket="media-in",
    output_bucket="media-out",
    job_name_prefix="tp-",
    language_code="en-US",
    identify_language=False,
    language_options=(),
    show_speaker_labels=False,
    max_speaker_labels=2,
    subtitle_formats=("srt",),
    vocabulary_name=None,
    data_access_role_arn="arn:aws:iam::123456789012:role/TranscribeDataAccess",
    topic_arn=None,
)


@dataclass(frozen=True)
class Scenario:
    """The knobs of one run."""

    uploads: int = 10_000
    seed: int = 7
    max_attempts: int = START_ATTEMPTS
    pacing: bool = True
    # The stack's start_jobs_per_second (each of the 5 concurrent batches paces at a fifth).
    start_jobs_per_second: float = START_TPS
    # StartTranscriptionJob calls per second other applications in the account make: they use
    # the same quota, leaving START_TPS - other_tps for the pipeline.
    other_tps: float = 0.0
    upload_window: float = 10.0
    call_latency: float = 0.12
    job_median: float = 180.0
    job_sigma: float = 0.6
    duplicate_rate: float = 0.02
    drop_rate: float = 0.01
    too_long_rate: float = 0.003
    failed_job_rate: float = 0.005
    event_delay: float = 1.0
    sweep_interval: float = 900.0


@dataclass
class BurstResult:
    """What one run counted."""

    uploads: int = 0
    sqs_messages: int = 0
    jobs_started: int = 0
    duplicate_jobs: int = 0
    already_started: int = 0
    throttled_calls: int = 0
    requeued_items: int = 0
    invocation_timeouts: int = 0
    dead_lettered: int = 0
    rejected_at_start: int = 0
    transcripts: int = 0
    failure_records: int = 0
    lost: int = 0
    events_dropped: int = 0
    events_duplicated: int = 0
    harvested_by_event: int = 0
    harvested_by_sweeper: int = 0
    harvested_by_both: int = 0
    sweeps: int = 0
    max_queued_jobs: int = 0
    time_to_start_s: float = 0.0
    floor_s: float = 0.0
    ratio: float = 0.0
    time_to_drain_s: float = 0.0
    wall_s: float = 0.0
    lost_keys: list[str] = field(default_factory=list)


def _error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class Clock:
    """The simulated clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def moment(self, at: float | None = None) -> datetime:
        """The clock as the aware datetime the AWS APIs return."""
        return EPOCH + timedelta(seconds=self.now if at is None else at)


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self) -> bytes:
        return self._data


class FakeS3:
    """The output bucket as a dict of key -> (body, metadata)."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}

    def put_object(self, *, Key: str, Body: bytes, Metadata: Any = None, **_: Any) -> dict:  # noqa: N803
        self.objects[Key] = (Body, dict(Metadata or {}))
        return {}

    def head_object(self, *, Key: str, **_: Any) -> dict:  # noqa: N803
        if Key not in self.objects:
            raise _error("404", "Not Found", "HeadObject")
        return {"Metadata": dict(self.objects[Key][1])}

    def get_object(self, *, Key: str, **_: Any) -> dict:  # noqa: N803
        if Key not in self.objects:
            raise _error("NoSuchKey", "The specified key does not exist.", "GetObject")
        return {"Body": _Body(self.objects[Key][0])}

    def copy_object(self, *, Key: str, CopySource: dict, Metadata: Any, **_: Any) -> dict:  # noqa: N803
        body = self.get_object(Key=CopySource["Key"])["Body"].read()
        self.objects[Key] = (body, dict(Metadata))
        return {}

    def delete_object(self, *, Key: str, **_: Any) -> dict:  # noqa: N803
        self.objects.pop(Key, None)
        return {}


class FakeTranscribe:
    """Transcribe's batch API with its default quotas, on the simulated clock."""

    def __init__(self, clock: Clock, s3: FakeS3, scenario: Scenario, rng: random.Random) -> None:
        self.clock, self.s3, self.scenario, self.rng = clock, s3, scenario, rng
        self.jobs: dict[str, dict[str, Any]] = {}
        self.jobs_per_uri: Counter[str] = Counter()
        self.tokens = float(START_TPS)
        self.refilled_at = 0.0
        self.running = 0
        self.queued: deque[str] = deque()
        self.too_long: set[str] = set()
        self.throttled = 0
        self.last_created = 0.0
        self.max_queued = 0
        self.on_finish: Callable[[str], None] = lambda name: None
        self.schedule: Callable[[float, Callable[[], None]], None] = lambda at, action: None

    def _take_token(self) -> bool:
        now = self.clock.now
        refill = START_TPS - self.scenario.other_tps
        self.tokens = min(START_TPS, self.tokens + (now - self.refilled_at) * refill)
        self.refilled_at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def start_transcription_job(self, **request: Any) -> dict:
        op = "StartTranscriptionJob"
        if not self._take_token():
            self.throttled += 1
            code = self.rng.choice(sorted(THROTTLING_CODES))
            raise _error(code, "Rate exceeded", op)
        name, uri = request["TranscriptionJobName"], request["Media"]["MediaFileUri"]
        if uri in self.too_long:
            raise _error(
                "LimitExceededException",
                "The duration of the media exceeds the maximum of 4 hours.",
                op,
            )
        if name in self.jobs:
            raise _error("ConflictException", "The requested job name already exists.", op)
        if len(self.queued) >= MAX_QUEUED:
            raise _error("LimitExceededException", "You have too many queued jobs.", op)
        assert request["JobExecutionSettings"]["AllowDeferredExecution"]
        self.jobs[name] = {
            "TranscriptionJobName": name,
            "TranscriptionJobStatus": "QUEUED",
            "Media": {"MediaFileUri": uri},
            "CreationTime": self.clock.moment(),
            "Subtitles": {"SubtitleFileUris": [f"s3://media-out/{name}.srt"]},
        }
        self.jobs_per_uri[uri] += 1
        self.last_created = self.clock.now
        self.queued.append(name)
        self._run_queued()
        self.max_queued = max(self.max_queued, len(self.queued))
        return {"TranscriptionJob": dict(self.jobs[name])}

    def _run_queued(self) -> None:
        while self.queued and self.running < MAX_RUNNING:
            name = self.queued.popleft()
            self.running += 1
            self.jobs[name]["TranscriptionJobStatus"] = "IN_PROGRESS"
            s = self.scenario
            duration = self.rng.lognormvariate(math.log(s.job_median), s.job_sigma)
            self.schedule(self.clock.now + duration, functools.partial(self._finish, name))

    def _finish(self, name: str) -> None:
        job = self.jobs[name]
        job["CompletionTime"] = self.clock.moment()
        if self.rng.random() < self.scenario.failed_job_rate:
            job["TranscriptionJobStatus"] = "FAILED"
            job["FailureReason"] = "The media file is corrupt."
            job.pop("Subtitles")
        else:
            job["TranscriptionJobStatus"] = "COMPLETED"
            result = {"jobName": name, "status": "COMPLETED",
                      "results": {"transcripts": [{"transcript": f"words of {name}"}],
                                  "items": []}}  # fmt: skip
            self.s3.put_object(Key=f"{name}.json", Body=json.dumps(result).encode())
            self.s3.put_object(Key=f"{name}.srt", Body=b"1\n00:00:00,000 --> 00:00:01,000\nhi\n")
        self.running -= 1
        self._run_queued()
        self.on_finish(name)

    def get_transcription_job(self, *, TranscriptionJobName: str) -> dict:  # noqa: N803
        if TranscriptionJobName not in self.jobs:
            raise _error("BadRequestException", "The requested job couldn't be found", "Get")
        return {"TranscriptionJob": dict(self.jobs[TranscriptionJobName])}

    def list_transcription_jobs(
        self,
        *,
        Status: str,  # noqa: N803
        JobNameContains: str = "",  # noqa: N803
        MaxResults: int = 100,  # noqa: N803
        NextToken: str | None = None,  # noqa: N803
    ) -> dict:
        matching = [
            job
            for job in self.jobs.values()
            if job["TranscriptionJobStatus"] == Status
            and JobNameContains in job["TranscriptionJobName"]
        ]
        start = int(NextToken or 0)
        page = matching[start : start + MaxResults]
        summaries = [
            {
                key: job[key]
                for key in ("TranscriptionJobName", "CreationTime", "CompletionTime")
                if key in job
            }
            for job in page
        ]
        response: dict[str, Any] = {"TranscriptionJobSummaries": summaries}
        if start + MaxResults < len(matching):
            response["NextToken"] = str(start + MaxResults)
        return response


class SimulatedStartClient:
    """``throttling.StartClient`` on the simulated clock.

    Its retry loop is modelled here, because a wait must suspend the simulated invocation
    rather than the process; what it decides with is the real code: the environment's
    ``Pacer`` (whose sleep raises ``_Backoff``), ``is_retryable`` and ``backoff_seconds``.
    A throttled call with attempts left raises ``_Backoff`` (not a ClientError, so it passes
    through ``start_transcription``); the invocation waits and calls again.
    """

    def __init__(self, api: FakeTranscribe, rng: random.Random, max_attempts: int) -> None:
        self.api, self.rng, self.max_attempts = api, rng, max_attempts
        self.attempt = 1
        self.pacer = Pacer(None)  # the calling environment's, set before each call

    def start_transcription_job(self, **request: Any) -> dict:
        self.pacer.wait()
        try:
            return self.api.start_transcription_job(**request)
        except ClientError as error:
            if self.attempt < self.max_attempts and is_retryable(error):
                raise _Backoff(backoff_seconds(self.attempt, self.rng.random)) from error
            raise

    def get_transcription_job(self, **kwargs: Any) -> dict:
        return self.api.get_transcription_job(**kwargs)


class _Backoff(Exception):  # noqa: N818 - a signal, not an error
    def __init__(self, delay: float, *, attempt: bool = True) -> None:
        super().__init__(delay)
        self.delay, self.attempt = delay, attempt


@dataclass
class Message:
    """One SQS message: an upload's object version."""

    obj: S3Object
    receives: int = 0
    visible_at: float = 0.0


class Simulation:
    """The event loop tying uploads, queue, functions, Transcribe and the sweeper together."""

    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.rng = random.Random(scenario.seed)
        self.clock = Clock()
        self.s3 = FakeS3()
        self.api = FakeTranscribe(self.clock, self.s3, scenario, self.rng)
        self.api.schedule = self.at
        self.api.on_finish = self._job_finished
        self.client = SimulatedStartClient(self.api, self.rng, scenario.max_attempts)
        # One Pacer per execution environment; a batch takes a free environment.
        self.environments = [self._environment() for _ in range(MAX_CONCURRENT_BATCHES)]
        self.events: list[tuple[float, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.visible: deque[Message] = deque()
        self.invisible: list[tuple[float, int, Message]] = []
        self.busy = 0
        self.dlq: list[Message] = []
        self.objects: list[S3Object] = []
        self.by_event: set[str] = set()
        self.by_sweeper: set[str] = set()
        self.result = BurstResult(uploads=scenario.uploads)
        self.last_finish = 0.0

    def _environment(self) -> Pacer:
        """An execution environment's Pacer, at the stack's START_RATE_PER_SECOND: the 25 TPS
        quota shared by the event source mapping's 5 concurrent batches."""
        rate = self.s.start_jobs_per_second / MAX_CONCURRENT_BATCHES if self.s.pacing else None

        def sleep(seconds: float) -> None:
            raise _Backoff(max(seconds, 1e-6), attempt=False)

        return Pacer(rate, clock=lambda: self.clock.now, sleep=sleep)

    # --- scheduling -------------------------------------------------------------------------

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Run ``action`` at simulated time ``when``."""
        heapq.heappush(self.events, (when, next(self.seq), action))

    def _drive(self, steps: Iterator[float]) -> None:
        """Run a process: a generator yielding how long it waits before its next step."""
        try:
            delay = next(steps)
        except StopIteration:
            return
        self.at(self.clock.now + delay, lambda: self._drive(steps))

    # --- uploads and the start queue --------------------------------------------------------

    def _upload(self, index: int) -> None:
        key = f"archive/{index // 100:03d}/episode {index:05d}.mp3"
        obj = S3Object(
            bucket=SETTINGS.input_bucket, key=key, size=1_000_000, version_id=f"v{index}"
        )
        self.objects.append(obj)
        if self.rng.random() < self.s.too_long_rate:
            self.api.too_long.add(obj.uri)
        copies = 2 if self.rng.random() < self.s.duplicate_rate else 1
        for _ in range(copies):
            self.visible.append(Message(obj))
            self.result.sqs_messages += 1
        self._poll()

    def _poll(self) -> None:
        """The event source mapping: start batches while a slot and visible messages exist."""
        now = self.clock.now
        while self.invisible and self.invisible[0][0] <= now:
            self.visible.append(heapq.heappop(self.invisible)[2])
        while self.busy < MAX_CONCURRENT_BATCHES and self.visible:
            batch: list[Message] = []
            while self.visible and len(batch) < BATCH_SIZE:
                message = self.visible.popleft()
                message.receives += 1
                if message.receives > MAX_RECEIVES:
                    self.dlq.append(message)
                    continue
                message.visible_at = now + VISIBILITY_TIMEOUT
                batch.append(message)
            if batch:
                self.busy += 1
                self._drive(self._invocation(batch, self.environments.pop()))
        if self.invisible and not self.visible:
            self.at(self.invisible[0][0], self._poll)

    def _invocation(self, batch: list[Message], environment: Pacer) -> Generator[float, None, None]:
        """One start-function invocation over a batch (the real starter per record)."""
        started = self.clock.now
        failed: list[Message] = []
        for message in batch:
            attempt = 1  # per call: each execution environment has its own client
            while True:
                if self.clock.now - started >= FUNCTION_TIMEOUT:
                    # Lambda kills the invocation: the whole batch returns after its timeout.
                    self.result.invocation_timeouts += 1
                    self._return_to_queue(batch)
                    self._release(environment)
                    return
                self.client.attempt, self.client.pacer = attempt, environment
                try:
                    outcome = start_transcription(
                        message.obj, transcribe=self.client, s3=self.s3, settings=SETTINGS
                    )
                except _Backoff as backoff:
                    if backoff.attempt:  # a throttled call: it took a round trip
                        attempt += 1
                        yield self.s.call_latency + backoff.delay
                    else:  # held back by the Pacer
                        yield backoff.delay
                    continue
                except Exception as error:  # noqa: BLE001 - the batch processor reports any error
                    failed.append(message)
                    if is_retryable(error):  # start_transcription.come_back_sooner
                        delay = requeue_delay_seconds(message.receives, self.rng.random)
                        message.visible_at = self.clock.now + delay
                else:
                    if outcome.outcome.value == "already-started":
                        self.result.already_started += 1
                yield self.s.call_latency
                break
        self.result.requeued_items += len(failed)
        self._return_to_queue(failed)
        self._release(environment)

    def _release(self, environment: Pacer) -> None:
        self.busy -= 1
        self.environments.append(environment)
        self._poll()

    def _return_to_queue(self, messages: list[Message]) -> None:
        for message in messages:
            heapq.heappush(self.invisible, (message.visible_at, next(self.seq), message))
        if messages:
            self.at(self.invisible[0][0], self._poll)

    # --- completion events and the sweeper --------------------------------------------------

    def _job_finished(self, name: str) -> None:
        self.last_finish = self.clock.now
        if self.rng.random() < self.s.drop_rate:
            self.result.events_dropped += 1
            return
        copies = 2 if self.rng.random() < self.s.duplicate_rate else 1
        self.result.events_duplicated += copies - 1
        for copy in range(copies):
            self.at(
                self.clock.now + self.s.event_delay * (1 + copy),
                functools.partial(self._event, name),
            )

    def _event(self, name: str) -> None:
        outcome = harvest(name, transcribe=self.api, s3=self.s3, settings=SETTINGS)
        if outcome.outcome in {Harvest.TRANSCRIBED, Harvest.FAILED}:
            self.by_event.add(name)

    def _sweep(self) -> None:
        self.result.sweeps += 1

        def harvest_job(name: str) -> None:
            harvest(name, transcribe=self.api, s3=self.s3, settings=SETTINGS)
            self.by_sweeper.add(name)

        before = len(self.by_sweeper)
        sweep(
            transcribe=self.api,
            s3=self.s3,
            settings=SETTINGS,
            harvest_job=harvest_job,
            lookback=timedelta(hours=24),
            grace=timedelta(minutes=2),
            stuck_after=timedelta(hours=6),
            now=self.clock.moment(),
            sleep=lambda seconds: None,  # the sweep's list pacing; it runs between events here
        )
        idle = (
            not self.visible
            and not self.invisible
            and self.busy == 0
            and self.api.running == 0
            and not self.api.queued
        )
        settled = idle and self.clock.now - self.last_finish > 120
        if not (settled and len(self.by_sweeper) == before):
            self.at(self.clock.now + self.s.sweep_interval, self._sweep)

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> BurstResult:
        """Run to the end and count."""
        wall = time.perf_counter()
        for index in range(self.s.uploads):
            self.at(
                self.s.upload_window * index / self.s.uploads,
                functools.partial(self._upload, index),
            )
        self.at(self.s.sweep_interval, self._sweep)
        while self.events:
            when, _, action = heapq.heappop(self.events)
            self.clock.now = when
            action()
        self._count(time.perf_counter() - wall)
        return self.result

    def _count(self, wall: float) -> None:
        r = self.result
        r.jobs_started = len(self.api.jobs)
        r.duplicate_jobs = sum(n - 1 for n in self.api.jobs_per_uri.values() if n > 1)
        r.throttled_calls = self.api.throttled
        r.dead_lettered = len(self.dlq)
        r.harvested_by_event = len(self.by_event - self.by_sweeper)
        r.harvested_by_sweeper = len(self.by_sweeper - self.by_event)
        r.harvested_by_both = len(self.by_event & self.by_sweeper)
        r.max_queued_jobs = self.api.max_queued
        for obj in self.objects:
            transcript = transcript_key(obj.key, "txt") in self.s3.objects
            failure = failure_key(obj.key) in self.s3.objects
            r.transcripts += transcript
            r.failure_records += failure
            if not transcript and not failure:
                r.lost += 1
                r.lost_keys.append(obj.key)
        r.rejected_at_start = len(self.api.too_long)
        r.time_to_start_s = round(self.api.last_created, 1)
        available = START_TPS - self.s.other_tps
        r.floor_s = round((r.jobs_started + r.rejected_at_start) / available, 1)
        r.ratio = round(r.time_to_start_s / r.floor_s, 3) if r.floor_s else 0.0
        r.time_to_drain_s = round(self.last_finish, 1)
        r.wall_s = round(wall, 2)
        r.lost_keys = r.lost_keys[:20]


def simulate(scenario: Scenario) -> BurstResult:
    """Run one scenario."""
    return Simulation(scenario).run()


def _table(scenario: Scenario, result: BurstResult) -> Any:
    from rich.table import Table

    table = Table(title=f"Burst of {scenario.uploads:,} uploads (seed {scenario.seed}, "
                        f"{'paced' if scenario.pacing else 'unpaced'} starts at "
                        f"{scenario.start_jobs_per_second:g}/s, others {scenario.other_tps:g}/s, "
                        f"max_attempts {scenario.max_attempts})")  # fmt: skip
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal")
    goals = {"lost": "0", "duplicate_jobs": "0", "ratio": "≤ 1.1"}
    for name, value in asdict(result).items():
        if name != "lost_keys":
            table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value),
                          goals.get(name, ""))  # fmt: skip
    return table


def main(argv: list[str] | None = None) -> int:
    """Run the burst, print the table and write benchmarks/results/burst.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--uploads", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-attempts", type=int, default=START_ATTEMPTS)
    parser.add_argument(
        "--no-pacing", action="store_true", help="leave out the start function's Pacer"
    )
    parser.add_argument("--start-jobs-per-second", type=float, default=START_TPS,
                        help="the stack's start_jobs_per_second setting")  # fmt: skip
    parser.add_argument("--other-tps", type=float, default=0.0,
                        help="starts per second other applications make (same quota)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    scenario = Scenario(
        uploads=args.uploads,
        seed=args.seed,
        max_attempts=args.max_attempts,
        pacing=not args.no_pacing,
        start_jobs_per_second=args.start_jobs_per_second,
        other_tps=args.other_tps,
    )
    result = simulate(scenario)
    from rich.console import Console

    Console().print(_table(scenario, result))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps({"scenario": asdict(scenario), "result": asdict(result)}, indent=2) + "\n",
        encoding="utf-8",
    )
    ok = result.lost == 0 and result.duplicate_jobs == 0 and result.ratio <= 1.1
    return 0 if ok else GOAL_MISSED


if __name__ == "__main__":
    raise SystemExit(main())
