"""Turning a finished Transcribe job into readable results (or a failure record).

The ledger decides (docs/ledger.md): a job is harvested once, by the invocation whose
STARTED -> TRANSCRIBED | FAILED commit succeeds, and only while its version is the key's head.
Jobs started before the ledger existed have no item; they are harvested as before, by the
output objects' metadata, and an item is written for them.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from transcribe_pipeline.clients import error_code
from transcribe_pipeline.keys import S3Object, parse_s3_uri
from transcribe_pipeline.layout import (
    JOB_CREATED_META,
    JOB_NAME_META,
    failure_key,
    transcript_key,
)
from transcribe_pipeline.ledger import Commit, Ledger, Version
from transcribe_pipeline.ledger_schema import BACKFILL_SEQUENCER, State
from transcribe_pipeline.profiles import SUBTITLE_FORMATS, profile_for_key
from transcribe_pipeline.readable import readable_outputs, transcript_text, write_outputs
from transcribe_pipeline.records import write_failure
from transcribe_pipeline.redaction import ResultFiles, result_files, unredacted_outputs
from transcribe_pipeline.settings import Settings
from transcribe_pipeline.transcript import TranscriptError
from transcribe_pipeline.words import result_words

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class Harvest(enum.Enum):
    """What harvesting a job did."""

    TRANSCRIBED = "transcribed"
    FAILED = "failed"
    NOT_FINISHED = "not-finished"
    # This call found the version no longer the head and made it SUPERSEDED (counted once).
    SUPERSEDED = "superseded"
    # Nothing to do: harvested (or superseded) before, by an earlier event or the sweeper.
    ALREADY_HARVESTED = "already-harvested"
    # A job without a ledger item whose source object is gone (`forget`): nothing written.
    SOURCE_GONE = "source-gone"


@dataclass(frozen=True)
class HarvestResult:
    """The outcome for one job, with the source object and its ledger item when known."""

    outcome: Harvest
    job_name: str
    source: S3Object
    written: tuple[str, ...] = ()
    reason: str | None = None
    version: Version | None = None


@dataclass(frozen=True)
class _Written:
    """What writing a finished job's outputs produced."""

    state: State
    written: tuple[str, ...]
    reason: str | None = None
    language: str | None = None
    duration_s: float | None = None


class ForeignJobError(ValueError):
    """The job does not read from this pipeline's input bucket: not ours to harvest."""


class TranscriptMissingError(RuntimeError):
    """A COMPLETED job's result file is not in the output bucket (yet): retry later."""


def source_of(job: dict[str, Any], settings: Settings) -> S3Object:
    """The input object a job reads, checked to be in this pipeline's input bucket."""
    uri = str(job.get("Media", {}).get("MediaFileUri", ""))
    try:
        bucket, key = parse_s3_uri(uri)
    except ValueError:
        # The pipeline starts every job on an s3:// URI: an https:// one (which Transcribe
        # also accepts) is another application's job that happens to share the prefix.
        raise ForeignJobError(
            f"Job {job['TranscriptionJobName']} reads {uri!r}, not an s3:// URI of this pipeline"
        ) from None
    if bucket != settings.input_bucket:
        raise ForeignJobError(
            f"Job {job['TranscriptionJobName']} reads bucket {bucket!r}, "
            f"not this pipeline's {settings.input_bucket!r}"
        )
    return S3Object(bucket=bucket, key=key)


def harvest(
    job_name: str,
    *,
    transcribe: Any,
    s3: Any,
    ledger: Ledger,
    settings: Settings,
    now: datetime | None = None,
) -> HarvestResult:
    """Write the outputs of a finished job once, and only while its version is the head."""
    now = now or datetime.now(UTC)
    job = transcribe.get_transcription_job(TranscriptionJobName=job_name)["TranscriptionJob"]
    source = source_of(job, settings)
    version = ledger.find_by_job(source.key, job_name)
    if version is None:
        return _harvest_unrecorded(job, source, s3=s3, ledger=ledger, settings=settings, now=now)
    if version.state is not State.STARTED:
        # A duplicate or late event, or the sweeper got there first: nothing new to do.
        return HarvestResult(Harvest.ALREADY_HARVESTED, job_name, source, version=version)
    if job["TranscriptionJobStatus"] not in {"COMPLETED", "FAILED"}:
        return HarvestResult(Harvest.NOT_FINISHED, job_name, source, version=version)
    if ledger.head_sequencer(source.key) != version.sequencer:
        # A newer version decides what the key shows; this job writes nothing.
        return _superseded(version, job_name, source, ledger=ledger, now=now)
    written = write_job_outputs(job, source, s3=s3, settings=settings)
    commit = ledger.commit_outcome(
        version,
        source=State.STARTED,
        target=written.state,
        job_name=job_name,
        outputs=written.written,
        reason=written.reason,
        language=written.language,
        duration_s=written.duration_s,
        notice=bool(settings.topic_arn),
        now=now,
    )
    if commit is Commit.COMMITTED:
        outcome = Harvest.TRANSCRIBED if written.state is State.TRANSCRIBED else Harvest.FAILED
        return HarvestResult(
            outcome,
            job_name,
            source,
            written.written,
            written.reason,
            ledger.version(version.key, version.sort_key),
        )
    if commit is Commit.ALREADY_DONE and ledger.head_sequencer(source.key) == version.sequencer:
        # Another invocation (the sweeper, a duplicate event) committed first: it wrote the
        # same outputs, and it announces.
        return HarvestResult(Harvest.ALREADY_HARVESTED, job_name, source, version=version)
    # A newer version became the head while this one wrote: what shows must be the head's
    # state (docs/ledger.md, "Ordering: the head decides").
    result = _superseded(version, job_name, source, ledger=ledger, now=now)
    repair_outputs(source, s3=s3, ledger=ledger, settings=settings, written_by=job_name)
    return result


def _superseded(
    version: Version, job_name: str, source: S3Object, *, ledger: Ledger, now: datetime
) -> HarvestResult:
    counted = ledger.supersede(version, now=now)
    outcome = Harvest.SUPERSEDED if counted else Harvest.ALREADY_HARVESTED
    return HarvestResult(outcome, job_name, source, version=version)


def write_job_outputs(
    job: dict[str, Any], source: S3Object, *, s3: Any, settings: Settings
) -> _Written:
    """Write a finished job's outputs, making them all the key shows (docs/ledger.md)."""
    job_name = job["TranscriptionJobName"]
    metadata = {JOB_NAME_META: job_name, JOB_CREATED_META: _iso(job.get("CreationTime"))}
    language = job.get("LanguageCode")
    if job["TranscriptionJobStatus"] == "FAILED":
        reason = job.get("FailureReason") or "Amazon Transcribe reported the job as FAILED."
        key = write_failure_state(s3, settings, source, job_name=job_name, reason=reason,
                                  metadata=metadata)  # fmt: skip
        return _Written(State.FAILED, (key,), reason, language)
    # With redaction, everything under transcripts/ comes from the redacted result.
    files = result_files(job_name, job, settings.job_for(source.key))
    result, unredacted = _read_results(s3, settings.output_bucket, files)
    try:
        written = write_transcript_state(
            s3, settings, source, job_name=job_name, language=language, result=result,
            metadata=metadata, job=job, unredacted=unredacted,
        )  # fmt: skip
    except TranscriptError as error:
        names = " or ".join(name for name in (files.readable, files.unredacted) if name)
        reason = f"Amazon Transcribe's result file {names} is malformed: {error}"
        key = write_failure_state(s3, settings, source, job_name=job_name, reason=reason,
                                  metadata=metadata)  # fmt: skip
        return _Written(State.FAILED, (key,), reason, language)
    return _Written(State.TRANSCRIBED, written, None, language, audio_seconds(result))


def write_transcript_state(
    s3: Any,
    settings: Settings,
    source: S3Object,
    *,
    job_name: str,
    language: str | None,
    result: Any,
    metadata: dict[str, str],
    job: dict[str, Any] | None = None,
    unredacted: Any = None,
) -> tuple[str, ...]:
    """Write the readable outputs of a result and remove the key's other outputs.

    TranscriptError (before anything is written) when the result is malformed. The ``.txt`` is
    written last: its presence with this job's name is what the pre-ledger checks read.
    """
    # The profile is resolved from the key as the start function did (Settings.job_for).
    job_settings = settings.job_for(source.key)
    roles = job_settings.channel_roles
    text = transcript_text(result, channel_roles=roles)
    outputs = readable_outputs(
        result,
        source_key=source.key,
        job_name=job_name,
        language_code=language,
        subtitle_formats=job_settings.subtitle_formats,
        style=job_settings.subtitle_style,
        channel_roles=roles,
    )
    if unredacted is not None:
        # Readable unredacted copies (no subtitles) under unredacted/, which no pipeline role
        # may read; the .txt under transcripts/ stays last.
        outputs += unredacted_outputs(
            unredacted, source_key=source.key, job_name=job_name, job=job or {}, roles=roles
        )
    # Our own subtitles (styled) and .json; Transcribe's <job>.srt/.vtt stay where they are.
    written = write_outputs(s3, settings.output_bucket, outputs, metadata=metadata)
    text_key = transcript_key(source.key, "txt")
    stale = [key for key in transcript_keys(source.key) if key not in {*written, text_key}]
    _delete(s3, settings.output_bucket, [failure_key(source.key), *stale])
    s3.put_object(
        Bucket=settings.output_bucket,
        Key=text_key,
        Body=text.encode("utf-8"),
        ContentType="text/plain; charset=utf-8",
        Metadata=metadata,
    )
    return (*written, text_key)


def write_failure_state(
    s3: Any,
    settings: Settings,
    source: S3Object,
    *,
    job_name: str | None,
    reason: str,
    metadata: dict[str, str] | None = None,
) -> str:
    """Write the key's failure record and remove its readable outputs (an older version's)."""
    _delete(s3, settings.output_bucket, transcript_keys(source.key))
    return write_failure(
        s3, settings.output_bucket, source, job_name=job_name, reason=reason, metadata=metadata
    )


def transcript_keys(source_key: str) -> tuple[str, ...]:
    """Every readable output a version of ``source_key`` may have under ``transcripts/``."""
    return tuple(transcript_key(source_key, ext) for ext in ("txt", "json", *SUBTITLE_FORMATS))


def audio_seconds(result: Any) -> float | None:
    """The audio's length as the result knows it: the last timed item's end, or None."""
    words = result_words(result)
    return max((word.end for word in words), default=None)


def repair_outputs(
    source: S3Object,
    *,
    s3: Any,
    ledger: Ledger,
    settings: Settings,
    written_by: str | None,
) -> None:
    """After a lost commit: make the key show its head version's state again.

    The head's outcome is rewritten (its transcript from its ``<job>.json``, or its failure
    record); a head without an outcome yet shows nothing the loser (``written_by``) wrote.
    """
    current = ledger.current(source.key)
    if current is None or current.state not in {
        State.TRANSCRIBED,
        State.FAILED,
        State.REJECTED,
    }:
        _delete_written_by(s3, settings.output_bucket, source.key, written_by)
        return
    metadata = {JOB_NAME_META: current.job or ""}
    if current.state is State.TRANSCRIBED and current.job:
        files = result_files(current.job, {}, settings.job_for(source.key))
        result, unredacted = _read_results(s3, settings.output_bucket, files)
        write_transcript_state(
            s3, settings, source, job_name=current.job, language=current.language,
            result=result, metadata=metadata, unredacted=unredacted,
        )  # fmt: skip
        return
    write_failure_state(
        s3, settings, source, job_name=current.job, reason=current.reason or "", metadata=metadata
    )


def _delete_written_by(s3: Any, bucket: str, source_key: str, job_name: str | None) -> None:
    """Delete the key's outputs whose metadata names ``job_name`` (or the record of none)."""
    for key in (*transcript_keys(source_key), failure_key(source_key)):
        metadata = _metadata(s3, bucket, key)
        if metadata is not None and metadata.get(JOB_NAME_META) == (job_name or ""):
            s3.delete_object(Bucket=bucket, Key=key)


def _harvest_unrecorded(
    job: dict[str, Any], source: S3Object, *, s3: Any, ledger: Ledger, settings: Settings,
    now: datetime,
) -> HarvestResult:  # fmt: skip
    """Harvest a job started before the ledger: by the outputs' metadata, then record it."""
    job_name = job["TranscriptionJobName"]
    status = job["TranscriptionJobStatus"]
    current = _current_version(s3, source)
    if current is None:
        # Deleted since (e.g. `forget`): writing its outputs would bring back what was removed.
        return HarvestResult(Harvest.SOURCE_GONE, job_name, source)
    if status not in {"COMPLETED", "FAILED"}:
        return HarvestResult(Harvest.NOT_FINISHED, job_name, source)
    head = ledger.head_sequencer(source.key)
    created = _iso(job.get("CreationTime"))
    if (head is not None and head != BACKFILL_SEQUENCER) or _newer_job_harvested(
        s3, settings.output_bucket, source.key, created
    ):
        return HarvestResult(Harvest.SUPERSEDED, job_name, source)
    if is_harvested(s3, settings.output_bucket, job_name, source.key):
        return HarvestResult(Harvest.ALREADY_HARVESTED, job_name, source)
    written = write_job_outputs(job, source, s3=s3, settings=settings)
    profile = profile_for_key(source.key, settings.profiles)
    commit = ledger.backfill(
        S3Object(source.bucket, source.key, version_id=current),
        job_name=job_name,
        state=written.state,
        outputs=written.written,
        reason=written.reason,
        language=written.language,
        duration_s=written.duration_s,
        notice=bool(settings.topic_arn),
        profile="" if profile is None else profile.prefix,
        now=now,
    )
    if commit is not Commit.COMMITTED:
        # A real upload of the key arrived meanwhile: it decides what shows.
        _delete_written_by(s3, settings.output_bucket, source.key, job_name)
        return HarvestResult(Harvest.SUPERSEDED, job_name, source)
    outcome = Harvest.TRANSCRIBED if written.state is State.TRANSCRIBED else Harvest.FAILED
    version = ledger.find_by_job(source.key, job_name)
    return HarvestResult(outcome, job_name, source, written.written, written.reason, version)


def _current_version(s3: Any, source: S3Object) -> str | None:
    """The version id of the source's current object ("" unversioned); None when deleted."""
    try:
        head = s3.head_object(Bucket=source.bucket, Key=source.key)
    except ClientError as error:
        if error_code(error) in _NOT_FOUND:
            return None
        raise
    return str(head.get("VersionId") or "")


def _delete(s3: Any, bucket: str, keys: list[str] | tuple[str, ...]) -> None:
    # DeleteObject of a key that is not there succeeds: no need to look first.
    for key in keys:
        s3.delete_object(Bucket=bucket, Key=key)


def is_harvested(s3: Any, output_bucket: str, job_name: str, source_key: str) -> bool:
    """Whether this job's outputs (transcript or failure record) are already written."""
    for key in (transcript_key(source_key, "txt"), failure_key(source_key)):
        metadata = _metadata(s3, output_bucket, key)
        if metadata is not None and metadata.get(JOB_NAME_META) == job_name:
            return True
    return False


def _newer_job_harvested(s3: Any, bucket: str, source_key: str, created: str) -> bool:
    """Whether a later upload of the same key already has its outputs (out-of-order events)."""
    for key in (transcript_key(source_key, "txt"), failure_key(source_key)):
        metadata = _metadata(s3, bucket, key)
        if metadata is not None and metadata.get(JOB_CREATED_META, "") > created:
            return True
    return False


def _metadata(s3: Any, bucket: str, key: str) -> dict[str, str] | None:
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in _NOT_FOUND:
            return None
        raise
    return dict(head.get("Metadata", {}))


def _read_results(s3: Any, bucket: str, files: ResultFiles) -> tuple[Any, Any]:
    """The result the readable outputs come from, and the unredacted one (None without it)."""
    readable = _read_result(s3, bucket, files.readable)
    unredacted = _read_result(s3, bucket, files.unredacted) if files.unredacted else None
    return readable, unredacted


def _read_result(s3: Any, bucket: str, key: str) -> Any:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error_code(error) in {"NoSuchKey", "404"}:
            raise TranscriptMissingError(f"{key} is not in {bucket}") from error
        raise
    try:
        return json.loads(body)
    except ValueError:
        # Left to readable_text, which reports what is wrong with it.
        return None


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value or "")
