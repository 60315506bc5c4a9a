"""Keyed pseudonyms for the identifiers the guard's stores persist (GUARD.md §4.4).

A faceId names a biometric template; a consent subject and a liveness device correlation id
name a person or their device. None of them is written to a store in clear: a store keeps
``HMAC-SHA256(key, domain || kind || value)`` instead, where ``key`` is the deployment's
*store key*. A lookup hashes the query the same way, so the guard works unchanged, but a copy
of the database (a backup, a dump, a stolen file) cannot be searched for a known faceId or
subject without the key: unlike a plain SHA-256, the pseudonym of a guessed id cannot be
computed by whoever holds the data alone.

The key must be the same in every process that shares a store, or their lookups would
disagree (and a withdrawal recorded by one would be invisible to the other). So a persistent
store takes a configured key (``key=`` or the ``FACEGUARD_STORE_KEY`` environment variable)
and records a *check value* (an HMAC of a fixed label, which reveals nothing about the key)
the first time it is used; a process that later opens it with another key gets a
``StoreKeyError`` instead of silently diverging.

Each kind (faceId, subject, device) has its own domain, so equal strings of different kinds
get unrelated pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from .._exceptions import InvalidInputError, StoreKeyError

__all__ = [
    "DEVICE",
    "ENV_VAR",
    "FACE_ID",
    "HOW_TO_MAKE_A_KEY",
    "MIN_KEY_BYTES",
    "PREFIX",
    "SUBJECT",
    "Pseudonymiser",
    "as_key",
    "configured_key",
    "is_pseudonym",
    "random_key",
]

ENV_VAR = "FACEGUARD_STORE_KEY"
"""The environment variable a persistent store reads its key from when ``key=`` is not given."""

MIN_KEY_BYTES = 32
"""256 bits, the strength HMAC-SHA256 can give: shorter keys are refused, not padded."""

FACE_ID = "faceId"
SUBJECT = "subject"
DEVICE = "device"

_DOMAIN = b"faceguard/store-pseudonym/v1\x00"
_CHECK_LABEL = b"faceguard/store-key-check/v1"

HOW_TO_MAKE_A_KEY = (
    'make one with `python -c "import secrets; print(secrets.token_urlsafe(32))"`, keep it in '
    f"your secret manager, and give the same value to every process that shares the store "
    f"(key=... or the {ENV_VAR} environment variable)"
)


def as_key(value: object, origin: str) -> bytes:
    """A store key given as ``bytes`` or text (UTF-8), checked; ``StoreKeyError`` otherwise.

    Only bytes-like values and strings: ``bytes(7)`` would silently be seven zero bytes.
    Never echoes the value, only its type or length.
    """
    if isinstance(value, str):
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError:
            raise StoreKeyError(
                f"the store key from {origin} holds a lone surrogate: {HOW_TO_MAKE_A_KEY}"
            ) from None
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    else:
        raise StoreKeyError(
            f"the store key from {origin} must be bytes or str, not {type(value).__name__}: "
            f"{HOW_TO_MAKE_A_KEY}"
        )
    if len(raw) < MIN_KEY_BYTES:
        # Never echo the value: only its length.
        raise StoreKeyError(
            f"the store key from {origin} is {len(raw)} bytes; at least {MIN_KEY_BYTES} are "
            f"needed: {HOW_TO_MAKE_A_KEY}"
        )
    return raw


def configured_key(explicit: bytes | str | None) -> bytes | None:
    """The key given as ``key=``, else ``FACEGUARD_STORE_KEY``, else None.

    Raises:
        StoreKeyError: the key is shorter than 32 bytes.
    """
    if explicit is not None:
        return as_key(explicit, "key=")
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return as_key(from_env.strip(), ENV_VAR)
    return None


def random_key() -> bytes:
    """A fresh key for state that lives and dies with one object (memory, ``:memory:``)."""
    return secrets.token_bytes(MIN_KEY_BYTES)


PREFIX = "p1."
"""Every pseudonym starts with it: a store's entries say by themselves whether they were
written pseudonymised (by this version) or in clear (by a version before it)."""


def is_pseudonym(text: str) -> bool:
    """Whether ``text`` has the shape of a pseudonym (``p1.`` and 64 hex digits)."""
    return (
        len(text) == len(PREFIX) + 64
        and text.startswith(PREFIX)
        and all(c in "0123456789abcdef" for c in text[len(PREFIX) :])
    )


_BLOCK = 64  # SHA-256's block size, in bytes


class Pseudonymiser:
    """``"p1." + hex(HMAC-SHA256(key, domain || kind || 0 || value))``."""

    __slots__ = ("_inner", "_keyed", "_outer")

    def __init__(self, key: bytes) -> None:
        # Keyed once: the HMAC's inner and outer SHA-256 states are derived from the key here
        # and copied per pseudonym (RFC 2104 by hand: the stdlib's HMAC.copy costs twice as
        # much, and the registry hashes every faceId it is asked about). The raw key is not
        # kept.
        block = as_key(key, "the store")
        self._keyed = hmac.new(block, digestmod=hashlib.sha256)
        if len(block) > _BLOCK:
            block = hashlib.sha256(block).digest()
        block = block.ljust(_BLOCK, b"\x00")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __call__(self, kind: str, value: str) -> str:
        """The pseudonym of ``value`` (a faceId, a subject, a device id) of ``kind``."""
        if not isinstance(value, str):
            # A subject, faceId or device id that is not text: typed, never an AttributeError.
            raise InvalidInputError(kind, "type", f"must be a string, not {type(value).__name__}")
        inner = self._inner.copy()
        inner.update(_DOMAIN + kind.encode() + b"\x00" + value.encode("utf-8", "surrogatepass"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return PREFIX + outer.hexdigest()

    def check_value(self) -> str:
        """What a store records to recognise its key later (reveals nothing about it)."""
        mac = self._keyed.copy()
        mac.update(_CHECK_LABEL)
        return mac.hexdigest()[:32]

    def __repr__(self) -> str:
        return "Pseudonymiser(<key hidden>)"
