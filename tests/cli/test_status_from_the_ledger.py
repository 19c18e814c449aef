"""``status`` counts upload versions by ledger state; ``status KEY`` shows one key's item."""

from __future__ import annotations

import copy
import json

import boto3

from pipeline_cli.errors import ExitCode
from tests.cli.support import REGION, TEMPLATE, run, said
from transcribe_pipeline import stack_outputs as output
from transcribe_pipeline.ledger_schema import State


def test_status_counts_upload_versions_by_ledger_state(fake_pipeline):
    fake_pipeline.transcribe_done(fake_pipeline.put_input("a.mp3"))
    fake_pipeline.transcribe_done(fake_pipeline.put_input("b.mp3"))
    fake_pipeline.record(fake_pipeline.put_input("c.mp3"), State.STARTED)

    result = run("status", "--json")

    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["versions"] == {"STARTED": 1, "TRANSCRIBED": 2}
    assert found["ledger_table"] == fake_pipeline.outputs.ledger_table


def test_status_of_a_key_shows_its_current_versions_item(fake_pipeline):
    fake_pipeline.transcribe_done(fake_pipeline.put_input("talks/a.mp3"))
    newer = fake_pipeline.put_input("talks/a.mp3", b"ID3 newer")
    job = fake_pipeline.transcribe_done(newer)

    result = run("status", "talks/a.mp3", "--json")

    assert result.exit_code == 0, result.output
    item = json.loads(result.stdout)
    assert item["version_id"] == newer.version_id
    assert item["state"] == "TRANSCRIBED"
    assert item["job"] == job
    assert item["attempt"] == 1
    assert item["language"] == "en-US"
    assert item["duration_s"] == 2.3
    assert item["finished_at"] == "2026-11-02T10:00:09+00:00"
    assert item["outputs"] == ["transcripts/talks/a.mp3.txt", "transcripts/talks/a.mp3.srt"]
    assert item["reason"] is None


def test_status_versions_lists_every_version_newest_first(fake_pipeline):
    first = fake_pipeline.put_input("a.mp3")
    fake_pipeline.fail(first, "The media file could not be decoded.")
    second = fake_pipeline.put_input("a.mp3", b"ID3 fixed")
    fake_pipeline.transcribe_done(second)

    result = run("status", "a.mp3", "--versions", "--json")

    items = json.loads(result.stdout)
    assert [(i["version_id"], i["state"]) for i in items] == [
        (second.version_id, "TRANSCRIBED"),
        (first.version_id, "FAILED"),
    ]
    assert items[1]["reason"] == "The media file could not be decoded."


def test_status_of_a_key_prints_its_fields_for_people(fake_pipeline):
    fake_pipeline.fail(fake_pipeline.put_input("bad.mp3"), "The media file could not be decoded.")

    result = run("status", "bad.mp3")

    assert result.exit_code == 0, result.output
    text = said(result.stdout)
    assert "FAILED" in text
    assert "The media file could not be decoded." in text
    assert "attempt 1" in text


def test_status_of_a_key_the_ledger_lacks_exits_3_and_mentions_backfill(fake_pipeline):
    fake_pipeline.put_input("old.mp3")

    result = run("status", "old.mp3")

    assert result.exit_code == ExitCode.NOT_FOUND
    assert "no item of 'old.mp3'" in said(result.stderr)
    assert "--backfill" in said(result.stderr)


def test_wait_for_a_superseded_version_exits_1_saying_so(fake_pipeline):
    obj = fake_pipeline.put_input("clip.mp3")
    fake_pipeline.record(obj, State.SUPERSEDED)

    result = run("wait", "clip.mp3", "--json", "--timeout", "5")

    assert result.exit_code == ExitCode.FAILED
    [outcome] = json.loads(result.stdout)["inputs"]
    assert outcome["state"] == "superseded"
    assert "newer upload" in outcome["reason"]


def test_wait_keeps_waiting_while_the_versions_item_is_open(fake_pipeline):
    fake_pipeline.record(fake_pipeline.put_input("clip.mp3"), State.STARTED)

    result = run("wait", "clip.mp3", "--json", "--timeout", "0.2", "--interval", "0.1")

    assert result.exit_code == ExitCode.TIMEOUT
    assert json.loads(result.stdout)["inputs"][0]["state"] == "pending"


def test_a_stack_deployed_before_the_ledger_is_not_found_by_the_ledger_commands(fake_pipeline):
    old = copy.deepcopy(TEMPLATE)
    del old["Outputs"][output.LEDGER_TABLE_NAME]
    cfn = boto3.client("cloudformation", region_name=REGION)
    cfn.create_stack(StackName="OldPipeline", TemplateBody=json.dumps(old))

    result = run("list", "--stack", "OldPipeline")

    assert result.exit_code == ExitCode.NOT_FOUND
    assert "ledger" in said(result.stderr).lower() or "LedgerTableName" in said(result.stderr)
