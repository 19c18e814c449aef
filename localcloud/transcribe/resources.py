"""Custom vocabulary filters and custom language models, which moto 5.2.5 does not serve.

Both live on moto's Transcribe backend object, as the jobs do (`jobs.JobTable`), so moto's
reset forgets them. A filter keeps its words (given inline, or read from its S3 file at
creation) and the jobs apply them (`vocabulary_filters.apply_filter`); its words are also
written to a service-managed bucket so that GetVocabularyFilter's DownloadUri serves them. A
language model is "trained" at once: it is COMPLETED as soon as it exists, its training data
is not read, and recognition does not use it (README, "What differs from AWS").

A missing name is a ``BadRequestException`` with the API's "couldn't be found" wording, as
GetVocabulary answers (docs/transcribe-features.md, "Missing resources").
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from localcloud.transcribe import s3
from localcloud.transcribe.errors import MEDIA_ACCESS_MESSAGE, BadRequestError, ConflictError
from localcloud.transcribe.pagination import decode_token, encode_token

FILTER_NOT_FOUND = (
    "The requested vocabulary filter couldn't be found. Check the vocabulary filter name and "
    "try your request again."
)
FILTER_EXISTS = (
    "The requested vocabulary filter name already exists. Use a different vocabulary filter name."
)
MODEL_NOT_FOUND = (
    "The requested language model couldn't be found. Check the language model name and try "
    "your request again."
)
MODEL_EXISTS = (
    "The requested language model name already exists. Use a different language model name."
)
# List operations return 5 entries per page without MaxResults, as ListTranscriptionJobs.
DEFAULT_PAGE_SIZE = 5

# What this module's NextToken values page (localcloud/transcribe/pagination.py).
_TOKEN_KIND = "localcloud-resources-v1"

_lock = threading.Lock()


@dataclass
class VocabularyFilter:
    """A custom vocabulary filter: its language and its words."""

    name: str
    language_code: str
    words: tuple[str, ...]
    last_modified: datetime
    download_key: str
    tags: list[dict[str, str]] | None = None

    def summary(self) -> dict[str, Any]:
        """The VocabularyFilterInfo of ListVocabularyFilters."""
        return {
            "VocabularyFilterName": self.name,
            "LanguageCode": self.language_code,
            "LastModifiedTime": self.last_modified,
        }


@dataclass
class LanguageModel:
    """A custom language model (never trained locally: COMPLETED from the start)."""

    name: str
    language_code: str
    base_model_name: str
    input_data_config: dict[str, Any]
    create_time: datetime
    status: str = "COMPLETED"
    tags: list[dict[str, str]] | None = field(default=None)

    def describe(self) -> dict[str, Any]:
        """The LanguageModel structure of Describe/ListLanguageModels."""
        return {
            "ModelName": self.name,
            "CreateTime": self.create_time,
            "LastModifiedTime": self.create_time,
            "LanguageCode": self.language_code,
            "BaseModelName": self.base_model_name,
            "ModelStatus": self.status,
            "UpgradeAvailability": False,
            "InputDataConfig": self.input_data_config,
        }


def _table(account_id: str, region: str, kind: str) -> dict[str, Any]:
    """One table of the backend (call with the lock held); moto's reset forgets it."""
    from moto.transcribe.models import transcribe_backends

    backend = transcribe_backends[account_id][region]
    attribute = f"localcloud_{kind}"
    table: dict[str, Any] | None = getattr(backend, attribute, None)
    if table is None:
        table = {}
        setattr(backend, attribute, table)
    return table


def _page(
    entries: list[Any], next_token: str | None, max_results: int | None
) -> tuple[list[Any], str | None]:
    """One page of entries sorted by name, and the token of the next one."""
    start = decode_token(_TOKEN_KIND, next_token) if next_token else 0
    limit = max_results or DEFAULT_PAGE_SIZE
    page = entries[start : start + limit]
    more = start + limit < len(entries)
    return page, encode_token(_TOKEN_KIND, start + limit) if more else None


def _listed(account_id: str, region: str, kind: str, name_contains: str | None) -> list[Any]:
    """A table's entries sorted by name, those whose name contains ``name_contains`` (any case)."""
    needle = name_contains.lower() if name_contains else None
    with _lock:
        entries = list(_table(account_id, region, kind).values())
    return sorted(
        (e for e in entries if needle is None or needle in e.name.lower()), key=lambda e: e.name
    )


def _listing(field: str, entries: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    """A List* response: the page under ``field``, and NextToken when there is more."""
    response: dict[str, Any] = {field: entries}
    if token:
        response["NextToken"] = token
    return response


def _delete(account_id: str, region: str, kind: str, name: str, not_found: str) -> None:
    """Delete* of a named resource; BadRequestError(not_found) when there is none."""
    with _lock:
        if _table(account_id, region, kind).pop(name, None) is None:
            raise BadRequestError(not_found)


# --- vocabulary filters ------------------------------------------------------------------


def _filter_words(account_id: str, region: str, params: dict[str, Any]) -> tuple[str, ...]:
    """The words of a CreateVocabularyFilter request: inline, or one per line of its file."""
    from localcloud.transcribe.validation import parse_media_uri

    inline, uri = params.get("Words"), params.get("VocabularyFilterFileUri")
    if (inline is None) == (uri is None):
        raise BadRequestError("Either Words or VocabularyFilterFileUri field should be provided.")
    words: list[str] = list(inline or [])
    if uri is not None:
        bucket, key = parse_media_uri(uri)
        body = s3.read_media(account_id, region, bucket, key)
        if body is None:
            raise BadRequestError(MEDIA_ACCESS_MESSAGE)
        words = [line.strip() for line in body.decode("utf-8").splitlines() if line.strip()]
    spaced = [w for w in words if any(c.isspace() for c in w)]
    if spaced:
        # An entry is one word (docs/transcribe-features.md, "Vocabulary filters").
        raise BadRequestError(
            f"Each entry of a vocabulary filter must be a single word, without spaces: "
            f"'{spaced[0]}'."
        )
    return tuple(words)


def create_vocabulary_filter(
    account_id: str, region: str, params: dict[str, Any], endpoint: str
) -> dict[str, Any]:
    """CreateVocabularyFilter."""
    name = params["VocabularyFilterName"]
    words = _filter_words(account_id, region, params)
    bucket = f"aws-transcribe-dictionary-model-{region}-prod"
    key = f"{account_id}/{name}/{uuid.uuid4()}/input.txt"
    with _lock:
        if name in _table(account_id, region, "vocabulary_filters"):
            raise ConflictError(FILTER_EXISTS)
    if not s3.bucket_exists(account_id, region, bucket):
        s3.backend(account_id, region).create_bucket(bucket, region)
    s3.put_object(
        account_id,
        region,
        bucket,
        key,
        body="\n".join(words).encode(),
        content_type="text/plain",
    )
    s3.signer(endpoint, region)
    entry = VocabularyFilter(
        name=name,
        language_code=params["LanguageCode"],
        words=words,
        last_modified=datetime.now(UTC),
        download_key=key,
        tags=params.get("Tags"),
    )
    with _lock:
        table = _table(account_id, region, "vocabulary_filters")
        if name in table:
            raise ConflictError(FILTER_EXISTS)
        table[name] = entry
    return entry.summary()


def find_vocabulary_filter(account_id: str, region: str, name: str) -> VocabularyFilter | None:
    """The named filter, None when there is none."""
    with _lock:
        found: VocabularyFilter | None = _table(account_id, region, "vocabulary_filters").get(name)
        return found


def get_vocabulary_filter(account_id: str, region: str, name: str, endpoint: str) -> dict[str, Any]:
    """GetVocabularyFilter: the filter and a presigned URL of its words."""
    entry = find_vocabulary_filter(account_id, region, name)
    if entry is None:
        raise BadRequestError(FILTER_NOT_FOUND)
    bucket = f"aws-transcribe-dictionary-model-{region}-prod"
    return {
        **entry.summary(),
        "DownloadUri": s3.presign(endpoint, region, bucket, entry.download_key),
    }


def list_vocabulary_filters(
    account_id: str,
    region: str,
    *,
    name_contains: str | None,
    next_token: str | None,
    max_results: int | None,
) -> dict[str, Any]:
    """ListVocabularyFilters: by name, NameContains not case sensitive."""
    filters = _listed(account_id, region, "vocabulary_filters", name_contains)
    page, token = _page(filters, next_token, max_results)
    return _listing("VocabularyFilters", [f.summary() for f in page], token)


def delete_vocabulary_filter(account_id: str, region: str, name: str) -> None:
    """DeleteVocabularyFilter."""
    _delete(account_id, region, "vocabulary_filters", name, FILTER_NOT_FOUND)


# --- language models -----------------------------------------------------------------------


def create_language_model(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """CreateLanguageModel: the model exists, COMPLETED, from now on."""
    name = params["ModelName"]
    entry = LanguageModel(
        name=name,
        language_code=params["LanguageCode"],
        base_model_name=params["BaseModelName"],
        input_data_config=params["InputDataConfig"],
        create_time=datetime.now(UTC),
        tags=params.get("Tags"),
    )
    with _lock:
        table = _table(account_id, region, "language_models")
        if name in table:
            raise ConflictError(MODEL_EXISTS)
        table[name] = entry
    # The real service answers while training starts.
    return {
        "LanguageCode": entry.language_code,
        "BaseModelName": entry.base_model_name,
        "ModelName": entry.name,
        "InputDataConfig": entry.input_data_config,
        "ModelStatus": "IN_PROGRESS",
    }


def find_language_model(account_id: str, region: str, name: str) -> LanguageModel | None:
    """The named language model, None when there is none."""
    with _lock:
        found: LanguageModel | None = _table(account_id, region, "language_models").get(name)
        return found


def describe_language_model(account_id: str, region: str, name: str) -> dict[str, Any]:
    """DescribeLanguageModel."""
    entry = find_language_model(account_id, region, name)
    if entry is None:
        raise BadRequestError(MODEL_NOT_FOUND)
    return {"LanguageModel": entry.describe()}


def list_language_models(
    account_id: str,
    region: str,
    *,
    status: str | None,
    name_contains: str | None,
    next_token: str | None,
    max_results: int | None,
) -> dict[str, Any]:
    """ListLanguageModels: by name, filtered by StatusEquals and NameContains."""
    models = [
        m
        for m in _listed(account_id, region, "language_models", name_contains)
        if status is None or m.status == status
    ]
    page, token = _page(models, next_token, max_results)
    return _listing("Models", [m.describe() for m in page], token)


def delete_language_model(account_id: str, region: str, name: str) -> None:
    """DeleteLanguageModel."""
    _delete(account_id, region, "language_models", name, MODEL_NOT_FOUND)
