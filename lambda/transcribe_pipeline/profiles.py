"""Processing profiles: per-prefix job settings, the same object at synth and at cold start.

The stack reads the ``profiles`` context value with :func:`profile_from_mapping`, checks each
against the feature matrix (stacks/config.py, docs/transcribe-features.md) and passes them to
the functions as JSON in one environment variable (its name is in
transcribe_pipeline.environment); the functions read it back with :func:`profiles_from_json`.
:func:`job_settings_for` is the one answer to "which settings does this key get", used by the
start function and the harvest alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from transcribe_pipeline.subtitle_style import StyleError, SubtitleStyle, style_from_mapping

SUBTITLE_FORMATS = ("srt", "vtt")
VOCABULARY_FILTER_METHODS = ("mask", "remove", "tag")
# VocabularyName, VocabularyFilterName and LanguageModelName in botocore's model.
RESOURCE_NAME_PATTERN = re.compile(r"[0-9a-zA-Z._-]{1,200}")
# LanguageIdSettings takes two to five languages (docs/transcribe-features.md).
MAX_LANGUAGE_ID_SETTINGS = 5
LANGUAGE_ID_FIELDS = ("vocabulary_name", "vocabulary_filter_name", "language_model_name")
# ContentRedaction's RedactionOutput and PiiEntityTypes in botocore's model
# (tests/unit/test_start_request_model.py compares them; docs/transcribe-features.md).
REDACTED_AND_UNREDACTED = "redacted_and_unredacted"
REDACTION_OUTPUTS = ("redacted", REDACTED_AND_UNREDACTED)
PII_ENTITY_TYPES = (
    "BANK_ACCOUNT_NUMBER", "BANK_ROUTING", "CREDIT_DEBIT_NUMBER", "CREDIT_DEBIT_CVV",
    "CREDIT_DEBIT_EXPIRY", "PIN", "EMAIL", "ADDRESS", "NAME", "PHONE", "SSN", "DATE_TIME",
    "PASSPORT_NUMBER", "DRIVER_ID", "URL", "AGE", "USERNAME", "PASSWORD", "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY", "IP_ADDRESS", "MAC_ADDRESS", "LICENSE_PLATE",
    "VEHICLE_IDENTIFICATION_NUMBER", "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "CA_HEALTH_NUMBER", "CA_SOCIAL_INSURANCE_NUMBER", "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "SWIFT_CODE", "ALL",
)  # fmt: skip
ALL_PII = "ALL"
# Transcribe labels at most two channels, ch_0 and ch_1 (docs/transcribe-features.md).
MAX_CHANNELS = 2
MAX_CHANNEL_ROLE_CHARS = 40


class ProfileError(ValueError):
    """A profile is malformed or inconsistent; the message names the keys and why."""


@dataclass(frozen=True, kw_only=True)
class LanguageIdSetting:
    """The vocabulary, vocabulary filter and language model for one identified language."""

    vocabulary_name: str | None = None
    vocabulary_filter_name: str | None = None
    language_model_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class ContentRedaction:
    """PII redaction: which entity types (or ALL) and whether an unredacted result is kept."""

    pii_entity_types: tuple[str, ...] = (ALL_PII,)
    output: str = "redacted"

    @property
    def keeps_unredacted(self) -> bool:
        """Whether Transcribe also writes the unredacted result (``redacted_and_unredacted``)."""
        return self.output == REDACTED_AND_UNREDACTED

    def to_mapping(self) -> dict[str, Any]:
        """The JSON object ``content_redaction`` reads back."""
        types: str | list[str] = (
            ALL_PII if self.pii_entity_types == (ALL_PII,) else list(self.pii_entity_types)
        )
        return {"pii_entity_types": types, "output": self.output}


@dataclass(frozen=True, kw_only=True)
class JobSettings:
    """Everything that shapes one job and its readable outputs (a profile, or the top level)."""

    language: str | None = "en-US"
    identify_language: bool = False
    identify_multiple_languages: bool = False
    language_options: tuple[str, ...] = ()
    show_speaker_labels: bool = False
    max_speaker_labels: int = 2
    channel_identification: bool = False
    # Names for ch_0, ch_1 in the readable outputs (e.g. agent, customer).
    channel_roles: tuple[str, ...] = ()
    vocabulary_name: str | None = None
    vocabulary_filter_name: str | None = None
    vocabulary_filter_method: str | None = None
    language_model_name: str | None = None
    language_id_settings: tuple[tuple[str, LanguageIdSetting], ...] = ()
    content_redaction: ContentRedaction | None = None
    toxicity_detection: bool = False
    subtitle_formats: tuple[str, ...] = SUBTITLE_FORMATS
    subtitle_style: SubtitleStyle = field(default_factory=SubtitleStyle)

    def __post_init__(self) -> None:
        _check_job(self)

    @property
    def identifies_language(self) -> bool:
        """Whether Transcribe identifies the language (one or several) instead of being told."""
        return self.identify_language or self.identify_multiple_languages

    def filter_names(self) -> list[str]:
        """Every vocabulary filter the job uses (in Settings or per language)."""
        names = [self.vocabulary_filter_name] if self.vocabulary_filter_name else []
        return names + [
            s.vocabulary_filter_name
            for _, s in self.language_id_settings
            if s.vocabulary_filter_name
        ]

    def to_mapping(self) -> dict[str, Any]:
        """The JSON object :func:`job_from_mapping` reads back (every field, explicit)."""
        return {
            "language": self.language,
            "identify_language": self.identify_language,
            "identify_multiple_languages": self.identify_multiple_languages,
            "language_options": list(self.language_options),
            "show_speaker_labels": self.show_speaker_labels,
            "max_speaker_labels": self.max_speaker_labels,
            "channel_identification": self.channel_identification,
            "channel_roles": list(self.channel_roles),
            "vocabulary_name": self.vocabulary_name,
            "vocabulary_filter_name": self.vocabulary_filter_name,
            "vocabulary_filter_method": self.vocabulary_filter_method,
            "language_model_name": self.language_model_name,
            "language_id_settings": {
                language: {
                    name: getattr(setting, name)
                    for name in LANGUAGE_ID_FIELDS
                    if getattr(setting, name)
                }
                for language, setting in self.language_id_settings
            },
            "content_redaction": (
                self.content_redaction.to_mapping() if self.content_redaction else None
            ),
            "toxicity_detection": self.toxicity_detection,
            "subtitle_formats": list(self.subtitle_formats),
            "subtitle_style": json.loads(self.subtitle_style.to_json()),
        }


@dataclass(frozen=True)
class Profile:
    """The job settings for every key under one prefix."""

    prefix: str
    job: JobSettings


JOB_FIELDS = tuple(f.name for f in fields(JobSettings))
PROFILE_FIELDS = ("prefix", *JOB_FIELDS)


def _fail(keys: Sequence[str], why: str) -> ProfileError:
    return ProfileError(f"{', '.join(repr(key) for key in keys)}: {why}")


def _check_job(job: JobSettings) -> None:
    """The request rules that hold whatever the language (docs/transcribe-features.md)."""
    if job.identify_language and job.identify_multiple_languages:
        raise _fail(
            ["identify_language", "identify_multiple_languages"],
            "Transcribe takes one of them: identify_language for media in one language, "
            "identify_multiple_languages for media that switches between languages",
        )
    identification = (
        "identify_multiple_languages" if job.identify_multiple_languages else "identify_language"
    )
    if job.identifies_language:
        if job.language is not None:
            raise _fail(
                ["language", identification],
                "a fixed language and language identification exclude each other; "
                "list the candidates in language_options",
            )
    elif job.language is None:
        raise _fail(
            ["language"],
            "a language code is needed unless identify_language or "
            "identify_multiple_languages is true",
        )
    if job.language_options and not job.identifies_language:
        raise _fail(
            ["language_options"], "only with identify_language or identify_multiple_languages true"
        )
    if len(job.language_options) == 1:
        raise _fail(
            ["language_options"],
            "an empty list or at least two languages (Transcribe needs two or more)",
        )
    if len(set(job.language_options)) != len(job.language_options):
        raise _fail(["language_options"], "each language at most once")
    if not 2 <= job.max_speaker_labels <= 30:
        raise _fail(["max_speaker_labels"], "an integer 2-30")
    if job.show_speaker_labels and job.channel_identification:
        raise _fail(
            ["show_speaker_labels", "channel_identification"],
            "Transcribe refuses both in one request: label speakers or channels, not both",
        )
    for name in ("vocabulary_name", "vocabulary_filter_name", "language_model_name"):
        value = getattr(job, name)
        if value is not None and not RESOURCE_NAME_PATTERN.fullmatch(value):
            raise _fail([name], "null or 1-200 characters of 0-9 a-z A-Z . _ -")
        if value is not None and job.identifies_language:
            raise _fail(
                [name, identification],
                "with language identification Transcribe takes it per language: "
                "put it in language_id_settings under its language",
            )
    if (
        job.vocabulary_filter_method is not None
        and job.vocabulary_filter_method not in VOCABULARY_FILTER_METHODS
    ):
        raise _fail(["vocabulary_filter_method"], "one of " + ", ".join(VOCABULARY_FILTER_METHODS))
    if job.filter_names() and job.vocabulary_filter_method is None:
        raise _fail(
            ["vocabulary_filter_method"],
            "mask, remove or tag: Transcribe needs the method whenever a vocabulary "
            "filter is named",
        )
    if not job.filter_names() and job.vocabulary_filter_method is not None:
        raise _fail(
            ["vocabulary_filter_method"],
            "null unless a vocabulary filter is named (vocabulary_filter_name, or one in "
            "language_id_settings)",
        )
    if job.language_id_settings:
        languages = [language for language, _ in job.language_id_settings]
        if not job.identifies_language:
            raise _fail(
                ["language_id_settings"],
                "only with identify_language or identify_multiple_languages true (with a "
                "fixed language use vocabulary_name, vocabulary_filter_name, "
                "language_model_name)",
            )
        if not set(languages) <= set(job.language_options):
            raise _fail(
                ["language_id_settings", "language_options"],
                "each language of language_id_settings must be among language_options, "
                "so that Transcribe identifies that very dialect",
            )
        if len(languages) > MAX_LANGUAGE_ID_SETTINGS:
            raise _fail(["language_id_settings"], f"at most {MAX_LANGUAGE_ID_SETTINGS} languages")
        for language, setting in job.language_id_settings:
            for name in LANGUAGE_ID_FIELDS:
                value = getattr(setting, name)
                if value is not None and not RESOURCE_NAME_PATTERN.fullmatch(value):
                    raise _fail(
                        [f"language_id_settings.{language}.{name}"],
                        "1-200 characters of 0-9 a-z A-Z . _ -",
                    )
            if not any(getattr(setting, name) for name in LANGUAGE_ID_FIELDS):
                raise _fail(
                    [f"language_id_settings.{language}"],
                    "at least one of " + ", ".join(LANGUAGE_ID_FIELDS),
                )
            if setting.language_model_name and job.identify_multiple_languages:
                raise _fail(
                    [
                        f"language_id_settings.{language}.language_model_name",
                        "identify_multiple_languages",
                    ],
                    "multi-language identification does not support custom language models",
                )
    _check_channels(job)
    _check_redaction(job, identification)
    _check_toxicity(job, identification)
    if set(job.subtitle_formats) - set(SUBTITLE_FORMATS) or len(set(job.subtitle_formats)) != len(
        job.subtitle_formats
    ):
        raise _fail(["subtitle_formats"], "a list of distinct values from srt, vtt (may be empty)")


def _check_channels(job: JobSettings) -> None:
    if not job.channel_roles:
        return
    if not job.channel_identification:
        raise _fail(
            ["channel_roles", "channel_identification"],
            "roles name the channels Transcribe labels ch_0 and ch_1: only with "
            "channel_identification true",
        )
    if len(job.channel_roles) > MAX_CHANNELS:
        raise _fail(
            ["channel_roles"],
            f"at most {MAX_CHANNELS} names (for ch_0 and ch_1): Transcribe transcribes at most "
            "two channels",
        )
    if len(set(job.channel_roles)) != len(job.channel_roles):
        raise _fail(["channel_roles"], "each name at most once")
    for role in job.channel_roles:
        if not is_channel_role(role):
            raise _fail(
                ["channel_roles"],
                f"{role!r} is not a name of 1-40 printable characters without ':' and "
                "without spaces at either end",
            )


def is_channel_role(role: str) -> bool:
    """Whether ``role`` can label a line (``agent: ...``): printable, no colon, no edge spaces.

    ``str.isprintable`` refuses controls, format characters (bidi overrides) and unassigned
    code points, which could disguise the line they label.
    """
    return (
        0 < len(role) <= MAX_CHANNEL_ROLE_CHARS
        and role.isprintable()
        and ":" not in role
        and role == role.strip()
    )


def _check_redaction(job: JobSettings, identification: str) -> None:
    redaction = job.content_redaction
    if redaction is None:
        return
    if redaction.output not in REDACTION_OUTPUTS:
        raise _fail(["content_redaction.output"], "one of " + ", ".join(REDACTION_OUTPUTS))
    types = redaction.pii_entity_types
    if not types or set(types) - set(PII_ENTITY_TYPES) or len(set(types)) != len(types):
        raise _fail(
            ["content_redaction.pii_entity_types"],
            '"ALL" or a list of distinct PII entity types among '
            + ", ".join(t for t in PII_ENTITY_TYPES if t != ALL_PII),
        )
    if ALL_PII in types and len(types) > 1:
        raise _fail(
            ["content_redaction.pii_entity_types"], '"ALL" alone: it already names every type'
        )
    if job.identifies_language:
        raise _fail(
            ["content_redaction", identification],
            "Transcribe's redaction is not compatible with language identification: set the "
            "language (en-US or es-US)",
        )


def _check_toxicity(job: JobSettings, identification: str) -> None:
    if not job.toxicity_detection:
        return
    if job.identifies_language:
        raise _fail(
            ["toxicity_detection", identification],
            "toxicity detection needs the language set to en-US, not identified",
        )
    if job.language_model_name:
        raise _fail(
            ["toxicity_detection", "language_model_name"],
            "Transcribe does not support custom language models with toxicity detection",
        )


def job_from_mapping(value: Mapping[str, Any]) -> JobSettings:
    """Job settings from a JSON object; keys left out take their defaults, unknown keys fail.

    A profile is read on its own: what it leaves out is the default, never the top level's
    value, so that a profile means the same in every stack.
    """
    for key in value:
        if key not in JOB_FIELDS:
            raise _fail([key], "unknown key: expected " + ", ".join(PROFILE_FIELDS))
    values: dict[str, Any] = {}
    for name, raw in value.items():
        if raw is None and name != "language":
            continue
        values[name] = _typed(name, raw)
    identifies = values.get("identify_language") or values.get("identify_multiple_languages")
    if identifies and "language" not in value:
        values["language"] = None
    return JobSettings(**values)


def _typed(name: str, raw: Any) -> Any:
    default = getattr(JobSettings(), name)
    if name == "subtitle_style":
        try:
            return style_from_mapping(raw)
        except StyleError as error:
            raise _fail([name], str(error)) from None
    if name == "language_id_settings":
        return _language_id_settings(raw)
    if name == "content_redaction":
        return _content_redaction(raw)
    if isinstance(default, bool):
        if not isinstance(raw, bool):
            raise _fail([name], f"true or false, got {raw!r}")
        return raw
    if isinstance(default, int):
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise _fail([name], f"an integer, got {raw!r}")
        return raw
    if isinstance(default, tuple):
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise _fail([name], f"a list of strings, got {raw!r}")
        return tuple(raw)
    if raw is not None and not isinstance(raw, str):
        raise _fail([name], f"a string, got {raw!r}")
    return raw


def _language_id_settings(raw: Any) -> tuple[tuple[str, LanguageIdSetting], ...]:
    if not isinstance(raw, Mapping):
        raise _fail(
            ["language_id_settings"],
            'an object of language code to {"vocabulary_name": ..., '
            '"vocabulary_filter_name": ..., "language_model_name": ...}',
        )
    entries = []
    for language, setting in raw.items():
        if not isinstance(setting, Mapping) or not set(setting) <= set(LANGUAGE_ID_FIELDS):
            raise _fail(
                [f"language_id_settings.{language}"],
                "an object with keys among " + ", ".join(LANGUAGE_ID_FIELDS),
            )
        for name, value in setting.items():
            if value is not None and not isinstance(value, str):
                raise _fail([f"language_id_settings.{language}.{name}"], f"a string, got {value!r}")
        entries.append((str(language), LanguageIdSetting(**setting)))
    return tuple(entries)


def _content_redaction(raw: Any) -> ContentRedaction:
    fields_ = ("pii_entity_types", "output")
    if not isinstance(raw, Mapping) or not set(raw) <= set(fields_):
        raise _fail(
            ["content_redaction"],
            'an object such as {"pii_entity_types": "ALL", "output": "redacted"} (output: '
            + " or ".join(REDACTION_OUTPUTS)
            + f"), got {raw!r}",
        )
    types = raw.get("pii_entity_types", ALL_PII)
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not all(isinstance(item, str) for item in types):
        raise _fail(
            ["content_redaction.pii_entity_types"], f'"ALL" or a list of strings, got {types!r}'
        )
    output = raw.get("output", "redacted")
    if not isinstance(output, str):
        raise _fail(["content_redaction.output"], f"a string, got {output!r}")
    return ContentRedaction(pii_entity_types=tuple(types), output=output)


def profile_from_mapping(value: Any) -> Profile:
    """One profile from its JSON object: ``{"prefix": "calls/", ...job settings}``."""
    if not isinstance(value, Mapping):
        raise ProfileError(
            f"expected an object with a 'prefix' and settings among {', '.join(JOB_FIELDS)}, "
            f"got {value!r}"
        )
    prefix = value.get("prefix")
    if not isinstance(prefix, str) or not prefix:
        raise _fail(["prefix"], f"a non-empty key prefix such as 'calls/', got {prefix!r}")
    settings = {key: item for key, item in value.items() if key != "prefix"}
    try:
        return Profile(prefix, job_from_mapping(settings))
    except ProfileError as error:
        raise ProfileError(f"profile {prefix!r}: {error}") from None


def profiles_to_json(profiles: Sequence[Profile]) -> str:
    """The compact JSON the stack puts in the functions' profiles variable."""
    return json.dumps(
        [{"prefix": profile.prefix, **profile.job.to_mapping()} for profile in profiles],
        separators=(",", ":"),
        sort_keys=True,
    )


def profiles_from_json(text: str) -> tuple[Profile, ...]:
    """The profiles from their JSON text; ProfileError names what is wrong."""
    try:
        value = json.loads(text) if text.strip() else []
    except ValueError as error:
        raise ProfileError(f"expected a JSON list of profiles ({error})") from None
    if not isinstance(value, list):
        raise ProfileError("expected a JSON list of profiles")
    profiles = tuple(profile_from_mapping(item) for item in value)
    prefixes = [profile.prefix for profile in profiles]
    if len(set(prefixes)) != len(prefixes):
        raise ProfileError(f"each profile prefix at most once, got {prefixes}")
    return profiles


def profile_for_key(key: str, profiles: Sequence[Profile]) -> Profile | None:
    """The profile whose prefix is the longest that ``key`` starts with; None outside all."""
    matching = [profile for profile in profiles if key.startswith(profile.prefix)]
    return max(matching, key=lambda profile: len(profile.prefix), default=None)


def job_settings_for(key: str, profiles: Sequence[Profile], default: JobSettings) -> JobSettings:
    """The settings an object's job gets: its profile's, or ``default`` (the top level)."""
    profile = profile_for_key(key, profiles)
    return default if profile is None else profile.job
