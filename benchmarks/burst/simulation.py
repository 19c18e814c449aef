"""The event loop tying uploads, queue, functions, Transcribe and the sweeper together."""

from __future__ import annotations

import functools
import heapq
import itertools
import random
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

from benchmarks.burst.fakes import (
    Backoff,
    Clock,
    FakeEvents,
    FakeS3,
    FakeTranscribe,
    SimulatedStartClient,
)
from benchmarks.burst.scenario import (
    LOOKBACK_SECONDS,
    MAX_CONCURRENT_BATCHES,
    SETTINGS,
    BurstResult,
    Scenario,
)
from benchmarks.burst.sweeping import SweepProcess, TimedClient, account_quotas
from benchmarks.burst.wiring import MemoryLedger, run_sweep
from transcribe_pipeline.announce import announce_pending
from transcribe_pipeline.harvest import Harvest, HarvestResult, harvest
from transcribe_pipeline.keys import S3Object
from transcribe_pipeline.layout import (
    JOB_CREATED_META,
    JOB_NAME_META,
    failure_key,
    transcript_key,
)
from transcribe_pipeline.ledger import Ledger, Version
from transcribe_pipeline.ledger_schema import OPEN_INDEX, State
from transcribe_pipeline.limits import (
    START_BATCH_SIZE,
    START_CALLS_PER_SECOND,
    START_FUNCTION_TIMEOUT_SECONDS,
    START_QUEUE_MAX_RECEIVES,
    START_QUEUE_VISIBILITY_TIMEOUT_SECONDS,
    SWEEPER_FUNCTION_TIMEOUT_SECONDS,
)
from transcribe_pipeline.starter import Outcome, Upload, start_transcription
from transcribe_pipeline.throttling import Pacer, is_retryable, requeue_delay_seconds

# What the harvests count: a job's outputs written, not a skipped duplicate or older job.
HARVESTS = frozenset({Harvest.TRANSCRIBED, Harvest.FAILED})


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
        self.s3 = FakeS3(SETTINGS.input_bucket)
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
        # Jobs whose completion event was lost: when they finished, and when the sweeper
        # harvested them.
        self.dropped: dict[str, float] = {}
        self.lost_event_delays: dict[str, float] = {}
        # The sweeper's view of the services: every call takes simulated time.
        self.sweep: SweepProcess | None = None
        quotas = account_quotas()
        self.sweep_api = TimedClient(self.api, self._running_sweep, quotas)
        self.sweep_s3 = TimedClient(self.s3, self._running_sweep, quotas)
        # One ledger table in memory (wiring.py): the functions write it through the real
        # Ledger, the sweeper reads its open items and harvests and announces through a Ledger
        # whose calls take simulated time (latency.py), as its other calls do.
        self.table = MemoryLedger()
        self.ledger = Ledger(self.table.table, self.table.client)
        self.sweep_ledger = TimedClient(self.table.client, self._running_sweep, quotas)
        self.sweep_records = Ledger(
            TimedClient(self.table.table, self._running_sweep, quotas), self.sweep_ledger
        )
        # Outcome events (no SNS topic in SETTINGS: no notices).
        self.events_api = FakeEvents()
        self.sweep_events = TimedClient(self.events_api, self._running_sweep, quotas)
        self.sequencers: dict[str, str] = {}  # S3's sequencer of each key's upload
        self.result = BurstResult(uploads=scenario.uploads)
        self.last_finish = 0.0

    def _environment(self) -> Pacer:
        """An execution environment's Pacer, at the stack's START_RATE_PER_SECOND: the 25 TPS
        quota shared by the event source mapping's 5 concurrent batches."""
        rate = self.s.start_jobs_per_second / MAX_CONCURRENT_BATCHES if self.s.pacing else None

        def sleep(seconds: float) -> None:
            raise Backoff(max(seconds, 1e-6), attempt=False)

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
        self.s3.uploads[key] = f"v{index}"
        self.sequencers[key] = f"{index + 1:X}"
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
            while self.visible and len(batch) < START_BATCH_SIZE:
                message = self.visible.popleft()
                message.receives += 1
                if message.receives > START_QUEUE_MAX_RECEIVES:
                    self.dlq.append(message)
                    continue
                message.visible_at = now + START_QUEUE_VISIBILITY_TIMEOUT_SECONDS
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
            upload = Upload(message.obj, self.sequencers[message.obj.key])
            while True:
                if self.clock.now - started >= START_FUNCTION_TIMEOUT_SECONDS:
                    # Lambda kills the invocation: the whole batch returns after its timeout.
                    self.result.invocation_timeouts += 1
                    self._return_to_queue(batch)
                    self._release(environment)
                    return
                self.client.attempt, self.client.pacer = attempt, environment
                try:
                    # A Backoff re-enters it: the model's retry loop (fakes.py) cannot suspend a
                    # call, so the upload is received again, as a duplicate event would be.
                    outcome = start_transcription(
                        upload,
                        transcribe=self.client,
                        s3=self.s3,
                        ledger=self.ledger,
                        settings=SETTINGS,
                        now=self.clock.moment(),
                    )
                except Backoff as backoff:
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
                    if outcome.outcome is Outcome.ALREADY_STARTED:
                        self.result.already_started += 1
                    elif outcome.outcome is Outcome.ALREADY_HANDLED:
                        self.result.already_handled += 1
                    if outcome.version is not None and outcome.version.state is State.REJECTED:
                        # As the start function's record handler: a rejection's outcome event.
                        self._announce(outcome.version, self.ledger, self.events_api)
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
            self.dropped[name] = self.clock.now
            return
        copies = 2 if self.rng.random() < self.s.duplicate_rate else 1
        self.result.events_duplicated += copies - 1
        for copy in range(copies):
            self.at(
                self.clock.now + self.s.event_delay * (1 + copy),
                functools.partial(self._event, name),
            )

    def _event(self, name: str) -> None:
        outcome = self._harvest_and_announce(name, self.api, self.s3, self.ledger, self.events_api)
        if outcome.outcome in HARVESTS:
            self.by_event.add(name)

    def _harvest_and_announce(
        self, name: str, transcribe: object, s3: object, ledger: Ledger, events: object
    ) -> HarvestResult:
        """What ``harvest_and_notify`` does for both job-state functions, on the simulated
        clock (it takes no ``now``): the real ``harvest``, then its version's announcements."""
        outcome = harvest(name, transcribe=transcribe, s3=s3, ledger=ledger, settings=SETTINGS,
                          now=self.clock.moment())  # fmt: skip
        if outcome.version is not None:
            self._announce(outcome.version, ledger, events)
        return outcome

    def _announce(self, version: Version, ledger: Ledger, events: object) -> None:
        announce_pending(version, ledger=ledger, sns=None, events=events, settings=SETTINGS,
                         now=self.clock.moment())  # fmt: skip

    def announce_by_sweeper(self, item: dict) -> None:
        """The sweeper's announcer (lambda/sweeper.py's), through the sweep's timed clients."""
        self._announce(Version(item), self.sweep_records, self.sweep_events)

    def harvest_by_sweeper(self, name: str) -> HarvestResult:
        """The sweeper's harvest: the real ``harvest`` through the sweep's timed clients."""
        outcome = self._harvest_and_announce(
            name, self.sweep_api, self.sweep_s3, self.sweep_records, self.sweep_events
        )
        if outcome.outcome in HARVESTS:
            self.by_sweeper.add(name)
            if name in self.dropped:
                self.lost_event_delays[name] = self.clock.now - self.dropped[name]
        return outcome

    def _running_sweep(self) -> SweepProcess:
        if self.sweep is None:
            raise RuntimeError("A sweeper client was called outside a sweep")
        return self.sweep

    def _sweep(self) -> None:
        self.result.sweeps += 1
        self.sweep = SweepProcess(
            now=lambda: self.clock.now,
            schedule=self.at,
            timeout=SWEEPER_FUNCTION_TIMEOUT_SECONDS,
            body=functools.partial(run_sweep, self),
            on_end=functools.partial(self._sweep_ended, len(self.by_sweeper)),
        )
        self.sweep.start()

    def _sweep_ended(self, harvested_before: int, sweep: SweepProcess) -> None:
        r = self.result
        r.longest_sweep_s = max(r.longest_sweep_s, round(sweep.duration, 1))
        r.sweeps_timed_out += sweep.timed_out
        r.most_calls_in_a_sweep = max(r.most_calls_in_a_sweep, sweep.calls)
        idle = (
            not self.visible
            and not self.invisible
            and self.busy == 0
            and self.api.running == 0
            and not self.api.queued
        )
        settled = idle and self.clock.now - self.last_finish > 120
        if not (settled and len(self.by_sweeper) == harvested_before):
            # EventBridge's schedule fires every interval, whatever the last sweep did; the
            # function's timeout (10 min) is shorter than the interval, so sweeps never overlap.
            self.at(sweep.started + self.s.sweep_interval, self._sweep)

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> BurstResult:
        """Run to the end and count."""
        wall = time.perf_counter()
        for index in range(self.s.uploads):
            self.at(
                self.s.upload_window * index / self.s.uploads,
                functools.partial(self._upload, index),
            )
        for name, key in self.api.add_history(self.s.finished_in_lookback, within=LOOKBACK_SECONDS):
            job = self.api.jobs[name]
            metadata = {JOB_NAME_META: name, JOB_CREATED_META: job["CreationTime"].isoformat()}
            self.s3.put_object(Key=transcript_key(key, "txt"), Body=b"", Metadata=metadata)
        self.at(self.s.sweep_interval, self._sweep)
        while self.events:
            when, _, action = heapq.heappop(self.events)
            self.clock.now = when
            action()
        self._count(time.perf_counter() - wall)
        return self.result

    def _count(self, wall: float) -> None:
        r = self.result
        r.jobs_started = len(self.api.jobs) - self.api.history
        r.duplicate_jobs = sum(n - 1 for n in self.api.jobs_per_uri.values() if n > 1)
        r.throttled_calls = self.api.throttled
        r.dead_lettered = len(self.dlq)
        r.harvested_by_event = len(self.by_event - self.by_sweeper)
        r.harvested_by_sweeper = len(self.by_sweeper - self.by_event)
        r.harvested_by_both = len(self.by_event & self.by_sweeper)
        r.max_queued_jobs = self.api.max_queued
        r.outcome_events = sum(self.events_api.put.values())
        r.duplicate_outcome_events = sum(n - 1 for n in self.events_api.put.values())
        r.open_items_left = len(self.table.members[OPEN_INDEX])
        r.lost_events_unharvested = len(self.dropped) - len(self.lost_event_delays)
        r.lost_event_max_delay_s = (
            None
            if r.lost_events_unharvested
            else round(max(self.lost_event_delays.values(), default=0.0), 1)
        )
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
        available = START_CALLS_PER_SECOND - self.s.other_tps
        r.floor_s = round((r.jobs_started + r.rejected_at_start) / available, 1)
        r.ratio = round(r.time_to_start_s / r.floor_s, 3) if r.floor_s else 0.0
        r.time_to_drain_s = round(self.last_finish, 1)
        r.wall_s = round(wall, 2)
        r.lost_keys = r.lost_keys[:20]


def simulate(scenario: Scenario) -> BurstResult:
    """Run one scenario."""
    return Simulation(scenario).run()
