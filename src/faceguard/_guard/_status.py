"""Token status lists: revoking consent tokens before they expire (GUARD.md §3.7 step 6, §3.8).

This is the JWT form of the IETF OAuth "Token Status List" draft. The consent service keeps
one bit per consent record (0 valid, 1 revoked) with ``StatusListIssuer`` and publishes it as
a signed ``statuslist+jwt`` whose ``status_list.lst`` is the bitstring, zlib-compressed and
base64url-encoded, least significant bit first. A consent token points at its bit with a
``status`` claim: ``{"status_list": {"idx": N, "uri": "<the list's sub>"}}``.

faceguard never fetches anything. The application downloads the list token (on its own
schedule, say every ``ttl`` seconds) and hands it to ``StatusLists.update()``, which checks it
with the same hard-coded rules as consent tokens (Ed25519 only, explicit ``typ``, pinned
``kid``, no key-carrying headers) and keeps the bits. ``ConsentVerifier(status_lists=...)``
then refuses, fail closed, any token whose bit is set, whose list was never loaded, or whose
list is older than the operation allows.

Order: every list token carries ``seq``, a counter the issuer raises with each token it signs
(a faceguard addition to the draft's claims). ``iat`` is whole seconds, so two lists signed in
the same second, before and after a revocation, have equal ``iat``; ``StatusLists`` orders
lists by ``(iat, seq)`` and refuses any that is not newer than the one it holds (``rollback``),
so an old list cannot be fed back to undo a revocation, however soon after it was signed.

PyJWT and cryptography are imported only when a key is loaded or a token is minted or
checked, as in ``_consent``.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from .._exceptions import ConsentRejectedError, GuardError
from ._claims import _check_id, _is_index, _is_uri, invalid
from ._consent import MAX_LEEWAY, MAX_STATUS_MAX_AGE
from ._issuer import ConsentIssuer
from ._jws import (
    _b64decode,
    _b64encode,
    _load_private,
    _load_public_keys,
    _sign_compact,
    _verify_compact,
)
from ._status_mark import claim_version
from ._store import GuardStore, check_clock, check_store

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "INVALID",
    "MAX_LIST_BYTES",
    "STATUS_LIST_TYPE",
    "VALID",
    "StatusListError",
    "StatusListInfo",
    "StatusListIssuer",
    "StatusLists",
]

STATUS_LIST_TYPE = "statuslist+jwt"
VALID = 0
"""Status value: the token is valid."""
INVALID = 1
"""Status value: the token is revoked (the consent was withdrawn or invalidated)."""
MAX_LIST_BYTES = 1 << 24
"""Largest decompressed status list accepted or published: 16 MiB, 134 million entries."""
MAX_STATUS_LIST_TOKEN_SIZE = 4 * 1024 * 1024
MAX_LIST_LIFETIME = 366 * 86400
_BITS = frozenset({1, 2, 4, 8})
_MAX_TIME = 1e11
_STATUS_NAMES = {1: "INVALID (revoked)", 2: "SUSPENDED"}


class StatusListError(GuardError):
    """A status list token was refused by ``StatusLists.update()``; ``check`` names why
    (``malformed``, ``typ``, ``alg``, ``header``, ``kid``, ``signature``, ``issuer``,
    ``claims``, ``expired``, ``issued_in_future``, ``rollback``). Nothing was loaded."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"status list token refused ({check}): {message}")
        self.check = check


@dataclass(frozen=True)
class StatusListInfo:
    """What ``StatusLists`` knows about one loaded list (never the token itself)."""

    uri: str
    bits: int
    size: int
    """How many statuses the list holds (valid indices are ``0 .. size - 1``)."""
    issued_at: float
    """The list token's ``iat``: a list's age is measured from it, not from when it was
    loaded, so feeding an old token again does not make it look fresh."""
    sequence: int
    """The list token's ``seq``: with ``issued_at``, the order of the issuer's lists."""
    expires_at: float
    ttl: float | None
    """The issuer's ``ttl``: fetch a fresh copy after this many seconds."""
    loaded_at: float
    kid: str


# -- the consent service side ------------------------------------------------------------


class StatusListIssuer:
    """Keeps one status list (1 bit per entry) and signs it; for the consent service.

    Args:
        signer: a ``ConsentIssuer`` (its key, ``iss``, ``kid`` and clock are used) or an
            Ed25519 private key PEM, which then needs ``issuer`` and ``kid``.
        size: how many entries the list holds. Lists are padded to whole bytes; the spec
            recommends large lists (say 100,000 entries) so one index says little about who.
        bitstring: a previously saved ``bitstring()`` to continue from.
        sequence: the ``seq`` the next token carries; save ``sequence`` with the bitstring
            and pass it back after a restart. Verifiers refuse a list whose ``(iat, seq)`` is
            not above the one they hold, so a restarted issuer that started again from 0
            would have its lists refused until the clock reaches the next second.
    """

    def __init__(
        self,
        signer: ConsentIssuer | bytes | str,
        *,
        size: int,
        issuer: str | None = None,
        kid: str | None = None,
        clock: Callable[[], float] | None = None,
        bitstring: bytes | None = None,
        sequence: int = 0,
    ) -> None:
        self._key: Ed25519PrivateKey
        if isinstance(signer, ConsentIssuer):
            if issuer is not None or kid is not None:
                raise invalid("issuer", "issuer and kid come from the ConsentIssuer")
            self._key = signer._key
            self._issuer = signer.issuer
            self._kid = signer.kid
            self._clock = check_clock(signer._clock if clock is None else clock)
        else:
            if issuer is None or kid is None:
                raise invalid("issuer", "a private key PEM needs issuer= and kid=")
            self._key = _load_private(signer)
            self._issuer = _check_id(issuer, "issuer")
            self._kid = _check_id(kid, "kid")
            self._clock = check_clock(time.time if clock is None else clock)
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise invalid("size", "must be a positive integer")
        if size > MAX_LIST_BYTES * 8:
            raise invalid("size", f"a status list holds at most {MAX_LIST_BYTES * 8} entries")
        self._size = size
        length = (size + 7) // 8
        if bitstring is None:
            self._bits = bytearray(length)
        elif not isinstance(bitstring, (bytes, bytearray)) or len(bitstring) != length:
            raise invalid("bitstring", f"must be {length} bytes for {size} entries")
        else:
            self._bits = bytearray(bitstring)
        if not _is_index(sequence):
            raise invalid("sequence", "must be an integer in 0..2**53-1")
        self._sequence = sequence
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """How many statuses the list holds."""
        return self._size

    @property
    def sequence(self) -> int:
        """The ``seq`` the next token will carry (persist it with ``bitstring()``)."""
        with self._lock:
            return self._sequence

    @property
    def issuer(self) -> str:
        """The ``iss`` of the status list tokens."""
        return self._issuer

    @property
    def kid(self) -> str:
        """The key id the status list tokens are signed under."""
        return self._kid

    def _index(self, idx: int) -> int:
        if not _is_index(idx) or idx >= self._size:
            raise invalid("idx", f"the status index must be an integer in 0..{self._size - 1}")
        return idx

    def revoke(self, idx: int) -> None:
        """Mark entry ``idx`` revoked; every token carrying it is refused once the verifier
        loads a list signed after this call."""
        i = self._index(idx)
        with self._lock:
            self._bits[i // 8] |= 1 << (i % 8)

    def reinstate(self, idx: int) -> None:
        """Mark entry ``idx`` valid again: only to undo a revocation made in error.

        The draft treats INVALID as final; a withdrawn consent is never reinstated, the
        subject gives a new consent with a new record and index instead.
        """
        i = self._index(idx)
        with self._lock:
            self._bits[i // 8] &= ~(1 << (i % 8)) & 0xFF

    def status(self, idx: int) -> int:
        """``VALID`` (0) or ``INVALID`` (1)."""
        i = self._index(idx)
        with self._lock:
            return (self._bits[i // 8] >> (i % 8)) & 1

    def bitstring(self) -> bytes:
        """The raw list (entry ``i`` is bit ``i % 8`` of byte ``i // 8``), for persistence."""
        with self._lock:
            return bytes(self._bits)

    def token(self, uri: str, *, ttl: float, lifetime: float = 86400) -> str:
        """The signed list as a compact JWS (``typ: statuslist+jwt``), to publish at ``uri``.

        Args:
            uri: where the list is published; the ``sub`` claim, and the ``uri`` every
                consent token's ``status`` claim names.
            ttl: seconds after which a relying party should fetch a fresh copy.
            lifetime: seconds until the token's ``exp`` (at least ``ttl``).
        """
        if not _is_uri(uri):
            raise invalid("uri", "must be a printable string of at most 2048 characters")
        ttl_s = _seconds(ttl, "ttl")
        life = _seconds(lifetime, "lifetime")
        if life > MAX_LIST_LIFETIME:
            raise invalid("lifetime", f"must be at most {MAX_LIST_LIFETIME} seconds")
        if ttl_s > life:
            raise invalid("ttl", "must not exceed the token's lifetime")
        with self._lock:
            # The bits and the sequence number are taken together: a later seq never
            # carries earlier bits.
            bits = bytes(self._bits)
            seq = self._sequence
            self._sequence += 1
        lst = _b64encode(zlib.compress(bits, 9))
        iat = math.floor(self._clock())
        payload = {
            "iss": self._issuer,
            "sub": uri,
            "iat": iat,
            "seq": seq,
            "exp": iat + life,
            "ttl": ttl_s,
            "status_list": {"bits": 1, "lst": lst},
        }
        return _sign_compact(self._key, kid=self._kid, typ=STATUS_LIST_TYPE, payload=payload)

    def __repr__(self) -> str:
        return f"StatusListIssuer(issuer={self._issuer!r}, kid={self._kid!r}, size={self._size})"


def _seconds(value: object, what: str) -> int:
    # A range check rather than math.isfinite: it is False for NaN and infinities and,
    # unlike isfinite, exact (no OverflowError) for an int too large for a float.
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not -_MAX_TIME <= value <= _MAX_TIME
    ):
        raise invalid(what, "must be a finite number of seconds")
    seconds = math.floor(value)
    if seconds < 1:
        raise invalid(what, "must be at least 1 second")
    return seconds


# -- the verifier side -------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    info: StatusListInfo
    data: bytes


def _refuse(check: str, message: str) -> StatusListError:
    return StatusListError(check, message)


def _time(payload: Mapping[str, Any], name: str) -> float:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse("claims", f"{name} must be a NumericDate")
    if not 0 <= value <= _MAX_TIME:
        raise _refuse("claims", f"{name} is out of range")
    return float(value)


def _inflate(lst: object) -> bytes:
    raw = _b64decode(lst) if isinstance(lst, str) else None
    if raw is None:
        raise _refuse("claims", "status_list.lst must be canonical base64url")
    inflater = zlib.decompressobj()  # zlib format (RFC 1950), as the draft requires
    try:
        data = inflater.decompress(raw, MAX_LIST_BYTES + 1)
    except zlib.error:
        raise _refuse("claims", "status_list.lst is not zlib-compressed") from None
    if len(data) > MAX_LIST_BYTES or inflater.unconsumed_tail:
        raise _refuse("claims", f"the status list is larger than {MAX_LIST_BYTES} bytes")
    if not inflater.eof or inflater.unused_data:
        raise _refuse("claims", "status_list.lst is truncated or has trailing data")
    if not data:
        raise _refuse("claims", "the status list is empty")
    return data


class StatusLists:
    """The status lists a ``ConsentVerifier`` checks tokens against; no network access.

    The application fetches each list token from its ``uri`` and calls ``update()``; lists
    are held in memory, by ``uri``, and replaced by newer ones.

    Args:
        keys: the status list issuer's public keys by ``kid`` (usually the consent issuer's
            pinned keys: "same issuer trust", GUARD.md §3.7 step 6). Never private keys.
        issuer: the only accepted ``iss``.
        clock: seconds since the epoch.
        max_age: how old a list may be for ``check()`` calls that name no ``max_age``
            (``ConsentVerifier`` always names its per-operation one).
        leeway: clock-skew allowance for ``iat`` and ``exp``, at most 300 s.
        store: where the newest version of each list is marked, so that a process started
            later (or another instance) refuses an older list too (``rollback``); usually the
            guard's shared ``SQLiteStore`` or ``RedisStore``. Without one, only this object
            remembers what it loaded.
    """

    def __init__(
        self,
        keys: Mapping[str, bytes | str | Ed25519PublicKey],
        *,
        issuer: str,
        clock: Callable[[], float] = time.time,
        max_age: float = 900,
        leeway: float = 60,
        store: GuardStore | None = None,
    ) -> None:
        self._keys: dict[str, Ed25519PublicKey] = _load_public_keys(keys)
        self._issuer = _check_id(issuer, "issuer")
        self._clock = check_clock(clock)
        self._max_age = _age(max_age, "max_age")
        if isinstance(leeway, bool) or not (
            isinstance(leeway, (int, float)) and 0 <= leeway <= MAX_LEEWAY
        ):
            raise invalid("leeway", f"must be between 0 and {MAX_LEEWAY:g} seconds")
        self._leeway = float(leeway)
        self._lists: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._store = check_store(store, "store")

    @property
    def max_age(self) -> float:
        """Seconds a loaded list stays fresh for ``check()``."""
        return self._max_age

    def update(self, token: str) -> StatusListInfo:
        """Verify a ``statuslist+jwt`` and keep its list; ``StatusListError`` if refused.

        A refused token changes nothing: the list loaded before (if any) stays.
        """
        if (
            not isinstance(token, str)
            or len(token) > MAX_STATUS_LIST_TOKEN_SIZE
            or not token.isascii()
        ):
            raise _refuse(
                "malformed", f"not a compact JWS of at most {MAX_STATUS_LIST_TOKEN_SIZE} bytes"
            )
        payload, kid = _verify_compact(token, self._keys, typ=STATUS_LIST_TYPE, reject=_refuse)
        if payload.get("iss") != self._issuer:
            raise _refuse("issuer", "iss is not the pinned status list issuer")
        uri = payload.get("sub")
        if not isinstance(uri, str) or not _is_uri(uri):
            raise _refuse("claims", "sub must be the status list's uri")
        iat, exp = _time(payload, "iat"), _time(payload, "exp")
        if exp <= iat:
            raise _refuse("claims", "exp must come after iat")
        raw_seq = payload.get("seq")
        if not _is_index(raw_seq):
            # Without it, two lists of the same second could not be ordered (rollback).
            raise _refuse("claims", "seq must be a non-negative integer")
        seq = cast(int, raw_seq)
        now = self._clock()
        if iat > now + self._leeway:
            raise _refuse("issued_in_future", "iat is in the future")
        if now >= exp + self._leeway:
            raise _refuse("expired", "the status list token has expired")
        ttl = payload.get("ttl")
        if ttl is not None and (
            isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 0 < ttl <= _MAX_TIME
        ):
            raise _refuse("claims", "ttl must be a positive number of seconds")
        status_list = payload.get("status_list")
        if not isinstance(status_list, dict):
            raise _refuse("claims", "the status_list object is missing")
        bits = status_list.get("bits")
        if isinstance(bits, bool) or bits not in _BITS:
            raise _refuse("claims", "status_list.bits must be 1, 2, 4 or 8")
        data = _inflate(status_list.get("lst"))
        info = StatusListInfo(
            uri=uri,
            bits=int(bits),
            size=len(data) * 8 // int(bits),
            issued_at=iat,
            sequence=seq,
            expires_at=exp,
            ttl=None if ttl is None else float(ttl),
            loaded_at=now,
            kid=kid,
        )
        with self._lock:
            current = self._lists.get(uri)
            if current is not None:
                held = (current.info.issued_at, current.info.sequence)
                if held > (iat, seq):
                    raise _refuse(
                        "rollback", "a newer version of this status list is already loaded"
                    )
                if held == (iat, seq):
                    if current.data != data or current.info.bits != info.bits:
                        # Two different lists in the same place of the order: keep the one
                        # held (fail closed) rather than guess which is newer.
                        raise _refuse(
                            "rollback", "another list with the same iat and seq is loaded"
                        )
                    return current.info  # the same list again: nothing changes
            if self._store is not None:
                digest = hashlib.sha256(bytes([info.bits]) + data).digest()
                refused = claim_version(self._store, uri, iat, seq, digest)
                if refused is not None:
                    raise _refuse("rollback", refused)
            self._lists[uri] = _Entry(info, data)
        return info

    def info(self, uri: str) -> StatusListInfo | None:
        """What is loaded for ``uri``, or None."""
        with self._lock:
            entry = self._lists.get(uri)
        return None if entry is None else entry.info

    @property
    def uris(self) -> frozenset[str]:
        """The status list URIs loaded so far."""
        with self._lock:
            return frozenset(self._lists)

    def check(self, uri: str, idx: int, *, max_age: float | None = None) -> StatusListInfo:
        """The list's info if entry ``idx`` of ``uri`` is VALID in a fresh enough list.

        Raises ``ConsentRejectedError`` with ``check`` ``status_unknown`` (list never
        loaded, index out of range), ``status_stale`` (list older than ``max_age``, or
        expired) or ``revoked`` (any status other than VALID).
        """
        limit = self._max_age if max_age is None else _age(max_age, "max_age")
        with self._lock:
            entry = self._lists.get(uri)
        if entry is None:
            raise ConsentRejectedError(
                "status_unknown", "the token's status list has not been loaded (fail closed)"
            )
        info = entry.info
        if not _is_index(idx) or idx >= info.size:
            raise ConsentRejectedError(
                "status_unknown", f"status index is outside the list's {info.size} entries"
            )
        now = self._clock()
        if now >= info.expires_at + self._leeway:
            raise ConsentRejectedError("status_stale", "the loaded status list has expired")
        age = now - info.issued_at
        if age > limit:
            raise ConsentRejectedError(
                "status_stale",
                f"the status list is {age:.0f} s old; this operation allows {limit:g} s",
            )
        position = idx * info.bits
        value = (entry.data[position // 8] >> (position % 8)) & ((1 << info.bits) - 1)
        if value != VALID:
            name = _STATUS_NAMES.get(value, f"status {value}")
            raise ConsentRejectedError("revoked", f"the consent is {name} in its status list")
        return info

    def __repr__(self) -> str:
        return (
            f"StatusLists(issuer={self._issuer!r}, kids={sorted(self._keys)!r}, "
            f"lists={len(self._lists)})"
        )


def _age(value: object, what: str) -> float:
    if isinstance(value, bool) or not (
        isinstance(value, (int, float)) and 0 < value <= MAX_STATUS_MAX_AGE
    ):
        raise invalid(what, f"must be above 0 and at most {MAX_STATUS_MAX_AGE:g} seconds")
    return float(value)
