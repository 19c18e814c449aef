"""The table of Transcribe batch languages the local engine covers, and identification scores."""

from __future__ import annotations

import botocore.session
import pytest
from faster_whisper.tokenizer import _LANGUAGE_CODES

from localcloud.languages import (
    PRIMARY_CODE,
    UNSUPPORTED,
    WHISPER_LANGUAGE,
    LanguageRequest,
    UnsupportedLanguageError,
    language_request,
    restrict_scores,
)


def _batch_language_codes() -> set[str]:
    model = botocore.session.get_session().get_service_model("transcribe")
    shape = model.operation_model("StartTranscriptionJob").input_shape.members["LanguageCode"]
    return set(shape.metadata["enum"])


def test_every_transcribe_batch_language_is_either_mapped_or_listed_as_unsupported() -> None:
    assert set(WHISPER_LANGUAGE) | set(UNSUPPORTED) == _batch_language_codes()
    assert not set(WHISPER_LANGUAGE) & set(UNSUPPORTED)


def test_every_mapped_language_is_one_whisper_base_knows() -> None:
    # The base model has 99 language tokens: faster-whisper's list less Cantonese (large-v3).
    base_languages = set(_LANGUAGE_CODES) - {"yue"}

    assert set(WHISPER_LANGUAGE.values()) <= base_languages


def test_identification_without_options_reports_the_usual_code_of_a_language() -> None:
    assert (PRIMARY_CODE["en"], PRIMARY_CODE["es"], PRIMARY_CODE["pt"]) == (
        "en-US",
        "es-US",
        "pt-BR",
    )


def test_a_fixed_language_code_becomes_a_fixed_request() -> None:
    assert language_request({"LanguageCode": "de-DE"}) == LanguageRequest("fixed", "de-DE")


@pytest.mark.parametrize(
    "params",
    [
        {"LanguageCode": "zu-ZA"},
        {"IdentifyLanguage": True, "LanguageOptions": ["en-US", "zu-ZA"]},
        {"IdentifyMultipleLanguages": True, "LanguageOptions": ["zu-ZA", "es-US"]},
    ],
    ids=["fixed", "identify-option", "multiple-option"],
)
def test_an_unsupported_language_is_refused_with_a_reason_naming_it(params: dict) -> None:
    with pytest.raises(UnsupportedLanguageError) as refused:
        language_request(params)

    assert "zu-ZA (Zulu)" in refused.value.reason
    assert "Unsupported language" in refused.value.reason


def test_identification_requests_keep_their_options_in_order() -> None:
    request = language_request(
        {"IdentifyMultipleLanguages": True, "LanguageOptions": ["fr-FR", "en-GB"]}
    )

    assert request == LanguageRequest("identify-multiple", options=("fr-FR", "en-GB"))
    assert request.candidates() == ("fr-FR", "en-GB")
    assert LanguageRequest.from_json(request.to_json()) == request


def test_scores_are_whispers_probabilities_restricted_to_the_options_and_renormalized() -> None:
    scores = restrict_scores([("es", 0.6), ("ja", 0.3), ("en", 0.1)], ["en-US", "es-US"])

    assert [code for code, _ in scores] == ["es-US", "en-US"]
    assert [round(s, 3) for _, s in scores] == [0.857, 0.143]


def test_codes_of_one_language_share_its_probability_and_the_first_listed_wins() -> None:
    scores = restrict_scores([("en", 0.8), ("fr", 0.2)], ["en-GB", "fr-FR", "en-US"])

    assert scores == [("en-GB", 0.4), ("en-US", 0.4), ("fr-FR", 0.2)]


def test_no_probability_on_any_option_gives_equal_scores_in_option_order() -> None:
    assert restrict_scores([("ja", 1.0)], ["en-US", "es-US"]) == [("en-US", 0.5), ("es-US", 0.5)]
