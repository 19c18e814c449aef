"""Resource types the local cloud records in the stack but does not emulate.

moto logs and drops a type it does not model, so the resource vanishes from the stack. Here it
is recorded as a placeholder with a warning, so that ``DescribeStackResources`` lists it and the
gap is visible.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from localcloud.cloudformation.model_base import LocalModel

logger = logging.getLogger(__name__)

# Types the pipeline does not depend on for its behaviour; any other type moto lacks is handled
# the same way.
PLACEHOLDER_TYPES = (
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::Scheduler::Schedule",
)
# CDK's version-reporting resource: CloudFormation itself treats it as a no-op.
CDK_METADATA_TYPE = "AWS::CDK::Metadata"


class PlaceholderResource(LocalModel):
    """A resource type the local cloud records but does not emulate."""

    resource_type = "AWS::LocalCloud::Placeholder"

    def __init__(self, physical_id: str, properties: dict[str, Any]) -> None:
        self.physical_id = physical_id
        self.properties = properties

    @classmethod
    def cloudformation_type(cls) -> str:
        """The resource type this placeholder stands for."""
        return cls.resource_type

    @property
    def physical_resource_id(self) -> str:
        """The generated physical id."""
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        """Accept any attribute; the value is unknown."""
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        """Attributes of placeholders are unknown."""
        logger.warning(
            "%s has no attribute values locally (%s)", self.resource_type, attribute_name
        )
        return None

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> PlaceholderResource:
        """Record the resource and warn that it has no effect locally."""
        if cls.resource_type != CDK_METADATA_TYPE:
            logger.warning(
                "%s %s is recorded but not emulated by the local cloud (known gap)",
                cls.resource_type,
                kwargs.get("LogicalId", resource_name),
            )
        return cls(resource_name, cloudformation_json.get("Properties", {}))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: PlaceholderResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> PlaceholderResource:
        """Keep the physical id, record the new properties."""
        original_resource.properties = cloudformation_json.get("Properties", {})
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        """Nothing exists to delete."""


_placeholder_classes: dict[str, type[PlaceholderResource]] = {}


def placeholder_class(resource_type: str) -> type[PlaceholderResource]:
    """The placeholder model of one resource type (one class per type, made once)."""
    cls = _placeholder_classes.get(resource_type)
    if cls is None:
        name = "Placeholder_" + re.sub(r"\W", "_", resource_type)
        cls = type(name, (PlaceholderResource,), {"resource_type": resource_type})
        _placeholder_classes[resource_type] = cls
    return cls
