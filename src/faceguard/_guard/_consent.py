"""Consent assertions: short-lived Ed25519-signed JWTs that bind one use of a face (GUARD.md §3).

The application's consent service mints them with ``ConsentIssuer`` (it holds the private
key); faceguard checks them with ``ConsentVerifier``, which holds only pinned public keys, by
``kid``. Verification runs the §3.7 steps in a fixed order and the first failure raises
``ConsentRejectedError`` whose ``check`` names it. Neither class keeps or logs a raw token:
the verifier's signature cache is keyed by the token's SHA-256.

The verifier is here; the issuer is in ``_issuer``, the claim vocabulary both share in
``_claims`` and the strict compact-JWS profile (shared with status lists) in ``_jws``. The
public names are re-exported from this module.

PyJWT and cryptography are imported only when a key is loaded or a token is minted or
checked, so ``import faceguard`` does not need them (``pip install "faceguard[consent]"``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from .._exceptions import ConsentRejectedError
from ._claim_rules import ConsentRequirements, use_case_requirements
from ._claim_values import AgeAttestation, ClaimsProblem, ImageOrigin, Notice, parse_extra_claims
from ._claims import (
    _MAX_ID,
    _MAX_TIME,
    CONTAINER_KINDS,
    MAX_LIFETIME,
    TOKEN_TYPE,
    Binding,
    StatusRef,
    Use,
    _check_id,
    _endpoint_key,
    _is_index,
    _is_uri,
    invalid,
)

# Re-exported: ``faceguard._guard._consent`` stays the one import path of the consent API
# (the issuer, key generation, the claim vocabulary) and of the lazy crypto loaders the
# audit seal shares.
from ._issuer import ConsentIssuer as ConsentIssuer
from ._jws import _ed25519 as _ed25519
from ._jws import _load_public_keys, _verify_compact
from ._jws import _serialization as _serialization
from ._jws import generate_keypair as generate_keypair
from ._store import GuardStore, check_clock, check_store
from ._usecases import CONSENT_OPERATIONS, UseCase

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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
    "Use",
    "generate_keypair",
]

MAX_TOKEN_SIZE = 8 * 1024
MAX_LEEWAY = 300.0
REPLAY_NAMESPACE = "consent-jti"
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
MIN_SESSION_HANDLE = 16
"""Shortest accepted client session handle, in bytes: it must be unguessable."""


@dataclass(frozen=True)
class ConsentScope:
    """The binding one call needs: its consent operation and, if any, container and person.

    ``image_url`` says the call's image is one the service fetches from a URL (detect and
    add-face from a URL): a token whose ``consent.src`` is ``capture_device`` does not cover
    it.
    """

    operation: str
    container_kind: str | None = None
    container_id: str | None = None
    person_id: str | None = None
    image_url: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.image_url, bool):
            raise invalid("image_url", "must be True or False")
        if not isinstance(self.operation, str) or self.operation not in CONSENT_OPERATIONS:
            raise invalid("operation", f"must be one of {sorted(CONSENT_OPERATIONS)}")
        kind = self.container_kind
        if kind is not None and (not isinstance(kind, str) or kind not in CONTAINER_KINDS):
            raise invalid("container_kind", f"must be one of {sorted(CONTAINER_KINDS)}")
        if (self.container_kind is None) != (self.container_id is None):
            raise invalid("container_id", "container_kind and container_id go together")
        if self.person_id is not None and self.container_id is None:
            raise invalid("person_id", "a person_id needs its container")
        for name in ("container_id", "person_id"):
            value = getattr(self, name)
            if value is not None:
                _check_id(value, name)


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
    source: ImageOrigin | None = None
    """``consent.src``: where the images come from (None: the token does not say)."""
    alternative_offered: bool | None = None
    """``consent.alt``: a non-biometric alternative was offered (None: not said)."""
    age: AgeAttestation | None = None
    """``consent.min``: the age-of-consent attestation (None: not said)."""
    guardian_evidence_ref: str | None = field(default=None, repr=False)
    """``consent.min_ref``: the guardian's consent evidence, for a minor (kept out of the
    repr: it points at a record about a child)."""
    continuous_identification: bool = False
    """``consent.cnt``: explicit consent to continuous, repeated identification (R17)."""
    retention_until: float | None = None
    """``consent.ret.until``: the template must be gone by then (seconds since the epoch)."""
    retention_purpose_end: float | None = None
    """``consent.ret.purpose_end``: when the purpose of the collection ends, if known."""
    retention_policy_uri: str | None = None
    """``consent.ret.policy_uri``: the public retention schedule."""
    legal_basis: frozenset[str] = frozenset()
    """``consent.lb``: the legal bases named (empty: none)."""
    notice: Notice | None = None
    """``consent.ntc``: the notice the subject was given."""

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


@functools.lru_cache(maxsize=256)
def _audience_names(audience: tuple[str, ...], endpoint: str) -> bool | None:
    """Whether an ``aud`` entry names the Face resource at ``endpoint`` (None: the endpoint is
    not a URL a token can name). Pure, and the same few pairs recur on every call."""
    wanted = _endpoint_key(endpoint)
    if wanted is None:
        return None
    return any(_endpoint_key(a) == wanted for a in audience)


@functools.lru_cache(maxsize=256)
def _session_mark(session: bytes) -> bytes:
    """What the replay store keeps for a client session: a digest, never the handle itself
    (remembered: each client presents the same handle on every call)."""
    return hashlib.sha256(b"faceguard-consent-session\0" + session).digest()


def _reject(check: str, message: str) -> ConsentRejectedError:
    return ConsentRejectedError(check, message)


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _reject("claims", f"{name} must be a NumericDate")
    if not 0 <= value <= _MAX_TIME:  # also False for NaN; exact for huge ints
        raise _reject("claims", f"{name} is out of range")
    return float(value)


_ClaimsProblem = ClaimsProblem
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


def _status_ages(overrides: object) -> dict[str, float]:
    ages = dict(DEFAULT_STATUS_MAX_AGE)
    if not isinstance(overrides, Mapping):
        raise invalid("status_max_age", "must map consent operations to seconds")
    for operation, seconds in overrides.items():
        if not isinstance(operation, str) or operation not in CONSENT_OPERATIONS:
            raise invalid(
                "status_max_age",
                f"names an unknown operation (one of {sorted(CONSENT_OPERATIONS)})",
            )
        if isinstance(seconds, bool) or not (
            isinstance(seconds, (int, float)) and 0 < seconds <= MAX_STATUS_MAX_AGE
        ):
            raise invalid(
                "status_max_age",
                f"status_max_age[{operation!r}] must be above 0 and at most "
                f"{MAX_STATUS_MAX_AGE:g} seconds",
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
        self._keys: dict[str, Ed25519PublicKey] = _load_public_keys(keys)
        self._issuer = _check_id(issuer, "issuer")
        self._audience = _check_id(audience, "audience")
        if _endpoint_key(self._audience) is not None:
            # One aud entry must not satisfy both halves of the rule (§3.7 step 4).
            raise invalid(
                "audience",
                "audience is this faceguard deployment's id, not a Face endpoint: the "
                "endpoint each call goes to is checked as well, per call",
            )
        if isinstance(leeway, bool) or not (
            isinstance(leeway, (int, float)) and 0 <= leeway <= MAX_LEEWAY
        ):
            raise invalid("leeway", f"leeway must be between 0 and {MAX_LEEWAY:g} seconds")
        self._leeway = float(leeway)
        self._clock = check_clock(clock)
        self._replay_store = check_store(replay_store, "replay_store")
        if type(cache_size) is not int or cache_size < 0:
            raise invalid("cache_size", "must be an integer >= 0")
        self._cache_size = cache_size
        self._cache: OrderedDict[bytes, _Signed] = OrderedDict()
        # (jti, session mark) -> until when: session tokens this verifier has seen bound to
        # that session in the replay store. A binding never changes once made, so a client
        # reusing its session token asks the store once, not on every call.
        self._bound: OrderedDict[tuple[str, bytes], float] = OrderedDict()
        self._lock = threading.Lock()
        self._status_lists = status_lists
        self._status_max_age = _status_ages({} if status_max_age is None else status_max_age)

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
        requirements: ConsentRequirements | None = None,
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
            requirements: the claims the deployment needs (``requirements_for(use_case,
                deployment, jurisdictions)``; a guarded client passes its policy's). Default:
                those of ``use_case`` alone. A token missing one is refused, and not spent.

        A ``use: "once"`` token is spent by a successful call. Store failures raise
        ``GuardStoreError`` (fail closed).
        """
        if not isinstance(scope, ConsentScope):
            raise invalid("scope", "must be a ConsentScope")
        if use_case is not None and not isinstance(use_case, UseCase):
            raise invalid("use_case", "must be the declared UseCase (or None)")
        if session is not None and (
            not isinstance(session, bytes) or len(session) < MIN_SESSION_HANDLE
        ):
            raise invalid("session", f"must be at least {MIN_SESSION_HANDLE} unguessable bytes")
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
        if requirements is None:
            requirements = use_case_requirements(use_case)
        elif type(requirements) is not ConsentRequirements:
            raise invalid("requirements", "must be a ConsentRequirements (requirements_for)")
        requirements.check(signed.claims, scope, now)
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
            raise _reject(
                "issuer",
                "the token was not issued by the consent issuer this verifier trusts: issue it "
                "with that ConsentIssuer (its issuer name and key)",
            )
        aud = payload.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise _reject(
                "audience",
                "the token's audience is not a list of names: issue it with audience=[...]",
            )
        if self._audience not in audiences:
            raise _reject(
                "audience",
                f"the token is not for this deployment: issue it with {self._audience!r} in its "
                "audience (beside the Face endpoint)",
            )
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
        extra = parse_extra_claims(consent, times[0])
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
            source=extra.source,
            alternative_offered=extra.alternative_offered,
            age=extra.age,
            guardian_evidence_ref=extra.guardian_evidence_ref,
            continuous_identification=extra.continuous_identification,
            retention_until=extra.retention_until,
            retention_purpose_end=extra.retention_purpose_end,
            retention_policy_uri=extra.retention_policy_uri,
            legal_basis=extra.legal_basis,
            notice=extra.notice,
        )

    # -- every call ------------------------------------------------------------------------

    def _check_endpoint(self, audience: tuple[str, ...], endpoint: str) -> None:
        """``aud`` must also name the Face resource this call goes to (§3.7 step 4), compared
        as ``_endpoint_key`` does. The deployment id is never a URL (the constructor refuses
        one), so the entry that names the resource is always another one."""
        named = _audience_names(audience, endpoint) if isinstance(endpoint, str) else None
        if named is None:
            raise _reject(
                "audience", "this client's endpoint is not an http(s) URL a token can name"
            )
        if not named:
            raise _reject(
                "audience",
                f"the token is not for the Face resource this client calls: issue it with "
                f"{endpoint!r} in its audience",
            )

    def _check_time(self, signed: _Signed, now: float) -> None:
        leeway = self._leeway
        if now < signed.not_before - leeway:
            raise _reject(
                "not_yet_valid",
                "the token is not valid yet (it starts later): check the issuer's clock",
            )
        if now >= signed.expires_at + leeway:
            raise _reject("expired", "the token has expired: issue a new one")
        if signed.issued_at > now + leeway:
            raise _reject(
                "issued_in_future",
                "the token says it was issued in the future: check the issuer's clock",
            )
        if signed.use is None:
            raise _reject(
                "claims", f"the token's use is not one of {sorted(MAX_LIFETIME)}: issue it with one"
            )
        if signed.expires_at - signed.issued_at > MAX_LIFETIME[signed.use]:
            raise _reject(
                "lifetime",
                f"a use={signed.use!r} token may live at most {MAX_LIFETIME[signed.use]} s: "
                "issue it with a shorter lifetime",
            )

    def _check_scope(
        self, claims: ConsentClaims, scope: ConsentScope, use_case: UseCase | None
    ) -> None:
        if scope.operation not in claims.operations:
            raise _reject(
                "operation",
                f"the token does not allow {scope.operation}: issue the token with operation "
                f"{scope.operation!r} among its operations",
            )
        if use_case is not None and claims.use_case != use_case:
            raise _reject(
                "use_case",
                f"the token was issued for another use case: issue it with use_case={use_case!s} "
                "(this client's declared use case)",
            )
        if scope.container_kind is None:
            return
        # One pass, no comprehension: this runs on every recognition call.
        in_container = person_bound = False
        wanted = None if scope.person_id is None else scope.person_id.lower()
        for kind, cid, person in claims.bindings:
            if kind == scope.container_kind and cid == scope.container_id:
                in_container = True
                # Person ids are UUIDs: compared without regard to case, as the service does.
                if wanted is not None and person is not None and person.lower() == wanted:
                    person_bound = True
        if not in_container:
            raise _reject(
                "container",
                f"the token does not cover this {scope.container_kind}: issue it with a binding "
                f"for it (('{scope.container_kind}', container_id, person_id or None))",
            )
        if wanted is not None and not person_bound:
            raise _reject(
                "person",
                "the token does not cover this person: issue it with a binding that names the "
                "person, or bind the container only and create the person with "
                "create_person(..., consent=token)",
            )

    def _check_status(self, claims: ConsentClaims, operation: str) -> None:
        if claims.status is None:
            if claims.use == "standing":
                # A day-long token that nothing but its expiry could stop (§3.1).
                raise _reject(
                    "status_required",
                    "a use='standing' token must name a status list entry: issue it with "
                    "status=(uri, index), so that it can be revoked before it expires",
                )
            return
        if self._status_lists is None:
            raise _reject(
                "status_unknown",
                "the token names a status list but this verifier has none to check it: build "
                "the ConsentVerifier with status_lists=StatusLists(...)",
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
                f"a use={claims.use!r} token must be recorded when it is used: build the "
                "ConsentVerifier with replay_store=<the guard's store>",
            )
        # Kept until the token can no longer pass the time check, leeway included.
        ttl = max(claims.expires_at + self._leeway - now, 1.0)
        if claims.use == "once":
            if not store.add_if_absent(REPLAY_NAMESPACE, claims.jti, b"1", ttl=ttl):
                raise _reject(
                    "replay",
                    "this single-use token (use='once') was already used: issue a new one, or "
                    "issue it with use='session' to cover several calls of one flow",
                )
            return
        if session is None:
            raise _reject(
                "replay",
                "a use='session' token is bound to the client that first presents it, and "
                "this call came with no client session",
            )
        mark = _session_mark(session)
        binding = (claims.jti, mark)
        with self._lock:
            until = self._bound.get(binding)
        if until is not None and now < until:
            return  # bound to this very session, as the store said before
        if not store.add_if_absent(REPLAY_NAMESPACE, claims.jti, mark, ttl=ttl):
            bound = store.get(REPLAY_NAMESPACE, claims.jti)
            if bound is None or not hmac.compare_digest(bound, mark):
                raise _reject(
                    "replay",
                    "this session token is already in use by another client: issue one per "
                    "client (use='session' tokens bind to the first client that presents them)",
                )
        if self._cache_size:
            with self._lock:
                self._bound[binding] = claims.expires_at + self._leeway
                while len(self._bound) > self._cache_size:
                    self._bound.popitem(last=False)

    def __repr__(self) -> str:
        return (
            f"ConsentVerifier(issuer={self._issuer!r}, audience={self._audience!r}, "
            f"kids={sorted(self._keys)!r}, leeway={self._leeway:g})"
        )
