"""The base of the resource models the local cloud implements itself (moto has none for them)."""

from __future__ import annotations

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
