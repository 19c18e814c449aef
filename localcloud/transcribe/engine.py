"""The engine: a pool of workers that take QUEUED jobs in order and run each to its end.

A worker moves its job to IN_PROGRESS, then: the language (the local engine has en-US only),
the media read from S3 (gone since the start, or over 2 GB: FAILED), decoding and recognition
through the worker's own recognizer (`recognizer.open_recognizer`), the detected container
checked against MediaFormat, the minimum duration, and finally the result files
(`results.write_results`). The job ends COMPLETED or FAILED with a FailureReason, and its
"Transcribe Job State Change" event is put (`events.emit_state_change`).
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import replace

from localcloud.languages import UnsupportedLanguageError, language_request
from localcloud.transcribe import s3
from localcloud.transcribe.errors import MEDIA_ACCESS_MESSAGE
from localcloud.transcribe.events import emit_state_change
from localcloud.transcribe.jobs import Job, JobTable, Outcome
from localcloud.transcribe.options import TranscribeOptions
from localcloud.transcribe.recognizer import (
    MediaError,
    RecognizerError,
    SpeechRecognizer,
    open_recognizer,
)
from localcloud.transcribe.results import write_results

LOG = logging.getLogger(__name__)

# The real limits (docs/transcribe-api.md, "Media").
MAX_MEDIA_BYTES = 2 * 1024**3
SUPPORTED_FORMATS = ("mp3", "mp4", "wav", "flac", "ogg", "amr", "webm", "m4a")
# FFmpeg demuxer name -> the MediaFormat values it can carry.
CONTAINER_FORMATS: dict[str, tuple[str, ...]] = {
    "mp3": ("mp3",),
    "wav": ("wav",),
    "flac": ("flac",),
    "ogg": ("ogg",),
    "amr": ("amr",),
    "amrnb": ("amr",),
    "amrwb": ("amr",),
    "matroska,webm": ("webm",),
    "mov,mp4,m4a,3gp,3g2,mj2": ("mp4", "m4a"),
}


class WorkerPool:
    """`options.concurrency` worker threads, each with its own recognizer, on one job queue."""

    def __init__(self, options: TranscribeOptions, jobs: JobTable) -> None:
        self._options = options
        self._jobs = jobs
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()  # guards _recognizers
        self._recognizers: list[SpeechRecognizer] = []
        self._workers: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._warmed = False

    def start(self) -> None:
        """Start the worker threads."""
        for n in range(self._options.concurrency):
            worker = threading.Thread(target=self._work, name=f"transcribe-worker-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def submit(self, job: Job) -> None:
        """Queue a job; workers take jobs in the order they were submitted.

        The first job warms every worker's recognizer: the others load their model while it
        runs, instead of when a job is already waiting for them.
        """
        self._queue.put(job)
        with self._lock:
            recognizers = [] if self._warmed else list(self._recognizers)
            self._warmed = self._warmed or bool(recognizers)
        for recognizer in recognizers:
            recognizer.warm()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the workers; a job still running is abandoned (its recognizer is killed)."""
        self._stopping.set()
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout / max(1, len(self._workers)))
        with self._lock:
            recognizers, self._recognizers = self._recognizers, []
        for recognizer in recognizers:
            recognizer.close()
        self._workers.clear()

    def _work(self) -> None:
        recognizer = open_recognizer(self._options)
        with self._lock:
            self._recognizers.append(recognizer)
        while not self._stopping.is_set():
            job = self._queue.get()
            if job is None:
                break
            if not self._jobs.begin(job):
                continue  # deleted while queued
            try:
                outcome = self._process(job, recognizer)
            except Exception as exc:  # a bug must fail the job, not kill the worker
                LOG.exception("job %s: internal failure", job.name)
                outcome = Outcome(failure_reason=f"Internal failure: {type(exc).__name__}: {exc}")
            ended = self._jobs.finish(job, outcome)
            if ended is not None:
                emit_state_change(ended)

    def _process(self, job: Job, recognizer: SpeechRecognizer) -> Outcome:
        """Transcribe one IN_PROGRESS job: its outcome, result files written."""
        req = job.request
        try:
            languages = language_request(req)
        except UnsupportedLanguageError as exc:
            return Outcome(failure_reason=exc.reason)
        media = s3.read_media(job.account_id, job.region, job.bucket, job.key)
        if media is None:
            return Outcome(failure_reason=MEDIA_ACCESS_MESSAGE)
        if len(media) > MAX_MEDIA_BYTES:
            return Outcome(failure_reason="The media file is larger than the 2 GB maximum.")
        try:
            result = recognizer.transcribe(
                media,
                languages,
                self._options.job_timeout_seconds,
                split_channels=bool((req.get("Settings") or {}).get("ChannelIdentification")),
            )
        except MediaError as exc:
            return Outcome(failure_reason=f"The media file could not be decoded: {exc.reason}")
        except RecognizerError as exc:
            return Outcome(failure_reason=f"Internal failure: {exc}")
        detected = self._media_format(result.container, req.get("MediaFormat"), job.key)
        if isinstance(detected, Outcome):
            return detected
        if result.duration_seconds < self._options.min_media_seconds:
            return Outcome(
                failure_reason=(
                    f"The media is {result.duration_seconds * 1000:.0f} ms long; the minimum "
                    f"is {self._options.min_media_seconds * 1000:.0f} ms."
                )
            )
        base = Outcome(
            media_format=detected,
            media_sample_rate=result.source_sample_rate or None,
            language_code=result.language_code,
            identified_language_score=result.identified_language_score,
        )
        if languages.mode == "identify-multiple":
            base = replace(
                base,
                language_codes=[
                    {"LanguageCode": code, "DurationInSeconds": round(seconds, 3)}
                    for code, seconds in result.language_codes
                ],
            )
        return write_results(
            job,
            result,
            base,
            jobs=self._jobs,
            empty_subtitles_on_silence=self._options.empty_subtitles_on_silence,
        )

    def _media_format(self, container: str, declared: str | None, key: str) -> str | Outcome:
        """The MediaFormat to report, or a FAILED outcome for unsupported/mismatched media."""
        candidates = CONTAINER_FORMATS.get(container)
        if candidates is None:
            if not self._options.check_media_format:
                return declared or "mp3"
            return Outcome(
                failure_reason=(
                    f"Unsupported media format ({container}). Supported formats: "
                    f"{', '.join(SUPPORTED_FORMATS)}."
                )
            )
        if declared:
            if self._options.check_media_format and declared not in candidates:
                return Outcome(
                    failure_reason=(
                        "The media format that you specified doesn't match the detected media "
                        f"format ({'/'.join(candidates)}). Check the media format and try your "
                        "request again."
                    )
                )
            return declared
        extension = key.rsplit(".", 1)[-1].lower()
        return extension if extension in candidates else candidates[0]
