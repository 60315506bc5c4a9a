"""The consent token's claim vocabulary and value checks, shared by issuer and verifier.

What a token may say (``consent.use`` and its lifetimes, container kinds, the status claim)
and how its values are checked (identifiers, status indices and URIs, and the Face endpoint
that ``aud`` must name, GUARD.md §3.2) must be the same on both sides: a token the issuer
mints is one the verifier can read, and nothing the issuer refuses can be slipped past the
verifier by another spelling.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from .._exceptions import InvalidInputError

__all__ = ["CONTAINER_KINDS", "MAX_LIFETIME", "TOKEN_TYPE"]

TOKEN_TYPE = "fg-consent+jwt"  # noqa: S105 - a media type, not a secret
MAX_LIFETIME: Mapping[str, int] = {"once": 600, "session": 3600, "standing": 86400}
"""Longest ``exp - iat`` per ``consent.use``, in seconds (GUARD.md §3.1)."""
MAX_STATUS_URI = 2048
CONTAINER_KINDS = frozenset(
    {
        "personGroup",
        "largePersonGroup",
        "faceList",
        "largeFaceList",
        "personDirectory",
        "dynamicPersonGroup",
    }
)
_MAX_ID = 256
_MAX_INDEX = 2**53 - 1  # JSON integers beyond this are not exact in every parser
_MAX_TIME = 1e11  # NumericDate sanity bound (year ~5138); keeps floats exact enough
_DEFAULT_PORTS = {"https": 443, "http": 80}

Use = Literal["once", "session", "standing"]
Binding = tuple[str, str, "str | None"]
StatusRef = tuple[str, int]
"""A token's status list entry: (list URI, index)."""


def _is_index(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_INDEX


def _is_uri(value: object) -> bool:
    # isprintable() is False for a lone surrogate (category Cs) and for NUL.
    return isinstance(value, str) and 0 < len(value) <= MAX_STATUS_URI and value.isprintable()


@functools.lru_cache(maxsize=1024)
def _endpoint_key(value: str) -> tuple[str, str, int, str] | None:
    """A Face resource endpoint as ``(scheme, host, port, path)`` for comparison, or None.

    ``aud`` names the resource the token is for (GUARD.md §3.2); a client's endpoint and an
    ``aud`` entry name the same resource when their keys are equal. Scheme and host letter
    case, a default port, one trailing dot on the host and a trailing slash do not matter;
    anything else does (another port, path, or scheme is another resource or a gateway in
    front of one). Values with user info, a query, a fragment, whitespace or non-ASCII
    characters are not endpoints at all: ``urlsplit`` would otherwise drop tabs and newlines
    silently, and IDNA would map look-alike dots, making two different strings one resource.
    """
    if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        return None
    if "?" in value or "#" in value:  # even an empty query or fragment
        return None
    host = host[:-1] if host.endswith(".") else host
    return scheme, host, _DEFAULT_PORTS[scheme] if port is None else port, parts.path.rstrip("/")


def _check_time(value: object, what: str) -> float:
    """A finite NumericDate (seconds since the epoch) within the range tokens use."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not -_MAX_TIME <= value <= _MAX_TIME
    ):
        raise invalid(what, "must be a finite number of seconds since the epoch")
    return float(value)


def invalid(parameter: str, message: str) -> InvalidInputError:
    """The error for a bad argument of the consent and status list API: an
    ``InvalidInputError`` (still a ``ValueError``, as these checks always raised), so every
    refusal a caller can provoke is a ``FaceGuardError`` and names the argument."""
    return InvalidInputError(parameter, "value", message)


def _check_id(value: object, what: str) -> str:
    """A non-empty identifier of at most 256 characters that UTF-8 can carry.

    A lone surrogate would otherwise pass here and fail later, untyped, when the token is
    serialised or the value reaches a store or the audit file; the value is never echoed.
    """
    if type(value) is str and 0 < len(value) <= _MAX_ID and value.isascii():
        return value  # the common case, on every candidate of every identify
    if not isinstance(value, str) or not value or len(value) > _MAX_ID:
        raise invalid(what, f"must be a non-empty string of at most {_MAX_ID} characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid(what, "holds a lone surrogate: not valid Unicode text") from None
    return value
