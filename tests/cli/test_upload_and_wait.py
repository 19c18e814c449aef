"""``upload`` refuses what the pipeline would reject; ``wait`` follows this very upload."""

from __future__ import annotations

import json

import pytest

from pipeline_cli import last_upload
from pipeline_cli.errors import ExitCode
from pipeline_cli.upload import normalize_prefix
from tests.cli.support import run, said


@pytest.fixture
def media(tmp_path):
    """A folder of files as a user has them: media, a note, an empty recording."""
    folder = tmp_path / "talks"
    (folder / "day 1").mkdir(parents=True)
    (folder / "day 1" / "opening.MP3").write_bytes(b"ID3" + b"\0" * 4096)
    (folder / "closing.wav").write_bytes(b"RIFF" + b"\0" * 100)
    (folder / "notes.txt").write_text("not media")
    (folder / "empty.mp3").write_bytes(b"")
    return folder


@pytest.mark.parametrize(
    ("given", "expected"),
    [("", ""), ("talks", "talks/"), ("talks/", "talks/"), ("/a/b", "a/b/")],
)
def test_a_prefix_names_a_folder(given, expected):
    assert normalize_prefix(given) == expected


def test_upload_refuses_unsupported_and_empty_files_and_uploads_nothing(fake_pipeline, media):
    result = run(
        "upload", str(media / "closing.wav"), str(media / "notes.txt"), str(media / "empty.mp3")
    )

    assert result.exit_code == ExitCode.USAGE
    message = said(result.stderr)
    assert "notes.txt: Unsupported file extension" in message
    assert "empty.mp3: The object is empty (0 bytes)" in message
    assert "nothing was uploaded" in message
    assert "Contents" not in fake_pipeline.s3.list_objects_v2(Bucket=fake_pipeline.input_bucket)


def test_upload_of_a_folder_keeps_its_paths_under_the_prefix_and_skips_non_media(
    fake_pipeline, media
):
    result = run("upload", str(media), "--prefix", "2024", "--json")

    assert result.exit_code == 0, result.output
    uploaded = json.loads(result.stdout)["uploads"]
    assert [u["key"] for u in uploaded] == [
        "2024/talks/closing.wav",
        "2024/talks/day 1/opening.MP3",
    ]
    assert all(u["version_id"] for u in uploaded)
    assert "skipped" in result.stderr and "notes.txt" in result.stderr
    listed = fake_pipeline.s3.list_objects_v2(Bucket=fake_pipeline.input_bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == [
        "2024/talks/closing.wav",
        "2024/talks/day 1/opening.MP3",
    ]


def test_upload_remembers_the_versions_for_wait(fake_pipeline, media):
    run("upload", str(media / "closing.wav"), "--json")

    remembered = last_upload.recall(fake_pipeline.input_bucket)

    head = fake_pipeline.s3.head_object(Bucket=fake_pipeline.input_bucket, Key="closing.wav")
    assert remembered == [last_upload.Upload("closing.wav", head["VersionId"])]


def test_wait_exits_0_when_the_last_upload_is_transcribed(fake_pipeline, media):
    run("upload", str(media / "closing.wav"))
    fake_pipeline.transcribe_done(fake_pipeline.current("closing.wav"))

    result = run("wait", "--json", "--timeout", "5")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inputs"][0]["state"] == "transcribed"


def test_wait_exits_1_and_prints_the_reason_when_an_input_failed(fake_pipeline):
    good = fake_pipeline.put_input("good.mp3")
    bad = fake_pipeline.put_input("bad.mp3")
    fake_pipeline.transcribe_done(good)
    fake_pipeline.fail(bad, "The media file could not be decoded.")

    result = run("wait", "good.mp3", "bad.mp3", "--timeout", "5")

    assert result.exit_code == ExitCode.FAILED
    assert "failed bad.mp3: The media file could not be decoded." in said(result.stderr)
    assert "transcribed good.mp3" in said(result.stderr)
    assert "1 of 2 input(s) failed" in said(result.stderr)


def test_a_rejection_without_a_job_counts_for_the_upload_it_follows(fake_pipeline):
    obj = fake_pipeline.put_input("clip.mp3")
    fake_pipeline.fail(obj, "The object is a folder marker.", job=None)

    result = run("wait", "clip.mp3", "--json", "--timeout", "5")

    assert result.exit_code == ExitCode.FAILED
    assert json.loads(result.stdout)["inputs"][0]["state"] == "failed"


def test_wait_ignores_an_earlier_uploads_transcript_and_times_out_with_5(fake_pipeline, media):
    earlier = fake_pipeline.put_input("closing.wav")
    fake_pipeline.transcribe_done(earlier)
    run("upload", str(media / "closing.wav"))  # a new version of the same key

    result = run("wait", "--json", "--timeout", "0.3", "--interval", "0.1")

    assert result.exit_code == ExitCode.TIMEOUT
    assert json.loads(result.stdout)["inputs"][0]["state"] == "pending"
    assert "Timed out" in said(result.stderr)


def test_wait_without_keys_or_a_remembered_upload_is_a_usage_error(fake_pipeline):
    result = run("wait")

    assert result.exit_code == ExitCode.USAGE
    assert "Nothing to wait for" in said(result.stderr)
