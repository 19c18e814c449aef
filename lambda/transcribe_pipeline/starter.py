"""Starting one Amazon Transcribe job per uploaded object version, exactly once."""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from transcribe_pipeline.clients import error_code
from transcribe_pipeline.harvest import repair_outputs, write_failure_state
from transcribe_pipeline.keys import (
    MAX_S3_KEY_BYTES,
    Rejection,
    RejectionClass,
    S3Object,
    decode_event_key,
    job_name_for,
    rejection,
)
from transcribe_pipeline.ledger import Commit, Ledger, Version
from transcribe_pipeline.ledger_schema import State, padded_sequencer
from transcribe_pipeline.profiles import LanguageIdSetting, profile_for_key
from transcribe_pipeline.settings import Settings
from transcribe_pipeline.throttling import is_media_too_long


class Outcome(enum.Enum):
    """What became of one upload event."""

    STARTED = "started"
    # The job was started but not recorded (a retry after a crash): confirmed, not repeated.
    ALREADY_STARTED = "already-started"
    REJECTED = "rejected"
    # A newer version of the key exists: this event starts nothing (docs/ledger.md).
    SUPERSEDED = "superseded"
    # The version was handled before (a duplicate event): nothing new done.
    ALREADY_HANDLED = "already-handled"


@dataclass(frozen=True)
class StartResult:
    """The outcome for one object, with the job name when a job exists and its ledger item."""

    outcome: Outcome
    job_name: str | None
    reason: str | None = None
    reason_class: RejectionClass | None = None
    version: Version | None = None


# The events the upload rule routes (stacks/job_starter.py) and the only ones the start
# function acts on: S3's "Object Created" events. The queue policy admits that rule only
# (docs/eventbridge-queue-policy.md); whatever else reaches the queue (a message sent by a
# principal of the account, a re-driven foreign message) can never start a job.
UPLOAD_EVENT_SOURCE = "aws.s3"
UPLOAD_EVENT_DETAIL_TYPE = "Object Created"


class NotAnUploadError(ValueError):
    """A queued message that is not an S3 "Object Created" event of this pipeline's bucket."""


class ForeignBucketError(NotAnUploadError):
    """An event named a bucket other than this pipeline's input bucket."""


class ConfigurationFaultError(RuntimeError):
    """Transcribe refused the request for a cause every upload shares (permissions, key...).

    Not the file's fault: recording a failure would silently reject every upload until the
    configuration is fixed, so the message is retried instead (and ends in the DLQ, alarmed).
    """


# What a BadRequestException names when the pipeline, not the file, is at fault: the custom
# vocabulary, the KMS key, a permission or the data-access role are the same for every upload
# (docs/transcribe-api.md, "Refusals of StartTranscriptionJob"). Words, not whole messages:
# AWS does not document the texts, so a reworded message still counts.
_CONFIGURATION_WORDS = re.compile(
    r"\b(vocabular(?:y|ies)|kms|permissions?|access ?denied|not authori[sz]ed|roles?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Upload:
    """An upload event: the object version it names and its S3 sequencer (which orders it)."""

    obj: S3Object
    sequencer: str


def uploaded_object(body: str) -> Upload:
    """The object version an S3 "Object Created" event names; NotAnUploadError otherwise.

    The key is decoded once (``decode_event_key``); the bucket is checked by
    ``start_transcription``, which logs the event's key first. The sequencer is required: it
    is how versions of one key are ordered (docs/ledger.md, "Ordering").
    """
    try:
        event = json.loads(body)
    except ValueError as error:
        raise NotAnUploadError(f"The message is not JSON ({error})") from None
    if not isinstance(event, dict):
        raise NotAnUploadError("The message is not a JSON object")
    source, detail_type = event.get("source"), event.get("detail-type")
    if source != UPLOAD_EVENT_SOURCE or detail_type != UPLOAD_EVENT_DETAIL_TYPE:
        raise NotAnUploadError(
            f"Not an S3 upload event: source {source!r}, detail-type {detail_type!r} "
            f"(expected {UPLOAD_EVENT_SOURCE!r}, {UPLOAD_EVENT_DETAIL_TYPE!r})"
        )
    detail = event.get("detail")
    bucket = _field(detail, "bucket", "name")
    obj = _field(detail, "object")
    key, size = _field(obj, "key"), obj.get("size") if isinstance(obj, dict) else None
    if not isinstance(bucket, str) or not isinstance(key, str) or not key:
        raise NotAnUploadError("The event names no bucket name and object key")
    decoded = decode_event_key(key)
    if len(decoded.encode("utf-8")) > MAX_S3_KEY_BYTES:
        # No S3 object has such a key (docs/s3-keys.md); nor could the ledger record it.
        raise NotAnUploadError(
            f"The event's key is longer than S3's {MAX_S3_KEY_BYTES} bytes: {decoded[:80]!r}..."
        )
    if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
        raise NotAnUploadError(f"The event's object size is not a number: {size!r}")
    version_id, etag = obj.get("version-id"), obj.get("etag")
    if not all(value is None or isinstance(value, str) for value in (version_id, etag)):
        raise NotAnUploadError("The event's version-id or etag is not a string")
    sequencer = obj.get("sequencer")
    try:
        padded_sequencer(sequencer if isinstance(sequencer, str) else "")
    except ValueError:
        raise NotAnUploadError(
            f"The event for key {key!r} has no valid sequencer: {sequencer!r}"
        ) from None
    return Upload(
        S3Object(
            bucket=bucket,
            key=decoded,
            size=size,
            version_id=version_id or None,
            etag=etag or None,
        ),
        str(sequencer),
    )


def _field(value: Any, *path: str) -> Any:
    """``value[path[0]][path[1]]…``, or None where a level is missing or not an object."""
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def start_request(obj: S3Object, job_name: str, settings: Settings) -> dict[str, Any]:
    """The StartTranscriptionJob parameters for one object, with its key's profile."""
    job = settings.job_for(obj.key)
    request: dict[str, Any] = {
        "TranscriptionJobName": job_name,
        "Media": {"MediaFileUri": obj.uri},
        "MediaFormat": obj.media_format,
        # No OutputKey: Transcribe writes <job>.json (and subtitles) at the bucket root.
        "OutputBucketName": settings.output_bucket,
    }
    if settings.output_encryption_kms_key_id:
        # The role's StartTranscriptionJob permission requires exactly this key (IAM condition
        # transcribe:OutputEncryptionKMSKeyId), so a job never writes under another key.
        request["OutputEncryptionKMSKeyId"] = settings.output_encryption_kms_key_id
    if job.identifies_language:
        if job.identify_multiple_languages:
            request["IdentifyMultipleLanguages"] = True
        else:
            request["IdentifyLanguage"] = True
        if job.language_options:
            request["LanguageOptions"] = list(job.language_options)
        if job.language_id_settings:
            # With identification, resources go per language (docs/transcribe-features.md).
            request["LanguageIdSettings"] = {
                language: _language_id_setting(setting)
                for language, setting in job.language_id_settings
            }
    else:
        request["LanguageCode"] = job.language
    transcription_settings: dict[str, Any] = {}
    if job.show_speaker_labels:
        transcription_settings["ShowSpeakerLabels"] = True
        transcription_settings["MaxSpeakerLabels"] = job.max_speaker_labels
    if job.channel_identification:
        transcription_settings["ChannelIdentification"] = True
    if job.vocabulary_name:
        transcription_settings["VocabularyName"] = job.vocabulary_name
    if job.vocabulary_filter_name:
        transcription_settings["VocabularyFilterName"] = job.vocabulary_filter_name
    if job.vocabulary_filter_method:
        # Also for filters named in LanguageIdSettings: the method is only ever in Settings.
        transcription_settings["VocabularyFilterMethod"] = job.vocabulary_filter_method
    if transcription_settings:
        request["Settings"] = transcription_settings
    if job.language_model_name:
        request["ModelSettings"] = {"LanguageModelName": job.language_model_name}
    if job.content_redaction:
        # The redacted result is then what the harvest reads (transcribe_pipeline/redaction.py).
        request["ContentRedaction"] = {
            "RedactionType": "PII",
            "RedactionOutput": job.content_redaction.output,
            "PiiEntityTypes": list(job.content_redaction.pii_entity_types),
        }
    if job.toxicity_detection:
        request["ToxicityDetection"] = [{"ToxicityCategories": ["ALL"]}]
    if job.subtitle_formats:
        request["Subtitles"] = {
            "Formats": list(job.subtitle_formats),
            "OutputStartIndex": 1,
        }
    if settings.data_access_role_arn:
        # Deferred execution: past the concurrency quota jobs wait as QUEUED (up to 10,000)
        # instead of failing with LimitExceededException.
        request["JobExecutionSettings"] = {
            "AllowDeferredExecution": True,
            "DataAccessRoleArn": settings.data_access_role_arn,
        }
    return request


def _language_id_setting(setting: LanguageIdSetting) -> dict[str, str]:
    """One language's LanguageIdSettings entry, with only the names it sets."""
    entry = {
        "VocabularyName": setting.vocabulary_name,
        "VocabularyFilterName": setting.vocabulary_filter_name,
        "LanguageModelName": setting.language_model_name,
    }
    return {name: value for name, value in entry.items() if value}


def start_transcription(
    upload: Upload,
    *,
    transcribe: Any,
    s3: Any,
    ledger: Ledger,
    settings: Settings,
    now: datetime | None = None,
) -> StartResult:
    """Record the upload, then start its job once, reject it, or leave it to a newer version.

    Raises what may succeed later (the message is retried). Follows docs/ledger.md.
    """
    obj = upload.obj
    if obj.bucket != settings.input_bucket:
        raise ForeignBucketError(
            f"Event for bucket {obj.bucket!r}; this pipeline reads only {settings.input_bucket!r}"
        )
    now = now or datetime.now(UTC)
    profile = profile_for_key(obj.key, settings.profiles)
    received = ledger.receive(
        obj, sequencer=upload.sequencer, profile="" if profile is None else profile.prefix, now=now
    )
    version = received.version
    if version.state is not State.RECEIVED:
        return StartResult(Outcome.ALREADY_HANDLED, version.job, version=version)
    if not received.is_head:
        # An older event than the key's newest: the newer version's event decides.
        return _superseded(version, ledger=ledger, now=now)
    refused = rejection(obj)
    if refused is not None:
        return _reject(version, obj, refused, None, s3=s3, ledger=ledger, settings=settings,
                       now=now)  # fmt: skip
    current = _current_version_id(s3, obj)
    if current is None:
        gone = Rejection(
            RejectionClass.GONE, "The object was deleted before its transcription started."
        )
        return _reject(version, obj, gone, None, s3=s3, ledger=ledger, settings=settings,
                       now=now)  # fmt: skip
    if obj.version_id is not None and current != obj.version_id:
        # Transcribe reads the current object, not a version: this job would transcribe the
        # newer bytes. The newer version's event starts its own job.
        return _superseded(version, ledger=ledger, now=now)
    job_name = job_name_for(obj, prefix=settings.job_name_prefix, attempt=version.attempt)
    outcome = Outcome.STARTED
    try:
        transcribe.start_transcription_job(**start_request(obj, job_name, settings))
    except ClientError as error:
        refused = _permanent_refusal(error, obj, s3=s3)
        if refused is not None:
            return _reject(version, obj, refused, job_name, s3=s3, ledger=ledger,
                           settings=settings, now=now)  # fmt: skip
        if error_code(error) != "ConflictException":
            raise
        _confirm_same_object(obj, job_name, transcribe=transcribe)
        outcome = Outcome.ALREADY_STARTED
    if not ledger.mark_started(version, job_name=job_name, now=now):
        # Another delivery of the same event recorded it first.
        return StartResult(Outcome.ALREADY_HANDLED, job_name, version=version)
    return StartResult(outcome, job_name, version=version)


def _superseded(version: Version, *, ledger: Ledger, now: datetime) -> StartResult:
    if ledger.supersede(version, now=now):
        return StartResult(Outcome.SUPERSEDED, None, version=version)
    return StartResult(Outcome.ALREADY_HANDLED, version.job, version=version)


def _reject(
    version: Version,
    obj: S3Object,
    refused: Rejection,
    job_name: str | None,
    *,
    s3: Any,
    ledger: Ledger,
    settings: Settings,
    now: datetime,
) -> StartResult:
    """Record a rejection: the failure record while the version is the head, then the commit."""
    if ledger.head_sequencer(obj.key) != version.sequencer:
        return _superseded(version, ledger=ledger, now=now)
    key = write_failure_state(s3, settings, obj, job_name=job_name, reason=refused.reason)
    commit = ledger.commit_outcome(
        version,
        source=State.RECEIVED,
        target=State.REJECTED,
        job_name=job_name,
        outputs=(key,),
        reason=refused.reason,
        language=None,
        duration_s=None,
        notice=False,
        now=now,
    )
    if commit is Commit.COMMITTED:
        return StartResult(
            Outcome.REJECTED,
            job_name,
            refused.reason,
            refused.reason_class,
            ledger.version(version.key, version.sort_key),
        )
    if commit is Commit.ALREADY_DONE and ledger.head_sequencer(obj.key) == version.sequencer:
        return StartResult(Outcome.ALREADY_HANDLED, job_name, version=version)
    # A newer version became the head while the record was written: it decides what shows.
    result = _superseded(version, ledger=ledger, now=now)
    repair_outputs(obj, s3=s3, ledger=ledger, settings=settings, written_by=job_name)
    return result


def _confirm_same_object(obj: S3Object, job_name: str, *, transcribe: Any) -> None:
    """A start made but not recorded: fine only if the existing job reads this very object."""
    job = transcribe.get_transcription_job(TranscriptionJobName=job_name)["TranscriptionJob"]
    existing_uri = job.get("Media", {}).get("MediaFileUri")
    if existing_uri != obj.uri:
        raise JobNameCollisionError(
            f"Job {job_name} already exists for {existing_uri!r}, not for {obj.uri!r}"
        )


class JobNameCollisionError(RuntimeError):
    """A job of the same name exists for a different object."""


def _permanent_refusal(error: ClientError, obj: S3Object, *, s3: Any) -> Rejection | None:
    """The rejection when Transcribe refused this file for good; None when a retry may succeed.

    Raises ConfigurationFaultError when the refusal names the pipeline's configuration.
    """
    message = str(error.response.get("Error", {}).get("Message", ""))
    if error_code(error) == "BadRequestException":
        if not _CONFIGURATION_WORDS.search(message):
            return Rejection(
                RejectionClass.TRANSCRIBE_REFUSED, f"Amazon Transcribe rejected the job: {message}"
            )
        # "The S3 URI that you provided can't be accessed. Make sure that you have read
        # permission..." is also the answer for an upload deleted before its job started: that
        # one file's fault, and the only such case the pipeline can tell apart.
        if not _exists(s3, obj):
            return Rejection(
                RejectionClass.GONE,
                f"The object was deleted before its transcription started ({message})",
            )
        raise ConfigurationFaultError(
            f"Amazon Transcribe refused {obj.uri} for a cause every upload shares; fix the "
            f"pipeline's configuration: {message}"
        ) from error
    if is_media_too_long(error):
        return Rejection(
            RejectionClass.MEDIA_TOO_LONG, f"Amazon Transcribe rejected the media: {message}"
        )
    return None


def _exists(s3: Any, obj: S3Object) -> bool:
    """Whether the uploaded object is still there (HeadObject; a 404 means deleted)."""
    return _current_version_id(s3, obj) is not None


def _current_version_id(s3: Any, obj: S3Object) -> str | None:
    """The version id of the key's current object ("" when unversioned); None when deleted."""
    try:
        head = s3.head_object(Bucket=obj.bucket, Key=obj.key)
    except ClientError as error:
        if error_code(error) in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return str(head.get("VersionId") or "")
