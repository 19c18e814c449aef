"""The ledger table in moto, and items written as the functions would have left them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from tests.handlers.conftest import LEDGER_TABLE, REGION
from transcribe_pipeline.ledger_schema import (
    ATTEMPT,
    HEAD_SORT_KEY,
    JOB,
    OPEN,
    OPEN_SINCE,
    OPEN_VALUE,
    PARTITION_KEY,
    PROFILE,
    RECEIVED_AT,
    SEQUENCER,
    SORT_KEY,
    STARTED_AT,
    STATE,
    STATE_INDEX_SORT_KEY,
    VERSION_ID,
    State,
    padded_sequencer,
    version_sort_key,
)

# The table the `cloud` fixture creates and the handlers are configured with: one ledger.
TABLE = LEDGER_TABLE
OPEN_FOR = timedelta(minutes=15)  # how long an item has been open, unless a test says


class Ledger:
    """The `cloud` fixture's ledger table, and a shortcut for writing items as the functions do."""

    def __init__(self) -> None:
        self.client: Any = boto3.client("dynamodb", region_name=REGION)
        self.sequencers = iter(range(0x1000, 0x100000))

    def put_version(
        self,
        key: str,
        state: State,
        *,
        job: str | None = None,
        age: timedelta = OPEN_FOR,
        is_open: bool = True,
        **extra: str,
    ) -> None:
        """Write a version item (and the key's head) as the functions would have left it."""
        sequencer = f"{next(self.sequencers):X}"
        since = (datetime.now(UTC) - age).isoformat()
        item: dict[str, str] = {
            PARTITION_KEY: key,
            SORT_KEY: version_sort_key(sequencer),
            SEQUENCER: padded_sequencer(sequencer),
            VERSION_ID: f"v-{sequencer}",
            STATE: state.value,
            STATE_INDEX_SORT_KEY: key,
            PROFILE: "",
            RECEIVED_AT: since,
            **extra,
        }
        if job is not None:
            item.update({JOB: job, STARTED_AT: since})
        if is_open:
            item.update({OPEN: OPEN_VALUE, OPEN_SINCE: since})
        typed = {name: {"S": value} for name, value in item.items()}
        typed[ATTEMPT] = {"N": "1"}
        self.client.put_item(TableName=TABLE, Item=typed)
        head = {PARTITION_KEY: key, SORT_KEY: HEAD_SORT_KEY, SEQUENCER: item[SEQUENCER]}
        self.client.put_item(
            TableName=TABLE, Item={name: {"S": value} for name, value in head.items()}
        )
