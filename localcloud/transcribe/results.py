"""A completed job's result files: subtitles, then ``<job>.json`` in Transcribe's schema.

They are written through moto's S3 backend ``put_object`` (the same call a PutObject request
makes, so bucket notifications and EventBridge "Object Created" events fire as for any
upload; SSE-KMS with OutputEncryptionKMSKeyId): subtitles first, ``<job>.json`` last, so
whoever reacts to the JSON finds the subtitles in place. Where they go follows the request
(docs/transcribe-api.md, "Result files"): OutputBucketName and OutputKey, or a
service-managed bucket laid out as the real one (``aws-transcribe-<region>-prod``, key
``<account>/<job>/<uuid>/asrOutput.json``). A subtitle file is written only when the media has
speech, as AWS documents; SubtitleFileUris then lists the files actually written.

Before they are written, the recognized items go through the job's vocabulary filter
(`vocabulary_filters`) and, with ContentRedaction, PII redaction (`redaction`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace

from localcloud import transcribe_items
from localcloud.transcribe import resources, s3
from localcloud.transcribe.jobs import Job, JobTable, Outcome
from localcloud.transcribe.recognizer import Transcription
from localcloud.transcribe.redaction import redact
from localcloud.transcribe.vocabulary_filters import apply_filter
from localcloud.transcribe_items import Item

SUBTITLE_RENDERERS: dict[str, Callable[[list[transcribe_items.Item], int], str]] = {
    "srt": transcribe_items.to_srt,
    "vtt": transcribe_items.to_vtt,
}
SUBTITLE_CONTENT_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt"}


def output_location(job: Job) -> tuple[str, str]:
    """(bucket, key of the JSON without ".json") of the job's results."""
    req = job.request
    bucket = req.get("OutputBucketName")
    if bucket:
        key = req.get("OutputKey")
        if not key:
            return bucket, job.name
        if key.endswith(".json"):
            return bucket, key[: -len(".json")]
        # Any other value names a folder: <key>/<job>.json (docs/transcribe-api.md).
        return bucket, f"{key.rstrip('/')}/{job.name}"
    # Service-managed location, laid out as the real one.
    return (
        f"aws-transcribe-{job.region}-prod",
        f"{job.account_id}/{job.name}/{uuid.uuid4()}/asrOutput",
    )


def redacted_key(stem: str) -> str:
    """Where the redacted result of a job whose result is ``<stem>.json`` goes.

    Transcribe puts ``redacted-`` before the file's name, in the same folder
    (docs/transcribe-results.md, "Redaction").
    """
    folder, _, name = stem.rpartition("/")
    return f"{folder}/redacted-{name}.json" if folder else f"redacted-{name}.json"


def _filter_words(job: Job) -> dict[str, tuple[str, ...]]:
    """Language code -> the words of the job's vocabulary filters (Settings, LanguageIdSettings)."""
    req = job.request
    named: dict[str, str | None] = {
        code: entry.get("VocabularyFilterName")
        for code, entry in (req.get("LanguageIdSettings") or {}).items()
    }
    words: dict[str, tuple[str, ...]] = {}
    general = (req.get("Settings") or {}).get("VocabularyFilterName")
    if general:
        found = resources.find_vocabulary_filter(job.account_id, job.region, general)
        if found is not None:
            words[found.language_code] = found.words
    for code, name in named.items():
        found = resources.find_vocabulary_filter(job.account_id, job.region, name) if name else None
        if found is not None:
            words[code] = found.words
    return words


def final_items(job: Job, result: Transcription) -> tuple[list[Item], list[Item] | None]:
    """The job's items after its vocabulary filter, and redacted when the job redacts."""
    req = job.request
    items = list(result.items)
    method = (req.get("Settings") or {}).get("VocabularyFilterMethod")
    if method:
        items = apply_filter(items, method, _filter_words(job), result.language_code)
    redaction = req.get("ContentRedaction")
    if not redaction:
        return items, None
    return items, redact(items, redaction.get("PiiEntityTypes"))


def write_results(
    job: Job,
    result: Transcription,
    base: Outcome,
    *,
    jobs: JobTable,
    empty_subtitles_on_silence: bool,
) -> Outcome:
    """Write the job's result files; `base` completed with where they are, or FAILED.

    With ContentRedaction the redacted result goes to ``redacted-<name>.json`` and, with
    ``redacted_and_unredacted`` only, the unredacted one to ``<name>.json``; subtitles are
    made from the redacted items, under their usual names.
    """
    bucket, stem = output_location(job)
    if job.output_location_type == "SERVICE_BUCKET":
        # Build the URL signer now rather than on the first Get, under the lock.
        s3.signer(job.service_endpoint, job.region)
        if not s3.bucket_exists(job.account_id, job.region, bucket):
            s3.backend(job.account_id, job.region).create_bucket(bucket, job.region)
    if not s3.bucket_exists(job.account_id, job.region, bucket):
        return replace(
            base,
            failure_reason=(
                f"The output bucket {bucket} doesn't exist or can't be accessed. Check the "
                "bucket name and try your request again."
            ),
        )
    if not jobs.is_current(job):
        return base  # deleted while running: write nothing (JobTable.finish drops it)
    req = job.request
    items, redacted = final_items(job, result)
    shown = redacted if redacted is not None else items
    kms_key_id = req.get("OutputEncryptionKMSKeyId")

    def put(key: str, body: bytes, content_type: str) -> None:
        s3.put_object(
            job.account_id,
            job.region,
            bucket,
            key,
            body=body,
            content_type=content_type,
            kms_key_id=kms_key_id,
        )

    def document(of: list[Item], is_redacted: bool | None) -> bytes:
        built = transcribe_items.build_document(
            job.name,
            job.account_id,
            of,
            language_code=result.language_code,
            language_identification=result.language_identification,
            language_codes=result.language_codes,
            number_of_channels=result.number_of_channels,
            toxicity_scores=bool(req.get("ToxicityDetection")),
            is_redacted=is_redacted,
        )
        return json.dumps(built, ensure_ascii=False).encode()

    subtitles = req.get("Subtitles") or {}
    start_index = int(subtitles.get("OutputStartIndex", 0))
    written: list[str] = []
    if shown or empty_subtitles_on_silence:
        for fmt in subtitles.get("Formats") or []:
            body = SUBTITLE_RENDERERS[fmt](shown, start_index).encode()
            put(f"{stem}.{fmt}", body, SUBTITLE_CONTENT_TYPES[fmt])
            written.append(f"{stem}.{fmt}")
    if redacted is None:
        put(f"{stem}.json", document(items, None), "application/json")
        return replace(
            base, output_bucket=bucket, transcript_key=f"{stem}.json", subtitle_keys=tuple(written)
        )
    unredacted_key = None
    if req["ContentRedaction"].get("RedactionOutput") == "redacted_and_unredacted":
        unredacted_key = f"{stem}.json"
        put(unredacted_key, document(items, False), "application/json")
    # The redacted result last: whoever reacts to it finds the other files in place.
    put(redacted_key(stem), document(redacted, True), "application/json")
    return replace(
        base,
        output_bucket=bucket,
        transcript_key=unredacted_key,
        redacted_transcript_key=redacted_key(stem),
        subtitle_keys=tuple(written),
    )
