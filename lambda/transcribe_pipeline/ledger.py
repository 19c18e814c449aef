"""The ledger's table operations: every write conditional, so each decision is made once.

The item schema and the algorithms are in docs/ledger.md; the names come from ledger_schema.
Built on a boto3 ``Table`` resource; the transactions, which the resource does not offer, go
through a plain DynamoDB client with values typed by boto3's ``TypeSerializer``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from transcribe_pipeline.clients import error_code
from transcribe_pipeline.keys import S3Object
from transcribe_pipeline.ledger_schema import (
    ATTEMPT,
    BACKFILL_SEQUENCER,
    CLAIM_UNTIL,
    DURATION_SECONDS,
    ETAG,
    FINISHED_AT,
    HEAD_SORT_KEY,
    JOB,
    LANGUAGE,
    NOTICE,
    OPEN,
    OPEN_SINCE,
    OPEN_VALUE,
    OUTCOME_EVENT,
    OUTPUTS,
    PARTITION_KEY,
    PROFILE,
    REASON,
    RECEIVED_AT,
    SEQUENCER,
    SIZE,
    SORT_KEY,
    STARTED_AT,
    STATE,
    STATE_INDEX_SORT_KEY,
    VERSION_ID,
    VERSION_SORT_KEY_PREFIX,
    Announcement,
    State,
    iso_time,
    padded_sequencer,
)

_serialize = TypeSerializer().serialize
# How long one invocation holds an item's announcements: far longer than a publish takes, short
# enough that a sender that died is replaced soon (by the platform's retry or the sweeper).
CLAIM_DURATION = timedelta(minutes=2)
# The announcements an outcome may carry, in the order they are sent.
ANNOUNCEMENTS = (NOTICE, OUTCOME_EVENT)


class LedgerConflictError(RuntimeError):
    """A transaction met a concurrent one (TransactionConflict): retry later."""


class Commit(enum.Enum):
    """What became of an outcome's commit."""

    COMMITTED = "committed"  # this call made the transition
    ALREADY_DONE = "already-done"  # the item had left the expected state: someone else did it
    SUPERSEDED = "superseded"  # the head names another version: a newer version decides


@dataclass(frozen=True)
class Version:
    """One version item, as read from the table."""

    item: Mapping[str, Any]

    @property
    def key(self) -> str:
        """The source key."""
        return str(self.item[PARTITION_KEY])

    @property
    def sort_key(self) -> str:
        """``V#<padded sequencer>``."""
        return str(self.item[SORT_KEY])

    @property
    def sequencer(self) -> str:
        """The padded sequencer."""
        return str(self.item[SEQUENCER])

    @property
    def state(self) -> State:
        """The version's state."""
        return State(self.item[STATE])

    @property
    def job(self) -> str | None:
        """The job of the latest attempt, if one was named."""
        value = self.item.get(JOB)
        return str(value) if value else None

    @property
    def attempt(self) -> int:
        """1 for the upload's own job, +1 per reprocess."""
        return int(self.item.get(ATTEMPT, 1))

    @property
    def version_id(self) -> str | None:
        """S3's version id, or None for an unversioned object."""
        value = self.item.get(VERSION_ID)
        return str(value) if value else None

    @property
    def outputs(self) -> tuple[str, ...]:
        """The output keys written for this version."""
        return tuple(str(key) for key in self.item.get(OUTPUTS, ()))

    @property
    def reason(self) -> str | None:
        """Why REJECTED or FAILED."""
        value = self.item.get(REASON)
        return str(value) if value else None

    @property
    def language(self) -> str | None:
        """The job's language code."""
        value = self.item.get(LANGUAGE)
        return str(value) if value else None

    @property
    def duration_s(self) -> float | None:
        """Audio seconds."""
        value = self.item.get(DURATION_SECONDS)
        return None if value is None else float(value)

    @property
    def pending(self) -> tuple[str, ...]:
        """The announcements still to be sent (``notice``, ``outcome_event``)."""
        return tuple(name for name in ANNOUNCEMENTS if self.item.get(name) == Announcement.PENDING)

    @property
    def is_open(self) -> bool:
        """Whether the item is in the open-items index."""
        return OPEN in self.item

    def source(self, bucket: str) -> S3Object:
        """The upload this item records."""
        size = self.item.get(SIZE)
        return S3Object(
            bucket=bucket,
            key=self.key,
            size=None if size is None else int(size),
            version_id=self.version_id,
            etag=self.item.get(ETAG) or None,
        )


@dataclass(frozen=True)
class Received:
    """A version as the start function found it: its item, and the key's head sequencer."""

    version: Version
    head_sequencer: str

    @property
    def is_head(self) -> bool:
        """Whether this version is the newest the ledger has seen of its key."""
        return self.head_sequencer == self.version.sequencer


def _key(source_key: str, sort_key: str) -> dict[str, str]:
    return {PARTITION_KEY: source_key, SORT_KEY: sort_key}


def _head_key(source_key: str) -> dict[str, str]:
    return _key(source_key, HEAD_SORT_KEY)


def _number(value: float | int | None) -> Decimal | None:
    # DynamoDB numbers go through Decimal; str() keeps a float's shortest exact text.
    return None if value is None else Decimal(str(value))


class Ledger:
    """The ledger table and the conditional writes the functions make on it."""

    def __init__(self, table: Any, client: Any = None) -> None:
        self.table = table
        self.name = str(table.name)
        # The resource's own client types values itself: a plain one, configured alike, for
        # the transactions written with TypeSerializer.
        resource_client = table.meta.client
        self.client = client or boto3.client(
            "dynamodb",
            region_name=resource_client.meta.region_name,
            endpoint_url=resource_client.meta.endpoint_url,
            config=resource_client.meta.config,
        )

    # --- reading ------------------------------------------------------------------------------

    def head(self, source_key: str) -> Mapping[str, Any] | None:
        """The key's head item (strongly consistent), or None before any version."""
        item: Mapping[str, Any] | None = self.table.get_item(
            Key=_head_key(source_key), ConsistentRead=True
        ).get("Item")
        return item

    def head_sequencer(self, source_key: str) -> str | None:
        """The padded sequencer of the key's newest version, or None."""
        head = self.head(source_key)
        return None if head is None else str(head[SEQUENCER])

    def version(self, source_key: str, sort_key: str) -> Version | None:
        """One version item (strongly consistent), or None."""
        item = self.table.get_item(Key=_key(source_key, sort_key), ConsistentRead=True).get("Item")
        return None if item is None else Version(item)

    def current(self, source_key: str) -> Version | None:
        """The version item the head names, or None."""
        sequencer = self.head_sequencer(source_key)
        if sequencer is None:
            return None
        return self.version(source_key, f"{VERSION_SORT_KEY_PREFIX}{sequencer}")

    def find_by_job(self, source_key: str, job_name: str) -> Version | None:
        """The version item of ``source_key`` whose latest job is ``job_name``, or None.

        One Query of the key's partition: a key has few versions, and the item is found
        without an index on job names.
        """
        request: dict[str, Any] = {
            "KeyConditionExpression": Key(PARTITION_KEY).eq(source_key)
            & Key(SORT_KEY).begins_with(VERSION_SORT_KEY_PREFIX),
            "FilterExpression": Attr(JOB).eq(job_name),
            "ConsistentRead": True,
        }
        while True:
            page = self.table.query(**request)
            for item in page.get("Items", []):
                return Version(item)
            if "LastEvaluatedKey" not in page:
                return None
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- receiving and starting -------------------------------------------------------------

    def receive(self, obj: S3Object, *, sequencer: str, profile: str, now: datetime) -> Received:
        """Record an upload's event: the version item if new, then the head if newer.

        A duplicate event finds the item as it is and carries on from its state. The head only
        moves forward (docs/ledger.md, "Ordering: the head decides").
        """
        padded = padded_sequencer(sequencer)
        sort_key = f"{VERSION_SORT_KEY_PREFIX}{padded}"
        item: dict[str, Any] = {
            **_key(obj.key, sort_key),
            SEQUENCER: padded,
            STATE: State.RECEIVED.value,
            STATE_INDEX_SORT_KEY: obj.key,
            ATTEMPT: 1,
            PROFILE: profile,
            RECEIVED_AT: iso_time(now),
            OPEN: OPEN_VALUE,
            OPEN_SINCE: iso_time(now),
        }
        for name, value in ((VERSION_ID, obj.version_id), (ETAG, obj.etag)):
            if value:
                item[name] = value
        if obj.size is not None:
            item[SIZE] = obj.size
        try:
            self.table.put_item(Item=item, ConditionExpression=Attr(PARTITION_KEY).not_exists())
            version = Version(item)
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            found = self.version(obj.key, sort_key)
            if found is None:  # deleted in between (forget): record it again next time
                raise
            version = found
        head_values: dict[str, Any] = {":sequencer": padded}
        head_set = f"#{SEQUENCER} = :sequencer"
        if obj.version_id:
            head_values[":version"] = obj.version_id
            head_set += f", #{VERSION_ID} = :version"
        try:
            self.table.update_item(
                Key=_head_key(obj.key),
                UpdateExpression=f"SET {head_set}"
                + ("" if obj.version_id else f" REMOVE #{VERSION_ID}"),
                ConditionExpression=f"attribute_not_exists(#{PARTITION_KEY}) "
                f"OR #{SEQUENCER} < :sequencer",
                ExpressionAttributeNames=_names(SEQUENCER, VERSION_ID, PARTITION_KEY),
                ExpressionAttributeValues=head_values,
            )
            return Received(version, padded)
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
        head = self.head_sequencer(obj.key)
        return Received(version, head or padded)

    def mark_started(self, version: Version, *, job_name: str, now: datetime) -> bool:
        """RECEIVED -> STARTED with the job; False if another invocation got there first."""
        return self._transition(
            version,
            State.RECEIVED,
            State.STARTED,
            {JOB: job_name, STARTED_AT: iso_time(now)},
            condition_attempt=True,
        )

    def supersede(self, version: Version, *, now: datetime) -> bool:
        """RECEIVED or STARTED -> SUPERSEDED, settled; False if it had already left those states.

        Only the call that makes the transition gets True: what it counts is counted once.
        """
        try:
            self.table.update_item(
                Key=_key(version.key, version.sort_key),
                UpdateExpression=f"SET #{STATE} = :superseded, #{FINISHED_AT} = :now "
                f"REMOVE #{OPEN}, #{OPEN_SINCE}, #{NOTICE}, #{OUTCOME_EVENT}, #{CLAIM_UNTIL}",
                ConditionExpression=f"#{STATE} IN (:received, :started) AND #{ATTEMPT} = :attempt",
                ExpressionAttributeNames=_names(
                    STATE,
                    ATTEMPT,
                    FINISHED_AT,
                    OPEN,
                    OPEN_SINCE,
                    NOTICE,
                    OUTCOME_EVENT,
                    CLAIM_UNTIL,
                ),
                ExpressionAttributeValues={
                    ":superseded": State.SUPERSEDED.value,
                    ":received": State.RECEIVED.value,
                    ":started": State.STARTED.value,
                    ":attempt": version.attempt,
                    ":now": iso_time(now),
                },
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _transition(
        self,
        version: Version,
        source: State,
        target: State,
        values: Mapping[str, Any],
        *,
        condition_attempt: bool = False,
    ) -> bool:
        names = {"#state": STATE, **{f"#{n}": n for n in values}}
        assignments = ", ".join(f"#{n} = :{n}" for n in values)
        condition = "#state = :source"
        attribute_values: dict[str, Any] = {
            ":source": source.value,
            ":target": target.value,
            **{f":{n}": v for n, v in values.items()},
        }
        if condition_attempt:
            names["#attempt"] = ATTEMPT
            condition += " AND #attempt = :attempt"
            attribute_values[":attempt"] = version.attempt
        try:
            self.table.update_item(
                Key=_key(version.key, version.sort_key),
                UpdateExpression=f"SET #state = :target, {assignments}",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=attribute_values,
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # --- outcomes -----------------------------------------------------------------------------

    def commit_outcome(
        self,
        version: Version,
        *,
        source: State,
        target: State,
        job_name: str | None,
        outputs: Sequence[str],
        reason: str | None,
        language: str | None,
        duration_s: float | None,
        notice: bool,
        now: datetime,
    ) -> Commit:
        """``source`` -> ``target`` with the outcome, if the head still names this version.

        One transaction: the version's update (conditional on its state and attempt) and a
        ConditionCheck of the head. The announcements are set PENDING in the same write, so
        the item stays open until they are sent (docs/ledger.md, "Exactly once").
        """
        values: dict[str, Any] = {
            STATE: target.value,
            OUTPUTS: list(outputs),
            FINISHED_AT: iso_time(now),
            OUTCOME_EVENT: Announcement.PENDING.value,
        }
        if notice:
            values[NOTICE] = Announcement.PENDING.value
        for name, value in (
            (JOB, job_name),
            (REASON, reason),
            (LANGUAGE, language),
            (DURATION_SECONDS, _number(duration_s)),
        ):
            if value is not None:
                values[name] = value
        removed = [name for name in (REASON, LANGUAGE, DURATION_SECONDS) if name not in values]
        if not notice:
            removed.append(NOTICE)
        update = "SET " + ", ".join(f"#{n} = :{n}" for n in values)
        if removed:
            update += " REMOVE " + ", ".join(f"#{n}" for n in removed)
        names = {f"#{n}": n for n in (*values, *removed, ATTEMPT)}
        attribute_values = {f":{n}": v for n, v in values.items()}
        attribute_values[":source"] = source.value
        attribute_values[":attempt"] = version.attempt
        condition = f"#{STATE} = :source AND #{ATTEMPT} = :attempt"
        if source is State.STARTED and job_name is not None:
            # The job that finished must be the version's latest attempt's.
            condition += f" AND #{JOB} = :{JOB}"
        return self._transact_with_head(
            version,
            {
                "Update": {
                    "TableName": self.name,
                    "Key": _serialized(_key(version.key, version.sort_key)),
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": _serialized(attribute_values),
                }
            },
            head_condition=f"#{SEQUENCER} = :sequencer",
            head_values={":sequencer": version.sequencer},
        )

    def backfill(
        self, obj: S3Object, *, job_name: str, state: State, outputs: Sequence[str],
        reason: str | None, language: str | None, duration_s: float | None, notice: bool,
        profile: str, now: datetime,
    ) -> Commit:  # fmt: skip
        """Write the item of a job started before the ledger existed, with its outcome.

        Its sequencer is BACKFILL_SEQUENCER, older than any real event; the head is written
        only if it is absent or a backfill too (a real version of the key decides otherwise).
        """
        item: dict[str, Any] = {
            **_key(obj.key, f"{VERSION_SORT_KEY_PREFIX}{BACKFILL_SEQUENCER}"),
            SEQUENCER: BACKFILL_SEQUENCER,
            STATE: state.value,
            STATE_INDEX_SORT_KEY: obj.key,
            JOB: job_name,
            ATTEMPT: 1,
            PROFILE: profile,
            RECEIVED_AT: iso_time(now),
            FINISHED_AT: iso_time(now),
            OUTPUTS: list(outputs),
            OUTCOME_EVENT: Announcement.PENDING.value,
            OPEN: OPEN_VALUE,
            OPEN_SINCE: iso_time(now),
        }
        if notice:
            item[NOTICE] = Announcement.PENDING.value
        for name, value in (
            (VERSION_ID, obj.version_id),
            (REASON, reason),
            (LANGUAGE, language),
            (DURATION_SECONDS, _number(duration_s)),
        ):
            if value is not None:
                item[name] = value
        head_item = {**_head_key(obj.key), SEQUENCER: BACKFILL_SEQUENCER}
        if obj.version_id:
            head_item[VERSION_ID] = obj.version_id
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.name,
                            "Item": _serialized(item),
                            # Another pre-ledger job of the key may have been backfilled; the
                            # S3-metadata checks already chose this one as the newer.
                            "ConditionExpression": "attribute_not_exists(#job) OR #job <> :job",
                            "ExpressionAttributeNames": {"#job": JOB},
                            "ExpressionAttributeValues": _serialized({":job": job_name}),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.name,
                            "Item": _serialized(head_item),
                            "ConditionExpression": f"attribute_not_exists(#{PARTITION_KEY}) "
                            f"OR #{SEQUENCER} = :backfill",
                            "ExpressionAttributeNames": _names(PARTITION_KEY, SEQUENCER),
                            "ExpressionAttributeValues": _serialized(
                                {":backfill": BACKFILL_SEQUENCER}
                            ),
                        }
                    },
                ]
            )
        except ClientError as error:
            reasons = _cancellation_codes(error)
            if reasons is None:
                raise
            if reasons[1] == "ConditionalCheckFailed":
                return Commit.SUPERSEDED
            if reasons[0] == "ConditionalCheckFailed":
                return Commit.ALREADY_DONE
            raise LedgerConflictError(
                f"Backfill of {obj.key!r} was cancelled: {reasons}"
            ) from error
        return Commit.COMMITTED

    def _transact_with_head(
        self,
        version: Version,
        write: Mapping[str, Any],
        *,
        head_condition: str,
        head_values: Mapping[str, Any],
    ) -> Commit:
        try:
            self.client.transact_write_items(
                TransactItems=[
                    write,
                    {
                        "ConditionCheck": {
                            "TableName": self.name,
                            "Key": _serialized(_head_key(version.key)),
                            "ConditionExpression": head_condition,
                            "ExpressionAttributeNames": _names(SEQUENCER),
                            "ExpressionAttributeValues": _serialized(dict(head_values)),
                        }
                    },
                ]
            )
        except ClientError as error:
            reasons = _cancellation_codes(error)
            if reasons is None:
                raise
            if reasons[0] == "ConditionalCheckFailed":
                return Commit.ALREADY_DONE
            if reasons[1] == "ConditionalCheckFailed":
                return Commit.SUPERSEDED
            raise LedgerConflictError(
                f"The outcome of {version.key!r} {version.sort_key} was cancelled: {reasons}"
            ) from error
        return Commit.COMMITTED

    # --- announcements ------------------------------------------------------------------------

    def claim(self, version: Version, *, now: datetime) -> Version | None:
        """Hold the item's pending announcements until now + CLAIM_DURATION; None if held."""
        try:
            response = self.table.update_item(
                Key=_key(version.key, version.sort_key),
                UpdateExpression=f"SET #{CLAIM_UNTIL} = :until",
                ConditionExpression=f"(attribute_not_exists(#{CLAIM_UNTIL}) "
                f"OR #{CLAIM_UNTIL} < :now) "
                f"AND (#{NOTICE} = :pending OR #{OUTCOME_EVENT} = :pending)",
                ExpressionAttributeNames=_names(CLAIM_UNTIL, NOTICE, OUTCOME_EVENT),
                ExpressionAttributeValues={
                    ":until": iso_time(now + CLAIM_DURATION),
                    ":now": iso_time(now),
                    ":pending": Announcement.PENDING.value,
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return None
            raise
        return Version(response["Attributes"])

    def mark_sent(self, version: Version, announcement: str) -> None:
        """Record one announcement as sent (the claim stays until ``release``)."""
        self.table.update_item(
            Key=_key(version.key, version.sort_key),
            UpdateExpression="SET #announcement = :sent",
            ConditionExpression="#announcement = :pending",
            ExpressionAttributeNames={"#announcement": announcement},
            ExpressionAttributeValues={
                ":sent": Announcement.SENT.value,
                ":pending": Announcement.PENDING.value,
            },
        )

    def release(self, version: Version) -> None:
        """Give up the claim, so that a retry (or the sweeper) may send what is pending."""
        self.table.update_item(
            Key=_key(version.key, version.sort_key),
            UpdateExpression=f"REMOVE #{CLAIM_UNTIL}",
            ExpressionAttributeNames=_names(CLAIM_UNTIL),
        )

    def settle(self, version: Version) -> bool:
        """Leave the open-items index if the state is final and nothing is pending."""
        try:
            self.table.update_item(
                Key=_key(version.key, version.sort_key),
                UpdateExpression=f"REMOVE #{OPEN}, #{OPEN_SINCE}, #{CLAIM_UNTIL}",
                ConditionExpression=f"#{STATE} IN (:rejected, :transcribed, :failed, :superseded) "
                f"AND (attribute_not_exists(#{NOTICE}) OR #{NOTICE} = :sent) "
                f"AND (attribute_not_exists(#{OUTCOME_EVENT}) OR #{OUTCOME_EVENT} = :sent)",
                ExpressionAttributeNames=_names(
                    STATE, OPEN, OPEN_SINCE, CLAIM_UNTIL, NOTICE, OUTCOME_EVENT
                ),
                ExpressionAttributeValues={
                    ":rejected": State.REJECTED.value,
                    ":transcribed": State.TRANSCRIBED.value,
                    ":failed": State.FAILED.value,
                    ":superseded": State.SUPERSEDED.value,
                    ":sent": Announcement.SENT.value,
                },
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _names(*attributes: str) -> dict[str, str]:
    """``#name`` placeholders for attribute names: several (``open``, ``size``, ``language``...)
    are DynamoDB reserved words, so every expression names attributes through these."""
    return {f"#{name}": name for name in attributes}


def _serialized(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serialize(value) for name, value in values.items()}


def _cancellation_codes(error: ClientError) -> list[str] | None:
    """The per-action codes of a cancelled transaction ("None" where an action was fine).

    None when the error is not a TransactionCanceledException (docs/ledger.md, "AWS facts").
    """
    if error_code(error) != "TransactionCanceledException":
        return None
    reasons = error.response.get("CancellationReasons") or []
    return [str(reason.get("Code", "None")) for reason in reasons]
