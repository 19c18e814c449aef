"""The local Transcribe service behind moto's API, driven with plain boto3 over HTTP."""

from __future__ import annotations

import copy
import functools
import io
import json
import re
import threading
import time
import urllib.request
import uuid
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import moto
import pytest
from botocore.exceptions import ClientError, WaiterError
from moto.events.models import Rule
from moto.server import ThreadedMotoServer
from moto.transcribe.models import transcribe_backends
from moto.transcribe.responses import TranscribeResponse

from localcloud import transcribe as local_transcribe
from localcloud.asr import RecognizerProcess, decode_to_pcm16k
from localcloud.server import free_port
from localcloud.transcribe import TranscribeOptions, TranscribeService
from localcloud.transcribe.errors import LimitExceededError, NotFoundError
from localcloud.transcribe.recognizer import open_recognizer
from localcloud.wer import wer
from tests.localcloud.support import wait_for
from transcribe_pipeline.throttling import is_media_too_long

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SPEC = json.loads((SAMPLES / "texts.json").read_text())
TEXTS = {c["name"]: c["text"] for c in SPEC["clips"]}
SPANISH = SPEC["non_english"][0]
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
TIMEOUT = 180.0
# Jobs really decode and recognize audio: give them longer than the shared default.
_wait_for = functools.partial(wait_for, timeout=TIMEOUT)
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class Cloud:
    """A moto server with the local Transcribe installed, and boto3 clients on it."""

    def __init__(self, endpoint: str, service: TranscribeService) -> None:
        self.endpoint = endpoint
        self.service = service
        self.kwargs: dict[str, Any] = {
            "endpoint_url": endpoint,
            "region_name": REGION,
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }
        self.s3 = boto3.client("s3", **self.kwargs)
        self.transcribe = boto3.client("transcribe", **self.kwargs)
        self.sqs = boto3.client("sqs", **self.kwargs)
        self.events = boto3.client("events", **self.kwargs)
        suffix = uuid.uuid4().hex[:8]
        self.media = f"media-{suffix}"
        self.output = f"output-{suffix}"
        self._received: list[dict[str, Any]] = []
        self._receive_lock = threading.Lock()

    def setup(self) -> None:
        """Buckets with the samples, and queues catching Transcribe and S3 events."""
        self.s3.create_bucket(Bucket=self.media)
        self.s3.create_bucket(Bucket=self.output)
        for sample in SAMPLES.iterdir():
            if sample.is_file() and sample.suffix not in {".json", ".py", ".md"}:
                self.s3.upload_file(str(sample), self.media, sample.name)
        self.s3.put_bucket_notification_configuration(
            Bucket=self.output,
            NotificationConfiguration={"EventBridgeConfiguration": {}},
        )
        self.queue_url = self.sqs.create_queue(QueueName=f"events-{self.output}")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        patterns = {
            "transcribe": {"source": ["aws.transcribe"]},
            "s3": {"source": ["aws.s3"], "detail": {"bucket": {"name": [self.output]}}},
        }
        for name, pattern in patterns.items():
            rule = f"{name}-{self.output}"
            self.events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
            self.events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": queue_arn}])

    def start(self, name: str, sample: str, **extra: Any) -> dict[str, Any]:
        """StartTranscriptionJob on a shipped sample, output to the output bucket."""
        params: dict[str, Any] = {
            "TranscriptionJobName": name,
            "Media": {"MediaFileUri": f"s3://{self.media}/{sample}"},
            "LanguageCode": "en-US",
            "OutputBucketName": self.output,
        }
        params.update(extra)
        params = {k: v for k, v in params.items() if v is not None}
        return self.transcribe.start_transcription_job(**params)["TranscriptionJob"]

    def finish(self, name: str) -> tuple[dict[str, Any], list[str]]:
        """Poll until the job ends; the job and every status seen on the way."""
        seen: list[str] = []

        def done() -> dict[str, Any] | None:
            job = self.transcribe.get_transcription_job(TranscriptionJobName=name)
            status = job["TranscriptionJob"]["TranscriptionJobStatus"]
            if not seen or seen[-1] != status:
                seen.append(status)
            return job["TranscriptionJob"] if status in ("COMPLETED", "FAILED") else None

        return _wait_for(done, interval=0.05), seen

    def read(self, key: str, bucket: str | None = None) -> str:
        """The text of an object."""
        body = self.s3.get_object(Bucket=bucket or self.output, Key=key)["Body"].read()
        return str(body.decode("utf-8"))

    def events_matching(self, check: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Every event received so far (draining the queue) for which check() holds."""
        with self._receive_lock:
            while True:
                batch = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
                ).get("Messages", [])
                if not batch:
                    break
                for message in batch:
                    self._received.append(json.loads(message["Body"]))
                    self.sqs.delete_message(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
            return [e for e in self._received if check(e)]


def _job_events(cloud: Cloud, name: str) -> list[dict[str, Any]]:
    return cloud.events_matching(
        lambda e: e["source"] == "aws.transcribe" and e["detail"]["TranscriptionJobName"] == name
    )


def test_install_replaces_moto_transcribe_operations_and_shutdown_restores_them() -> None:
    # The extension point this module relies on: pin moto, fail loudly when it moves.
    assert moto.__version__ == "5.2.5"
    names = [
        "start_transcription_job",
        "get_transcription_job",
        "list_transcription_jobs",
        "delete_transcription_job",
    ]
    originals = [TranscribeResponse.__dict__[n] for n in names]

    added = ["create_vocabulary_filter", "get_vocabulary_filter", "describe_language_model"]
    assert not any(n in TranscribeResponse.__dict__ for n in added)  # moto lacks them

    local_transcribe.install(TranscribeOptions(concurrency=1))
    patched = [TranscribeResponse.__dict__[n] for n in names]
    served = [n in TranscribeResponse.__dict__ for n in added]
    local_transcribe.shutdown()

    assert all(p is not o for p, o in zip(patched, originals, strict=True))
    assert served == [True, True, True]
    assert [TranscribeResponse.__dict__[n] for n in names] == originals
    assert not any(n in TranscribeResponse.__dict__ for n in added)
    assert local_transcribe.service() is None


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    port = free_port()
    endpoint = f"http://localhost:{port}"
    service = local_transcribe.install(TranscribeOptions(concurrency=2), endpoint_url=endpoint)
    server = ThreadedMotoServer(ip_address="localhost", port=port, verbose=False)
    server.start()
    try:
        env = Cloud(endpoint, service)
        env.setup()
        yield env
    finally:
        server.stop()
        local_transcribe.shutdown()


@pytest.fixture(scope="module")
def hello_job(cloud: Cloud) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """The demo clip transcribed once with both subtitle formats, numbered from 1."""
    started = cloud.start(
        "hello-pipeline-job",
        "hello-pipeline.mp3",
        Subtitles={"Formats": ["srt", "vtt"], "OutputStartIndex": 1},
    )
    job, seen = cloud.finish("hello-pipeline-job")
    return job, seen, started


def test_completed_job_writes_result_json_in_the_transcribe_schema(
    cloud: Cloud, hello_job: tuple[dict[str, Any], list[str], dict[str, Any]]
) -> None:
    job, _, _ = hello_job

    result = json.loads(cloud.read("hello-pipeline-job.json"))

    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert job["Transcript"]["TranscriptFileUri"] == (
        f"https://s3.us-east-1.amazonaws.com/{cloud.output}/hello-pipeline-job.json"
    )
    assert result["jobName"] == "hello-pipeline-job"
    assert result["accountId"] == ACCOUNT
    assert result["status"] == "COMPLETED"
    transcript = result["results"]["transcripts"][0]["transcript"]
    assert wer(TEXTS["hello-pipeline"], transcript) <= 0.15
    assert transcript.startswith("Hello") and transcript.endswith(".")
    items = result["results"]["items"]
    words = [i for i in items if i["type"] == "pronunciation"]
    assert {"start_time", "end_time", "alternatives", "type", "id"} <= set(words[0])
    assert all(isinstance(i["start_time"], str) for i in words)
    assert all(0.0 <= float(i["alternatives"][0]["confidence"]) <= 1.0 for i in words)
    stops = [i for i in items if i["type"] == "punctuation"]
    assert stops and all("start_time" not in i for i in stops)


def test_job_moves_from_queued_through_in_progress_to_completed_with_its_times(
    hello_job: tuple[dict[str, Any], list[str], dict[str, Any]],
) -> None:
    job, seen, started = hello_job

    assert started["TranscriptionJobStatus"] == "QUEUED"
    assert seen[-2:] == ["IN_PROGRESS", "COMPLETED"]
    assert job["CreationTime"] <= job["StartTime"] <= job["CompletionTime"]
    assert job["MediaFormat"] == "mp3"
    assert job["MediaSampleRateHertz"] == 16_000
    assert job["LanguageCode"] == "en-US"
    assert job["Media"] == {"MediaFileUri": started["Media"]["MediaFileUri"]}
    assert job["Settings"] == {"ChannelIdentification": False, "ShowAlternatives": False}


def test_requested_subtitles_are_written_beside_the_json_numbered_from_the_start_index(
    cloud: Cloud, hello_job: tuple[dict[str, Any], list[str], dict[str, Any]]
) -> None:
    job, _, _ = hello_job

    srt = cloud.read("hello-pipeline-job.srt")
    vtt = cloud.read("hello-pipeline-job.vtt")

    assert job["Subtitles"]["SubtitleFileUris"] == [
        f"https://s3.us-east-1.amazonaws.com/{cloud.output}/hello-pipeline-job.srt",
        f"https://s3.us-east-1.amazonaws.com/{cloud.output}/hello-pipeline-job.vtt",
    ]
    assert job["Subtitles"]["OutputStartIndex"] == 1
    assert srt.startswith("1\n00:00:00,")
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.")
    assert " --> " in srt


def test_completion_emits_a_transcribe_job_state_change_event(
    cloud: Cloud, hello_job: tuple[dict[str, Any], list[str], dict[str, Any]]
) -> None:
    events = _wait_for(lambda: _job_events(cloud, "hello-pipeline-job"), timeout=10)

    assert len(events) == 1
    event = events[0]
    assert event["source"] == "aws.transcribe"
    assert event["detail-type"] == "Transcribe Job State Change"
    assert event["detail"] == {
        "TranscriptionJobName": "hello-pipeline-job",
        "TranscriptionJobStatus": "COMPLETED",
    }
    assert event["region"] == REGION
    assert event["resources"] == []
    assert event["time"]


def test_state_change_events_carry_the_full_eventbridge_envelope(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto's SQS target drops "account" from what it delivers, so look at the event as
    # the bus hands it to its rules.
    seen: list[dict[str, Any]] = []
    original = Rule.send_to_targets

    def spy(self: Rule, event: Any, transform_input: bool = True) -> None:
        if event.get("source") == "aws.transcribe":
            seen.append(copy.deepcopy(event))
        original(self, event, transform_input)

    monkeypatch.setattr(Rule, "send_to_targets", spy)
    cloud.start("enveloped", "too-short.wav")
    cloud.finish("enveloped")

    event = _wait_for(
        lambda: [e for e in seen if e["detail"]["TranscriptionJobName"] == "enveloped"]
    )[0]

    assert event["version"] == "0"
    assert event["id"]
    assert event["account"] == ACCOUNT
    assert event["region"] == REGION
    assert event["resources"] == []
    assert event["time"]
    assert event["detail-type"] == "Transcribe Job State Change"


def test_result_files_are_written_through_s3_so_bucket_notifications_fire(
    cloud: Cloud, hello_job: tuple[dict[str, Any], list[str], dict[str, Any]]
) -> None:
    def created_once_the_json_is() -> set[str] | None:
        found = cloud.events_matching(lambda e: e["source"] == "aws.s3")
        keys = {e["detail"]["object"]["key"] for e in found}
        mine = {k for k in keys if k.startswith("hello-pipeline-job.")}
        # The JSON is written last: once its event is in, the subtitles' are too.
        return mine if "hello-pipeline-job.json" in mine else None

    keys = _wait_for(created_once_the_json_is)

    assert keys == {"hello-pipeline-job.json", "hello-pipeline-job.srt", "hello-pipeline-job.vtt"}


def test_output_key_ending_in_json_names_the_file_and_any_other_key_is_a_folder(
    cloud: Cloud,
) -> None:
    cloud.start(
        "named-output",
        "meeting.ogg",
        OutputKey="results/custom.json",
        Subtitles={"Formats": ["vtt"]},
        OutputEncryptionKMSKeyId=KMS_KEY,
    )
    cloud.start("folder-output", "meeting.ogg", OutputKey="by-job")
    named, _ = cloud.finish("named-output")
    folder, _ = cloud.finish("folder-output")

    assert named["Transcript"]["TranscriptFileUri"].endswith(f"/{cloud.output}/results/custom.json")
    assert named["Subtitles"]["SubtitleFileUris"][0].endswith("/results/custom.vtt")
    assert cloud.read("results/custom.vtt").startswith("WEBVTT\n\n0\n")  # default index 0
    assert json.loads(cloud.read("results/custom.json"))["jobName"] == "named-output"
    head = cloud.s3.head_object(Bucket=cloud.output, Key="results/custom.json")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", KMS_KEY)
    assert head["ContentType"] == "application/json"
    assert folder["Transcript"]["TranscriptFileUri"].endswith("/by-job/folder-output.json")
    assert json.loads(cloud.read("by-job/folder-output.json"))["status"] == "COMPLETED"


def test_job_without_output_bucket_keeps_results_in_a_service_location_served_locally(
    cloud: Cloud,
) -> None:
    cloud.start("service-managed", "garden.webm", OutputBucketName=None)
    job, _ = cloud.finish("service-managed")

    uri = job["Transcript"]["TranscriptFileUri"]
    with urllib.request.urlopen(uri, timeout=10) as response:  # a presigned URL, as AWS's
        result = json.loads(response.read())
    summaries = cloud.transcribe.list_transcription_jobs(JobNameContains="service-managed")

    assert uri.startswith(cloud.endpoint)
    assert re.fullmatch(
        rf"/aws-transcribe-us-east-1-prod/{ACCOUNT}/service-managed/[0-9a-f-]{{36}}/asrOutput.json",
        urlsplit(uri).path,
    )
    assert "X-Amz-Signature=" in uri
    assert wer(TEXTS["garden"], result["results"]["transcripts"][0]["transcript"]) <= 0.15
    assert summaries["TranscriptionJobSummaries"][0]["OutputLocationType"] == "SERVICE_BUCKET"


def test_silent_media_completes_with_an_empty_transcript_and_no_subtitle_files(
    cloud: Cloud,
) -> None:
    cloud.start("silence", "silence.wav", Subtitles={"Formats": ["srt"]})
    job, _ = cloud.finish("silence")

    result = json.loads(cloud.read("silence.json"))

    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert result["results"]["transcripts"] == [{"transcript": ""}]
    assert result["results"]["items"] == []
    # As AWS documents: no subtitle file for media without speech.
    assert job["Subtitles"]["SubtitleFileUris"] == []
    with pytest.raises(ClientError):
        cloud.s3.head_object(Bucket=cloud.output, Key="silence.srt")


def test_identify_language_picks_spanish_among_the_options_and_reports_its_scores(
    cloud: Cloud,
) -> None:
    cloud.start(
        "identified",
        f"{SPANISH['name']}.mp3",
        LanguageCode=None,
        IdentifyLanguage=True,
        LanguageOptions=["en-US", "es-US"],
    )
    job, _ = cloud.finish("identified")
    result = json.loads(cloud.read("identified.json"))["results"]

    assert job["TranscriptionJobStatus"] == "COMPLETED"
    assert job["LanguageCode"] == "es-US"
    assert job["IdentifyLanguage"] is True
    assert job["LanguageOptions"] == ["en-US", "es-US"]
    assert 0.5 < job["IdentifiedLanguageScore"] <= 1.0
    assert result["language_code"] == "es-US"
    assert [s["code"] for s in result["language_identification"]] == ["es-US", "en-US"]
    assert float(result["language_identification"][0]["score"]) == pytest.approx(
        job["IdentifiedLanguageScore"], abs=1e-4
    )
    assert wer(SPANISH["text"], result["transcripts"][0]["transcript"]) <= 0.3


def test_identify_multiple_languages_segments_the_transcript_where_the_language_switches(
    cloud: Cloud,
) -> None:
    spanish, _ = decode_to_pcm16k(SAMPLES / f"{SPANISH['name']}.mp3")
    english, _ = decode_to_pcm16k(SAMPLES / "weather.flac")
    both = io.BytesIO()
    with wave.open(both, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(spanish + b"\x00\x00" * 16_000 + english)
    cloud.s3.put_object(Bucket=cloud.media, Key="bilingual.wav", Body=both.getvalue())

    cloud.start(
        "bilingual",
        "bilingual.wav",
        LanguageCode=None,
        IdentifyMultipleLanguages=True,
        LanguageOptions=["en-US", "es-US"],
    )
    job, _ = cloud.finish("bilingual")
    result = json.loads(cloud.read("bilingual.json"))["results"]

    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert {c["LanguageCode"] for c in job["LanguageCodes"]} == {"en-US", "es-US"}
    assert all(c["DurationInSeconds"] > 4 for c in job["LanguageCodes"])
    words = [i for i in result["items"] if i["type"] == "pronunciation"]
    switch = [i["language_code"] for i in words]
    assert switch == sorted(switch, reverse=True)  # all es-US, then all en-US
    spoken = [i["alternatives"][0]["content"] for i in words]
    assert wer(SPANISH["text"], " ".join(spoken[: switch.count("es-US")])) <= 0.3
    assert wer(TEXTS["weather"], " ".join(spoken[switch.count("es-US") :])) <= 0.15


@pytest.mark.parametrize(
    ("sample", "extra", "reason"),
    [
        ("not-media.mp3", {}, "could not be decoded"),
        ("too-short.wav", {}, "the minimum is 500 ms"),
        ("hello-pipeline.wav", {"LanguageCode": "zu-ZA"}, "Unsupported language"),
        (
            "hello-pipeline.wav",
            {"LanguageCode": None, "IdentifyLanguage": True, "LanguageOptions": ["fr-FR", "zu-ZA"]},
            "engine: zu-ZA (Zulu)",
        ),
        ("hello-pipeline.mp3", {"MediaFormat": "wav"}, "doesn't match the detected media format"),
        ("garden.webm", {"OutputBucketName": "no-such-output-bucket"}, "output bucket"),
    ],
    ids=[
        "undecodable",
        "too-short",
        "unsupported-language",
        "identify-with-an-unsupported-option",
        "wrong-media-format",
        "missing-output-bucket",
    ],
)
def test_job_fails_with_a_clear_reason_and_a_failed_event(
    cloud: Cloud, sample: str, extra: dict[str, Any], reason: str
) -> None:
    name = f"fails-{uuid.uuid4().hex[:8]}"

    cloud.start(name, sample, **extra)
    job, _ = cloud.finish(name)
    events = _wait_for(lambda: _job_events(cloud, name), timeout=10)

    assert job["TranscriptionJobStatus"] == "FAILED"
    assert reason in job["FailureReason"]
    assert "Transcript" not in job
    assert events[0]["detail"] == {
        "TranscriptionJobName": name,
        "TranscriptionJobStatus": "FAILED",
        "FailureReason": job["FailureReason"],
    }


def test_duplicate_job_name_raises_conflict_exception(cloud: Cloud) -> None:
    cloud.start("twice", "too-short.wav")

    with pytest.raises(ClientError) as caught:
        cloud.start("twice", "too-short.wav")

    error = caught.value.response["Error"]
    assert error["Code"] == "ConflictException"
    assert error["Message"] == "The requested job name already exists. Use a different job name."
    cloud.finish("twice")


VALID_NAME = "valid-name"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"TranscriptionJobName": "has space"},
            "Value 'has space' at 'transcriptionJobName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^[0-9a-zA-Z._-]+",
        ),
        ({"TranscriptionJobName": "talks/a"}, "at 'transcriptionJobName'"),
        ({"TranscriptionJobName": "a" * 201}, "Member must have length less than or equal to 200"),
        ({"TranscriptionJobName": ".."}, "'.' or '..'"),
        ({"OutputKey": "my key.json"}, "at 'outputKey' failed to satisfy constraint"),
        ({"OutputKey": "k" * 1025}, "Member must have length less than or equal to 1024"),
        ({"OutputBucketName": "Bad_Bucket"}, "at 'outputBucketName'"),
        ({"Media": {"MediaFileUri": "s3://b/" + "k" * 2000}}, "at 'media.mediaFileUri'"),
        ({"Media": {"MediaFileUri": "ftp://host/file.mp3"}}, "regular expression pattern"),
        ({"MediaFormat": "mp5"}, "Member must satisfy enum value set: [mp3, mp4, wav"),
        ({"MediaSampleRateHertz": 48001}, "less than or equal to 48000"),
        ({"LanguageCode": "xx-XX"}, "at 'languageCode'"),
        ({"Subtitles": {"Formats": ["txt"]}}, "at 'subtitles.formats'"),
        ({"Subtitles": {"Formats": ["srt"], "OutputStartIndex": 2}}, "less than or equal to 1"),
        ({"LanguageCode": None}, "one of LanguageCode, IdentifyLanguage"),
        ({"IdentifyLanguage": True}, "only one of LanguageCode, IdentifyLanguage"),
        ({"LanguageOptions": ["en-US", "fr-FR"]}, "LanguageOptions can be used only"),
        (
            {"LanguageCode": None, "IdentifyLanguage": True, "LanguageOptions": ["en-US"]},
            "at least two different language codes",
        ),
        ({"Settings": {"ShowSpeakerLabels": True}}, "you must also set MaxSpeakerLabels"),
        (
            {"Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 31}},
            "at 'settings.maxSpeakerLabels' failed to satisfy constraint: "
            "Member must have value less than or equal to 30",
        ),
        ({"Settings": {"MaxSpeakerLabels": 2}}, "only when ShowSpeakerLabels is true"),
        (
            {"JobExecutionSettings": {"AllowDeferredExecution": True}},
            "you must also specify DataAccessRoleArn",
        ),
        (
            {
                "JobExecutionSettings": {
                    "AllowDeferredExecution": True,
                    "DataAccessRoleArn": "arn:aws:iam::123456789012:user/someone",
                }
            },
            "at 'jobExecutionSettings.dataAccessRoleArn'",
        ),
        ({"Settings": {"VocabularyName": "no-such-vocabulary"}}, "vocabulary couldn't be found"),
        ({"Settings": {"VocabularyFilterMethod": "mask"}}, "requires VocabularyFilterName"),
        (
            {
                "ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted"},
                "LanguageCode": "de-DE",
            },
            "isn't supported for the language code de-DE",
        ),
        (
            {
                "ToxicityDetection": [{"ToxicityCategories": ["ALL"]}],
                "LanguageCode": None,
                "IdentifyLanguage": True,
            },
            "without language identification",
        ),
        (
            {"Settings": {"VocabularyFilterName": "nope", "VocabularyFilterMethod": "remove"}},
            "vocabulary filter couldn't be found",
        ),
        ({"Media": {"MediaFileUri": "s3://media-missing-bucket/a.mp3"}}, "can't be accessed"),
    ],
)
def test_invalid_start_requests_are_rejected_with_bad_request_exception(
    cloud: Cloud, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        cloud.start(VALID_NAME, "too-short.wav", **change)

    error = caught.value.response["Error"]
    assert error["Code"] == "BadRequestException"
    assert message in error["Message"]
    with pytest.raises(ClientError):
        cloud.transcribe.get_transcription_job(TranscriptionJobName=VALID_NAME)


def test_a_filter_method_with_filters_named_per_identified_language_is_accepted(
    cloud: Cloud,
) -> None:
    # A profile's per-language filters travel in LanguageIdSettings; the method has no
    # per-language member, so it stays in Settings (docs/transcribe-features.md).
    cloud.transcribe.create_vocabulary_filter(
        VocabularyFilterName="en-filter", LanguageCode="en-US", Words=["secret"]
    )
    job = cloud.start(
        "filter-per-language",
        "too-short.wav",
        LanguageCode=None,
        IdentifyLanguage=True,
        LanguageOptions=["en-US", "es-US"],
        LanguageIdSettings={"en-US": {"VocabularyFilterName": "en-filter"}},
        Settings={"VocabularyFilterMethod": "mask"},
    )

    assert job["TranscriptionJobName"] == "filter-per-language"


def _stereo(left: bytes, right: bytes) -> bytes:
    """A 16 kHz stereo WAV of two mono s16le signals, the shorter padded with silence."""
    import numpy as np

    frames = max(len(left), len(right)) // 2
    both = np.zeros((frames, 2), dtype=np.int16)
    for channel, pcm in enumerate((left, right)):
        samples = np.frombuffer(pcm, dtype=np.int16)
        both[: len(samples), channel] = samples
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes(both.tobytes())
    return out.getvalue()


def _spoken(items: list[dict[str, Any]]) -> str:
    return " ".join(i["alternatives"][0]["content"] for i in items if i["type"] == "pronunciation")


def test_channel_identification_recognizes_each_channel_and_labels_its_words(
    cloud: Cloud,
) -> None:
    agent, _ = decode_to_pcm16k(SAMPLES / "hello-pipeline.wav")
    caller, _ = decode_to_pcm16k(SAMPLES / "weather.flac")
    # The caller answers after the agent, on the other channel.
    pause = b"\x00\x00" * int(16_000 * 11.5)
    cloud.s3.put_object(Bucket=cloud.media, Key="call.wav", Body=_stereo(agent, pause + caller))

    cloud.start("two-channels", "call.wav", Settings={"ChannelIdentification": True})
    job, _ = cloud.finish("two-channels")
    results = json.loads(cloud.read("two-channels.json"))["results"]

    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    labels = results["channel_labels"]
    assert labels["number_of_channels"] == 2
    ch_0, ch_1 = labels["channels"]
    assert (ch_0["channel_label"], ch_1["channel_label"]) == ("ch_0", "ch_1")
    assert wer(TEXTS["hello-pipeline"], _spoken(ch_0["items"])) <= 0.15
    assert wer(TEXTS["weather"], _spoken(ch_1["items"])) <= 0.15
    words = [i for i in results["items"] if i["type"] == "pronunciation"]
    assert [float(i["start_time"]) for i in words] == sorted(float(i["start_time"]) for i in words)
    switch = [i["channel_label"] for i in words]
    assert switch == sorted(switch)  # all ch_0 (the agent first), then all ch_1


def test_a_mono_file_with_channel_identification_is_one_channel(cloud: Cloud) -> None:
    cloud.start("mono-channels", "meeting.ogg", Settings={"ChannelIdentification": True})
    job, _ = cloud.finish("mono-channels")
    results = json.loads(cloud.read("mono-channels.json"))["results"]

    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    assert results["channel_labels"]["number_of_channels"] == 1
    assert wer(TEXTS["meeting"], _spoken(results["channel_labels"]["channels"][0]["items"])) <= 0.15


def test_redaction_replaces_a_spoken_phone_number_and_keeps_the_unredacted_copy(
    cloud: Cloud,
) -> None:
    redaction = {"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted"}
    cloud.start("callback", "callback.mp3", ContentRedaction=redaction)
    job, _ = cloud.finish("callback")
    redacted = json.loads(cloud.read("redacted-callback.json"))
    unredacted = json.loads(cloud.read("callback.json"))

    assert job["Transcript"] == {
        "TranscriptFileUri": f"https://s3.us-east-1.amazonaws.com/{cloud.output}/callback.json",
        "RedactedTranscriptFileUri": (
            f"https://s3.us-east-1.amazonaws.com/{cloud.output}/redacted-callback.json"
        ),
    }
    text = redacted["results"]["transcripts"][0]["transcript"]
    assert "[PII]" in text and not re.search(r"\d{3}", text)
    assert redacted["isRedacted"] is True and unredacted["isRedacted"] is False
    types = [
        r["type"]
        for i in redacted["results"]["items"]
        for r in i["alternatives"][0].get("redactions", [])
    ]
    assert types == ["PHONE"]
    assert re.search(r"\d{3}", unredacted["results"]["transcripts"][0]["transcript"])


def test_a_vocabulary_filter_masks_recognized_words(cloud: Cloud) -> None:
    cloud.transcribe.create_vocabulary_filter(
        VocabularyFilterName="weather-words", LanguageCode="en-US", Words=["sunny", "warm"]
    )

    cloud.start(
        "masked",
        "weather.flac",
        Settings={"VocabularyFilterName": "weather-words", "VocabularyFilterMethod": "mask"},
    )
    job, _ = cloud.finish("masked")
    text = json.loads(cloud.read("masked.json"))["results"]["transcripts"][0]["transcript"]

    assert job["Settings"]["VocabularyFilterMethod"] == "mask"
    assert "sunny and warm" not in text and "*** and ***" in text


def test_toxicity_detection_writes_zero_scores_per_segment(cloud: Cloud) -> None:
    cloud.start("scored", "library.amr", ToxicityDetection=[{"ToxicityCategories": ["ALL"]}])
    job, _ = cloud.finish("scored")
    results = json.loads(cloud.read("scored.json"))["results"]

    assert job["ToxicityDetection"] == [{"ToxicityCategories": ["ALL"]}]
    scores = results["toxicity_detection"]
    assert [s["text"] for s in scores] == [s["transcript"] for s in results["audio_segments"]]
    assert {s["toxicity"] for s in scores} == {0.0}


def test_vocabulary_filter_and_language_model_apis_answer_through_boto3(cloud: Cloud) -> None:
    transcribe = cloud.transcribe
    transcribe.create_vocabulary_filter(
        VocabularyFilterName="api-filter", LanguageCode="en-US", Words=["one"]
    )
    transcribe.create_language_model(
        LanguageCode="en-US",
        BaseModelName="WideBand",
        ModelName="api-model",
        InputDataConfig={
            "S3Uri": f"s3://{cloud.media}/training/",
            "DataAccessRoleArn": "arn:aws:iam::123456789012:role/clm",
        },
    )

    got = transcribe.get_vocabulary_filter(VocabularyFilterName="api-filter")
    with urllib.request.urlopen(got["DownloadUri"], timeout=10) as response:
        words = response.read().decode()
    described = transcribe.describe_language_model(ModelName="api-model")["LanguageModel"]
    filters = transcribe.list_vocabulary_filters(NameContains="api-")["VocabularyFilters"]
    models = transcribe.list_language_models(NameContains="api-")["Models"]
    transcribe.delete_vocabulary_filter(VocabularyFilterName="api-filter")
    with pytest.raises(ClientError) as missing:
        transcribe.get_vocabulary_filter(VocabularyFilterName="api-filter")

    assert words == "one"
    assert described["ModelStatus"] == "COMPLETED"
    assert [f["VocabularyFilterName"] for f in filters] == ["api-filter"]
    assert [m["ModelName"] for m in models] == ["api-model"]
    assert missing.value.response["Error"] == {
        "Code": "BadRequestException",
        "Message": (
            "The requested vocabulary filter couldn't be found. Check the vocabulary filter "
            "name and try your request again."
        ),
    }


def test_missing_media_object_is_rejected_at_start(cloud: Cloud) -> None:
    with pytest.raises(ClientError) as caught:
        cloud.start("missing-media", "no-such-file.mp3")

    assert caught.value.response["Error"]["Code"] == "BadRequestException"
    assert "can't be accessed" in caught.value.response["Error"]["Message"]


def test_validation_errors_are_counted_and_joined_as_aws_does(cloud: Cloud) -> None:
    with pytest.raises(ClientError) as caught:
        cloud.start("x y", "too-short.wav", MediaFormat="mp5")

    assert caught.value.response["Error"]["Message"].startswith("2 validation errors detected: ")


def test_get_and_delete_of_an_unknown_job_raise_not_found(cloud: Cloud) -> None:
    for call in (cloud.transcribe.get_transcription_job, cloud.transcribe.delete_transcription_job):
        with pytest.raises(ClientError) as caught:
            call(TranscriptionJobName="never-started")
        assert caught.value.response["Error"] == {
            "Code": "NotFoundException",
            "Message": (
                "The requested job couldn't be found. Check the job name and try your "
                "request again."
            ),
        }


def test_deleted_job_disappears_and_its_name_can_be_used_again(cloud: Cloud) -> None:
    cloud.start("short-lived", "too-short.wav")
    cloud.finish("short-lived")

    cloud.transcribe.delete_transcription_job(TranscriptionJobName="short-lived")

    with pytest.raises(ClientError):
        cloud.transcribe.get_transcription_job(TranscriptionJobName="short-lived")
    assert cloud.start("short-lived", "too-short.wav")["TranscriptionJobStatus"] == "QUEUED"
    cloud.finish("short-lived")


def test_list_filters_by_status_and_name_and_pages_newest_first(cloud: Cloud) -> None:
    prefix = f"listed-{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}-{n}" for n in range(3)]
    for name in names:
        cloud.start(name, "too-short.wav")  # fails fast
    for name in names:
        cloud.finish(name)
    listing = cloud.transcribe.list_transcription_jobs

    first = listing(JobNameContains=prefix.upper(), MaxResults=2)  # not case sensitive
    second = listing(JobNameContains=prefix, MaxResults=2, NextToken=first["NextToken"])
    failed = listing(Status="FAILED", JobNameContains=prefix)
    completed = listing(Status="COMPLETED", JobNameContains=prefix)

    page_names = [s["TranscriptionJobName"] for s in first["TranscriptionJobSummaries"]]
    assert (
        page_names + [s["TranscriptionJobName"] for s in second["TranscriptionJobSummaries"]]
        == (names[::-1])
    )
    assert "NextToken" not in second
    assert {s["TranscriptionJobName"] for s in failed["TranscriptionJobSummaries"]} == set(names)
    assert failed["Status"] == "FAILED"
    assert completed["TranscriptionJobSummaries"] == []
    summary = failed["TranscriptionJobSummaries"][0]
    assert summary["TranscriptionJobStatus"] == "FAILED"
    assert summary["OutputLocationType"] == "CUSTOMER_BUCKET"
    assert "the minimum is 500 ms" in summary["FailureReason"]


def test_list_rejects_bad_arguments_with_bad_request_exception(cloud: Cloud) -> None:
    for bad in ({"MaxResults": 101}, {"NextToken": "not-a-token"}, {"Status": "DONE"}):
        with pytest.raises(ClientError) as caught:
            cloud.transcribe.list_transcription_jobs(**bad)
        assert caught.value.response["Error"]["Code"] == "BadRequestException"


def test_at_most_concurrency_jobs_run_at_once(
    cloud: Cloud,
) -> None:
    names = [f"parallel-{n}" for n in range(4)]
    for name in names:
        cloud.start(name, "garden.webm")
    most_in_progress, waited_queued = 0, False

    def all_done() -> bool:
        nonlocal most_in_progress, waited_queued
        jobs = [j for j in cloud.service.jobs(ACCOUNT, REGION) if j.name in names]
        running = sum(j.status == "IN_PROGRESS" for j in jobs)
        most_in_progress = max(most_in_progress, running)
        waited_queued |= running == 2 and any(j.status == "QUEUED" for j in jobs)
        return all(j.status in ("COMPLETED", "FAILED") for j in jobs)

    _wait_for(all_done, interval=0.02)

    assert most_in_progress == 2
    assert waited_queued
    for name in names:
        assert (
            cloud.transcribe.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"][
                "TranscriptionJobStatus"
            ]
            == "COMPLETED"
        )


def test_plain_boto3_manual_workflow_runs_unchanged(cloud: Cloud) -> None:
    # What a user writes against real AWS, with only the endpoint changed.
    s3 = boto3.client("s3", **cloud.kwargs)
    transcribe = boto3.client("transcribe", **cloud.kwargs)
    bucket = f"manual-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(SAMPLES / "library.amr"), bucket, "recordings/library.amr")
    transcribe.start_transcription_job(
        TranscriptionJobName="manual-workflow",
        Media={"MediaFileUri": f"s3://{bucket}/recordings/library.amr"},
        MediaFormat="amr",
        LanguageCode="en-US",
        OutputBucketName=bucket,
        OutputKey="transcripts/",
    )
    transcribe.get_waiter("transcription_job_completed").wait(
        TranscriptionJobName="manual-workflow", WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    job = transcribe.get_transcription_job(TranscriptionJobName="manual-workflow")
    uri = job["TranscriptionJob"]["Transcript"]["TranscriptFileUri"]
    key = uri.split(f"/{bucket}/", 1)[1]
    document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    text = document["results"]["transcripts"][0]["transcript"]
    transcribe.delete_transcription_job(TranscriptionJobName="manual-workflow")

    assert key == "transcripts/manual-workflow.json"
    assert wer(TEXTS["library"], text) <= 0.15


def test_waiter_reports_a_failed_job_as_a_failure(cloud: Cloud) -> None:
    cloud.start("waited-failure", "not-media.mp3")

    with pytest.raises(WaiterError, match="FAILED"):
        cloud.transcribe.get_waiter("transcription_job_completed").wait(
            TranscriptionJobName="waited-failure", WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )


def _params(cloud: Cloud, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "TranscriptionJobName": name,
        "Media": {"MediaFileUri": f"s3://{cloud.media}/too-short.wav"},
        "LanguageCode": "en-US",
        **extra,
    }


# Services created by these tests keep their jobs in another region, away from the jobs
# of the installed service.
PAUSED_REGION = "eu-west-1"


@pytest.fixture
def paused_region() -> Iterator[str]:
    """A region with no jobs (moto's reset of its Transcribe backend clears the table)."""
    transcribe_backends[ACCOUNT][PAUSED_REGION].reset()
    yield PAUSED_REGION
    transcribe_backends[ACCOUNT][PAUSED_REGION].reset()


DEFERRED = {
    "JobExecutionSettings": {
        "AllowDeferredExecution": True,
        "DataAccessRoleArn": "arn:aws:iam::123456789012:role/transcribe-access",
    }
}


def test_more_queued_jobs_than_the_limit_raise_limit_exceeded(
    cloud: Cloud, paused_region: str
) -> None:
    # A service whose workers are not started: its jobs stay QUEUED.
    paused = TranscribeService(TranscribeOptions(max_queued_jobs=2))
    for n in range(2):
        paused.start_job(ACCOUNT, PAUSED_REGION, _params(cloud, f"queued-{n}", **DEFERRED))

    with pytest.raises(LimitExceededError, match="limit of 2 queued"):
        paused.start_job(ACCOUNT, PAUSED_REGION, _params(cloud, "queued-2", **DEFERRED))


def test_without_deferred_execution_the_concurrent_job_quota_applies(
    cloud: Cloud, paused_region: str
) -> None:
    paused = TranscribeService(TranscribeOptions(max_concurrent_jobs=1))
    paused.start_job(ACCOUNT, PAUSED_REGION, _params(cloud, "concurrent-0"))

    with pytest.raises(LimitExceededError, match="limit of 1 concurrent"):
        paused.start_job(ACCOUNT, PAUSED_REGION, _params(cloud, "concurrent-1"))
    deferred = paused.start_job(ACCOUNT, PAUSED_REGION, _params(cloud, "concurrent-2", **DEFERRED))

    assert deferred["TranscriptionJob"]["TranscriptionJobStatus"] == "QUEUED"
    assert deferred["TranscriptionJob"]["JobExecutionSettings"] == DEFERRED["JobExecutionSettings"]


def test_starts_beyond_the_rate_quota_raise_limit_exceeded_with_the_generic_text(
    cloud: Cloud, paused_region: str
) -> None:
    # A quota of 2 per second: a burst of 2, then one more token every 0.5 s.
    paused = TranscribeService(TranscribeOptions(start_calls_per_second=2))
    for n in range(2):
        paused.start_job(ACCOUNT, PAUSED_REGION, _params(cloud, f"rate-{n}", **DEFERRED))

    with pytest.raises(LimitExceededError) as refused:
        paused.start_job(ACCOUNT, PAUSED_REGION, _params(cloud, "rate-2", **DEFERRED))
    # The pipeline tells this throttling apart from "file too long" by the text.
    assert "too many requests" in refused.value.message
    answer = {"Error": {"Code": refused.value.error_type, "Message": refused.value.message}}
    assert not is_media_too_long(ClientError(answer, "StartTranscriptionJob"))

    time.sleep(0.6)
    started = paused.start_job(ACCOUNT, PAUSED_REGION, _params(cloud, "rate-2", **DEFERRED))
    assert started["TranscriptionJob"]["TranscriptionJobStatus"] == "QUEUED"


def test_media_deleted_before_processing_fails_the_job(cloud: Cloud, paused_region: str) -> None:
    cloud.s3.copy_object(
        Bucket=cloud.media, Key="soon-gone.wav", CopySource=f"{cloud.media}/weather.flac"
    )
    paused = TranscribeService(TranscribeOptions(concurrency=1, isolation="thread"))
    paused.start_job(
        ACCOUNT,
        PAUSED_REGION,
        {
            "TranscriptionJobName": "media-vanished",
            "Media": {"MediaFileUri": f"s3://{cloud.media}/soon-gone.wav"},
            "LanguageCode": "en-US",
        },
    )
    cloud.s3.delete_object(Bucket=cloud.media, Key="soon-gone.wav")

    paused.start()
    try:
        job = _wait_for(
            lambda: (
                (j := paused.get_job(ACCOUNT, PAUSED_REGION, "media-vanished")["TranscriptionJob"])[
                    "TranscriptionJobStatus"
                ]
                == "FAILED"
                and j
            )
        )
    finally:
        paused.shutdown()

    assert "can't be accessed" in job["FailureReason"]


def test_list_returns_five_jobs_per_page_by_default(cloud: Cloud, paused_region: str) -> None:
    # Six jobs of its own, in a region no other test uses: the page size does not depend on
    # how many jobs the tests that ran before this one left behind.
    paused = TranscribeService()
    for n in range(6):
        paused.start_job(ACCOUNT, PAUSED_REGION, _params(cloud, f"paged-{n}"))

    first = paused.list_jobs(ACCOUNT, PAUSED_REGION)
    rest = paused.list_jobs(ACCOUNT, PAUSED_REGION, next_token=first["NextToken"])

    assert [s["TranscriptionJobName"] for s in first["TranscriptionJobSummaries"]] == [
        f"paged-{n}" for n in range(5, 0, -1)
    ]
    assert [s["TranscriptionJobName"] for s in rest["TranscriptionJobSummaries"]] == ["paged-0"]
    assert "NextToken" not in rest


def test_moto_reset_forgets_the_jobs(cloud: Cloud, paused_region: str) -> None:
    paused = TranscribeService()
    paused.start_job(ACCOUNT, PAUSED_REGION, _params(cloud, "before-reset"))

    transcribe_backends[ACCOUNT][PAUSED_REGION].reset()

    with pytest.raises(NotFoundError):
        paused.get_job(ACCOUNT, PAUSED_REGION, "before-reset")


def test_by_default_each_worker_recognizes_in_a_child_process() -> None:
    """Recognition holds a core for seconds: in the server's process it would stall the API."""
    recognizer = open_recognizer(TranscribeOptions())
    try:
        assert isinstance(recognizer, RecognizerProcess)
    finally:
        recognizer.close()
