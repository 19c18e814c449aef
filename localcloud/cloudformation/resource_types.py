"""Which model creates each resource type: moto's, a patched one, or a local one.

The single switch point for resource types: custom resources go to the engine's
``LocalCustomResource``, ``AWS::Lambda::EventInvokeConfig`` to its local model, and every type
moto does not model to a placeholder (``placeholders``) instead of being dropped.
"""

from __future__ import annotations

from moto.cloudformation import parsing
from moto.cloudformation.custom_model import CustomModel
from moto.core.common_models import CloudFormationModel

from localcloud.cloudformation.custom_resources import CUSTOM_RESOURCE_TYPE
from localcloud.cloudformation.dynamodb_table import patch_dynamodb_table
from localcloud.cloudformation.lambda_resources import (
    EventInvokeConfigResource,
    patch_lambda_function,
)
from localcloud.cloudformation.placeholders import (
    CDK_METADATA_TYPE,
    PLACEHOLDER_TYPES,
    placeholder_class,
)
from localcloud.cloudformation.s3_bucket import patch_s3_bucket


def patch_resource_models() -> None:
    """Route resource types to their models and patch the models moto gets wrong."""
    original_class_from_type = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> type[CloudFormationModel]:
        if resource_type == CUSTOM_RESOURCE_TYPE:
            return CustomModel
        if resource_type == EventInvokeConfigResource.cloudformation_type():
            return EventInvokeConfigResource
        if resource_type in PLACEHOLDER_TYPES or resource_type == CDK_METADATA_TYPE:
            return placeholder_class(resource_type)
        if resource_type in parsing.NULL_MODELS or resource_type.startswith("Custom::"):
            return original_class_from_type(resource_type)
        if resource_type not in parsing.get_model_map():
            # moto would log and drop it; record it instead (with a warning, once per resource).
            return placeholder_class(resource_type)
        return original_class_from_type(resource_type)

    parsing.resource_class_from_type = resource_class_from_type
    patch_lambda_function()
    patch_s3_bucket()
    patch_dynamodb_table()
