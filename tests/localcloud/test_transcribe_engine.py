"""The local Transcribe's worker pool, with recognizers that only record what they are asked."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from localcloud.transcribe import engine
from localcloud.transcribe.jobs import Job, JobTable
from localcloud.transcribe.options import TranscribeOptions
from localcloud.transcribe.recognizer import RecognizerError
from tests.localcloud.support import wait_for


class _RecordingRecognizer:
    """A recognizer that never recognizes: it counts the warm() calls it gets."""

    def __init__(self, opened: list[_RecordingRecognizer], lock: threading.Lock) -> None:
        self.warmed = 0
        with lock:
            opened.append(self)

    def transcribe(self, media: bytes, request: Any, timeout: float) -> Any:
        raise RecognizerError("not used by these tests")

    def warm(self) -> None:
        self.warmed += 1

    def close(self) -> None:
        """Nothing to release."""


def _job(name: str) -> Job:
    # Not in any job table: a worker that takes it drops it (as a job deleted while queued).
    return Job("123456789012", "us-east-1", name, {}, "bucket", "key.wav", 1, datetime.now(UTC))


@pytest.fixture
def recorders(monkeypatch: pytest.MonkeyPatch) -> list[_RecordingRecognizer]:
    opened: list[_RecordingRecognizer] = []
    lock = threading.Lock()
    monkeypatch.setattr(engine, "open_recognizer", lambda _: _RecordingRecognizer(opened, lock))
    return opened


def test_the_first_job_warms_every_workers_recognizer_once(
    recorders: list[_RecordingRecognizer],
) -> None:
    pool = engine.WorkerPool(TranscribeOptions(concurrency=3), JobTable(10, 10))
    pool.start()
    try:
        wait_for(lambda: len(recorders) == 3)
        assert [r.warmed for r in recorders] == [0, 0, 0]

        pool.submit(_job("first"))
        pool.submit(_job("second"))

        assert [r.warmed for r in recorders] == [1, 1, 1]
    finally:
        pool.shutdown()
