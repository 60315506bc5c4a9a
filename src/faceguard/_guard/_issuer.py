"""``ConsentIssuer``: mints consent assertions, for the application's consent service.

faceguard itself never mints tokens (GUARD.md §3.3: the verifier holds public keys only); the
issuer ships for consent services written in Python, for development and for tests. It
refuses to mint what a verifier would refuse anyway, so mistakes surface where they are made:
a personal-looking subject, an audience without the Face resource, a standing token that no
status list could revoke, a lifetime over the maximum for its use.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._claim_values import (
    AgeAttestation,
    ImageOrigin,
    LegalBasis,
    Notice,
    Retention,
    encode_extra_claims,
)
from ._claims import (
    _MAX_TIME,
    CONTAINER_KINDS,
    MAX_LIFETIME,
    MAX_STATUS_URI,
    TOKEN_TYPE,
    StatusRef,
    Use,
    _check_id,
    _check_time,
    _endpoint_key,
    _is_index,
    _is_uri,
    invalid,
)
from ._jws import _b64encode, _load_private, _serialization, _sign_compact, generate_keypair
from ._store import check_clock
from ._usecases import CONSENT_OPERATIONS, UseCase

__all__ = ["ConsentIssuer"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_PHONE = re.compile(r"\+?[\d\s().\-/]{7,}")


def _looks_personal(subject: str) -> bool:
    if _EMAIL.search(subject):
        return True
    return bool(_PHONE.fullmatch(subject)) and sum(c.isdigit() for c in subject) >= 7


def _items(values: object, what: str) -> list[Any]:
    """``values`` as a list, when it is a collection of items (not a string, bytes or a
    mapping, which would iterate as characters, integers or keys)."""
    if isinstance(values, (str, bytes, bytearray, Mapping)) or not isinstance(values, Iterable):
        raise invalid(what, "must be a list of values")
    return list(values)


def _use_case(value: object) -> UseCase:
    if isinstance(value, UseCase):
        return value
    if isinstance(value, str):
        try:
            return UseCase(value)
        except ValueError:
            pass
    raise invalid("use_case", f"must be one of {sorted(uc.value for uc in UseCase)}")


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
        self._clock = check_clock(clock)

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
        source: ImageOrigin | str | None = None,
        alternative_offered: bool | None = None,
        age: AgeAttestation | str | None = None,
        guardian_evidence_ref: str | None = None,
        continuous_identification: bool = False,
        retention: Retention | None = None,
        legal_basis: Iterable[LegalBasis | str] | None = None,
        notice: Notice | None = None,
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

        How the consent was obtained (GUARD.md §3.2; each is left out of the token when not
        given, and which ones a call needs depends on the verifying deployment's use case and
        jurisdictions):

        - ``source`` (``consent.src``): where the images come from, an ``ImageOrigin``.
        - ``alternative_offered`` (``consent.alt``): a way in without a face scan was offered;
          the access-control use cases and workplace deployments need ``True``.
        - ``age`` (``consent.min``): an ``AgeAttestation``; ``MINOR_GUARDIAN_CONSENT`` needs
          ``guardian_evidence_ref``; law-enforcement use cases need ``ADULT_ATTESTED``.
        - ``continuous_identification`` (``consent.cnt``): the subject expressly agreed to be
          identified repeatedly, beyond the guard's tracking caps.
        - ``retention`` (``consent.ret``): a ``Retention`` (until, purpose end, schedule).
        - ``legal_basis`` (``consent.lb``): ``LegalBasis`` values or other ``prefix:term``
          names.
        - ``notice`` (``consent.ntc``): the ``Notice`` the subject was given, before this
          token is issued.
        """
        _check_id(subject, "subject")
        if _looks_personal(subject):
            raise invalid("subject", "looks like an email or phone number: use a pseudonymous id")
        audiences = [audience] if isinstance(audience, str) else _items(audience, "audience")
        for aud in audiences:
            _check_id(aud, "audience")
        endpoints = [aud for aud in audiences if _endpoint_key(aud) is not None]
        if not endpoints or len(endpoints) == len(audiences):
            raise invalid(
                "audience",
                "must name the faceguard deployment id and the Face resource "
                "endpoint (https://<resource>.cognitiveservices.azure.com)",
            )
        names = _items(operations, "operations")
        if not names or not all(isinstance(op, str) and op in CONSENT_OPERATIONS for op in names):
            raise invalid(
                "operations", f"must be a non-empty subset of {sorted(CONSENT_OPERATIONS)}"
            )
        ops = sorted(set(names))
        uc = _use_case(use_case)
        if not isinstance(use, str) or use not in MAX_LIFETIME:
            raise invalid("use", f"must be one of {sorted(MAX_LIFETIME)}")
        max_lifetime = MAX_LIFETIME[use]
        seconds = max_lifetime if lifetime is None else lifetime
        # A range, not math.isfinite: False for NaN and infinities, and exact (no
        # OverflowError) for an int too large for a float.
        if not (
            isinstance(seconds, (int, float))
            and not isinstance(seconds, bool)
            and 1 <= seconds <= _MAX_TIME
        ):
            raise invalid("lifetime", "must be a finite number of at least 1 second")
        if seconds > max_lifetime:
            raise invalid(
                "lifetime", f"a {use!r} token lives at most {max_lifetime} s, not {seconds:g} s"
            )
        bind: list[dict[str, str]] = []
        for entry in _items(bindings, "bindings"):
            if not isinstance(entry, tuple) or len(entry) not in (2, 3):
                raise invalid("bindings", "each binding is a (kind, id) or (kind, id, person_id)")
            kind, cid = entry[0], entry[1]
            person = entry[2] if len(entry) > 2 else None
            if not isinstance(kind, str) or kind not in CONTAINER_KINDS:
                raise invalid(
                    "bindings", f"unknown container kind: one of {sorted(CONTAINER_KINDS)}"
                )
            item = {"kind": kind, "id": _check_id(cid, "binding id")}
            if person is not None:
                item["person_id"] = _check_id(person, "binding person_id")
            bind.append(item)
        now = self._clock()
        iat = math.floor(now)
        exp = iat + math.floor(seconds)
        nbf = iat if not_before is None else math.floor(_check_time(not_before, "not_before"))
        if nbf >= exp:
            raise invalid("not_before", "must come before the expiry")
        if status is None and use == "standing":
            raise invalid(
                "status",
                "a use='standing' token needs status=(uri, idx): a status list entry that can "
                "revoke it before its day is over",
            )
        if status is not None:
            if not (isinstance(status, tuple) and len(status) == 2):
                raise invalid("status", "must be a (uri, idx) pair")
            if not _is_uri(status[0]):
                raise invalid(
                    "status",
                    f"the status list uri must be a printable string of at most "
                    f"{MAX_STATUS_URI} characters",
                )
            if not _is_index(status[1]):
                raise invalid("status", "the status list idx must be an integer in 0..2**53-1")
        extra = encode_extra_claims(
            source=source,
            alternative_offered=alternative_offered,
            age=age,
            guardian_evidence_ref=guardian_evidence_ref,
            continuous_identification=continuous_identification,
            retention=retention,
            legal_basis=legal_basis,
            notice=notice,
            issued_at=now,
        )
        consent: dict[str, Any] = {"uc": uc.value, "ops": ops, "bind": bind, "use": use, **extra}
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
