"""The base of faceguard's string enums: a member prints as its wire value.

``str`` and f-strings give ``"no_face"``, not ``"SkipReason.NO_FACE"``, on every supported
Python (3.11 changed how mixed-in enums format; this pins one behaviour), so a value can go
into a message, a log line or a query without ``.value``.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["WireEnum"]


class WireEnum(str, Enum):
    """A string enum that prints as its value (``str(x) == f"{x}" == x.value``)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)
