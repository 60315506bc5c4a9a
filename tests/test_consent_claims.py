"""Issue 13 §3: the consent claims about how consent was obtained (GUARD.md §3.2).

``ConsentIssuer.issue`` takes them as typed arguments and refuses bad values before signing;
``ConsentVerifier.verify`` reads them back into the same types and refuses a token whose
claims are ill-formed, whoever signed it (tokens below are also forged with the issuer's own
key through PyJWT, the way a consent service in another language would write them). Then the
rules: an image source a token does not allow, a missing alternative for access control or a
workplace, a law-enforcement token without an adult attestation, a retention date passed.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from faceguard import (
    AgeAttestation,
    AsyncFaceClient,
    ConsentIssuer,
    ConsentRejectedError,
    ConsentScope,
    ConsentVerifier,
    Deployment,
    FaceClient,
    GuardPolicy,
    ImageOrigin,
    InvalidInputError,
    LegalBasis,
    MemoryStore,
    Notice,
    RedisStore,
    Retention,
    SQLiteStore,
    UseCase,
    generate_keypair,
)
from faceguard.emulator import Emulator

ENDPOINT = "https://claims.cognitiveservices.azure.com"
DEPLOYMENT = "faceguard:claims-tests"


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
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


# ---------------------------------------------------------------------------------------------
# the rules, through a guarded client on the in-process emulator
# ---------------------------------------------------------------------------------------------

PHOTO = Path(__file__).parent / "data" / "faces" / "face_recognition" / "obama" / "obama1.jpg"
GROUP = "claims-group"


class Counting(httpx.BaseTransport):
    """The emulator's transport, counting what reaches it (a refusal sends nothing)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        return self.inner.handle_request(request)


@pytest.fixture(scope="module")
def emulator() -> Emulator:
    # An image "on the web" is this photo: the emulator's download is replaced, not mocked
    # away, so the service side really detects in what it fetched.
    return Emulator(fetch_url=lambda url: PHOTO.read_bytes())


class Deploy:
    """One deployment: an issuer, a verifier that trusts it, a policy and a client."""

    def __init__(
        self,
        emulator: Emulator,
        use_case: UseCase,
        *,
        deployment: Deployment | None = None,
        jurisdictions: Any = (),
        store: Any = None,
        clock: Any = time.time,
        keys: tuple[bytes, bytes] | None = None,
    ) -> None:
        private, public = keys or generate_keypair()
        self.private = private
        self.use_case = use_case
        self.issuer = ConsentIssuer(private, issuer="urn:claims-tests", kid="k1", clock=clock)
        self.store = store if store is not None else MemoryStore(clock=clock)
        self.verifier = ConsentVerifier(
            {"k1": public},
            issuer="urn:claims-tests",
            audience=DEPLOYMENT,
            replay_store=self.store,
            clock=clock,
        )
        self.policy = GuardPolicy(
            use_case=use_case,
            deployment=deployment or Deployment(),
            jurisdictions=jurisdictions,
            verifier=self.verifier,
            store=self.store,
            clock=clock,
        )
        self.transport = Counting(emulator.transport())
        self.client = FaceClient(ENDPOINT, api_key="k", transport=self.transport, guard=self.policy)

    def token(self, *, use_case: UseCase | None = None, **claims: Any) -> str:
        options: dict[str, Any] = {
            "audience": [DEPLOYMENT, ENDPOINT],
            "operations": ["detect_template", "enroll"],
            "use_case": use_case or self.use_case,
            "bindings": [("largePersonGroup", GROUP, None)],
        }
        options.update(claims)
        return self.issuer.issue("p-claims-1", **options)

    def detect(self, token: str, image: Any = PHOTO) -> list[Any]:
        return list(self.client.detection.detect(image, return_face_id=True, consent=token))


def refusal(call: Any) -> str:
    """The check a consent refusal names."""
    with pytest.raises(ConsentRejectedError) as refused:
        call()
    message = str(refused.value)
    assert "issue the token with" in message or "issue" in message.split(":")[-1], message
    return refused.value.check


ACCESS = [UseCase.TOUCHLESS_ACCESS_CONTROL, UseCase.GOV_TOUCHLESS_ACCESS_CONTROL]


@pytest.mark.parametrize("use_case", ACCESS)
@pytest.mark.parametrize("alt", [None, False])
def test_access_control_needs_an_alternative_offered(
    emulator: Emulator, use_case: UseCase, alt: bool | None
) -> None:
    deploy = Deploy(emulator, use_case)
    token = deploy.token(alternative_offered=alt)
    assert refusal(lambda: deploy.detect(token)) == "alternative"
    assert deploy.transport.sent == []
    faces = deploy.detect(deploy.token(alternative_offered=True))
    assert len(faces) == 1 and faces[0].face_id


def test_a_refused_once_token_is_not_spent(emulator: Emulator) -> None:
    # The claim check runs before the single-use mark: a token refused for a claim is still
    # unused (and it stays refused: it never gets the claim).
    deploy = Deploy(emulator, UseCase.TOUCHLESS_ACCESS_CONTROL)
    token = deploy.token(source=ImageOrigin.CAPTURE_DEVICE, alternative_offered=True)
    assert refusal(lambda: deploy.detect(token, "https://images.example.com/a.jpg")) == "source"
    assert len(deploy.detect(token)) == 1  # the captured bytes: allowed, and now spent
    with pytest.raises(ConsentRejectedError) as again:
        deploy.detect(token)
    assert again.value.check == "replay"


@pytest.mark.parametrize(
    "use_case", [UseCase.PERSONALIZATION, UseCase.IDENTITY_VERIFICATION, UseCase.LIVENESS]
)
def test_a_workplace_needs_an_alternative_whatever_the_use_case(
    emulator: Emulator, use_case: UseCase
) -> None:
    if use_case is UseCase.LIVENESS:  # no consent operation: nothing to check a token for
        return
    deploy = Deploy(emulator, use_case, deployment=Deployment(workplace=True))
    assert refusal(lambda: deploy.detect(deploy.token())) == "alternative"
    assert len(deploy.detect(deploy.token(alternative_offered=True))) == 1


@pytest.mark.parametrize(
    "use_case",
    [UseCase.PERSONALIZATION, UseCase.IDENTITY_VERIFICATION, UseCase.DUPLICATE_OR_BLOCKED_USERS],
)
def test_tokens_without_the_new_claims_still_work_where_none_is_needed(
    emulator: Emulator, use_case: UseCase
) -> None:
    deploy = Deploy(emulator, use_case)
    assert len(deploy.detect(deploy.token())) == 1
    # and by URL too: a token that does not name its source is not refused for a URL
    assert len(deploy.detect(deploy.token(), "https://images.example.com/a.jpg")) == 1


def test_a_claim_issued_for_another_use_case_does_not_carry_over(emulator: Emulator) -> None:
    deploy = Deploy(emulator, UseCase.TOUCHLESS_ACCESS_CONTROL)
    token = deploy.token(use_case=UseCase.PERSONALIZATION, alternative_offered=True)
    assert refusal(lambda: deploy.detect(token)) == "use_case"


def test_a_forged_token_without_the_claim_is_refused_with_the_right_key(
    emulator: Emulator,
) -> None:
    deploy = Deploy(emulator, UseCase.TOUCHLESS_ACCESS_CONTROL)
    base = {
        "uc": "commercial.touchless_access_control",
        "ops": ["detect_template"],
        "bind": [],
        "use": "session",
    }
    for extra, check in [
        ({}, "alternative"),
        ({"alt": None}, "alternative"),
        ({"alt": "true"}, "claims"),
        ({"alt": 1}, "claims"),
        ({"alt": [True]}, "claims"),
    ]:
        token = _forge(deploy.private, {**base, **extra})
        with pytest.raises(ConsentRejectedError) as refused:
            deploy.detect(token)
        assert refused.value.check == check, (extra, str(refused.value))
    assert deploy.transport.sent == []
    assert len(deploy.detect(_forge(deploy.private, {**base, "alt": True}))) == 1


# -- age of consent (R16, R18) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "age",
    [
        {},
        {"age": AgeAttestation.UNKNOWN},
        {"age": AgeAttestation.MINOR_GUARDIAN_CONSENT, "guardian_evidence_ref": "g-7"},
    ],
    ids=["not said", "unknown", "minor with guardian"],
)
def test_law_enforcement_needs_an_adult_attestation(
    emulator: Emulator, age: dict[str, Any]
) -> None:
    deploy = Deploy(emulator, UseCase.GOV_LAW_ENFORCEMENT_APPREHENDED)
    assert refusal(lambda: deploy.detect(deploy.token(**age))) == "age"
    assert deploy.transport.sent == []
    assert len(deploy.detect(deploy.token(age=AgeAttestation.ADULT_ATTESTED))) == 1


def test_a_minor_with_guardian_consent_is_accepted_outside_law_enforcement(
    emulator: Emulator,
) -> None:
    deploy = Deploy(emulator, UseCase.PERSONALIZATION)
    token = deploy.token(age=AgeAttestation.MINOR_GUARDIAN_CONSENT, guardian_evidence_ref="g-1")
    assert len(deploy.detect(token)) == 1


# -- image source ------------------------------------------------------------------------------

URLS = [
    "https://images.example.com/a.jpg",
    "HTTPS://images.example.com/a.jpg",
    "http://10.0.0.7/capture.png?frame=3",
]


@pytest.mark.parametrize("url", URLS)
def test_a_camera_token_does_not_cover_an_image_given_by_url(emulator: Emulator, url: str) -> None:
    deploy = Deploy(emulator, UseCase.PERSONALIZATION)
    token = deploy.token(source=ImageOrigin.CAPTURE_DEVICE, use="session")
    assert refusal(lambda: deploy.detect(token, url)) == "source"
    person = str(uuid.uuid4())
    with pytest.raises(ConsentRejectedError) as enroll:
        deploy.client.large_person_groups.add_face(GROUP, person, url, consent=token)
    assert enroll.value.check in {"source", "person"}
    assert deploy.transport.sent == []
    assert len(deploy.detect(token, PHOTO.read_bytes())) == 1  # the captured bytes


def test_an_enrollment_by_url_under_a_camera_token_is_refused(emulator: Emulator) -> None:
    deploy = Deploy(emulator, UseCase.PERSONALIZATION)
    client = deploy.client
    client.large_person_groups.create(GROUP, name="claims")
    try:
        token = deploy.token(source="capture_device", use="session")
        person = client.large_person_groups.create_person(GROUP, name="one", consent=token)
        sent = len(deploy.transport.sent)
        with pytest.raises(ConsentRejectedError) as refused:
            client.large_person_groups.add_face(GROUP, person.person_id, URLS[0], consent=token)
        assert refused.value.check == "source"
        assert len(deploy.transport.sent) == sent
        client.large_person_groups.add_face(GROUP, person.person_id, PHOTO, consent=token)
    finally:
        client.large_person_groups.delete(GROUP)


def test_an_uploaded_image_may_come_by_url(emulator: Emulator) -> None:
    deploy = Deploy(emulator, UseCase.PERSONALIZATION)
    token = deploy.token(source=ImageOrigin.SUBJECT_UPLOAD, use="session")
    assert len(deploy.detect(token, URLS[0])) == 1
    assert len(deploy.detect(token, PHOTO)) == 1


def test_public_web_images_are_refused_by_default(emulator: Emulator) -> None:
    deploy = Deploy(emulator, UseCase.MEDIA_ARCHIVE_SEARCH)
    token = deploy.token(source=ImageOrigin.PUBLIC_WEB, use="session")
    assert refusal(lambda: deploy.detect(token, URLS[0])) == "source"
    assert refusal(lambda: deploy.detect(token, PHOTO)) == "source"  # bytes or URL alike


def test_public_web_images_never_enroll_even_where_declared(emulator: Emulator) -> None:
    deploy = Deploy(
        emulator, UseCase.MEDIA_ARCHIVE_SEARCH, deployment=Deployment(public_web_source=True)
    )
    token = deploy.token(source=ImageOrigin.PUBLIC_WEB, use="session")
    assert len(deploy.detect(token, URLS[0])) == 1  # declared: searching is allowed
    with pytest.raises(ConsentRejectedError) as refused:
        deploy.client.large_person_groups.add_face(GROUP, str(uuid.uuid4()), URLS[0], consent=token)
    assert refused.value.check in {"source", "person"}
    # with the person bound, the source is what refuses it
    person = str(uuid.uuid4())
    bound = deploy.token(
        source=ImageOrigin.PUBLIC_WEB, bindings=[("largePersonGroup", GROUP, person)]
    )
    with pytest.raises(ConsentRejectedError) as refused:
        deploy.client.large_person_groups.add_face(GROUP, person, URLS[0], consent=bound)
    assert refused.value.check == "source"
    assert "Art. 5(1)(e)" in str(refused.value)


# -- retention ---------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_past_its_retention_date_covers_nothing(emulator: Emulator) -> None:
    clock = Clock()
    deploy = Deploy(emulator, UseCase.PERSONALIZATION, clock=clock)
    token = deploy.token(retention=Retention(until=clock.now + 120), use="session", lifetime=3600)
    assert len(deploy.detect(token)) == 1
    clock.now += 121
    assert refusal(lambda: deploy.detect(token)) == "retention"


# -- two processes sharing a SQLite store ------------------------------------------------------

_CHILD = (
    """
import sys
from pathlib import Path
from faceguard import (ConsentRejectedError, ConsentVerifier, FaceClient, GuardPolicy,
                       RedisStore, SQLiteStore, UseCase)
from faceguard.emulator import Emulator

db, pub, token, image = sys.argv[1:5]
if db.startswith("redis://"):
    url, prefix = db.split("|")
    store = RedisStore(url, prefix=prefix, key=b"k" * 32)
else:
    store = SQLiteStore(db, key=b"k" * 32)
verifier = ConsentVerifier({"k1": Path(pub).read_bytes()}, issuer="urn:claims-tests",
                           audience=__DEPLOYMENT__, replay_store=store)
policy = GuardPolicy(use_case=UseCase.TOUCHLESS_ACCESS_CONTROL, verifier=verifier, store=store)
emulator = Emulator(fetch_url=lambda url: Path(__PHOTO__).read_bytes())
with FaceClient(__ENDPOINT__, api_key="k", transport=emulator.transport(),
                guard=policy) as client:
    try:
        client.detection.detect(image, return_face_id=True, consent=Path(token).read_text())
        print("allowed")
    except ConsentRejectedError as refused:
        print(refused.check)
""".replace("__DEPLOYMENT__", repr(DEPLOYMENT))
    .replace("__PHOTO__", repr(str(PHOTO)))
    .replace("__ENDPOINT__", repr(ENDPOINT))
)


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_two_processes_sharing_a_store(
    emulator: Emulator, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    """A refusal for a claim in one process spends nothing in the shared store; the use in
    another process does, and the first one sees it."""
    private, public = generate_keypair()
    (tmp_path / "k.pub").write_bytes(public)
    store: Any
    if kind == "sqlite":
        db = str(tmp_path / "guard.db")
        store = SQLiteStore(db, key=b"k" * 32)
    else:
        url, prefix = request.getfixturevalue("redis_url"), f"claims-{uuid.uuid4().hex}"
        db = f"{url}|{prefix}"
        store = RedisStore(url, prefix=prefix, key=b"k" * 32)
    deploy = Deploy(emulator, UseCase.TOUCHLESS_ACCESS_CONTROL, store=store, keys=(private, public))
    token = deploy.token(source=ImageOrigin.CAPTURE_DEVICE, alternative_offered=True)
    (tmp_path / "token").write_text(token)

    def child(image: str) -> str:
        args = [db, str(tmp_path / "k.pub"), str(tmp_path / "token"), image]
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    assert child(URLS[0]) == "source"  # refused there, for the claim: not spent
    assert len(deploy.detect(token)) == 1  # used here, with the captured bytes
    assert child(str(PHOTO)) == "replay"  # spent, as the other process sees


def test_a_forged_claimless_token_is_refused_in_another_process_too(tmp_path: Path) -> None:
    private, public = generate_keypair()
    (tmp_path / "k.pub").write_bytes(public)
    token = _forge(
        private,
        {"uc": "commercial.touchless_access_control", "ops": ["detect_template"], "bind": []},
    )
    (tmp_path / "token").write_text(token)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            str(tmp_path / "g.db"),
            str(tmp_path / "k.pub"),
            str(tmp_path / "token"),
            str(PHOTO),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip() == "alternative", done.stderr[-2000:]


def test_the_async_client_applies_the_same_rules(emulator: Emulator) -> None:
    deploy = Deploy(emulator, UseCase.TOUCHLESS_ACCESS_CONTROL)

    async def scenario() -> list[str]:
        checks = []
        async with AsyncFaceClient(
            ENDPOINT, api_key="k", transport=emulator.transport(), guard=deploy.policy
        ) as client:
            for token, image in [
                (deploy.token(), PHOTO),
                (deploy.token(alternative_offered=True, source="capture_device"), URLS[1]),
                (deploy.token(alternative_offered=True, source="public_web"), PHOTO),
            ]:
                try:
                    await client.detection.detect(image, return_face_id=True, consent=token)
                    checks.append("allowed")
                except ConsentRejectedError as refused:
                    checks.append(refused.check)
            token = deploy.token(alternative_offered=True, source="capture_device")
            faces = await client.detection.detect(PHOTO, return_face_id=True, consent=token)
            checks.append(f"{len(faces)} face")
        return checks

    assert asyncio.run(scenario()) == ["alternative", "source", "source", "1 face"]


def test_a_notice_given_this_very_second_is_before_the_token(
    issuer: ConsentIssuer, verifier: ConsentVerifier
) -> None:
    # iat is whole seconds, rounded down: a notice given a fraction of a second before the
    # token must not read as "after" it
    claims = _verify(verifier, _issue(issuer, notice=Notice("https://n", time.time())))
    assert claims.notice is not None


def test_issuer_and_verifier_refuse_the_same_dates(
    keys: tuple[bytes, bytes], issuer: ConsentIssuer, verifier: ConsentVerifier
) -> None:
    with pytest.raises(InvalidInputError, match="passed"):
        _issue(issuer, retention=Retention(until=time.time() - 1))
    now = int(time.time())
    late = _forge(keys[0], {"ntc": {"uri": "https://n", "at": now + 5}})
    with pytest.raises(ConsentRejectedError) as refused:
        _verify(verifier, late)
    assert refused.value.check == "claims"
    assert "issue the token with a valid notice" in str(refused.value)
    ended = _forge(keys[0], {"ret": {"until": now - 5}})
    with pytest.raises(ConsentRejectedError) as refused:
        _verify(verifier, ended)
    assert refused.value.check == "retention"


def test_the_ledger_enrollment_outside_a_client_takes_the_same_requirements(
    issuer: ConsentIssuer, verifier: ConsentVerifier
) -> None:
    from faceguard import ConsentLedger, Jurisdiction, requirements_for

    ledger = ConsentLedger(MemoryStore(), clock=time.time)
    person = str(uuid.uuid4())
    laws = requirements_for(UseCase.PERSONALIZATION, Deployment(), [Jurisdiction.EU_GDPR])
    options: dict[str, Any] = {
        "verifier": verifier,
        "endpoint": ENDPOINT,
        "use_case": UseCase.PERSONALIZATION,
        "container_kind": "personDirectory",
        "container_id": "default",
        "person_id": person,
    }
    bare = _issue(
        issuer,
        use_case=UseCase.PERSONALIZATION,
        operations=["enroll"],
        bindings=[("personDirectory", "default", person)],
    )
    with pytest.raises(ConsentRejectedError) as refused:
        ledger.enroll(bare, requirements=laws, **options)
    assert refused.value.check == "jurisdiction"
    assert ledger.subject_of("personDirectory", "default", person) is None
    ledger.enroll(bare, **options)  # no law declared: the use case alone needs nothing
    assert ledger.subject_of("personDirectory", "default", person) is not None


def test_the_guardian_evidence_reference_stays_out_of_reprs(
    issuer: ConsentIssuer, verifier: ConsentVerifier
) -> None:
    token = _issue(
        issuer,
        age=AgeAttestation.MINOR_GUARDIAN_CONSENT,
        guardian_evidence_ref="guardian-record-4711",
    )
    claims = _verify(verifier, token)
    assert claims.guardian_evidence_ref == "guardian-record-4711"
    assert "guardian-record-4711" not in repr(claims)
