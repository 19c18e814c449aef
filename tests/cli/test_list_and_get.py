"""``list`` joins inputs with their jobs and outputs; ``get`` fetches one input's results."""

from __future__ import annotations

import json

from pipeline_cli.errors import ExitCode
from tests.cli.support import run, said


def test_list_joins_each_input_with_its_job_state_language_and_outputs(fake_pipeline):
    done = fake_pipeline.put_input("talks/done.mp3")
    job = fake_pipeline.start_job(done)
    fake_pipeline.transcribe_done(done)
    fake_pipeline.put_input("talks/queued.mp3")

    result = run("list", "--json")

    assert result.exit_code == 0, result.output
    entries = {e["key"]: e for e in json.loads(result.stdout)}
    assert entries["talks/done.mp3"]["job"] == job
    assert entries["talks/done.mp3"]["state"] == "COMPLETED"
    assert entries["talks/done.mp3"]["language"] == "en-US"
    assert entries["talks/done.mp3"]["outputs"] == ["txt", "srt"]
    assert entries["talks/queued.mp3"]["state"] == "WAITING"


def test_list_shows_the_reason_of_a_rejected_input(fake_pipeline):
    obj = fake_pipeline.put_input("notes/readme.txt", b"text")
    fake_pipeline.fail(obj, "Unsupported file extension; Amazon Transcribe accepts: mp3.", job=None)

    result = run("list", "--json")

    [entry] = json.loads(result.stdout)
    assert entry["state"] == "REJECTED"
    assert entry["reason"].startswith("Unsupported file extension")


def test_list_filters_by_state_and_prefix(fake_pipeline):
    for key in ("a/one.mp3", "b/two.mp3"):
        fake_pipeline.start_job(fake_pipeline.put_input(key))
    fake_pipeline.put_input("a/three.mp3")

    by_state = json.loads(run("list", "--json", "--state", "completed").stdout)
    by_prefix = json.loads(run("list", "--json", "--prefix", "a/").stdout)
    both = json.loads(run("list", "--json", "--prefix", "a/", "--state", "WAITING").stdout)

    assert [e["key"] for e in by_state] == ["a/one.mp3", "b/two.mp3"]
    assert [e["key"] for e in by_prefix] == ["a/one.mp3", "a/three.mp3"]
    assert [e["key"] for e in both] == ["a/three.mp3"]


def test_list_prints_a_table_for_people(fake_pipeline):
    fake_pipeline.start_job(fake_pipeline.put_input("x.mp3"))

    result = run("list")

    assert result.exit_code == 0
    assert "x.mp3" in result.stdout
    assert "COMPLETED" in result.stdout


def test_get_prints_the_transcript(fake_pipeline):
    fake_pipeline.transcribe_done(fake_pipeline.put_input("talks/my talk.mp3"))

    result = run("get", "talks/my talk.mp3")

    assert result.exit_code == 0
    assert result.stdout == "Hello world. This is a test.\n"


def test_get_json_lists_each_word_with_start_end_and_confidence(fake_pipeline):
    job = fake_pipeline.transcribe_done(fake_pipeline.put_input("talks/my talk.mp3"))

    result = run("get", "talks/my talk.mp3", "--format", "json")

    document = json.loads(result.stdout)
    assert document["job"] == job
    assert document["transcript"] == "Hello world. This is a test."
    assert document["words"][0] == {
        "word": "Hello",
        "start": 0.04,
        "end": 0.52,
        "confidence": 0.999,
    }
    assert [w["word"] for w in document["words"]] == ["Hello", "world", "This", "is", "a", "test"]


def test_get_writes_subtitles_to_a_file_byte_for_byte(fake_pipeline, tmp_path):
    fake_pipeline.transcribe_done(fake_pipeline.put_input("clip.mp3"))
    target = tmp_path / "clip.srt"

    result = run("get", "clip.mp3", "-f", "srt", "-o", str(target))

    assert result.exit_code == 0
    assert target.read_bytes() == b"1\r\n00:00:00,040 --> 00:00:02,300\r\nHi\r\n"
    assert result.stdout == ""


def test_get_of_a_format_the_stack_does_not_make_exits_3(fake_pipeline):
    fake_pipeline.transcribe_done(fake_pipeline.put_input("clip.mp3"))

    result = run("get", "clip.mp3", "-f", "vtt")

    assert result.exit_code == ExitCode.NOT_FOUND
    assert "subtitle_formats" in said(result.stderr)


def test_get_of_a_failed_input_exits_1_with_the_reason(fake_pipeline):
    fake_pipeline.fail(fake_pipeline.put_input("bad.mp3"), "The media file could not be decoded.")

    result = run("get", "bad.mp3")

    assert result.exit_code == ExitCode.FAILED
    assert "'bad.mp3' failed: The media file could not be decoded." in said(result.stderr)


def test_get_of_an_input_still_in_progress_exits_3_and_suggests_wait(fake_pipeline):
    fake_pipeline.put_input("slow.mp3")

    result = run("get", "slow.mp3", "--json")

    assert result.exit_code == ExitCode.NOT_FOUND
    assert "No transcript for 'slow.mp3' yet" in said(result.stderr)
    assert "wait" in said(result.stderr)
    assert result.stdout == ""
