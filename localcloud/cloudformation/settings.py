"""The local CloudFormation's tunables, set by ``install`` and read by the engine."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Settings:
    """Where custom resources answer and how long the engine waits for them and for stacks."""

    endpoint_url: str = "http://localhost:4566"
    custom_resource_timeout: float = 300.0
    operation_wait: float = 20.0
    # How long a custom-resource function may take to answer once its invocation has returned:
    # CDK's handlers send their answer before returning, so a short grace is enough.
    answer_grace: float = 5.0


# Process-wide, like the patches that read it; install() updates it in place.
settings = Settings()
