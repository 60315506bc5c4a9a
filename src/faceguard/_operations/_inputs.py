"""Argument rules of the REST contracts, checked before anything is sent.

Each check raises ``InvalidInputError`` naming the parameter and the rule (the rule names are
stable: tests and callers may branch on them) and returns the value as it goes on the wire.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from enum import Enum
from typing import TypeVar

from .._constants import (
    COLLECTION_ID_MAX,
    NAME_MAX,
)
from .._exceptions import InvalidInputError

__all__ = [
    "check_choice",
    "check_collection_id",
    "check_count",
    "check_float_range",
    "check_int_range",
    "check_length",
    "check_name",
    "check_pattern",
    "check_target_face",
    "check_text_id",
    "check_uuid",
    "check_uuid_list",
    "wire_bool",
]

E = TypeVar("E", bound=Enum)

_COLLECTION_ID = re.compile(r"^[a-z0-9\-_]+$")


def wire_bool(value: bool) -> str:
    """Booleans in a query string, as the service spells them."""
    return "true" if value else "false"


def check_length(parameter: str, value: str, *, maximum: int, minimum: int = 0) -> str:
    """A string of ``minimum``..``maximum`` Unicode code points."""
    if not isinstance(value, str):
        raise InvalidInputError(parameter, "type", f"must be a string, not {type(value).__name__}")
    if not minimum <= len(value) <= maximum:
        raise InvalidInputError(
            parameter,
            "length",
            f"must be {minimum}..{maximum} characters long (got {len(value)})",
        )
    return value


def check_pattern(parameter: str, value: str, pattern: re.Pattern[str], *, maximum: int) -> str:
    """A non-empty string up to ``maximum`` characters matching ``pattern``."""
    check_length(parameter, value, minimum=1, maximum=maximum)
    if not pattern.fullmatch(value):
        raise InvalidInputError(parameter, "pattern", f"must match {pattern.pattern}")
    return value


def check_collection_id(parameter: str, value: str) -> str:
    """Face list / person group ids: ``^[a-z0-9-_]+$``, 1..64 characters."""
    # The common case in one step; anything else goes through the full check for its error.
    if (
        type(value) is str
        and 0 < len(value) <= COLLECTION_ID_MAX
        and _COLLECTION_ID.fullmatch(value) is not None
    ):
        return value
    return check_pattern(parameter, value, _COLLECTION_ID, maximum=COLLECTION_ID_MAX)


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def check_uuid(parameter: str, value: str) -> str:
    """Ids the spec declares ``format: uuid`` (personId, persistedFaceId, faceId).

    Only the 8-4-4-4-12 form: the value is sent verbatim, and ``uuid.UUID`` would also take
    ``urn:uuid:...``, braces or 32 bare hex digits.
    """
    if not isinstance(value, str):
        raise InvalidInputError(parameter, "type", f"must be a string, not {type(value).__name__}")
    if _UUID.fullmatch(value) is None:
        raise InvalidInputError(parameter, "uuid", "must be a UUID (8-4-4-4-12 hex digits)")
    return value


def check_uuid_list(
    parameter: str, values: Sequence[str], *, minimum: int, maximum: int
) -> list[str]:
    """A list of UUIDs whose length is within ``minimum``..``maximum``."""
    items = check_count(parameter, values, minimum=minimum, maximum=maximum)
    for index, value in enumerate(items):
        if not isinstance(value, str) or _UUID.fullmatch(value) is None:
            check_uuid(f"{parameter}[{index}]", value)  # raises, naming the item
    return items


def check_text_id(parameter: str, value: str, *, maximum: int = 256) -> str:
    """An opaque id (session ids, sessionImageId): non-empty, no whitespace or slashes."""
    check_length(parameter, value, minimum=1, maximum=maximum)
    if any(ch.isspace() or ch in "/?#" for ch in value):
        raise InvalidInputError(
            parameter, "pattern", "must not contain whitespace, '/', '?' or '#'"
        )
    return value


def check_name(parameter: str, value: str) -> str:
    """Collection and person names: 1..128 characters."""
    return check_length(parameter, value, minimum=1, maximum=NAME_MAX)


def check_count(parameter: str, values: Sequence[str], *, minimum: int, maximum: int) -> list[str]:
    """A sequence (not a bare string) of ``minimum``..``maximum`` items."""
    if (
        type(values) is not list  # the usual two pass at once, without the ABC check
        and type(values) is not tuple
        and (isinstance(values, str | bytes) or not isinstance(values, Sequence))
    ):
        raise InvalidInputError(parameter, "type", "must be a list of strings")
    if not minimum <= len(values) <= maximum:
        raise InvalidInputError(
            parameter, "count", f"must hold {minimum}..{maximum} items (got {len(values)})"
        )
    return list(values)


def check_int_range(parameter: str, value: int, *, minimum: int, maximum: int) -> int:
    """An integer within ``minimum``..``maximum`` (booleans refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(
            parameter, "type", f"must be an integer, not {type(value).__name__}"
        )
    if not minimum <= value <= maximum:
        raise InvalidInputError(
            parameter, "range", f"must be within {minimum}..{maximum} (got {value})"
        )
    return value


def check_float_range(parameter: str, value: float, *, minimum: float, maximum: float) -> float:
    """A finite number within ``minimum``..``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(parameter, "type", "must be a finite number")
    if not minimum <= value <= maximum:
        raise InvalidInputError(
            parameter, "range", f"must be within {minimum}..{maximum} (got {value})"
        )
    return float(value)


def check_choice(parameter: str, value: E | str, enum: type[E]) -> E:
    """An enum member, given as the member or its wire value."""
    if isinstance(value, enum):
        return value
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidInputError(parameter, "enum", f"must be one of: {allowed}") from None


def check_target_face(parameter: str, value: Sequence[int]) -> str:
    """``targetFace``: exactly four integers left, top, width, height, as csv."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 4:
        raise InvalidInputError(parameter, "count", "must be 4 integers: left, top, width, height")
    left, top, width, height = (
        check_int_range(f"{parameter}[{i}]", v, minimum=0, maximum=2**31 - 1)
        for i, v in enumerate(value)
    )
    if width == 0 or height == 0:
        raise InvalidInputError(parameter, "range", "width and height must be positive")
    return f"{left},{top},{width},{height}"
