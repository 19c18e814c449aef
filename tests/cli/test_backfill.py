"""``reprocess --backfill`` records inputs uploaded before the ledger, from their outputs."""

from __future__ import annotations

import json

import pytest

from pipeline_cli.ledger import from_attributes
from tests.cli.support import PREFIX, run
from transcribe_pipeline import environment as names
from transcribe_pipeline import ledger_schema as schema
from transcribe_pipeline.keys import job_name_for
from transcribe_pipeline.layout import failure_key, transcript_key
from transcribe_pipeline.ledger_schema import BACKFILL_SEQUENCER, State


@pytest.fixture
def deployed(fake_pipeline):
    """The job-state function the backfill reads the profiles from."""
    profiles = json.dumps([{"prefix": "talks/", "language": "de-DE"}])
    fake_pipeline.deploy_job_state_function(
        {
            names.INPUT_BUCKET: fake_pipeline.input_bucket,
            names.OUTPUT_BUCKET: fake_pipeline.output_bucket,
            names.JOB_NAME_PREFIX: PREFIX,
            names.LANGUAGE_CODE: "en-US",
            names.PROFILES: profiles,
        }
    )
    return fake_pipeline


def _pre_ledger_transcript(pipeline, obj):
    """What the pipeline wrote before the ledger: outputs only (no item)."""
    job = job_name_for(obj, prefix=PREFIX)
    meta = {"job-name": job}
    for ext in ("txt", "srt"):
        pipeline.s3.put_object(
            Bucket=pipeline.output_bucket,
            Key=transcript_key(obj.key, ext),
            Body=b"x",
            Metadata=meta,
        )
    document = {"language_code": "de-DE", "words": [{"end": 1.5}, {"end": 12.25}]}
    pipeline.s3.put_object(
        Bucket=pipeline.output_bucket,
        Key=transcript_key(obj.key, "json"),
        Body=json.dumps(document),
        Metadata=meta,
    )
    return job


def _pre_ledger_failure(pipeline, obj, job):
    record = {"source": obj.uri, "job": job, "reason": "The media file could not be decoded."}
    pipeline.s3.put_object(
        Bucket=pipeline.output_bucket,
        Key=failure_key(obj.key),
        Body=json.dumps(record),
        Metadata={"job-name": job or ""},
    )


def _items(pipeline, key):
    return {i["sk"]: i for i in (from_attributes(i) for i in pipeline.items_of(key))}


def test_backfill_records_each_input_in_the_state_its_outputs_show(deployed):
    done = deployed.put_input("talks/done.mp3")
    job = _pre_ledger_transcript(deployed, done)
    broken = deployed.put_input("broken.mp3")
    _pre_ledger_failure(deployed, broken, job_name_for(broken, prefix=PREFIX))
    rejected = deployed.put_input("notes.txt", b"text")
    _pre_ledger_failure(deployed, rejected, None)
    running = deployed.put_input("running.mp3")
    running_job = deployed.start_job(running, until="QUEUED")
    deployed.put_input("unhandled.mp3")

    result = run("reprocess", "--backfill", "--json")

    assert result.exit_code == 0, result.output
    actions = {i["key"]: (i["action"], i["state"]) for i in json.loads(result.stdout)["inputs"]}
    assert actions == {
        "talks/done.mp3": ("recorded", "TRANSCRIBED"),
        "broken.mp3": ("recorded", "FAILED"),
        "notes.txt": ("recorded", "REJECTED"),
        "running.mp3": ("recorded", "STARTED"),
        "unhandled.mp3": ("skipped", None),
    }
    items = _items(deployed, "talks/done.mp3")
    head, version = items[schema.HEAD_SORT_KEY], items[schema.version_sort_key(BACKFILL_SEQUENCER)]
    assert head[schema.SEQUENCER] == BACKFILL_SEQUENCER
    assert head[schema.VERSION_ID] == done.version_id
    assert version[schema.JOB] == job
    assert version[schema.LANGUAGE] == "de-DE"
    assert version[schema.DURATION_SECONDS] == 12.25
    assert version[schema.PROFILE] == "talks/"
    assert version[schema.OUTPUTS] == [
        transcript_key("talks/done.mp3", ext) for ext in ("txt", "srt", "json")
    ]
    assert schema.OPEN not in version
    assert _items(deployed, "broken.mp3")[version["sk"]][schema.REASON].startswith("The media")
    started = _items(deployed, "running.mp3")[version["sk"]]
    assert started[schema.JOB] == running_job
    assert started[schema.OPEN] == schema.OPEN_VALUE  # the sweeper takes it from here
    assert _items(deployed, "unhandled.mp3") == {}


def test_backfilled_items_are_listed_and_shown_by_status(deployed):
    _pre_ledger_transcript(deployed, deployed.put_input("talks/done.mp3"))
    run("reprocess", "--backfill")

    listed = json.loads(run("list", "--json", "--state", "TRANSCRIBED").stdout)["items"]
    shown = json.loads(run("status", "talks/done.mp3", "--json").stdout)

    assert [i["key"] for i in listed] == ["talks/done.mp3"]
    assert shown["state"] == "TRANSCRIBED"


def test_backfill_is_idempotent_and_never_overwrites_an_existing_head(deployed):
    old = deployed.put_input("old.mp3")
    _pre_ledger_transcript(deployed, old)
    recorded = deployed.put_input("new.mp3")
    deployed.record(recorded, State.STARTED)  # the pipeline already knows this one
    run("reprocess", "--backfill")
    first = {k: _items(deployed, k) for k in ("old.mp3", "new.mp3")}

    again = run("reprocess", "--backfill", "--json")

    assert again.exit_code == 0, again.output
    assert {i["action"] for i in json.loads(again.stdout)["inputs"]} == {"skipped"}
    assert {k: _items(deployed, k) for k in ("old.mp3", "new.mp3")} == first
    assert schema.version_sort_key(BACKFILL_SEQUENCER) not in first["new.mp3"]


def test_a_failure_record_of_an_earlier_version_does_not_count_for_the_current_one(deployed):
    first = deployed.put_input("clip.mp3")
    _pre_ledger_failure(deployed, first, job_name_for(first, prefix=PREFIX))
    deployed.put_input("clip.mp3", b"ID3 re-uploaded")

    result = run("reprocess", "--backfill", "--json")

    [entry] = json.loads(result.stdout)["inputs"]
    assert entry["action"] == "skipped"


def test_backfill_dry_run_writes_nothing(deployed):
    _pre_ledger_transcript(deployed, deployed.put_input("a.mp3"))

    result = run("reprocess", "--backfill", "--dry-run", "--json")

    assert json.loads(result.stdout)["inputs"][0]["action"] == "would record"
    assert _items(deployed, "a.mp3") == {}


def test_backfill_takes_no_keys(deployed):
    assert run("reprocess", "a.mp3", "--backfill").exit_code == 2
