"""Issue 13 §3: the consent claims about how consent was obtained (GUARD.md §3.2).

``ConsentIssuer.issue`` takes them as typed arguments and refuses bad values before signing;
``ConsentVerifier.verify`` reads them back into the same types and refuses a token whose
claims are ill-formed, whoever signed it (tokens below are also forged with the issuer's own
key through PyJWT, the way a consent service in another language would write them). Then the
rules: an image source a token does not allow, a missing alternative for access control or a
workplace, a law-enforcement token without an adult attestation, a retention date passed.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest

from faceguard import (
    AgeAttestation,
    ConsentIssuer,
    ConsentRejectedError,
    ConsentScope,
    ConsentVerifier,
    ImageOrigin,
    InvalidInputError,
    LegalBasis,
    MemoryStore,
    Notice,
    Retention,
    UseCase,
)

ENDPOINT = "https://claims.cognitiveservices.azure.com"
DEPLOYMENT = "faceguard:claims-tests"
PRIVATE, PUBLIC = None, None


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    from faceguard import generate_keypair

    return generate_keypair()


@pytest.fixture
def issuer(keys: tuple[bytes, bytes]) -> ConsentIssuer:
    return ConsentIssuer(keys[0], issuer="urn:claims-tests", kid="k1")


@pytest.fixture
def verifier(keys: tuple[bytes, bytes]) -> ConsentVerifier:
    return ConsentVerifier(
        {"k1": keys[1]}, issuer="urn:claims-tests", audience=DEPLOYMENT, replay_store=MemoryStore()
    )


def _issue(issuer: ConsentIssuer, **claims: Any) -> str:
    options: dict[str, Any] = {
        "audience": [DEPLOYMENT, ENDPOINT],
        "operations": ["verify", "detect_template", "enroll"],
        "use_case": UseCase.IDENTITY_VERIFICATION,
    }
    options.update(claims)
    return issuer.issue("p-claims-1", **options)


def _forge(private_pem: bytes, consent_extra: dict[str, Any], **top: Any) -> str:
    """A token signed with the issuer's real key, its ``consent`` object written by hand."""
    now = int(time.time())
    payload = {
        "iss": "urn:claims-tests",
        "sub": "p-claims-1",
        "aud": [DEPLOYMENT, ENDPOINT],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        "consent": {
            "uc": "commercial.identity_verification",
            "ops": ["verify", "detect_template", "enroll"],
            "bind": [],
            "use": "once",
            **consent_extra,
        },
        **top,
    }
    return jwt.encode(
        payload, private_pem, algorithm="EdDSA", headers={"kid": "k1", "typ": "fg-consent+jwt"}
    )


def _verify(verifier: ConsentVerifier, token: str, operation: str = "verify", **kw: Any) -> Any:
    return verifier.verify(
        token, ConsentScope(operation), use_case=kw.pop("use_case", None), endpoint=ENDPOINT, **kw
    )


# ---------------------------------------------------------------------------------------------
# round trip: what the issuer writes, the verifier reads back, typed
# ---------------------------------------------------------------------------------------------


def test_claims_round_trip_typed(issuer: ConsentIssuer, verifier: ConsentVerifier) -> None:
    now = time.time()
    token = _issue(
        issuer,
        source=ImageOrigin.CAPTURE_DEVICE,
        alternative_offered=True,
        age=AgeAttestation.ADULT_ATTESTED,
        continuous_identification=True,
        retention=Retention(until=now + 86400, purpose_end=now + 3600, policy_uri="https://r.x"),
        legal_basis=[LegalBasis.EXPLICIT_CONSENT, "eu-gdpr:A9-2-a"],
        notice=Notice("https://example.com/notice", now - 60, sha256="a" * 64, version="3"),
    )
    claims = _verify(verifier, token)
    assert claims.source is ImageOrigin.CAPTURE_DEVICE
    assert claims.alternative_offered is True
    assert claims.age is AgeAttestation.ADULT_ATTESTED
    assert claims.continuous_identification is True
    assert claims.retention_until == pytest.approx(now + 86400, abs=1)
    assert claims.retention_purpose_end == pytest.approx(now + 3600, abs=1)
    assert claims.retention_policy_uri == "https://r.x"
    assert claims.legal_basis == {"dpv:ExplicitlyExpressedConsent", "eu-gdpr:A9-2-a"}
    assert claims.notice is not None and claims.notice.version == "3"


def test_wire_names_are_accepted_too(issuer: ConsentIssuer, verifier: ConsentVerifier) -> None:
    token = _issue(
        issuer, source="subject_upload", age="minor_guardian_consent", guardian_evidence_ref="g-1"
    )
    claims = _verify(verifier, token)
    assert claims.source is ImageOrigin.SUBJECT_UPLOAD
    assert claims.age is AgeAttestation.MINOR_GUARDIAN_CONSENT
    assert claims.guardian_evidence_ref == "g-1"


def test_a_token_without_the_claims_reads_as_not_said(
    issuer: ConsentIssuer, verifier: ConsentVerifier
) -> None:
    claims = _verify(verifier, _issue(issuer))
    assert claims.source is None
    assert claims.alternative_offered is None
    assert claims.age is None
    assert claims.continuous_identification is False
    assert claims.retention_until is None
    assert claims.legal_basis == frozenset()
    assert claims.notice is None


# ---------------------------------------------------------------------------------------------
# the issuer refuses what no verifier would accept
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("source", "device_camera"),
        ("source", "PUBLIC_WEB"),
        ("source", 1),
        ("alternative_offered", "true"),
        ("alternative_offered", 1),
        ("age", "adult"),
        ("age", True),
        ("continuous_identification", "yes"),
        ("continuous_identification", None),
        ("retention", {"until": 1}),
        ("legal_basis", "dpv:ExplicitlyExpressedConsent"),  # a string, not a list
        ("legal_basis", []),
        ("legal_basis", ["explicit consent"]),
        ("legal_basis", [7]),
        ("notice", "https://example.com/notice"),
    ],
)
def test_issuer_refuses_wrong_values(issuer: ConsentIssuer, claim: str, value: object) -> None:
    with pytest.raises(InvalidInputError):
        _issue(issuer, **{claim: value})


def test_issuer_refuses_ill_formed_retention_and_notice(issuer: ConsentIssuer) -> None:
    with pytest.raises(InvalidInputError):
        Retention()
    with pytest.raises(InvalidInputError):
        Retention(until=float("nan"))
    with pytest.raises(InvalidInputError):
        Retention(policy_uri="")
    with pytest.raises(InvalidInputError):
        Notice("https://n", given_at=-1)
    with pytest.raises(InvalidInputError):
        Notice("https://n", given_at=time.time(), sha256="ABC")
    with pytest.raises(InvalidInputError, match="before the token is issued"):
        _issue(issuer, notice=Notice("https://n", given_at=time.time() + 3600))


def test_guardian_evidence_goes_with_a_minor_only(issuer: ConsentIssuer) -> None:
    with pytest.raises(InvalidInputError, match="guardian"):
        _issue(issuer, age=AgeAttestation.MINOR_GUARDIAN_CONSENT)
    with pytest.raises(InvalidInputError, match="guardian"):
        _issue(issuer, age=AgeAttestation.ADULT_ATTESTED, guardian_evidence_ref="g-1")
    with pytest.raises(InvalidInputError, match="guardian"):
        _issue(issuer, guardian_evidence_ref="g-1")


# ---------------------------------------------------------------------------------------------
# the verifier refuses ill-formed claims in a token signed with the right key
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"src": "device_camera"},
        {"src": "Capture_Device"},
        {"src": ["capture_device"]},
        {"alt": "true"},
        {"alt": 1},
        {"min": "adult"},
        {"min": "minor_guardian_consent"},  # no guardian evidence
        {"min": "adult_attested", "min_ref": "g-1"},
        {"cnt": 1},
        {"cnt": "true"},
        {"ret": "2027-01-01"},
        {"ret": {}},
        {"ret": {"until": "2027-01-01"}},
        {"ret": {"until": True}},
        {"lb": "dpv:ExplicitlyExpressedConsent"},
        {"lb": []},
        {"lb": [None]},
        {"ntc": "https://example.com/notice"},
        {"ntc": {"uri": "https://example.com/notice"}},  # no time
        {"ntc": {"uri": "https://n", "at": 1, "sha256": "xyz"}},
    ],
    ids=repr,
)
def test_verifier_refuses_ill_formed_claims(
    keys: tuple[bytes, bytes], verifier: ConsentVerifier, extra: dict[str, Any]
) -> None:
    with pytest.raises(ConsentRejectedError) as refused:
        _verify(verifier, _forge(keys[0], extra))
    assert refused.value.check == "claims"
    assert "issue the token with" in str(refused.value)


def test_forged_well_formed_claims_read_like_issued_ones(
    keys: tuple[bytes, bytes], verifier: ConsentVerifier
) -> None:
    token = _forge(
        keys[0],
        {"src": "capture_device", "alt": False, "cnt": True, "ret": {"until": 2e9}},
    )
    claims = _verify(verifier, token)
    assert claims.source is ImageOrigin.CAPTURE_DEVICE
    assert claims.alternative_offered is False
    assert claims.continuous_identification is True
    assert claims.retention_until == 2e9
