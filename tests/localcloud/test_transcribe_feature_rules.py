"""The feature combinations StartTranscriptionJob refuses (docs/transcribe-features.md)."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.transcribe.errors import BadRequestError
from localcloud.transcribe.validation import check_feature_rules, check_start_rules

REDACTION = {"ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted"}}
TOXICITY = {"ToxicityDetection": [{"ToxicityCategories": ["ALL"]}]}
IDENTIFY = {"LanguageCode": None, "IdentifyLanguage": True, "LanguageOptions": ["en-US", "es-US"]}
MULTIPLE = {
    "LanguageCode": None,
    "IdentifyMultipleLanguages": True,
    "LanguageOptions": ["en-US", "es-US"],
}


def _request(**extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TranscriptionJobName": "job",
        "Media": {"MediaFileUri": "s3://bucket/call.wav"},
        "LanguageCode": "en-US",
        **extra,
    }
    return {k: v for k, v in params.items() if v is not None}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {**REDACTION, **IDENTIFY},
            "ContentRedaction isn't supported with language identification",
        ),
        ({**REDACTION, **MULTIPLE}, "(IdentifyMultipleLanguages)"),
        ({**REDACTION, "LanguageCode": "fr-FR"}, "isn't supported for the language code fr-FR"),
        (
            {**MULTIPLE, "LanguageIdSettings": {"en-US": {"LanguageModelName": "clm"}}},
            "Custom language models aren't supported with IdentifyMultipleLanguages",
        ),
        ({**TOXICITY, "LanguageCode": "es-US"}, "ToxicityDetection is supported only with"),
        ({**TOXICITY, **IDENTIFY}, "without language identification"),
        (
            {**TOXICITY, "ModelSettings": {"LanguageModelName": "clm"}},
            "ToxicityDetection isn't supported with custom language models",
        ),
    ],
    ids=[
        "redaction-with-identification",
        "redaction-with-multiple-languages",
        "redaction-in-french",
        "language-model-with-multiple-languages",
        "toxicity-in-spanish",
        "toxicity-with-identification",
        "toxicity-with-language-model",
    ],
)
def test_refused_combinations_raise_bad_request_naming_the_features(
    extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadRequestError) as refused:
        check_feature_rules(_request(**extra))

    assert message in refused.value.message


@pytest.mark.parametrize(
    "extra",
    [
        REDACTION,
        {**REDACTION, "LanguageCode": "es-US"},
        {**REDACTION, **TOXICITY},
        {**TOXICITY, "Settings": {"ChannelIdentification": True}},
        {**REDACTION, "Settings": {"ChannelIdentification": True}},
        {**IDENTIFY, "LanguageIdSettings": {"en-US": {"LanguageModelName": "clm"}}},
    ],
    ids=[
        "redaction-in-english",
        "redaction-in-us-spanish",
        "redaction-with-toxicity",
        "toxicity-with-channels",
        "redaction-with-channels",
        "language-model-with-identification",
    ],
)
def test_accepted_combinations_pass(extra: dict[str, Any]) -> None:
    check_feature_rules(_request(**extra))


def test_a_vocabulary_filter_without_a_method_is_refused() -> None:
    with pytest.raises(BadRequestError, match="you must also include VocabularyFilterMethod"):
        check_start_rules(_request(Settings={"VocabularyFilterName": "words"}))
