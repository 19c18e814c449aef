"""The local cloud's background work: one thread pool and the timers of delayed retries.

Lambda's asynchronous invocations (``lambda_invoke``) and EventBridge's deliveries to Lambda
targets and their retries (``event_targets``) run here, off the request thread that caused
them, as AWS runs them after answering the request. ``shutdown()`` cancels every pending retry
and closes the pool, so nothing fires once the local cloud stops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

_WORKERS = 8


@dataclass
class _State:
    executor: ThreadPoolExecutor | None = None
    timers: set[threading.Timer] = field(default_factory=set)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


_state = _State()


def start() -> None:
    """Open the pool (idempotent; after shutdown() it opens a new one)."""
    with _state.lock:
        _state.stopping.clear()
        if _state.executor is None:
            _state.executor = ThreadPoolExecutor(
                max_workers=_WORKERS, thread_name_prefix="lambda-async"
            )


def shutdown() -> None:
    """Cancel pending retries and close the pool (work already running is not waited for)."""
    _state.stopping.set()
    with _state.lock:
        timers = list(_state.timers)
        _state.timers.clear()
        executor = _state.executor
        _state.executor = None
    for timer in timers:
        timer.cancel()
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)


def run_in_background(action: Callable[[], None], description: str = "background task") -> None:
    """Run a callable on the local cloud's pool; a failure is logged, never lost."""
    with _state.lock:
        executor = _state.executor
    if executor is None or _state.stopping.is_set():
        logger.warning("Local cloud is stopping: dropped %s", description)
        return
    executor.submit(_guarded, action, description)


def _guarded(action: Callable[[], None], description: str) -> None:
    try:
        action()
    except Exception:  # a bug here must not vanish silently inside the thread pool
        logger.exception("%s failed", description)
        raise


def run_later(delay: float, action: Callable[[], None]) -> None:
    """Call `action` on a timer thread after `delay` seconds, unless shutdown() comes first."""

    def fire() -> None:
        with _state.lock:
            _state.timers.discard(timer)
        action()

    timer = threading.Timer(delay, fire)
    timer.daemon = True
    with _state.lock:
        _state.timers.add(timer)
    timer.start()
