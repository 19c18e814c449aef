"""NextToken values of the local Transcribe's List* operations: opaque, and checked on return."""

from __future__ import annotations

import base64
import binascii
import logging

from localcloud.transcribe.errors import BadRequestError

LOG = logging.getLogger(__name__)
INVALID_TOKEN = "The NextToken is not valid. Check the token and try your request again."


def encode_token(kind: str, position: int) -> str:
    """A NextToken for ``position`` in a listing of ``kind`` (a token names what it pages)."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode()


def decode_token(kind: str, token: str) -> int:
    """The position a NextToken of ``kind`` holds; BadRequestError for any other token."""
    try:
        prefix, _, position = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if prefix == kind:
            return int(position)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        LOG.debug("bad NextToken %r", token)
    raise BadRequestError(INVALID_TOKEN)
