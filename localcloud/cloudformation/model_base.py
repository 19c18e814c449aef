"""What the resource models share: a base for the local ones, a hook for patching moto's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.common_models import CloudFormationModel


class LocalModel(CloudFormationModel):
    """A resource without a name property that exists once created and deletes itself."""

    @staticmethod
    def cloudformation_name_type() -> str:
        """No name property: CloudFormation generates the physical id."""
        return ""

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        """Unused: the stack deletes the instance it holds (see ``delete``)."""

    def is_created(self) -> bool:
        """Complete at once."""
        return True


def extend_create(
    model_cls: type[Any], then: Callable[[Any, dict[str, Any], str, str], None]
) -> None:
    """Patch a moto model's CloudFormation create to finish what moto's create leaves out.

    ``then(resource, properties, account_id, region_name)`` runs on each resource created.
    """
    original = model_cls.create_from_cloudformation_json.__func__

    def create(
        cls: type[Any],
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        resource = original(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        then(resource, cloudformation_json.get("Properties", {}), account_id, region_name)
        return resource

    model_cls.create_from_cloudformation_json = classmethod(create)
