"""``reprocess``: run a key's current version again, or rebuild its readable outputs only.

A new attempt sets the head's version item from a final state back to RECEIVED (attempt + 1)
in one conditional transaction, then sends the version's S3 "Object Created" event to the
start queue, rebuilt as EventBridge delivers it: the start function starts the job named for
(version, attempt) exactly as for an upload. ``--render-only`` starts no job: it rewrites
``transcripts/<key>.*`` (and ``unredacted/`` copies) from the stored result with the harvest's
own functions: the same result file, channel roles, profile formats and style.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from pipeline_cli import last_upload
from pipeline_cli.aws import Clients
from pipeline_cli.errors import ExitCode, is_not_found
from pipeline_cli.ledger import Ledger, VersionItem, iso_now, to_attributes
from pipeline_cli.readers import head_or_none, transcription_job
from transcribe_pipeline import ledger_schema as schema
from transcribe_pipeline.clients import error_code
from transcribe_pipeline.keys import encode_event_key
from transcribe_pipeline.layout import JOB_NAME_META, job_result_key, transcript_key
from transcribe_pipeline.ledger_schema import State
from transcribe_pipeline.readable import readable_outputs, transcript_text, write_outputs
from transcribe_pipeline.redaction import result_files, unredacted_outputs
from transcribe_pipeline.settings import Settings
from transcribe_pipeline.stack_outputs import StackOutputs
from transcribe_pipeline.starter import UPLOAD_EVENT_DETAIL_TYPE, UPLOAD_EVENT_SOURCE
from transcribe_pipeline.transcript import TranscriptError

# The final states a new attempt may start from (ledger_schema.TRANSITIONS): SUPERSEDED is
# final too, but a newer version decides that key.
REPROCESSABLE = [State.REJECTED, State.TRANSCRIBED, State.FAILED]
_TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"


class Action(enum.StrEnum):
    """What ``reprocess`` did with one key."""

    REPROCESSED = "reprocessed"
    WOULD_REPROCESS = "would reprocess"
    RENDERED = "rendered"
    WOULD_RENDER = "would render"
    REFUSED = "refused"


@dataclass(frozen=True)
class Decision:
    """One key: what was done (or refused, and why), for which version and attempt."""

    key: str
    action: Action
    why: str
    version_id: str | None = None
    attempt: int | None = None
    job: str | None = None
    written: tuple[str, ...] = ()
    code: ExitCode = ExitCode.OK  # a refusal's exit code

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "key": self.key,
            "action": self.action.value,
            "why": self.why,
            "version_id": self.version_id,
            "attempt": self.attempt,
            "job": self.job,
            "written": list(self.written),
        }


def _about(item: VersionItem) -> dict[str, Any]:
    """The version, attempt and job a decision about ``item`` reports."""
    return {"version_id": item.version_id, "attempt": item.attempt, "job": item.job}


def _refused(key: str, why: str, code: ExitCode = ExitCode.FAILED, **known: Any) -> Decision:
    return Decision(key, Action.REFUSED, why, code=code, **known)


def selected_keys(
    ledger: Ledger, keys: list[str], *, prefix: str | None, states: list[State] | None
) -> list[str]:
    """The keys to reprocess: those named, or those whose versions are in ``states`` under
    ``prefix`` (every final state when only a prefix is given), each once, in key order."""
    if keys:
        return list(dict.fromkeys(keys))
    chosen = states or REPROCESSABLE
    page = ledger.by_state(chosen, prefix=prefix or "", limit=0)
    return sorted({item.key for item in page.items})


def reprocess(
    clients: Clients,
    pipeline: StackOutputs,
    ledger: Ledger,
    keys: Iterable[str],
    *,
    dry_run: bool = False,
) -> list[Decision]:
    """A new attempt for each key's current version; remembered for `wait`."""
    decisions = [_reprocess_one(clients, pipeline, ledger, key, dry_run=dry_run) for key in keys]
    started = [
        last_upload.Upload(d.key, d.version_id) for d in decisions if d.action is Action.REPROCESSED
    ]
    if started:
        last_upload.remember(pipeline.input_bucket, started)
    return decisions


def _current_final(
    clients: Clients, pipeline: StackOutputs, ledger: Ledger, key: str
) -> VersionItem | Decision:
    """The key's head version item when it may be run again, else the refusal."""
    item = ledger.current(key)
    if item is None:
        return _refused(
            key,
            "the ledger has no item of this key (never uploaded, forgotten, or uploaded before "
            "the ledger: `reprocess --backfill` records those)",
            ExitCode.NOT_FOUND,
        )
    known = _about(item)
    if item.state not in REPROCESSABLE:
        return _refused(
            key, f"its current version is {item.state.value}, not finished: wait for it", **known
        )
    head = head_or_none(clients("s3"), pipeline.input_bucket, key)
    if head is None:
        return _refused(key, "the input no longer exists", ExitCode.NOT_FOUND, **known)
    current = head.get("VersionId")
    current = None if current in (None, "null") else str(current)
    if current != item.version_id:
        return _refused(
            key,
            f"the ledger's version {item.version_id} is no longer the current object "
            f"(now {current}): the newer upload's own event runs it",
            **known,
        )
    return item


def _reprocess_one(
    clients: Clients, pipeline: StackOutputs, ledger: Ledger, key: str, *, dry_run: bool
) -> Decision:
    found = _current_final(clients, pipeline, ledger, key)
    if isinstance(found, Decision):
        return found
    item = found
    attempt = item.attempt + 1
    known: dict[str, Any] = {"version_id": item.version_id, "attempt": attempt}
    if dry_run:
        why = f"{item.state.value}: attempt {attempt}"
        return Decision(key, Action.WOULD_REPROCESS, why, **known)
    if not _restart(ledger, item):
        return _refused(key, "its ledger item changed meanwhile; run the command again", **known)
    event = object_created_event(pipeline, item, region=clients.region)
    clients("sqs").send_message(QueueUrl=pipeline.start_queue_url, MessageBody=json.dumps(event))
    return Decision(key, Action.REPROCESSED, f"was {item.state.value}: attempt {attempt}", **known)


def _restart(ledger: Ledger, item: VersionItem) -> bool:
    """Final -> RECEIVED with attempt + 1, only while the head still names this version.

    What the last attempt left (its job, outputs, reason, times, announcements) goes, so the
    item reads as a fresh upload; it is open again until the new attempt settles it.
    """
    names = {
        "#pk": schema.PARTITION_KEY,
        "#state": schema.STATE,
        "#attempt": schema.ATTEMPT,
        "#open": schema.OPEN,
        "#open_since": schema.OPEN_SINCE,
        "#job": schema.JOB,
        "#outputs": schema.OUTPUTS,
        "#reason": schema.REASON,
        "#started": schema.STARTED_AT,
        "#finished": schema.FINISHED_AT,
        "#language": schema.LANGUAGE,
        "#duration": schema.DURATION_SECONDS,
        "#notice": schema.NOTICE,
        "#event": schema.OUTCOME_EVENT,
        "#claim": schema.CLAIM_UNTIL,
    }
    attempt_matches = (
        "#attempt = :attempt"
        if item.attempt > 1
        else "(#attempt = :attempt OR attribute_not_exists(#attempt))"
    )
    update = {
        "TableName": ledger.table,
        "Key": to_attributes({schema.PARTITION_KEY: item.key, schema.SORT_KEY: item.sort_key}),
        "UpdateExpression": "SET #state = :received, #attempt = :next, #open = :open, "
        "#open_since = :now REMOVE #job, #outputs, #reason, #started, #finished, #language, "
        "#duration, #notice, #event, #claim",
        "ConditionExpression": f"attribute_exists(#pk) AND #state = :was AND {attempt_matches}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_attributes(
            {
                ":received": State.RECEIVED.value,
                ":was": item.state.value,
                ":attempt": item.attempt,
                ":next": item.attempt + 1,
                ":open": schema.OPEN_VALUE,
                ":now": iso_now(),
            }
        ),
    }
    head_unchanged = {
        "TableName": ledger.table,
        "Key": to_attributes(
            {schema.PARTITION_KEY: item.key, schema.SORT_KEY: schema.HEAD_SORT_KEY}
        ),
        "ConditionExpression": "#sequencer = :sequencer",
        "ExpressionAttributeNames": {"#sequencer": schema.SEQUENCER},
        "ExpressionAttributeValues": to_attributes({":sequencer": item.sequencer}),
    }
    try:
        ledger.dynamodb.transact_write_items(
            TransactItems=[{"Update": update}, {"ConditionCheck": head_unchanged}]
        )
    except ClientError as error:
        if error_code(error) == "TransactionCanceledException":
            return False
        raise
    return True


def object_created_event(
    pipeline: StackOutputs, item: VersionItem, *, region: str | None
) -> dict[str, Any]:
    """The version's S3 "Object Created" event as EventBridge puts it on the start queue.

    The key is encoded as S3 encodes keys in events (docs/s3-event-keys.md); the sequencer is
    the ledger's padded form, which the start function pads to the same value.
    """
    account = urlsplit(pipeline.start_queue_url).path.strip("/").split("/")[0]
    obj: dict[str, Any] = {
        "key": encode_event_key(item.key),
        "size": item.size or 0,
        "sequencer": item.sequencer,
    }
    if item.etag:
        obj["etag"] = item.etag
    if item.version_id:
        obj["version-id"] = item.version_id
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": UPLOAD_EVENT_DETAIL_TYPE,
        "source": UPLOAD_EVENT_SOURCE,
        "account": account,
        "time": iso_now(),
        "region": region or "",
        "resources": [f"arn:aws:s3:::{pipeline.input_bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": pipeline.input_bucket},
            "object": obj,
            "request-id": "",
            "requester": account,
            "reason": "PutObject",
        },
    }


def job_state_settings(clients: Clients, pipeline: StackOutputs) -> Settings:
    """The harvest's own settings: the job-state function's environment, read as it reads it.

    The profiles and subtitle style decide what the harvest renders; reading them from the
    deployed function (lambda:GetFunctionConfiguration) renders exactly as it would now.
    """
    configuration = clients("lambda").get_function_configuration(
        FunctionName=pipeline.job_state_function
    )
    variables = configuration.get("Environment", {}).get("Variables", {})
    return Settings.from_env(variables)


def render(
    clients: Clients,
    pipeline: StackOutputs,
    ledger: Ledger,
    keys: Iterable[str],
    *,
    dry_run: bool = False,
) -> list[Decision]:
    """Rewrite each key's readable outputs from its current job's stored result."""
    settings = None if dry_run else job_state_settings(clients, pipeline)
    return [
        _render_one(clients, pipeline, ledger, key, settings=settings, dry_run=dry_run)
        for key in keys
    ]


def _render_one(
    clients: Clients,
    pipeline: StackOutputs,
    ledger: Ledger,
    key: str,
    *,
    settings: Settings | None,
    dry_run: bool,
) -> Decision:
    item = ledger.current(key)
    if item is None:
        return _refused(key, "the ledger has no item of this key", ExitCode.NOT_FOUND)
    known = _about(item)
    if item.state is not State.TRANSCRIBED or not item.job:
        return _refused(
            key, f"its current version is {item.state.value}: there is no result to render", **known
        )
    if dry_run or settings is None:
        return Decision(key, Action.WOULD_RENDER, f"from {job_result_key(item.job)}", **known)
    s3 = clients("s3")
    job_settings = settings.job_for(key)
    # The files the harvest reads: the redacted result when the job (or, once Transcribe has
    # forgotten the job, the key's profile) asked for redaction.
    described = transcription_job(clients("transcribe"), item.job) or {}
    files = result_files(item.job, described, job_settings)
    readable = _stored_result(s3, pipeline.output_bucket, files.readable)
    unredacted = (
        _stored_result(s3, pipeline.output_bucket, files.unredacted) if files.unredacted else None
    )
    if readable is None or (files.unredacted and unredacted is None):
        missing = files.readable if readable is None else files.unredacted
        return _refused(key, f"{missing} is not in the output bucket", ExitCode.NOT_FOUND, **known)
    roles = job_settings.channel_roles
    try:
        text = transcript_text(readable, channel_roles=roles)
        outputs = readable_outputs(
            readable,
            source_key=key,
            job_name=item.job,
            language_code=item.language,
            subtitle_formats=job_settings.subtitle_formats,
            style=job_settings.subtitle_style,
            channel_roles=roles,
        )
        if unredacted is not None:
            outputs += unredacted_outputs(
                unredacted, source_key=key, job_name=item.job, job=described, roles=roles
            )
    except TranscriptError as error:
        return _refused(key, f"{files.readable} is malformed: {error}", **known)
    metadata = _harvest_metadata(s3, pipeline.output_bucket, key, item.job)
    written = write_outputs(s3, pipeline.output_bucket, outputs, metadata=metadata)
    # The .txt goes last, as the harvest writes it: its presence marks a complete set.
    text_key = transcript_key(key, "txt")
    s3.put_object(
        Bucket=pipeline.output_bucket,
        Key=text_key,
        Body=text.encode("utf-8"),
        ContentType=_TEXT_CONTENT_TYPE,
        Metadata=metadata,
    )
    _record_outputs(ledger, item, [*written, text_key])
    return Decision(
        key,
        Action.RENDERED,
        f"from {files.readable}",
        written=(*written, text_key),
        **known,
    )


def _stored_result(s3: Any, bucket: str, key: str) -> Any:
    """A stored result document (None when absent; not JSON reads as None, which
    ``transcript_text`` refuses with the reason)."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if is_not_found(error):
            return None
        raise
    try:
        return json.loads(body)
    except ValueError:
        return {}


def _record_outputs(ledger: Ledger, item: VersionItem, outputs: list[str]) -> None:
    """The item's outputs are now these (the formats may have changed since the harvest)."""
    try:
        ledger.dynamodb.update_item(
            TableName=ledger.table,
            Key=to_attributes({schema.PARTITION_KEY: item.key, schema.SORT_KEY: item.sort_key}),
            UpdateExpression="SET #outputs = :outputs",
            ConditionExpression="#state = :transcribed AND #job = :job",
            ExpressionAttributeNames={
                "#outputs": schema.OUTPUTS,
                "#state": schema.STATE,
                "#job": schema.JOB,
            },
            ExpressionAttributeValues=to_attributes(
                {":outputs": outputs, ":transcribed": State.TRANSCRIBED.value, ":job": item.job}
            ),
        )
    except ClientError as error:
        # A reprocess started meanwhile: its own harvest records its outputs.
        if error_code(error) != "ConditionalCheckFailedException":
            raise


def _harvest_metadata(s3: Any, bucket: str, key: str, job: str) -> dict[str, str]:
    """The metadata the harvest gave the outputs (kept as it is), or the job's name alone."""
    head = head_or_none(s3, bucket, transcript_key(key, "txt"))
    metadata = dict(head.get("Metadata", {})) if head else {}
    if metadata.get(JOB_NAME_META) == job:
        return metadata
    return {JOB_NAME_META: job}
