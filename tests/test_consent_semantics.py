"""Consent semantics through the public API (GUARD.md §3.1, §3.2, §3.5, §3.7, §3.8).

Attackers' tests: each rule is tried in several spellings, orders and processes, through
``faceguard`` names only (clients, issuer, verifier, status lists, ledger, stores):

- the token's ``aud`` must name this deployment AND the Face resource the client calls;
- a ``use: "session"`` token belongs to the first client that presents it;
- a ``use: "standing"`` token needs a status list entry (and a fresh list);
- a status list cannot be rolled back, not even to one signed in the same second;
- a spent ``use: "once"`` token stays spent until ``exp + leeway``;
- nothing public binds a person to a consent subject without a verified token.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

import faceguard
from faceguard import (
    AsyncFaceClient,
    AuditLog,
    ConsentIssuer,
    ConsentLedger,
    ConsentRejectedError,
    ConsentScope,
    ConsentVerifier,
    FaceClient,
    GuardPolicy,
    InvalidInputError,
    MemoryStore,
    SQLiteStore,
    StatusListError,
    StatusListIssuer,
    StatusLists,
    UseCase,
    generate_keypair,
)

ENDPOINT = "https://hq-face.cognitiveservices.azure.com"
OTHER_ENDPOINT = "https://branch-face.cognitiveservices.azure.com"
DEPLOYMENT = "faceguard:deploy:hq-access"
OTHER_DEPLOYMENT = "faceguard:deploy:branch-access"
GROUP = "hq-staff"
PERSON = "8f0c2d8e-3f3a-4a57-9d55-2f7c6a1b0c11"
SUBJECT = "p-alice"
UC = UseCase.TOUCHLESS_ACCESS_CONTROL
STATUS_URI = "https://consent.example.com/status/7"
JPEG = b"\xff\xd8\xff\xe0" + bytes(4000)
NOW = 1_800_000_000.0


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Service:
    """A scripted Face service; identify answers with ``self.candidates``."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.candidates: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/face/v1.2")
        if path == "/detect":
            return httpx.Response(
                200,
                json=[
                    {
                        "faceId": str(uuid.uuid4()),
                        "faceRectangle": {"top": 1, "left": 1, "width": 90, "height": 90},
                    }
                ],
            )
        if path == "/identify":
            body = json.loads(request.content)
            return httpx.Response(
                200,
                json=[
                    {
                        "faceId": face_id,
                        "candidates": [{"personId": p, "confidence": 0.9} for p in self.candidates],
                    }
                    for face_id in body["faceIds"]
                ],
            )
        return httpx.Response(200, json={"persistedFaceId": str(uuid.uuid4())})


class Deploy:
    """A consent service (issuer, status list) and the guard configuration that trusts it."""

    def __init__(self, store: Any = None, *, leeway: float = 60) -> None:
        self.clock = Clock()
        self.store = store if store is not None else MemoryStore(clock=self.clock)
        self.issuer, self.public = ConsentIssuer.generate(
            issuer="https://consent.example.com", kid="k1", clock=self.clock
        )
        self.status = StatusListIssuer(self.issuer, size=64)
        self.lists = StatusLists({"k1": self.public}, issuer=self.issuer.issuer, clock=self.clock)
        self.lists.update(self.status.token(STATUS_URI, ttl=300))
        self.verifier = ConsentVerifier(
            {"k1": self.public},
            issuer=self.issuer.issuer,
            audience=DEPLOYMENT,
            clock=self.clock,
            replay_store=self.store,
            status_lists=self.lists,
            leeway=leeway,
        )
        self.policy = GuardPolicy(
            use_case=UC, verifier=self.verifier, store=self.store, clock=self.clock
        )
        self.service = Service()

    def client(self, endpoint: str = ENDPOINT) -> FaceClient:
        return FaceClient(
            endpoint, api_key="k", transport=httpx.MockTransport(self.service), guard=self.policy
        )

    def async_client(self, endpoint: str = ENDPOINT) -> AsyncFaceClient:
        return AsyncFaceClient(
            endpoint,
            api_key="k",
            transport=httpx.MockTransport(self.service),
            guard=self.policy,
        )

    def token(
        self,
        *,
        audience: Any = (DEPLOYMENT, ENDPOINT),
        use: Any = "session",
        subject: str = SUBJECT,
        operations: Any = ("detect_template", "identify", "enroll", "verify"),
        person: str | None = PERSON,
        status: Any = None,
        lifetime: float | None = None,
    ) -> str:
        return self.issuer.issue(
            subject,
            audience=list(audience),
            operations=operations,
            use_case=UC,
            bindings=[("largePersonGroup", GROUP, person)],
            use=use,
            status=status if status is not None or use != "standing" else (STATUS_URI, 3),
            lifetime=lifetime,
            alternative_offered=True,  # access control: enrolling stays optional (R06)
        )


def detect(client: FaceClient, token: str) -> None:
    client.detection.detect(JPEG, return_face_id=True, consent=token)


def check_of(call: Any) -> str:
    with pytest.raises(ConsentRejectedError) as info:
        call()
    return info.value.check


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def raw_token(private_pem: bytes, payload: dict[str, Any], *, typ: str = "fg-consent+jwt") -> str:
    """Sign anything (an issuer with a bug, or a stolen key): bypasses ConsentIssuer's rules."""
    from cryptography.hazmat.primitives import serialization

    key: Any = serialization.load_pem_private_key(private_pem, password=None)
    header = b64(json.dumps({"alg": "EdDSA", "typ": typ, "kid": "k1"}).encode())
    body = b64(json.dumps(payload).encode())
    return f"{header}.{body}.{b64(key.sign(f'{header}.{body}'.encode()))}"


def raw_claims(clock: Clock, **changes: Any) -> dict[str, Any]:
    iat = int(clock())
    base: dict[str, Any] = {
        "iss": "https://consent.example.com",
        "sub": SUBJECT,
        "aud": [DEPLOYMENT, ENDPOINT],
        "iat": iat,
        "nbf": iat,
        "exp": iat + 600,
        "jti": str(uuid.uuid4()),
        "consent": {
            "uc": UC.value,
            "ops": ["detect_template", "identify"],
            "bind": [{"kind": "largePersonGroup", "id": GROUP}],
            "use": "session",
        },
    }
    base.update(changes)
    return base


class RawDeploy(Deploy):
    """A deployment whose issuer key the test holds, to mint tokens ConsentIssuer refuses."""

    def __init__(self) -> None:
        super().__init__()
        self.private, public = generate_keypair()
        self.issuer = ConsentIssuer(
            self.private, issuer="https://consent.example.com", kid="k1", clock=self.clock
        )
        self.status = StatusListIssuer(self.issuer, size=64)
        self.lists = StatusLists({"k1": public}, issuer=self.issuer.issuer, clock=self.clock)
        self.lists.update(self.status.token(STATUS_URI, ttl=300))
        self.verifier = ConsentVerifier(
            {"k1": public},
            issuer=self.issuer.issuer,
            audience=DEPLOYMENT,
            clock=self.clock,
            replay_store=self.store,
            status_lists=self.lists,
        )
        self.policy = GuardPolicy(
            use_case=UC, verifier=self.verifier, store=self.store, clock=self.clock
        )


# -- aud: this deployment AND this Face resource (§3.2, §3.7 step 4) ------------------------


@pytest.mark.parametrize(
    "audience",
    [
        [DEPLOYMENT, OTHER_ENDPOINT],  # another Face resource of the same deployment
        [OTHER_DEPLOYMENT, ENDPOINT],  # another deployment on the same Face resource
        [DEPLOYMENT, ENDPOINT + ".evil.example"],  # the endpoint as a host prefix
        [DEPLOYMENT, "https://hq-face.cognitiveservices.azure.com@evil.example"],  # userinfo
        [DEPLOYMENT, "https://evil.example/?u=https://hq-face.cognitiveservices.azure.com"],
        [DEPLOYMENT, "https://evil.example/#https://hq-face.cognitiveservices.azure.com"],
        [DEPLOYMENT, "http://hq-face.cognitiveservices.azure.com"],  # another scheme
        [DEPLOYMENT, "https://hq-face.cognitiveservices.azure.com:8443"],  # another port
        [DEPLOYMENT, ENDPOINT + "/face-proxy"],  # another path (a gateway in front)
        [DEPLOYMENT, "https://hq-face\u3002cognitiveservices\u3002azure\u3002com"],  # IDNA dots
        [DEPLOYMENT, "https://hq-face.cognitiveservices.azure.com\t.evil.example"],
        # Spellings that urlsplit alone would read as the very resource:
        [DEPLOYMENT, "https://hq-face.cognitive\tservices.azure.com"],  # a tab it drops
        [DEPLOYMENT, "https://hq-face.cognitiveservices.azure\n.com"],  # a newline it drops
        [DEPLOYMENT, "https://someone@hq-face.cognitiveservices.azure.com"],  # user info
        [DEPLOYMENT, "https://hq-face.cognitiveservices.azure.com/?x=1"],  # a query
        [DEPLOYMENT, "https://hq-face.cognitiveservices.azure.com?"],  # an empty query
        [DEPLOYMENT, "https://hq-face.cognitiveservices.azure.com#frag"],  # a fragment
        [DEPLOYMENT, "\x00https://hq-face.cognitiveservices.azure.com"],  # a control it strips
        [DEPLOYMENT, " https://hq-face.cognitiveservices.azure.com"],  # a space it strips
        [DEPLOYMENT, "https://hq-face.cognitiveservices.azure.com:99999"],  # no such port
        [DEPLOYMENT, "https://[::1"],  # not a URL urlsplit can read
        [DEPLOYMENT, "hq-face.cognitiveservices.azure.com"],  # no scheme: not a URL
        [DEPLOYMENT.upper(), ENDPOINT],  # deployment ids are exact
    ],
)
def test_token_for_another_resource_or_deployment_is_refused(audience):
    deploy = RawDeploy()  # signed as is: the verifier must refuse what an issuer let through
    token = raw_token(deploy.private, raw_claims(deploy.clock, aud=audience))
    with deploy.client() as client:
        assert check_of(lambda: detect(client, token)) == "audience"
    assert deploy.service.requests == []
    if len(audience) == 2 and audience[0] == DEPLOYMENT and audience[1] != OTHER_ENDPOINT:
        # ConsentIssuer mints only URLs that name a resource; the others never leave it.
        try:
            minted = deploy.token(audience=audience)
        except ValueError:
            return
        with deploy.client() as client:
            assert check_of(lambda: detect(client, minted)) == "audience"


@pytest.mark.parametrize(
    "payload_aud",
    [
        DEPLOYMENT,  # the deployment alone (the old rule)
        [DEPLOYMENT],
        ENDPOINT,  # the resource alone
        [ENDPOINT, ENDPOINT + "/"],  # the resource twice, no deployment
        [],
    ],
)
def test_token_missing_the_deployment_or_the_resource_is_refused(payload_aud):
    deploy = RawDeploy()
    token = raw_token(deploy.private, raw_claims(deploy.clock, aud=payload_aud))
    with deploy.client() as client:
        assert check_of(lambda: detect(client, token)) == "audience"


@pytest.mark.parametrize(
    "named",
    [
        "HTTPS://HQ-FACE.CognitiveServices.Azure.com",
        ENDPOINT + "/",
        "https://hq-face.cognitiveservices.azure.com:443/",
        "https://hq-face.cognitiveservices.azure.com.",  # the same fully qualified name
    ],
)
def test_the_resource_may_be_spelled_in_equivalent_ways(named):
    deploy = Deploy()
    with deploy.client(ENDPOINT + "/") as client:
        detect(client, deploy.token(audience=[DEPLOYMENT, named]))


def test_one_token_works_on_the_resource_it_names_and_not_on_another():
    deploy = Deploy()
    token = deploy.token(use="standing")  # reusable: only the audience can stop it
    with deploy.client(ENDPOINT) as here, deploy.client(OTHER_ENDPOINT) as there:
        detect(here, token)
        assert check_of(lambda: detect(there, token)) == "audience"
        detect(here, token)


@pytest.mark.parametrize(
    "audience",
    [
        [DEPLOYMENT],
        [ENDPOINT],
        [],
        [ENDPOINT, OTHER_ENDPOINT],
        [DEPLOYMENT, "https://hq-face.cognitiveservices.azure.com@evil.example"],
        [DEPLOYMENT, "https://evil.example/?u=x"],
        [DEPLOYMENT, "hq-face.cognitiveservices.azure.com"],
        [DEPLOYMENT, "https://hq-face.cognitiveservices.azure.com\t"],
        [DEPLOYMENT, "https://\uff48q-face.cognitiveservices.azure.com"],  # fullwidth h
        [DEPLOYMENT, "https://hq-face.cognitiveservices.azure.com?"],
    ],
)
def test_issuer_refuses_an_audience_without_a_resource_or_a_deployment(audience):
    with pytest.raises(ValueError, match="audience"):
        Deploy().token(audience=audience)


def test_verifier_refuses_an_endpoint_as_its_deployment_id():
    _, public = ConsentIssuer.generate()
    for audience in (ENDPOINT, ENDPOINT.upper() + "/"):
        with pytest.raises(ValueError, match="deployment"):
            ConsentVerifier({"k": public}, issuer="i", audience=audience)


def test_direct_verification_checks_the_endpoint_too():
    deploy = Deploy()
    token = deploy.token(use="standing")
    scope = ConsentScope("detect_template")
    deploy.verifier.verify(token, scope, use_case=UC, endpoint=ENDPOINT)
    for endpoint in (OTHER_ENDPOINT, "", "hq-face.cognitiveservices.azure.com", None):
        with pytest.raises(ConsentRejectedError) as info:
            deploy.verifier.verify(token, scope, use_case=UC, endpoint=endpoint)  # type: ignore[arg-type]
        assert info.value.check == "audience"


# -- session tokens: one client session (§3.7 step 7) ---------------------------------------


def test_session_token_is_reusable_on_the_client_that_first_presented_it():
    deploy = Deploy()
    token = deploy.token()
    with deploy.client() as client:
        for _ in range(3):
            detect(client, token)
            deploy.clock.now += 10


def test_session_token_is_refused_on_a_second_client_with_the_same_policy():
    deploy = Deploy()
    token = deploy.token()
    with deploy.client() as first, deploy.client() as second:
        detect(first, token)
        sent = len(deploy.service.requests)
        assert check_of(lambda: detect(second, token)) == "replay"
        assert len(deploy.service.requests) == sent
        detect(first, token)  # the refusal did not take it from the first client


def test_the_first_client_wins_whichever_it_is():
    deploy = Deploy()
    token = deploy.token()
    with deploy.client() as first, deploy.client() as second:
        detect(second, token)
        assert check_of(lambda: detect(first, token)) == "replay"


def test_session_token_is_refused_on_an_async_client_after_a_sync_one():
    deploy = Deploy()
    token = deploy.token()
    with deploy.client() as first:
        detect(first, token)

    async def other() -> str:
        async with deploy.async_client() as second:
            try:
                await second.detection.detect(JPEG, return_face_id=True, consent=token)
            except ConsentRejectedError as exc:
                return exc.check
            return "accepted"

    assert asyncio.run(other()) == "replay"


def test_session_token_is_refused_on_a_client_of_another_process_sharing_the_store(
    tmp_path: Path,
):
    clock = Clock()
    deploy = Deploy(SQLiteStore(tmp_path / "guard.db", clock=clock))
    deploy.clock = clock
    token = deploy.token()
    with deploy.client() as first:
        detect(first, token)
    # A second process: its own store connection, verifier and client on the same file.
    other = Deploy(SQLiteStore(tmp_path / "guard.db", clock=clock))
    verifier = ConsentVerifier(
        {"k1": deploy.public},
        issuer=deploy.issuer.issuer,
        audience=DEPLOYMENT,
        clock=clock,
        replay_store=other.store,
        status_lists=deploy.lists,
    )
    policy = GuardPolicy(use_case=UC, verifier=verifier, store=other.store, clock=clock)
    with FaceClient(
        ENDPOINT, api_key="k", transport=httpx.MockTransport(other.service), guard=policy
    ) as second:
        assert check_of(lambda: detect(second, token)) == "replay"


def test_session_token_stays_bound_inside_the_leeway_after_expiry():
    deploy = Deploy()
    token = deploy.token(lifetime=600)
    with deploy.client() as first, deploy.client() as second:
        detect(first, token)
        deploy.clock.now = NOW + 600 + 30  # expired, but within the 60 s leeway
        assert check_of(lambda: detect(second, token)) == "replay"


def test_direct_verification_of_a_session_token_needs_a_session_handle():
    deploy = Deploy()
    token = deploy.token()
    scope = ConsentScope("detect_template")
    with pytest.raises(ConsentRejectedError) as info:
        deploy.verifier.verify(token, scope, use_case=UC, endpoint=ENDPOINT)
    assert info.value.check == "replay"
    mine, theirs = bytes(range(32)), bytes(range(1, 33))
    deploy.verifier.verify(token, scope, use_case=UC, endpoint=ENDPOINT, session=mine)
    deploy.verifier.verify(token, scope, use_case=UC, endpoint=ENDPOINT, session=mine)
    with pytest.raises(ConsentRejectedError) as info:
        deploy.verifier.verify(token, scope, use_case=UC, endpoint=ENDPOINT, session=theirs)
    assert info.value.check == "replay"
    with pytest.raises(ValueError, match="session"):
        deploy.verifier.verify(token, scope, use_case=UC, endpoint=ENDPOINT, session=b"short")


# -- once tokens: spent until exp + leeway (§3.7 step 7) ------------------------------------


@pytest.mark.parametrize(("leeway", "after_expiry"), [(60, 1), (60, 59), (300, 250)])
def test_once_token_replayed_inside_the_leeway_after_its_expiry_is_refused(leeway, after_expiry):
    deploy = Deploy(leeway=leeway)
    token = deploy.token(use="once", lifetime=600)
    with deploy.client() as client:
        deploy.clock.now = NOW + 5
        detect(client, token)
        deploy.clock.now = NOW + 600 + after_expiry
        assert check_of(lambda: detect(client, token)) == "replay"


def test_once_token_replay_across_processes_inside_the_leeway_is_refused(tmp_path: Path):
    clock = Clock()
    deploy = Deploy(SQLiteStore(tmp_path / "replay.db", clock=clock))
    deploy.clock = clock
    token = deploy.token(use="once", lifetime=600)
    scope = ConsentScope("detect_template")
    deploy.verifier.verify(token, scope, use_case=UC, endpoint=ENDPOINT)
    clock.now = NOW + 600 + 45
    later = ConsentVerifier(
        {"k1": deploy.public},
        issuer=deploy.issuer.issuer,
        audience=DEPLOYMENT,
        clock=clock,
        replay_store=SQLiteStore(tmp_path / "replay.db", clock=clock),
    )
    with pytest.raises(ConsentRejectedError) as info:
        later.verify(token, scope, use_case=UC, endpoint=ENDPOINT)
    assert info.value.check == "replay"


# -- standing tokens: only with a status list entry (§3.1) ---------------------------------


def test_issuer_refuses_a_standing_token_without_a_status_entry():
    deploy = Deploy()
    with pytest.raises(ValueError, match="status"):
        deploy.issuer.issue(
            SUBJECT,
            audience=[DEPLOYMENT, ENDPOINT],
            operations=["verify"],
            use_case=UC,
            use="standing",
        )


@pytest.mark.parametrize(
    ("status", "check"),
    [
        ("absent", "status_required"),  # no status claim at all
        (None, "claims"),  # a null status: not a status_list reference
        ({}, "claims"),
        ({"other_mechanism": {"idx": 3}}, "claims"),
    ],
)
def test_standing_token_without_a_status_entry_is_refused(status, check):
    deploy = RawDeploy()
    claims = raw_claims(deploy.clock, exp=int(NOW) + 86400)
    claims["consent"]["use"] = "standing"
    if status != "absent":
        claims["status"] = status
    token = raw_token(deploy.private, claims)
    with deploy.client() as client:
        assert check_of(lambda: detect(client, token)) == check
    assert deploy.service.requests == []


def test_standing_token_is_refused_with_a_stale_list_and_accepted_with_a_fresh_one():
    deploy = Deploy()
    token = deploy.token(use="standing")
    with deploy.client() as client:
        detect(client, token)
        deploy.clock.now = NOW + 901  # detect_template allows a 900 s old list
        assert check_of(lambda: detect(client, token)) == "status_stale"
        deploy.lists.update(deploy.status.token(STATUS_URI, ttl=300))
        detect(client, token)


def test_standing_token_on_a_verifier_without_status_lists_is_refused():
    deploy = Deploy()
    token = deploy.token(use="standing")
    bare = ConsentVerifier(
        {"k1": deploy.public}, issuer=deploy.issuer.issuer, audience=DEPLOYMENT, clock=deploy.clock
    )
    with pytest.raises(ConsentRejectedError) as info:
        bare.verify(token, ConsentScope("detect_template"), use_case=UC, endpoint=ENDPOINT)
    assert info.value.check == "status_unknown"


# -- status list rollback: by (iat, seq), not by iat alone ---------------------------------


def _revoked_then_valid(deploy: Deploy) -> tuple[str, str]:
    valid = deploy.status.token(STATUS_URI, ttl=300)  # signed first, in this second
    deploy.status.revoke(3)
    revoked = deploy.status.token(STATUS_URI, ttl=300)  # signed later, the same second
    return valid, revoked


def test_rollback_within_the_same_second_is_refused():
    deploy = Deploy()
    valid, revoked = _revoked_then_valid(deploy)
    deploy.lists.update(revoked)
    with pytest.raises(StatusListError) as info:
        deploy.lists.update(valid)
    assert info.value.check == "rollback"
    with deploy.client() as client:
        assert check_of(lambda: detect(client, deploy.token(use="standing"))) == "revoked"


def test_rollback_is_refused_in_either_arrival_order_of_three_lists():
    deploy = Deploy()
    first = deploy.status.token(STATUS_URI, ttl=300)
    deploy.status.revoke(3)
    second = deploy.status.token(STATUS_URI, ttl=300)
    third = deploy.status.token(STATUS_URI, ttl=300)
    deploy.lists.update(first)
    deploy.lists.update(third)
    for older in (first, second):
        with pytest.raises(StatusListError) as info:
            deploy.lists.update(older)
        assert info.value.check == "rollback"
    assert deploy.lists.update(third).sequence == deploy.status.sequence - 1  # idempotent


def test_a_list_without_a_sequence_or_with_a_bad_one_is_refused():
    deploy = RawDeploy()
    import zlib

    base = {
        "iss": "https://consent.example.com",
        "sub": STATUS_URI,
        "iat": int(NOW),
        "exp": int(NOW) + 3600,
        "status_list": {"bits": 1, "lst": b64(zlib.compress(bytes(8)))},
    }
    for seq in ("absent", None, -1, 1.5, True, "7", 2**63):
        payload = dict(base) if seq == "absent" else {**base, "seq": seq}
        with pytest.raises(StatusListError) as info:
            deploy.lists.update(raw_token(deploy.private, payload, typ="statuslist+jwt"))
        assert info.value.check == "claims", seq


def test_a_different_list_with_the_same_iat_and_sequence_is_refused():
    deploy = RawDeploy()
    import zlib

    def listing(data: bytes) -> str:
        payload = {
            "iss": "https://consent.example.com",
            "sub": STATUS_URI,
            "iat": int(NOW) + 1,
            "exp": int(NOW) + 3600,
            "seq": 10,
            "status_list": {"bits": 1, "lst": b64(zlib.compress(data))},
        }
        return raw_token(deploy.private, payload, typ="statuslist+jwt")

    revoked = bytes([0b1000]) + bytes(7)
    deploy.lists.update(listing(revoked))
    deploy.lists.update(listing(revoked))  # the very same list again: harmless
    with pytest.raises(StatusListError) as info:
        deploy.lists.update(listing(bytes(8)))  # same (iat, seq), index 3 valid again
    assert info.value.check == "rollback"


def test_a_restarted_issuer_continues_its_sequence():
    deploy = Deploy()
    deploy.lists.update(deploy.status.token(STATUS_URI, ttl=300))
    deploy.status.revoke(3)
    saved_bits, saved_seq = deploy.status.bitstring(), deploy.status.sequence
    newest = deploy.status.token(STATUS_URI, ttl=300)
    restarted = StatusListIssuer(
        deploy.issuer, size=64, bitstring=saved_bits, sequence=saved_seq + 1
    )
    deploy.lists.update(newest)
    deploy.lists.update(restarted.token(STATUS_URI, ttl=300))  # same second, later sequence
    with pytest.raises(ValueError, match="sequence"):
        StatusListIssuer(deploy.issuer, size=64, sequence=-1)


# -- nothing public binds a person without a verified token (§3.5, §3.8) --------------------


def _identify(deploy: Deploy, candidates: list[str]) -> list[str]:
    deploy.service.candidates = candidates
    # The operator's own standing token, on another status entry than the enrollments'.
    token = deploy.token(use="standing", subject="p-operator", person=None, status=(STATUS_URI, 5))
    # Oversight records decisions and reviews in an audit trail: the client gets one.
    audit = AuditLog(Path(tempfile.mkdtemp(prefix="faceguard-semantics-")) / "audit.jsonl")
    policy = dataclasses.replace(deploy.policy, audit=audit)
    with FaceClient(
        ENDPOINT, api_key="k", transport=httpx.MockTransport(deploy.service), guard=policy
    ) as client:
        face_ids = [
            f.face_id
            for f in client.detection.detect(JPEG, return_face_id=True, consent=token)
            if f.face_id
        ]
        # Access control decides about people: its identifications come back provisional,
        # through client.oversight (R11); the candidates proposed are what is checked here.
        results = client.oversight.identify_from_large_person_group(
            face_ids, large_person_group_id=GROUP, consent=token
        ).provisional
    audit.close()
    return [c.person_id for r in results for c in r.candidates]


def test_an_unenrolled_candidate_is_suppressed():
    deploy = Deploy()
    assert _identify(deploy, [PERSON]) == []


def test_the_public_ledger_has_no_tokenless_way_to_bind_a_person():
    deploy = Deploy()
    ledger = ConsentLedger(deploy.store, clock=deploy.clock)
    assert not hasattr(ledger, "record_enrollment")
    for name in dir(ledger):
        if name.startswith("_") or not callable(getattr(ledger, name)):
            continue
        if name in {"enroll"}:
            continue
        # Every other public method either reads, withdraws or forgets; call each with the
        # person's coordinates and check the candidate is still suppressed.
        method = getattr(ledger, name)
        for args in (
            ("largePersonGroup", GROUP, PERSON, SUBJECT),
            ("largePersonGroup", GROUP, PERSON),
            ("largePersonGroup", GROUP, [PERSON]),
            ("largePersonGroup", GROUP),
            (SUBJECT,),
        ):
            try:
                method(*args)
            # not this method's arguments (a list as a person id is refused typed now)
            except (TypeError, AttributeError, InvalidInputError):
                continue
    assert _identify(deploy, [PERSON]) == []


def _enroll(deploy: Deploy, token: str, **changes: Any) -> None:
    kwargs: dict[str, Any] = {
        "verifier": deploy.verifier,
        "endpoint": ENDPOINT,
        "use_case": UC,
        "container_kind": "largePersonGroup",
        "container_id": GROUP,
        "person_id": PERSON,
    }
    kwargs.update(changes)
    ConsentLedger(deploy.store, clock=deploy.clock).enroll(token, **kwargs)


@pytest.mark.parametrize(
    "attack",
    [
        "use_case_without_enrollment",
        "no_use_case",
        "another_person",
        "no_enroll_op",
        "another_key",
        "another_resource",
        "withdrawn",
        "revoked",
        "another_use_case",
        "not_a_token",
    ],
)
def test_ledger_enroll_refuses_a_token_that_does_not_permit_it(attack):
    deploy = Deploy()
    token = deploy.token(use="standing")
    changes: dict[str, Any] = {}
    if attack == "use_case_without_enrollment":
        # A liveness-only use case permits no enrollment, whatever a token says.
        token = deploy.issuer.issue(
            SUBJECT,
            audience=[DEPLOYMENT, ENDPOINT],
            operations=["enroll"],
            use_case=UseCase.LIVENESS,
            bindings=[("largePersonGroup", GROUP, PERSON)],
            use="standing",
            status=(STATUS_URI, 3),
        )
        changes["use_case"] = UseCase.LIVENESS
    elif attack == "no_use_case":
        changes["use_case"] = None  # would skip the use-case check of the token
    elif attack == "another_person":
        token = deploy.token(use="standing", person=str(uuid.uuid4()))
    elif attack == "no_enroll_op":
        token = deploy.token(use="standing", operations=["identify"])
    elif attack == "another_key":
        forger, _ = ConsentIssuer.generate(
            issuer="https://consent.example.com", kid="k1", clock=deploy.clock
        )
        token = forger.issue(
            SUBJECT,
            audience=[DEPLOYMENT, ENDPOINT],
            operations=["enroll"],
            use_case=UC,
            bindings=[("largePersonGroup", GROUP, PERSON)],
            use="standing",
            status=(STATUS_URI, 3),
            alternative_offered=True,
        )
    elif attack == "another_resource":
        changes["endpoint"] = OTHER_ENDPOINT
    elif attack == "withdrawn":
        ConsentLedger(deploy.store, clock=deploy.clock).withdraw(SUBJECT)
    elif attack == "revoked":
        deploy.status.revoke(3)
        deploy.lists.update(deploy.status.token(STATUS_URI, ttl=300))
    elif attack == "another_use_case":
        changes["use_case"] = UseCase.PERSONALIZATION
    elif attack == "not_a_token":
        token = SUBJECT
    expected = {"use_case_without_enrollment": faceguard.UseCaseError, "no_use_case": ValueError}
    with pytest.raises(expected.get(attack, ConsentRejectedError)):
        _enroll(deploy, token, **changes)
    ledger = ConsentLedger(deploy.store, clock=deploy.clock)
    assert ledger.subject_of("largePersonGroup", GROUP, PERSON) is None
    if attack != "withdrawn":
        assert _identify(deploy, [PERSON]) == []


def test_ledger_enroll_with_a_valid_token_makes_the_candidate_visible():
    deploy = Deploy()
    _enroll(deploy, deploy.token(use="standing"))
    assert _identify(deploy, [PERSON]) == [PERSON]
    ledger = ConsentLedger(deploy.store, clock=deploy.clock)
    assert ledger.persons_of(SUBJECT) == [("largePersonGroup", GROUP, PERSON)]


def test_person_directory_enrollment_needs_a_token_too():
    deploy = Deploy()
    directory_token = deploy.issuer.issue(
        SUBJECT,
        audience=[DEPLOYMENT, ENDPOINT],
        operations=["enroll"],
        use_case=UC,
        bindings=[("personDirectory", "default", PERSON)],
        use="standing",
        status=(STATUS_URI, 3),
        alternative_offered=True,  # access control (R06)
    )
    with pytest.raises(ConsentRejectedError):  # bound to the directory, not the group
        _enroll(deploy, directory_token)
    _enroll(deploy, directory_token, container_kind="personDirectory", container_id="default")
    ledger = ConsentLedger(deploy.store, clock=deploy.clock)
    assert ledger.persons_of(SUBJECT) == [("personDirectory", "default", PERSON)]


def test_public_objects_reachable_from_a_policy_offer_no_binding_method():
    deploy = Deploy()
    with deploy.client() as client:
        reachable: list[object] = [client, deploy.policy, deploy.verifier, deploy.lists]
        for obj in reachable:
            for name in dir(obj):
                assert "enroll" not in name or name.startswith("_"), (type(obj), name)
                assert "ledger" not in name or name.startswith("_"), (type(obj), name)
    assert "record_enrollment" not in dir(faceguard.ConsentLedger)


# -- the same rules across processes sharing a Redis store ----------------------------------


def _redis(redis_url: str, prefix: str) -> Any:
    from faceguard import RedisStore

    return RedisStore(redis_url, prefix=prefix)


def test_session_and_once_tokens_across_processes_sharing_redis(redis_url: str):
    prefix = f"fg-sem-{uuid.uuid4().hex[:8]}"
    deploy = Deploy()
    scope = ConsentScope("detect_template")

    def process() -> ConsentVerifier:  # its own connection, verifier and session handle
        return ConsentVerifier(
            {"k1": deploy.public},
            issuer=deploy.issuer.issuer,
            audience=DEPLOYMENT,
            clock=deploy.clock,
            replay_store=_redis(redis_url, prefix),
        )

    session, once = deploy.token(), deploy.token(use="once")
    first, second = process(), process()
    mine, theirs = bytes(range(32)), bytes(range(1, 33))
    for verifier in (first, first):
        verifier.verify(session, scope, use_case=UC, endpoint=ENDPOINT, session=mine)
    second.verify(session, scope, use_case=UC, endpoint=ENDPOINT, session=mine)  # same handle
    with pytest.raises(ConsentRejectedError) as info:
        second.verify(session, scope, use_case=UC, endpoint=ENDPOINT, session=theirs)
    assert info.value.check == "replay"
    first.verify(once, scope, use_case=UC, endpoint=ENDPOINT)
    with pytest.raises(ConsentRejectedError) as info:
        second.verify(once, scope, use_case=UC, endpoint=ENDPOINT)
    assert info.value.check == "replay"


def test_status_list_rollback_across_processes_sharing_redis(redis_url: str):
    prefix = f"fg-sem-{uuid.uuid4().hex[:8]}"
    deploy = Deploy()
    valid, revoked = _revoked_then_valid(deploy)

    def process() -> StatusLists:
        return StatusLists(
            {"k1": deploy.public},
            issuer=deploy.issuer.issuer,
            clock=deploy.clock,
            store=_redis(redis_url, prefix),
        )

    process().update(revoked)
    with pytest.raises(StatusListError) as info:
        process().update(valid)
    assert info.value.check == "rollback"


def test_a_session_binding_is_read_from_the_store_once_per_verifier() -> None:
    """A client reusing its session token does not ask the replay store on every call; the
    binding itself still lives in the store, so another client is refused all the same."""

    class Counting(MemoryStore):
        calls = 0

        def add_if_absent(self, *args: Any, **kwargs: Any) -> bool:
            type(self).calls += 1
            return super().add_if_absent(*args, **kwargs)

        def get(self, *args: Any, **kwargs: Any) -> bytes | None:
            if args and args[0] == "consent-jti":
                type(self).calls += 1
            return super().get(*args, **kwargs)

    deploy = Deploy(store=Counting())
    token = deploy.token()
    scope = ConsentScope("detect_template")
    mine, theirs = bytes(range(32)), bytes(range(1, 33))
    for _ in range(5):
        deploy.verifier.verify(token, scope, use_case=UC, endpoint=ENDPOINT, session=mine)
    assert Counting.calls == 1
    with pytest.raises(ConsentRejectedError) as info:
        deploy.verifier.verify(token, scope, use_case=UC, endpoint=ENDPOINT, session=theirs)
    assert info.value.check == "replay"
    uncached = Deploy(store=deploy.store)  # another process's verifier, on the same store
    with pytest.raises(ConsentRejectedError):
        uncached.verifier.verify(token, scope, use_case=UC, endpoint=ENDPOINT, session=theirs)
