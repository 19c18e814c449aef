"""Sweeps that take simulated time: one sweeper invocation runs beside the event loop.

The sweeper is real, synchronous code. It runs in a thread that hands control back and forth
with the event loop (only one of them runs at a time, so the run stays deterministic): every
call it makes through a ``TimedClient`` waits for its quota and its latency
(benchmarks/burst/latency.py) on the simulated clock, while uploads, jobs and events go on.
When the function's timeout comes, the waiting call raises ``SweepTimeout`` and the
invocation ends where it was, as Lambda ends it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from benchmarks.burst.latency import CALL_SECONDS, CALLS_PER_SECOND, operation_name


class SweepTimeout(BaseException):
    """The function's timeout came: not an ``Exception``, so the sweeper's handlers let it by."""


class RateQuota:
    """A token bucket of ``rate`` calls per second, holding at most one second's calls."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.refilled_at = 0.0

    def delay(self, now: float) -> float:
        """Seconds a call made at ``now`` waits for its turn (calls already waiting go first)."""
        self.tokens = min(self.rate, self.tokens + (now - self.refilled_at) * self.rate)
        self.refilled_at = now
        self.tokens -= 1  # below zero: the calls waiting for tokens not yet refilled
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class SweepProcess:
    """One sweeper invocation on the simulated clock, from its start to its end or timeout."""

    def __init__(
        self,
        *,
        now: Callable[[], float],
        schedule: Callable[[float, Callable[[], None]], None],
        timeout: float,
        body: Callable[[SweepProcess], object],
        on_end: Callable[[SweepProcess], None],
    ) -> None:
        self.now, self.schedule, self.body, self.on_end = now, schedule, body, on_end
        self.started = now()
        self.deadline = self.started + timeout
        self.ended = self.started
        self.timed_out = False
        self.result: object = None
        self.calls = 0
        self._error: BaseException | None = None
        self._finished = False
        self._wake_at = self.started
        self._go = threading.Semaphore(0)
        self._back = threading.Semaphore(0)
        self._thread = threading.Thread(target=self._run, name="sweep", daemon=True)

    @property
    def duration(self) -> float:
        """Simulated seconds from the invocation's start to its end."""
        return self.ended - self.started

    def start(self) -> None:
        """Begin the invocation (from the event loop)."""
        self._thread.start()
        self._back.acquire()
        self._handed_back()

    def remaining_ms(self) -> int:
        """What ``context.get_remaining_time_in_millis()`` answers."""
        return max(0, int((self.deadline - self.now()) * 1000))

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass (from the sweep's thread)."""
        wake = self.now() + seconds
        killed = wake >= self.deadline
        self._wake_at = min(wake, self.deadline)
        self._back.release()
        self._go.acquire()
        if killed:
            raise SweepTimeout

    def _run(self) -> None:
        try:
            self.result = self.body(self)
        except SweepTimeout:
            self.timed_out = True
        except BaseException as error:  # noqa: BLE001 - handed to the event loop, which raises it
            self._error = error
        self.ended = self.now()
        self._finished = True
        self._back.release()

    def _handed_back(self) -> None:
        if not self._finished:
            self.schedule(self._wake_at, self._resume)
            return
        self._thread.join()
        if self._error is not None:
            raise self._error
        self.on_end(self)

    def _resume(self) -> None:
        self._go.release()
        self._back.acquire()
        self._handed_back()


class TimedClient:
    """A client whose every call waits for its quota, then its latency, in a sweep's time."""

    def __init__(
        self, client: Any, process: Callable[[], SweepProcess], quotas: dict[str, RateQuota]
    ) -> None:
        self._client, self._process, self._quotas = client, process, quotas

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method):
            return method  # an attribute (a table's ``name``, ``meta``), not a call
        operation = operation_name(name)
        latency = CALL_SECONDS[operation]  # a KeyError names a call the model has no figure for

        def call(**kwargs: Any) -> Any:
            process = self._process()
            quota = self._quotas.get(operation)
            process.calls += 1
            process.wait((quota.delay(process.now()) if quota else 0.0) + latency)
            return method(**kwargs)

        return call


def account_quotas() -> dict[str, RateQuota]:
    """The account's request-rate quotas of the calls the model paces."""
    return {operation: RateQuota(rate) for operation, rate in CALLS_PER_SECOND.items()}
