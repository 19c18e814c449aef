"""Amazon Transcribe batch language codes and the Whisper languages the local engine uses.

Every value of StartTranscriptionJob's LanguageCode enum (botocore's Transcribe model) is
either mapped to the Whisper language that transcribes it or listed in `UNSUPPORTED` with
the reason; `tests/localcloud/test_languages.py` keeps the two in step with botocore. A job
asking for an unsupported language fails with a FailureReason naming it: a limit of the local
engine, not of AWS (docs/transcribe-languages.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

# Transcribe code -> Whisper language. For a Whisper language spoken under several codes the
# first one listed is the code reported when identification runs without LanguageOptions
# (en -> en-US, es -> es-US, ...): Whisper tells languages apart, not accents or regions.
WHISPER_LANGUAGE: Mapping[str, str] = {
    "af-ZA": "af",
    "am-ET": "am",
    "ar-SA": "ar",
    "ar-AE": "ar",
    "az-AZ": "az",
    "ba-RU": "ba",
    "be-BY": "be",
    "bg-BG": "bg",
    "bn-IN": "bn",
    "bs-BA": "bs",
    "ca-ES": "ca",
    "cs-CZ": "cs",
    "cy-GB": "cy",
    "cy-WL": "cy",
    "da-DK": "da",
    "de-DE": "de",
    "de-CH": "de",
    "el-GR": "el",
    "en-US": "en",
    "en-GB": "en",
    "en-AU": "en",
    "en-AB": "en",
    "en-IE": "en",
    "en-IN": "en",
    "en-NZ": "en",
    "en-WL": "en",
    "en-ZA": "en",
    "es-US": "es",
    "es-ES": "es",
    "es-MX": "es",
    "et-EE": "et",
    "et-ET": "et",
    "eu-ES": "eu",
    "fa-IR": "fa",
    "fa-AF": "fa",
    "fi-FI": "fi",
    "fr-FR": "fr",
    "fr-CA": "fr",
    "gl-ES": "gl",
    "gu-IN": "gu",
    "ha-NG": "ha",
    "he-IL": "he",
    "hi-IN": "hi",
    "hr-HR": "hr",
    "ht-HT": "ht",
    "hu-HU": "hu",
    "hy-AM": "hy",
    "id-ID": "id",
    "is-IS": "is",
    "it-IT": "it",
    "ja-JP": "ja",
    "jv-ID": "jw",
    "ka-GE": "ka",
    "kk-KZ": "kk",
    "km-KH": "km",
    "kn-IN": "kn",
    "ko-KR": "ko",
    "lt-LT": "lt",
    "lv-LV": "lv",
    "mi-NZ": "mi",
    "mk-MK": "mk",
    "ml-IN": "ml",
    "mn-MN": "mn",
    "mr-IN": "mr",
    "ms-MY": "ms",
    "mt-MT": "mt",
    "my-MM": "my",
    "ne-NP": "ne",
    "nl-NL": "nl",
    "no-NO": "no",
    "pa-IN": "pa",
    "pl-PL": "pl",
    "ps-AF": "ps",
    "pt-BR": "pt",
    "pt-PT": "pt",
    "ro-RO": "ro",
    "ru-RU": "ru",
    "si-LK": "si",
    "sk-SK": "sk",
    "sl-SI": "sl",
    "so-SO": "so",
    "sq-AL": "sq",
    "sr-RS": "sr",
    "su-ID": "su",
    "sv-SE": "sv",
    "sw-KE": "sw",
    "sw-BI": "sw",
    "sw-RW": "sw",
    "sw-TZ": "sw",
    "sw-UG": "sw",
    "ta-IN": "ta",
    "te-IN": "te",
    "th-TH": "th",
    "tl-PH": "tl",
    "tr-TR": "tr",
    "tt-RU": "tt",
    "uk-UA": "uk",
    "uz-UZ": "uz",
    "vi-VN": "vi",
    "zh-CN": "zh",
    "zh-TW": "zh",
}

# Transcribe batch languages that the multilingual Whisper base model was not trained on.
UNSUPPORTED: Mapping[str, str] = {
    "ab-GE": "Abkhaz",
    "ast-ES": "Asturian",
    "ckb-IQ": "Central Kurdish",
    "ckb-IR": "Central Kurdish",
    "ga-IE": "Irish",
    "gd-GB": "Scottish Gaelic",
    "kab-DZ": "Kabyle",
    "ky-KG": "Kyrgyz",
    "lg-IN": "Luganda",
    "mhr-RU": "Eastern Mari",
    "or-IN": "Odia",
    "rw-RW": "Kinyarwanda",
    "ug-CN": "Uyghur",
    "wo-SN": "Wolof",
    "zh-HK": "Cantonese (Whisper base knows Mandarin only)",
    "zu-ZA": "Zulu",
}

# Whisper writes these languages without spaces between words (faster-whisper's tokenizer
# splits them into words by Unicode code point); their transcripts are joined without spaces.
UNSPACED = frozenset({"ja", "zh", "th", "lo", "my", "yue"})


def _primary_codes() -> dict[str, str]:
    primary: dict[str, str] = {}
    for code, language in WHISPER_LANGUAGE.items():
        primary.setdefault(language, code)
    return primary


# Whisper language -> the Transcribe code reported for it when no LanguageOptions narrow it.
PRIMARY_CODE: Mapping[str, str] = _primary_codes()


class UnsupportedLanguageError(ValueError):
    """The job asks for a language the local engine cannot transcribe."""

    def __init__(self, codes: Sequence[str]) -> None:
        named = ", ".join(
            f"{code} ({UNSUPPORTED[code]})" if code in UNSUPPORTED else code for code in codes
        )
        self.reason = (
            f"Unsupported language for the local Transcribe engine: {named}. The local cloud "
            "transcribes with Whisper base, which does not cover it; see the README's "
            "language table for the codes it supports."
        )
        super().__init__(self.reason)


@dataclass(frozen=True)
class LanguageRequest:
    """Which language(s) to transcribe in: a fixed code, or identification among options."""

    mode: Literal["fixed", "identify", "identify-multiple"]
    language_code: str | None = None  # mode "fixed" only
    options: tuple[str, ...] = ()  # identification candidates; empty: every supported code

    def candidates(self) -> tuple[str, ...]:
        """The Transcribe codes identification may choose from."""
        return self.options or tuple(PRIMARY_CODE.values())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (the recognizer child process receives it)."""
        return {"mode": self.mode, "language_code": self.language_code, "options": self.options}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LanguageRequest:
        """The inverse of `to_json`."""
        return cls(
            mode=data["mode"],
            language_code=data.get("language_code"),
            options=tuple(data.get("options") or ()),
        )


def whisper_language(code: str) -> str:
    """The Whisper language of a supported Transcribe code; UnsupportedLanguageError else."""
    try:
        return WHISPER_LANGUAGE[code]
    except KeyError:
        raise UnsupportedLanguageError([code]) from None


def language_request(params: Mapping[str, Any]) -> LanguageRequest:
    """The LanguageRequest of a (validated) StartTranscriptionJob request.

    Raises UnsupportedLanguageError naming every requested code the engine lacks.
    """
    if params.get("LanguageCode"):
        code = params["LanguageCode"]
        whisper_language(code)
        return LanguageRequest(mode="fixed", language_code=code)
    options = tuple(params.get("LanguageOptions") or ())
    missing = [code for code in options if code not in WHISPER_LANGUAGE]
    if missing:
        raise UnsupportedLanguageError(missing)
    mode: Literal["identify", "identify-multiple"] = (
        "identify-multiple" if params.get("IdentifyMultipleLanguages") else "identify"
    )
    return LanguageRequest(mode=mode, options=options)


def restrict_scores(
    probabilities: Iterable[tuple[str, float]], candidates: Sequence[str]
) -> list[tuple[str, float]]:
    """Whisper's language probabilities as Transcribe scores over `candidates`, best first.

    Each candidate gets its Whisper language's probability, shared equally between the
    candidates of the same language (Whisper cannot tell en-US from en-GB), and the scores
    are renormalized to sum to 1 over the candidates. Ties keep the candidates' order, so
    between two codes of one language the first listed wins.
    """
    by_language = dict(probabilities)
    sharing: dict[str, int] = {}
    for code in candidates:
        sharing[WHISPER_LANGUAGE[code]] = sharing.get(WHISPER_LANGUAGE[code], 0) + 1
    raw = [
        (code, by_language.get(WHISPER_LANGUAGE[code], 0.0) / sharing[WHISPER_LANGUAGE[code]])
        for code in candidates
    ]
    total = sum(score for _, score in raw)
    if total <= 0:
        # No probability mass on any candidate: the first candidate, as AWS's choice is
        # then arbitrary too, with equal scores that say so.
        return [(code, 1.0 / len(raw)) for code, _ in raw]
    ranked = sorted(enumerate(raw), key=lambda pair: (-pair[1][1], pair[0]))
    return [(code, score / total) for _, (code, score) in ranked]
