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


class ProfileError(ValueError):
    """A profile is malformed or inconsistent; the message names the keys and why."""


@dataclass(frozen=True, kw_only=True)
class LanguageIdSetting:
    """The vocabulary, vocabulary filter and language model for one identified language."""

    vocabulary_name: str | None = None
    vocabulary_filter_name: str | None = None
    language_model_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class JobSettings:
    """Everything that shapes one job and its readable outputs (a profile, or the top level)."""

    language: str | None = "en-US"
    identify_language: bool = False
    language_options: tuple[str, ...] = ()
    show_speaker_labels: bool = False
    max_speaker_labels: int = 2
    channel_identification: bool = False
    vocabulary_name: str | None = None
    vocabulary_filter_name: str | None = None
    vocabulary_filter_method: str | None = None
    language_model_name: str | None = None
    language_id_settings: tuple[tuple[str, LanguageIdSetting], ...] = ()
    subtitle_formats: tuple[str, ...] = SUBTITLE_FORMATS
    subtitle_style: SubtitleStyle = field(default_factory=SubtitleStyle)

    def __post_init__(self) -> None:
        _check_job(self)

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
            "language_options": list(self.language_options),
            "show_speaker_labels": self.show_speaker_labels,
            "max_speaker_labels": self.max_speaker_labels,
            "channel_identification": self.channel_identification,
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
    if job.identify_language:
        if job.language is not None:
            raise _fail(
                ["language", "identify_language"],
                "a fixed language and language identification exclude each other; "
                "list the candidates in language_options",
            )
    elif job.language is None:
        raise _fail(["language"], "a language code is needed unless identify_language is true")
    if job.language_options and not job.identify_language:
        raise _fail(["language_options"], "only with identify_language true")
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
        if value is not None and job.identify_language:
            raise _fail(
                [name, "identify_language"],
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
        if not job.identify_language:
            raise _fail(
                ["language_id_settings"],
                "only with identify_language true (with a fixed language use "
                "vocabulary_name, vocabulary_filter_name, language_model_name)",
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
    if set(job.subtitle_formats) - set(SUBTITLE_FORMATS) or len(set(job.subtitle_formats)) != len(
        job.subtitle_formats
    ):
        raise _fail(["subtitle_formats"], "a list of distinct values from srt, vtt (may be empty)")


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
    if values.get("identify_language") and "language" not in value:
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
