"""The real app, deployed with the real CDK CLI to the local cloud, transcribes real speech."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from localcloud.deployment import ROOT, LocalEndpoint, Outcome, deploy, destroy, wait_for_outcome
from localcloud.wer import wer as word_error_rate
from tests.e2e.support import srt_cues, wait_until_empty
from transcribe_pipeline.keys import S3Object, encode_event_key, job_name_for
from transcribe_pipeline.layout import failure_key, transcript_key
from transcribe_pipeline.ledger_schema import (
    FINAL_STATES,
    HEAD_SORT_KEY,
    OPEN_INDEX,
    PARTITION_KEY,
    SEQUENCER,
    SORT_KEY,
    STATE,
    STATE_INDEX,
    VERSION_SORT_KEY_PREFIX,
    State,
)
from transcribe_pipeline.outcome_events import EVENT_SOURCE, DetailType
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME, StackOutputs
from transcribe_pipeline.subtitle_style import SubtitleStyle

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SAMPLES = ROOT / "samples"
CLIPS = json.loads((SAMPLES / "texts.json").read_text())["clips"]
TEXTS = {clip["name"]: clip["text"] for clip in CLIPS}
# Awkward keys on purpose: spaces, a literal +, a literal %2B, non-ASCII, nesting, upper case.
KEY_SHAPES = (
    "talks/{name} talk.{ext}",
    "meetings/team+room {name}.{ext}",
    "ünïcødé/{name} %2B report.{ext}",
    "deep/nested/prefix/{NAME}.{EXT}",
    "{name}.{ext}",
)
SAMPLE_FILES = [(clip["name"], fmt) for clip in CLIPS for fmt in clip["formats"]]
SPEECH = {
    KEY_SHAPES[n % len(KEY_SHAPES)].format(
        name=name, ext=ext, NAME=name.upper(), EXT=ext.upper()
    ): (f"{name}.{ext}", name)
    for n, (name, ext) in enumerate(SAMPLE_FILES)
}
MAX_WER = 0.15
WAIT_SECONDS = 180
DESERIALIZE = TypeDeserializer().deserialize


@pytest.fixture(scope="module")
def pipeline(endpoint: LocalEndpoint, cdk_out: Path) -> Iterator[StackOutputs]:
    """The deployed stack's outputs; destroyed at the end by the last test, or here."""
    outputs = deploy(endpoint, output_dir=cdk_out)
    yield outputs
    stacks = endpoint.client("cloudformation").list_stacks()["StackSummaries"]
    if any(s["StackName"] == DEFAULT_STACK_NAME and s["StackStatus"] != "DELETE_COMPLETE"
           for s in stacks):  # fmt: skip
        destroy(endpoint, output_dir=cdk_out)


@pytest.fixture(scope="module")
def outcomes(endpoint: LocalEndpoint, pipeline: StackOutputs) -> dict[str, Outcome]:
    """Upload every input at once, then wait for each one's transcript or failure record."""
    s3 = endpoint.client("s3")
    bucket = pipeline.input_bucket
    for key, (sample, _) in SPEECH.items():
        s3.upload_file(str(SAMPLES / sample), bucket, key)
    s3.upload_file(str(SAMPLES / "silence.wav"), bucket, "quiet/silence.wav")
    s3.upload_file(str(SAMPLES / "not-media.mp3"), bucket, "broken/not-media.mp3")
    s3.upload_file(str(SAMPLES / "too-short.wav"), bucket, "short/too-short.wav")
    s3.put_object(Bucket=bucket, Key="notes/readme.txt", Body=b"not media")
    s3.put_object(Bucket=bucket, Key="empty/nothing.mp3", Body=b"")
    s3.put_object(Bucket=bucket, Key="a folder/", Body=b"")
    keys = [*SPEECH, "quiet/silence.wav", "broken/not-media.mp3", "short/too-short.wav",
            "notes/readme.txt", "empty/nothing.mp3", "a folder/"]  # fmt: skip
    deadline = time.monotonic() + WAIT_SECONDS
    return {
        key: wait_for_outcome(
            s3, pipeline.output_bucket, key, timeout=max(1.0, deadline - time.monotonic())
        )
        for key in keys
    }


@pytest.mark.parametrize("key", list(SPEECH))
def test_each_format_under_an_awkward_key_is_transcribed_accurately(outcomes, key):
    outcome = outcomes[key]

    assert outcome.failure is None, outcome.failure
    assert outcome.transcript is not None
    wer = word_error_rate(TEXTS[SPEECH[key][1]], outcome.transcript)
    assert wer <= MAX_WER, f"WER {wer:.2f} for {key}: {outcome.transcript!r}"


def test_subtitles_land_beside_the_transcript_in_srt_and_vtt(endpoint, pipeline, outcomes):
    s3 = endpoint.client("s3")
    bucket = pipeline.output_bucket
    key = next(iter(SPEECH))

    srt = _text(s3, bucket, f"transcripts/{key}.srt")
    vtt = _text(s3, bucket, f"transcripts/{key}.vtt")

    assert re.match(r"^1\r?\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\r?\n\S", srt)
    assert vtt.startswith("WEBVTT")
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}", vtt)


@pytest.mark.parametrize("key", list(SPEECH))
def test_recognized_speech_gets_subtitles_within_the_default_style(
    endpoint, pipeline, outcomes, key
):
    s3 = endpoint.client("s3")
    bucket = pipeline.output_bucket
    style = SubtitleStyle()  # cdk.json's subtitle_style

    cues = srt_cues(_text(s3, bucket, f"transcripts/{key}.srt"))
    document = json.loads(_text(s3, bucket, f"transcripts/{key}.json"))

    # Every word of the transcript, in order, and nothing else
    shown = " ".join(line for _, _, lines in cues for line in lines).split()
    assert shown == [word["text"] for word in document["words"]]
    assert " ".join(shown) == document["transcript"]
    for index, (start, end, lines) in enumerate(cues):
        following = cues[index + 1][0] if index + 1 < len(cues) else None
        duration = end - start
        boxed_in = end == following or duration == style.max_cue_seconds * 1000
        assert 1 <= len(lines) <= style.max_lines_per_cue, lines
        assert all(len(line) <= style.max_chars_per_line for line in lines), lines
        assert 0 < duration <= style.max_cue_seconds * 1000
        assert following is None or end <= following
        assert duration >= style.min_cue_seconds * 1000 or boxed_in
        chars = sum(len(line) for line in lines)
        assert chars * 1000 <= style.max_chars_per_second * duration or boxed_in, (lines, duration)


def test_the_json_transcript_names_its_source_and_job_and_times_every_word(
    endpoint, pipeline, outcomes
):
    s3 = endpoint.client("s3")
    bucket = pipeline.output_bucket
    key = next(iter(SPEECH))
    head = s3.head_object(Bucket=bucket, Key=f"transcripts/{key}.json")

    document = json.loads(_text(s3, bucket, f"transcripts/{key}.json"))

    assert head["ContentType"] == "application/json"
    assert document["schema_version"] == 1
    assert document["source_key"] == key
    assert document["job_name"] == head["Metadata"]["job-name"]
    assert document["language_code"] == "en-US"
    assert [turn["text"] for turn in document["turns"]] == [document["transcript"]]
    starts = [word["start"] for word in document["words"]]
    assert starts == sorted(starts)
    assert all(w["start"] <= w["end"] and 0 <= w["confidence"] <= 1 for w in document["words"])
    assert word_error_rate(TEXTS[SPEECH[key][1]], document["transcript"]) <= MAX_WER


def test_the_raw_transcribe_result_is_at_the_bucket_root_in_transcribes_schema(
    endpoint, pipeline, outcomes
):
    s3 = endpoint.client("s3")
    listing = s3.list_objects_v2(Bucket=pipeline.output_bucket)["Contents"]
    raw = [
        item["Key"] for item in listing if "/" not in item["Key"] and item["Key"].endswith(".json")
    ]

    assert raw
    document = json.loads(_text(s3, pipeline.output_bucket, raw[0]))
    assert document["status"] == "COMPLETED"
    assert {"transcripts", "items"} <= set(document["results"])


def test_silent_media_gives_an_empty_transcript_not_a_failure(outcomes):
    outcome = outcomes["quiet/silence.wav"]

    assert outcome.failure is None
    assert outcome.transcript == ""


@pytest.mark.parametrize(
    ("key", "job_expected", "reason_words"),
    [
        ("notes/readme.txt", False, "Unsupported file extension"),
        ("empty/nothing.mp3", False, "empty"),
        ("a folder/", False, "folder marker"),
        ("broken/not-media.mp3", True, "decode"),
        ("short/too-short.wav", True, "minimum is 500 ms"),
    ],
)
def test_bad_inputs_get_a_failure_record_with_the_reason(
    outcomes, pipeline, key, job_expected, reason_words
):
    failure = outcomes[key].failure

    assert failure is not None
    assert failure.source == f"s3://{pipeline.input_bucket}/{key}"
    assert (failure.job is not None) is job_expected
    assert reason_words.lower() in failure.reason.lower()


def test_a_redelivered_upload_event_starts_no_second_job(endpoint, pipeline, outcomes):
    transcribe = endpoint.client("transcribe")
    before = _job_names(transcribe)
    sqs = endpoint.client("sqs")
    s3 = endpoint.client("s3")
    key = next(iter(SPEECH))
    head = s3.head_object(Bucket=pipeline.input_bucket, Key=key)
    event = _object_created(pipeline.input_bucket, key, head)

    sqs.send_message(QueueUrl=pipeline.start_queue_url, MessageBody=json.dumps(event))
    wait_until_empty(sqs, pipeline.start_queue_url)

    assert _job_names(transcribe) == before
    dlq = sqs.get_queue_attributes(
        QueueUrl=pipeline.start_dead_letter_queue_url,
        AttributeNames=["ApproximateNumberOfMessages"],
    )
    assert dlq["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_poison_job_newer_than_a_lost_event_job_does_not_stop_the_sweep(endpoint, pipeline):
    # Given state-change events lost (the job-state rule disabled) for a finished upload, then,
    # newer (AWS lists the newest jobs first), two jobs the sweeper cannot harvest: one of ours
    # whose <job>.json was deleted, and another application's job with the pipeline's prefix,
    # started on an https:// URI
    events, s3, transcribe = (endpoint.client(name) for name in ("events", "s3", "transcribe"))
    (rule,) = [
        r["Name"]
        for r in events.list_rules(NamePrefix=DEFAULT_STACK_NAME)["Rules"]
        if "JobStateChangeRule" in r["Name"]
    ]
    bucket, prefix = pipeline.input_bucket, pipeline.job_name_prefix
    events.disable_rule(Name=rule)
    try:
        lost = _finished_upload(s3, transcribe, bucket, prefix, "sweep/lost event.mp3")
        broken = _finished_upload(s3, transcribe, bucket, prefix, "sweep/result deleted.mp3")
        s3.delete_object(Bucket=pipeline.output_bucket, Key=f"{broken}.json")
        foreign = f"{prefix}another-application-https"
        s3.create_bucket(Bucket="another-application-media")
        s3.upload_file(str(SAMPLES / "hello-pipeline.mp3"), "another-application-media", "a.mp3")
        transcribe.start_transcription_job(
            TranscriptionJobName=foreign,
            Media={
                "MediaFileUri": "https://s3.us-east-1.amazonaws.com/another-application-media/a.mp3"
            },
            MediaFormat="mp3",
            LanguageCode="en-US",
            OutputBucketName="another-application-media",
        )
        _wait_for_job(transcribe, foreign)

        # When the sweeper runs (told not to wait the 2-minute grace for events in flight)
        report = _invoke_sweeper(endpoint.client("lambda"), pipeline.sweeper_function)
    finally:
        events.enable_rule(Name=rule)

    # Then the lost job is harvested anyway, the broken job is reported, the foreign one is
    # left alone, and the lost upload's transcript is there
    assert lost in report["harvested"]
    assert report["failed"] == [broken]
    assert foreign not in report["harvested"]
    outcome = wait_for_outcome(s3, pipeline.output_bucket, "sweep/lost event.mp3", timeout=5)
    assert outcome.transcript
    assert word_error_rate(TEXTS["hello-pipeline"], outcome.transcript) <= MAX_WER


# --- the ledger: overwrite races and outcome events ------------------------------------------


def ledger_items(endpoint: LocalEndpoint, pipeline: StackOutputs, key: str) -> list[dict[str, Any]]:
    """Every ledger item of one source key (its head and its versions)."""
    found = endpoint.client("dynamodb").query(
        TableName=pipeline.ledger_table,
        KeyConditionExpression="#pk = :key",
        ExpressionAttributeNames={"#pk": PARTITION_KEY},
        ExpressionAttributeValues={":key": {"S": key}},
    )["Items"]
    return [{name: DESERIALIZE(value) for name, value in item.items()} for item in found]


def settled(
    endpoint: LocalEndpoint, pipeline: StackOutputs, key: str, *, versions: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Wait until ``key`` has ``versions`` version items, all final: (the head's, all of them)."""
    deadline = time.monotonic() + WAIT_SECONDS
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        items = ledger_items(endpoint, pipeline, key)
        head = next((i for i in items if i[SORT_KEY] == HEAD_SORT_KEY), None)
        found = [i for i in items if i[SORT_KEY].startswith(VERSION_SORT_KEY_PREFIX)]
        if head and len(found) == versions and all(State(i[STATE]) in FINAL_STATES for i in found):
            return next(i for i in found if i[SEQUENCER] == head[SEQUENCER]), found
        time.sleep(0.5)
    raise TimeoutError(f"{key!r}: the ledger did not settle in {WAIT_SECONDS} s: {items}")


def read_output(s3: Any, bucket: str, key: str) -> str | None:
    """An output's text, or None when it does not exist."""
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    except s3.exceptions.NoSuchKey:
        return None


@pytest.fixture
def outcome_queue(endpoint: LocalEndpoint, pipeline: StackOutputs) -> Iterator[str]:
    """A consumer: a rule on the default bus for the pipeline's outcome events, into a queue."""
    sqs, events = endpoint.client("sqs"), endpoint.client("events")
    url = sqs.create_queue(QueueName="e2e-outcome-consumer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = json.dumps({"source": [EVENT_SOURCE]})
    events.put_rule(Name="e2e-outcome-consumer", EventPattern=pattern)
    events.put_targets(Rule="e2e-outcome-consumer", Targets=[{"Id": "queue", "Arn": arn}])
    yield url
    events.remove_targets(Rule="e2e-outcome-consumer", Ids=["queue"])
    events.delete_rule(Name="e2e-outcome-consumer")
    sqs.delete_queue(QueueUrl=url)


def test_a_valid_upload_overwritten_by_an_empty_one_shows_only_the_rejection(endpoint, pipeline):
    # Given a speech file, overwritten by an empty file while its job may still run
    s3 = endpoint.client("s3")
    key = "race/overwritten.mp3"
    s3.upload_file(str(SAMPLES / "hello-pipeline.mp3"), pipeline.input_bucket, key)
    s3.put_object(Bucket=pipeline.input_bucket, Key=key, Body=b"")

    # When both versions are settled
    current, versions = settled(endpoint, pipeline, key, versions=2)

    # Then the newest decides: rejected, with its record, and no transcript of the older bytes
    assert current[STATE] == State.REJECTED
    assert sorted(v[STATE] for v in versions) == [State.REJECTED, State.SUPERSEDED]
    assert read_output(s3, pipeline.output_bucket, transcript_key(key, "txt")) is None
    record = json.loads(read_output(s3, pipeline.output_bucket, failure_key(key)) or "{}")
    assert "empty" in record["reason"].lower()


def test_the_newest_of_two_quick_uploads_decides_the_transcript(endpoint, pipeline):
    # Given one key uploaded twice in a row with different speech (the first upload's bytes
    # are not even FLAC: whatever becomes of its job, it must not show)
    s3 = endpoint.client("s3")
    key = "race/replaced.flac"
    s3.upload_file(str(SAMPLES / "hello-pipeline.mp3"), pipeline.input_bucket, key)
    s3.upload_file(str(SAMPLES / "weather.flac"), pipeline.input_bucket, key)

    # When both versions are settled
    current, versions = settled(endpoint, pipeline, key, versions=2)

    # Then the transcript is the second upload's speech, and the first wrote nothing over it
    assert current[STATE] == State.TRANSCRIBED
    assert sorted(v[STATE] for v in versions) == [State.SUPERSEDED, State.TRANSCRIBED]
    text = read_output(s3, pipeline.output_bucket, transcript_key(key, "txt")) or ""
    assert word_error_rate(TEXTS["weather"], text) <= MAX_WER
    assert read_output(s3, pipeline.output_bucket, failure_key(key)) is None


def test_each_outcome_is_one_event_on_the_default_bus(endpoint, pipeline, outcome_queue):
    # Given a consumer subscribed to the pipeline's outcome events, and two new uploads
    s3, sqs = endpoint.client("s3"), endpoint.client("sqs")
    s3.upload_file(str(SAMPLES / "hello-pipeline.mp3"), pipeline.input_bucket, "events/ok.mp3")
    s3.put_object(Bucket=pipeline.input_bucket, Key="events/notes.txt", Body=b"not media")
    settled(endpoint, pipeline, "events/ok.mp3", versions=1)
    settled(endpoint, pipeline, "events/notes.txt", versions=1)

    # When the consumer reads its queue (a little longer than needed, to catch duplicates)
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=outcome_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=outcome_queue, ReceiptHandle=message["ReceiptHandle"])

    # Then each upload's outcome arrived once, with its type and its outputs
    ours = [e for e in received if e["detail"]["key"].startswith("events/")]
    assert sorted((e["detail"]["key"], e["detail-type"]) for e in ours) == [
        ("events/notes.txt", DetailType.INPUT_REJECTED),
        ("events/ok.mp3", DetailType.TRANSCRIPT_READY),
    ]
    ready = next(e for e in ours if e["detail-type"] == DetailType.TRANSCRIPT_READY)
    assert transcript_key("events/ok.mp3", "txt") in ready["detail"]["outputs"]
    assert ready["detail"]["bucket"] == pipeline.input_bucket


def test_the_deployed_stack_names_its_ledger_table_with_both_indexes(endpoint, pipeline):
    table = endpoint.client("dynamodb").describe_table(TableName=pipeline.ledger_table)["Table"]

    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {
        OPEN_INDEX,
        STATE_INDEX,
    }


def test_destroy_leaves_no_stack_bucket_function_queue_rule_or_table(
    endpoint, pipeline, outcomes, cdk_out
):
    destroy(endpoint, output_dir=cdk_out)

    assert pipeline.ledger_table not in endpoint.client("dynamodb").list_tables()["TableNames"]

    assert not any(
        b["Name"].startswith("transcriptionpipeline")
        for b in endpoint.client("s3").list_buckets()["Buckets"]
    )
    functions = endpoint.client("lambda").list_functions()["Functions"]
    assert not [f["FunctionName"] for f in functions if DEFAULT_STACK_NAME in f["FunctionName"]]
    assert not endpoint.client("sqs").list_queues().get("QueueUrls")
    rules = endpoint.client("events").list_rules()["Rules"]
    assert not [r["Name"] for r in rules if r["Name"].startswith(DEFAULT_STACK_NAME)]


def _text(s3: Any, bucket: str, key: str) -> str:
    return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))


def _job_names(transcribe: Any) -> set[str]:
    names: set[str] = set()
    for status in ("QUEUED", "IN_PROGRESS", "COMPLETED", "FAILED"):
        page = transcribe.list_transcription_jobs(Status=status, MaxResults=100)
        names |= {s["TranscriptionJobName"] for s in page["TranscriptionJobSummaries"]}
    return names


def _object_created(bucket: str, key: str, head: dict[str, Any]) -> dict[str, Any]:
    """The event S3 sends through EventBridge for ``key``, encoded the way S3 encodes keys."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-25T00:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": encode_event_key(key),
                "size": head["ContentLength"],
                "etag": head["ETag"].strip('"'),
                "version-id": head.get("VersionId"),
                "sequencer": "00617F08299329D189",
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "127.0.0.1",
            "reason": "PutObject",
        },
    }


def _finished_upload(s3: Any, transcribe: Any, bucket: str, prefix: str, key: str) -> str:
    """Upload a sample under ``key`` and wait for its job to finish; the job's name."""
    s3.upload_file(str(SAMPLES / "hello-pipeline.mp3"), bucket, key)
    head = s3.head_object(Bucket=bucket, Key=key)
    obj = S3Object(bucket, key, size=head["ContentLength"], version_id=head.get("VersionId"))
    name = job_name_for(obj, prefix=prefix)
    _wait_for_job(transcribe, name)
    return name


def _wait_for_job(transcribe: Any, name: str, timeout: float = 60) -> None:
    """Poll until the job exists and has COMPLETED."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            job = transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
        except transcribe.exceptions.NotFoundException:
            job = {}
        except transcribe.exceptions.BadRequestException:
            job = {}
        if job.get("TranscriptionJobStatus") == "COMPLETED":
            return
        time.sleep(0.25)
    raise TimeoutError(f"Job {name} did not complete in {timeout} s")


def _invoke_sweeper(lam: Any, function_name: str) -> Any:
    """Run one sweep with no grace period, as the schedule would; its report."""
    variables = lam.get_function_configuration(FunctionName=function_name)["Environment"][
        "Variables"
    ]
    lam.update_function_configuration(
        FunctionName=function_name,
        Environment={"Variables": {**variables, "SWEEP_GRACE_MINUTES": "0"}},
    )
    response = lam.invoke(FunctionName=function_name, Payload=b"{}")
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    return payload
