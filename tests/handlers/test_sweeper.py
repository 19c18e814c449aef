"""Sweeper: harvests finished jobs whose state-change event was lost; reports stuck jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.handlers.conftest import PREFIX
from tests.handlers.events import job_state_change, scheduled_event

JOB = f"{PREFIX}lost-event-0123456789abcdef"
KEY = "talks/lost event.mp3"


def test_a_finished_job_whose_event_was_lost_is_harvested(cloud, sweeper_handler, context):
    # Given a job that completed ten minutes ago and whose event never arrived
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    cloud.age_job(JOB, created=timedelta(minutes=15), completed=timedelta(minutes=10))

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then its transcript is written
    assert report["harvested"] == [JOB]
    assert cloud.read_output(f"transcripts/{KEY}.txt") == "Hello world. This is a test.\n"


def test_a_failed_job_whose_event_was_lost_gets_its_failure_record(cloud, sweeper_handler, context):
    # Given a job that failed ten minutes ago and whose event never arrived
    cloud.start_job(JOB, KEY)
    cloud.fail_job(JOB, "Invalid sample rate for audio file.")
    cloud.age_job(JOB, created=timedelta(minutes=15), completed=timedelta(minutes=10))

    # When the sweep runs
    sweeper_handler.handler(scheduled_event(), context)

    # Then the failure is recorded with Transcribe's reason
    assert cloud.read_output_json(f"failed/{KEY}.json")["reason"] == (
        "Invalid sample rate for audio file."
    )


def test_a_job_is_harvested_by_only_one_of_two_sweeps(cloud, sweeper_handler, context):
    # Given a finished, unharvested job
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    cloud.age_job(JOB, created=timedelta(minutes=15), completed=timedelta(minutes=10))

    # When the sweep runs twice
    first = sweeper_handler.handler(scheduled_event(), context)
    second = sweeper_handler.handler(scheduled_event(), context)

    # Then only the first harvests it
    assert first["harvested"] == [JOB]
    assert second["harvested"] == []


def test_a_job_already_harvested_from_its_event_is_skipped(
    cloud, job_state, sweeper_handler, context
):
    # Given a finished job whose event was handled
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    cloud.age_job(JOB, created=timedelta(minutes=15), completed=timedelta(minutes=10))
    job_state.handler(job_state_change(JOB, "COMPLETED"), context)
    before = cloud.s3.head_object(Bucket="media-out", Key=f"transcripts/{KEY}.txt")

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then the job is examined but not harvested again
    assert report["examined"] == 1
    assert report["harvested"] == []
    after = cloud.s3.head_object(Bucket="media-out", Key=f"transcripts/{KEY}.txt")
    assert after["LastModified"] == before["LastModified"]


def test_a_job_finished_within_the_grace_period_is_left_to_its_event(
    cloud, sweeper_handler, context
):
    # Given a job that completed thirty seconds ago (its event is probably on the way)
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    cloud.age_job(JOB, created=timedelta(minutes=5), completed=timedelta(seconds=30))

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then it is not harvested yet
    assert report["harvested"] == []
    assert cloud.output_keys("transcripts/") == []


def test_a_job_of_another_prefix_is_not_swept(cloud, sweeper_handler, context):
    # Given a finished job of another pipeline
    cloud.start_job("other-pipeline-job", KEY)
    cloud.complete_job("other-pipeline-job")
    cloud.age_job("other-pipeline-job", created=timedelta(hours=1), completed=timedelta(hours=1))

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then it is left alone
    assert report["examined"] == 0
    assert cloud.output_keys("transcripts/") == []


def test_a_job_of_this_prefix_reading_another_bucket_does_not_stop_the_sweep(
    cloud, sweeper_handler, context
):
    # Given a finished job with this prefix that reads another bucket (a second deployment
    # with the same prefix), and a lost job of this pipeline
    foreign = f"{PREFIX}foreign-0123456789abcdef"
    cloud.start_job(foreign, "talk.mp3", bucket="another-deployments-input")
    cloud.start_job(JOB, KEY)
    for name in (foreign, JOB):
        cloud.complete_job(name)
        cloud.age_job(name, created=timedelta(minutes=15), completed=timedelta(minutes=10))

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then this pipeline's job is harvested and the other is left alone
    assert report["harvested"] == [JOB]
    assert cloud.output_keys("transcripts/") == [
        f"transcripts/{KEY}.json",
        f"transcripts/{KEY}.srt",
        f"transcripts/{KEY}.txt",
        f"transcripts/{KEY}.vtt",
    ]


def test_a_job_queued_longer_than_the_limit_is_reported_as_stuck(cloud, sweeper_handler, context):
    # Given a job queued seven hours ago (limit: six) and one queued a minute ago
    stuck, fresh = f"{PREFIX}stuck-0123456789abcdef", f"{PREFIX}fresh-0123456789abcdef"
    for name, age in ((stuck, timedelta(hours=7)), (fresh, timedelta(minutes=1))):
        cloud.start_job(name, f"talks/{name}.mp3")
        cloud.advance_job_to(name, "QUEUED")
        cloud.age_job(name, created=age)

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then only the old one is reported
    assert report["stuck"] == [stuck]


def test_a_sweep_publishes_its_stuck_jobs_count(cloud, job_state, load_handler, context):
    # Given a job queued for seven hours, and a sweeper configured with a metrics namespace
    sweeper_handler = load_handler("sweeper", METRICS_NAMESPACE="TranscriptionPipeline/Test")
    cloud.start_job(JOB, KEY)
    cloud.advance_job_to(JOB, "QUEUED")
    cloud.age_job(JOB, created=timedelta(hours=7))

    # When the sweep runs
    sweeper_handler.handler(scheduled_event(), context)

    # Then StuckJobs = 1 is in the namespace the alarm reads
    metrics = sweeper_handler.cloudwatch.list_metrics(Namespace="TranscriptionPipeline/Test")
    assert {m["MetricName"] for m in metrics["Metrics"]} >= {"StuckJobs"}
    stats = sweeper_handler.cloudwatch.get_metric_statistics(
        Namespace="TranscriptionPipeline/Test",
        MetricName="StuckJobs",
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(hours=1),
        Period=3600,
        Statistics=["Maximum"],
    )
    assert [point["Maximum"] for point in stats["Datapoints"]] == [1.0]


# moto lists jobs in the order they were started; AWS lists the newest first. Either way a job
# listed before the lost one must not keep the sweep from reaching it.
POISON = f"{PREFIX}poison-0123456789abcdef"


def lost_job_listed_after(cloud, poison_setup) -> None:
    """Set up a poison job (listed first), then a lost-event job of this pipeline."""
    poison_setup()
    cloud.start_job(JOB, KEY)
    cloud.complete_job(JOB)
    for name in (POISON, JOB):
        cloud.age_job(name, created=timedelta(minutes=15), completed=timedelta(minutes=10))


def test_a_completed_job_whose_result_is_gone_does_not_stop_the_sweep(
    cloud, sweeper_handler, context
):
    # Given a completed job of this pipeline whose <job>.json was deleted, listed before a lost job
    def poison() -> None:
        cloud.start_job(POISON, "talks/poison.mp3")
        cloud.complete_job(POISON)
        cloud.s3.delete_object(Bucket="media-out", Key=f"{POISON}.json")

    lost_job_listed_after(cloud, poison)

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then the lost job is harvested and the broken one is reported, not raised
    assert report["harvested"] == [JOB]
    assert report["failed"] == [POISON]
    assert cloud.read_output(f"transcripts/{KEY}.txt") == "Hello world. This is a test.\n"


def test_a_same_prefix_job_reading_an_https_uri_is_skipped_as_foreign(
    cloud, sweeper_handler, context
):
    # Given a finished job with this prefix, started by another application on an https:// URI,
    # listed before a lost job of this pipeline
    def poison() -> None:
        cloud.transcribe.start_transcription_job(
            TranscriptionJobName=POISON,
            Media={"MediaFileUri": "https://example.com/media/talk.mp3"},
            MediaFormat="mp3",
            LanguageCode="en-US",
        )
        cloud.advance_job_to(POISON, "COMPLETED")

    lost_job_listed_after(cloud, poison)

    # When the sweep runs
    report = sweeper_handler.handler(scheduled_event(), context)

    # Then the lost job is harvested and the foreign one is left alone, not counted as a failure
    assert report["harvested"] == [JOB]
    assert report["failed"] == []
    assert cloud.output_keys("transcripts/") == [
        f"transcripts/{KEY}.json",
        f"transcripts/{KEY}.srt",
        f"transcripts/{KEY}.txt",
        f"transcripts/{KEY}.vtt",
    ]


def test_a_sweep_counts_the_jobs_it_could_not_harvest_in_a_metric(cloud, load_handler, context):
    # Given a sweeper with a metrics namespace, and a completed job whose result is gone
    sweeper_handler = load_handler("sweeper", METRICS_NAMESPACE="TranscriptionPipeline/Test")
    cloud.start_job(POISON, "talks/poison.mp3")
    cloud.complete_job(POISON, write_result=False)
    cloud.age_job(POISON, created=timedelta(minutes=15), completed=timedelta(minutes=10))

    # When the sweep runs
    sweeper_handler.handler(scheduled_event(), context)

    # Then SweepFailures = 1 is in the namespace the alarm reads
    stats = sweeper_handler.cloudwatch.get_metric_statistics(
        Namespace="TranscriptionPipeline/Test",
        MetricName="SweepFailures",
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(hours=1),
        Period=3600,
        Statistics=["Maximum"],
    )
    assert [point["Maximum"] for point in stats["Datapoints"]] == [1.0]
