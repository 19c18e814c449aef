"""Amazon Transcribe for the local cloud: moto's API shapes, a real engine behind them.

moto 5.2.5's Transcribe (``moto/transcribe``) advances a job one state per
GetTranscriptionJob call, validates nothing, writes nothing and emits no event. `install()`
replaces the four batch operations of its HTTP layer (``TranscribeResponse.start_/get_/
list_/delete_transcription_job``) with `TranscribeService`, which behaves like the real
service:

* requests are validated against the constraints of botocore's Transcribe model (lengths,
  patterns, enums, ranges: what the real API checks server-side), then against the
  cross-field rules of the API reference; errors are ``BadRequestException`` with the real
  "N validation error(s) detected: ..." wording;
* more than `TranscribeOptions.start_calls_per_second` StartTranscriptionJob calls per
  second (25, the default quota) are refused with ``LimitExceededException``;
* a job name already in use raises ``ConflictException``; more than
  `TranscribeOptions.max_queued_jobs` QUEUED jobs (more than `max_concurrent_jobs` active
  ones without deferred execution) raise ``LimitExceededException``; Get/Delete of an
  unknown job raise ``NotFoundException`` (the error GetTranscriptionJob models);
* the media object is checked at start: a missing bucket or key is rejected with
  ``BadRequestException`` ("The S3 URI that you provided can't be accessed..."), so the
  caller learns at once. That is a choice: the real service reports some inaccessible
  media this way and some as a FAILED job. Media that disappears after the start FAILS
  the job with the same reason;
* jobs wait QUEUED for one of `concurrency` workers (deferred-execution semantics), go
  IN_PROGRESS, are decoded (PyAV) and recognized (pocketsphinx) in a child process
  (pocketsphinx holds the GIL; in-thread it would freeze the server), and end COMPLETED
  or FAILED with a FailureReason;
* results are written through moto's S3 backend ``put_object`` (the same call a PutObject
  request makes, so bucket notifications and EventBridge "Object Created" events fire as
  for any upload; SSE-KMS with OutputEncryptionKMSKeyId): subtitles first, ``<job>.json``
  last, so whoever reacts to the JSON finds the subtitles in place. Customer-bucket URIs
  have the real ``https://s3.<region>.amazonaws.com/<bucket>/<key>`` form. Without
  OutputBucketName the files go to a service-managed bucket (``aws-transcribe-<region>-
  prod``, key ``<account>/<job>/<uuid>/asrOutput.json``, as the real service), and the URI
  is a presigned URL on the local endpoint, fresh on each Get, like the real one;
* a subtitle file is written only when the media has speech (AWS documents that silent
  media gets none); SubtitleFileUris lists the files actually written;
* every terminal state puts a "Transcribe Job State Change" event (source
  ``aws.transcribe``) on the account's default bus through moto's ``put_events``, so
  rules route it like any event. Delivery is best effort, as AWS documents.

Jobs live in memory only, on moto's Transcribe backend objects, so moto's reset forgets
them. Times are real: a job takes about 0.2 s per second of audio, plus about 1 s for the
first job of each worker (its recognizer process starts and loads the model).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import logging
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlsplit

from moto.core.exceptions import JsonRESTError

from localcloud import asr, transcript
from localcloud.asr import MediaError, RecognizerError, Transcription

LOG = logging.getLogger(__name__)

# Amazon Transcribe limits (aws-facts.md, Transcribe section; API reference).
MAX_MEDIA_BYTES = 2 * 1024**3
SUPPORTED_FORMATS = ("mp3", "mp4", "wav", "flac", "ogg", "amr", "webm", "m4a")
EVENT_SOURCE = "aws.transcribe"
EVENT_DETAIL_TYPE = "Transcribe Job State Change"
NOT_FOUND_MESSAGE = (
    "The requested job couldn't be found. Check the job name and try your request again."
)
CONFLICT_MESSAGE = "The requested job name already exists. Use a different job name."
MEDIA_ACCESS_MESSAGE = (
    "The S3 URI that you provided can't be accessed. Make sure that you have read "
    "permission and try your request again."
)
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


# --- errors (moto's JsonRESTError gives the JSON-protocol body and "__type") -----------


class BadRequestError(JsonRESTError):
    """The request is invalid (HTTP 400)."""

    def __init__(self, message: str) -> None:
        super().__init__("BadRequestException", message)


class ConflictError(JsonRESTError):
    """A job with that name already exists (HTTP 400)."""

    def __init__(self, message: str = CONFLICT_MESSAGE) -> None:
        super().__init__("ConflictException", message)


class LimitExceededError(JsonRESTError):
    """Too many jobs (HTTP 400)."""

    def __init__(self, message: str) -> None:
        super().__init__("LimitExceededException", message)


class NotFoundError(JsonRESTError):
    """No job with that name (HTTP 400)."""

    def __init__(self, message: str = NOT_FOUND_MESSAGE) -> None:
        super().__init__("NotFoundException", message)


# --- options --------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscribeOptions:
    """How the local Transcribe engine behaves; the defaults suit a 2-core laptop."""

    # Jobs transcribed at the same time; the rest wait QUEUED. Each worker owns one
    # recognizer process (~100 MB) and keeps one core busy.
    concurrency: int = 2
    # Real quotas: 10,000 queued jobs with deferred execution, 250 concurrent jobs.
    max_queued_jobs: int = 10_000
    max_concurrent_jobs: int = 250
    # The StartTranscriptionJob rate quota (25 per second): beyond it, calls are refused with
    # LimitExceededException and the API reference's generic "too many requests" text.
    # None: no limit.
    start_calls_per_second: float | None = 25.0
    min_media_seconds: float = 0.5
    # Generous: recognition runs at ~0.2x real time, and a 4 h file must not time out.
    job_timeout_seconds: float = 3600.0
    # The local engine has an en-US model only.
    supported_languages: tuple[str, ...] = ("en-US",)
    # Base of the URIs of service-managed output (jobs without OutputBucketName).
    endpoint_url: str = "http://localhost:4566"
    # "process": recognizer child processes (keeps the server responsive); "thread":
    # recognize in the worker thread (no subprocess; for debugging).
    isolation: Literal["process", "thread"] = "process"
    # Real Transcribe writes no subtitle file when the media has no speech; True writes
    # valid cue-less files instead.
    empty_subtitles_on_silence: bool = False
    # Fail a job whose MediaFormat contradicts the detected container, as AWS does.
    check_media_format: bool = True


# --- jobs -----------------------------------------------------------------------------


@dataclass
class Job:
    """One transcription job: the request as given and the state the service tracks."""

    account_id: str
    region: str
    name: str
    request: dict[str, Any]
    bucket: str
    key: str
    seq: int
    creation_time: datetime
    status: str = "QUEUED"
    start_time: datetime | None = None
    completion_time: datetime | None = None
    failure_reason: str | None = None
    media_format: str | None = None
    media_sample_rate: int | None = None
    language_code: str | None = None
    language_codes: list[dict[str, Any]] | None = None
    identified_language_score: float | None = None
    # Where the results were written: bucket, JSON key, subtitle keys.
    output_bucket: str | None = None
    transcript_key: str | None = None
    subtitle_keys: list[str] = field(default_factory=list)
    # Base URL of service-managed result URIs (the local endpoint).
    service_endpoint: str = "http://localhost:4566"

    @property
    def output_location_type(self) -> str:
        """CUSTOMER_BUCKET with OutputBucketName, else SERVICE_BUCKET."""
        return "CUSTOMER_BUCKET" if self.request.get("OutputBucketName") else "SERVICE_BUCKET"

    def uri(self, key: str) -> str:
        """The URI Transcribe reports for one of the job's result files."""
        assert self.output_bucket is not None
        if self.output_location_type == "CUSTOMER_BUCKET":
            return f"https://s3.{self.region}.amazonaws.com/{self.output_bucket}/{key}"
        # The real service hands out a presigned URL valid for 15 minutes, a fresh one on
        # each Get/List; the local one is signed for the local endpoint.
        return _presign(self.service_endpoint, self.region, self.output_bucket, key)

    def describe(self) -> dict[str, Any]:
        """The TranscriptionJob structure of Start/GetTranscriptionJob."""
        req = self.request
        out: dict[str, Any] = {
            "TranscriptionJobName": self.name,
            "TranscriptionJobStatus": self.status,
            "LanguageCode": self.language_code,
            "LanguageCodes": self.language_codes,
            "MediaSampleRateHertz": self.media_sample_rate,
            "MediaFormat": self.media_format,
            "Media": req["Media"],
            "Transcript": {"TranscriptFileUri": self.uri(self.transcript_key)}
            if self.transcript_key
            else None,
            "StartTime": self.start_time,
            "CreationTime": self.creation_time,
            "CompletionTime": self.completion_time,
            "FailureReason": self.failure_reason,
            # The real service echoes these two settings even when they were not given.
            "Settings": {
                "ChannelIdentification": False,
                "ShowAlternatives": False,
                **req.get("Settings", {}),
            },
            "ModelSettings": req.get("ModelSettings"),
            "JobExecutionSettings": req.get("JobExecutionSettings"),
            "ContentRedaction": req.get("ContentRedaction"),
            "IdentifyLanguage": req.get("IdentifyLanguage"),
            "IdentifyMultipleLanguages": req.get("IdentifyMultipleLanguages"),
            "LanguageOptions": req.get("LanguageOptions"),
            "IdentifiedLanguageScore": self.identified_language_score,
            "Tags": req.get("Tags"),
            "LanguageIdSettings": req.get("LanguageIdSettings"),
            "ToxicityDetection": req.get("ToxicityDetection"),
        }
        if "Subtitles" in req:
            subtitles = dict(req["Subtitles"])
            subtitles.setdefault("OutputStartIndex", 0)
            if self.status == "COMPLETED":
                subtitles["SubtitleFileUris"] = [self.uri(k) for k in self.subtitle_keys]
            out["Subtitles"] = subtitles
        return {k: v for k, v in out.items() if v is not None}

    def summary(self) -> dict[str, Any]:
        """The TranscriptionJobSummary structure of ListTranscriptionJobs."""
        described = self.describe()
        keys = (
            "TranscriptionJobName",
            "CreationTime",
            "StartTime",
            "CompletionTime",
            "LanguageCode",
            "TranscriptionJobStatus",
            "FailureReason",
            "ContentRedaction",
            "ModelSettings",
            "IdentifyLanguage",
            "IdentifyMultipleLanguages",
            "IdentifiedLanguageScore",
            "LanguageCodes",
            "ToxicityDetection",
        )
        out = {k: described[k] for k in keys if k in described}
        out["OutputLocationType"] = self.output_location_type
        return out


@dataclass(frozen=True)
class Outcome:
    """How processing ended: COMPLETED with outputs, or FAILED with a reason."""

    failure_reason: str | None = None
    media_format: str | None = None
    media_sample_rate: int | None = None
    language_code: str | None = None
    language_codes: list[dict[str, Any]] | None = None
    identified_language_score: float | None = None
    output_bucket: str | None = None
    transcript_key: str | None = None
    subtitle_keys: tuple[str, ...] = ()


class Engine(Protocol):
    """Decodes and recognizes media (a recognizer process, or the worker thread itself)."""

    def transcribe(self, media: bytes, timeout: float) -> Transcription:
        """Transcribe one media file."""
        ...

    def close(self) -> None:
        """Release the engine's resources."""
        ...


class InThreadEngine:
    """Recognize in the calling thread (isolation="thread")."""

    def transcribe(self, media: bytes, timeout: float) -> Transcription:
        """Transcribe one media file; `timeout` is not enforced in-thread."""
        return asr.transcribe_media(media)

    def close(self) -> None:
        """Nothing to release."""


# --- validation -----------------------------------------------------------------------


@cache
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("transcribe")


def _camel(name: str) -> str:
    """AWS names members in validation messages in lowerCamelCase: 'mediaFileUri'."""
    return name[:1].lower() + name[1:]


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return str(value)


def _constraint_errors(shape: Any, value: Any) -> list[str]:
    """The constraints a scalar or list value breaks, in AWS's wording."""
    meta = shape.metadata
    errors: list[str] = []
    kind = shape.type_name
    if kind == "string" and isinstance(value, str):
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Member must have length less than or equal to {meta['max']}")
        if "enum" in meta and value not in meta["enum"]:
            errors.append(f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]")
        pattern = meta.get("pattern")
        # Java's String.matches() semantics: the whole value must match.
        if pattern and not _fullmatch(pattern, value):
            errors.append(f"Member must satisfy regular expression pattern: {pattern}")
    elif kind in ("integer", "long", "float", "double") and isinstance(value, int | float):
        if "min" in meta and value < meta["min"]:
            errors.append(f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            errors.append(f"Member must have value less than or equal to {meta['max']}")
    elif kind in ("list", "map") and isinstance(value, list | dict):
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Member must have length less than or equal to {meta['max']}")
    return errors


@cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        LOG.debug("pattern %r is not a Python regex; not checked", pattern)
        return None


def _fullmatch(pattern: str, value: str) -> bool:
    compiled = _compiled(pattern)
    return compiled is None or compiled.fullmatch(value) is not None


def _validate(shape: Any, value: Any, path: str, errors: list[str]) -> None:
    """Collect every model constraint `value` breaks, with AWS's 'at <path>' wording."""
    if value is None:
        return
    for problem in _constraint_errors(shape, value):
        errors.append(
            f"Value '{_render(value)}' at '{path}' failed to satisfy constraint: {problem}"
        )
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _validate(
                    member, value[name], f"{path}.{_camel(name)}" if path else _camel(name), errors
                )
    elif kind == "list" and isinstance(value, list):
        member_problems = [p for item in value for p in _constraint_errors(shape.member, item)]
        if member_problems:
            # AWS reports list members as one nested constraint on the list.
            errors.append(
                f"Value '{_render(value)}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy constraint: [{member_problems[0]}]"
            )
        for index, item in enumerate(value, start=1):
            if shape.member.type_name == "structure":
                _validate(shape.member, item, f"{path}.{index}.member", errors)


def validate_request(operation: str, params: dict[str, Any]) -> None:
    """Raise BadRequestError listing every model constraint the request breaks."""
    errors: list[str] = []
    _validate(_service_model().operation_model(operation).input_shape, params, "", errors)
    if errors:
        plural = "s" if len(errors) > 1 else ""
        raise BadRequestError(
            f"{len(errors)} validation error{plural} detected: " + "; ".join(errors)
        )


def _check_start_rules(params: dict[str, Any]) -> None:
    """Cross-field rules of StartTranscriptionJob (API reference), beyond the model's."""
    name = params.get("TranscriptionJobName")
    if not name:
        raise BadRequestError("TranscriptionJobName is required.")
    if name in (".", ".."):
        raise BadRequestError(
            "You can't use the strings '.' or '..' by themselves as the job name."
        )
    if not (params.get("Media") or {}).get("MediaFileUri"):
        raise BadRequestError("Media.MediaFileUri is required.")
    chosen = [
        p
        for p in ("LanguageCode", "IdentifyLanguage", "IdentifyMultipleLanguages")
        if params.get(p)
    ]
    if not chosen:
        raise BadRequestError(
            "You must include one of LanguageCode, IdentifyLanguage, or "
            "IdentifyMultipleLanguages in your request."
        )
    if len(chosen) > 1:
        raise BadRequestError(
            "You can include only one of LanguageCode, IdentifyLanguage, or "
            f"IdentifyMultipleLanguages in your request; this one has {', '.join(chosen)}."
        )
    options = params.get("LanguageOptions")
    if options is not None:
        if chosen[0] == "LanguageCode":
            raise BadRequestError(
                "LanguageOptions can be used only with IdentifyLanguage or "
                "IdentifyMultipleLanguages."
            )
        if len(options) < 2 or len(set(options)) != len(options):
            raise BadRequestError(
                "LanguageOptions must contain at least two different language codes."
            )
    settings = params.get("Settings") or {}
    if settings.get("ShowSpeakerLabels") and "MaxSpeakerLabels" not in settings:
        raise BadRequestError(
            "When ShowSpeakerLabels is true, you must also set MaxSpeakerLabels (2-30)."
        )
    if "MaxSpeakerLabels" in settings and not settings.get("ShowSpeakerLabels"):
        raise BadRequestError("MaxSpeakerLabels can be set only when ShowSpeakerLabels is true.")
    if settings.get("ShowSpeakerLabels") and settings.get("ChannelIdentification"):
        raise BadRequestError(
            "You can't set both ShowSpeakerLabels and ChannelIdentification in the same request."
        )
    if settings.get("ShowAlternatives") and "MaxAlternatives" not in settings:
        raise BadRequestError(
            "When ShowAlternatives is true, you must also set MaxAlternatives (2-10)."
        )
    if settings.get("VocabularyFilterMethod") and not settings.get("VocabularyFilterName"):
        raise BadRequestError("VocabularyFilterMethod requires VocabularyFilterName.")
    execution = params.get("JobExecutionSettings") or {}
    if execution.get("AllowDeferredExecution") and not execution.get("DataAccessRoleArn"):
        raise BadRequestError(
            "When AllowDeferredExecution is true, you must also specify DataAccessRoleArn."
        )
    if params.get("OutputKey") and not params.get("OutputBucketName"):
        raise BadRequestError("OutputKey can be used only together with OutputBucketName.")


def parse_media_uri(uri: str) -> tuple[str, str]:
    """Split an S3 media URI (s3://bucket/key or an https S3 URL) into bucket and key."""
    # s3:// URIs carry the key verbatim (spaces, '+' and '%' included), as the real API.
    if uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://") :].partition("/")
    else:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        path = unquote(parts.path)
        if ".s3." in host:  # virtual-hosted style: <bucket>.s3.<region>.amazonaws.com/<key>
            bucket, key = host.split(".s3.", 1)[0], path.lstrip("/")
        else:  # path style: s3.<region>.amazonaws.com/<bucket>/<key>, or a local endpoint
            bucket, _, key = path.lstrip("/").partition("/")
    if not bucket or not key:
        raise BadRequestError(
            f"The S3 URI that you provided isn't valid: {uri}. Use s3://bucket/key and try "
            "your request again."
        )
    return bucket, key


# --- S3 and EventBridge through moto's backends ---------------------------------------


def _s3_backend(account_id: str, region: str) -> Any:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    # moto 5.2.5 keys S3 backends by account and partition ("aws"), not by region.
    return s3_backends[account_id][get_partition(region)]


def _read_media(account_id: str, region: str, bucket: str, key: str) -> bytes | None:
    """The media object's bytes, or None when its bucket or key does not exist."""
    from moto.s3.exceptions import MissingBucket

    try:
        obj = _s3_backend(account_id, region).get_object(bucket, key)
    except MissingBucket:
        return None
    return None if obj is None else bytes(obj.value)


def _media_exists(account_id: str, region: str, bucket: str, key: str) -> bool:
    from moto.s3.exceptions import HeadOnDeleteMarker, MissingBucket

    try:
        return _s3_backend(account_id, region).head_object(bucket, key) is not None
    except (MissingBucket, HeadOnDeleteMarker):  # a deleted key of a versioned bucket
        return False


def _bucket_exists(account_id: str, region: str, bucket: str) -> bool:
    from moto.s3.exceptions import MissingBucket

    try:
        _s3_backend(account_id, region).get_bucket(bucket)
    except MissingBucket:
        return False
    return True


def _put_object(
    account_id: str,
    region: str,
    bucket: str,
    key: str,
    *,
    body: bytes,
    content_type: str,
    kms_key_id: str | None = None,
) -> None:
    """Write through moto's S3 backend: the PutObject path, notifications included."""
    # OutputEncryptionKMSKeyId: the real service writes its results SSE-KMS with that key.
    stored = _s3_backend(account_id, region).put_object(
        bucket,
        key,
        body,
        encryption="aws:kms" if kms_key_id else None,
        kms_key_id=kms_key_id,
    )
    stored.set_metadata({"Content-Type": content_type})


@cache
def _signer(endpoint: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    # Presigning is local computation; moto accepts any credentials.
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="localcloud",
        aws_secret_access_key="localcloud",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def _presign(endpoint: str, region: str, bucket: str, key: str) -> str:
    """A presigned GET URL of an object on the local endpoint, valid for 15 minutes."""
    url: str = _signer(endpoint, region).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=900
    )
    return url


def emit_state_change(job: Job) -> None:
    """Put the job's "Transcribe Job State Change" event on its account's default bus."""
    from moto.events.models import events_backends

    detail: dict[str, Any] = {
        "TranscriptionJobName": job.name,
        "TranscriptionJobStatus": job.status,
    }
    if job.failure_reason:
        detail["FailureReason"] = job.failure_reason
    try:
        entries = events_backends[job.account_id][job.region].put_events(
            [
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": EVENT_DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                    "Resources": [],
                }
            ]
        )
    except Exception:  # best-effort delivery, as AWS documents: the job's state stands
        LOG.exception("could not deliver the state-change event of job %s", job.name)
        return
    LOG.debug("job %s: event %s", job.name, entries)


# --- the service ----------------------------------------------------------------------

# Creation order of jobs, process-wide: job tables outlive a service that install()
# replaces, and listings sort on it.
_SEQUENCE = itertools.count(1)
# LimitExceededException's text in the API reference, which names both of its causes.
START_RATE_MESSAGE = (
    "You've either sent too many requests or your input file is too long. Wait before "
    "retrying your request, or use a smaller file and try your request again."
)


class _TokenBucket:
    """``rate`` calls per second, bursts of up to ``rate`` calls (a one-second bucket)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._clock = rate, clock
        self._tokens, self._at = max(rate, 1.0), clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take a token if one is there."""
        with self._lock:
            now = self._clock()
            self._tokens = min(max(self._rate, 1.0), self._tokens + (now - self._at) * self._rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class TranscribeService:
    """Job table, validation, and the worker pool that transcribes in the background."""

    def __init__(self, options: TranscribeOptions | None = None) -> None:
        self.options = options or TranscribeOptions()
        if self.options.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        # Guards the job tables and every Job's mutable fields. Never held across S3,
        # events or recognition calls: those re-enter moto, and other requests must proceed.
        self._lock = threading.Lock()
        rate = self.options.start_calls_per_second
        self._start_tokens = _TokenBucket(rate) if rate is not None else None
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._engines: list[Engine] = []
        self._workers: list[threading.Thread] = []
        self._stopping = threading.Event()

    # lifecycle

    def start(self) -> None:
        """Start the worker threads."""
        for n in range(self.options.concurrency):
            worker = threading.Thread(target=self._work, name=f"transcribe-worker-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the workers; a job still running is abandoned (its recognizer is killed)."""
        self._stopping.set()
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout / max(1, len(self._workers)))
        with self._lock:
            engines, self._engines = self._engines, []
        for engine in engines:
            engine.close()
        self._workers.clear()

    @staticmethod
    def _table(account_id: str, region: str) -> dict[str, Job]:
        """The jobs of one account and region (call with the lock held).

        The table lives on moto's Transcribe backend object, so moto's reset (the
        /moto-api/reset endpoint, or a new mock) forgets the jobs with the rest of the
        state; a worker then finds its job gone and drops the result.
        """
        from moto.transcribe.models import transcribe_backends

        backend = transcribe_backends[account_id][region]
        table: dict[str, Job] | None = getattr(backend, "localcloud_jobs", None)
        if table is None:
            table = {}
            setattr(backend, "localcloud_jobs", table)  # noqa: B010 - undeclared on moto's type
        return table

    def _is_current(self, job: Job) -> bool:
        """Whether the job is still in its table (not deleted, not reset; lock held)."""
        return self._table(job.account_id, job.region).get(job.name) is job

    # API

    def start_job(self, account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        """StartTranscriptionJob."""
        if self._start_tokens is not None and not self._start_tokens.take():
            raise LimitExceededError(START_RATE_MESSAGE)
        validate_request("StartTranscriptionJob", params)
        _check_start_rules(params)
        self._check_vocabulary(account_id, region, params)
        bucket, key = parse_media_uri(params["Media"]["MediaFileUri"])
        name = params["TranscriptionJobName"]
        # A duplicate name is a conflict whatever became of the media (a redelivered start
        # must learn that its job exists); the media check itself runs outside the lock.
        with self._lock:
            if name in self._table(account_id, region):
                raise ConflictError()
        if not _media_exists(account_id, region, bucket, key):
            raise BadRequestError(MEDIA_ACCESS_MESSAGE)
        deferred = bool((params.get("JobExecutionSettings") or {}).get("AllowDeferredExecution"))
        now = datetime.now(UTC)
        with self._lock:
            table = self._table(account_id, region)
            if name in table:
                raise ConflictError()
            mine = list(table.values())
            queued = sum(j.status == "QUEUED" for j in mine)
            active = sum(j.status in ("QUEUED", "IN_PROGRESS") for j in mine)
            if queued >= self.options.max_queued_jobs:
                raise LimitExceededError(
                    f"You have reached the limit of {self.options.max_queued_jobs} queued "
                    "transcription jobs. Wait for jobs to finish and try your request again."
                )
            if not deferred and active >= self.options.max_concurrent_jobs:
                raise LimitExceededError(
                    f"You have reached the limit of {self.options.max_concurrent_jobs} "
                    "concurrent transcription jobs. Set JobExecutionSettings."
                    "AllowDeferredExecution to queue jobs, or try again later."
                )
            job = Job(
                account_id=account_id,
                region=region,
                name=name,
                request=params,
                bucket=bucket,
                key=key,
                seq=next(_SEQUENCE),
                creation_time=now,
                media_format=params.get("MediaFormat"),
                media_sample_rate=params.get("MediaSampleRateHertz"),
                language_code=params.get("LanguageCode"),
                service_endpoint=self.options.endpoint_url,
            )
            table[name] = job
            described = job.describe()
        self._queue.put(job)
        LOG.info("job %s queued (s3://%s/%s)", name, bucket, key)
        return {"TranscriptionJob": described}

    def get_job(self, account_id: str, region: str, name: str) -> dict[str, Any]:
        """GetTranscriptionJob."""
        validate_request("GetTranscriptionJob", {"TranscriptionJobName": name})
        with self._lock:
            job = self._table(account_id, region).get(name)
            if job is None:
                raise NotFoundError()
            return {"TranscriptionJob": job.describe()}

    def list_jobs(
        self,
        account_id: str,
        region: str,
        *,
        status: str | None = None,
        name_contains: str | None = None,
        next_token: str | None = None,
        max_results: int | None = None,
    ) -> dict[str, Any]:
        """ListTranscriptionJobs: newest first, 5 per page unless MaxResults says otherwise."""
        request = {
            "Status": status,
            "JobNameContains": name_contains,
            "NextToken": next_token,
            "MaxResults": max_results,
        }
        validate_request(
            "ListTranscriptionJobs", {k: v for k, v in request.items() if v is not None}
        )
        after = _decode_token(next_token) if next_token else None
        limit = max_results or 5  # the real default page size
        needle = name_contains.lower() if name_contains else None  # not case sensitive
        with self._lock:
            jobs = sorted(
                (
                    j
                    for j in self._table(account_id, region).values()
                    if (status is None or j.status == status)
                    and (needle is None or needle in j.name.lower())
                    and (after is None or j.seq < after)
                ),
                key=lambda j: j.seq,
                reverse=True,
            )
            page = jobs[:limit]
            response: dict[str, Any] = {"TranscriptionJobSummaries": [j.summary() for j in page]}
        if status:
            response["Status"] = status
        if len(jobs) > limit:
            response["NextToken"] = _encode_token(page[-1].seq)
        return response

    def delete_job(self, account_id: str, region: str, name: str) -> None:
        """DeleteTranscriptionJob (a running job is abandoned: its results are not written)."""
        validate_request("DeleteTranscriptionJob", {"TranscriptionJobName": name})
        with self._lock:
            if self._table(account_id, region).pop(name, None) is None:
                raise NotFoundError()

    def jobs(self, account_id: str, region: str) -> list[Job]:
        """A snapshot of the jobs of one account and region (for diagnostics and tests)."""
        with self._lock:
            return [replace(j) for j in self._table(account_id, region).values()]

    def _check_vocabulary(self, account_id: str, region: str, params: dict[str, Any]) -> None:
        # As moto and AWS: a named custom vocabulary must exist (the local engine does not
        # use it, but a pipeline configured with a missing one must fail here too).
        name = (params.get("Settings") or {}).get("VocabularyName")
        if not name:
            return
        from moto.transcribe.models import transcribe_backends

        if name not in transcribe_backends[account_id][region].vocabularies:
            raise BadRequestError(
                "The requested vocabulary couldn't be found. Check the vocabulary name and "
                "try your request again."
            )

    # workers

    def _make_engine(self) -> Engine:
        if self.options.isolation == "thread":
            return InThreadEngine()
        return asr.RecognizerProcess()

    def _work(self) -> None:
        engine = self._make_engine()
        with self._lock:
            self._engines.append(engine)
        while not self._stopping.is_set():
            job = self._queue.get()
            if job is None:
                break
            with self._lock:
                if not self._is_current(job):
                    continue  # deleted while queued
                job.status = "IN_PROGRESS"
                job.start_time = datetime.now(UTC)
            LOG.info("job %s in progress", job.name)
            try:
                outcome = self._process(job, engine)
            except Exception as exc:  # a bug must fail the job, not kill the worker
                LOG.exception("job %s: internal failure", job.name)
                outcome = Outcome(failure_reason=f"Internal failure: {type(exc).__name__}: {exc}")
            self._finish(job, outcome)

    def _finish(self, job: Job, outcome: Outcome) -> None:
        with self._lock:
            if not self._is_current(job):
                LOG.info("job %s was deleted while running; result dropped", job.name)
                return
            job.status = "FAILED" if outcome.failure_reason else "COMPLETED"
            job.completion_time = datetime.now(UTC)
            job.failure_reason = outcome.failure_reason
            job.media_format = outcome.media_format or job.media_format
            job.media_sample_rate = outcome.media_sample_rate or job.media_sample_rate
            job.language_code = outcome.language_code or job.language_code
            job.language_codes = outcome.language_codes
            job.identified_language_score = outcome.identified_language_score
            job.output_bucket = outcome.output_bucket
            job.transcript_key = outcome.transcript_key
            job.subtitle_keys = list(outcome.subtitle_keys)
            snapshot = replace(job)
        LOG.info(
            "job %s %s%s",
            job.name,
            snapshot.status,
            f": {outcome.failure_reason}" if outcome.failure_reason else "",
        )
        emit_state_change(snapshot)

    def _language(self, job: Job) -> str | None:
        """The language to transcribe in, or None if the local engine cannot."""
        req = job.request
        supported = self.options.supported_languages
        if req.get("LanguageCode"):
            return req["LanguageCode"] if req["LanguageCode"] in supported else None
        # Identification: the local engine cannot tell languages apart; it assumes the
        # first supported language that the options allow (all are allowed without options).
        options = req.get("LanguageOptions") or list(supported)
        return next((lang for lang in options if lang in supported), None)

    def _process(self, job: Job, engine: Engine) -> Outcome:
        req = job.request
        language = self._language(job)
        if language is None:
            asked = req.get("LanguageCode") or ", ".join(req.get("LanguageOptions") or [])
            return Outcome(
                failure_reason=(
                    f"Unsupported language for the local Transcribe engine: {asked}. The local "
                    f"cloud transcribes only {', '.join(self.options.supported_languages)}."
                )
            )
        media = _read_media(job.account_id, job.region, job.bucket, job.key)
        if media is None:
            return Outcome(failure_reason=MEDIA_ACCESS_MESSAGE)
        if len(media) > MAX_MEDIA_BYTES:
            return Outcome(failure_reason="The media file is larger than the 2 GB maximum.")
        try:
            result = engine.transcribe(media, self.options.job_timeout_seconds)
        except MediaError as exc:
            return Outcome(failure_reason=f"The media file could not be decoded: {exc.reason}")
        except RecognizerError as exc:
            return Outcome(failure_reason=f"Internal failure: {exc}")
        detected = self._media_format(result.container, req.get("MediaFormat"), job.key)
        if isinstance(detected, Outcome):
            return detected
        if result.duration_seconds < self.options.min_media_seconds:
            return Outcome(
                failure_reason=(
                    f"The media is {result.duration_seconds * 1000:.0f} ms long; the minimum "
                    f"is {self.options.min_media_seconds * 1000:.0f} ms."
                )
            )
        base = Outcome(
            media_format=detected,
            media_sample_rate=result.source_sample_rate or None,
            language_code=language,
        )
        if req.get("IdentifyLanguage") or req.get("IdentifyMultipleLanguages"):
            # No language identification locally: the score is the mean word confidence.
            words = result.words
            score = round(sum(w.confidence for w in words) / len(words), 4) if words else 0.0
            base = replace(base, identified_language_score=score)
            if req.get("IdentifyMultipleLanguages"):
                base = replace(
                    base,
                    language_codes=[
                        {
                            "LanguageCode": language,
                            "DurationInSeconds": round(result.duration_seconds, 3),
                        }
                    ],
                )
        return self._write_outputs(job, result, base)

    def _media_format(self, container: str, declared: str | None, key: str) -> str | Outcome:
        """The MediaFormat to report, or a FAILED outcome for unsupported/mismatched media."""
        candidates = CONTAINER_FORMATS.get(container)
        if candidates is None:
            if not self.options.check_media_format:
                return declared or "mp3"
            return Outcome(
                failure_reason=(
                    f"Unsupported media format ({container}). Supported formats: "
                    f"{', '.join(SUPPORTED_FORMATS)}."
                )
            )
        if declared:
            if self.options.check_media_format and declared not in candidates:
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

    @staticmethod
    def _output_location(job: Job) -> tuple[str, str]:
        """(bucket, key of the JSON without ".json") of the job's results."""
        req = job.request
        bucket = req.get("OutputBucketName")
        if bucket:
            key = req.get("OutputKey")
            if not key:
                return bucket, job.name
            if key.endswith(".json"):
                return bucket, key[: -len(".json")]
            # Any other value names a folder: <key>/<job>.json (API reference).
            return bucket, f"{key.rstrip('/')}/{job.name}"
        # Service-managed location, laid out as the real one.
        return (
            f"aws-transcribe-{job.region}-prod",
            f"{job.account_id}/{job.name}/{uuid.uuid4()}/asrOutput",
        )

    def _write_outputs(self, job: Job, result: Transcription, base: Outcome) -> Outcome:
        bucket, stem = self._output_location(job)
        if job.output_location_type == "SERVICE_BUCKET":
            # Build the URL signer now rather than on the first Get, under the lock.
            _signer(job.service_endpoint, job.region)
            if not _bucket_exists(job.account_id, job.region, bucket):
                _s3_backend(job.account_id, job.region).create_bucket(bucket, job.region)
        if not _bucket_exists(job.account_id, job.region, bucket):
            return replace(
                base,
                failure_reason=(
                    f"The output bucket {bucket} doesn't exist or can't be accessed. Check the "
                    "bucket name and try your request again."
                ),
            )
        with self._lock:
            if not self._is_current(job):
                return base  # deleted while running: write nothing (_finish drops it)
        kms_key_id = job.request.get("OutputEncryptionKMSKeyId")
        subtitles = job.request.get("Subtitles") or {}
        start_index = int(subtitles.get("OutputStartIndex", 0))
        written: list[str] = []
        renderers: dict[str, Callable[[list[transcript.Word], int], str]] = {
            "srt": transcript.to_srt,
            "vtt": transcript.to_vtt,
        }
        content_types = {"srt": "application/x-subrip", "vtt": "text/vtt"}
        if result.words or self.options.empty_subtitles_on_silence:
            for fmt in subtitles.get("Formats") or []:
                body = renderers[fmt](result.words, start_index).encode()
                _put_object(
                    job.account_id,
                    job.region,
                    bucket,
                    f"{stem}.{fmt}",
                    body=body,
                    content_type=content_types[fmt],
                    kms_key_id=kms_key_id,
                )
                written.append(f"{stem}.{fmt}")
        document = transcript.build_result(job.name, job.account_id, result.words)
        _put_object(
            job.account_id,
            job.region,
            bucket,
            f"{stem}.json",
            body=json.dumps(document, ensure_ascii=False).encode(),
            content_type="application/json",
            kms_key_id=kms_key_id,
        )
        return replace(
            base,
            output_bucket=bucket,
            transcript_key=f"{stem}.json",
            subtitle_keys=tuple(written),
        )


def _encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"localcloud-v1:{seq}".encode()).decode()


def _decode_token(token: str) -> int:
    try:
        prefix, _, seq = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if prefix == "localcloud-v1":
            return int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        LOG.debug("bad NextToken %r", token)
    raise BadRequestError("The NextToken is not valid. Check the token and try your request again.")


# --- installing into moto -------------------------------------------------------------


class _Installed:
    """The process-wide installation: the running service and moto's replaced methods."""

    def __init__(self) -> None:
        self.service: TranscribeService | None = None
        self.originals: dict[str, Any] = {}
        self.lock = threading.Lock()


_installed = _Installed()


def _require_service() -> TranscribeService:
    current = _installed.service
    if current is None:
        raise RuntimeError("the local Transcribe service is not installed")
    return current


def _params(response: Any) -> dict[str, Any]:
    body = response.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    parsed = json.loads(body) if body else {}
    if not isinstance(parsed, dict):
        raise BadRequestError("The request body must be a JSON object.")
    return parsed


def _start_transcription_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult(
        _require_service().start_job(self.current_account, self.region, _params(self))
    )


def _get_transcription_job(self: Any) -> Any:
    from moto.core.responses import ActionResult

    name = _params(self).get("TranscriptionJobName", "")
    return ActionResult(_require_service().get_job(self.current_account, self.region, name))


def _list_transcription_jobs(self: Any) -> Any:
    from moto.core.responses import ActionResult

    p = _params(self)
    return ActionResult(
        _require_service().list_jobs(
            self.current_account,
            self.region,
            status=p.get("Status"),
            name_contains=p.get("JobNameContains"),
            next_token=p.get("NextToken"),
            max_results=p.get("MaxResults"),
        )
    )


def _delete_transcription_job(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    name = _params(self).get("TranscriptionJobName", "")
    _require_service().delete_job(self.current_account, self.region, name)
    return EmptyResult()


_PATCHES: dict[str, Callable[[Any], Any]] = {
    "start_transcription_job": _start_transcription_job,
    "get_transcription_job": _get_transcription_job,
    "list_transcription_jobs": _list_transcription_jobs,
    "delete_transcription_job": _delete_transcription_job,
}


def install(
    options: TranscribeOptions | None = None, *, endpoint_url: str | None = None
) -> TranscribeService:
    """Patch moto's Transcribe API with the local engine and start its workers.

    Calling it again replaces the running service (its jobs are forgotten). `endpoint_url`
    (passed by the local cloud's server) overrides `options.endpoint_url`.
    """
    from moto.transcribe.responses import TranscribeResponse

    opts = options or TranscribeOptions()
    if endpoint_url:
        opts = replace(opts, endpoint_url=endpoint_url)
    with _installed.lock:
        if _installed.service is not None:
            _installed.service.shutdown()
        for name, patch in _PATCHES.items():
            # moto 5.2.5 defines each of these on TranscribeResponse itself; fail loudly if
            # an upgrade moves them (KeyError) rather than patch nothing.
            _installed.originals.setdefault(name, TranscribeResponse.__dict__[name])
            setattr(TranscribeResponse, name, patch)
        service = TranscribeService(opts)
        service.start()
        _installed.service = service
    LOG.info("local Transcribe installed (%d workers, %s)", opts.concurrency, opts.isolation)
    return service


def shutdown() -> None:
    """Stop the workers and restore moto's own Transcribe operations."""
    from moto.transcribe.responses import TranscribeResponse

    with _installed.lock:
        if _installed.service is not None:
            _installed.service.shutdown()
            _installed.service = None
        for name, original in _installed.originals.items():
            setattr(TranscribeResponse, name, original)
        _installed.originals.clear()


def service() -> TranscribeService | None:
    """The installed service, if any."""
    return _installed.service
