"""The ledger as the operator commands read and write it: heads, version items, the indexes.

Names come from transcribe_pipeline.ledger_schema (docs/ledger.md explains the items); this
module only turns DynamoDB's answers into typed items and back.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from pipeline_cli.errors import CliError, ExitCode
from transcribe_pipeline import ledger_schema as schema
from transcribe_pipeline.ledger_schema import State, iso_time
from transcribe_pipeline.stack_outputs import StackOutputs

_DESERIALIZE = TypeDeserializer().deserialize
_BATCH_WRITE_MOST = 25
_SERIALIZE = TypeSerializer().serialize


def iso_now() -> str:
    """The current time as the ledger stores times."""
    return iso_time(datetime.now(UTC))


def to_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain item as DynamoDB's typed attribute values (None values left out)."""
    return {name: _SERIALIZE(_storable(value)) for name, value in item.items() if value is not None}


def _storable(value: Any) -> Any:
    """Floats as Decimals, which DynamoDB's serializer requires (exactly as printed)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def from_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB's typed attribute values as plain Python (numbers as int or float)."""
    return {name: _plain(_DESERIALIZE(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class VersionItem:
    """One upload version's item (docs/ledger.md, "Items")."""

    key: str
    sequencer: str
    state: State
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    job: str | None = None
    attempt: int = 1
    profile: str | None = None
    received_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    language: str | None = None
    duration_s: float | None = None
    outputs: list[str] = field(default_factory=list)
    reason: str | None = None
    notice: str | None = None
    outcome_event: str | None = None
    open_since: str | None = None

    @property
    def sort_key(self) -> str:
        """The item's sort key: ``V#`` and the padded sequencer."""
        return schema.version_sort_key(self.sequencer)

    @property
    def is_final(self) -> bool:
        """Whether nothing more happens to it (until a ``reprocess``)."""
        return self.state in schema.FINAL_STATES

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> VersionItem:
        """Read a plain (deserialized) version item."""
        return cls(
            key=str(item[schema.PARTITION_KEY]),
            sequencer=str(item[schema.SEQUENCER]),
            state=State(item[schema.STATE]),
            version_id=item.get(schema.VERSION_ID),
            etag=item.get(schema.ETAG),
            size=item.get(schema.SIZE),
            job=item.get(schema.JOB),
            attempt=int(item.get(schema.ATTEMPT, 1)),
            profile=item.get(schema.PROFILE),
            received_at=item.get(schema.RECEIVED_AT),
            started_at=item.get(schema.STARTED_AT),
            finished_at=item.get(schema.FINISHED_AT),
            language=item.get(schema.LANGUAGE),
            duration_s=item.get(schema.DURATION_SECONDS),
            outputs=list(item.get(schema.OUTPUTS) or []),
            reason=item.get(schema.REASON),
            notice=item.get(schema.NOTICE),
            outcome_event=item.get(schema.OUTCOME_EVENT),
            open_since=item.get(schema.OPEN_SINCE),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {
            "key": self.key,
            "version_id": self.version_id,
            "sequencer": self.sequencer,
            "state": self.state.value,
            "job": self.job,
            "attempt": self.attempt,
            "profile": self.profile,
            "size": self.size,
            "received_at": self.received_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "language": self.language,
            "duration_s": self.duration_s,
            "outputs": self.outputs,
            "reason": self.reason,
            "notice": self.notice,
            "outcome_event": self.outcome_event,
            "open": self.open_since is not None,
        }


@dataclass(frozen=True)
class Page:
    """Version items of one listing, and the token that continues it (None: nothing more)."""

    items: list[VersionItem]
    next_token: str | None


class Ledger:
    """The pipeline's ledger table, through a low-level DynamoDB client."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.table = table

    def get(self, key: str, sort_key: str) -> dict[str, Any] | None:
        """One item (strongly consistent), None when absent."""
        answer = self.dynamodb.get_item(
            TableName=self.table,
            Key=to_attributes({schema.PARTITION_KEY: key, schema.SORT_KEY: sort_key}),
            ConsistentRead=True,
        )
        return from_attributes(answer["Item"]) if "Item" in answer else None

    def head(self, key: str) -> dict[str, Any] | None:
        """The key's head item: the newest version the pipeline has seen."""
        return self.get(key, schema.HEAD_SORT_KEY)

    def current(self, key: str) -> VersionItem | None:
        """The version item the key's head names, None when the key has no head."""
        head = self.head(key)
        if head is None:
            return None
        item = self.get(key, schema.version_sort_key(str(head[schema.SEQUENCER])))
        return None if item is None else VersionItem.from_item(item)

    def versions(self, key: str) -> list[VersionItem]:
        """Every version item of the key, newest first."""
        found = [
            VersionItem.from_item(item)
            for item in self._partition(key, sort_prefix=schema.VERSION_SORT_KEY_PREFIX)
        ]
        return sorted(found, key=lambda v: v.sort_key, reverse=True)

    def version(self, key: str, version_id: str | None) -> VersionItem | None:
        """The (newest) item of one upload version of the key, None when not recorded yet."""
        return next((v for v in self.versions(key) if v.version_id == version_id), None)

    def item_keys(self, key: str) -> list[tuple[str, str]]:
        """The primary key of every item of the key's partition: head and versions."""
        return [
            (str(item[schema.PARTITION_KEY]), str(item[schema.SORT_KEY]))
            for item in self._partition(key)
        ]

    def delete(self, key: str, sort_key: str) -> None:
        """Delete one item (absent is fine)."""
        self.dynamodb.delete_item(
            TableName=self.table,
            Key=to_attributes({schema.PARTITION_KEY: key, schema.SORT_KEY: sort_key}),
        )

    def every_item_key(self) -> Iterator[tuple[str, str]]:
        """The primary key of every item of the table (a Scan: for `clean`, which empties it)."""
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self.table,
            ProjectionExpression="#pk, #sk",
            ExpressionAttributeNames={"#pk": schema.PARTITION_KEY, "#sk": schema.SORT_KEY},
        ):
            for item in page["Items"]:
                plain = from_attributes(item)
                yield str(plain[schema.PARTITION_KEY]), str(plain[schema.SORT_KEY])

    def delete_many(self, keys: Iterable[tuple[str, str]]) -> int:
        """Delete items by primary key, 25 a request (BatchWriteItem's most); how many."""
        deleted = 0
        batch: list[dict[str, Any]] = []
        for key, sort_key in keys:
            request = {schema.PARTITION_KEY: key, schema.SORT_KEY: sort_key}
            batch.append({"DeleteRequest": {"Key": to_attributes(request)}})
            if len(batch) == _BATCH_WRITE_MOST:
                deleted += self._write_batch(batch)
                batch = []
        if batch:
            deleted += self._write_batch(batch)
        return deleted

    def _write_batch(self, requests: list[dict[str, Any]]) -> int:
        """One BatchWriteItem, its unprocessed requests sent again until none is left."""
        pending = {self.table: requests}
        while pending:
            answer = self.dynamodb.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
        return len(requests)

    def by_state(
        self, states: list[State], *, prefix: str = "", limit: int = 0, token: str | None = None
    ) -> Page:
        """Version items in ``states`` whose key starts with ``prefix``, in key order per state.

        One Query of the by-state index per state and page (``begins_with`` on the key): the
        cost follows what is listed, not the table's size. ``limit`` (0: no limit) ends the
        page early with a token from which the next call goes on.
        """
        position = _decode_token(token, len(states)) if token else (0, None)
        index, start = position
        items: list[VersionItem] = []
        while index < len(states):
            for page in self._state_pages(states[index], prefix, start, limit, len(items)):
                items.extend(VersionItem.from_item(from_attributes(i)) for i in page["Items"])
                start = page.get("LastEvaluatedKey")
                if limit and len(items) >= limit:
                    if start is None:
                        index, start = index + 1, None
                    more = index < len(states)
                    return Page(items, _encode_token(index, start) if more else None)
            index, start = index + 1, None
        return Page(items, None)

    def _state_pages(
        self, state: State, prefix: str, start: dict[str, Any] | None, limit: int, have: int
    ) -> Iterator[dict[str, Any]]:
        """Pages of one state's Query, each at most what is left of ``limit``."""
        while True:
            kwargs = self._state_query(state, prefix)
            if start:
                kwargs["ExclusiveStartKey"] = start
            if limit:
                kwargs["Limit"] = limit - have
            page = self.dynamodb.query(**kwargs)
            have += len(page["Items"])
            yield page
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def count(self, state: State) -> int:
        """How many version items are in ``state`` (Query with Select=COUNT, every page)."""
        total, start = 0, None
        while True:
            kwargs = {**self._state_query(state, ""), "Select": "COUNT"}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self.dynamodb.query(**kwargs)
            total += int(page["Count"])
            start = page.get("LastEvaluatedKey")
            if not start:
                return total

    def _state_query(self, state: State, prefix: str) -> dict[str, Any]:
        condition = "#state = :state"
        values: dict[str, Any] = {":state": {"S": state.value}}
        names = {"#state": schema.STATE}
        if prefix:
            condition += " AND begins_with(#source, :prefix)"
            values[":prefix"] = {"S": prefix}
            names["#source"] = schema.STATE_INDEX_SORT_KEY
        return {
            "TableName": self.table,
            "IndexName": schema.STATE_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def _partition(self, key: str, *, sort_prefix: str = "") -> Iterator[dict[str, Any]]:
        condition = "#pk = :pk"
        values: dict[str, Any] = {":pk": {"S": key}}
        names = {"#pk": schema.PARTITION_KEY}
        if sort_prefix:
            condition += " AND begins_with(#sk, :sk)"
            values[":sk"] = {"S": sort_prefix}
            names["#sk"] = schema.SORT_KEY
        paginator = self.dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ConsistentRead=True,
        ):
            for item in page["Items"]:
                yield from_attributes(item)


def pipeline_ledger(dynamodb: Any, pipeline: StackOutputs) -> Ledger:
    """The pipeline's ledger table; CliError for a stack deployed before the ledger."""
    if not pipeline.ledger_table:
        raise CliError(
            f"Stack {pipeline.stack!r} has no ledger table: it was deployed before the ledger.",
            ExitCode.NOT_FOUND,
            hint="Deploy the current version (`npx cdk deploy`), then record the inputs "
            "uploaded before with `transcribe-pipeline reprocess --backfill`.",
        )
    return Ledger(dynamodb, pipeline.ledger_table)


def _encode_token(index: int, start: dict[str, Any] | None) -> str:
    """Where a listing goes on: the state's position and DynamoDB's LastEvaluatedKey."""
    text = json.dumps({"state": index, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def _decode_token(token: str, states: int) -> tuple[int, dict[str, Any] | None]:
    problem = CliError(
        "The --next-token is not one this command printed (or the --state options changed).",
        ExitCode.USAGE,
    )
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        index, start = int(document["state"]), document["start"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        raise problem from None
    if not 0 <= index < states or not (start is None or isinstance(start, dict)):
        raise problem
    return index, start
