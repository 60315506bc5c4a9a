"""A griffe extension for the API reference: the operation groups' methods as users call them.

A group class binds each operation from a builder (``create = sync_call(KIND.create)``), so a
static reading of the source sees an attribute, not a method; the signature and the docstring
(with the container kind filled in, e.g. "large person group") exist only at run time. This
extension replaces those attributes with what ``inspect`` sees on the imported class, so
``client.large_person_groups.create`` is documented with its parameters and its REST route.

Registered in mkdocs.yml (``extensions: [scripts/docs_griffe.py:OperationGroups]``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import griffe

# The modules whose classes bind operations: the groups, and the Content Safety clients'
# ``analyze_text``.
MODULES = ("faceguard._operations._groups", "faceguard._client")


@functools.cache
def _inspected(module: str) -> griffe.Module:
    return griffe.inspect(module, docstring_parser="google")


class OperationGroups(griffe.Extension):
    """Swap each bound operation of a group class for its run-time (inspected) method."""

    def on_class_members(self, *, cls: griffe.Class, **_kwargs: Any) -> None:
        if cls.module.path not in MODULES:
            return
        runtime = _inspected(cls.module.path)[cls.name]
        for name, member in list(cls.members.items()):
            if not member.is_attribute or name.startswith("_"):
                continue
            found = runtime.members.get(name)
            if isinstance(found, griffe.Function):
                for parameter in found.parameters:
                    parameter.default = _as_written(parameter.default)
                cls.set_member(name, found)


def _as_written(default: Any) -> Any:
    """An enum default as code names it (``DetectionModel.DETECTION_03``), not its repr
    (``<DetectionModel.DETECTION_03: 'detection_03'>``)."""
    if isinstance(default, str):
        return re.sub(r"<(\w+\.\w+): [^<>]*>", r"\1", default)
    return default
