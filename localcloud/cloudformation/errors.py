"""The failures the engine reports on a stack, in the words CloudFormation users search for."""

from __future__ import annotations


class ResourceOperationError(Exception):
    """A resource could not be created, updated or deleted; the reason is user-facing."""

    def __init__(self, logical_id: str, reason: str) -> None:
        super().__init__(f"{logical_id}: {reason}")
        self.logical_id = logical_id
        self.reason = reason


class BucketNotEmptyError(Exception):
    """A bucket still holds objects when its stack deletes it."""


def failure_reason(exc: Exception) -> str:
    """The reason a stack event shows for a failure: its own wording, or its type and message."""
    if isinstance(exc, ResourceOperationError):
        return exc.reason
    if isinstance(exc, BucketNotEmptyError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
