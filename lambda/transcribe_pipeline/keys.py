"""Object keys: decoding, validation and job names (the output layout is in layout.py)."""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote_plus, unquote_plus

# Amazon Transcribe batch media formats; the extension decides the format.
MEDIA_FORMATS = {
    "mp3": "mp3",
    "mp4": "mp4",
    "wav": "wav",
    "flac": "flac",
    "ogg": "ogg",
    "amr": "amr",
    "webm": "webm",
    "m4a": "m4a",
}
MAX_MEDIA_BYTES = 2 * 1024**3  # Transcribe rejects files over 2 GB.
MAX_S3_KEY_BYTES = 1024
# Use with fullmatch: with match, "$" would also accept a name ending in a line break.
JOB_NAME_PATTERN = re.compile(r"[0-9a-zA-Z._-]{1,200}")
_HASH_CHARS = 16
_STEM_CHARS = 64


class RejectionClass(enum.StrEnum):
    """Why an upload was refused, in a few classes (the RejectedInputs metric's dimension)."""

    FOLDER = "folder"
    EXTENSION = "extension"
    EMPTY = "empty"
    TOO_LARGE = "too-large"
    URI_TOO_LONG = "uri-too-long"
    GONE = "gone"
    TRANSCRIBE_REFUSED = "transcribe-refused"
    MEDIA_TOO_LONG = "media-too-long"


@dataclass(frozen=True)
class Rejection:
    """An upload that can never be transcribed: its class and a reason for people."""

    reason_class: RejectionClass
    reason: str


@dataclass(frozen=True)
class S3Object:
    """One version of an uploaded object, as an S3 "Object Created" event names it."""

    bucket: str
    key: str
    size: int | None = None
    version_id: str | None = None
    etag: str | None = None

    @property
    def uri(self) -> str:
        """The ``s3://`` URI Transcribe reads (the raw key: Transcribe does no URL decoding)."""
        return f"s3://{self.bucket}/{self.key}"

    @property
    def media_format(self) -> str | None:
        """Transcribe's MediaFormat for the key's extension (case-insensitive), or None."""
        _, dot, extension = self.key.rpartition(".")
        return MEDIA_FORMATS.get(extension.lower()) if dot else None


# S3 writes object keys into its events form-encoded, "/" kept (docs/s3-event-keys.md). This
# pair is the one place that rule lives: the functions decode with it, the upload rule's prefix
# filter (stacks/job_starter.py) and the local cloud's S3 events encode with it.
_EVENT_KEY_SAFE = "/"


def encode_event_key(key: str) -> str:
    """Encode a key as S3 writes it into event notifications (``red flower`` -> ``red+flower``)."""
    return quote_plus(key, safe=_EVENT_KEY_SAFE)


def decode_event_key(raw: str) -> str:
    """Decode a key as S3 event notifications encode it: exactly once, ``+`` meaning space."""
    return unquote_plus(raw)


def rejection(obj: S3Object) -> Rejection | None:
    """Why the object can never be transcribed, or None when it may be sent to Transcribe."""
    if obj.key.endswith("/"):
        return Rejection(
            RejectionClass.FOLDER,
            "The object is a folder marker (its key ends with '/'), not a media file.",
        )
    if obj.media_format is None:
        allowed = ", ".join(sorted(MEDIA_FORMATS))
        return Rejection(
            RejectionClass.EXTENSION,
            f"Unsupported file extension; Amazon Transcribe accepts: {allowed}.",
        )
    if obj.size is not None and obj.size == 0:
        return Rejection(RejectionClass.EMPTY, "The object is empty (0 bytes).")
    if obj.size is not None and obj.size > MAX_MEDIA_BYTES:
        return Rejection(
            RejectionClass.TOO_LARGE,
            f"The object is {obj.size} bytes; Amazon Transcribe accepts at most 2 GB.",
        )
    if len(obj.uri) > 2000:
        return Rejection(
            RejectionClass.URI_TOO_LONG,
            "The object's S3 URI is longer than the 2000 characters Transcribe accepts.",
        )
    return None


def rejection_reason(obj: S3Object) -> str | None:
    """The reason of :func:`rejection`, or None when the object may be sent to Transcribe."""
    refused = rejection(obj)
    return refused.reason if refused else None


def is_job_name(name: str) -> bool:
    """Whether ``name`` is a job name Transcribe accepts (the whole string, no line break)."""
    return JOB_NAME_PATTERN.fullmatch(name) is not None


def job_name_for(obj: S3Object, *, prefix: str, attempt: int = 1) -> str:
    """The deterministic job name of one object version and attempt: prefix, stem, hash.

    Attempt 1 (the upload's own job) has no suffix, so jobs started before attempts existed
    keep their names; a `reprocess` attempt n ends with ``-r<n>``.
    """
    if attempt < 1:
        raise ValueError(f"A job attempt counts from 1, got {attempt}")
    identity = "\0".join((obj.bucket, obj.key, obj.version_id or obj.etag or ""))
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    suffix = "" if attempt == 1 else f"-r{attempt}"
    stem = _readable_stem(obj.key)
    room = 200 - len(prefix) - len(digest) - len(suffix) - 1
    stem = stem[: max(0, min(room, _STEM_CHARS))].strip("-._")
    return f"{prefix}{stem}-{digest}{suffix}" if stem else f"{prefix}{digest}{suffix}"


def _readable_stem(key: str) -> str:
    """ASCII letters, digits and ``._-`` from the file name, other runs collapsed to ``-``."""
    file_name = key.rsplit("/", 1)[-1]
    base = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    ascii_text = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^0-9a-zA-Z._-]+", "-", ascii_text).strip("-._")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into bucket and key; ValueError for anything else."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"Not an s3://bucket/key URI: {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    if not bucket or not key:
        raise ValueError(f"Not an s3://bucket/key URI: {uri!r}")
    return bucket, key
