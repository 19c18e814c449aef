"""Starting jobs at Transcribe's rate: pacing, and retries that tell throttling from refusal."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from transcribe_pipeline.clients import error_code

# Attempts per call: the retries back off at most 1 + 2 + 4 s, well inside the function's
# 60 s timeout for a batch of 10; a call still failing after them goes back to the queue.
START_ATTEMPTS = 4
BACKOFF_CAP_SECONDS = 20.0  # botocore's cap
# A start still throttled after its attempts returns to the queue sooner than the visibility
# timeout (6 min) would bring it back: 30 s, doubling with each receive, at most 5 min.
REQUEUE_BASE_SECONDS = 30
REQUEUE_CAP_SECONDS = 300
THROTTLING_CODES = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "LimitExceededException"}
)
TRANSIENT_CODES = frozenset({"InternalFailureException", "ServiceUnavailableException"})
# LimitExceededException means both "too many requests/jobs" (retry later) and "this file is
# longer than Transcribe allows" (never succeeds); these words mark the permanent kind, unless
# the message also speaks of too many requests or jobs, as the API's generic text does.
_PERMANENT_LIMIT_WORDS = ("duration", "too long", "length of", "exceeds the maximum")
_THROTTLING_WORDS = ("too many",)


# What a botocore call raises when AWS answered with an error or could not be reached.
CALL_ERRORS = (ClientError, BotocoreConnectionError, HTTPClientError)


def is_media_too_long(error: ClientError) -> bool:
    """A LimitExceededException refusing the media itself (permanent), not throttling."""
    lowered = str(error.response.get("Error", {}).get("Message", "")).lower()
    return (
        error_code(error) == "LimitExceededException"
        and any(word in lowered for word in _PERMANENT_LIMIT_WORDS)
        and not any(word in lowered for word in _THROTTLING_WORDS)
    )


def is_retryable(error: Exception) -> bool:
    """Whether the same call may succeed if made again soon."""
    if isinstance(error, BotocoreConnectionError | HTTPClientError):
        return True
    if not isinstance(error, ClientError):
        return False
    code = error_code(error)
    if code in THROTTLING_CODES:
        return not is_media_too_long(error)
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return code in TRANSIENT_CODES or status >= 500


def backoff_seconds(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """The wait after failed attempt ``attempt`` (1-based): botocore's full-jitter backoff."""
    return rng() * min(BACKOFF_CAP_SECONDS, 2.0 ** (attempt - 1))


def requeue_delay_seconds(receive_count: int, rng: Callable[[], float] = random.random) -> int:
    """The visibility timeout for a message whose start is still throttled (half-jittered)."""
    full = min(REQUEUE_CAP_SECONDS, REQUEUE_BASE_SECONDS * 2 ** (max(receive_count, 1) - 1))
    return int(full * (0.5 + rng() / 2))


class Pacer:
    """At most ``rate`` calls per second from this execution environment.

    The stack gives each environment an equal share of the quota (quota / the event source
    mapping's maximum concurrency), so a full burst runs at the quota instead of over it and
    backing off. Calls are scheduled ``1 / rate`` apart, start to start, so a call's own
    latency counts towards the gap. ``rate`` None: no pacing.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and not rate > 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self._interval = 0.0 if rate is None else 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next_at = -float("inf")

    def wait(self) -> None:
        """Return when the next call may go out, sleeping if the last one was too recent."""
        if not self._interval:
            return
        now = self._clock()
        if now < self._next_at:
            self._sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + self._interval


class StartClient:
    """The start function's Transcribe calls: paced starts, retried only while that can help.

    botocore's retries do not fit StartTranscriptionJob: they retry every
    LimitExceededException, the permanent "file too long" one included, and adaptive mode
    then slows the whole client down. So ``client`` makes one attempt per call
    (``clients.single_attempt_client``) and this class retries what ``is_retryable`` allows,
    up to ``attempts``.
    """

    def __init__(
        self,
        client: Any,
        pacer: Pacer,
        *,
        attempts: int = START_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.client, self.pacer, self.attempts = client, pacer, attempts
        self.sleep, self.rng = sleep, rng

    def start_transcription_job(self, **request: Any) -> dict[str, Any]:
        """StartTranscriptionJob, paced: each attempt takes its turn in the Pacer."""
        return self._call(self.client.start_transcription_job, request, paced=True)

    def get_transcription_job(self, **request: Any) -> dict[str, Any]:
        """GetTranscriptionJob (a duplicate delivery's check); not under the Start quota."""
        return self._call(self.client.get_transcription_job, request, paced=False)

    def _call(
        self, operation: Callable[..., dict[str, Any]], request: dict[str, Any], *, paced: bool
    ) -> dict[str, Any]:
        attempt = 1
        while True:
            if paced:
                self.pacer.wait()
            try:
                return operation(**request)
            except CALL_ERRORS as error:
                if attempt >= self.attempts or not is_retryable(error):
                    raise
            self.sleep(backoff_seconds(attempt, self.rng))
            attempt += 1
