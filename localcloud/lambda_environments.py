"""Warm execution environments for the local cloud's Python functions.

Lambda runs invocations in execution environments that it keeps after an invocation and
reuses for the next one of the same function version and configuration: only the first
invocation of an environment pays for the runtime's start and the function's init (a cold
start); module-level state, /tmp and background processes carry over; a runtime that exits
(a timeout, a crash, a failed init) is discarded (docs/lambda-execution-environment.md).

Here an environment is one `python_bootstrap.py --serve` process. `Pool.acquire` hands out an
idle environment of the same configuration (`config_key`) or starts a new one; an environment
serves one invocation at a time; `Pool.release` keeps it for the next, up to `IDLE_SECONDS`
idle and `MAX_IDLE` idle environments in all (the oldest go first: memory is a laptop's).
Each environment writes to its own log stream, as on Lambda.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

# How long an idle environment is kept, and how many are kept in all. Lambda keeps them for
# an unpublished time; these bound the memory the local cloud holds (~60 MB each).
IDLE_SECONDS = 300.0
MAX_IDLE = 12


@dataclass
class Outcome:
    """How an invocation in an environment ended."""

    answered: bool  # the runtime said "done" (the result file is written)
    timed_out: bool  # the backstop timeout passed: the environment was killed
    returncode: int | None  # the exit status when the runtime exited instead of answering


@dataclass(eq=False)
class Environment:
    """One runtime process serving invocations of one function configuration."""

    key: Hashable
    process: subprocess.Popen[bytes]
    commands: IO[bytes]
    answers: IO[bytes]
    stream: str
    invocations: int = 0
    idle_since: float = field(default_factory=time.monotonic)

    def invoke(self, command: dict[str, str], *, timeout: float) -> Outcome:
        """Send one invocation and wait for its answer (at most ``timeout`` seconds)."""
        self.invocations += 1
        try:
            self.commands.write(json.dumps(command).encode() + b"\n")
            self.commands.flush()
        except OSError:  # the runtime is gone (broken pipe)
            return Outcome(False, False, self.process.wait())
        ready, _, _ = select.select([self.answers], [], [], timeout)
        if not ready:
            return Outcome(False, True, None)
        line = self.answers.readline()
        if line.strip() == b"done":
            return Outcome(True, False, None)
        return Outcome(False, False, self.process.wait())

    def alive(self) -> bool:
        """Whether the runtime process still runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the runtime and every process it started; close the pipes."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for pipe in (self.commands, self.answers):
            with contextlib.suppress(OSError):
                pipe.close()


def start_environment(
    key: Hashable, command: list[str], env: dict[str, str], cwd: Path, stream: str
) -> Environment:
    """Start a runtime in serve mode; ``command`` ends where the bootstrap's arguments go."""
    command_read, command_write = os.pipe()
    answer_read, answer_write = os.pipe()
    try:
        process = subprocess.Popen(
            [*command[:3], "--serve", str(command_read), str(answer_write), *command[3:]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            pass_fds=(command_read, answer_write),
            # A new session so the whole tree (the handler may start children) can be killed.
            start_new_session=True,
        )
    finally:
        os.close(command_read)
        os.close(answer_write)
    return Environment(
        key, process, os.fdopen(command_write, "wb"), os.fdopen(answer_read, "rb"), stream
    )


class Pool:
    """Idle environments by configuration, and every environment alive (for shutdown)."""

    def __init__(self, *, idle_seconds: float = IDLE_SECONDS, max_idle: int = MAX_IDLE) -> None:
        self.idle_seconds = idle_seconds
        self.max_idle = max_idle
        self._idle: list[Environment] = []  # oldest first
        self._all: set[Environment] = set()
        self._lock = threading.Lock()

    def acquire(self, key: Hashable, start: Callable[[], Environment]) -> Environment:
        """A warm environment of ``key`` (the most recently used), or a new one from ``start``."""
        self.reap()
        with self._lock:
            for index in range(len(self._idle) - 1, -1, -1):
                candidate = self._idle[index]
                if candidate.key == key:
                    del self._idle[index]
                    if candidate.alive():
                        return candidate
                    self._all.discard(candidate)
                    break
        environment = start()
        with self._lock:
            self._all.add(environment)
        return environment

    def release(self, environment: Environment) -> None:
        """Keep a runtime that answered for the next invocation of its configuration."""
        if not environment.alive():
            self.discard(environment)
            return
        environment.idle_since = time.monotonic()
        with self._lock:
            self._idle.append(environment)
            surplus = self._idle[: max(0, len(self._idle) - self.max_idle)]
            del self._idle[: len(surplus)]
        for old in surplus:
            self.discard(old)

    def discard(self, environment: Environment) -> None:
        """Kill an environment for good (a timeout, a crash, a failed init, too many idle)."""
        with self._lock:
            self._all.discard(environment)
            if environment in self._idle:
                self._idle.remove(environment)
        environment.kill()

    def reap(self) -> None:
        """Discard environments idle for longer than ``idle_seconds``."""
        cutoff = time.monotonic() - self.idle_seconds
        with self._lock:
            expired = [e for e in self._idle if e.idle_since < cutoff]
        for environment in expired:
            self.discard(environment)

    def idle_count(self, key: Hashable | None = None) -> int:
        """How many environments wait idle (of ``key``, or all)."""
        with self._lock:
            return sum(key is None or e.key == key for e in self._idle)

    def shutdown(self) -> None:
        """Kill every environment, idle or busy."""
        with self._lock:
            environments = list(self._all)
            self._all.clear()
            self._idle.clear()
        for environment in environments:
            environment.kill()
