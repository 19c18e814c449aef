"""``retry`` re-drives dead letters and re-submits what may succeed; ``clean`` empties it all."""

from __future__ import annotations

import json

from pipeline_cli import last_upload
from pipeline_cli.errors import ExitCode
from tests.cli.support import PREFIX, run, said


def test_retry_moves_dead_letters_back_to_the_start_queue(fake_pipeline):
    dlq = fake_pipeline.outputs.start_dead_letter_queue_url
    for n in range(12):  # more than one receive batch
        fake_pipeline.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"event": n}))

    result = run("retry", "--json")

    assert result.exit_code == 0, result.output
    # moto has no StartMessageMoveTask: the receive/re-send fallback did the work.
    assert json.loads(result.stdout)["dead_letters"] == {"moved": 12, "method": "receive-send"}
    start = fake_pipeline.outputs.start_queue_url
    bodies = _drain(fake_pipeline.sqs, start)
    assert sorted(json.loads(b)["event"] for b in bodies) == list(range(12))
    assert _drain(fake_pipeline.sqs, dlq) == []


def test_retry_resubmits_a_failure_that_may_succeed_as_a_new_version(fake_pipeline):
    obj = fake_pipeline.put_input("talks/flaky.mp3")
    fake_pipeline.fail(obj, "Internal failure. Please try your request again.")

    result = run("retry", "--json")

    [decision] = json.loads(result.stdout)["inputs"]
    assert decision["action"] == "resubmitted"
    now = fake_pipeline.current("talks/flaky.mp3")
    assert now.version_id != obj.version_id
    assert decision["version_id"] == now.version_id
    assert last_upload.recall(fake_pipeline.input_bucket) == [
        last_upload.Upload("talks/flaky.mp3", now.version_id)
    ]
    records = fake_pipeline.s3.list_objects_v2(Bucket=fake_pipeline.output_bucket, Prefix="failed/")
    assert "Contents" not in records  # the stale record would end `wait` at once


def test_retry_skips_failures_that_cannot_succeed(fake_pipeline):
    fake_pipeline.fail(
        fake_pipeline.put_input("notes.txt", b"text"), "Unsupported file extension.", job=None
    )
    fake_pipeline.fail(
        fake_pipeline.put_input("broken.mp3"), "The media file could not be decoded."
    )
    gone = fake_pipeline.put_input("gone.mp3")
    fake_pipeline.fail(gone, "Internal failure.")
    fake_pipeline.s3.delete_object(Bucket=fake_pipeline.input_bucket, Key="gone.mp3")

    result = run("retry", "--json")

    decisions = {d["key"]: d for d in json.loads(result.stdout)["inputs"]}
    assert {d["action"] for d in decisions.values()} == {"skipped"}
    assert decisions["notes.txt"]["why"].startswith("cannot succeed: Unsupported file extension")
    assert "the media itself was refused" in decisions["broken.mp3"]["why"]
    assert decisions["gone.mp3"]["why"] == "the input no longer exists"
    versions = fake_pipeline.s3.list_object_versions(
        Bucket=fake_pipeline.input_bucket, Prefix="broken.mp3"
    )
    assert len(versions["Versions"]) == 1


def test_retry_dry_run_changes_nothing(fake_pipeline):
    obj = fake_pipeline.put_input("flaky.mp3")
    fake_pipeline.fail(obj, "Internal failure.")

    result = run("retry", "--dry-run", "--json")

    assert json.loads(result.stdout)["inputs"][0]["action"] == "would resubmit"
    assert fake_pipeline.current("flaky.mp3").version_id == obj.version_id


def test_clean_with_yes_deletes_the_jobs_and_every_object_version(fake_pipeline):
    obj = fake_pipeline.put_input("a.mp3")
    fake_pipeline.put_input("a.mp3", b"ID3 second version")
    fake_pipeline.start_job(obj)
    fake_pipeline.transcribe_done(obj)
    fake_pipeline.transcribe.start_transcription_job(  # another pipeline's job stays
        TranscriptionJobName="other-job",
        LanguageCode="en-US",
        Media={"MediaFileUri": obj.uri},
    )

    result = run("clean", "--yes", "--json")

    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["jobs"]) == 1
    for bucket in (fake_pipeline.input_bucket, fake_pipeline.output_bucket):
        assert "Versions" not in fake_pipeline.s3.list_object_versions(Bucket=bucket)
    names = [
        j["TranscriptionJobName"]
        for j in fake_pipeline.transcribe.list_transcription_jobs()["TranscriptionJobSummaries"]
    ]
    assert names == ["other-job"]
    assert not any(name.startswith(PREFIX) for name in names)


def test_clean_keeps_a_same_prefix_job_that_reads_another_bucket(fake_pipeline):
    """Job names are unique per account and region, not per pipeline: only the media says whose."""
    ours = fake_pipeline.start_job(fake_pipeline.put_input("a.mp3"))
    theirs = _foreign_job(fake_pipeline, f"{PREFIX}other-deployment", "s3://other-bucket/a.mp3")

    result = run("clean", "--yes", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["jobs"] == [ours]
    assert _job_names(fake_pipeline) == [theirs]


def test_clean_treats_a_media_uri_that_is_not_s3_as_foreign(fake_pipeline):
    theirs = _foreign_job(fake_pipeline, f"{PREFIX}web", "https://example.com/talk.mp3")

    result = run("clean", "--yes", "--json")

    assert result.exit_code == 0, result.output
    assert _job_names(fake_pipeline) == [theirs]


def test_clean_reports_each_job_it_skipped_and_why(fake_pipeline):
    theirs = _foreign_job(fake_pipeline, f"{PREFIX}other-deployment", "s3://other-bucket/a.mp3")

    result = run("clean", "--yes", "--json")

    [skipped] = json.loads(result.stdout)["skipped_jobs"]
    assert skipped["job"] == theirs
    assert skipped["media"] == "s3://other-bucket/a.mp3"
    assert "other-bucket" in skipped["why"]


def test_clean_names_the_skipped_jobs_in_its_human_output(fake_pipeline):
    theirs = _foreign_job(fake_pipeline, f"{PREFIX}web", "https://example.com/talk.mp3")

    result = run("clean", "--yes")

    assert result.exit_code == 0, result.output
    assert "Skipped 1 transcription job(s)" in said(result.stdout)
    assert theirs in result.stdout


def test_clean_asks_only_about_this_pipelines_jobs(fake_pipeline):
    fake_pipeline.start_job(fake_pipeline.put_input("a.mp3"))
    _foreign_job(fake_pipeline, f"{PREFIX}other-deployment", "s3://other-bucket/a.mp3")

    result = run("clean", input="n\n")

    prompt = said(result.stderr)
    ours = f"1 transcription job(s) named {PREFIX}* that read {fake_pipeline.input_bucket}"
    assert ours in prompt
    assert "1 other job(s) with that prefix read other media and stay" in prompt


def test_clean_declined_deletes_nothing(fake_pipeline):
    fake_pipeline.put_input("a.mp3")

    result = run("clean", input="n\n")

    assert result.exit_code == ExitCode.FAILED
    assert "Nothing deleted" in result.stderr
    assert fake_pipeline.s3.list_objects_v2(Bucket=fake_pipeline.input_bucket)["KeyCount"] == 1


def _drain(sqs, url):
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [m["Body"] for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
            ],
        )
    return bodies


def _foreign_job(fake_pipeline, name, media_uri):
    """A job another deployment (or application) started under the same name prefix."""
    fake_pipeline.transcribe.start_transcription_job(
        TranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": media_uri}
    )
    return name


def _job_names(fake_pipeline):
    summaries = fake_pipeline.transcribe.list_transcription_jobs()["TranscriptionJobSummaries"]
    return sorted(j["TranscriptionJobName"] for j in summaries)


def test_clean_also_empties_the_ledger(fake_pipeline):
    fake_pipeline.transcribe_done(fake_pipeline.put_input("a.mp3"))
    fake_pipeline.fail(fake_pipeline.put_input("b.mp3"), "The media file could not be decoded.")

    result = run("clean", "--yes", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ledger_items"] == 4  # two heads, two versions
    assert json.loads(run("list", "--json").stdout)["items"] == []
    assert fake_pipeline.items_of("a.mp3") == []
    assert fake_pipeline.items_of("b.mp3") == []
