"""Function settings from environment variables, validated once at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from transcribe_pipeline.subtitle_style import (
    SUBTITLE_STYLE_ENV,
    StyleError,
    SubtitleStyle,
    style_from_json,
)


class SettingsError(RuntimeError):
    """An environment variable the function needs is missing or malformed."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What the stack passes to every function (see stacks/ for the names)."""

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

        max_speakers = env.get("MAX_SPEAKER_LABELS", "2").strip()
        if not max_speakers.isdigit():
            raise SettingsError("Environment variable MAX_SPEAKER_LABELS must be an integer")
        identify = flag("IDENTIFY_LANGUAGE")
        vocabulary = optional("VOCABULARY_NAME")
        if identify and vocabulary is not None:
            # Transcribe takes vocabularies per identified language (LanguageIdSettings), not
            # Settings.VocabularyName with IdentifyLanguage (docs/transcribe-api.md).
            raise SettingsError(
                "Environment variable VOCABULARY_NAME must be empty when IDENTIFY_LANGUAGE is true"
            )
        output_key_id = optional("OUTPUT_ENCRYPTION_KMS_KEY_ID")
        if output_key_id is not None and not (
            output_key_id.startswith("arn:") and ":kms:" in output_key_id
        ):
            raise SettingsError(
                "Environment variable OUTPUT_ENCRYPTION_KMS_KEY_ID must be a KMS key ARN"
            )
        style_text = optional(SUBTITLE_STYLE_ENV)
        try:
            style = SubtitleStyle() if style_text is None else style_from_json(style_text)
        except StyleError as error:
            raise SettingsError(f"Environment variable {SUBTITLE_STYLE_ENV}: {error}") from None
        return cls(
            input_bucket=required("INPUT_BUCKET"),
            output_bucket=required("OUTPUT_BUCKET"),
            job_name_prefix=required("JOB_NAME_PREFIX"),
            language_code=None if identify else required("LANGUAGE_CODE"),
            identify_language=identify,
            language_options=listing("LANGUAGE_OPTIONS"),
            show_speaker_labels=flag("SHOW_SPEAKER_LABELS"),
            max_speaker_labels=int(max_speakers),
            subtitle_formats=listing("SUBTITLE_FORMATS"),
            vocabulary_name=vocabulary,
            data_access_role_arn=optional("DATA_ACCESS_ROLE_ARN"),
            topic_arn=optional("TOPIC_ARN"),
            output_encryption_kms_key_id=output_key_id,
            start_rate_per_second=positive_number("START_RATE_PER_SECOND"),
            start_queue_url=optional("START_QUEUE_URL"),
            subtitle_style=style,
        )
