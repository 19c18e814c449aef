"""``reprocess`` starts a new attempt of a key's current version, or re-renders its outputs."""

from __future__ import annotations

import json

from pipeline_cli import last_upload
from pipeline_cli.errors import ExitCode
from pipeline_cli.ledger import from_attributes
from tests.cli.support import PREFIX, run, said
from transcribe_pipeline import environment as names
from transcribe_pipeline import ledger_schema as schema
from transcribe_pipeline.keys import encode_event_key
from transcribe_pipeline.layout import transcript_key, unredacted_key
from transcribe_pipeline.ledger_schema import State
from transcribe_pipeline.starter import uploaded_object


def _messages(fake_pipeline):
    """Every message on the start queue, bodies parsed."""
    url = fake_pipeline.outputs.start_queue_url
    bodies: list[dict] = []
    while True:
        got = fake_pipeline.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        if not got.get("Messages"):
            return bodies
        for message in got["Messages"]:
            bodies.append(json.loads(message["Body"]))
            fake_pipeline.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _version_item(fake_pipeline, key):
    [item] = [
        from_attributes(i)
        for i in fake_pipeline.items_of(key)
        if i[schema.SORT_KEY]["S"] != schema.HEAD_SORT_KEY
    ]
    return item


def test_reprocess_sets_a_final_item_back_to_received_with_the_next_attempt(fake_pipeline):
    fake_pipeline.fail(fake_pipeline.put_input("talks/a.mp3"), "Internal failure.")

    result = run("reprocess", "talks/a.mp3", "--json")

    assert result.exit_code == 0, result.output
    [decision] = json.loads(result.stdout)["inputs"]
    assert (decision["action"], decision["attempt"]) == ("reprocessed", 2)
    item = _version_item(fake_pipeline, "talks/a.mp3")
    assert item[schema.STATE] == "RECEIVED"
    assert item[schema.ATTEMPT] == 2
    assert item[schema.OPEN] == schema.OPEN_VALUE
    assert schema.OPEN_SINCE in item
    for cleared in (schema.JOB, schema.OUTPUTS, schema.REASON, schema.FINISHED_AT):
        assert cleared not in item


def test_reprocess_sends_the_versions_object_created_event_to_the_start_queue(fake_pipeline):
    key = "talks/my talk + café #1.mp3"
    obj = fake_pipeline.put_input(key)
    recorded = fake_pipeline.transcribe_done(obj) and _version_item(fake_pipeline, key)

    run("reprocess", key)

    [event] = _messages(fake_pipeline)
    assert event["source"] == "aws.s3"
    assert event["detail-type"] == "Object Created"
    detail = event["detail"]
    assert detail["bucket"]["name"] == fake_pipeline.input_bucket
    assert detail["object"]["key"] == encode_event_key(key)
    assert detail["object"]["version-id"] == obj.version_id
    assert detail["object"]["etag"] == obj.etag
    assert detail["object"]["size"] == obj.size
    assert schema.padded_sequencer(detail["object"]["sequencer"]) == recorded[schema.SEQUENCER]
    # The start function reads it as this very version, with the ledger's sequencer.
    upload = uploaded_object(json.dumps(event))
    assert upload.obj == obj
    assert upload.sequencer == recorded[schema.SEQUENCER]


def test_reprocess_is_remembered_for_wait(fake_pipeline):
    obj = fake_pipeline.put_input("a.mp3")
    fake_pipeline.transcribe_done(obj)

    run("reprocess", "a.mp3")

    assert last_upload.recall(fake_pipeline.input_bucket) == [
        last_upload.Upload("a.mp3", obj.version_id)
    ]
    waited = run("wait", "--json", "--timeout", "0.2", "--interval", "0.1")
    assert json.loads(waited.stdout)["inputs"][0]["state"] == "pending"  # RECEIVED again


def test_reprocess_refuses_a_version_still_in_progress_with_exit_1(fake_pipeline):
    fake_pipeline.record(fake_pipeline.put_input("busy.mp3"), State.STARTED)

    result = run("reprocess", "busy.mp3")

    assert result.exit_code == ExitCode.FAILED
    assert "STARTED, not finished" in said(result.stdout)
    assert "1 of 1 key(s) refused" in said(result.stderr)
    assert _version_item(fake_pipeline, "busy.mp3")[schema.STATE] == "STARTED"
    assert _messages(fake_pipeline) == []


def test_reprocess_refuses_a_version_that_is_no_longer_the_current_object(fake_pipeline):
    fake_pipeline.transcribe_done(fake_pipeline.put_input("a.mp3"))
    newer = fake_pipeline.put_input("a.mp3", b"ID3 newer, its event not handled yet")

    result = run("reprocess", "a.mp3", "--json")

    assert result.exit_code == ExitCode.FAILED
    [decision] = json.loads(result.stdout)["inputs"]
    assert decision["action"] == "refused"
    assert f"now {newer.version_id}" in decision["why"]
    assert _messages(fake_pipeline) == []


def test_reprocess_of_a_key_without_ledger_item_exits_3(fake_pipeline):
    fake_pipeline.put_input("old.mp3")

    result = run("reprocess", "old.mp3")

    assert result.exit_code == ExitCode.NOT_FOUND
    assert "--backfill" in said(result.stdout)


def test_reprocess_refuses_when_the_head_moved_on_meanwhile(fake_pipeline, monkeypatch):
    from pipeline_cli import reprocess as module

    obj = fake_pipeline.put_input("race.mp3")
    fake_pipeline.transcribe_done(obj)
    original = module._restart

    def newer_event_arrives_first(ledger, item):
        fake_pipeline.put_item(
            {
                schema.PARTITION_KEY: "race.mp3",
                schema.SORT_KEY: schema.HEAD_SORT_KEY,
                schema.SEQUENCER: schema.padded_sequencer("F" * 20),
                schema.VERSION_ID: "newer",
            }
        )
        return original(ledger, item)

    monkeypatch.setattr(module, "_restart", newer_event_arrives_first)

    result = run("reprocess", "race.mp3", "--json")

    assert result.exit_code == ExitCode.FAILED
    assert "changed meanwhile" in json.loads(result.stdout)["inputs"][0]["why"]
    assert _version_item(fake_pipeline, "race.mp3")[schema.STATE] == "TRANSCRIBED"
    assert _messages(fake_pipeline) == []


def test_reprocess_by_state_and_prefix_takes_only_matching_current_versions(fake_pipeline):
    fake_pipeline.fail(fake_pipeline.put_input("a/one.mp3"), "Internal failure.")
    fake_pipeline.fail(fake_pipeline.put_input("b/two.mp3"), "Internal failure.")
    fake_pipeline.transcribe_done(fake_pipeline.put_input("a/three.mp3"))

    result = run("reprocess", "--state", "FAILED", "--prefix", "a/", "--json")

    assert result.exit_code == 0, result.output
    assert [d["key"] for d in json.loads(result.stdout)["inputs"]] == ["a/one.mp3"]
    [event] = _messages(fake_pipeline)
    assert event["detail"]["object"]["key"] == "a/one.mp3"


def test_reprocess_by_prefix_takes_every_final_state(fake_pipeline):
    fake_pipeline.fail(fake_pipeline.put_input("a/one.mp3"), "Internal failure.")
    fake_pipeline.transcribe_done(fake_pipeline.put_input("a/two.mp3"))
    fake_pipeline.record(fake_pipeline.put_input("a/three.mp3"), State.STARTED)

    result = run("reprocess", "--prefix", "a/", "--json")

    assert result.exit_code == 0, result.output
    assert sorted(d["key"] for d in json.loads(result.stdout)["inputs"]) == [
        "a/one.mp3",
        "a/two.mp3",
    ]


def test_reprocess_refuses_a_state_that_is_not_final(fake_pipeline):
    result = run("reprocess", "--state", "STARTED")

    assert result.exit_code == ExitCode.USAGE
    assert "final state" in said(result.stderr)


def test_reprocess_without_keys_prefix_or_state_is_a_usage_error(fake_pipeline):
    assert run("reprocess").exit_code == ExitCode.USAGE


def test_reprocess_dry_run_changes_nothing_and_sends_nothing(fake_pipeline):
    fake_pipeline.transcribe_done(fake_pipeline.put_input("a.mp3"))

    result = run("reprocess", "a.mp3", "--dry-run", "--json")

    assert json.loads(result.stdout)["inputs"][0]["action"] == "would reprocess"
    assert _version_item(fake_pipeline, "a.mp3")[schema.STATE] == "TRANSCRIBED"
    assert _messages(fake_pipeline) == []


def _job_state_environment(fake_pipeline, **extra):
    return {
        names.INPUT_BUCKET: fake_pipeline.input_bucket,
        names.OUTPUT_BUCKET: fake_pipeline.output_bucket,
        names.JOB_NAME_PREFIX: PREFIX,
        names.LANGUAGE_CODE: "en-US",
        names.SUBTITLE_FORMATS: "srt",
        **extra,
    }


def test_render_only_rebuilds_the_outputs_with_the_profiles_settings(fake_pipeline):
    profiles = json.dumps([{"prefix": "talks/", "subtitle_formats": ["vtt"]}])
    fake_pipeline.deploy_job_state_function(
        _job_state_environment(fake_pipeline, **{names.PROFILES: profiles})
    )
    obj = fake_pipeline.put_input("talks/a.mp3")
    job = fake_pipeline.transcribe_done(obj, text="stale text\n")
    bucket = fake_pipeline.output_bucket

    result = run("reprocess", "talks/a.mp3", "--render-only", "--json")

    assert result.exit_code == 0, result.output
    [decision] = json.loads(result.stdout)["inputs"]
    assert decision["action"] == "rendered"
    assert decision["written"] == [
        transcript_key("talks/a.mp3", "vtt"),
        transcript_key("talks/a.mp3", "json"),
        transcript_key("talks/a.mp3", "txt"),
    ]
    text = fake_pipeline.s3.get_object(Bucket=bucket, Key=transcript_key("talks/a.mp3", "txt"))
    assert text["Body"].read().decode() == "Hello world. This is a test.\n"
    assert text["Metadata"]["job-name"] == job
    vtt = fake_pipeline.s3.get_object(Bucket=bucket, Key=transcript_key("talks/a.mp3", "vtt"))
    assert vtt["Body"].read().decode().startswith("WEBVTT")
    item = _version_item(fake_pipeline, "talks/a.mp3")
    assert item[schema.STATE] == "TRANSCRIBED"  # no new attempt
    assert item[schema.ATTEMPT] == 1
    assert item[schema.OUTPUTS] == decision["written"]
    assert _messages(fake_pipeline) == []


def test_render_only_refuses_a_key_without_a_transcript(fake_pipeline):
    fake_pipeline.deploy_job_state_function(_job_state_environment(fake_pipeline))
    fake_pipeline.fail(fake_pipeline.put_input("bad.mp3"), "The media file could not be decoded.")

    result = run("reprocess", "bad.mp3", "--render-only", "--json")

    assert result.exit_code == ExitCode.FAILED
    assert "FAILED: there is no result to render" in json.loads(result.stdout)["inputs"][0]["why"]


def test_render_only_dry_run_names_the_stored_result(fake_pipeline):
    job = fake_pipeline.transcribe_done(fake_pipeline.put_input("a.mp3"))

    result = run("reprocess", "a.mp3", "--render-only", "--dry-run", "--json")

    [decision] = json.loads(result.stdout)["inputs"]
    assert (decision["action"], decision["why"]) == ("would render", f"from {job}.json")


def test_render_only_reads_the_redacted_result_and_rewrites_the_unredacted_copies(fake_pipeline):
    profiles = json.dumps(
        [
            {
                "prefix": "calls/",
                "language": "en-US",
                "content_redaction": {"output": "redacted_and_unredacted"},
            }
        ]
    )
    fake_pipeline.deploy_job_state_function(
        _job_state_environment(fake_pipeline, **{names.PROFILES: profiles})
    )
    obj = fake_pipeline.put_input("calls/a.mp3")
    job = fake_pipeline.transcribe_done(obj)  # <job>.json: the unredacted result
    bucket = fake_pipeline.output_bucket
    redacted = json.loads(
        fake_pipeline.s3.get_object(Bucket=bucket, Key=f"{job}.json")["Body"].read()
    )
    redacted["results"]["transcripts"][0]["transcript"] = "Hello [PII]. This is a test."
    for item in redacted["results"]["items"]:
        if item["alternatives"][0]["content"] == "world":
            item["alternatives"][0]["content"] = "[PII]"
    fake_pipeline.s3.put_object(
        Bucket=bucket, Key=f"redacted-{job}.json", Body=json.dumps(redacted)
    )

    result = run("reprocess", "calls/a.mp3", "--render-only", "--json")

    assert result.exit_code == 0, result.output
    [decision] = json.loads(result.stdout)["inputs"]
    assert decision["why"] == f"from redacted-{job}.json"
    text = fake_pipeline.s3.get_object(Bucket=bucket, Key=transcript_key("calls/a.mp3", "txt"))
    assert text["Body"].read().decode() == "Hello [PII]. This is a test.\n"
    copy = fake_pipeline.s3.get_object(Bucket=bucket, Key=unredacted_key("calls/a.mp3", "txt"))
    assert copy["Body"].read().decode() == "Hello world. This is a test.\n"
