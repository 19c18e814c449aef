"""``reprocess --backfill``: ledger items for inputs uploaded before the ledger existed.

For each current input object whose key has no head item, the outputs already in the output
bucket say where its version stands: a transcript written by its job (metadata ``job-name``)
is TRANSCRIBED, a failure record naming its job FAILED, one naming no job REJECTED, a job of
its own still known to Transcribe STARTED (open, so the sweeper finishes it). The version item
gets ``BACKFILL_SEQUENCER``, older than any real event, so the key's next upload supersedes it;
it and the head are written in one transaction that never overwrites an existing item, so the
command is idempotent and cannot undo what the functions recorded meanwhile.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from pipeline_cli.aws import Clients
from pipeline_cli.ledger import Ledger, iso_now, iso_time, to_attributes
from pipeline_cli.readers import head_or_none, read_failure, transcription_job
from pipeline_cli.reprocess import job_state_settings
from transcribe_pipeline import ledger_schema as schema
from transcribe_pipeline.clients import error_code
from transcribe_pipeline.keys import S3Object, job_name_for
from transcribe_pipeline.layout import JOB_NAME_META, failure_key, transcript_key
from transcribe_pipeline.ledger_schema import BACKFILL_SEQUENCER, State
from transcribe_pipeline.profiles import Profile, profile_for_key
from transcribe_pipeline.stack_outputs import StackOutputs

_READABLE = ("txt", "srt", "vtt", "json")


class Action(enum.StrEnum):
    """What the backfill did with one input."""

    RECORDED = "recorded"
    WOULD_RECORD = "would record"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Backfilled:
    """One input: recorded (in which state, with which job) or skipped, and why."""

    key: str
    action: Action
    why: str
    state: State | None = None
    job: str | None = None
    version_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "key": self.key,
            "action": self.action.value,
            "why": self.why,
            "state": self.state.value if self.state else None,
            "job": self.job,
            "version_id": self.version_id,
        }


def backfill(
    clients: Clients,
    pipeline: StackOutputs,
    ledger: Ledger,
    *,
    prefix: str = "",
    dry_run: bool = False,
) -> list[Backfilled]:
    """A version item and head for every current input under ``prefix`` the ledger lacks."""
    profiles = job_state_settings(clients, pipeline).profiles
    s3, transcribe = clients("s3"), clients("transcribe")
    done = []
    for listed in current_versions(s3, pipeline.input_bucket, prefix):
        key = listed["Key"]
        if ledger.head(key) is not None:
            done.append(Backfilled(key, Action.SKIPPED, "already in the ledger"))
            continue
        version = listed.get("VersionId")
        obj = S3Object(
            bucket=pipeline.input_bucket,
            key=key,
            size=int(listed.get("Size", 0)),
            version_id=None if version in (None, "null") else str(version),
            etag=str(listed.get("ETag", "")).strip('"') or None,
        )
        item = _item_from_outputs(s3, transcribe, pipeline, obj, listed["LastModified"])
        if item is None:
            done.append(
                Backfilled(
                    key,
                    Action.SKIPPED,
                    "no job and no outputs yet: the start function records it when it "
                    "handles the upload's event",
                    version_id=obj.version_id,
                )
            )
            continue
        item[schema.PROFILE] = _profile(key, profiles)
        state, job = State(item[schema.STATE]), item.get(schema.JOB)
        if dry_run:
            done.append(
                Backfilled(key, Action.WOULD_RECORD, "", state, job, version_id=obj.version_id)
            )
        elif _put_new(ledger, key, item, obj.version_id):
            done.append(Backfilled(key, Action.RECORDED, "", state, job, obj.version_id))
        else:
            done.append(
                Backfilled(key, Action.SKIPPED, "recorded by the pipeline meanwhile", state, job)
            )
    return done


def current_versions(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    """The current version of each key under ``prefix`` (deleted keys left out)."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            if version.get("IsLatest"):
                yield version


def _item_from_outputs(
    s3: Any, transcribe: Any, pipeline: StackOutputs, obj: S3Object, uploaded: datetime
) -> dict[str, Any] | None:
    """The version item the outputs imply, None when nothing shows the version was handled."""
    job = job_name_for(obj, prefix=pipeline.job_name_prefix)
    item: dict[str, Any] = {
        schema.PARTITION_KEY: obj.key,
        schema.SORT_KEY: schema.version_sort_key(BACKFILL_SEQUENCER),
        schema.SEQUENCER: BACKFILL_SEQUENCER,
        schema.STATE_INDEX_SORT_KEY: obj.key,
        schema.VERSION_ID: obj.version_id,
        schema.ETAG: obj.etag,
        schema.SIZE: obj.size,
        schema.ATTEMPT: 1,
        schema.RECEIVED_AT: iso_time(uploaded),
    }
    bucket = pipeline.output_bucket
    text = head_or_none(s3, bucket, transcript_key(obj.key, "txt"))
    if text is not None and text.get("Metadata", {}).get(JOB_NAME_META) == job:
        outputs = [
            transcript_key(obj.key, ext)
            for ext in _READABLE
            if ext == "txt" or head_or_none(s3, bucket, transcript_key(obj.key, ext))
        ]
        language, duration = _language_and_duration(s3, bucket, obj.key)
        return {
            **item,
            schema.STATE: State.TRANSCRIBED.value,
            schema.JOB: job,
            schema.FINISHED_AT: iso_time(text["LastModified"]),
            schema.OUTPUTS: outputs,
            schema.LANGUAGE: language,
            schema.DURATION_SECONDS: duration,
        }
    record_head = head_or_none(s3, bucket, failure_key(obj.key))
    record = read_failure(s3, bucket, failure_key(obj.key)) if record_head else None
    if record_head is not None and record is not None:
        finished = {
            schema.FINISHED_AT: iso_time(record_head["LastModified"]),
            schema.OUTPUTS: [failure_key(obj.key)],
            schema.REASON: record.reason,
        }
        if record.job == job:
            return {**item, **finished, schema.STATE: State.FAILED.value, schema.JOB: job}
        # A rejection names no job: it is this version's when written after its upload.
        if record.job is None and record_head["LastModified"] >= uploaded.replace(microsecond=0):
            return {**item, **finished, schema.STATE: State.REJECTED.value}
    running = transcription_job(transcribe, job)
    if running is not None:
        started = running.get("StartTime") or running.get("CreationTime")
        now = iso_now()
        return {
            **item,
            schema.STATE: State.STARTED.value,
            schema.JOB: job,
            schema.STARTED_AT: iso_time(started) if started else now,
            schema.OPEN: schema.OPEN_VALUE,
            schema.OPEN_SINCE: now,
        }
    return None


def _language_and_duration(s3: Any, bucket: str, key: str) -> tuple[str | None, float | None]:
    """The language and audio seconds the harvest's ``transcripts/<key>.json`` records."""
    try:
        body = s3.get_object(Bucket=bucket, Key=transcript_key(key, "json"))["Body"].read()
        document = json.loads(body)
    except ClientError as error:
        if error_code(error) in {"NoSuchKey", "404"}:
            return None, None
        raise
    except ValueError:
        return None, None
    if not isinstance(document, dict):
        return None, None
    ends = [w.get("end") for w in document.get("words", []) if isinstance(w, dict)]
    timed = [float(end) for end in ends if isinstance(end, int | float)]
    language = document.get("language_code")
    return (language if isinstance(language, str) else None), (max(timed) if timed else None)


def _profile(key: str, profiles: tuple[Profile, ...]) -> str:
    profile = profile_for_key(key, profiles)
    return profile.prefix if profile else ""


def _put_new(ledger: Ledger, key: str, item: dict[str, Any], version_id: str | None) -> bool:
    """Write the version item and the head together, each only if absent; False if either was."""
    absent = "attribute_not_exists(#pk)"
    names = {"#pk": schema.PARTITION_KEY}
    head = {
        schema.PARTITION_KEY: key,
        schema.SORT_KEY: schema.HEAD_SORT_KEY,
        schema.SEQUENCER: BACKFILL_SEQUENCER,
        schema.VERSION_ID: version_id,
    }
    try:
        ledger.dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": ledger.table,
                        "Item": to_attributes(row),
                        "ConditionExpression": absent,
                        "ExpressionAttributeNames": names,
                    }
                }
                for row in (item, head)
            ]
        )
    except ClientError as error:
        if error_code(error) == "TransactionCanceledException":
            return False
        raise
    return True
