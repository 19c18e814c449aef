"""Which Transcribe result the readable outputs come from when a job redacts PII.

With content redaction Transcribe writes the redacted result as ``redacted-<job>.json`` and,
with ``redacted_and_unredacted`` only, the unredacted one as ``<job>.json``
(docs/transcribe-features.md). Everything under ``transcripts/`` is then made from the redacted
result, never from the other; the unredacted one becomes readable copies under
``unredacted/``, a prefix no pipeline role may read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from transcribe_pipeline.layout import job_result_key, redacted_result_key, unredacted_key
from transcribe_pipeline.profiles import REDACTED_AND_UNREDACTED, JobSettings
from transcribe_pipeline.readable import MEDIA_TYPES, Output, readable_outputs, transcript_text
from transcribe_pipeline.subtitle_style import SubtitleStyle


@dataclass(frozen=True)
class ResultFiles:
    """The result the readable outputs are made from, and the unredacted one to copy, if any."""

    readable: str
    unredacted: str | None = None


def result_files(job_name: str, job: Mapping[str, Any], settings: JobSettings) -> ResultFiles:
    """The result files of a finished job, from its own ContentRedaction or its key's profile.

    GetTranscriptionJob echoes the request's ContentRedaction, which is what the job did; a
    description without it (moto's, or a job started before the profile changed) falls back to
    the profile. Either one asking for redaction is enough: the readable outputs are never made
    from an unredacted result when redaction may have been asked for.
    """
    requested = job.get("ContentRedaction")
    output = requested.get("RedactionOutput") if isinstance(requested, Mapping) else None
    if output is None and settings.content_redaction is not None:
        output = settings.content_redaction.output
    if output is None:
        return ResultFiles(job_result_key(job_name))
    unredacted = job_result_key(job_name) if output == REDACTED_AND_UNREDACTED else None
    return ResultFiles(redacted_result_key(job_name), unredacted)


def unredacted_outputs(
    result: Any,
    *,
    source_key: str,
    job_name: str,
    job: Mapping[str, Any],
    roles: Sequence[str],
) -> list[Output]:
    """``unredacted/<key>.json`` and ``.txt`` from the unredacted result (no subtitles)."""
    text = transcript_text(result, channel_roles=roles)
    outputs = readable_outputs(
        result,
        source_key=source_key,
        job_name=job_name,
        language_code=job.get("LanguageCode"),
        subtitle_formats=(),
        style=SubtitleStyle(),
        channel_roles=roles,
        key_for=unredacted_key,
    )
    outputs.append(
        Output(unredacted_key(source_key, "txt"), text.encode("utf-8"), MEDIA_TYPES["txt"])
    )
    return outputs
