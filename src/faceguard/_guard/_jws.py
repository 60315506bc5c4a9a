"""Compact JWS with a strict, hard-coded profile: what consent and status list tokens share.

Both token types are Ed25519-signed compact JWS (GUARD.md §3.3, §3.7 steps 1-3): canonical
base64url, JSON objects without duplicate members, an explicit ``typ``, Ed25519 only, no header
that names or carries a key, and a ``kid`` from a pinned set. Keys are loaded here too; the
verifying side never takes a private key.

PyJWT and cryptography are imported only when a key is loaded or a token is minted or
checked, so ``import faceguard`` does not need them (``pip install "faceguard[consent]"``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from .._exceptions import ConfigurationError, InvalidInputError
from ._claims import _check_id

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = ["generate_keypair"]

# Hard-coded: never derived from the token, never configurable.
_ALLOWED_ALGS = frozenset({"EdDSA", "Ed25519"})
# Keys are never taken from the token (§3.2); crit/b64/zip would change how it is processed.
_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit", "b64", "zip"})
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


def _missing(exc: ImportError) -> ConfigurationError:
    return ConfigurationError(
        f'consent tokens need PyJWT and cryptography: pip install "faceguard[consent]" ({exc})'
    )


def _ed25519() -> ModuleType:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as exc:
        raise _missing(exc) from None
    return ed25519


def _serialization() -> ModuleType:
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError as exc:
        raise _missing(exc) from None
    return serialization


def _jwt() -> ModuleType:
    try:
        import jwt
    except ImportError as exc:
        raise _missing(exc) from None
    return jwt


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(segment: str) -> bytes | None:
    """Strict, canonical base64url without padding; None when it is not."""
    if len(segment) % 4 == 1 or not _SEGMENT.fullmatch(segment):
        return None
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None
    # Refuse non-canonical encodings (stray low bits): one signature, one token string.
    return raw if _b64encode(raw) == segment else None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def _bad_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_bad_constant,
        )
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        return None
    return value if isinstance(value, dict) else None


def _pem_bytes(pem: object, what: str) -> bytes:
    """A PEM given as ``bytes`` or ``str``, as bytes; anything else, or text that is not
    ASCII (a PEM always is), is refused typed. The key material is never echoed."""
    if isinstance(pem, str):
        if not pem.isascii():
            raise InvalidInputError(what, "pem", "a PEM key is ASCII text")
        return pem.encode("ascii")
    if isinstance(pem, bytes):
        return pem
    raise InvalidInputError(what, "type", "must be a PEM key (bytes or str)")


def _load_private(pem: object) -> Ed25519PrivateKey:
    ser = _serialization()
    data = _pem_bytes(pem, "private_key_pem")
    try:
        key = ser.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise InvalidInputError(
            "private_key_pem", "pem", "not an unencrypted PEM private key"
        ) from None
    if not isinstance(key, _ed25519().Ed25519PrivateKey):
        raise InvalidInputError("private_key_pem", "pem", "the consent issuer key must be Ed25519")
    return cast("Ed25519PrivateKey", key)


def _load_public(key: object) -> Ed25519PublicKey:
    ed = _ed25519()
    if isinstance(key, ed.Ed25519PublicKey):
        return cast("Ed25519PublicKey", key)
    if not isinstance(key, (bytes, str)):
        raise InvalidInputError(
            "keys", "type", "a verifier key must be a public key PEM or an Ed25519PublicKey"
        )
    data = _pem_bytes(key, "keys")
    try:
        loaded = _serialization().load_pem_public_key(data)
    except (ValueError, TypeError):
        raise InvalidInputError(
            "keys", "pem", "not a PEM public key (the verifier never takes private keys)"
        ) from None
    if not isinstance(loaded, ed.Ed25519PublicKey):
        raise InvalidInputError("keys", "pem", "consent verifier keys must be Ed25519")
    return cast("Ed25519PublicKey", loaded)


def _load_public_keys(keys: object) -> dict[str, Ed25519PublicKey]:
    """A verifier's pinned keys: a non-empty mapping of key id to public key."""
    if not isinstance(keys, Mapping) or not keys:
        raise InvalidInputError("keys", "value", "must map at least one key id to a public key")
    return {_check_id(kid, "kid"): _load_public(key) for kid, key in keys.items()}


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (PKCS#8 private PEM, SubjectPublicKeyInfo public PEM)."""
    ser = _serialization()
    key = _ed25519().Ed25519PrivateKey.generate()
    private = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    public = key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
    return cast(bytes, private), cast(bytes, public)


def _sign_compact(key: Ed25519PrivateKey, *, kid: str, typ: str, payload: Mapping[str, Any]) -> str:
    """A compact JWS over ``payload``: EdDSA, with only ``alg``, ``typ`` and ``kid`` set."""
    headers = {"typ": typ, "kid": kid}
    return cast(str, _jwt().encode(dict(payload), key, algorithm="EdDSA", headers=headers))


def _verify_compact(
    token: str,
    keys: Mapping[str, Ed25519PublicKey],
    *,
    typ: str,
    reject: Callable[[str, str], Exception],
) -> tuple[dict[str, Any], str]:
    """The payload and ``kid`` of a compact JWS signed by one of ``keys`` (§3.7 steps 1-3).

    The rules are hard-coded and shared by consent and status list tokens: explicit ``typ``,
    Ed25519 only, no header that names or carries a key or changes processing, a pinned
    ``kid``. The first failure raises ``reject(check, message)``.
    """
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise reject("malformed", f"a {typ} token is a compact JWS with three parts")
    header_raw, payload_raw, signature = (_b64decode(part) for part in parts)
    if header_raw is None or payload_raw is None or signature is None:
        raise reject("malformed", "a part is not canonical base64url")
    header = _json_object(header_raw)
    if header is None or header.get("typ") != typ:
        raise reject("typ", f"the header must be a JSON object with typ {typ!r}")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in _ALLOWED_ALGS:
        raise reject("alg", "only Ed25519 (EdDSA) signatures are accepted")
    forbidden = sorted(_FORBIDDEN_HEADERS.intersection(header))
    if forbidden:
        raise reject("header", f"forbidden header parameter(s): {', '.join(forbidden)}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise reject("kid", "the header names no kid")
    key = keys.get(kid)
    if key is None:
        raise reject("kid", "the kid is not in the pinned key set")
    from cryptography.exceptions import InvalidSignature  # present: the keys loaded

    try:
        if len(signature) != 64:
            raise InvalidSignature
        key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        raise reject("signature", "the Ed25519 signature does not verify") from None
    payload = _json_object(payload_raw)
    if payload is None:
        raise reject("claims", "the payload is not a JSON object")
    return payload, kid
