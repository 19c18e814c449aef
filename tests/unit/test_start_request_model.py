"""Every configuration the pipeline accepts makes a StartTranscriptionJob request AWS accepts.

Each accepted ``PipelineConfig`` goes the way it goes in AWS: into the function environment the
stack sets (``PipelineConfig.transcription_environment``), through ``Settings.from_env`` into
``start_request``; the request is then checked against botocore's service model for
``transcribe`` ``StartTranscriptionJob`` (its own ``ParamValidator``, which checks types,
required members and minimums, plus the model's maximums, patterns and enums, which botocore
leaves to the service) and against the rules the API reference states in prose
(docs/transcribe-api.md: https://docs.aws.amazon.com/transcribe/latest/APIReference/API_StartTranscriptionJob.html).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape
from botocore.validate import ParamValidator

from stacks.config import TRANSCRIBE_LANGUAGES, ConfigError, PipelineConfig
from stacks.transcribe_features import NOT_IDENTIFIABLE_LANGUAGES
from transcribe_pipeline.keys import S3Object, job_name_for, rejection_reason
from transcribe_pipeline.profiles import (
    PII_ENTITY_TYPES,
    REDACTION_OUTPUTS,
    profile_from_mapping,
)
from transcribe_pipeline.settings import Settings
from transcribe_pipeline.starter import start_request

SERVICE = botocore.session.get_session().get_service_model("transcribe")
OPERATION = SERVICE.operation_model("StartTranscriptionJob")
# The languages a custom language model can have (CreateLanguageModel's LanguageCode).
CLM_LANGUAGES = frozenset(
    SERVICE.operation_model("CreateLanguageModel").input_shape.members["LanguageCode"].enum
)
# Batch PII redaction and toxicity detection: their languages (docs/transcribe-features.md).
REDACTION_LANGUAGES = frozenset({"en-US", "es-US"})
# Names as CloudFormation generates them for the stack's buckets (the longest bucket names).
INPUT_BUCKET = "transcriptionpipeline-storageinputbucket0767fbbb-4zywx92co41w"
OUTPUT_BUCKET = "transcriptionpipeline-storageoutputbucketcd2eeb3a-n9tzvf0k5aqm"
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
OBJECTS = (
    S3Object(INPUT_BUCKET, "talks/my talk+1.mp3", size=1000, version_id="v1"),
    S3Object(INPUT_BUCKET, "réunions/été 2024 (final).M4A", size=1000, version_id="v2"),
    # The longest key S3 allows (1024 bytes): the longest MediaFileUri the pipeline sends.
    S3Object(INPUT_BUCKET, "deep/" * 203 + "x.wav", size=1000, version_id=None),
)
# Each setting's values at its edges; the matrix is every combination of them.
LANGUAGE_CHOICES = (
    {"identify_language": False, "language": "en-US"},
    {"identify_language": False, "language": "de-DE"},
    {"identify_language": True},
    {"identify_language": True, "language_options": ("en-US", "es-US")},
    {"identify_language": True, "language_options": ("en-GB", "fr-FR", "de-DE", "ja-JP")},
)
MATRIX: dict[str, tuple[Any, ...]] = {
    "show_speaker_labels": (False, True),
    "max_speaker_labels": (2, 30),
    "subtitle_formats": ((), ("srt",), ("vtt",), ("srt", "vtt")),
    "vocabulary_name": (None, "medical-terms", "v" * 200),
    "use_kms_key": (False, True),
    "job_name_prefix": ("tp-", "p" * 40),
}


def shape_violations(value: Any, shape: Shape, path: str) -> Iterator[str]:
    """The model constraints botocore's ParamValidator leaves to the service: max, pattern, enum.

    Patterns are applied to the whole value, the stricter reading: what passes here passes either.
    """
    metadata = shape.metadata
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if name in value:
                yield from shape_violations(value[name], member, f"{path}.{name}")
    elif shape.type_name == "list":
        if "max" in metadata and len(value) > metadata["max"]:
            yield f"{path}: {len(value)} items, at most {metadata['max']}"
        for index, item in enumerate(value):
            yield from shape_violations(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "map":
        if "max" in metadata and len(value) > metadata["max"]:
            yield f"{path}: {len(value)} entries, at most {metadata['max']}"
        for key, item in value.items():
            yield from shape_violations(key, shape.key, f"{path} key {key!r}")
            yield from shape_violations(item, shape.value, f"{path}[{key!r}]")
    elif shape.type_name == "string":
        if "max" in metadata and len(value) > metadata["max"]:
            yield f"{path}: {len(value)} characters, at most {metadata['max']}"
        if "pattern" in metadata and not re.fullmatch(metadata["pattern"], value):
            yield f"{path}: {value!r} does not match {metadata['pattern']}"
        if "enum" in metadata and value not in metadata["enum"]:
            yield f"{path}: {value!r} is not one of the model's values"
    elif shape.type_name in {"integer", "long"} and "max" in metadata and value > metadata["max"]:
        yield f"{path}: {value} is over {metadata['max']}"


def documented_rule_violations(request: dict[str, Any]) -> Iterator[str]:
    """Rules the StartTranscriptionJob reference states in prose (docs/transcribe-api.md)."""
    choices = ("LanguageCode", "IdentifyLanguage", "IdentifyMultipleLanguages")
    languages = [name for name in choices if name in request]
    if len(languages) != 1:
        yield f"exactly one of LanguageCode, IdentifyLanguage, ...: {languages}"
    settings = request.get("Settings", {})
    if request.get("IdentifyLanguage") or request.get("IdentifyMultipleLanguages"):
        for name in ("VocabularyName", "VocabularyFilterName"):
            if name in settings:
                yield f"Settings.{name} with language identification (LanguageIdSettings takes it)"
    identified = request.get("IdentifyLanguage") or request.get("IdentifyMultipleLanguages")
    if "LanguageOptions" in request and not identified:
        yield "LanguageOptions without IdentifyLanguage or IdentifyMultipleLanguages"
    if "LanguageIdSettings" in request:
        options = set(request.get("LanguageOptions", ()))
        if not options or not set(request["LanguageIdSettings"]) <= options:
            yield "LanguageIdSettings languages must be among the LanguageOptions"
    if bool(settings.get("ShowSpeakerLabels")) != ("MaxSpeakerLabels" in settings):
        yield "ShowSpeakerLabels and MaxSpeakerLabels go together"
    if settings.get("ShowSpeakerLabels") and settings.get("ChannelIdentification"):
        yield "ShowSpeakerLabels with ChannelIdentification"
    per_language = request.get("LanguageIdSettings", {}).values()
    filtered = "VocabularyFilterName" in settings or any(
        "VocabularyFilterName" in entry for entry in per_language
    )
    if filtered != ("VocabularyFilterMethod" in settings):
        yield "VocabularyFilterName without VocabularyFilterMethod (or the reverse)"
    if "ModelSettings" in request:
        if "LanguageCode" not in request:
            yield "ModelSettings with language identification (LanguageIdSettings takes it)"
        elif request["LanguageCode"] not in CLM_LANGUAGES:
            yield f"a custom language model for {request['LanguageCode']}"
    for language, entry in request.get("LanguageIdSettings", {}).items():
        if "LanguageModelName" in entry and language not in CLM_LANGUAGES:
            yield f"LanguageIdSettings: a custom language model for {language}"
        if "LanguageModelName" in entry and request.get("IdentifyMultipleLanguages"):
            yield "LanguageIdSettings: a custom language model with IdentifyMultipleLanguages"
    if "ContentRedaction" in request:
        if identified:
            yield "ContentRedaction with language identification"
        elif request["LanguageCode"] not in REDACTION_LANGUAGES:
            yield f"ContentRedaction for {request['LanguageCode']}"
        types = request["ContentRedaction"].get("PiiEntityTypes", [])
        if "ALL" in types and len(types) > 1:
            yield "PiiEntityTypes: ALL with other types"
    if "ToxicityDetection" in request:
        if request.get("LanguageCode") != "en-US":
            yield "ToxicityDetection without LanguageCode en-US"
        if "ModelSettings" in request:
            yield "ToxicityDetection with a custom language model"


def model_violations(request: dict[str, Any]) -> list[str]:
    """Everything wrong with a request for the model and the reference (empty: acceptable)."""
    report = ParamValidator().validate(request, OPERATION.input_shape)
    problems = [report.generate_report()] if report.has_errors() else []
    problems += shape_violations(request, OPERATION.input_shape, "request")
    problems += documented_rule_violations(request)
    return problems


def stack_environment(config: PipelineConfig, partition: str) -> dict[str, str]:
    """The start function's environment as the stack sets it, with deploy-time values filled in."""
    account = "123456789012"
    key = f"arn:{partition}:kms:us-east-1:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    return {
        **config.transcription_environment(),
        "INPUT_BUCKET": INPUT_BUCKET,
        "OUTPUT_BUCKET": OUTPUT_BUCKET,
        "TOPIC_ARN": "",
        "DATA_ACCESS_ROLE_ARN": (
            f"arn:{partition}:iam::{account}:role/"
            "TranscriptionPipeline-JobStarterTranscribeDataAcc-AbCdEfGh1234"
        ),
        "OUTPUT_ENCRYPTION_KMS_KEY_ID": key if config.use_kms_key else "",
        "START_RATE_PER_SECOND": "5",
        "START_QUEUE_URL": f"https://sqs.us-east-1.amazonaws.com/{account}/StartQueue",
    }


def requests_for(config: PipelineConfig) -> Iterator[tuple[str, dict[str, Any]]]:
    """The requests one configuration makes, in every partition, for every sample object."""
    for partition, obj in itertools.product(PARTITIONS, OBJECTS):
        assert rejection_reason(obj) is None, obj.key
        settings = Settings.from_env(stack_environment(config, partition))
        job_name = job_name_for(obj, prefix=settings.job_name_prefix)
        label = f"{describe(config)} in {partition} for {obj.key[:30]!r}"
        yield label, start_request(obj, job_name, settings)


def describe(config: PipelineConfig) -> str:
    """The settings that differ from the defaults, for failure messages."""
    defaults = PipelineConfig()
    changed = [f for f in fields(config) if getattr(config, f.name) != getattr(defaults, f.name)]
    return ", ".join(f"{f.name}={getattr(config, f.name)!r}" for f in changed) or "defaults"


def accepted_configurations(language_choice: dict[str, Any]) -> Iterator[PipelineConfig]:
    """Every combination of the matrix with one language choice that PipelineConfig accepts."""
    for values in itertools.product(*MATRIX.values()):
        try:
            yield PipelineConfig(**language_choice, **dict(zip(MATRIX, values, strict=True)))
        except ConfigError:
            # The only combination refused at synth: a vocabulary with language identification.
            assert language_choice["identify_language"]
            assert dict(zip(MATRIX, values, strict=True))["vocabulary_name"] is not None


def test_the_validator_catches_what_the_model_and_the_reference_forbid():
    bad = {
        "TranscriptionJobName": "job name with spaces",
        "Media": {"MediaFileUri": "s3://b/" + "k" * 2000},
        "LanguageCode": "xx-XX",
        "IdentifyLanguage": True,
        "Settings": {"VocabularyName": "terms", "MaxSpeakerLabels": 31},
        "Subtitles": {"Formats": ["srt"], "OutputStartIndex": 2},
    }

    problems = "\n".join(model_violations(bad))

    for expected in (
        "TranscriptionJobName",
        "MediaFileUri",
        "'xx-XX'",
        "exactly one of LanguageCode",
        "Settings.VocabularyName with language identification",
        "MaxSpeakerLabels: 31",
        "OutputStartIndex: 2",
        "ShowSpeakerLabels and MaxSpeakerLabels",
    ):
        assert expected in problems


@pytest.mark.parametrize(
    "language_choice", LANGUAGE_CHOICES, ids=lambda choice: "-".join(map(str, choice.values()))
)
def test_every_accepted_configuration_makes_a_request_the_model_accepts(language_choice):
    checked = 0
    problems = []
    for config in accepted_configurations(language_choice):
        for label, request in requests_for(config):
            checked += 1
            problems += [f"{label}: {problem}" for problem in model_violations(request)]

    assert checked >= 3 * 3 * 2 * 4  # the matrix is not empty
    assert problems == [], "\n".join(problems[:20])


@pytest.mark.parametrize("language", sorted(TRANSCRIBE_LANGUAGES))
def test_every_configurable_language_is_one_the_model_accepts(language):
    other = "de-DE" if language == "en-US" else "en-US"
    candidates = [PipelineConfig(language=language)]
    if language not in NOT_IDENTIFIABLE_LANGUAGES:
        candidates.append(
            PipelineConfig(identify_language=True, language_options=(language, other))
        )

    for candidate in candidates:
        for label, request in requests_for(candidate):
            assert model_violations(request) == [], label


# One profile per feature a profile can hold, with the request members it must produce.
PROFILE_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "channels": ({"channel_identification": True}, {"Settings": {"ChannelIdentification": True}}),
    "speakers": (
        {"show_speaker_labels": True, "max_speaker_labels": 30, "language": "de-DE"},
        {"LanguageCode": "de-DE", "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 30}},
    ),
    "filter": (
        {"vocabulary_filter_name": "f" * 200, "vocabulary_filter_method": "tag"},
        {"Settings": {"VocabularyFilterName": "f" * 200, "VocabularyFilterMethod": "tag"}},
    ),
    "model": (
        {"language": "ja-JP", "language_model_name": "m" * 200, "vocabulary_name": "terms"},
        {"ModelSettings": {"LanguageModelName": "m" * 200}, "LanguageCode": "ja-JP"},
    ),
    "per-language": (
        {
            "identify_language": True,
            "language_options": ["en-US", "es-US", "de-DE", "ja-JP", "hi-IN"],
            "language_id_settings": {
                "en-US": {"vocabulary_name": "en-terms", "language_model_name": "en-model"},
                "es-US": {"vocabulary_filter_name": "es-filter"},
                "hi-IN": {"language_model_name": "hi-model"},
            },
            "vocabulary_filter_method": "mask",
        },
        {
            "IdentifyLanguage": True,
            "LanguageIdSettings": {
                "en-US": {"VocabularyName": "en-terms", "LanguageModelName": "en-model"},
                "es-US": {"VocabularyFilterName": "es-filter"},
                "hi-IN": {"LanguageModelName": "hi-model"},
            },
            "Settings": {"VocabularyFilterMethod": "mask"},
        },
    ),
    "no subtitles": ({"subtitle_formats": []}, {}),
    "multiple languages": (
        {
            "identify_multiple_languages": True,
            "language_options": ["en-US", "es-US", "de-DE"],
            "language_id_settings": {
                "en-US": {"vocabulary_name": "en-terms", "vocabulary_filter_name": "en-filter"},
                "es-US": {"vocabulary_name": "es-terms"},
            },
            "vocabulary_filter_method": "remove",
        },
        {
            "IdentifyMultipleLanguages": True,
            "LanguageOptions": ["en-US", "es-US", "de-DE"],
            "LanguageIdSettings": {
                "en-US": {"VocabularyName": "en-terms", "VocabularyFilterName": "en-filter"},
                "es-US": {"VocabularyName": "es-terms"},
            },
            "Settings": {"VocabularyFilterMethod": "remove"},
        },
    ),
    "multiple languages, no options": (
        {"identify_multiple_languages": True},
        {"IdentifyMultipleLanguages": True},
    ),
    "channel roles": (
        {"channel_identification": True, "channel_roles": ["agent", "customer"]},
        {"Settings": {"ChannelIdentification": True}},
    ),
    "redaction": (
        {"content_redaction": {"pii_entity_types": "ALL", "output": "redacted"}},
        {
            "ContentRedaction": {
                "RedactionType": "PII",
                "RedactionOutput": "redacted",
                "PiiEntityTypes": ["ALL"],
            }
        },
    ),
    "redaction, both outputs, some types": (
        {
            "language": "es-US",
            "content_redaction": {
                "pii_entity_types": ["SSN", "PHONE", "CREDIT_DEBIT_NUMBER"],
                "output": "redacted_and_unredacted",
            },
        },
        {
            "LanguageCode": "es-US",
            "ContentRedaction": {
                "RedactionType": "PII",
                "RedactionOutput": "redacted_and_unredacted",
                "PiiEntityTypes": ["SSN", "PHONE", "CREDIT_DEBIT_NUMBER"],
            },
        },
    ),
    "toxicity": (
        {"toxicity_detection": True},
        {"LanguageCode": "en-US", "ToxicityDetection": [{"ToxicityCategories": ["ALL"]}]},
    ),
    "calls: two channels, roles, redaction, toxicity": (
        {
            "channel_identification": True,
            "channel_roles": ["agent", "customer"],
            "content_redaction": {"output": "redacted_and_unredacted"},
            "toxicity_detection": True,
        },
        {
            "Settings": {"ChannelIdentification": True},
            "ContentRedaction": {
                "RedactionType": "PII",
                "RedactionOutput": "redacted_and_unredacted",
                "PiiEntityTypes": ["ALL"],
            },
            "ToxicityDetection": [{"ToxicityCategories": ["ALL"]}],
        },
    ),
}


@pytest.mark.parametrize("case", PROFILE_CASES, ids=str)
def test_every_profile_feature_makes_a_request_the_model_accepts(case):
    settings, expected = PROFILE_CASES[case]
    # Every sample object lies under one of these prefixes, so every request is the profile's.
    config = PipelineConfig(
        profiles=tuple(
            profile_from_mapping({"prefix": prefix, **settings})
            for prefix in ("talks/", "réunions/", "deep/")
        ),
        use_kms_key=True,
    )
    checked = 0
    for label, request in requests_for(config):
        checked += 1
        assert model_violations(request) == [], label
        for member, value in expected.items():
            assert request[member] == value, label
        assert ("Subtitles" in request) == bool(settings.get("subtitle_formats", True)), label
    assert checked == len(PARTITIONS) * len(OBJECTS)


# Each new profile setting at its edges; every combination the pipeline accepts must make a
# request the model and the reference accept, and the combinations must not all be refused.
PROFILE_MATRIX: dict[str, tuple[dict[str, Any], ...]] = {
    "language": (
        {"language": "en-US"},
        {"language": "es-US"},
        {"language": "de-DE"},
        {"identify_language": True, "language_options": ["en-US", "es-US"]},
        {"identify_multiple_languages": True},
        {
            "identify_multiple_languages": True,
            "language_options": ["en-US", "es-US", "hi-IN"],
            "language_id_settings": {"hi-IN": {"vocabulary_name": "hi-terms"}},
        },
    ),
    "voices": (
        {},
        {"show_speaker_labels": True, "max_speaker_labels": 5},
        {"channel_identification": True},
        {"channel_identification": True, "channel_roles": ["agent", "customer"]},
        {"channel_identification": True, "channel_roles": ["c" * 40]},
    ),
    "redaction": (
        {},
        {"content_redaction": {"output": "redacted"}},
        {"content_redaction": {"pii_entity_types": ["SSN", "PIN"], "output": "redacted"}},
        {"content_redaction": {"output": "redacted_and_unredacted"}},
    ),
    "toxicity": ({}, {"toxicity_detection": True}),
    "model": ({}, {"language_model_name": "m" * 200}),
}


def profile_combinations() -> Iterator[dict[str, Any]]:
    """Every combination of the profile matrix, as a profile's settings."""
    for parts in itertools.product(*PROFILE_MATRIX.values()):
        settings: dict[str, Any] = {}
        for part in parts:
            settings.update(part)
        yield settings


def test_every_accepted_profile_combination_makes_a_request_the_model_accepts():
    accepted: list[dict[str, Any]] = []
    problems: list[str] = []
    for settings in profile_combinations():
        try:
            config = PipelineConfig(
                profiles=(profile_from_mapping({"prefix": "talks/", **settings}),)
            )
        except (ConfigError, ValueError):
            continue
        accepted.append(settings)
        for label, request in requests_for(config):
            if "talks/" in label:
                problems += [f"{settings}: {problem}" for problem in model_violations(request)]

    assert problems == [], "\n".join(problems[:20])
    # Each value of each setting is in at least one accepted combination.
    for name, values in PROFILE_MATRIX.items():
        for value in values:
            assert any(value.items() <= combo.items() for combo in accepted), (name, value)


def test_the_pii_entity_types_and_redaction_outputs_are_those_of_botocores_model():
    redaction = OPERATION.input_shape.members["ContentRedaction"]

    assert tuple(redaction.members["PiiEntityTypes"].member.enum) == PII_ENTITY_TYPES
    assert tuple(redaction.members["RedactionOutput"].enum) == REDACTION_OUTPUTS
