"""Request checks of the Transcribe API, as the real service makes them, in its wording.

First the constraints of botocore's Transcribe model (lengths, patterns, enums, ranges: what
the real API checks server-side), reported as AWS does ("N validation error(s) detected:
Value '...' at 'path' failed to satisfy constraint: ..."); then the cross-field rules of the
StartTranscriptionJob API reference; then the media URI and the custom vocabulary. Every
refusal is a ``BadRequestException``.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

from localcloud.transcribe.errors import BadRequestError

LOG = logging.getLogger(__name__)


@cache
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("transcribe")


def _camel(name: str) -> str:
    """AWS names members in validation messages in lowerCamelCase: 'mediaFileUri'."""
    return name[:1].lower() + name[1:]


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return str(value)


def _constraint_errors(shape: Any, value: Any) -> list[str]:
    """The constraints a scalar or list value breaks, in AWS's wording."""
    meta = shape.metadata
    errors: list[str] = []
    kind = shape.type_name
    if kind == "string" and isinstance(value, str):
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Member must have length less than or equal to {meta['max']}")
        if "enum" in meta and value not in meta["enum"]:
            errors.append(f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]")
        pattern = meta.get("pattern")
        # Java's String.matches() semantics: the whole value must match.
        if pattern and not _fullmatch(pattern, value):
            errors.append(f"Member must satisfy regular expression pattern: {pattern}")
    elif kind in ("integer", "long", "float", "double") and isinstance(value, int | float):
        if "min" in meta and value < meta["min"]:
            errors.append(f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            errors.append(f"Member must have value less than or equal to {meta['max']}")
    elif kind in ("list", "map") and isinstance(value, list | dict):
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Member must have length less than or equal to {meta['max']}")
    return errors


@cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        LOG.debug("pattern %r is not a Python regex; not checked", pattern)
        return None


def _fullmatch(pattern: str, value: str) -> bool:
    compiled = _compiled(pattern)
    return compiled is None or compiled.fullmatch(value) is not None


def _validate(shape: Any, value: Any, path: str, errors: list[str]) -> None:
    """Collect every model constraint `value` breaks, with AWS's 'at <path>' wording."""
    if value is None:
        return
    for problem in _constraint_errors(shape, value):
        errors.append(
            f"Value '{_render(value)}' at '{path}' failed to satisfy constraint: {problem}"
        )
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _validate(
                    member, value[name], f"{path}.{_camel(name)}" if path else _camel(name), errors
                )
    elif kind == "list" and isinstance(value, list):
        member_problems = [p for item in value for p in _constraint_errors(shape.member, item)]
        if member_problems:
            # AWS reports list members as one nested constraint on the list.
            errors.append(
                f"Value '{_render(value)}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy constraint: [{member_problems[0]}]"
            )
        for index, item in enumerate(value, start=1):
            if shape.member.type_name == "structure":
                _validate(shape.member, item, f"{path}.{index}.member", errors)


def validate_request(operation: str, params: dict[str, Any]) -> None:
    """Raise BadRequestError listing every model constraint the request breaks."""
    errors: list[str] = []
    _validate(_service_model().operation_model(operation).input_shape, params, "", errors)
    if errors:
        plural = "s" if len(errors) > 1 else ""
        raise BadRequestError(
            f"{len(errors)} validation error{plural} detected: " + "; ".join(errors)
        )


def check_start_rules(params: dict[str, Any]) -> None:
    """Cross-field rules of StartTranscriptionJob (API reference), beyond the model's."""
    name = params.get("TranscriptionJobName")
    if not name:
        raise BadRequestError("TranscriptionJobName is required.")
    if name in (".", ".."):
        raise BadRequestError(
            "You can't use the strings '.' or '..' by themselves as the job name."
        )
    if not (params.get("Media") or {}).get("MediaFileUri"):
        raise BadRequestError("Media.MediaFileUri is required.")
    chosen = [
        p
        for p in ("LanguageCode", "IdentifyLanguage", "IdentifyMultipleLanguages")
        if params.get(p)
    ]
    if not chosen:
        raise BadRequestError(
            "You must include one of LanguageCode, IdentifyLanguage, or "
            "IdentifyMultipleLanguages in your request."
        )
    if len(chosen) > 1:
        raise BadRequestError(
            "You can include only one of LanguageCode, IdentifyLanguage, or "
            f"IdentifyMultipleLanguages in your request; this one has {', '.join(chosen)}."
        )
    options = params.get("LanguageOptions")
    if options is not None:
        if chosen[0] == "LanguageCode":
            raise BadRequestError(
                "LanguageOptions can be used only with IdentifyLanguage or "
                "IdentifyMultipleLanguages."
            )
        if len(options) < 2 or len(set(options)) != len(options):
            raise BadRequestError(
                "LanguageOptions must contain at least two different language codes."
            )
    settings = params.get("Settings") or {}
    if settings.get("ShowSpeakerLabels") and "MaxSpeakerLabels" not in settings:
        raise BadRequestError(
            "When ShowSpeakerLabels is true, you must also set MaxSpeakerLabels (2-30)."
        )
    if "MaxSpeakerLabels" in settings and not settings.get("ShowSpeakerLabels"):
        raise BadRequestError("MaxSpeakerLabels can be set only when ShowSpeakerLabels is true.")
    if settings.get("ShowSpeakerLabels") and settings.get("ChannelIdentification"):
        raise BadRequestError(
            "You can't set both ShowSpeakerLabels and ChannelIdentification in the same request."
        )
    if settings.get("ShowAlternatives") and "MaxAlternatives" not in settings:
        raise BadRequestError(
            "When ShowAlternatives is true, you must also set MaxAlternatives (2-10)."
        )
    # A filter may be named per identified language (LanguageIdSettings); the method is only
    # ever in Settings, so it needs a filter in one of the two places.
    per_language_filter = any(
        language.get("VocabularyFilterName")
        for language in (params.get("LanguageIdSettings") or {}).values()
    )
    if (
        settings.get("VocabularyFilterMethod")
        and not settings.get("VocabularyFilterName")
        and not per_language_filter
    ):
        raise BadRequestError("VocabularyFilterMethod requires VocabularyFilterName.")
    if (settings.get("VocabularyFilterName") or per_language_filter) and not settings.get(
        "VocabularyFilterMethod"
    ):
        raise BadRequestError(
            "When you include VocabularyFilterName, you must also include VocabularyFilterMethod."
        )
    execution = params.get("JobExecutionSettings") or {}
    if execution.get("AllowDeferredExecution") and not execution.get("DataAccessRoleArn"):
        raise BadRequestError(
            "When AllowDeferredExecution is true, you must also specify DataAccessRoleArn."
        )
    if params.get("OutputKey") and not params.get("OutputBucketName"):
        raise BadRequestError("OutputKey can be used only together with OutputBucketName.")


# Languages of batch PII redaction (docs/transcribe-features.md, "Content redaction").
REDACTION_LANGUAGES = ("en-US", "es-US")
# The one language of toxicity detection (docs/transcribe-features.md, "Toxicity detection").
TOXICITY_LANGUAGES = ("en-US",)


def check_feature_rules(params: dict[str, Any]) -> None:
    """The feature combinations Transcribe refuses (docs/transcribe-features.md), in order."""
    identifies = [p for p in ("IdentifyLanguage", "IdentifyMultipleLanguages") if params.get(p)]
    language = params.get("LanguageCode")
    if params.get("ContentRedaction"):
        if identifies:
            raise BadRequestError(
                f"ContentRedaction isn't supported with language identification ({identifies[0]})."
                " Specify a LanguageCode and try your request again."
            )
        if language not in REDACTION_LANGUAGES:
            raise BadRequestError(
                f"ContentRedaction isn't supported for the language code {language}. Supported "
                f"language codes: {', '.join(REDACTION_LANGUAGES)}."
            )
    language_models = [
        entry["LanguageModelName"]
        for entry in (params.get("LanguageIdSettings") or {}).values()
        if entry.get("LanguageModelName")
    ]
    if (params.get("ModelSettings") or {}).get("LanguageModelName"):
        language_models.append(params["ModelSettings"]["LanguageModelName"])
    if params.get("IdentifyMultipleLanguages") and language_models:
        raise BadRequestError(
            "Custom language models aren't supported with IdentifyMultipleLanguages."
        )
    if params.get("ToxicityDetection"):
        if identifies or language not in TOXICITY_LANGUAGES:
            raise BadRequestError(
                "ToxicityDetection is supported only with the language code "
                f"{', '.join(TOXICITY_LANGUAGES)}, without language identification."
            )
        if language_models:
            raise BadRequestError("ToxicityDetection isn't supported with custom language models.")


def parse_media_uri(uri: str) -> tuple[str, str]:
    """Split an S3 media URI (s3://bucket/key or an https S3 URL) into bucket and key."""
    # s3:// URIs carry the key verbatim (spaces, '+' and '%' included), as the real API.
    if uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://") :].partition("/")
    else:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        path = unquote(parts.path)
        if ".s3." in host:  # virtual-hosted style: <bucket>.s3.<region>.amazonaws.com/<key>
            bucket, key = host.split(".s3.", 1)[0], path.lstrip("/")
        else:  # path style: s3.<region>.amazonaws.com/<bucket>/<key>, or a local endpoint
            bucket, _, key = path.lstrip("/").partition("/")
    if not bucket or not key:
        raise BadRequestError(
            f"The S3 URI that you provided isn't valid: {uri}. Use s3://bucket/key and try "
            "your request again."
        )
    return bucket, key


def check_vocabulary(account_id: str, region: str, params: dict[str, Any]) -> None:
    """Raise BadRequestError when the request names a vocabulary, vocabulary filter or
    language model that does not exist (in Settings, ModelSettings or LanguageIdSettings)."""
    # As AWS: a named resource must exist. The local engine applies filters; vocabularies
    # and language models only have to exist (README, "What differs from AWS").
    from moto.transcribe.models import transcribe_backends

    from localcloud.transcribe import resources

    settings = params.get("Settings") or {}
    entries = [settings, *(params.get("LanguageIdSettings") or {}).values()]
    vocabularies = transcribe_backends[account_id][region].vocabularies
    for entry in entries:
        name = entry.get("VocabularyName")
        if name and name not in vocabularies:
            raise BadRequestError(
                "The requested vocabulary couldn't be found. Check the vocabulary name and "
                "try your request again."
            )
    for entry in entries:
        name = entry.get("VocabularyFilterName")
        if name and resources.find_vocabulary_filter(account_id, region, name) is None:
            raise BadRequestError(resources.FILTER_NOT_FOUND)
    for entry in [params.get("ModelSettings") or {}, *entries[1:]]:
        name = entry.get("LanguageModelName")
        if name and resources.find_language_model(account_id, region, name) is None:
            raise BadRequestError(resources.MODEL_NOT_FOUND)
