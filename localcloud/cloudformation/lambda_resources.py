"""Lambda resources: the function properties moto's CloudFormation drops, and EventInvokeConfig.

- ``AWS::Lambda::Function``: moto's create drops ``Layers``, ``LoggingConfig``,
  ``DeadLetterConfig`` and ``Architectures``, and its in-place update of inline code fails;
- ``AWS::Lambda::EventInvokeConfig``: not modelled by moto; stored on the function, where
  ``localcloud.lambda_invoke``'s asynchronous invoke reads it.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import UnknownEventConfig, UnknownFunctionException
from moto.awslambda.utils import get_backend as get_lambda_backend

from localcloud.cloudformation.model_base import LocalModel, extend_create

logger = logging.getLogger(__name__)

# Function properties moto's CloudFormation create drops. They are applied through the
# function's own update_configuration (what UpdateFunctionConfiguration uses), so the Lambda
# model's rules apply: localcloud.lambda_config accepts layers the local cloud does not have
# (AWS-managed ones such as Powertools) and keeps LoggingConfig and DeadLetterConfig.
_FUNCTION_CONFIG_PROPERTIES = ("Layers", "LoggingConfig", "DeadLetterConfig")


class EventInvokeConfigResource(LocalModel):
    """AWS::Lambda::EventInvokeConfig, stored where moto's PutFunctionEventInvokeConfig puts it."""

    _CONFIG_KEYS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")

    def __init__(self, function_name: str, qualifier: str) -> None:
        self.function_name = function_name
        self.qualifier = qualifier

    @staticmethod
    def cloudformation_type() -> str:
        """The CloudFormation type implemented here."""
        return "AWS::Lambda::EventInvokeConfig"

    @property
    def physical_resource_id(self) -> str:
        """Function and qualifier, which identify the configuration."""
        return f"{self.function_name}:{self.qualifier}"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        """The type has no attributes."""
        return False

    @classmethod
    def _put(cls, properties: dict[str, Any], account_id: str, region_name: str) -> str:
        backend = get_lambda_backend(account_id, region_name)
        function_name = properties["FunctionName"]
        config = {key: properties[key] for key in cls._CONFIG_KEYS if key in properties}
        function = backend.get_function(function_name)
        # moto appends on every put and reads the first entry: start empty so an update takes
        # effect (lambda_invoke's put replaces too; its async invoke reads what is stored here).
        function.event_invoke_config = []
        backend.put_function_event_invoke_config(function_name, config)
        return str(function.function_name)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EventInvokeConfigResource:
        """Store the configuration on the function."""
        properties = cloudformation_json["Properties"]
        name = cls._put(properties, account_id, region_name)
        return cls(name, str(properties.get("Qualifier", "$LATEST")))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: EventInvokeConfigResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> EventInvokeConfigResource:
        """Replace the stored configuration."""
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        """Remove the configuration; a function that is already gone took it with it."""
        backend = get_lambda_backend(account_id, region_name)
        try:
            backend.delete_function_event_invoke_config(self.function_name)
        except (UnknownEventConfig, UnknownFunctionException):
            logger.debug("event invoke config of %s already gone", self.function_name)


def _apply_dropped_properties(
    function: lambda_models.LambdaFunction,
    properties: dict[str, Any],
    account_id: str,
    region_name: str,
) -> None:
    extra = {key: properties[key] for key in _FUNCTION_CONFIG_PROPERTIES if key in properties}
    if extra:
        function.update_configuration(extra)
    if "Architectures" in properties:
        function.architectures = properties["Architectures"]


def patch_lambda_function() -> None:
    """Keep the function properties moto's create drops; let inline code be updated in place."""
    function_cls = lambda_models.LambdaFunction
    original_update = function_cls.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def update(  # noqa: PLR0917 - moto's update_from_cloudformation_json signature
        cls: type[lambda_models.LambdaFunction],
        original_resource: lambda_models.LambdaFunction,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> lambda_models.LambdaFunction:
        properties = cloudformation_json["Properties"]
        code = dict(properties["Code"])
        if "ZipFile" in code:
            # Inline code is plain text in templates; moto's update decodes it as a base64 zip,
            # which only its create path builds.
            code["ZipFile"] = base64.b64encode(
                cls._create_zipfile_from_plaintext_code(code["ZipFile"])
            )
        updated = dict(cloudformation_json, Properties=dict(properties, Code=code))
        return original_update(
            cls, original_resource, new_resource_name, updated, account_id, region_name
        )

    extend_create(function_cls, _apply_dropped_properties)
    function_cls.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign,assignment]
