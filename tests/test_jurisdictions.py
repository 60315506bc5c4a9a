"""Issue 13 §4: jurisdiction profiles (GUARD.md §7.1) and the retention rule they compute.

A deployment declares where it operates; every consent token must then carry what each
declared law needs, and a refusal names the law, its section and what to issue. The vectors
below are written as the GUARD.md §9 conformance vectors are: a token's claims, the declared
laws, and the expected decision. They run through a guarded client on the in-process
emulator, and again through a bare ``ConsentVerifier`` with ``requirements_for``.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest

from faceguard import (
    ConsentIssuer,
    ConsentRejectedError,
    ConsentRequirements,
    ConsentScope,
    ConsentVerifier,
    Deployment,
    FaceClient,
    GuardPolicy,
    ImageOrigin,
    InvalidInputError,
    Jurisdiction,
    LegalBasis,
    MemoryStore,
    Notice,
    Retention,
    UseCase,
    destroy_by,
    generate_keypair,
    requirements_for,
)
from faceguard.emulator import Emulator

ENDPOINT = "https://laws.cognitiveservices.azure.com"
DEPLOYMENT = "faceguard:laws-tests"
PHOTO = Path(__file__).parent / "data" / "faces" / "face_recognition" / "obama" / "obama1.jpg"
NOW = time.time()
DAY = 86400.0
YEAR = 365 * DAY

PRIVATE, PUBLIC = generate_keypair()
ISSUER = ConsentIssuer(PRIVATE, issuer="urn:laws", kid="k1")

NOTICE = Notice("https://example.com/biometric-notice", NOW - 3600, version="2")
SCHEDULE = Retention(purpose_end=NOW + YEAR, policy_uri="https://example.com/retention")

# What satisfies each law, as ConsentIssuer.issue arguments.
FULL: dict[Jurisdiction, dict[str, Any]] = {
    Jurisdiction.US_IL: {
        "legal_basis": [LegalBasis.BIPA_WRITTEN_RELEASE],
        "notice": NOTICE,
        "retention": SCHEDULE,
    },
    Jurisdiction.US_TX: {
        "legal_basis": [LegalBasis.CUBI_CONSENT],
        "notice": NOTICE,
        "source": ImageOrigin.CAPTURE_DEVICE,
    },
    Jurisdiction.US_WA: {"legal_basis": [LegalBasis.WA_CONSENT], "notice": NOTICE},
    Jurisdiction.EU_GDPR: {
        "legal_basis": [LegalBasis.EXPLICIT_CONSENT, LegalBasis.GDPR_ART9_2A],
        "notice": NOTICE,
        "retention": Retention(until=NOW + YEAR),
    },
    Jurisdiction.UK: {
        "legal_basis": [LegalBasis.EXPLICIT_CONSENT, LegalBasis.UK_GDPR_ART9_2A],
        "notice": NOTICE,
        "retention": Retention(until=NOW + YEAR),
    },
}

# (declared laws, token claims, expected: "allowed" or the words the refusal must hold)
VECTORS: list[tuple[str, list[Jurisdiction], dict[str, Any], str]] = [
    ("IL complete", [Jurisdiction.US_IL], FULL[Jurisdiction.US_IL], "allowed"),
    ("IL nothing said", [Jurisdiction.US_IL], {}, "740 ILCS 14/15(b)(3)"),
    (
        "IL explicit consent is not a written release",
        [Jurisdiction.US_IL],
        {**FULL[Jurisdiction.US_IL], "legal_basis": [LegalBasis.EXPLICIT_CONSENT]},
        "written release",
    ),
    (
        "IL release without notice",
        [Jurisdiction.US_IL],
        {**FULL[Jurisdiction.US_IL], "notice": None},
        "740 ILCS 14/15(b)(1)-(2)",
    ),
    (
        "IL no public schedule",
        [Jurisdiction.US_IL],
        {**FULL[Jurisdiction.US_IL], "retention": Retention(until=NOW + YEAR)},
        "740 ILCS 14/15(a)",
    ),
    ("TX complete", [Jurisdiction.US_TX], FULL[Jurisdiction.US_TX], "allowed"),
    (
        "TX self-published image",
        [Jurisdiction.US_TX],
        {**FULL[Jurisdiction.US_TX], "source": ImageOrigin.SUBJECT_SELF_PUBLISHED},
        "allowed",
    ),
    (
        "TX no source said",
        [Jurisdiction.US_TX],
        {**FULL[Jurisdiction.US_TX], "source": None},
        "§503.001(b-1)",
    ),
    (
        "TX scraped image",
        [Jurisdiction.US_TX],
        {**FULL[Jurisdiction.US_TX], "source": ImageOrigin.PUBLIC_WEB},
        "§503.001(b-1)",
    ),
    (
        "TX no notice",
        [Jurisdiction.US_TX],
        {**FULL[Jurisdiction.US_TX], "notice": None},
        "§503.001(b)(1)",
    ),
    (
        "TX no consent basis",
        [Jurisdiction.US_TX],
        {**FULL[Jurisdiction.US_TX], "legal_basis": [LegalBasis.LEGAL_AUTHORITY]},
        "§503.001(b)(2)",
    ),
    (
        "TX kept two years past the purpose",
        [Jurisdiction.US_TX],
        {
            **FULL[Jurisdiction.US_TX],
            "retention": Retention(until=NOW + 3 * YEAR, purpose_end=NOW + YEAR),
        },
        "§503.001(c)(3)",
    ),
    ("WA complete", [Jurisdiction.US_WA], FULL[Jurisdiction.US_WA], "allowed"),
    (
        "WA opt-out mechanism instead of consent",
        [Jurisdiction.US_WA],
        {"legal_basis": [LegalBasis.WA_OPT_OUT_MECHANISM], "notice": NOTICE},
        "allowed",
    ),
    (
        "WA no notice",
        [Jurisdiction.US_WA],
        {"legal_basis": ["us-wa:rcw-19-375-020-consent"]},
        "RCW",
    ),
    ("EU complete", [Jurisdiction.EU_GDPR], FULL[Jurisdiction.EU_GDPR], "allowed"),
    (
        "EU consent without Art. 9(2)(a)",
        [Jurisdiction.EU_GDPR],
        {**FULL[Jurisdiction.EU_GDPR], "legal_basis": [LegalBasis.EXPLICIT_CONSENT]},
        "GDPR Art. 9(2)(a)",
    ),
    (
        "EU no storage limit",
        [Jurisdiction.EU_GDPR],
        {**FULL[Jurisdiction.EU_GDPR], "retention": None},
        "Art. 5(1)(e)",
    ),
    (
        "EU no notice",
        [Jurisdiction.EU_GDPR],
        {**FULL[Jurisdiction.EU_GDPR], "notice": None},
        "GDPR Art. 13",
    ),
    ("UK complete", [Jurisdiction.UK], FULL[Jurisdiction.UK], "allowed"),
    (
        "UK with the EU's article is not the UK's",
        [Jurisdiction.UK],
        FULL[Jurisdiction.EU_GDPR],
        "UK GDPR Art. 9(2)(a)",
    ),
    (
        "IL and EU: IL's complete token misses the EU's basis",
        [Jurisdiction.US_IL, Jurisdiction.EU_GDPR],
        FULL[Jurisdiction.US_IL],
        "GDPR Art. 9(2)(a)",
    ),
    (
        "IL and EU: both",
        [Jurisdiction.US_IL, Jurisdiction.EU_GDPR],
        {
            **FULL[Jurisdiction.US_IL],
            "legal_basis": [
                LegalBasis.BIPA_WRITTEN_RELEASE,
                LegalBasis.EXPLICIT_CONSENT,
                LegalBasis.GDPR_ART9_2A,
            ],
            "retention": Retention(until=NOW + YEAR, policy_uri="https://example.com/r"),
        },
        "allowed",
    ),
    ("nothing declared, nothing needed", [], {}, "allowed"),
]


def _issue(claims: dict[str, Any], *, use: str = "once") -> str:
    return ISSUER.issue(
        "p-laws-1",
        audience=[DEPLOYMENT, ENDPOINT],
        operations=["detect_template", "verify"],
        use_case=UseCase.PERSONALIZATION,
        use=use,  # type: ignore[arg-type]
        **{name: value for name, value in claims.items() if value is not None},
    )


def _verifier() -> ConsentVerifier:
    return ConsentVerifier(
        {"k1": PUBLIC}, issuer="urn:laws", audience=DEPLOYMENT, replay_store=MemoryStore()
    )


@pytest.fixture(scope="module")
def emulator() -> Emulator:
    return Emulator()


def _client(emulator: Emulator, jurisdictions: Any, **policy: Any) -> FaceClient:
    verifier = _verifier()
    guard = GuardPolicy(
        use_case=UseCase.PERSONALIZATION,
        jurisdictions=jurisdictions,
        verifier=verifier,
        store=verifier.replay_store,
        **policy,
    )
    return FaceClient(ENDPOINT, api_key="k", transport=emulator.transport(), guard=guard)


@pytest.mark.parametrize(
    ("name", "laws", "claims", "expected"), VECTORS, ids=[v[0] for v in VECTORS]
)
def test_vectors_through_a_guarded_client(
    emulator: Emulator, name: str, laws: list[Jurisdiction], claims: dict[str, Any], expected: str
) -> None:
    with _client(emulator, laws) as client:
        token = _issue(claims)
        if expected == "allowed":
            faces = client.detection.detect(PHOTO, return_face_id=True, consent=token)
            assert len(faces) == 1
            return
        with pytest.raises(ConsentRejectedError) as refused:
            client.detection.detect(PHOTO, return_face_id=True, consent=token)
        assert refused.value.check == "jurisdiction"
        message = str(refused.value)
        assert expected in message, message
        assert "issue the token with" in message
        # the refusal spent nothing: the same token passes where no law is declared
        with _client(emulator, [], deployment=Deployment(public_web_source=True)) as elsewhere:
            elsewhere.detection.detect(PHOTO, return_face_id=True, consent=token)


@pytest.mark.parametrize(
    ("name", "laws", "claims", "expected"), VECTORS, ids=[v[0] for v in VECTORS]
)
def test_vectors_through_a_bare_verifier(
    name: str, laws: list[Jurisdiction], claims: dict[str, Any], expected: str
) -> None:
    requirements = requirements_for(UseCase.PERSONALIZATION, Deployment(), laws)
    verify = _verifier().verify
    scope = ConsentScope("verify")
    if expected == "allowed":
        verify(
            _issue(claims),
            scope,
            use_case=UseCase.PERSONALIZATION,
            endpoint=ENDPOINT,
            requirements=requirements,
        )
        return
    with pytest.raises(ConsentRejectedError, match=re.escape(expected)):
        verify(
            _issue(claims),
            scope,
            use_case=UseCase.PERSONALIZATION,
            endpoint=ENDPOINT,
            requirements=requirements,
        )


def test_every_required_jurisdiction_has_a_profile() -> None:
    assert {j.value for j in Jurisdiction} >= {"US-IL", "US-TX", "US-WA", "EU-GDPR", "UK"}
    for jurisdiction in Jurisdiction:
        requirements = requirements_for(None, None, [jurisdiction])
        assert requirements.jurisdictions == (jurisdiction,)
        # a token that says nothing fails each declared law
        with pytest.raises(ConsentRejectedError) as refused:
            _verifier().verify(
                _issue({}),
                ConsentScope("verify"),
                use_case=None,
                endpoint=ENDPOINT,
                requirements=requirements,
            )
        assert refused.value.check == "jurisdiction"


def test_texas_refuses_public_web_even_where_the_deployment_declares_it(
    emulator: Emulator,
) -> None:
    claims = {**FULL[Jurisdiction.US_TX], "source": ImageOrigin.PUBLIC_WEB}
    with (
        _client(
            emulator, [Jurisdiction.US_TX], deployment=Deployment(public_web_source=True)
        ) as client,
        pytest.raises(ConsentRejectedError, match=r"503\.001\(b-1\)"),
    ):
        client.detection.detect(PHOTO, return_face_id=True, consent=_issue(claims))
    with _client(emulator, [], deployment=Deployment(public_web_source=True)) as client:
        client.detection.detect(PHOTO, return_face_id=True, consent=_issue(claims))


def test_texas_notice_must_come_before_the_token(emulator: Emulator) -> None:
    """A notice dated after the token was issued (a forged or careless consent service) is no
    notice before capture; ConsentIssuer refuses to write one, so this token is hand-signed,
    and the verifier refuses it whatever the laws declared (the notice is ill-formed)."""
    now = int(time.time())
    payload = {
        "iss": "urn:laws",
        "sub": "p-laws-1",
        "aud": [DEPLOYMENT, ENDPOINT],
        "iat": now - 10,
        "nbf": now - 10,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        "consent": {
            "uc": "commercial.personalization",
            "ops": ["detect_template"],
            "bind": [],
            "use": "once",
            "lb": ["us-tx:cubi-503-001b-consent"],
            "src": "capture_device",
            "ntc": {"uri": "https://example.com/n", "at": now - 9},
        },
    }
    token = jwt.encode(
        payload, PRIVATE, algorithm="EdDSA", headers={"kid": "k1", "typ": "fg-consent+jwt"}
    )
    with (
        _client(emulator, [Jurisdiction.US_TX]) as client,
        pytest.raises(ConsentRejectedError, match="later than the token's issue") as refused,
    ):
        client.detection.detect(PHOTO, return_face_id=True, consent=token)
    assert refused.value.check == "claims"


@pytest.mark.parametrize(
    "declared",
    [
        ["US-IL", "EU-GDPR"],
        (Jurisdiction.EU_GDPR, "US-IL"),
        [Jurisdiction.US_IL, Jurisdiction.EU_GDPR, "US-IL"],
        iter(["EU-GDPR", "US-IL"]),
    ],
)
def test_declared_jurisdictions_are_normalised(declared: Any) -> None:
    policy = GuardPolicy(jurisdictions=declared)
    assert policy.jurisdictions == (Jurisdiction.EU_GDPR, Jurisdiction.US_IL)


@pytest.mark.parametrize(
    "declared", ["US-IL", Jurisdiction.US_IL, ["US-CA"], ["us-il"], [1], [None], b"UK", 7]
)
def test_unknown_or_ill_typed_jurisdictions_are_refused(declared: Any) -> None:
    with pytest.raises(InvalidInputError):
        GuardPolicy(jurisdictions=declared)
    with pytest.raises(InvalidInputError):
        requirements_for(None, None, declared)


def test_requirements_are_typed() -> None:
    with pytest.raises(InvalidInputError):
        requirements_for(None, "workplace", [])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        Deployment(workplace="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        _verifier().verify(
            _issue({}),
            ConsentScope("verify"),
            use_case=None,
            endpoint=ENDPOINT,
            requirements=[Jurisdiction.US_IL],  # type: ignore[arg-type]
        )
    assert isinstance(requirements_for(None), ConsentRequirements)


# -- destroy_by: the retention rule -------------------------------------------------------------


def _claims(**claims: Any) -> Any:
    return _verifier().verify(
        _issue(claims), ConsentScope("verify"), use_case=None, endpoint=ENDPOINT
    )


T0 = 1_900_000_000.0


def test_bipa_keeps_until_the_purpose_ends_or_three_years_after_the_last_interaction() -> None:
    claims = _claims()
    # purpose ends first
    assert destroy_by([Jurisdiction.US_IL], claims, T0, T0 + YEAR) == T0 + YEAR
    # the subject stopped coming: 3 years after the last interaction comes first
    assert destroy_by([Jurisdiction.US_IL], claims, T0, T0 + 10 * YEAR) == T0 + 3 * YEAR
    # no purpose end known: the 3 years alone
    assert destroy_by(["US-IL"], claims, T0, None) == T0 + 3 * YEAR
    # nothing known: no date yet
    assert destroy_by([Jurisdiction.US_IL], claims, None, None) is None


def test_texas_keeps_a_year_past_the_purpose_at_most() -> None:
    claims = _claims()
    assert destroy_by([Jurisdiction.US_TX], claims, T0, T0 + DAY) == T0 + DAY + YEAR
    assert destroy_by([Jurisdiction.US_TX], claims, T0, None) is None


@pytest.mark.parametrize("law", [Jurisdiction.US_WA, Jurisdiction.EU_GDPR, Jurisdiction.UK])
def test_purpose_bound_laws_keep_until_the_purpose_ends(law: Jurisdiction) -> None:
    assert destroy_by([law], _claims(), T0, T0 + 5 * DAY) == T0 + 5 * DAY
    assert destroy_by([law], _claims(), T0, None) is None


def test_the_token_retention_date_and_purpose_end_count() -> None:
    until = time.time() + 30 * DAY
    end = time.time() + 60 * DAY
    claims = _claims(retention=Retention(until=until, purpose_end=end))
    assert destroy_by([], claims, None) == pytest.approx(until, abs=1)
    # the token's purpose end feeds the law's rule when the caller has none
    assert destroy_by(
        [Jurisdiction.US_TX], _claims(retention=Retention(purpose_end=end)), None
    ) == (pytest.approx(end + YEAR, abs=1))
    # the earliest of every declared law and the token
    assert destroy_by(
        [Jurisdiction.US_IL, Jurisdiction.US_TX], claims, NOW - 4 * YEAR, end
    ) == pytest.approx(NOW - YEAR, abs=1)
    # the caller's purpose end wins over the token's
    assert destroy_by([Jurisdiction.EU_GDPR], claims, None, until - DAY) == pytest.approx(
        until - DAY, abs=1
    )


def test_destroy_by_refuses_unknown_profiles() -> None:
    with pytest.raises(InvalidInputError):
        destroy_by(["US-CA"], _claims(), T0)
    with pytest.raises(InvalidInputError):
        destroy_by("US-IL", _claims(), T0)


def test_requirements_built_by_hand_check_the_laws_they_name() -> None:
    """No instance can name a law without checking it: the profiles follow the codes."""
    by_hand = ConsentRequirements(jurisdictions=("US-IL",))  # type: ignore[arg-type]
    assert by_hand == requirements_for(None, None, [Jurisdiction.US_IL])
    with pytest.raises(ConsentRejectedError, match=r"740 ILCS 14/15\(b\)\(3\)"):
        _verifier().verify(
            _issue({}),
            ConsentScope("verify"),
            use_case=None,
            endpoint=ENDPOINT,
            requirements=by_hand,
        )
    with pytest.raises(InvalidInputError):
        ConsentRequirements(jurisdictions=("US-CA",))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        ConsentRequirements(public_web_source="yes")  # type: ignore[arg-type]
    assert requirements_for("commercial.touchless_access_control").alternative is not None
    with pytest.raises(InvalidInputError):
        requirements_for("touchless")
