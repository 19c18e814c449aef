"""The ordering and exactly-once scenarios of the ledger (docs/ledger.md), end to end through
the start and job-state handlers against moto: overwrites racing jobs, late and stale events,
duplicates in any order, announcements that fail, and a fault after every write.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.handlers.conftest import INPUT_BUCKET, OUTPUT_BUCKET
from tests.handlers.events import job_state_change, sqs_batch
from transcribe_pipeline.layout import JOB_NAME_META

EMPTY = b""
AUDIO = b"ID3\x04\x00fake mp3 frames"


def jobs_for(cloud: Any, key: str) -> list[str]:
    """The names of the jobs reading ``key`` (each key here has a stem no other key shares)."""
    stem = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    request: dict[str, Any] = {}
    names: list[str] = []
    while True:
        page = cloud.transcribe.list_transcription_jobs(**request)
        names += [job["TranscriptionJobName"] for job in page["TranscriptionJobSummaries"]]
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    uri = f"s3://{INPUT_BUCKET}/{key}"
    return sorted(
        name
        for name in names
        if stem in name
        and cloud.transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"][
            "Media"
        ]["MediaFileUri"]
        == uri
    )


def only_job(cloud: Any, key: str) -> str:
    (name,) = jobs_for(cloud, key)
    return name


def metadata_job(cloud: Any, output_key: str) -> str | None:
    """The job named in an output's metadata, or None when the output does not exist."""
    try:
        head = cloud.s3.head_object(Bucket=OUTPUT_BUCKET, Key=output_key)
    except ClientError:
        return None
    return str(head["Metadata"].get(JOB_NAME_META))


def start(starter: Any, context: Any, event: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = starter.handler(sqs_batch(event), context)
    return response


def finish(cloud: Any, job_state: Any, context: Any, name: str) -> None:
    """Complete a job as Transcribe would and deliver its event."""
    cloud.complete_job(name)
    job_state.handler(job_state_change(name, "COMPLETED"), context)


def test_an_upload_overwritten_with_an_empty_file_while_its_job_runs_shows_the_empty_files_failure(
    cloud, starter, job_state, context
):
    # Given a valid upload whose job runs, then an empty upload over it (rejected at once)
    key = "talks/overwritten.mp3"
    start(starter, context, cloud.upload(key, AUDIO))
    older_job = only_job(cloud, key)
    start(starter, context, cloud.upload(key, EMPTY))

    # When the older job finishes and its event is handled
    finish(cloud, job_state, context, older_job)

    # Then the key shows the newest version's outcome: its failure record, no transcript
    assert cloud.read_output_json(f"failed/{key}.json")["reason"] == (
        "The object is empty (0 bytes)."
    )
    assert cloud.output_keys("transcripts/") == []


def test_a_late_rejection_of_an_older_version_leaves_the_newer_transcript_alone(
    cloud, starter, job_state, context
):
    # Given an empty upload overwritten by a valid one, whose job finished and was harvested
    key = "talks/late.mp3"
    empty_event = cloud.upload(key, EMPTY)
    start(starter, context, cloud.upload(key, AUDIO))
    finish(cloud, job_state, context, only_job(cloud, key))

    # When the empty version's event arrives late
    start(starter, context, empty_event)

    # Then no failure record contradicts the transcript
    assert cloud.output_keys("failed/") == []
    assert cloud.read_output(f"transcripts/{key}.txt") == "Hello world. This is a test.\n"


def test_an_event_for_a_version_no_longer_current_starts_no_job(cloud, starter, context):
    # Given an upload overwritten before its event was handled
    key = "talks/stale.mp3"
    stale = cloud.upload(key, b"ID3 first take")
    current = cloud.upload(key, b"ID3 second take")

    # When the older version's event is handled, then the newer's
    start(starter, context, stale)
    jobs_after_stale_event = jobs_for(cloud, key)
    start(starter, context, current)

    # Then only the current version has a job (Transcribe would read its bytes either way)
    assert jobs_after_stale_event == []
    assert len(jobs_for(cloud, key)) == 1


def test_a_superseded_job_is_reported_once_however_often_its_event_comes(
    cloud, starter, job_state, context, monkeypatch
):
    # Given two versions whose jobs both ran; the newer one is harvested
    key = "talks/twice.mp3"
    start(starter, context, cloud.upload(key, b"ID3 first take"))
    (older,) = jobs_for(cloud, key)
    start(starter, context, cloud.upload(key, b"ID3 second take"))
    (newer,) = set(jobs_for(cloud, key)) - {older}
    finish(cloud, job_state, context, newer)
    cloud.complete_job(older)
    messages: list[str] = []
    monkeypatch.setattr(job_state.logger, "info", lambda message, **_: messages.append(message))

    # When the older job's event is delivered twice (or the sweeper finds it again)
    job_state.handler(job_state_change(older, "COMPLETED"), context)
    job_state.handler(job_state_change(older, "COMPLETED"), context)

    # Then it is reported superseded once, and the newer transcript stays
    assert messages.count("Job superseded") == 1
    assert metadata_job(cloud, f"transcripts/{key}.txt") == newer


def failing_once(original: Any, error: Exception) -> Any:
    """A client method that raises ``error`` on its first call, then behaves."""
    calls = {"n": 0}

    def call(**request: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise error
        return original(**request)

    return call


def test_a_notice_whose_publish_failed_is_sent_on_the_retry_and_only_once(
    *, cloud, load_handler, starter, context, notices, monkeypatch
):
    # Given a topic, a finished job, and SNS failing the first publish
    topic_arn, read_notices = notices
    job_state = load_handler("job_state_change", TOPIC_ARN=topic_arn)
    key = "talks/notice.mp3"
    start(starter, context, cloud.upload(key))
    name = only_job(cloud, key)
    cloud.complete_job(name)
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "slow"}}, "Publish")
    monkeypatch.setattr(job_state.sns, "publish", failing_once(job_state.sns.publish, throttled))
    event = job_state_change(name, "COMPLETED")

    # When the event fails on the publish, is retried, and then delivered once more
    with pytest.raises(ClientError):
        job_state.handler(event, context)
    job_state.handler(event, context)
    job_state.handler(event, context)

    # Then subscribers got exactly one notice
    assert [notice["job"] for notice in read_notices()] == [name]


def test_an_outcome_event_refused_by_eventbridge_is_put_on_the_retry_and_only_once(
    *, cloud, starter, job_state, context, outcome_events, monkeypatch
):
    # Given a finished job, and EventBridge refusing the first PutEvents entry (HTTP 200)
    key = "talks/event.mp3"
    start(starter, context, cloud.upload(key))
    name = only_job(cloud, key)
    cloud.complete_job(name)
    original = job_state.events.put_events
    calls = {"n": 0}

    def put_events(**request: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            return {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
            }
        return original(**request)

    monkeypatch.setattr(job_state.events, "put_events", put_events)
    event = job_state_change(name, "COMPLETED")

    # When the event fails, is retried, and comes once more
    with pytest.raises(RuntimeError, match="InternalFailure"):
        job_state.handler(event, context)
    job_state.handler(event, context)
    job_state.handler(event, context)

    # Then one Transcript Ready event, with every documented field
    (received,) = outcome_events()
    assert received["detail-type"] == "Transcript Ready"
    assert received["detail"]["job"] == name
    assert received["detail"]["outputs"][-1] == f"transcripts/{key}.txt"


def test_each_outcome_puts_one_event_with_exactly_the_documented_fields(
    cloud, starter, job_state, context, outcome_events
):
    from transcribe_pipeline.outcome_events import DETAIL_FIELDS, EVENT_SOURCE

    # Given a rejected upload and a transcribed one
    start(starter, context, cloud.upload("talks/none.mp3", EMPTY))
    start(starter, context, cloud.upload("talks/some.mp3"))
    finish(cloud, job_state, context, only_job(cloud, "talks/some.mp3"))

    # When the outcome events are read
    received = sorted(outcome_events(), key=lambda event: event["detail"]["key"])

    # Then each names its outcome, from the pipeline, with exactly the documented fields
    assert [(e["source"], e["detail-type"]) for e in received] == [
        (EVENT_SOURCE, "Input Rejected"),
        (EVENT_SOURCE, "Transcript Ready"),
    ]
    assert all(tuple(event["detail"]) == DETAIL_FIELDS for event in received)
    rejected, ready = (event["detail"] for event in received)
    assert (rejected["state"], rejected["job"], rejected["outputs"]) == (
        "REJECTED",
        None,
        ["failed/talks/none.mp3.json"],
    )
    assert (ready["state"], ready["language"], ready["duration_s"]) == ("TRANSCRIBED", "en-US", 2.3)


# --- duplicates and reordering, generated ------------------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), bodies=st.lists(st.sampled_from([AUDIO, EMPTY]), min_size=1, max_size=3))
def test_events_duplicated_and_reordered_end_with_the_newest_versions_outcome_and_one_job_each(
    *, cloud, starter, job_state, context, monkeypatch, data, bodies
):
    # Given the versions of one key, uploaded in order while their events and their jobs'
    # events arrive in any order, some twice
    key = f"generated/{uuid.uuid4().hex}.mp3"
    client = starter.transcribe.client
    starts: Counter[str] = Counter()
    original_start = client.start_transcription_job

    def counting_start(**request: Any) -> Any:
        starts[request["TranscriptionJobName"]] += 1
        return original_start(**request)

    monkeypatch.setattr(client, "start_transcription_job", counting_start)
    uploads: list[dict[str, Any]] = []
    delivered: Counter[int] = Counter()
    finished: Counter[str] = Counter()

    def actions() -> list[tuple[str, Any]]:
        possible: list[tuple[str, Any]] = []
        if len(uploads) < len(bodies):
            possible.append(("upload", len(uploads)))
        possible += [("start", index) for index in range(len(uploads)) if delivered[index] < 2]
        possible += [("finish", name) for name in jobs_for(cloud, key) if finished[name] < 2]
        return possible

    def done() -> bool:
        return (
            len(uploads) == len(bodies)
            and all(delivered[index] for index in range(len(uploads)))
            and all(finished[name] for name in jobs_for(cloud, key))
        )

    # When every action is taken in the order drawn, until each happened at least once
    while not done():
        action, what = data.draw(st.sampled_from(actions()))
        if action == "upload":
            uploads.append(cloud.upload(key, bodies[what]))
        elif action == "start":
            delivered[what] += 1
            start(starter, context, uploads[what])
        else:
            finished[what] += 1
            if finished[what] == 1:
                cloud.complete_job(what)
            job_state.handler(job_state_change(what, "COMPLETED"), context)

    # Then no job was started twice, and the key shows the newest version's outcome
    assert all(count == 1 for count in starts.values()), starts
    if bodies[-1] == EMPTY:
        assert cloud.read_output_json(f"failed/{key}.json")["reason"].startswith("The object is")
        assert metadata_job(cloud, f"transcripts/{key}.txt") is None
    else:
        newest = cloud.versions(key)[-1]
        assert newest.job is not None
        assert metadata_job(cloud, f"transcripts/{key}.txt") == newest.job
        assert metadata_job(cloud, f"failed/{key}.json") is None


# --- a fault after every write -----------------------------------------------------------------

WRITES = {
    "PutObject",
    "DeleteObject",
    "PutItem",
    "UpdateItem",
    "TransactWriteItems",
    "Publish",
    "PutEvents",
    "StartTranscriptionJob",
}
# A send that succeeded but whose caller died before recording it is the one case the design
# sends twice (docs/ledger.md, "Exactly once").
SENDS = {"Publish", "PutEvents"}


class InjectedFaultError(RuntimeError):
    """Raised after a write took effect, as if the function died right then."""


class FaultAfterWrite:
    """Counts writes through the given clients and raises after the n-th (0: never)."""

    def __init__(self, clients: list[Any]) -> None:
        self.fail_at = 0
        self.writes: list[str] = []
        for client in clients:
            client.meta.events.register("after-call.*.*", self._after_call)

    def _after_call(self, model: Any, **kwargs: Any) -> None:
        if model.name not in WRITES:
            return
        self.writes.append(model.name)
        if len(self.writes) == self.fail_at:
            raise InjectedFaultError(f"after write {self.fail_at} ({model.name})")


def run_until_success(handler: Any, event: Any, context: Any) -> None:
    """Deliver an event again until the handler succeeds, as the platform retries."""
    for _ in range(5):
        try:
            response = handler(event, context)
        except Exception:  # noqa: BLE001 - any failure is retried by the platform
            continue
        if not isinstance(response, dict) or not response.get("batchItemFailures"):
            return
    raise AssertionError("the retries never converged")


def upload_to_announcements(cloud: Any, starter: Any, job_state: Any, context: Any, key: str):
    """One upload's whole path, each event delivered until its handler succeeds."""
    run_until_success(starter.handler, sqs_batch(cloud.upload(key)), context)
    name = only_job(cloud, key)
    cloud.complete_job(name)
    run_until_success(job_state.handler, job_state_change(name, "COMPLETED"), context)
    return name


def test_a_fault_after_any_write_converges_on_retry_to_one_job_one_transcript_one_announcement(
    cloud, load_handler, context, notices, outcome_events
):
    from transcribe_pipeline.announce import announce_pending
    from transcribe_pipeline.ledger import CLAIM_DURATION

    topic_arn, read_notices = notices
    starter = load_handler("start_transcription", TOPIC_ARN=topic_arn)
    job_state = load_handler("job_state_change", TOPIC_ARN=topic_arn)
    faults = FaultAfterWrite(
        [
            starter.s3,
            starter.ledger.table.meta.client,
            starter.ledger.client,
            starter.transcribe.client,
            starter.events,
            job_state.s3,
            job_state.ledger.table.meta.client,
            job_state.ledger.client,
            job_state.sns,
            job_state.events,
        ]
    )
    # A clean run counts the writes of one upload's path.
    upload_to_announcements(cloud, starter, job_state, context, "clean/run.mp3")
    read_notices(), outcome_events()
    path = list(faults.writes)
    assert {"StartTranscriptionJob", "TransactWriteItems", "Publish", "PutEvents"} <= set(path)

    for fail_at, write in enumerate(path, start=1):
        key = f"faulty/after-{fail_at}.mp3"
        faults.writes, faults.fail_at = [], fail_at
        name = upload_to_announcements(cloud, starter, job_state, context, key)
        # What the sweeper does for an item still open once a dead sender's claim expires.
        (version,) = cloud.versions(key)
        announce_pending(
            version,
            ledger=job_state.ledger,
            sns=job_state.sns,
            events=job_state.events,
            settings=job_state.settings,
            now=datetime.now(UTC) + CLAIM_DURATION + timedelta(seconds=1),
        )
        where = f"fault after write {fail_at} ({write})"
        assert jobs_for(cloud, key) == [name], where
        assert metadata_job(cloud, f"transcripts/{key}.txt") == name, where
        assert cloud.output_keys(f"failed/{key}") == [], where
        notices_sent = [notice for notice in read_notices() if notice["job"] == name]
        events_put = [event for event in outcome_events() if event["detail"]["job"] == name]
        expected = range(1, 3) if write in SENDS else range(1, 2)
        assert len(notices_sent) in expected, where
        assert len(events_put) in expected, where
        assert not cloud.versions(key)[0].is_open, where
