"""In-memory S3 and Transcribe on a simulated clock, and the start client's retry loop."""

from __future__ import annotations

import functools
import itertools
import json
import math
import random
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from benchmarks.burst.scenario import Scenario
from transcribe_pipeline.limits import (
    MAX_CONCURRENT_JOBS,
    MAX_QUEUED_JOBS,
    START_CALLS_PER_SECOND,
)
from transcribe_pipeline.throttling import Pacer, backoff_seconds, is_retryable

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
THROTTLING_CODES = {"LimitExceededException", "ThrottlingException"}


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
    """The output bucket as a dict of key -> (body, metadata); the input bucket's current
    version ids (what the start function's HeadObject reads)."""

    def __init__(self, input_bucket: str) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.input_bucket = input_bucket
        self.uploads: dict[str, str] = {}  # key -> current version id

    def put_object(self, *, Key: str, Body: bytes, Metadata: Any = None, **_: Any) -> dict:  # noqa: N803
        self.objects[Key] = (Body, dict(Metadata or {}))
        return {}

    def head_object(self, *, Bucket: str, Key: str, **_: Any) -> dict:  # noqa: N803
        if Bucket == self.input_bucket:
            if Key not in self.uploads:
                raise _error("404", "Not Found", "HeadObject")
            return {"VersionId": self.uploads[Key], "Metadata": {}}
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


class FakeEvents:
    """EventBridge's PutEvents: every outcome event put, by source key and sequencer."""

    def __init__(self) -> None:
        self.put: Counter[tuple[str, str]] = Counter()

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict:  # noqa: N803
        for entry in Entries:
            detail = json.loads(entry["Detail"])
            self.put[(detail["key"], detail["sequencer"])] += 1
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}


class FakeTranscribe:
    """Transcribe's batch API with its default quotas, on the simulated clock."""

    def __init__(self, clock: Clock, s3: FakeS3, scenario: Scenario, rng: random.Random) -> None:
        self.clock, self.s3, self.scenario, self.rng = clock, s3, scenario, rng
        self.jobs: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []  # job names in the order they were created
        self.history = 0  # jobs that finished before the burst (add_history)
        self._listings: dict[int, list[str]] = {}
        self._listing_ids = itertools.count()
        self.jobs_per_uri: Counter[str] = Counter()
        self.tokens = float(START_CALLS_PER_SECOND)
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
        refill = START_CALLS_PER_SECOND - self.scenario.other_tps
        self.tokens = min(START_CALLS_PER_SECOND, self.tokens + (now - self.refilled_at) * refill)
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
        if len(self.queued) >= MAX_QUEUED_JOBS:
            raise _error("LimitExceededException", "You have too many queued jobs.", op)
        assert request["JobExecutionSettings"]["AllowDeferredExecution"]
        self.jobs[name] = {
            "TranscriptionJobName": name,
            "TranscriptionJobStatus": "QUEUED",
            "Media": {"MediaFileUri": uri},
            "CreationTime": self.clock.moment(),
            "Subtitles": {"SubtitleFileUris": [f"s3://media-out/{name}.srt"]},
        }
        self.order.append(name)
        self.jobs_per_uri[uri] += 1
        self.last_created = self.clock.now
        self.queued.append(name)
        self._run_queued()
        self.max_queued = max(self.max_queued, len(self.queued))
        return {"TranscriptionJob": dict(self.jobs[name])}

    def _run_queued(self) -> None:
        while self.queued and self.running < MAX_CONCURRENT_JOBS:
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
        Status: str | None = None,  # noqa: N803
        JobNameContains: str = "",  # noqa: N803
        MaxResults: int = 5,  # noqa: N803
        NextToken: str | None = None,  # noqa: N803
    ) -> dict:
        """Newest first, as the service lists; a listing is a snapshot taken at its first page."""
        if NextToken is None:
            contains = JobNameContains.lower()  # the service matches it case-insensitively
            listing = next(self._listing_ids)
            self._listings[listing] = [
                name
                for name in reversed(self.order)
                if (Status is None or self.jobs[name]["TranscriptionJobStatus"] == Status)
                and contains in name.lower()
            ]
            start = 0
        else:
            listing_text, start_text = NextToken.split(":")
            listing, start = int(listing_text), int(start_text)
        matching = self._listings[listing]
        summaries = [
            {key: self.jobs[name][key] for key in _SUMMARY_FIELDS if key in self.jobs[name]}
            for name in matching[start : start + MaxResults]
        ]
        response: dict[str, Any] = {"TranscriptionJobSummaries": summaries}
        if start + MaxResults < len(matching):
            response["NextToken"] = f"{listing}:{start + MaxResults}"
        else:
            del self._listings[listing]
        return response

    def add_history(self, count: int, *, within: float) -> list[tuple[str, str]]:
        """``count`` jobs of this pipeline that finished within ``within`` s before the burst.

        They are listed like the burst's jobs (older, so after them). Returns each job's name
        and source key; the caller writes their outputs.
        """
        # Its own random stream: the burst's draws stay the same whatever the history's size.
        rng = random.Random(self.scenario.seed)
        finished = sorted(rng.uniform(-within, 0.0) for _ in range(count))
        made = []
        self.history += count
        for index, at in enumerate(finished):
            name, key = f"tp-history-{index:06d}", f"history/{index:06d}.mp3"
            self.jobs[name] = {
                "TranscriptionJobName": name,
                "TranscriptionJobStatus": "COMPLETED",
                "Media": {"MediaFileUri": f"s3://media-in/{key}"},
                "CreationTime": self.clock.moment(at - self.scenario.job_median),
                "CompletionTime": self.clock.moment(at),
            }
            self.order.append(name)
            made.append((name, key))
        return made


_SUMMARY_FIELDS = ("TranscriptionJobName", "TranscriptionJobStatus", "CreationTime",
                   "CompletionTime")  # fmt: skip


class SimulatedStartClient:
    """``throttling.StartClient`` on the simulated clock.

    Its retry loop is modelled here, because a wait must suspend the simulated invocation
    rather than the process; what it decides with is the real code: the environment's
    ``Pacer`` (whose sleep raises ``Backoff``), ``is_retryable`` and ``backoff_seconds``.
    A throttled call with attempts left raises ``Backoff`` (not a ClientError, so it passes
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
                raise Backoff(backoff_seconds(self.attempt, self.rng.random)) from error
            raise

    def get_transcription_job(self, **kwargs: Any) -> dict:
        return self.api.get_transcription_job(**kwargs)


class Backoff(Exception):  # noqa: N818 - a signal, not an error
    def __init__(self, delay: float, *, attempt: bool = True) -> None:
        super().__init__(delay)
        self.delay, self.attempt = delay, attempt
