"""The function settings moto's Lambda API drops, kept so that the local cloud can honour them.

moto stores no DeadLetterConfig or LoggingConfig of a function and rejects layers that are not
its own layer versions. `install()` keeps both settings on the function (on create, on
update, and in GetFunctionConfiguration), points the function's log group at the
LoggingConfig's, and accepts any layer ARN: one published to the local cloud is extracted
for the function (`lambda_processes`), any other (such as the AWS-managed Powertools layer) is
served by the project's own environment. `localcloud.cloudformation` does the same for
templates; docs/local-cloud.md describes the extension points.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda.models import LambdaFunction
from moto.awslambda.utils import get_backend as get_lambda_backend

logger = logging.getLogger(__name__)

_originals: dict[str, Any] = {}
_lock = threading.Lock()


def install() -> None:
    """Patch moto's LambdaFunction to keep these settings (idempotent)."""
    with _lock:
        if _originals:
            return
        _originals.update(
            {
                "_get_layers_data": LambdaFunction._get_layers_data,
                "__init__": LambdaFunction.__init__,
                "update_configuration": LambdaFunction.update_configuration,
                "get_configuration": LambdaFunction.get_configuration,
            }
        )
    LambdaFunction._get_layers_data = _patched_get_layers_data  # type: ignore[method-assign]
    LambdaFunction.__init__ = _patched_init  # type: ignore[method-assign]
    LambdaFunction.update_configuration = _patched_update_configuration  # type: ignore[method-assign]
    LambdaFunction.get_configuration = _patched_get_configuration  # type: ignore[method-assign]


def _patched_get_layers_data(
    self: LambdaFunction, layers_versions_arns: list[str]
) -> list[lambda_models.LayerDataType]:
    # Layers published to this local cloud are moto layer versions; anything else (such as the
    # AWS-managed Powertools layer) is served from the project's own environment instead.
    backend = get_lambda_backend(self.account_id, self.region)
    data: list[lambda_models.LayerDataType] = []
    for arn in layers_versions_arns:
        layer_version = backend.layers_versions_by_arn(arn) if ":layer:" in arn else None
        if layer_version is None:
            logger.info("Layer %s is served from the local environment", arn)
            data.append({"Arn": arn, "CodeSize": 0})
        else:
            data.append({"Arn": layer_version.arn, "CodeSize": layer_version.code_size})
    return data


def _patched_init(self: LambdaFunction, *args: Any, **kwargs: Any) -> None:
    _originals["__init__"](self, *args, **kwargs)
    spec = kwargs.get("spec") if "spec" in kwargs else (args[1] if len(args) > 1 else {})
    _apply_extra_settings(self, spec or {})


def _patched_update_configuration(
    self: LambdaFunction, config_updates: dict[str, Any]
) -> dict[str, Any]:
    _apply_extra_settings(self, config_updates)
    result: dict[str, Any] = _originals["update_configuration"](self, config_updates)
    return result


def _patched_get_configuration(self: LambdaFunction, on_create: bool = False) -> dict[str, Any]:
    config: dict[str, Any] = _originals["get_configuration"](self, on_create)
    dead_letter = getattr(self, "dead_letter_config", None)
    if dead_letter:
        config["DeadLetterConfig"] = dead_letter
    logging_config = getattr(self, "logging_config", None)
    if logging_config:
        config["LoggingConfig"] = logging_config
    return config


def _apply_extra_settings(fn: LambdaFunction, spec: Mapping[str, Any]) -> None:
    if "DeadLetterConfig" in spec:
        fn.dead_letter_config = spec["DeadLetterConfig"] or None  # type: ignore[attr-defined]
    elif not hasattr(fn, "dead_letter_config"):
        fn.dead_letter_config = None  # type: ignore[attr-defined]
    if "LoggingConfig" in spec:
        fn.logging_config = spec["LoggingConfig"] or None  # type: ignore[attr-defined]
    elif not hasattr(fn, "logging_config"):
        fn.logging_config = None  # type: ignore[attr-defined]
    logging_config = getattr(fn, "logging_config", None) or {}
    fn.logs_group_name = logging_config.get("LogGroup") or f"/aws/lambda/{fn.function_name}"
