"""Which Transcribe batch features a job's languages support: checked at synth for every profile.

The facts and their sources are in docs/transcribe-features.md. The rules that hold whatever
the language (speaker labels exclude channel identification, a vocabulary filter needs its
method...) are checked by transcribe_pipeline.profiles, at synth and at cold start alike.
"""

from __future__ import annotations

from collections.abc import Iterator

from transcribe_pipeline.profiles import JobSettings

# Amazon Transcribe batch languages (docs "Supported languages", checked 2026-11).
TRANSCRIBE_LANGUAGES = frozenset(
    {
        "af-ZA", "ar-AE", "ar-SA", "da-DK", "de-CH", "de-DE", "en-AB", "en-AU", "en-GB",
        "en-IE", "en-IN", "en-NZ", "en-US", "en-WL", "en-ZA", "es-ES", "es-US", "fa-IR",
        "fr-CA", "fr-FR", "he-IL", "hi-IN", "id-ID", "it-IT", "ja-JP", "ko-KR", "ms-MY",
        "nl-NL", "pt-BR", "pt-PT", "ru-RU", "ta-IN", "te-IN", "th-TH", "tr-TR", "vi-VN",
        "zh-CN", "zh-TW", "sv-SE", "pl-PL", "ro-RO", "uk-UA", "cs-CZ", "fi-FI", "no-NO",
        "el-GR", "hu-HU", "bg-BG", "hr-HR", "sk-SK", "sl-SI", "sr-RS", "lt-LT", "lv-LV",
        "et-ET", "is-IS", "ca-ES", "eu-ES", "gl-ES", "zh-HK", "tl-PH", "sw-KE", "ab-GE",
    }
)  # fmt: skip
# The languages a custom language model can be built in and used with (CreateLanguageModel's
# LanguageCode, the "Custom language models" column for batch).
CUSTOM_LANGUAGE_MODEL_LANGUAGES = frozenset(
    {"de-DE", "en-AU", "en-GB", "en-US", "es-US", "hi-IN", "ja-JP"}
)
# Languages batch language identification cannot identify.
NOT_IDENTIFIABLE_LANGUAGES = frozenset({"sv-SE", "vi-VN"})
# The languages multi-language identification (IdentifyMultipleLanguages) identifies.
MULTI_LANGUAGE_ID_LANGUAGES = frozenset(
    {
        "en-AB", "en-AU", "en-GB", "en-IE", "en-IN", "en-NZ", "en-US", "en-WL", "en-ZA",
        "es-ES", "es-US", "fr-CA", "fr-FR", "zh-CN", "zh-TW", "pt-BR", "pt-PT", "de-CH",
        "de-DE", "af-ZA", "ar-AE", "da-DK", "he-IL", "hi-IN", "id-ID", "fa-IR", "it-IT",
        "ja-JP", "ko-KR", "ms-MY", "nl-NL", "ru-RU", "ta-IN", "te-IN", "th-TH", "tr-TR",
    }
)  # fmt: skip
# The languages batch PII redaction works in.
REDACTION_LANGUAGES = frozenset({"en-US", "es-US"})
# The languages batch toxicity detection works in.
TOXICITY_LANGUAGES = frozenset({"en-US"})


def feature_problems(job: JobSettings) -> Iterator[tuple[tuple[str, ...], str]]:
    """Each feature the job asks for that its language(s) lack: (the keys, why)."""
    if job.language is not None and job.language not in TRANSCRIBE_LANGUAGES:
        yield ("language",), "one of " + ", ".join(sorted(TRANSCRIBE_LANGUAGES))
    identification = (
        "identify_multiple_languages" if job.identify_multiple_languages else "identify_language"
    )
    for option in job.language_options:
        if option not in TRANSCRIBE_LANGUAGES:
            yield ("language_options",), f"{option!r} is not a Transcribe batch language"
        elif option in NOT_IDENTIFIABLE_LANGUAGES:
            yield (
                ("language_options", identification),
                f"{option} cannot be identified by Transcribe's language identification",
            )
        elif job.identify_multiple_languages and option not in MULTI_LANGUAGE_ID_LANGUAGES:
            yield (
                ("language_options", "identify_multiple_languages"),
                f"{option} cannot be identified by multi-language identification, which "
                f"knows {_listed(MULTI_LANGUAGE_ID_LANGUAGES)}",
            )
    if job.content_redaction and job.language and job.language not in REDACTION_LANGUAGES:
        yield (
            ("content_redaction", "language"),
            f"batch PII redaction exists only for {_listed(REDACTION_LANGUAGES)}, "
            f"not {job.language}",
        )
    if job.toxicity_detection and job.language and job.language not in TOXICITY_LANGUAGES:
        yield (
            ("toxicity_detection", "language"),
            f"toxicity detection exists only for {_listed(TOXICITY_LANGUAGES)}, not {job.language}",
        )
    if job.language_model_name and job.language not in CUSTOM_LANGUAGE_MODEL_LANGUAGES:
        yield (
            ("language_model_name", "language"),
            f"custom language models exist only for {_listed(CUSTOM_LANGUAGE_MODEL_LANGUAGES)}, "
            f"not {job.language}",
        )
    for language, setting in job.language_id_settings:
        if setting.language_model_name and language not in CUSTOM_LANGUAGE_MODEL_LANGUAGES:
            yield (
                (f"language_id_settings.{language}.language_model_name",),
                f"custom language models exist only for "
                f"{_listed(CUSTOM_LANGUAGE_MODEL_LANGUAGES)}, not {language}",
            )


def _listed(languages: frozenset[str]) -> str:
    return ", ".join(sorted(languages))
