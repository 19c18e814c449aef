"""The errors of the Transcribe API, with the real service's messages."""

from __future__ import annotations

from typing import ClassVar

from moto.core.exceptions import JsonRESTError

NOT_FOUND_MESSAGE = (
    "The requested job couldn't be found. Check the job name and try your request again."
)
CONFLICT_MESSAGE = "The requested job name already exists. Use a different job name."
MEDIA_ACCESS_MESSAGE = (
    "The S3 URI that you provided can't be accessed. Make sure that you have read "
    "permission and try your request again."
)
# LimitExceededException's documented text, which names both of its causes
# (docs/transcribe-api.md, "Errors").
START_RATE_MESSAGE = (
    "You've either sent too many requests or your input file is too long. Wait before "
    "retrying your request, or use a smaller file and try your request again."
)


class TranscribeError(JsonRESTError):
    """An error of the Transcribe API (HTTP 400); moto's JsonRESTError writes the JSON body."""

    error_name: ClassVar[str]
    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(self.error_name, self.default_message if message is None else message)


class BadRequestError(TranscribeError):
    """The request is invalid."""

    error_name = "BadRequestException"


class ConflictError(TranscribeError):
    """A job with that name already exists."""

    error_name = "ConflictException"
    default_message = CONFLICT_MESSAGE


class LimitExceededError(TranscribeError):
    """Too many jobs, or too many calls."""

    error_name = "LimitExceededException"


class NotFoundError(TranscribeError):
    """No job with that name."""

    error_name = "NotFoundException"
    default_message = NOT_FOUND_MESSAGE
