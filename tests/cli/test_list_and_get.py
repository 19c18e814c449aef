"""``list`` joins inputs with their jobs and outputs; ``get`` fetches one input's results."""

from __future__ import annotations

import json

from pipeline_cli.errors import ExitCode
from tests.cli.support import run, said
from transcribe_pipeline.ledger_schema import State


def test_list_shows_each_version_with_its_state_job_language_and_outputs(fake_pipeline):
    done = fake_pipeline.put_input("talks/done.mp3")
    job = fake_pipeline.transcribe_done(done)
    fake_pipeline.record(fake_pipeline.put_input("talks/queued.mp3"), State.RECEIVED)

    result = run("list", "--json")

    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["next_token"] is None
    entries = {e["key"]: e for e in listed["items"]}
    assert entries["talks/done.mp3"]["job"] == job
    assert entries["talks/done.mp3"]["state"] == "TRANSCRIBED"
    assert entries["talks/done.mp3"]["language"] == "en-US"
    assert entries["talks/done.mp3"]["version_id"] == done.version_id
    assert entries["talks/done.mp3"]["outputs"] == [
        "transcripts/talks/done.mp3.txt",
        "transcripts/talks/done.mp3.srt",
    ]
    assert entries["talks/queued.mp3"]["state"] == "RECEIVED"
    assert entries["talks/queued.mp3"]["open"] is True


def test_list_shows_the_reason_of_a_rejected_input(fake_pipeline):
    obj = fake_pipeline.put_input("notes/readme.txt", b"text")
    fake_pipeline.fail(obj, "Unsupported file extension; Amazon Transcribe accepts: mp3.", job=None)

    result = run("list", "--json")

    [entry] = json.loads(result.stdout)["items"]
    assert entry["state"] == "REJECTED"
    assert entry["job"] is None
    assert entry["reason"].startswith("Unsupported file extension")


def test_list_filters_by_state_and_prefix(fake_pipeline):
    for key in ("a/one.mp3", "b/two.mp3"):
        fake_pipeline.transcribe_done(fake_pipeline.put_input(key))
    fake_pipeline.record(fake_pipeline.put_input("a/three.mp3"), State.STARTED)

    def keys(*args):
        return [e["key"] for e in json.loads(run("list", "--json", *args).stdout)["items"]]

    assert keys("--state", "transcribed") == ["a/one.mp3", "b/two.mp3"]
    assert keys("--prefix", "a/") == ["a/three.mp3", "a/one.mp3"]  # by state, then by key
    assert keys("--prefix", "a/", "--state", "STARTED") == ["a/three.mp3"]
    assert keys("--state", "FAILED") == []


def test_list_leaves_superseded_versions_out_unless_asked(fake_pipeline):
    older = fake_pipeline.put_input("clip.mp3")
    fake_pipeline.record(older, State.SUPERSEDED)
    fake_pipeline.transcribe_done(fake_pipeline.put_input("clip.mp3", b"ID3 newer"))

    shown = json.loads(run("list", "--json").stdout)["items"]
    superseded = json.loads(run("list", "--json", "--state", "SUPERSEDED").stdout)["items"]

    assert [e["state"] for e in shown] == ["TRANSCRIBED"]
    assert [e["version_id"] for e in superseded] == [older.version_id]


def test_list_pages_with_limit_and_goes_on_from_the_next_token(fake_pipeline):
    for n in range(5):
        fake_pipeline.transcribe_done(fake_pipeline.put_input(f"p/{n}.mp3"))
    fake_pipeline.fail(fake_pipeline.put_input("p/bad.mp3"), "The media file could not be decoded.")

    seen: list[str] = []
    token, pages = None, 0
    while True:
        more: list[str] = ["--next-token", token] if token else []
        result = run("list", "--json", "--limit", "2", *more)
        assert result.exit_code == 0, result.output
        page = json.loads(result.stdout)
        seen += [e["key"] for e in page["items"]]
        pages += 1
        token = page["next_token"]
        if token is None:
            break

    assert seen == ["p/0.mp3", "p/1.mp3", "p/2.mp3", "p/3.mp3", "p/4.mp3", "p/bad.mp3"]
    assert pages == 3


def test_list_refuses_a_token_it_did_not_print(fake_pipeline):
    result = run("list", "--next-token", "not-a-token")

    assert result.exit_code == ExitCode.USAGE
    assert "--next-token" in said(result.stderr)


def test_list_prints_a_table_for_people(fake_pipeline):
    fake_pipeline.transcribe_done(fake_pipeline.put_input("x.mp3"))

    result = run("list")

    assert result.exit_code == 0
    assert "x.mp3" in result.stdout
    assert "TRANSCRIBED" in result.stdout
    assert "txt srt" in result.stdout


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
