"""Choosing what to upload (refusing what the pipeline would reject) and uploading it."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_cli import last_upload
from pipeline_cli.last_upload import Upload
from transcribe_pipeline.keys import MAX_S3_KEY_BYTES, S3Object, rejection_reason


@dataclass(frozen=True)
class PlannedUpload:
    """A local file and the key it gets in the input bucket."""

    path: Path
    key: str
    size: int


@dataclass(frozen=True)
class Refusal:
    """A path that will not be uploaded, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Plan:
    """What to upload; what was refused (named files: an error) or skipped (folder content)."""

    uploads: list[PlannedUpload]
    refused: list[Refusal]
    skipped: list[Refusal]


def normalize_prefix(prefix: str) -> str:
    """``talks`` and ``talks/`` both mean the folder ``talks/``; no leading slash."""
    prefix = prefix.strip().lstrip("/")
    return f"{prefix}/" if prefix and not prefix.endswith("/") else prefix


def plan_uploads(paths: Sequence[Path], *, prefix: str = "") -> Plan:
    """Map files to keys (``<prefix><name>``, ``<prefix><folder>/<path>``) and check them."""
    prefix = normalize_prefix(prefix)
    uploads: list[PlannedUpload] = []
    refused: list[Refusal] = []
    skipped: list[Refusal] = []
    for path in paths:
        if path.is_dir():
            root = path.resolve()
            for file in sorted(p for p in root.rglob("*") if p.is_file()):
                key = f"{prefix}{root.name}/{file.relative_to(root).as_posix()}"
                _check(file, key, uploads, skipped)
        elif path.is_file():
            _check(path, f"{prefix}{path.name}", uploads, refused)
        else:
            refused.append(Refusal(path, "No such file or folder."))
    seen: dict[str, Path] = {}
    for upload in uploads:
        if upload.key in seen:
            refused.append(Refusal(upload.path, f"Same key {upload.key!r} as {seen[upload.key]}."))
        seen.setdefault(upload.key, upload.path)
    return Plan(uploads, refused, skipped)


def local_rejection(key: str, size: int) -> str | None:
    """Why the pipeline would reject this file (the pipeline's own rules), or None."""
    if len(key.encode("utf-8")) > MAX_S3_KEY_BYTES:
        return f"The key is longer than S3's {MAX_S3_KEY_BYTES} bytes."
    # The bucket only matters to the URI-length rule, which a key of <= 1024 bytes never reaches.
    return rejection_reason(S3Object(bucket="", key=key, size=size))


def _check(path: Path, key: str, uploads: list[PlannedUpload], refusals: list[Refusal]) -> None:
    size = path.stat().st_size
    reason = local_rejection(key, size)
    if reason is None:
        uploads.append(PlannedUpload(path, key, size))
    else:
        refusals.append(Refusal(path, reason))


def upload_file(
    s3: Any, bucket: str, planned: PlannedUpload, *, on_bytes: Callable[[int], None]
) -> Upload:
    """Upload one file (multipart above 8 MB, boto3's default) and return its version."""
    content_type, _ = mimetypes.guess_type(planned.path.name)
    extra = {"ContentType": content_type} if content_type else {}
    s3.upload_file(
        str(planned.path), bucket, planned.key, ExtraArgs=extra or None, Callback=on_bytes
    )
    head = s3.head_object(Bucket=bucket, Key=planned.key)
    version = head.get("VersionId")
    return Upload(key=planned.key, version_id=None if version in (None, "null") else version)


def upload_all(
    s3: Any,
    bucket: str,
    planned: Sequence[PlannedUpload],
    *,
    progress: Callable[[PlannedUpload], Callable[[int], None]],
) -> list[Upload]:
    """Upload each file in turn and remember them as the last upload (``wait``'s default).

    ``progress`` gives each file's byte callback. What reached the bucket is remembered even
    when a later file fails: it is worth waiting for.
    """
    uploaded: list[Upload] = []
    try:
        for item in planned:
            uploaded.append(upload_file(s3, bucket, item, on_bytes=progress(item)))
    finally:
        if uploaded:
            last_upload.remember(bucket, uploaded)
    return uploaded
