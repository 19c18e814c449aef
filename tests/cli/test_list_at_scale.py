"""``list`` at 100,000 ledger items: a page costs one Query of the by-state index, never a Scan."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from pipeline_cli import aws
from pipeline_cli.ledger import to_attributes
from tests.cli.support import REGION, run, version_item
from transcribe_pipeline import ledger_schema as schema
from transcribe_pipeline.keys import S3Object
from transcribe_pipeline.ledger_schema import State

ITEMS = 100_000
FOLDERS = 10


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every AWS operation the CLI calls, as ``service:Operation``, counted."""
    counted: Counter[str] = Counter()
    create = aws.Clients.__call__

    def counting(self: aws.Clients, service: str, **kwargs: Any) -> Any:
        client = create(self, service, **kwargs)

        def count(model: Any, **_: Any) -> None:
            counted[f"{model.service_model.service_name}:{model.name}"] += 1

        client.meta.events.register("before-call", count, unique_id="test-count-calls")
        return client

    monkeypatch.setattr(aws.Clients, "__call__", counting)
    return counted


@pytest.fixture
def a_large_ledger(fake_pipeline):
    """100,000 transcribed versions in 10 folders, put into moto's table directly: through
    the API (BatchWriteItem, 25 items a call) the arrangement alone would take minutes."""
    table = fake_pipeline.outputs.ledger_table
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    obj = S3Object("media-in", "folder-0/000000.mp3", 1000, "v0", "etag")
    template = to_attributes(version_item(obj, State.TRANSCRIBED, "1", job="tp-000000"))
    for n in range(ITEMS):
        key = {"S": f"folder-{n % FOLDERS}/{n:06d}.mp3"}
        sequencer = {"S": schema.padded_sequencer(f"{n + 1:X}")}
        item = {
            **template,
            schema.PARTITION_KEY: key,
            schema.STATE_INDEX_SORT_KEY: key,
            schema.SEQUENCER: sequencer,
            schema.SORT_KEY: {"S": f"{schema.VERSION_SORT_KEY_PREFIX}{sequencer['S']}"},
        }
        backend.put_item(table, item)
    return fake_pipeline


def test_a_page_of_a_large_ledger_is_one_query_and_the_token_goes_on(a_large_ledger, calls):
    page = ["list", "--json", "--state", "TRANSCRIBED", "--prefix", "folder-3/", "--limit", "100"]
    first = run(*page)
    first_calls = dict(calls)
    calls.clear()
    second = run(*page, "--next-token", json.loads(first.stdout)["next_token"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert first_calls == {"cloudformation:DescribeStacks": 1, "dynamodb:Query": 1}
    assert dict(calls) == {"cloudformation:DescribeStacks": 1, "dynamodb:Query": 1}
    keys = [i["key"] for i in json.loads(first.stdout)["items"]]
    keys += [i["key"] for i in json.loads(second.stdout)["items"]]
    assert keys == [f"folder-3/{n:06d}.mp3" for n in range(3, 2000, FOLDERS)]
