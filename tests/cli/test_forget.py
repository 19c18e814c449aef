"""``forget KEY`` removes every trace of one key: inputs, outputs, jobs and ledger items."""

from __future__ import annotations

import json

from pipeline_cli import forget as forgetting
from pipeline_cli.errors import ExitCode
from tests.cli.support import PREFIX, run, said
from transcribe_pipeline import ledger_schema as schema
from transcribe_pipeline.layout import failure_key, transcript_key, unredacted_key
from transcribe_pipeline.ledger_schema import State

KEY = "talks/my talk.mp3"


def _everything_of(fake_pipeline, key):
    """What is left of ``key`` anywhere: versions, outputs, jobs, ledger items."""
    s3, bucket = fake_pipeline.s3, fake_pipeline.input_bucket
    listed = s3.list_object_versions(Bucket=bucket, Prefix=key)
    versions = [
        v["VersionId"]
        for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]
        if v["Key"] == key
    ]
    outputs = [
        o["Key"] for o in s3.list_objects_v2(Bucket=fake_pipeline.output_bucket).get("Contents", [])
    ]
    uri = f"s3://{bucket}/{key}"
    jobs = []
    for summary in fake_pipeline.transcribe.list_transcription_jobs()["TranscriptionJobSummaries"]:
        name = summary["TranscriptionJobName"]
        job = fake_pipeline.transcribe.get_transcription_job(TranscriptionJobName=name)
        if job["TranscriptionJob"]["Media"]["MediaFileUri"] == uri:
            jobs.append(name)
    return {
        "versions": versions,
        "outputs": outputs,
        "jobs": jobs,
        "items": fake_pipeline.items_of(key),
    }


def _arrange_a_key_with_history(fake_pipeline):
    """Two versions, a failed and a transcribed job, a reprocess attempt, a delete marker,
    Transcribe's redacted copy; and neighbours that share its file name or start with it."""
    first = fake_pipeline.put_input(KEY, b"ID3 first")
    failed_job = fake_pipeline.start_job(first)
    fake_pipeline.fail(first, "The media file could not be decoded.")
    second = fake_pipeline.put_input(KEY, b"ID3 second")
    fake_pipeline.start_job(second)
    job = fake_pipeline.transcribe_done(second)
    # A later attempt's job, named as the start function names it (not by job_name_for).
    fake_pipeline.transcribe.start_transcription_job(
        TranscriptionJobName=f"{PREFIX}my-talk-attempt-2",
        LanguageCode="en-US",
        Media={"MediaFileUri": second.uri},
    )
    for _ in range(3):
        fake_pipeline.transcribe.get_transcription_job(
            TranscriptionJobName=f"{PREFIX}my-talk-attempt-2"
        )
    fake_pipeline.s3.put_object(
        Bucket=fake_pipeline.output_bucket, Key=f"redacted-{job}.json", Body=b"{}"
    )
    for ext in ("txt", "json"):
        fake_pipeline.s3.put_object(
            Bucket=fake_pipeline.output_bucket, Key=unredacted_key(KEY, ext), Body=b"x"
        )
    fake_pipeline.s3.delete_object(Bucket=fake_pipeline.input_bucket, Key=KEY)
    fake_pipeline.s3.put_object(Bucket=fake_pipeline.input_bucket, Key=KEY, Body=b"ID3 third")
    for neighbour in ("other/my talk.mp3", f"{KEY}.mp3"):
        fake_pipeline.start_job(fake_pipeline.put_input(neighbour))
        fake_pipeline.transcribe_done(fake_pipeline.current(neighbour))
    return failed_job, job


def test_forget_leaves_nothing_of_the_key_anywhere_and_keeps_its_neighbours(fake_pipeline):
    _arrange_a_key_with_history(fake_pipeline)
    before = _everything_of(fake_pipeline, KEY)
    neighbours = {k: _everything_of(fake_pipeline, k) for k in ("other/my talk.mp3", f"{KEY}.mp3")}
    outputs_of_the_key = {
        *(transcript_key(KEY, ext) for ext in ("txt", "srt", "vtt", "json")),
        *(unredacted_key(KEY, ext) for ext in ("txt", "json")),
        failure_key(KEY),
        *(f"{p}{job}.{ext}" for job in before["jobs"] for ext in ("json", "srt", "vtt")
          for p in ("", "redacted-")),
    }  # fmt: skip
    assert len(before["jobs"]) == 3

    result = run("forget", KEY, "--yes", "--json")

    assert result.exit_code == 0, result.output
    after = _everything_of(fake_pipeline, KEY)
    assert after["versions"] == []
    assert after["jobs"] == []
    assert after["items"] == []
    assert outputs_of_the_key & set(after["outputs"]) == set()
    assert set(after["outputs"]) == set(before["outputs"]) - outputs_of_the_key
    for key, was in neighbours.items():
        assert {k: v for k, v in _everything_of(fake_pipeline, key).items() if k != "outputs"} == {
            k: v for k, v in was.items() if k != "outputs"
        }


def test_forget_reports_what_it_removed(fake_pipeline):
    failed_job, job = _arrange_a_key_with_history(fake_pipeline)

    removed = json.loads(run("forget", KEY, "--yes", "--json").stdout)

    assert removed["key"] == KEY
    assert len(removed["input_versions"]) == 4  # three versions and a delete marker
    assert sorted(removed["jobs"]) == sorted([failed_job, job, f"{PREFIX}my-talk-attempt-2"])
    assert len(removed["ledger_items"]) == 3  # the head and two versions
    assert schema.HEAD_SORT_KEY in removed["ledger_items"]
    assert set(removed["outputs"]) == {
        f"transcripts/{KEY}.txt",
        f"transcripts/{KEY}.srt",
        f"failed/{KEY}.json",
        f"{job}.json",
        f"redacted-{job}.json",
        f"unredacted/{KEY}.txt",
        f"unredacted/{KEY}.json",
    }
    assert removed["left"] == []


def test_forget_asks_first_and_removes_nothing_when_declined(fake_pipeline):
    fake_pipeline.transcribe_done(fake_pipeline.put_input(KEY))

    result = run("forget", KEY, input="n\n")

    assert result.exit_code == ExitCode.FAILED
    assert "Nothing removed" in said(result.stderr)
    assert _everything_of(fake_pipeline, KEY)["versions"] != []


def test_forget_of_an_unknown_key_exits_3(fake_pipeline):
    result = run("forget", "never/uploaded.mp3", "--yes")

    assert result.exit_code == ExitCode.NOT_FOUND
    assert "Nothing of 'never/uploaded.mp3' found" in said(result.stderr)


def test_forget_exits_1_naming_a_job_it_could_not_delete(fake_pipeline, monkeypatch):
    obj = fake_pipeline.put_input(KEY)
    job = fake_pipeline.start_job(obj)
    fake_pipeline.record(obj, State.STARTED)
    monkeypatch.setattr(forgetting, "_delete_job", lambda *_, **__: "still IN_PROGRESS")

    result = run("forget", KEY, "--yes", "--json")

    assert result.exit_code == ExitCode.FAILED
    removed = json.loads(result.stdout)
    assert removed["jobs"] == []
    assert removed["left"] == [f"job {job}: still IN_PROGRESS"]
    # The rest is gone already: the job will find neither its item nor its media.
    assert _everything_of(fake_pipeline, KEY)["items"] == []
    assert _everything_of(fake_pipeline, KEY)["versions"] == []


class _AlwaysRunning:
    """A Transcribe whose job never finishes."""

    def get_transcription_job(self, **_request):
        return {"TranscriptionJob": {"TranscriptionJobStatus": "IN_PROGRESS"}}


def test_a_job_still_running_after_the_timeout_is_left_and_said_why():
    naps: list[float] = []

    why = forgetting._delete_job(
        _AlwaysRunning(), "tp-job", timeout=10, interval=5, sleep=naps.append
    )

    assert why is not None and why.startswith("still IN_PROGRESS after 10 s")
    assert naps == [5, 5]


def test_a_running_job_is_waited_for_then_deleted(fake_pipeline):
    obj = fake_pipeline.put_input(KEY)
    job = fake_pipeline.start_job(obj, until="QUEUED")
    naps: list[float] = []

    why = forgetting._delete_job(
        fake_pipeline.transcribe, job, timeout=60, interval=5, sleep=naps.append
    )

    assert why is None
    assert naps  # it waited at least once (moto moves a job on at each GetTranscriptionJob)
    assert _everything_of(fake_pipeline, KEY)["jobs"] == []


def test_what_a_late_writer_puts_back_meanwhile_is_removed_too(fake_pipeline, monkeypatch):
    obj = fake_pipeline.put_input(KEY)
    fake_pipeline.start_job(obj)
    fake_pipeline.transcribe_done(obj)
    late = fake_pipeline.items_of(KEY)
    original = forgetting._delete_versions
    wrote: list[str] = []

    def a_harvest_writes_while_outputs_go(s3, bucket, key):
        if bucket == fake_pipeline.output_bucket and not wrote:
            wrote.append(key)
            for item in late:  # e.g. a start or harvest that read the key before forget began
                fake_pipeline.dynamodb.put_item(
                    TableName=fake_pipeline.outputs.ledger_table, Item=item
                )
        return original(s3, bucket, key)

    monkeypatch.setattr(forgetting, "_delete_versions", a_harvest_writes_while_outputs_go)

    result = run("forget", KEY, "--yes", "--json")

    assert result.exit_code == 0, result.output
    assert wrote
    assert _everything_of(fake_pipeline, KEY)["items"] == []


def test_the_files_a_job_reports_are_read_from_path_style_and_virtual_hosted_addresses():
    job = {
        "Transcript": {
            "TranscriptFileUri": "https://s3.us-east-1.amazonaws.com/out/tp-a.json",
            "RedactedTranscriptFileUri": "https://out.s3.us-east-1.amazonaws.com/redacted-tp-a.json",
        },
        "Subtitles": {"SubtitleFileUris": ["https://s3.amazonaws.com/out/tp%20a.srt"]},
    }

    assert forgetting._reported_files(job, "out") == [
        "tp-a.json",
        "redacted-tp-a.json",
        "tp a.srt",
    ]


def test_files_in_another_bucket_are_not_the_outputs_to_delete():
    job = {"Transcript": {"TranscriptFileUri": "https://s3.amazonaws.com/elsewhere/tp-a.json"}}

    assert forgetting._reported_files(job, "out") == []
