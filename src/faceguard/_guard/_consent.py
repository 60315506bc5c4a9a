"""Consent assertions: short-lived Ed25519-signed JWTs that bind one use of a face (GUARD.md §3).

The application's consent service mints them with ``ConsentIssuer`` (it holds the private
key); faceguard checks them with ``ConsentVerifier``, which holds only pinned public keys, by
``kid``. Verification runs the §3.7 steps in a fixed order and the first failure raises
``ConsentRejectedError`` whose ``check`` names it. Neither class keeps or logs a raw token:
the verifier's signature cache is keyed by the token's SHA-256.

PyJWT and cryptography are imported only when a key is loaded or a token is minted or
checked, so ``import faceguard`` does not need them (``pip install "faceguard[consent]"``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import urlsplit

from .._exceptions import ConfigurationError, ConsentRejectedError
from ._store import GuardStore
from ._usecases import CONSENT_OPERATIONS, UseCase

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from ._status import StatusLists

__all__ = [
    "CONTAINER_KINDS",
    "DEFAULT_STATUS_MAX_AGE",
    "MAX_LIFETIME",
    "TOKEN_TYPE",
    "ConsentClaims",
    "ConsentIssuer",
    "ConsentScope",
    "ConsentVerifier",
    "generate_keypair",
]

TOKEN_TYPE = "fg-consent+jwt"  # noqa: S105 - a media type, not a secret
MAX_TOKEN_SIZE = 8 * 1024
MAX_LEEWAY = 300.0
REPLAY_NAMESPACE = "consent-jti"
MAX_LIFETIME: Mapping[str, int] = {"once": 600, "session": 3600, "standing": 86400}
"""Longest ``exp - iat`` per ``consent.use``, in seconds (GUARD.md §3.1)."""
DEFAULT_STATUS_MAX_AGE: Mapping[str, float] = {
    "identify": 900.0,
    "enroll": 900.0,
    "detect_template": 900.0,
}
"""How old a status list may be, per consent operation, before a token that points into it is
refused as ``status_stale`` (GUARD.md §3.7 step 6); operations not named here allow
``OTHER_STATUS_MAX_AGE``."""
OTHER_STATUS_MAX_AGE = 3600.0
MAX_STATUS_MAX_AGE = 86400.0
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
# Hard-coded: never derived from the token, never configurable.
_ALLOWED_ALGS = frozenset({"EdDSA", "Ed25519"})
# Keys are never taken from the token (§3.2); crit/b64/zip would change how it is processed.
_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit", "b64", "zip"})
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_PHONE = re.compile(r"\+?[\d\s().\-/]{7,}")
_MAX_ID = 256
_MAX_INDEX = 2**53 - 1  # JSON integers beyond this are not exact in every parser
_MAX_TIME = 1e11  # NumericDate sanity bound (year ~5138); keeps floats exact enough
_DEFAULT_PORTS = {"https": 443, "http": 80}
MIN_SESSION_HANDLE = 16
"""Shortest accepted client session handle, in bytes: it must be unguessable."""

Use = Literal["once", "session", "standing"]
Binding = tuple[str, str, "str | None"]
StatusRef = tuple[str, int]
"""A token's status list entry: (list URI, index)."""


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


def _looks_personal(subject: str) -> bool:
    if _EMAIL.search(subject):
        return True
    return bool(_PHONE.fullmatch(subject)) and sum(c.isdigit() for c in subject) >= 7


def _load_private(pem: bytes | str) -> Ed25519PrivateKey:
    ser = _serialization()
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = ser.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ValueError("not an unencrypted PEM private key") from None
    if not isinstance(key, _ed25519().Ed25519PrivateKey):
        raise ValueError("the consent issuer key must be Ed25519")
    return cast("Ed25519PrivateKey", key)


def _load_public(key: object) -> Ed25519PublicKey:
    ed = _ed25519()
    if isinstance(key, ed.Ed25519PublicKey):
        return cast("Ed25519PublicKey", key)
    if not isinstance(key, (bytes, str)):
        raise TypeError("a verifier key must be a public key PEM or an Ed25519PublicKey")
    data = key.encode("ascii") if isinstance(key, str) else key
    try:
        loaded = _serialization().load_pem_public_key(data)
    except (ValueError, TypeError):
        raise ValueError("not a PEM public key (the verifier never takes private keys)") from None
    if not isinstance(loaded, ed.Ed25519PublicKey):
        raise ValueError("consent verifier keys must be Ed25519")
    return cast("Ed25519PublicKey", loaded)


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (PKCS#8 private PEM, SubjectPublicKeyInfo public PEM)."""
    ser = _serialization()
    key = _ed25519().Ed25519PrivateKey.generate()
    private = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    public = key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
    return cast(bytes, private), cast(bytes, public)


def _is_index(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_INDEX


def _is_uri(value: object) -> bool:
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
    if parts.query or parts.fragment or "?" in value or "#" in value:
        return None
    host = host[:-1] if host.endswith(".") else host
    return scheme, host, _DEFAULT_PORTS[scheme] if port is None else port, parts.path.rstrip("/")


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


@dataclass(frozen=True)
class ConsentScope:
    """The binding one call needs: its consent operation and, if any, container and person."""

    operation: str
    container_kind: str | None = None
    container_id: str | None = None
    person_id: str | None = None

    def __post_init__(self) -> None:
        if self.operation not in CONSENT_OPERATIONS:
            raise ValueError(f"unknown consent operation {self.operation!r}")
        if self.container_kind is not None and self.container_kind not in CONTAINER_KINDS:
            raise ValueError(f"unknown container kind {self.container_kind!r}")
        if (self.container_kind is None) != (self.container_id is None):
            raise ValueError("container_kind and container_id go together")
        if self.person_id is not None and self.container_id is None:
            raise ValueError("a person_id needs its container")


@dataclass(frozen=True)
class ConsentClaims:
    """What a verified consent token says. It never holds the token itself."""

    issuer: str
    subject: str
    audience: tuple[str, ...]
    jti: str
    issued_at: float
    not_before: float
    expires_at: float
    use: Use
    use_case: UseCase
    operations: frozenset[str]
    bindings: tuple[Binding, ...]
    record_id: str | None = None
    kid: str | None = None
    status: StatusRef | None = None
    """The token's status list entry (``status.status_list``), if it has one."""

    @property
    def jti_hash(self) -> str:
        """SHA-256 of the ``jti``, for audit records (§3.7 step 11)."""
        return hashlib.sha256(self.jti.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Signed:
    """A signature-checked token as the cache keeps it: times, and claims or what is wrong."""

    issued_at: float
    not_before: float
    expires_at: float
    use: str | None
    claims: ConsentClaims | None
    problem: str | None
    audience: tuple[str, ...] = ()


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_ID:
        raise ValueError(f"{what} must be a non-empty string of at most {_MAX_ID} characters")
    return value


class ConsentIssuer:
    """Mints consent assertions; for the application's consent service, never for faceguard.

    Args:
        private_key_pem: the issuer's Ed25519 private key (PKCS#8 PEM, unencrypted).
        issuer: the ``iss`` the verifiers pin.
        kid: the key id the verifiers know the public key by.
        clock: seconds since the epoch.
    """

    def __init__(
        self,
        private_key_pem: bytes | str,
        *,
        issuer: str,
        kid: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = _load_private(private_key_pem)
        self._issuer = _check_id(issuer, "issuer")
        self._kid = _check_id(kid, "kid")
        self._clock = clock

    @classmethod
    def generate(
        cls,
        *,
        issuer: str = "urn:faceguard:dev-consent-issuer",
        kid: str = "dev-1",
        clock: Callable[[], float] = time.time,
    ) -> tuple[ConsentIssuer, bytes]:
        """A throwaway issuer with a fresh key, and its public key PEM (development, tests)."""
        private, public = generate_keypair()
        return cls(private, issuer=issuer, kid=kid, clock=clock), public

    @property
    def issuer(self) -> str:
        """The ``iss`` every token carries."""
        return self._issuer

    @property
    def kid(self) -> str:
        """The key id verifiers know the public key by."""
        return self._kid

    def public_key_pem(self) -> bytes:
        """The public key, PEM: what verifiers pin under ``kid``."""
        ser = _serialization()
        return self._key.public_key().public_bytes(
            ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo
        )

    def public_jwk(self) -> dict[str, str]:
        """The public key as an RFC 8037 OKP JWK, for the deployment's pinned JWKS."""
        ser = _serialization()
        raw = self._key.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64encode(raw),
            "kid": self._kid,
            "alg": "EdDSA",
            "use": "sig",
        }

    def issue(
        self,
        subject: str,
        *,
        audience: str | Sequence[str],
        operations: Iterable[str],
        use_case: UseCase | str,
        bindings: Iterable[tuple[str, str] | tuple[str, str, str | None]] = (),
        use: Use = "once",
        lifetime: float | None = None,
        record_id: str | None = None,
        not_before: float | None = None,
        jti: str | None = None,
        status: StatusRef | None = None,
    ) -> str:
        """A compact JWS consent assertion for ``subject`` (a pseudonymous id).

        ``audience`` names the faceguard deployment id(s) AND the Face resource endpoint(s)
        the token may be used with, e.g. ``["faceguard:deploy:hq",
        "https://hq.cognitiveservices.azure.com"]`` (GUARD.md §3.2): verifiers refuse a token
        that does not name both their deployment and the resource the client calls, so a
        token cannot be replayed in another deployment or against another resource.

        ``status=(uri, idx)`` points the token at entry ``idx`` of the status list published
        at ``uri`` (IETF Token Status List; see ``StatusListIssuer``), so revoking that entry
        stops the token, and every other token that shares the index, before it expires.
        A ``use="standing"`` token needs one (GUARD.md §3.1): it lives a day, and only a
        status list can stop it sooner.
        """
        _check_id(subject, "subject")
        if _looks_personal(subject):
            raise ValueError("subject looks like an email or phone number: use a pseudonymous id")
        audiences = [audience] if isinstance(audience, str) else list(audience)
        for aud in audiences:
            _check_id(aud, "audience")
        endpoints = [aud for aud in audiences if _endpoint_key(aud) is not None]
        if not endpoints or len(endpoints) == len(audiences):
            raise ValueError(
                "audience must name the faceguard deployment id and the Face resource "
                "endpoint (https://<resource>.cognitiveservices.azure.com)"
            )
        ops = sorted(set(operations))
        if not ops or not set(ops) <= CONSENT_OPERATIONS:
            raise ValueError(
                f"operations must be a non-empty subset of {sorted(CONSENT_OPERATIONS)}"
            )
        uc = UseCase(use_case)
        if use not in MAX_LIFETIME:
            raise ValueError(f"use must be one of {sorted(MAX_LIFETIME)}")
        max_lifetime = MAX_LIFETIME[use]
        seconds = max_lifetime if lifetime is None else lifetime
        if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds >= 1):
            raise ValueError("lifetime must be at least 1 second")
        if seconds > max_lifetime:
            raise ValueError(f"a {use!r} token lives at most {max_lifetime} s, not {seconds:g} s")
        bind: list[dict[str, str]] = []
        for entry in bindings:
            kind, cid = entry[0], entry[1]
            person = entry[2] if len(entry) > 2 else None
            if kind not in CONTAINER_KINDS:
                raise ValueError(f"unknown container kind {kind!r}")
            item = {"kind": kind, "id": _check_id(cid, "binding id")}
            if person is not None:
                item["person_id"] = _check_id(person, "binding person_id")
            bind.append(item)
        iat = math.floor(self._clock())
        exp = iat + math.floor(seconds)
        nbf = iat if not_before is None else math.floor(not_before)
        if nbf >= exp:
            raise ValueError("not_before must come before the expiry")
        if status is None and use == "standing":
            raise ValueError(
                "a use='standing' token needs status=(uri, idx): a status list entry that can "
                "revoke it before its day is over"
            )
        if status is not None:
            if not (isinstance(status, tuple) and len(status) == 2):
                raise ValueError("status must be a (uri, idx) pair")
            if not _is_uri(status[0]):
                raise ValueError(
                    f"the status list uri must be a printable string of at most "
                    f"{MAX_STATUS_URI} characters"
                )
            if not _is_index(status[1]):
                raise ValueError("the status list idx must be a non-negative integer")
        consent: dict[str, Any] = {"uc": uc.value, "ops": ops, "bind": bind, "use": use}
        if record_id is not None:
            consent["rid"] = _check_id(record_id, "record_id")
        payload: dict[str, Any] = {
            "iss": self._issuer,
            "sub": subject,
            "aud": audiences[0] if len(audiences) == 1 else audiences,
            "iat": iat,
            "nbf": nbf,
            "exp": exp,
            "jti": _check_id(jti, "jti") if jti is not None else str(uuid.uuid4()),
        }
        if status is not None:
            payload["status"] = {"status_list": {"idx": status[1], "uri": status[0]}}
        payload["consent"] = consent
        return _sign_compact(self._key, kid=self._kid, typ=TOKEN_TYPE, payload=payload)

    def __repr__(self) -> str:
        return f"ConsentIssuer(issuer={self._issuer!r}, kid={self._kid!r})"


def _reject(check: str, message: str) -> ConsentRejectedError:
    return ConsentRejectedError(check, message)


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _reject("claims", f"{name} must be a NumericDate")
    if not 0 <= value <= _MAX_TIME:  # also False for NaN; exact for huge ints
        raise _reject("claims", f"{name} is out of range")
    return float(value)


class _ClaimsProblem(ValueError):
    """A signed token's claims are ill-formed; reported as ``claims`` after the time checks."""


def _optional_id(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > _MAX_ID:
        raise _ClaimsProblem(f"{what} must be a non-empty string")
    return value


def _required_id(value: object, what: str) -> str:
    result = _optional_id(value, what)
    if result is None:
        raise _ClaimsProblem(f"{what} is missing")
    return result


def _status_ref(payload: Mapping[str, Any]) -> StatusRef | None:
    if "status" not in payload:
        return None
    status = payload["status"]
    if not isinstance(status, dict) or set(status) != {"status_list"}:
        # Another status mechanism may be one this verifier cannot check: fail closed.
        raise _ClaimsProblem("status must be an object holding only status_list")
    entry = status["status_list"]
    if not isinstance(entry, dict) or not _is_index(entry.get("idx")):
        raise _ClaimsProblem("status.status_list.idx must be a non-negative integer")
    if not _is_uri(entry.get("uri")):
        raise _ClaimsProblem("status.status_list.uri must be a string")
    return cast(str, entry["uri"]), cast(int, entry["idx"])


def _status_ages(overrides: Mapping[str, float]) -> dict[str, float]:
    ages = dict(DEFAULT_STATUS_MAX_AGE)
    for operation, seconds in overrides.items():
        if operation not in CONSENT_OPERATIONS:
            raise ValueError(f"status_max_age names an unknown operation {operation!r}")
        if isinstance(seconds, bool) or not (
            isinstance(seconds, (int, float)) and 0 < seconds <= MAX_STATUS_MAX_AGE
        ):
            raise ValueError(
                f"status_max_age[{operation!r}] must be above 0 and at most "
                f"{MAX_STATUS_MAX_AGE:g} seconds"
            )
        ages[operation] = float(seconds)
    return ages


class ConsentVerifier:
    """Checks consent assertions against pinned Ed25519 public keys (GUARD.md §3.7).

    Args:
        keys: public keys by ``kid`` (PEM, or ``Ed25519PublicKey``). Never private keys.
        issuer: the only accepted ``iss``.
        audience: this faceguard deployment's id (not a URL); ``aud`` must contain it, and
            also the endpoint of the Face resource each call goes to (``verify(endpoint=)``;
            the guard passes its client's). The two together stop a token minted for one
            deployment or resource from being used in another (GUARD.md §3.2, §3.7 step 4).
        leeway: clock-skew allowance in seconds, at most 300.
        clock: seconds since the epoch.
        replay_store: where the ids of ``use: "once"`` tokens (spent) and ``use: "session"``
            tokens (bound to the first client session that presented them) are recorded until
            ``exp + leeway``; such tokens are refused without one. Share it between processes
            (``SQLiteStore``, ``RedisStore``) so a token spent or bound in one is in all.
        cache_size: how many verified signatures to remember (0 turns the cache off).
        status_lists: the signed status lists the application has loaded (``StatusLists``).
            A token with a ``status`` claim is refused (``status_unknown``) without them, and
            a ``use: "standing"`` token without a ``status`` claim is refused
            (``status_required``, GUARD.md §3.1).
        status_max_age: how old, in seconds, a status list may be per consent operation;
            overrides ``DEFAULT_STATUS_MAX_AGE`` (900 s for identify, enroll and
            detect_template; 3600 s for the others), at most 86400 s.
    """

    def __init__(
        self,
        keys: Mapping[str, bytes | str | Ed25519PublicKey],
        *,
        issuer: str,
        audience: str,
        leeway: float = 60,
        clock: Callable[[], float] = time.time,
        replay_store: GuardStore | None = None,
        cache_size: int = 256,
        status_lists: StatusLists | None = None,
        status_max_age: Mapping[str, float] | None = None,
    ) -> None:
        if not keys:
            raise ValueError("a consent verifier needs at least one public key")
        self._keys: dict[str, Ed25519PublicKey] = {
            _check_id(kid, "kid"): _load_public(key) for kid, key in keys.items()
        }
        self._issuer = _check_id(issuer, "issuer")
        self._audience = _check_id(audience, "audience")
        if _endpoint_key(self._audience) is not None:
            # One aud entry must not satisfy both halves of the rule (§3.7 step 4).
            raise ValueError(
                "audience is this faceguard deployment's id, not a Face endpoint: the "
                "endpoint each call goes to is checked as well, per call"
            )
        if isinstance(leeway, bool) or not (
            isinstance(leeway, (int, float)) and 0 <= leeway <= MAX_LEEWAY
        ):
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY:g} seconds")
        self._leeway = float(leeway)
        self._clock = clock
        self._replay_store = replay_store
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self._cache_size = cache_size
        self._cache: OrderedDict[bytes, _Signed] = OrderedDict()
        self._lock = threading.Lock()
        self._status_lists = status_lists
        self._status_max_age = _status_ages(status_max_age or {})

    @property
    def replay_store(self) -> GuardStore | None:
        """Where single-use token ids are recorded (None: ``use: "once"`` tokens are refused)."""
        return self._replay_store

    @property
    def leeway(self) -> float:
        """Clock-skew allowance in seconds (at most 300)."""
        return self._leeway

    def status_max_age(self, operation: str) -> float:
        """How old a status list may be for ``operation``, in seconds."""
        return self._status_max_age.get(operation, OTHER_STATUS_MAX_AGE)

    def verify(
        self,
        token: str,
        scope: ConsentScope,
        *,
        use_case: UseCase | None,
        endpoint: str,
        session: bytes | None = None,
    ) -> ConsentClaims:
        """The token's claims if it permits ``scope``; else ``ConsentRejectedError``.

        Args:
            token: the compact JWS.
            scope: the operation, container and person of the call.
            use_case: the declared use case ``consent.uc`` must equal (None: not checked).
            endpoint: the Face resource endpoint the call goes to; ``aud`` must name it.
            session: the handle of the client session presenting the token (at least 16
                unguessable bytes; each guarded client makes its own). A ``use: "session"``
                token is bound to the first handle it is verified with and refused with any
                other, or with none (GUARD.md §3.7 step 7).

        A ``use: "once"`` token is spent by a successful call. Store failures raise
        ``GuardStoreError`` (fail closed).
        """
        if session is not None and (
            not isinstance(session, bytes) or len(session) < MIN_SESSION_HANDLE
        ):
            raise ValueError(f"session must be at least {MIN_SESSION_HANDLE} unguessable bytes")
        if not isinstance(token, str) or len(token) > MAX_TOKEN_SIZE or not token.isascii():
            raise _reject("malformed", f"not a compact JWS of at most {MAX_TOKEN_SIZE} bytes")
        digest = hashlib.sha256(token.encode("ascii")).digest()
        signed = self._cached(digest)
        if signed is None:
            signed = self._verify_signed(token)
            self._remember(digest, signed)
        self._check_endpoint(signed.audience, endpoint)
        now = self._clock()
        self._check_time(signed, now)
        if signed.claims is None:
            raise _reject("claims", signed.problem or "ill-formed claims")
        # §3.7 step 6, fail closed; before the replay mark, so a refused token keeps its jti.
        self._check_status(signed.claims, scope.operation)
        self._check_scope(signed.claims, scope, use_case)
        self._check_replay(signed.claims, now, session)
        return signed.claims

    # -- signature and claim structure (cached) -------------------------------------------

    def _cached(self, digest: bytes) -> _Signed | None:
        if not self._cache_size:
            return None
        with self._lock:
            signed = self._cache.get(digest)
            if signed is not None:
                self._cache.move_to_end(digest)
            return signed

    def _remember(self, digest: bytes, signed: _Signed) -> None:
        if not self._cache_size:
            return
        with self._lock:
            self._cache[digest] = signed
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _verify_signed(self, token: str) -> _Signed:
        payload, kid = _verify_compact(token, self._keys, typ=TOKEN_TYPE, reject=_reject)
        return self._parse(payload, kid)

    def _parse(self, payload: dict[str, Any], kid: str) -> _Signed:
        if payload.get("iss") != self._issuer:
            raise _reject("issuer", "iss is not the pinned consent issuer")
        aud = payload.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise _reject("audience", "aud must be a string or a list of strings")
        if self._audience not in audiences:
            raise _reject("audience", "aud does not name this deployment")
        # The time checks cannot run without these three; everything else ill-formed is
        # reported as ``claims`` after the time and lifetime checks, in the §3.7 order.
        times = (_number(payload, "iat"), _number(payload, "nbf"), _number(payload, "exp"))
        consent = payload.get("consent")
        use = consent.get("use") if isinstance(consent, dict) else None
        known_use = use if isinstance(use, str) and use in MAX_LIFETIME else None
        audience = tuple(audiences)
        try:
            claims = self._claims(payload, audience, times, kid)
        except _ClaimsProblem as exc:
            return _Signed(*times, known_use, None, str(exc), audience)
        return _Signed(*times, known_use, claims, None, audience)

    def _claims(
        self,
        payload: dict[str, Any],
        audiences: tuple[str, ...],
        times: tuple[float, float, float],
        kid: str,
    ) -> ConsentClaims:
        consent = payload.get("consent")
        if not isinstance(consent, dict):
            raise _ClaimsProblem("the consent object is missing")
        use = consent.get("use")
        if not isinstance(use, str) or use not in MAX_LIFETIME:
            raise _ClaimsProblem(f"consent.use must be one of {sorted(MAX_LIFETIME)}")
        subject = _required_id(payload.get("sub"), "sub")
        jti = _required_id(payload.get("jti"), "jti")
        try:
            use_case = UseCase(consent.get("uc"))
        except ValueError:
            raise _ClaimsProblem("consent.uc is not a known use case") from None
        ops = consent.get("ops")
        if (
            not isinstance(ops, list)
            or not ops
            or not all(isinstance(op, str) and op in CONSENT_OPERATIONS for op in ops)
        ):
            raise _ClaimsProblem("consent.ops must be a non-empty list of consent operations")
        raw_bind = consent.get("bind", [])
        if not isinstance(raw_bind, list):
            raise _ClaimsProblem("consent.bind must be a list")
        bindings: list[Binding] = []
        for item in raw_bind:
            if not isinstance(item, dict) or item.get("kind") not in CONTAINER_KINDS:
                raise _ClaimsProblem("a consent.bind entry has no known kind")
            bindings.append(
                (
                    cast(str, item["kind"]),
                    _required_id(item.get("id"), "consent.bind[].id"),
                    _optional_id(item.get("person_id"), "consent.bind[].person_id"),
                )
            )
        return ConsentClaims(
            issuer=self._issuer,
            subject=subject,
            audience=audiences,
            jti=jti,
            issued_at=times[0],
            not_before=times[1],
            expires_at=times[2],
            use=cast(Use, use),
            use_case=use_case,
            operations=frozenset(ops),
            bindings=tuple(bindings),
            record_id=_optional_id(consent.get("rid"), "consent.rid"),
            kid=kid,
            status=_status_ref(payload),
        )

    # -- every call ------------------------------------------------------------------------

    def _check_endpoint(self, audience: tuple[str, ...], endpoint: str) -> None:
        """``aud`` must also name the Face resource this call goes to (§3.7 step 4), compared
        as ``_endpoint_key`` does. The deployment id is never a URL (the constructor refuses
        one), so the entry that names the resource is always another one."""
        wanted = _endpoint_key(endpoint) if isinstance(endpoint, str) else None
        if wanted is None:
            raise _reject("audience", "the call's endpoint is not an http(s) URL a token can name")
        if not any(_endpoint_key(a) == wanted for a in audience):
            raise _reject("audience", "aud does not name the Face resource this client calls")

    def _check_time(self, signed: _Signed, now: float) -> None:
        leeway = self._leeway
        if now < signed.not_before - leeway:
            raise _reject("not_yet_valid", "the token is not valid yet (nbf)")
        if now >= signed.expires_at + leeway:
            raise _reject("expired", "the token has expired")
        if signed.issued_at > now + leeway:
            raise _reject("issued_in_future", "iat is in the future")
        if signed.use is None:
            raise _reject("claims", f"consent.use must be one of {sorted(MAX_LIFETIME)}")
        if signed.expires_at - signed.issued_at > MAX_LIFETIME[signed.use]:
            raise _reject(
                "lifetime", f"a {signed.use!r} token lives at most {MAX_LIFETIME[signed.use]} s"
            )

    def _check_scope(
        self, claims: ConsentClaims, scope: ConsentScope, use_case: UseCase | None
    ) -> None:
        if scope.operation not in claims.operations:
            raise _reject("operation", f"consent.ops does not include {scope.operation}")
        if use_case is not None and claims.use_case != use_case:
            raise _reject("use_case", "consent.uc is not the declared use case")
        if scope.container_kind is None:
            return
        bound = [
            person
            for kind, cid, person in claims.bindings
            if kind == scope.container_kind and cid == scope.container_id
        ]
        if not bound:
            raise _reject("container", f"the token is not bound to this {scope.container_kind}")
        # Person ids are UUIDs: compared without regard to letter case, as the service does.
        if scope.person_id is not None and scope.person_id.lower() not in {
            p.lower() for p in bound if p is not None
        }:
            raise _reject("person", "the token is not bound to this person")

    def _check_status(self, claims: ConsentClaims, operation: str) -> None:
        if claims.status is None:
            if claims.use == "standing":
                # A day-long token that nothing but its expiry could stop (§3.1).
                raise _reject(
                    "status_required", "a use:'standing' token must name a status list entry"
                )
            return
        if self._status_lists is None:
            raise _reject(
                "status_unknown",
                "the token names a status list but this verifier has no StatusLists to check it",
            )
        uri, idx = claims.status
        self._status_lists.check(uri, idx, max_age=self.status_max_age(operation))

    def _check_replay(self, claims: ConsentClaims, now: float, session: bytes | None) -> None:
        if claims.use == "standing":
            return
        store = self._replay_store
        if store is None:
            raise _reject(
                "replay",
                f"a use:{claims.use!r} token needs a verifier with a replay_store to record it",
            )
        # Kept until the token can no longer pass the time check, leeway included.
        ttl = max(claims.expires_at + self._leeway - now, 1.0)
        if claims.use == "once":
            if not store.add_if_absent(REPLAY_NAMESPACE, claims.jti, b"1", ttl=ttl):
                raise _reject("replay", "this single-use token was already presented")
            return
        if session is None:
            raise _reject(
                "replay", "a use:'session' token is bound to a client session: none was given"
            )
        # The store keeps a digest, never the handle itself.
        mark = hashlib.sha256(b"faceguard-consent-session\0" + session).digest()
        if store.add_if_absent(REPLAY_NAMESPACE, claims.jti, mark, ttl=ttl):
            return
        bound = store.get(REPLAY_NAMESPACE, claims.jti)
        if bound is None or not hmac.compare_digest(bound, mark):
            raise _reject("replay", "this session token is bound to another client session")

    def __repr__(self) -> str:
        return (
            f"ConsentVerifier(issuer={self._issuer!r}, audience={self._audience!r}, "
            f"kids={sorted(self._keys)!r}, leeway={self._leeway:g})"
        )
