"""Finding the deployed pipeline: credentials, endpoint, clients and the stack's outputs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from pipeline_cli.errors import CliError, ExitCode
from transcribe_pipeline.clients import error_code
from transcribe_pipeline.stack_outputs import DEFAULT_STACK_NAME, MissingOutputError, StackOutputs

LOCAL_ENDPOINT = "http://localhost:4566"
LOCAL_REGION = "us-east-1"
# The local cloud accepts any credentials; these are the ones its README exports.
LOCAL_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=5,
    read_timeout=60,
    user_agent_extra="transcribe-pipeline-cli",
)


@dataclass(frozen=True)
class Target:
    """Where to look: the stack name and the AWS account/region or local cloud holding it."""

    stack: str = DEFAULT_STACK_NAME
    profile: str | None = None
    region: str | None = None
    local: bool = False
    endpoint_url: str | None = None

    @property
    def endpoint(self) -> str | None:
        """The endpoint to call; None lets boto3 choose (it honours AWS_ENDPOINT_URL itself)."""
        if self.endpoint_url:
            return self.endpoint_url
        if self.local:
            return os.environ.get("AWS_ENDPOINT_URL") or LOCAL_ENDPOINT
        return None


@dataclass
class Clients:
    """boto3 clients for one target, created on first use."""

    target: Target
    _session: boto3.Session = field(init=False, repr=False)
    _clients: dict[str, Any] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.target.local:
            self._session = boto3.Session(
                region_name=self.target.region or LOCAL_REGION, **LOCAL_CREDENTIALS
            )
        else:
            self._session = boto3.Session(
                profile_name=self.target.profile, region_name=self.target.region
            )

    @property
    def region(self) -> str | None:
        """The region the clients call."""
        return self._session.region_name

    def __call__(self, service: str, *, config: Config | None = None) -> Any:
        """The client of ``service`` (a fresh one when ``config`` is given)."""
        if config is not None:
            return self._session.client(
                service, endpoint_url=self.target.endpoint, config=_CONFIG.merge(config)
            )
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service, endpoint_url=self.target.endpoint, config=_CONFIG
            )
        return self._clients[service]

    def where(self) -> str:
        """Where the stack was looked for, for messages: region and endpoint."""
        place = f"region {self.region or '?'}"
        return f"{place} at {self.target.endpoint}" if self.target.endpoint else place


def find_pipeline(clients: Clients) -> StackOutputs:
    """Read the stack's outputs; CliError when there is no such stack or it is not a pipeline."""
    name = clients.target.stack
    try:
        answer = clients("cloudformation").describe_stacks(StackName=name)
    except ClientError as error:
        message = str(error.response.get("Error", {}).get("Message", ""))
        if error_code(error) == "ValidationError" and "does not exist" in message:
            raise CliError(
                f"Stack {name!r} not found in {clients.where()}.",
                ExitCode.NOT_FOUND,
                hint="Deploy it with `npx cdk deploy` (`make deploy-local` for the local "
                "cloud), or name the stack with --stack.",
            ) from error
        raise
    try:
        return StackOutputs.from_describe_stacks(answer)
    except MissingOutputError as error:
        raise CliError(str(error), ExitCode.NOT_FOUND) from error
