"""Redaction, vocabulary filters, toxicity and channels in the local Transcribe service.

The service runs in-process with a recognizer that returns fixed items (the recognizer seam,
`localcloud.transcribe.recognizer`): these tests are about what the service does with
recognized words, not about recognition. The end-to-end runs with Whisper are in
test_transcribe_service.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.transcribe.models import transcribe_backends

from localcloud.transcribe import TranscribeOptions, TranscribeService, engine, s3
from localcloud.transcribe.errors import BadRequestError, ConflictError
from localcloud.transcribe.recognizer import Transcription
from localcloud.transcribe_items import Item, merge_channels
from tests.localcloud.support import wait_for

ACCOUNT = "123456789012"
REGION = "ap-southeast-2"  # no other test module uses it
BUCKET = "features-media"
OUTPUT = "features-output"


def _words(text: str, channel: str | None = None, start: float = 0.0) -> list[Item]:
    items: list[Item] = []
    for n, token in enumerate(text.split()):
        word = token.rstrip(".")
        items.append(
            Item.pronunciation(word, start + n, start + n + 0.5, 0.95, channel_label=channel)
        )
        if token.endswith("."):
            items.append(Item("punctuation", ".", space_before=False, channel_label=channel))
    return items


class FakeRecognizer:
    """Answers every job with the items it was given, recording what it was asked."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.channels: int | None = None
        self.split_requests: list[bool] = []

    def transcribe(
        self, media: bytes, request: Any, timeout: float, *, split_channels: bool = False
    ) -> Transcription:
        self.split_requests.append(split_channels)
        return Transcription(
            items=list(self.items),
            duration_seconds=10.0,
            container="wav",
            source_sample_rate=16_000,
            language_code="en-US",
            number_of_channels=self.channels,
        )

    def warm(self) -> None:
        """Nothing to start."""

    def close(self) -> None:
        """Nothing to release."""


@pytest.fixture
def recognizer(monkeypatch: pytest.MonkeyPatch) -> FakeRecognizer:
    fake = FakeRecognizer()
    monkeypatch.setattr(engine, "open_recognizer", lambda _: fake)
    return fake


@pytest.fixture
def service(recognizer: FakeRecognizer) -> Iterator[TranscribeService]:
    transcribe_backends[ACCOUNT][REGION].reset()
    backend = s3.backend(ACCOUNT, REGION)
    for bucket in (BUCKET, OUTPUT):
        if not s3.bucket_exists(ACCOUNT, REGION, bucket):
            backend.create_bucket(bucket, REGION)
    s3.put_object(ACCOUNT, REGION, BUCKET, "call.wav", body=b"RIFF", content_type="audio/wav")
    running = TranscribeService(TranscribeOptions(concurrency=1, isolation="thread"))
    running.start()
    yield running
    running.shutdown()
    transcribe_backends[ACCOUNT][REGION].reset()


def _run(service: TranscribeService, name: str, **extra: Any) -> dict[str, Any]:
    """Start a job on call.wav and wait for its end; the job."""
    params: dict[str, Any] = {
        "TranscriptionJobName": name,
        "Media": {"MediaFileUri": f"s3://{BUCKET}/call.wav"},
        "LanguageCode": "en-US",
        "OutputBucketName": OUTPUT,
        **extra,
    }
    service.start_job(ACCOUNT, REGION, params)

    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = service.get_job(ACCOUNT, REGION, name)["TranscriptionJob"]
        return job if job["TranscriptionJobStatus"] in ("COMPLETED", "FAILED") else None

    job: dict[str, Any] = wait_for(ended)
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    return job


def _read(key: str) -> str | None:
    body = s3.read_media(ACCOUNT, REGION, OUTPUT, key)
    return None if body is None else body.decode()


PHONE_CALL = "Please call me back at 5552124367. Thanks."
REDACTED = {"RedactionType": "PII", "RedactionOutput": "redacted"}
BOTH = {"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted"}
URL = f"https://s3.{REGION}.amazonaws.com/{OUTPUT}"


def test_redaction_writes_only_the_redacted_result_under_transcribes_name(
    service: TranscribeService, recognizer: FakeRecognizer
) -> None:
    recognizer.items = _words(PHONE_CALL)

    job = _run(service, "redacted-only", ContentRedaction=REDACTED)
    document = json.loads(_read("redacted-redacted-only.json") or "null")

    assert job["Transcript"] == {"RedactedTranscriptFileUri": f"{URL}/redacted-redacted-only.json"}
    assert job["ContentRedaction"] == REDACTED
    assert _read("redacted-only.json") is None
    assert document["isRedacted"] is True
    assert document["results"]["transcripts"][0]["transcript"] == (
        "Please call me back at [PII]. Thanks."
    )
    redactions = [
        r for i in document["results"]["items"] for r in i["alternatives"][0].get("redactions", [])
    ]
    assert [(r["type"], r["category"]) for r in redactions] == [("PHONE", "PII")]


def test_redacted_and_unredacted_writes_both_results(
    service: TranscribeService, recognizer: FakeRecognizer
) -> None:
    recognizer.items = _words(PHONE_CALL)

    job = _run(service, "both", ContentRedaction=BOTH, OutputKey="calls/")
    unredacted = json.loads(_read("calls/both.json") or "null")
    redacted = json.loads(_read("calls/redacted-both.json") or "null")

    assert job["Transcript"] == {
        "TranscriptFileUri": f"{URL}/calls/both.json",
        "RedactedTranscriptFileUri": f"{URL}/calls/redacted-both.json",
    }
    assert unredacted["isRedacted"] is False
    assert "5552124367" in unredacted["results"]["transcripts"][0]["transcript"]
    assert "[PII]" in redacted["results"]["transcripts"][0]["transcript"]


def test_subtitles_of_a_redacted_job_show_pii_and_keep_their_names(
    service: TranscribeService, recognizer: FakeRecognizer
) -> None:
    recognizer.items = _words(PHONE_CALL)

    job = _run(service, "subtitled", ContentRedaction=BOTH, Subtitles={"Formats": ["srt"]})

    srt = _read("subtitled.srt") or ""
    assert job["Subtitles"]["SubtitleFileUris"] == [f"{URL}/subtitled.srt"]
    assert "[PII]" in srt and "5552124367" not in srt


def test_entity_types_not_requested_are_left_in_the_transcript(
    service: TranscribeService, recognizer: FakeRecognizer
) -> None:
    recognizer.items = _words(PHONE_CALL)

    _run(service, "names-only", ContentRedaction={**REDACTED, "PiiEntityTypes": ["NAME"]})
    document = json.loads(_read("redacted-names-only.json") or "null")

    assert "5552124367" in document["results"]["transcripts"][0]["transcript"]


def test_a_vocabulary_filter_masks_its_words_in_the_result(
    service: TranscribeService, recognizer: FakeRecognizer
) -> None:
    recognizer.items = _words("The weather is sunny and warm.")
    service.create_vocabulary_filter(
        ACCOUNT,
        REGION,
        {"VocabularyFilterName": "weather", "LanguageCode": "en-US", "Words": ["sunny", "warm"]},
    )

    _run(
        service,
        "filtered",
        Settings={"VocabularyFilterName": "weather", "VocabularyFilterMethod": "mask"},
    )
    document = json.loads(_read("filtered.json") or "null")

    assert document["results"]["transcripts"][0]["transcript"] == "The weather is *** and ***."


def test_a_filter_read_from_its_s3_file_tags_its_words(
    service: TranscribeService, recognizer: FakeRecognizer
) -> None:
    recognizer.items = _words("The weather is sunny.")
    s3.put_object(
        ACCOUNT, REGION, BUCKET, "filters/weather.txt", body=b"sunny\n", content_type="text/plain"
    )
    service.create_vocabulary_filter(
        ACCOUNT,
        REGION,
        {
            "VocabularyFilterName": "from-file",
            "LanguageCode": "en-US",
            "VocabularyFilterFileUri": f"s3://{BUCKET}/filters/weather.txt",
        },
    )

    _run(
        service,
        "tagged",
        Settings={"VocabularyFilterName": "from-file", "VocabularyFilterMethod": "tag"},
    )
    items = json.loads(_read("tagged.json") or "null")["results"]["items"]

    assert [i["alternatives"][0]["content"] for i in items if i.get("vocabularyFilterMatch")] == [
        "sunny"
    ]


def test_toxicity_detection_is_echoed_and_scored_zero_in_the_result(
    service: TranscribeService, recognizer: FakeRecognizer
) -> None:
    recognizer.items = _words("Hello there. Goodbye now.")
    toxicity = [{"ToxicityCategories": ["ALL"]}]

    job = _run(service, "toxic", ToxicityDetection=toxicity)
    scores = json.loads(_read("toxic.json") or "null")["results"]["toxicity_detection"]

    assert job["ToxicityDetection"] == toxicity
    assert [s["text"] for s in scores] == ["Hello there.", "Goodbye now."]
    assert {s["toxicity"] for s in scores} == {0.0}


def test_channel_identification_asks_for_split_channels_and_writes_channel_labels(
    service: TranscribeService, recognizer: FakeRecognizer
) -> None:
    recognizer.items = merge_channels(
        [_words("Thanks for calling.", "ch_0"), _words("Hi I need help.", "ch_1", start=4.0)]
    )
    recognizer.channels = 2

    job = _run(service, "stereo", Settings={"ChannelIdentification": True})
    results = json.loads(_read("stereo.json") or "null")["results"]

    assert recognizer.split_requests == [True]
    assert job["Settings"]["ChannelIdentification"] is True
    assert results["channel_labels"]["number_of_channels"] == 2
    assert results["transcripts"][0]["transcript"] == "Thanks for calling. Hi I need help."
    assert {i["channel_label"] for i in results["items"]} == {"ch_0", "ch_1"}


def test_vocabulary_filters_are_created_read_listed_and_deleted(service: TranscribeService) -> None:
    created = service.create_vocabulary_filter(
        ACCOUNT, REGION, {"VocabularyFilterName": "f1", "LanguageCode": "en-US", "Words": ["a"]}
    )
    for name in ("f2", "other"):
        service.create_vocabulary_filter(
            ACCOUNT, REGION, {"VocabularyFilterName": name, "LanguageCode": "en-US", "Words": ["b"]}
        )

    got = service.get_vocabulary_filter(ACCOUNT, REGION, "f1")
    listed = service.list_vocabulary_filters(
        ACCOUNT, REGION, {"NameContains": "F", "MaxResults": 1}
    )
    rest = service.list_vocabulary_filters(
        ACCOUNT, REGION, {"NameContains": "F", "NextToken": listed["NextToken"]}
    )
    service.delete_vocabulary_filter(ACCOUNT, REGION, "f1")

    assert created["VocabularyFilterName"] == "f1" and created["LanguageCode"] == "en-US"
    assert got["DownloadUri"].startswith("http://localhost:4566/aws-transcribe-dictionary-model-")
    assert [f["VocabularyFilterName"] for f in listed["VocabularyFilters"]] == ["f1"]
    assert [f["VocabularyFilterName"] for f in rest["VocabularyFilters"]] == ["f2"]
    with pytest.raises(BadRequestError, match="vocabulary filter couldn't be found"):
        service.get_vocabulary_filter(ACCOUNT, REGION, "f1")
    with pytest.raises(ConflictError, match="already exists"):
        service.create_vocabulary_filter(
            ACCOUNT, REGION, {"VocabularyFilterName": "f2", "LanguageCode": "en-US", "Words": ["c"]}
        )


def test_language_models_are_created_described_and_listed(service: TranscribeService) -> None:
    created = service.create_language_model(
        ACCOUNT,
        REGION,
        {
            "ModelName": "calls-clm",
            "LanguageCode": "en-US",
            "BaseModelName": "NarrowBand",
            "InputDataConfig": {
                "S3Uri": f"s3://{BUCKET}/training/",
                "DataAccessRoleArn": "arn:aws:iam::123456789012:role/clm",
            },
        },
    )

    described = service.describe_language_model(ACCOUNT, REGION, "calls-clm")["LanguageModel"]
    listed = service.list_language_models(ACCOUNT, REGION, {"StatusEquals": "COMPLETED"})

    assert created["ModelStatus"] == "IN_PROGRESS"
    assert (described["ModelStatus"], described["BaseModelName"]) == ("COMPLETED", "NarrowBand")
    assert [m["ModelName"] for m in listed["Models"]] == ["calls-clm"]
    with pytest.raises(BadRequestError, match="language model couldn't be found"):
        service.describe_language_model(ACCOUNT, REGION, "no-such-model")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"Settings": {"VocabularyFilterName": "missing", "VocabularyFilterMethod": "mask"}},
            "vocabulary filter couldn't be found",
        ),
        ({"ModelSettings": {"LanguageModelName": "missing"}}, "language model couldn't be found"),
        (
            {
                "LanguageCode": None,
                "IdentifyLanguage": True,
                "LanguageOptions": ["en-US", "es-US"],
                "LanguageIdSettings": {"es-US": {"VocabularyName": "missing"}},
            },
            "vocabulary couldn't be found",
        ),
    ],
    ids=["filter", "language-model", "per-language-vocabulary"],
)
def test_a_job_naming_a_missing_resource_is_refused_at_start(
    service: TranscribeService, extra: dict[str, Any], message: str
) -> None:
    params = {
        "TranscriptionJobName": "refused",
        "Media": {"MediaFileUri": f"s3://{BUCKET}/call.wav"},
        "LanguageCode": "en-US",
        **extra,
    }

    with pytest.raises(BadRequestError, match=message):
        service.start_job(ACCOUNT, REGION, {k: v for k, v in params.items() if v is not None})
