"""Typed, validated pipeline configuration read from CDK context (cdk.json or ``-c key=value``)."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from stacks.transcribe_features import TRANSCRIBE_LANGUAGES, feature_problems
from transcribe_pipeline import environment as names
from transcribe_pipeline.environment import (
    STUCK_AFTER_HOURS_RANGE,
    SWEEP_GRACE_MINUTES_RANGE,
    SWEEP_LOOKBACK_HOURS_RANGE,
)
from transcribe_pipeline.profiles import (
    RESOURCE_NAME_PATTERN,
    SUBTITLE_FORMATS,
    JobSettings,
    Profile,
    ProfileError,
    profile_from_mapping,
    profiles_to_json,
)
from transcribe_pipeline.resource_check import (
    LANGUAGE_MODEL,
    TOP_LEVEL,
    VOCABULARY,
    VOCABULARY_FILTER,
    NamedResource,
)
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME
from transcribe_pipeline.subtitle_style import (
    StyleError,
    SubtitleStyle,
    style_from_json,
    style_from_mapping,
)

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
# CloudFormation's rule for stack names (docs/cloudformation-stacks.md).
STACK_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
# The job name is <prefix><stem>-<hash>; the prefix leaves room for a readable stem.
JOB_NAME_PREFIX_PATTERN = re.compile(r"^[0-9a-zA-Z._-]{1,40}$")
# The prefix is named in IAM policies, which accept only U+0020-U+00FF (besides tab, LF, CR),
# of which the printable ones: no DEL, no C1 controls (docs/iam-literal-characters.md).
INPUT_PREFIX_PATTERN = re.compile(r"([\x20-\x7e\xa0-\xff]{1,255}/)?")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Context keys that belong to the CDK, not to the pipeline, as the pinned CLI passes them on
# synth and deploy and as it caches them in cdk.context.json: feature flags (@aws-cdk/...,
# @aws-cdk-containers/...), the CLI's settings (aws:cdk:..., aws-cdk:...) and context lookups
# (<provider>:account=...:region=...).
CDK_KEY_PATTERN = re.compile(r"^(@aws-cdk[a-z-]*/|aws:cdk:|aws-cdk:|[a-z][a-z-]*:[A-Za-z.]+=)")
# The CDK's context keys without a namespace: `cdk acknowledge`, `cdk cli-telemetry` (both in
# cdk.context.json) and `cdk migrate` (cdk.json).
CDK_PLAIN_KEYS = frozenset({"acknowledged-issue-numbers", "cli-telemetry", "cdk-migrate"})


class ConfigError(ValueError):
    """A context value is invalid; the message names the key and the allowed values."""


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    """Every setting of the pipeline, validated at synth time."""

    # Another name deploys a second, independent copy (e.g. `make aws-acceptance`'s throw-away
    # stack) next to the first in the same account and region.
    stack_name: str = DEFAULT_STACK_NAME
    language: str = "en-US"
    identify_language: bool = False
    language_options: tuple[str, ...] = ()
    show_speaker_labels: bool = False
    max_speaker_labels: int = 2
    subtitle_formats: tuple[str, ...] = SUBTITLE_FORMATS
    # How the readable subtitles are laid out (lambda/transcribe_pipeline/subtitle_style.py).
    subtitle_style: SubtitleStyle = field(default_factory=SubtitleStyle)
    vocabulary_name: str | None = None
    job_name_prefix: str = "tp-"
    input_prefix: str = ""
    retain_data: bool = False
    # False: SSE-S3 buckets, SSE-SQS queues. True: one customer-managed KMS key, created and
    # rotated by the stack, encrypts both buckets, the queues, the topic and Transcribe's output.
    use_kms_key: bool = False
    notification_email: str | None = None
    starter_concurrency: int = 5
    # StartTranscriptionJob calls per second the start function may make, shared equally by
    # its concurrent batches: Transcribe's default quota. Lower it when other applications in
    # the account start jobs too; raise it after a quota increase.
    start_jobs_per_second: int = 25
    log_retention_days: int = 30
    sweep_interval_minutes: int = 15
    # The sweeper looks this far back for finished jobs without outputs, leaves a job that
    # finished less than the grace ago to its event, and reports jobs waiting or running
    # longer than stuck_after_hours (the StuckJobs alarm).
    sweep_lookback_hours: int = SWEEP_LOOKBACK_HOURS_RANGE.default
    sweep_grace_minutes: int = SWEEP_GRACE_MINUTES_RANGE.default
    stuck_after_hours: int = STUCK_AFTER_HOURS_RANGE.default
    powertools_layer_version: int = 27
    # Per-prefix job settings (transcribe_pipeline/profiles.py); the longest matching prefix
    # wins, keys outside every profile get the settings above.
    profiles: tuple[Profile, ...] = ()

    def __post_init__(self) -> None:
        _check(
            bool(STACK_NAME_PATTERN.fullmatch(self.stack_name)),
            "stack_name",
            "1-128 characters of A-Z a-z 0-9 -, starting with a letter",
        )
        _check(self.language in TRANSCRIBE_LANGUAGES, "language", _one_of(TRANSCRIBE_LANGUAGES))
        for option in self.language_options:
            _check(
                option in TRANSCRIBE_LANGUAGES,
                "language_options",
                "a list of " + _one_of(TRANSCRIBE_LANGUAGES),
            )
        _check(
            len(self.language_options) != 1,
            "language_options",
            "an empty list or at least two languages (Transcribe needs two or more)",
        )
        _check(
            not self.language_options or self.identify_language,
            "language_options",
            "an empty list unless identify_language is true",
        )
        _check(2 <= self.max_speaker_labels <= 30, "max_speaker_labels", "an integer 2-30")
        _check(
            set(self.subtitle_formats) <= set(SUBTITLE_FORMATS)
            and len(set(self.subtitle_formats)) == len(self.subtitle_formats),
            "subtitle_formats",
            "a list of distinct values from srt, vtt (may be empty)",
        )
        _check(
            self.vocabulary_name is None
            or bool(RESOURCE_NAME_PATTERN.fullmatch(self.vocabulary_name)),
            "vocabulary_name",
            "null or 1-200 characters of 0-9 a-z A-Z . _ -",
        )
        # With IdentifyLanguage, Transcribe takes a vocabulary per language option in
        # LanguageIdSettings, never Settings.VocabularyName (docs/transcribe-api.md).
        _check(
            self.vocabulary_name is None or not self.identify_language,
            "vocabulary_name",
            "null when identify_language is true (a vocabulary has one language: set "
            "identify_language=false and language=<the vocabulary's language> to use it)",
        )
        _check(
            bool(JOB_NAME_PREFIX_PATTERN.match(self.job_name_prefix)),
            "job_name_prefix",
            "1-40 characters of 0-9 a-z A-Z . _ -",
        )
        _check(
            bool(INPUT_PREFIX_PATTERN.fullmatch(self.input_prefix)),
            "input_prefix",
            'an empty string or a key prefix of at most 256 characters ending in "/" (e.g. '
            '"incoming/"), each a printable character from U+0020 to U+00FF (space, ASCII, '
            "Latin-1 letters such as é): IAM policies, which name the prefix, accept no others",
        )
        _check(
            self.notification_email is None or bool(EMAIL_PATTERN.match(self.notification_email)),
            "notification_email",
            "null or an e-mail address",
        )
        _check(2 <= self.starter_concurrency <= 1000, "starter_concurrency", "an integer 2-1000")
        _check(
            1 <= self.start_jobs_per_second <= 1000, "start_jobs_per_second", "an integer 1-1000"
        )
        _check(
            self.log_retention_days in LOG_RETENTION_DAYS,
            "log_retention_days",
            "one of " + ", ".join(map(str, LOG_RETENTION_DAYS)),
        )
        _check(
            1 <= self.sweep_interval_minutes <= 1440,
            "sweep_interval_minutes",
            "an integer 1-1440",
        )
        for key, limits in (
            ("sweep_lookback_hours", SWEEP_LOOKBACK_HOURS_RANGE),
            ("sweep_grace_minutes", SWEEP_GRACE_MINUTES_RANGE),
            ("stuck_after_hours", STUCK_AFTER_HOURS_RANGE),
        ):
            _check(getattr(self, key) in limits, key, limits.allowed)
        # A shorter look-back than the interval would leave jobs that finish between two
        # sweeps out of both.
        _check(
            self.sweep_lookback_hours * 60 >= self.sweep_interval_minutes,
            "sweep_lookback_hours",
            f"at least the sweep interval (sweep_interval_minutes={self.sweep_interval_minutes})",
        )
        _check(self.powertools_layer_version >= 1, "powertools_layer_version", "an integer >= 1")
        for keys, why in feature_problems(self.default_job()):
            raise ConfigError(f"Invalid top-level settings {_keys(keys)}: {why}.")
        self._check_profiles()

    def default_job(self) -> JobSettings:
        """The top-level job settings: what a key outside every profile gets."""
        return JobSettings(
            language=None if self.identify_language else self.language,
            identify_language=self.identify_language,
            language_options=self.language_options,
            show_speaker_labels=self.show_speaker_labels,
            max_speaker_labels=self.max_speaker_labels,
            vocabulary_name=self.vocabulary_name,
            subtitle_formats=self.subtitle_formats,
            subtitle_style=self.subtitle_style,
        )

    def named_resources(self) -> list[NamedResource]:
        """Every vocabulary, filter and language model the settings name, with where and for what.

        The deploy checks that each exists and is ready (stacks/resource_check.py).
        """
        named = _named(TOP_LEVEL, self.default_job())
        for profile in self.profiles:
            named += _named(profile.prefix, profile.job)
        return named

    @property
    def keeps_unredacted(self) -> bool:
        """Whether some profile keeps Transcribe's unredacted result (unredacted/ is written)."""
        return any(
            profile.job.content_redaction is not None
            and profile.job.content_redaction.keeps_unredacted
            for profile in self.profiles
        )

    def _check_profiles(self) -> None:
        """Prefixes as input_prefix is checked, under it, unique; each job on the feature matrix."""
        seen: set[str] = set()
        for profile in self.profiles:
            where = f"Invalid context value for 'profiles': profile {profile.prefix!r}"
            if not (profile.prefix and INPUT_PREFIX_PATTERN.fullmatch(profile.prefix)):
                raise ConfigError(
                    f"{where}: 'prefix' expected a key prefix of at most 256 characters ending "
                    'in "/" (e.g. "calls/"), each a printable character from U+0020 to U+00FF.'
                )
            if not profile.prefix.startswith(self.input_prefix):
                raise ConfigError(
                    f"{where}: 'prefix' must lie under input_prefix {self.input_prefix!r}: the "
                    "pipeline never sees keys outside it."
                )
            if profile.prefix in seen:
                raise ConfigError(f"{where}: 'prefix' appears in more than one profile.")
            seen.add(profile.prefix)
            for keys, why in feature_problems(profile.job):
                raise ConfigError(f"{where}: {_keys(keys)}: {why}.")

    def transcription_environment(self) -> dict[str, str]:
        """The functions' environment variables for these settings (read by Settings.from_env)."""
        return {
            names.JOB_NAME_PREFIX: self.job_name_prefix,
            names.LANGUAGE_CODE: "" if self.identify_language else self.language,
            names.IDENTIFY_LANGUAGE: str(self.identify_language).lower(),
            names.LANGUAGE_OPTIONS: ",".join(self.language_options),
            names.SHOW_SPEAKER_LABELS: str(self.show_speaker_labels).lower(),
            names.MAX_SPEAKER_LABELS: str(self.max_speaker_labels),
            names.SUBTITLE_FORMATS: ",".join(self.subtitle_formats),
            names.VOCABULARY_NAME: self.vocabulary_name or "",
            names.SUBTITLE_STYLE: self.subtitle_style.to_json(),
            names.PROFILES: profiles_to_json(self.profiles),
        }

    def sweeper_environment(self) -> dict[str, str]:
        """The sweeper's own environment variables (read by Settings.from_env)."""
        return {
            names.SWEEP_LOOKBACK_HOURS: str(self.sweep_lookback_hours),
            names.SWEEP_GRACE_MINUTES: str(self.sweep_grace_minutes),
            names.STUCK_AFTER_HOURS: str(self.stuck_after_hours),
        }

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> PipelineConfig:
        """Build from the app's whole context; unset or null keys default, unknown keys fail.

        A key that is neither a setting nor one of the CDK's own is refused: a mistyped setting
        would otherwise synthesize the default silently.
        """
        settings = [field.name for field in fields(cls)]
        for key in context:
            _check_known(key, settings)
        defaults = cls()
        values: dict[str, Any] = {}
        for name in settings:
            raw = context.get(name)
            if raw is not None:
                values[name] = _coerce(name, raw, getattr(defaults, name))
        return cls(**values)


def _named(where: str, job: JobSettings) -> list[NamedResource]:
    """The resources one job's settings name (in Settings, ModelSettings, LanguageIdSettings)."""
    kinds = (
        (VOCABULARY, "vocabulary_name"),
        (VOCABULARY_FILTER, "vocabulary_filter_name"),
        (LANGUAGE_MODEL, "language_model_name"),
    )
    named = [
        NamedResource(where, kind, getattr(job, field), job.language)
        for kind, field in kinds
        if getattr(job, field)
    ]
    for language, setting in job.language_id_settings:
        named += [
            NamedResource(where, kind, getattr(setting, field), language)
            for kind, field in kinds
            if getattr(setting, field)
        ]
    return named


def _keys(keys: tuple[str, ...]) -> str:
    return ", ".join(repr(key) for key in keys)


def _one_of(allowed: frozenset[str]) -> str:
    return "one of " + ", ".join(sorted(allowed))


def _check(ok: bool, key: str, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"Invalid context value for '{key}': expected {allowed}.")


def _check_known(key: str, settings: list[str]) -> None:
    """Refuse a context key that is neither a pipeline setting nor the CDK's own."""
    if key in settings or key in CDK_PLAIN_KEYS or CDK_KEY_PATTERN.match(key):
        return
    # Hyphens for underscores is the likeliest slip; compare both spellings.
    guesses = difflib.get_close_matches(key.replace("-", "_"), settings, n=1)
    hint = f" (did you mean '{guesses[0]}'?)" if guesses else ""
    raise ConfigError(
        f"Unknown context key '{key}'{hint}: expected a pipeline setting "
        f"({', '.join(sorted(settings))}) or a key of the CDK itself "
        "(@aws-cdk/..., aws:cdk:..., aws-cdk:..., context lookups)."
    )


def _coerce(key: str, raw: Any, default: Any) -> Any:
    """Turn a context value into the field's type; ``-c`` always passes strings."""
    if isinstance(default, SubtitleStyle):
        return _style(key, raw)
    if key == "profiles":
        return _profiles(key, raw)
    if isinstance(raw, str) and raw.strip().lower() in {"null", "none"}:
        return None
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in {"true", "false"}:
            return raw.lower() == "true"
        raise ConfigError(
            f"Invalid context value for '{key}': expected true or false, got {raw!r}."
        )
    if isinstance(default, int):
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip()):
            return int(raw)
        raise ConfigError(f"Invalid context value for '{key}': expected an integer, got {raw!r}.")
    if isinstance(default, tuple):
        items = raw
        if isinstance(raw, str):
            text = raw.strip()
            items = (
                json.loads(text)
                if text.startswith("[")
                else [part.strip() for part in text.split(",") if part.strip()]
            )
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ConfigError(
                f"Invalid context value for '{key}': expected a list of strings, got {raw!r}."
            )
        return tuple(items)
    if not isinstance(raw, str):
        raise ConfigError(f"Invalid context value for '{key}': expected a string, got {raw!r}.")
    return raw


def _style(key: str, raw: Any) -> SubtitleStyle:
    """A subtitle style from an object (cdk.json) or its JSON text (``-c key='{...}'``)."""
    if isinstance(raw, str) and raw.strip().lower() in {"null", "none"}:
        return SubtitleStyle()
    try:
        return style_from_json(raw) if isinstance(raw, str) else style_from_mapping(raw)
    except StyleError as error:
        raise ConfigError(f"Invalid context value for '{key}': {error}.") from None


def _profiles(key: str, raw: Any) -> tuple[Profile, ...]:
    """Profiles from a list of objects (cdk.json) or its JSON text (``-c profiles='[...]'``)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as error:
            raise ConfigError(f"Invalid context value for '{key}': not JSON ({error}).") from None
    if not isinstance(raw, list):
        raise ConfigError(
            f"Invalid context value for '{key}': expected a list of objects such as "
            f'{{"prefix": "calls/", "channel_identification": true}}, got {raw!r}.'
        )
    try:
        return tuple(profile_from_mapping(item) for item in raw)
    except ProfileError as error:
        raise ConfigError(f"Invalid context value for '{key}': {error}.") from None
