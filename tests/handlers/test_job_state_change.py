"""JobStateChange: "Transcribe Job State Change" events -> transcripts/ or failed/ records."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from tests.handlers.conftest import INPUT_BUCKET, PREFIX
from tests.handlers.events import job_state_change, sample_text, sqs_batch, transcribe_result
from transcribe_pipeline.harvest import TranscriptMissingError
from transcribe_pipeline.subtitle_style import SubtitleStyle

JOB = f"{PREFIX}my-talk-0123456789abcdef"
KEY = "talks/my talk.mp3"


def test_a_completed_job_writes_its_transcript_under_the_full_source_key(cloud, job_state, context):
    # Given a completed job and its result in the output bucket
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then the readable transcript is at transcripts/<key>.txt
    assert cloud.read_output(f"transcripts/{KEY}.txt") == "Hello world. This is a test.\n"


def test_a_completed_job_has_subtitles_rendered_from_its_word_timings(cloud, job_state, context):
    # Given a completed job: "Hello world." at 0.04-1.01 s, "This is a test." at 1.35-2.3 s
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then our SRT has a cue per sentence, each kept up for the 1 s minimum where there is room
    assert cloud.read_output(f"transcripts/{KEY}.srt") == (
        "1\n00:00:00,040 --> 00:00:01,040\nHello world.\n\n"
        "2\n00:00:01,350 --> 00:00:02,350\nThis is a test.\n"
    )
    assert cloud.read_output(f"transcripts/{KEY}.vtt") == (
        "WEBVTT\n\n1\n00:00:00.040 --> 00:00:01.040\nHello world.\n\n"
        "2\n00:00:01.350 --> 00:00:02.350\nThis is a test.\n"
    )


def test_transcribes_own_subtitle_files_stay_at_the_bucket_root_untouched(
    cloud, job_state, context
):
    # Given a completed job whose own <job>.srt/.vtt Transcribe wrote at the root
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then they are still there, byte for byte
    assert cloud.read_output(f"{JOB}.srt") == sample_text("transcribeResult.srt")
    assert cloud.read_output(f"{JOB}.vtt") == sample_text("transcribeResult.vtt")


def test_a_completed_job_writes_a_json_of_turns_and_words(cloud, job_state, context):
    # Given a completed job with speaker labels
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB, result=transcribe_result(JOB, "transcribeResultSpeakerLabels.json"))

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then transcripts/<key>.json names the source, the job and the language, and has a turn
    # per speaker and every word with its times, speaker and confidence
    document = json.loads(cloud.read_output(f"transcripts/{KEY}.json"))
    assert (document["schema_version"], document["source_key"], document["job_name"]) == (
        1,
        KEY,
        JOB,
    )
    assert document["language_code"] == "en-US"
    assert [(t["speaker"], t["text"]) for t in document["turns"]] == [
        ("spk_0", "How are you?"),
        ("spk_1", "Fine, thanks."),
    ]
    assert document["words"][0] == {
        "content": "How",
        "text": "How",
        "start": 0.1,
        "end": 0.3,
        "confidence": 0.999,
        "speaker": "spk_0",
        "channel": None,
        "role": None,
    }


def test_subtitles_follow_the_configured_style(cloud, job_state, context, monkeypatch):
    # Given lines of at most 12 characters, one line per cue, and speaker prefixes
    style = SubtitleStyle(max_chars_per_line=12, max_lines_per_cue=1, speaker_prefix=True)
    monkeypatch.setattr(
        job_state, "settings", dataclasses.replace(job_state.settings, subtitle_style=style)
    )
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB, result=transcribe_result(JOB, "transcribeResultSpeakerLabels.json"))

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then every cue is one line of at most 12 characters, each turn starting with its speaker
    srt = cloud.read_output(f"transcripts/{KEY}.srt")
    texts = [block.split("\n")[2:] for block in srt.strip().split("\n\n")]
    assert texts == [["spk_0: How"], ["are you?"], ["spk_1: Fine,"], ["thanks."]]


def test_each_readable_output_carries_its_content_type_with_charset_and_the_jobs_metadata(
    cloud, job_state, context
):
    # Given a completed job (transcript, JSON, SRT and VTT subtitles to write)
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    created = cloud.transcribe.get_transcription_job(TranscriptionJobName=JOB)["TranscriptionJob"][
        "CreationTime"
    ]

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then each output says what it is, in UTF-8, and which job wrote it
    expected = {
        "txt": "text/plain; charset=utf-8",
        "json": "application/json",
        "srt": "application/x-subrip; charset=utf-8",
        "vtt": "text/vtt; charset=utf-8",
    }
    for extension, content_type in expected.items():
        head = cloud.s3.head_object(Bucket="media-out", Key=f"transcripts/{KEY}.{extension}")
        assert head["ContentType"] == content_type, extension
        assert head["Metadata"] == {"job-name": JOB, "job-created": created.isoformat()}


def test_a_failure_record_is_json_with_the_jobs_metadata(cloud, job_state, context):
    # Given a job Transcribe failed
    cloud.start_job(JOB, KEY)
    cloud.fail_job(JOB, "The media could not be decoded.")
    created = cloud.transcribe.get_transcription_job(TranscriptionJobName=JOB)["TranscriptionJob"][
        "CreationTime"
    ]

    # When its FAILED event is handled
    job_state.handler(job_state_change(JOB, "FAILED"), context)

    # Then the record is JSON and names the job that wrote it
    head = cloud.s3.head_object(Bucket="media-out", Key=f"failed/{KEY}.json")
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"job-name": JOB, "job-created": created.isoformat()}


def test_a_key_with_special_characters_keeps_them_in_the_transcript_key(cloud, job_state, context):
    # Given a completed job of a key with a space, a plus, a literal %2B and non-ASCII
    key = "conférences/a+b %2B é.mp3"
    cloud.start_job(JOB, key)
    cloud.complete_job(JOB)

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then the outputs carry the key unchanged
    assert cloud.output_keys("transcripts/") == [
        f"transcripts/{key}.json",
        f"transcripts/{key}.srt",
        f"transcripts/{key}.txt",
        f"transcripts/{key}.vtt",
    ]


def test_a_completed_job_removes_an_earlier_failure_record_of_the_key(cloud, job_state, context):
    # Given a failure record left by an earlier attempt, and now a completed job
    cloud.put_output(f"failed/{KEY}.json", '{"source": "s3://x/y", "job": null, "reason": "old"}')
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then only the transcript remains
    assert cloud.output_keys("failed/") == []
    assert f"transcripts/{KEY}.txt" in cloud.output_keys("transcripts/")


def test_a_failed_job_writes_a_failure_record_with_transcribes_reason(cloud, job_state, context):
    # Given a job Transcribe failed
    reason = "Unsupported media format: the media file could not be decoded."
    cloud.start_job(JOB, KEY)
    cloud.fail_job(JOB, reason)

    # When its FAILED event is handled
    job_state.handler(job_state_change(JOB, "FAILED", failure_reason=reason), context)

    # Then failed/<key>.json names the source, the job and the reason; no transcript
    assert cloud.read_output_json(f"failed/{KEY}.json") == {
        "source": f"s3://{INPUT_BUCKET}/{KEY}",
        "job": JOB,
        "reason": reason,
    }
    assert cloud.output_keys("transcripts/") == []


def test_a_duplicate_completed_event_leaves_the_same_single_result(cloud, job_state, context):
    # Given a completed job whose event has been handled once
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    event = job_state_change(JOB, "COMPLETED")
    job_state.handler(event, context)
    first = {key: cloud.read_output(key) for key in cloud.output_keys("transcripts/")}

    # When the same event arrives again
    job_state.handler(event, context)

    # Then the outputs are exactly the same
    assert {key: cloud.read_output(key) for key in cloud.output_keys("transcripts/")} == first
    assert cloud.output_keys("failed/") == []


def test_an_event_for_a_job_that_no_longer_exists_is_dropped_quietly(cloud, job_state, context):
    # Given no job of that name (deleted, or expired after 90 days)
    event = job_state_change(f"{PREFIX}gone-0123456789abcdef", "COMPLETED")

    # When its event is handled
    job_state.handler(event, context)

    # Then nothing is written (and nothing raised, so nothing is retried)
    assert cloud.output_keys() == []


def test_an_event_for_a_job_of_another_prefix_is_ignored(cloud, job_state, context):
    # Given a completed job that is not this pipeline's
    cloud.start_job("other-pipeline-job", KEY)
    cloud.complete_job("other-pipeline-job")

    # When its event reaches the handler
    job_state.handler(job_state_change("other-pipeline-job", "COMPLETED"), context)

    # Then no transcript is written
    assert cloud.output_keys("transcripts/") == []


def test_a_job_reading_another_bucket_is_not_harvested(cloud, job_state, context):
    # Given a completed job with this prefix that reads some other bucket
    cloud.start_job(JOB, KEY, bucket="someone-elses-bucket")
    cloud.complete_job(JOB)

    # When its event reaches the handler
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then nothing is written
    assert cloud.output_keys("transcripts/") == []
    assert cloud.output_keys("failed/") == []


def test_a_job_on_silent_media_writes_an_empty_transcript(cloud, job_state, context):
    # Given a completed job whose result has no speech
    cloud.start_job(JOB, "talks/silence.mp3")
    cloud.complete_job(JOB, result=transcribe_result(JOB, "transcribeResultSilent.json"))

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then an empty transcript is written (the job did finish)
    assert cloud.read_output("transcripts/talks/silence.mp3.txt") == ""
    assert cloud.output_keys("failed/") == []


def test_a_job_with_speaker_labels_writes_one_line_per_speaker_turn(cloud, job_state, context):
    # Given a completed job with two speakers
    cloud.start_job(JOB, "talks/interview.mp3")
    cloud.complete_job(JOB, result=transcribe_result(JOB, "transcribeResultSpeakerLabels.json"))

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then each turn is a line
    assert cloud.read_output("transcripts/talks/interview.mp3.txt") == (
        "spk_0: How are you?\nspk_1: Fine, thanks.\n"
    )


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"results": "nothing here"}', b"\xff\xfe binary"],
    ids=["not JSON", "not Transcribe's shape", "not UTF-8"],
)
def test_a_malformed_result_file_gives_a_failure_record(cloud, job_state, context, body):
    # Given a completed job whose <job>.json is unreadable
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB, raw_result=body)

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then the failure is recorded against the job, and no transcript is written
    record = cloud.read_output_json(f"failed/{KEY}.json")
    assert record["job"] == JOB
    assert "malformed" in record["reason"]
    assert cloud.output_keys("transcripts/") == []


def test_a_completed_job_whose_result_file_is_missing_raises_to_be_retried(
    cloud, job_state, context
):
    # Given a COMPLETED job whose <job>.json is not (yet) in the output bucket
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB, write_result=False)

    # When its COMPLETED event is handled, Then it raises so the event is retried
    with pytest.raises(TranscriptMissingError):
        job_state.handler(job_state_change(JOB, "COMPLETED"), context)
    assert cloud.output_keys("transcripts/") == []


def test_an_older_jobs_late_event_does_not_overwrite_a_newer_upload_of_the_key(
    cloud, job_state, context
):
    # Given two uploads of one key: the newer job's transcript is already written
    older, newer = f"{PREFIX}my-talk-000000000000000a", f"{PREFIX}my-talk-000000000000000b"
    for name, age, words in ((older, 2, "first take"), (newer, 1, "second take")):
        cloud.start_job(name, KEY)
        result = transcribe_result(name)
        result["results"]["transcripts"][0]["transcript"] = words
        cloud.complete_job(name, result=result)
        cloud.age_job(name, created=timedelta(hours=age))
    job_state.handler(job_state_change(newer, "COMPLETED"), context)

    # When the older job's COMPLETED event arrives late
    job_state.handler(job_state_change(older, "COMPLETED"), context)

    # Then the newer transcript stays
    assert cloud.read_output(f"transcripts/{KEY}.txt") == "second take\n"


def test_an_older_jobs_late_failure_does_not_replace_a_newer_transcript(cloud, job_state, context):
    # Given the newer upload's transcript is written, and the older job failed
    older, newer = f"{PREFIX}my-talk-000000000000000a", f"{PREFIX}my-talk-000000000000000b"
    cloud.start_job(older, KEY)
    cloud.start_job(newer, KEY)
    cloud.complete_job(newer)
    cloud.age_job(older, created=timedelta(hours=2))
    cloud.age_job(newer, created=timedelta(hours=1))
    cloud.fail_job(older, "Internal failure.")
    job_state.handler(job_state_change(newer, "COMPLETED"), context)

    # When the older job's FAILED event arrives late
    job_state.handler(
        job_state_change(older, "FAILED", failure_reason="Internal failure."), context
    )

    # Then no failure record hides the newer transcript
    assert cloud.output_keys("failed/") == []
    assert cloud.read_output(f"transcripts/{KEY}.txt") == "Hello world. This is a test.\n"


def test_a_finished_job_is_announced_on_the_topic_when_one_is_configured(
    cloud, load_handler, context, notices
):
    # Given a notification topic with a subscribed queue, and a completed job
    topic_arn, read_notices = notices
    job_state = load_handler("job_state_change", TOPIC_ARN=topic_arn)
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)

    # When its COMPLETED event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then subscribers hear which source finished and where its outputs are
    (notice,) = read_notices()
    assert notice["status"] == "COMPLETED"
    assert notice["source"] == f"s3://{INPUT_BUCKET}/{KEY}"
    assert notice["job"] == JOB
    assert f"transcripts/{KEY}.txt" in notice["outputs"]


def test_a_failed_job_is_announced_with_transcribes_reason(cloud, load_handler, context, notices):
    # Given a notification topic with a subscribed queue, and a job Transcribe failed
    topic_arn, read_notices = notices
    job_state = load_handler("job_state_change", TOPIC_ARN=topic_arn)
    cloud.start_job(JOB, KEY)
    cloud.fail_job(JOB, "The media format could not be decoded.")

    # When its FAILED event is handled
    job_state.handler(job_state_change(JOB, "FAILED"), context)

    # Then subscribers hear the failure and its reason
    (notice,) = read_notices()
    assert notice["status"] == "FAILED"
    assert notice["reason"] == "The media format could not be decoded."
    assert notice["outputs"] == [f"failed/{KEY}.json"]


# --- the ledger ---------------------------------------------------------------------------------


def upload_and_start(cloud, load_handler, context, key: str) -> str:
    """Upload ``key`` and run the start function on its event; the job's name."""
    load_handler("start_transcription").handler(sqs_batch(cloud.upload(key)), context)
    (version,) = cloud.versions(key)
    assert version.job is not None
    return version.job


def test_a_harvest_records_the_outcome_language_duration_and_outputs(cloud, load_handler, context):
    name = upload_and_start(cloud, load_handler, context, KEY)
    job_state = load_handler("job_state_change")
    cloud.complete_job(name)

    job_state.handler(job_state_change(name, "COMPLETED"), context)

    (version,) = cloud.versions(KEY)
    assert (version.state, version.language, version.duration_s) == ("TRANSCRIBED", "en-US", 2.3)
    assert version.outputs == tuple(
        f"transcripts/{KEY}.{extension}" for extension in ("srt", "vtt", "json", "txt")
    )
    assert version.item["finished_at"] >= version.item["started_at"]
    assert not version.is_open  # no topic: only the outcome event, sent


def test_a_failed_job_is_recorded_failed_with_its_reason(cloud, load_handler, context):
    name = upload_and_start(cloud, load_handler, context, KEY)
    job_state = load_handler("job_state_change")
    cloud.fail_job(name, "The media could not be decoded.")

    job_state.handler(job_state_change(name, "FAILED"), context)

    (version,) = cloud.versions(KEY)
    assert (version.state, version.reason) == ("FAILED", "The media could not be decoded.")
    assert version.outputs == (f"failed/{KEY}.json",)


def test_a_job_started_before_the_ledger_is_harvested_and_recorded_as_a_backfill(
    cloud, job_state, context
):
    # Given a job with no ledger item, whose source is still in the input bucket
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)

    # When its event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then it is harvested, and an item older than any real upload records it
    assert f"transcripts/{KEY}.txt" in cloud.output_keys("transcripts/")
    (version,) = cloud.versions(KEY)
    assert (version.sequencer, version.state, version.job) == ("0" * 64, "TRANSCRIBED", JOB)
    assert cloud.head(KEY)["sequencer"] == "0" * 64


def test_a_job_started_before_the_ledger_whose_source_is_gone_writes_nothing(
    cloud, job_state, context
):
    # Given a job with no ledger item whose source was deleted since (e.g. `forget`)
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    cloud.s3.delete_object(Bucket=INPUT_BUCKET, Key=KEY)

    # When its event is handled
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)

    # Then nothing comes back: no outputs, no ledger item
    assert cloud.output_keys("transcripts/") == []
    assert cloud.output_keys("failed/") == []
    assert cloud.versions(KEY) == []


def test_an_older_versions_failed_record_goes_when_the_newer_version_is_transcribed(
    cloud, load_handler, context
):
    # Given a rejected (empty) version, then a valid one whose job completes
    starter = load_handler("start_transcription")
    starter.handler(sqs_batch(cloud.upload(KEY, b"")), context)
    assert cloud.output_keys("failed/") == [f"failed/{KEY}.json"]
    name = upload_and_start_again(cloud, starter, context)
    job_state = load_handler("job_state_change")
    cloud.complete_job(name)

    # When its event is handled
    job_state.handler(job_state_change(name, "COMPLETED"), context)

    # Then the transcript shows and the older failure record is gone
    assert cloud.output_keys("failed/") == []
    assert f"transcripts/{KEY}.txt" in cloud.output_keys("transcripts/")


def upload_and_start_again(cloud, starter, context) -> str:
    """Upload a new version of KEY and start it; its job's name."""
    starter.handler(sqs_batch(cloud.upload(KEY)), context)
    job = cloud.versions(KEY)[-1].job
    assert job is not None
    return job


def test_a_newer_rejection_removes_the_older_versions_transcripts(cloud, load_handler, context):
    # Given a transcribed version, then an empty upload over it
    name = upload_and_start(cloud, load_handler, context, KEY)
    cloud.complete_job(name)
    load_handler("job_state_change").handler(job_state_change(name, "COMPLETED"), context)
    # When the empty version's event is handled
    load_handler("start_transcription").handler(sqs_batch(cloud.upload(KEY, b"")), context)

    # Then only its failure record shows: the transcript was of bytes no longer at the key
    assert cloud.output_keys("transcripts/") == []
    assert cloud.output_keys("failed/") == [f"failed/{KEY}.json"]
