"""CloudFormation for the local cloud (being split into modules; see custom_resources)."""

from localcloud.cloudformation.custom_resources import (
    dependency_order,
    install,
    stringify_properties,
    wait_for_idle,
)

__all__ = ["dependency_order", "install", "stringify_properties", "wait_for_idle"]
