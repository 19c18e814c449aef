"""Function settings from environment variables, validated once at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from transcribe_pipeline import environment as names
from transcribe_pipeline.environment import (
    STUCK_AFTER_HOURS_RANGE,
    SWEEP_GRACE_MINUTES_RANGE,
    SWEEP_LOOKBACK_HOURS_RANGE,
    IntegerRange,
)
from transcribe_pipeline.profiles import (
    JobSettings,
    Profile,
    ProfileError,
    job_settings_for,
    profiles_from_json,
)
from transcribe_pipeline.subtitle_style import StyleError, SubtitleStyle, style_from_json


class SettingsError(RuntimeError):
    """An environment variable the function needs is missing or malformed."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What the stack passes to the functions (names: transcribe_pipeline.environment)."""

    input_bucket: str
    output_bucket: str
    job_name_prefix: str
    language_code: str | None
    identify_language: bool
    language_options: tuple[str, ...]
    show_speaker_labels: bool
    max_speaker_labels: int
    subtitle_formats: tuple[str, ...]
    vocabulary_name: str | None
    data_access_role_arn: str | None
    topic_arn: str | None
    # The stack's KMS key (use_kms_key): Transcribe encrypts its results with it.
    output_encryption_kms_key_id: str | None = None
    # This execution environment's share of the StartTranscriptionJob quota (calls per second);
    # None: no pacing.
    start_rate_per_second: float | None = None
    # The start queue, where a throttled start's message is made visible again sooner.
    start_queue_url: str | None = None
    # How harvest lays out the readable subtitles (the stack's subtitle_style).
    subtitle_style: SubtitleStyle = field(default_factory=SubtitleStyle)
    # Per-prefix job settings (the profiles setting); keys outside all use the fields above.
    profiles: tuple[Profile, ...] = ()
    # The stack's namespace for the functions' own metrics; None: counts are only logged.
    metrics_namespace: str | None = None
    # The sweeper's: how far back it looks for finished jobs, how long it leaves a just
    # finished job to its event, and after how long a waiting or running job counts as stuck.
    sweep_lookback: timedelta = timedelta(hours=SWEEP_LOOKBACK_HOURS_RANGE.default)
    sweep_grace: timedelta = timedelta(minutes=SWEEP_GRACE_MINUTES_RANGE.default)
    stuck_after: timedelta = timedelta(hours=STUCK_AFTER_HOURS_RANGE.default)
    # The ledger table (docs/ledger.md); the functions refuse to start without it
    # (``require_ledger_table``), the pure request-building code does not need it.
    ledger_table: str | None = None

    def require_ledger_table(self) -> str:
        """The ledger table's name; SettingsError when the stack did not set it."""
        if self.ledger_table is None:
            raise SettingsError(f"Environment variable {names.LEDGER_TABLE} must be set")
        return self.ledger_table

    @property
    def default_job(self) -> JobSettings:
        """The top-level job settings: what a key outside every profile gets."""
        return JobSettings(
            language=None if self.identify_language else self.language_code,
            identify_language=self.identify_language,
            language_options=self.language_options,
            show_speaker_labels=self.show_speaker_labels,
            max_speaker_labels=self.max_speaker_labels,
            vocabulary_name=self.vocabulary_name,
            subtitle_formats=self.subtitle_formats,
            subtitle_style=self.subtitle_style,
        )

    def job_for(self, key: str) -> JobSettings:
        """The job settings for an object key: its profile's (longest prefix) or the top level."""
        return job_settings_for(key, self.profiles, self.default_job)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check the variables; raise SettingsError naming the variable at fault."""
        env = os.environ if environ is None else environ

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise SettingsError(f"Environment variable {name} must be set")
            return value

        def optional(name: str) -> str | None:
            return env.get(name, "").strip() or None

        def flag(name: str) -> bool:
            value = env.get(name, "false").strip().lower()
            if value not in {"true", "false"}:
                raise SettingsError(f"Environment variable {name} must be true or false")
            return value == "true"

        def listing(name: str) -> tuple[str, ...]:
            return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())

        def positive_number(name: str) -> float | None:
            text = optional(name)
            if text is None:
                return None
            problem = SettingsError(f"Environment variable {name} must be a positive number")
            try:
                number = float(text)
            except ValueError:
                raise problem from None
            if not 0 < number < float("inf"):  # refuses nan too
                raise problem
            return number

        def integer(name: str, limits: IntegerRange) -> int:
            text = env.get(name, "").strip()
            if not text:
                return limits.default
            if not (text.isascii() and text.isdigit()) or int(text) not in limits:
                raise SettingsError(
                    f"Environment variable {name} must be {limits.allowed}, got {text!r}"
                )
            return int(text)

        max_speakers = env.get(names.MAX_SPEAKER_LABELS, "2").strip()
        if not max_speakers.isdigit():
            raise SettingsError(
                f"Environment variable {names.MAX_SPEAKER_LABELS} must be an integer"
            )
        identify = flag(names.IDENTIFY_LANGUAGE)
        vocabulary = optional(names.VOCABULARY_NAME)
        if identify and vocabulary is not None:
            # Transcribe takes vocabularies per identified language (LanguageIdSettings), not
            # Settings.VocabularyName with IdentifyLanguage (docs/transcribe-api.md).
            raise SettingsError(
                f"Environment variable {names.VOCABULARY_NAME} must be empty when "
                f"{names.IDENTIFY_LANGUAGE} is true"
            )
        output_key_id = optional(names.OUTPUT_ENCRYPTION_KMS_KEY_ID)
        if output_key_id is not None and not (
            output_key_id.startswith("arn:") and ":kms:" in output_key_id
        ):
            raise SettingsError(
                f"Environment variable {names.OUTPUT_ENCRYPTION_KMS_KEY_ID} must be a KMS key ARN"
            )
        style_text = optional(names.SUBTITLE_STYLE)
        try:
            style = SubtitleStyle() if style_text is None else style_from_json(style_text)
        except StyleError as error:
            raise SettingsError(f"Environment variable {names.SUBTITLE_STYLE}: {error}") from None
        try:
            profiles = profiles_from_json(env.get(names.PROFILES, ""))
        except ProfileError as error:
            raise SettingsError(f"Environment variable {names.PROFILES}: {error}") from None
        return cls(
            input_bucket=required(names.INPUT_BUCKET),
            output_bucket=required(names.OUTPUT_BUCKET),
            job_name_prefix=required(names.JOB_NAME_PREFIX),
            language_code=None if identify else required(names.LANGUAGE_CODE),
            identify_language=identify,
            language_options=listing(names.LANGUAGE_OPTIONS),
            show_speaker_labels=flag(names.SHOW_SPEAKER_LABELS),
            max_speaker_labels=int(max_speakers),
            subtitle_formats=listing(names.SUBTITLE_FORMATS),
            vocabulary_name=vocabulary,
            data_access_role_arn=optional(names.DATA_ACCESS_ROLE_ARN),
            topic_arn=optional(names.TOPIC_ARN),
            output_encryption_kms_key_id=output_key_id,
            start_rate_per_second=positive_number(names.START_RATE_PER_SECOND),
            start_queue_url=optional(names.START_QUEUE_URL),
            subtitle_style=style,
            profiles=profiles,
            metrics_namespace=optional(names.METRICS_NAMESPACE),
            sweep_lookback=timedelta(
                hours=integer(names.SWEEP_LOOKBACK_HOURS, SWEEP_LOOKBACK_HOURS_RANGE)
            ),
            sweep_grace=timedelta(
                minutes=integer(names.SWEEP_GRACE_MINUTES, SWEEP_GRACE_MINUTES_RANGE)
            ),
            stuck_after=timedelta(hours=integer(names.STUCK_AFTER_HOURS, STUCK_AFTER_HOURS_RANGE)),
            ledger_table=optional(names.LEDGER_TABLE),
        )
