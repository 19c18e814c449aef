"""Errors the CLI reports in one line, each kind with its own exit code."""

from __future__ import annotations

import enum
from urllib.parse import urlsplit

from boto3.exceptions import S3UploadFailedError
from botocore import exceptions as boto

from transcribe_pipeline.clients import error_code


class ExitCode(enum.IntEnum):
    """Exit codes, stable for scripts (also listed in ``--help``)."""

    OK = 0
    FAILED = 1  # an input failed, or AWS refused an operation
    USAGE = 2  # bad options or arguments, refused files (as click reports usage errors)
    NOT_FOUND = 3  # no such stack, input or result
    UNREACHABLE = 4  # no credentials, credentials refused, endpoint not answering
    TIMEOUT = 5  # `wait --timeout` passed with inputs still pending


class CliError(Exception):
    """A failure to report as ``error: <message>`` (plus a hint) and an exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint


_CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "AuthFailure",
}
_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "AuthorizationError"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def translate(error: Exception) -> CliError | None:
    """The CliError for an AWS SDK failure a user can act on, or None for anything else."""
    if isinstance(error, boto.NoCredentialsError | boto.PartialCredentialsError):
        return CliError(
            "No AWS credentials found.",
            ExitCode.UNREACHABLE,
            hint="Configure them (aws configure, AWS_PROFILE, AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY), pass --profile, or use --local for the local cloud.",
        )
    if isinstance(error, boto.SSOError | boto.TokenRetrievalError | boto.CredentialRetrievalError):
        return CliError(
            f"Could not get AWS credentials: {error}",
            ExitCode.UNREACHABLE,
            hint="For an SSO profile, run `aws sso login` first.",
        )
    if isinstance(error, boto.ProfileNotFound):
        return CliError(
            str(error), ExitCode.USAGE, hint="List profiles with `aws configure list-profiles`."
        )
    if isinstance(error, boto.NoRegionError):
        return CliError(
            "No AWS region configured.",
            ExitCode.USAGE,
            hint="Pass --region or set AWS_REGION (the local cloud uses us-east-1).",
        )
    if isinstance(error, boto.ConnectionError | boto.ConnectionClosedError):
        return _unreachable(error)
    if isinstance(error, S3UploadFailedError):
        return CliError(f"Upload failed: {error}", ExitCode.FAILED)
    if isinstance(error, boto.ClientError):
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message") or str(error)
        if code in _CREDENTIAL_CODES:
            return CliError(
                f"AWS refused the credentials ({code}): {message}",
                ExitCode.UNREACHABLE,
                hint="Refresh them (e.g. `aws sso login`) or pass another --profile.",
            )
        if code in _DENIED_CODES:
            return CliError(f"Access denied: {message}", ExitCode.UNREACHABLE)
        operation = error.operation_name or "request"
        return CliError(f"{operation} failed ({code}): {message}", ExitCode.FAILED)
    return None


def is_not_found(error: boto.ClientError) -> bool:
    """Whether S3 (or another service) answered that the thing does not exist."""
    return error_code(error) in {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}


def _unreachable(error: Exception) -> CliError:
    url = str(getattr(error, "kwargs", {}).get("endpoint_url", ""))
    host = urlsplit(url).hostname or ""
    if host in LOCAL_HOSTS:
        port = urlsplit(url).port or 4566
        return CliError(
            f"Cannot connect to the local cloud at {url}: is it running?",
            ExitCode.UNREACHABLE,
            hint=f"Start it with `make local-up` (or `python -m localcloud up --port {port}`).",
        )
    return CliError(
        f"Cannot connect to {url or 'AWS'}: {error}",
        ExitCode.UNREACHABLE,
        hint="Check the network, --region and --endpoint-url / AWS_ENDPOINT_URL.",
    )
