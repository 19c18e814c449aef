"""Which resources of a template depend on which, and the order that follows from it."""

from __future__ import annotations

import re
from typing import Any


def _references(node: Any, names: set[str], found: set[str]) -> None:
    """Collect the logical ids a template fragment refers to (Ref, GetAtt, Sub)."""
    if isinstance(node, list):
        for item in node:
            _references(item, names, found)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            if value in names:
                found.add(value)
        elif key == "Fn::GetAtt":
            target = value[0] if isinstance(value, list) else str(value).split(".")[0]
            if target in names:
                found.add(target)
        elif key == "Fn::Sub":
            text = value[0] if isinstance(value, list) else value
            if isinstance(text, str):
                for match in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    target = match.split(".")[0]
                    if target in names:
                        found.add(target)
            if isinstance(value, list) and len(value) > 1:
                _references(value[1], names, found)
        else:
            _references(value, names, found)


def dependencies(resources: dict[str, Any]) -> dict[str, set[str]]:
    """Map each logical id to the resources it depends on (DependsOn, Ref, GetAtt, Sub)."""
    names = set(resources)
    result: dict[str, set[str]] = {}
    for logical_id, definition in resources.items():
        found: set[str] = set()
        depends_on = definition.get("DependsOn", [])
        found.update(d for d in ([depends_on] if isinstance(depends_on, str) else depends_on))
        _references(definition.get("Properties", {}), names, found)
        result[logical_id] = (found & names) - {logical_id}
    return result


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """Order logical ids so that every resource comes after what it depends on."""
    depends = dependencies(resources)
    ordered: list[str] = []
    visiting: set[str] = set()
    placed: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in placed or logical_id in visiting:
            # A cycle is a template error CloudFormation rejects; keep going rather than hang.
            return
        visiting.add(logical_id)
        for dependency in sorted(depends[logical_id]):
            visit(dependency)
        visiting.discard(logical_id)
        placed.add(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return ordered
