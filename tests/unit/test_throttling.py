"""Pacing and retrying StartTranscriptionJob: what is retried, how often, and how fast."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from transcribe_pipeline.throttling import (
    BACKOFF_CAP_SECONDS,
    START_ATTEMPTS,
    Pacer,
    StartClient,
    backoff_seconds,
    is_retryable,
    requeue_delay_seconds,
)

URL = "https://transcribe.us-east-1.amazonaws.com"


def client_error(code: str, message: str = "", status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "StartTranscriptionJob",
    )


class FakeClock:
    """A clock that only moves when slept on (or told to)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_pacer_spaces_calls_one_over_the_rate_apart():
    clock = FakeClock()
    pacer = Pacer(5, clock=lambda: clock.now, sleep=clock.sleep)

    starts = []
    for _ in range(4):
        pacer.wait()
        starts.append(clock.now)

    assert starts == pytest.approx([100.0, 100.2, 100.4, 100.6])


def test_a_pacer_counts_the_calls_own_latency_towards_the_gap():
    clock = FakeClock()
    pacer = Pacer(5, clock=lambda: clock.now, sleep=clock.sleep)

    pacer.wait()
    clock.now += 0.15  # the call took 150 ms
    pacer.wait()
    clock.now += 0.5  # a slow call: the next one may go at once
    pacer.wait()

    assert clock.slept == pytest.approx([0.05])


def test_no_rate_means_no_waiting():
    clock = FakeClock()
    pacer = Pacer(None, clock=lambda: clock.now, sleep=clock.sleep)

    for _ in range(100):
        pacer.wait()

    assert clock.slept == []


@pytest.mark.parametrize("rate", [0, -1.0, float("nan")])
def test_a_pacer_refuses_a_rate_that_is_not_positive(rate):
    with pytest.raises(ValueError, match="positive"):
        Pacer(rate)


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException", "Rate exceeded"),
        client_error("TooManyRequestsException"),
        client_error("LimitExceededException", "You have too many jobs running at the same time."),
        client_error(
            "LimitExceededException",
            "You've either sent too many requests or your input file is too long. Wait before "
            "retrying your request, or use a smaller file and try your request again.",
        ),
        client_error("InternalFailureException", "We can't process your request."),
        client_error("SomethingNew", "Service unavailable", status=503),
        EndpointConnectionError(endpoint_url=URL),
        ReadTimeoutError(endpoint_url=URL),
    ],
    ids=[
        "throttling",
        "too many requests",
        "too many jobs",
        "generic limit text",
        "internal failure",
        "HTTP 503",
        "unreachable",
        "read timeout",
    ],
)
def test_what_may_succeed_if_made_again_is_retryable(error):
    assert is_retryable(error)


@pytest.mark.parametrize(
    "error",
    [
        client_error("LimitExceededException", "Your input file is too long."),
        client_error(
            "LimitExceededException", "The duration of the media exceeds the maximum of 4 hours."
        ),
        client_error("BadRequestException", "The vocabulary couldn't be found."),
        client_error("ConflictException", "The requested job name already exists."),
        ValueError("not an AWS error"),
    ],
    ids=["too long", "duration", "bad request", "conflict", "not an AWS error"],
)
def test_what_can_never_succeed_is_not_retryable(error):
    assert not is_retryable(error)


def test_backoff_is_full_jitter_doubling_up_to_the_cap():
    assert [backoff_seconds(n, rng=lambda: 1.0) for n in (1, 2, 3, 4, 10)] == [
        1.0, 2.0, 4.0, 8.0, BACKOFF_CAP_SECONDS
    ]  # fmt: skip
    assert backoff_seconds(3, rng=lambda: 0.25) == 1.0


class ScriptedTranscribe:
    """A Transcribe client answering from a script: an exception to raise or a reply."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.starts = 0
        self.gets = 0

    def _answer(self) -> dict[str, Any]:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)

    def start_transcription_job(self, **request: Any) -> dict[str, Any]:
        self.starts += 1
        return self._answer()

    def get_transcription_job(self, **request: Any) -> dict[str, Any]:
        self.gets += 1
        return self._answer()


def start_client(transcribe: ScriptedTranscribe, clock: FakeClock, rate: float | None = None):
    pacer = Pacer(rate, clock=lambda: clock.now, sleep=clock.sleep)
    return StartClient(transcribe, pacer, sleep=clock.sleep, rng=lambda: 0.5)


def test_a_throttled_start_is_made_again_after_backing_off():
    clock = FakeClock()
    transcribe = ScriptedTranscribe(
        client_error("ThrottlingException"), client_error("ThrottlingException"), {"ok": 1}
    )

    reply = start_client(transcribe, clock).start_transcription_job(TranscriptionJobName="j")

    assert reply == {"ok": 1}
    assert transcribe.starts == 3
    assert clock.slept == [0.5, 1.0]


def test_a_start_still_throttled_after_every_attempt_raises_for_the_queue_to_retry():
    clock = FakeClock()
    transcribe = ScriptedTranscribe(*[client_error("ThrottlingException")] * START_ATTEMPTS)

    with pytest.raises(ClientError, match="ThrottlingException"):
        start_client(transcribe, clock).start_transcription_job(TranscriptionJobName="j")

    assert transcribe.starts == START_ATTEMPTS
    assert transcribe.answers == []


def test_media_too_long_is_raised_at_once_without_a_retry():
    clock = FakeClock()
    transcribe = ScriptedTranscribe(
        client_error("LimitExceededException", "Your input file is too long.")
    )

    with pytest.raises(ClientError, match="too long"):
        start_client(transcribe, clock).start_transcription_job(TranscriptionJobName="j")

    assert (transcribe.starts, clock.slept) == (1, [])


def test_every_start_attempt_takes_its_turn_in_the_pacer_but_gets_do_not():
    clock = FakeClock()
    transcribe = ScriptedTranscribe({"a": 1}, client_error("ThrottlingException"), {"b": 2},
                                    {"job": 1}, {"job": 2})  # fmt: skip
    client = start_client(transcribe, clock, rate=2)

    client.start_transcription_job(TranscriptionJobName="a")
    client.start_transcription_job(TranscriptionJobName="b")  # throttled once, then paced again
    client.get_transcription_job(TranscriptionJobName="a")
    client.get_transcription_job(TranscriptionJobName="b")

    # 0.5 s between the first and the throttled call; the backoff (0.5 s) already spaces the
    # retry; the gets wait for nothing
    assert clock.slept == [0.5, 0.5]
    assert (transcribe.starts, transcribe.gets) == (3, 2)


def test_a_throttled_message_comes_back_after_30_s_doubling_per_receive_up_to_5_min():
    full = [requeue_delay_seconds(n, rng=lambda: 1.0) for n in (1, 2, 3, 4, 5, 6, 10)]
    least = [requeue_delay_seconds(n, rng=lambda: 0.0) for n in (1, 2, 3, 4, 5, 6, 10)]

    assert full == [30, 60, 120, 240, 300, 300, 300]
    assert least == [15, 30, 60, 120, 150, 150, 150]
    assert requeue_delay_seconds(0, rng=lambda: 1.0) == 30  # a missing count reads as the first
