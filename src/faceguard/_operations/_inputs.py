"""Argument rules of the REST contracts, checked before anything is sent.

Each check raises ``InvalidInputError`` naming the parameter and the rule (the rule names are
stable: tests and callers may branch on them) and returns the value as it goes on the wire.
Text must be valid Unicode (no lone surrogate: it cannot be encoded as UTF-8, so httpx, the
guard's store or the audit file would fail on it with a ``UnicodeEncodeError`` later);
numbers must be finite and within range. ``check_sendable`` re-checks a whole built request
the same way, as the last step before it goes to the transport.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from .._constants import (
    COLLECTION_ID_MAX,
    NAME_MAX,
)
from .._exceptions import InvalidInputError

if TYPE_CHECKING:
    from .._transport._spec import RequestSpec

__all__ = [
    "check_bool",
    "check_choice",
    "check_collection_id",
    "check_count",
    "check_float_range",
    "check_int_range",
    "check_length",
    "check_name",
    "check_pattern",
    "check_sendable",
    "check_target_face",
    "check_unicode",
    "check_text_id",
    "check_uuid",
    "check_uuid_list",
    "wire_bool",
]

E = TypeVar("E", bound=Enum)

_COLLECTION_ID = re.compile(r"^[a-z0-9\-_]+$")


def check_bool(parameter: str, value: bool) -> bool:
    """``True`` or ``False`` and nothing else: ``"no"``, ``0`` or NaN would be sent as
    whatever their truth value happens to be."""
    if type(value) is not bool:
        raise InvalidInputError(parameter, "type", "must be True or False")
    return value


def wire_bool(value: bool, parameter: str = "flag") -> str:
    """Booleans in a query string, as the service spells them (only real booleans)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise InvalidInputError(parameter, "type", "must be True or False")


def check_unicode(parameter: str, value: str) -> str:
    """Text that can be sent: no lone surrogate (``"\\ud800"``), which UTF-8 cannot encode.

    The value is never echoed: it may be a name, a token or anything else the caller holds.
    """
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError(
                parameter, "unicode", "holds a lone surrogate: not valid Unicode text"
            ) from None
    return value


def check_length(parameter: str, value: str, *, maximum: int, minimum: int = 0) -> str:
    """A string of ``minimum``..``maximum`` Unicode code points, valid Unicode."""
    if not isinstance(value, str):
        raise InvalidInputError(parameter, "type", f"must be a string, not {type(value).__name__}")
    check_unicode(parameter, value)
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
    if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
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


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


_JSON_INT_MAX = 2**63
"""Integers beyond this are no value any Face or Content Safety field takes (and past 4300
digits ``json`` cannot even write them)."""


def _check_json(where: str, value: object) -> None:
    # The common cases first, by exact type: every call's body passes through here.
    if type(value) is str:
        if not value.isascii():
            check_unicode(where, value)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if type(item) is not str or not item.isascii():
                _check_json(f"{where}[{index}]", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(where, "type", "object keys must be strings")
            if type(item) is not str or not item.isascii() or not key.isascii():
                _check_json(f"{where}.{check_unicode(where, key)}", item)
    elif value is None or isinstance(value, bool):
        return
    elif isinstance(value, str):
        check_unicode(where, value)
    elif isinstance(value, int):
        if abs(value) > _JSON_INT_MAX:
            raise InvalidInputError(where, "range", "is too large an integer")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(where, "type", "must be a finite number")
    else:
        raise InvalidInputError(where, "type", f"cannot be sent as JSON ({type(value).__name__})")


def _check_texts(where: str, values: Mapping[str, object]) -> None:
    for name, value in values.items():
        if type(value) is not str:
            raise InvalidInputError(f"{where} {name}", "type", "must be a string")
        if not value.isascii():
            check_unicode(f"{where} {name}", value)


def _check_guard_text(name: str, value: object) -> None:
    if value is None or (type(value) is str and value.isascii()):
        return
    if not isinstance(value, str):
        raise InvalidInputError(name, "type", f"must be a string, not {type(value).__name__}")
    check_unicode(name, value)


def check_sendable(spec: RequestSpec[Any]) -> None:
    """The last check of a built request: every text valid Unicode, every JSON value one JSON
    can carry (finite numbers, strings, booleans, lists, objects), and the guard's inputs too.

    The builders' own checks name the Python argument; this one names the wire field
    (``body.userData``, ``path personGroupId``), and exists so that a value no builder check
    foresaw fails here, typed, instead of as a ``UnicodeEncodeError`` or ``TypeError`` from
    httpx, the guard's store or the audit file, after the guard has already counted the call.
    """
    _check_texts("path", spec.path_params)
    _check_texts("query", spec.query)
    if spec.json is not None:
        _check_json("body", spec.json)
    guard = spec.guard
    texts = (guard.container_id, guard.person_id, guard.consent, guard.device_correlation_id)
    for text in texts:  # the common case (None or ASCII) without a call per field
        if text is not None and (type(text) is not str or not text.isascii()):
            _check_guard_text("container_id", guard.container_id)
            _check_guard_text("person_id", guard.person_id)
            _check_guard_text("consent", guard.consent)
            _check_guard_text("device_correlation_id", guard.device_correlation_id)
            break
    for index, face_id in enumerate(guard.face_ids):
        if type(face_id) is not str or not face_id.isascii():
            if not isinstance(face_id, str):
                raise InvalidInputError(f"face_ids[{index}]", "type", "must be a string")
            check_unicode(f"face_ids[{index}]", face_id)
