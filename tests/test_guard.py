"""The guard through the client: GUARD.md §9 conformance vectors, end to end.

Every refusal is asserted to happen before any byte is sent: the mock service records each
request it sees, and refused calls must leave it empty. Token-level vectors (alg, typ, kid,
lifetimes...) are in test_consent_tokens.py; the audit chain's own tests in test_audit.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import faceguard
from faceguard import (
    ConsentRejectedError,
    ConsentRequiredError,
    FaceClient,
    FaceIdError,
    GuardError,
    GuardStoreError,
    LivenessGuardError,
    RetiredAttributeError,
    UnknownRouteError,
    UseCaseError,
)
from faceguard._guard._audit import AuditLog, verify_chain
from faceguard._guard._consent import ConsentIssuer, ConsentVerifier
from faceguard._guard._ledger import ConsentLedger
from faceguard._guard._override import Override
from faceguard._guard._policy import GuardPolicy
from faceguard._guard._store import MemoryStore
from faceguard._guard._usecases import CONSENT_OPERATIONS, Deployment, UseCase

ENDPOINT = "https://guarded.cognitiveservices.azure.com"
AUDIENCE = "faceguard:guard-tests"
JPEG = b"\xff\xd8\xff\xe0" + bytes(4000)
GROUP = "staff"
PERSON = "8f0c2d8e-3f3a-4a57-9d55-2f7c6a1b0c11"
SUBJECT = "p-alice"
OTHER_SUBJECT = "p-bob"


class Clock:
    """A settable wall clock shared by the guard, the verifier and the issuer."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Service:
    """A scripted Face service: detect returns the scripted faces; records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.faces: list[dict[str, Any]] = []
        self.identify: list[dict[str, Any]] = []
        self.attributes: dict[str, Any] | None = None

    def face(self, size: int = 200) -> str:
        face_id = str(uuid.uuid4())
        face: dict[str, Any] = {
            "faceId": face_id,
            "faceRectangle": {"top": 10, "left": 10, "width": size, "height": size},
        }
        if self.attributes is not None:
            face["faceAttributes"] = self.attributes
        self.faces.append(face)
        return face_id

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/face/v1.2")
        if path == "/detect":
            faces, self.faces = self.faces, []
            return httpx.Response(200, json=faces)
        if path == "/identify":
            return httpx.Response(200, json=self.identify)
        if path == "/verify":
            return httpx.Response(200, json={"isIdentical": True, "confidence": 0.93})
        if path.endswith("/persistedfaces"):
            return httpx.Response(200, json={"persistedFaceId": str(uuid.uuid4())})
        if path == "/detectLiveness-sessions":
            body = {
                "sessionId": str(uuid.uuid4()),
                "authToken": "device-token",
                "status": "NotStarted",
                "results": {"attempts": []},
            }
            return httpx.Response(200, json=body)
        return httpx.Response(200)


def _recording(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    return httpx.MockTransport(handler)


class Rig:
    """One guarded client over a scripted service, with its issuer, clock and store."""

    def __init__(
        self,
        *,
        # Personalization permits what access control does (identify, verify, enroll) but
        # its results need no human review (R11, tested in test_oversight): these tests are
        # about consent and faceIds, so they read results directly.
        use_case: UseCase | None = UseCase.PERSONALIZATION,
        deployment: Deployment | None = None,
        audit: AuditLog | None = None,
        store: Any = None,
        liveness_cap: int = 3,
    ) -> None:
        self.clock = Clock()
        self.store = store if store is not None else MemoryStore(clock=self.clock)
        self.issuer, public = ConsentIssuer.generate(clock=self.clock)
        verifier = ConsentVerifier(
            {self.issuer.kid: public},
            issuer=self.issuer.issuer,
            audience=AUDIENCE,
            clock=self.clock,
            replay_store=self.store,
        )
        self.policy = GuardPolicy(
            use_case=use_case,
            deployment=deployment or Deployment(),
            verifier=verifier,
            store=self.store,
            audit=audit,
            liveness_sessions_per_device=liveness_cap,
            clock=self.clock,
        )
        self.service = Service()
        self.client = FaceClient(
            ENDPOINT,
            api_key="k",
            transport=httpx.MockTransport(self.service),
            guard=self.policy,
        )
        self.ledger = ConsentLedger(self.store, clock=self.clock)

    def token(
        self,
        subject: str = SUBJECT,
        *,
        operations: Any = CONSENT_OPERATIONS,
        bindings: Any = ((("largePersonGroup", GROUP, PERSON)),),
        use: Any = "session",
        use_case: UseCase = UseCase.PERSONALIZATION,
    ) -> str:
        return self.issuer.issue(
            subject,
            audience=[AUDIENCE, ENDPOINT],
            operations=operations,
            use_case=use_case,
            bindings=bindings,
            use=use,
            alternative_offered=True,  # access control: enrolling stays optional (R06)
        )

    def detect(self, token: str | None = None, *, faces: int = 1, **options: Any) -> list[str]:
        ids = [self.service.face(size=300 - i) for i in range(faces)]
        self.client.detection.detect(
            JPEG, return_face_id=True, consent=token or self.token(), **options
        )
        return ids

    def sent(self) -> int:
        return len(self.service.requests)


@pytest.fixture
def audit(tmp_path: Path) -> Any:
    log = AuditLog(tmp_path / "audit.jsonl")
    yield log
    log.close()


def refused(rig: Rig, error: type[GuardError], call: Callable[[], object]) -> GuardError:
    """Run ``call``; it must raise ``error`` and send nothing."""
    before = rig.sent()
    with pytest.raises(error) as info:
        call()
    assert rig.sent() == before, "a refused call reached the transport"
    return info.value


# -- 1, 2: attributes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "attributes",
    [
        ["emotion"],
        ["Emotion"],
        [" age "],
        ["headPose", "gender"],
        ["facialhair"],
        ["makeup"],
        ["hair"],
        ["smile"],
        ["SMILE"],
        ["skinTone"],
    ],
)
def test_retired_or_unknown_attributes_are_refused_before_sending(attributes: list[str]) -> None:
    rig = Rig(use_case=None)
    error = refused(
        rig,
        RetiredAttributeError,
        lambda: rig.client.detection.detect(JPEG, return_face_attributes=attributes),
    )
    assert "offer" in str(error)


@pytest.mark.parametrize(
    "query",
    [
        "returnFaceAttributes=emotion",
        "returnFaceAttributes=headPose,gender",
        "returnFaceAttributes=%20AGE%20",
        "returnFaceAttributes=futureAttribute",
    ],
)
def test_a_raw_request_through_the_clients_http_client_is_refused(query: str) -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
    )
    FaceClient(ENDPOINT, api_key="k", http_client=http)
    with pytest.raises(RetiredAttributeError):
        http.post(f"{ENDPOINT}/face/v1.2/detect?returnFaceId=false&{query}", content=JPEG)
    assert seen == []


def test_retired_fields_in_a_response_are_stripped() -> None:
    rig = Rig(use_case=None)
    rig.service.attributes = {
        "headPose": {"pitch": 1.0, "roll": 2.0, "yaw": 3.0},
        "age": 31.0,
        "smile": 0.9,
        "emotion": {"happiness": 1.0},
        "gender": "female",
        "facialHair": {"moustache": 0.1, "beard": 0.1, "sideburns": 0.1},
        "makeup": {},
    }
    rig.service.face()
    (face,) = rig.client.detection.detect(JPEG, return_face_attributes=["headPose"])
    attributes = face.face_attributes
    assert attributes is not None and attributes.head_pose is not None
    dumped = json.dumps(attributes.model_dump(by_alias=True))
    for retired in ("age", "smile", "emotion", "gender", "facialHair", "makeup"):
        assert retired not in dumped


def test_detection_without_face_ids_needs_no_declaration() -> None:
    client = FaceClient(
        ENDPOINT,
        api_key="k",
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[])),
    )
    assert client.detection.detect(JPEG) == []


# -- 3, 5: consent required, replay, withdrawal --------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.detection.detect(JPEG, return_face_id=True),
        lambda c: c.recognition.verify_face_to_face(str(uuid.uuid4()), str(uuid.uuid4())),
        lambda c: c.recognition.identify_from_large_person_group(
            [str(uuid.uuid4())], large_person_group_id=GROUP
        ),
        lambda c: c.recognition.group([str(uuid.uuid4()), str(uuid.uuid4())]),
        lambda c: c.recognition.find_similar(str(uuid.uuid4()), face_ids=[str(uuid.uuid4())]),
        lambda c: c.large_person_groups.add_face(GROUP, PERSON, JPEG),
    ],
    ids=["detect_template", "verify", "identify", "group", "find_similar", "enroll"],
)
def test_recognition_and_enrollment_without_a_token_are_refused(call: Callable[[Any], Any]) -> None:
    rig = Rig(use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS)
    refused(rig, ConsentRequiredError, lambda: call(rig.client))


def test_a_single_use_token_is_refused_on_replay() -> None:
    rig = Rig()
    token = rig.token(use="once")
    rig.detect(token)
    error = refused(rig, ConsentRejectedError, lambda: rig.detect(token))
    assert isinstance(error, ConsentRejectedError) and error.check == "replay"


def test_withdrawal_refuses_the_subjects_tokens_at_once() -> None:
    rig = Rig()
    token = rig.token()
    rig.detect(token)
    rig.ledger.withdraw(SUBJECT)
    error = refused(rig, ConsentRejectedError, lambda: rig.detect(token))
    assert isinstance(error, ConsentRejectedError) and error.check == "withdrawn"
    # Another subject is unaffected.
    rig.detect(rig.token(OTHER_SUBJECT))


# -- 6: scope and binding --------------------------------------------------------------------


def test_identify_is_outside_identity_verification() -> None:
    rig = Rig(use_case=UseCase.IDENTITY_VERIFICATION)
    error = refused(
        rig,
        UseCaseError,
        lambda: rig.client.recognition.identify_from_large_person_group(
            [str(uuid.uuid4())], large_person_group_id=GROUP, consent="unused"
        ),
    )
    assert "identity_verification" in str(error)


def test_a_token_for_another_container_is_refused() -> None:
    rig = Rig()
    face_id = rig.detect()[0]
    token = rig.token(bindings=[("largePersonGroup", "other-group", None)])
    error = refused(
        rig,
        ConsentRejectedError,
        lambda: rig.client.recognition.identify_from_large_person_group(
            [face_id], large_person_group_id=GROUP, consent=token
        ),
    )
    assert isinstance(error, ConsentRejectedError) and error.check == "container"


def test_verify_to_a_person_enrolled_under_another_subject_is_refused() -> None:
    rig = Rig()
    rig.ledger._record_enrollment("largePersonGroup", GROUP, PERSON, OTHER_SUBJECT)
    face_id = rig.detect()[0]
    error = refused(
        rig,
        ConsentRejectedError,
        lambda: rig.client.recognition.verify_from_large_person_group(
            face_id, large_person_group_id=GROUP, person_id=PERSON, consent=rig.token()
        ),
    )
    assert isinstance(error, ConsentRejectedError) and error.check == "subject"


def test_an_extra_face_from_a_multi_face_detect_is_unusable() -> None:
    rig = Rig()
    first, second = rig.detect(faces=2)
    error = refused(
        rig,
        FaceIdError,
        lambda: rig.client.recognition.verify_face_to_face(first, second, consent=rig.token()),
    )
    assert isinstance(error, FaceIdError) and error.reason == "unconsented"


def test_face_ids_of_another_subject_are_refused() -> None:
    rig = Rig()
    mine = rig.detect(rig.token(SUBJECT))[0]
    theirs = rig.detect(rig.token(OTHER_SUBJECT))[0]
    error = refused(
        rig,
        ConsentRejectedError,
        lambda: rig.client.recognition.verify_face_to_face(mine, theirs, consent=rig.token()),
    )
    assert isinstance(error, ConsentRejectedError) and error.check == "subject"


# -- 7, 8: faceId expiry and models ------------------------------------------------------------


def test_face_id_ttl_is_always_sent_explicitly() -> None:
    rig = Rig()
    rig.detect()
    assert rig.service.requests[-1].url.params["faceIdTimeToLive"] == "600"


def test_a_face_id_past_ttl_minus_margin_is_refused_with_its_age() -> None:
    rig = Rig()
    face_id = rig.detect(face_id_time_to_live=600)[0]  # margin: max(30 s, 1 %) = 30 s
    rig.clock.now += 600 - 30 - 1
    rig.client.recognition.verify_face_to_face(face_id, face_id, consent=rig.token())
    rig.clock.now += 2
    error = refused(
        rig,
        FaceIdError,
        lambda: rig.client.recognition.verify_face_to_face(face_id, face_id, consent=rig.token()),
    )
    assert isinstance(error, FaceIdError) and error.reason == "expired"
    assert "571 s old" in str(error) and face_id not in str(error)


def test_the_issue_time_is_taken_before_the_request_is_sent() -> None:
    rig = Rig()

    def slow_service(request: httpx.Request) -> httpx.Response:
        rig.clock.now += 100  # the service answers 100 s later
        return rig.service(request)

    rig.client = FaceClient(
        ENDPOINT, api_key="k", transport=httpx.MockTransport(slow_service), guard=rig.policy
    )
    face_id = rig.detect(face_id_time_to_live=600)[0]
    rig.clock.now += 600 - 30 - 100  # 570 s after the request started
    refused(
        rig,
        FaceIdError,
        lambda: rig.client.recognition.verify_face_to_face(face_id, face_id, consent=rig.token()),
    )


def test_unknown_face_ids_are_refused_by_default() -> None:
    rig = Rig()
    error = refused(
        rig,
        FaceIdError,
        lambda: rig.client.recognition.verify_face_to_face(
            str(uuid.uuid4()), str(uuid.uuid4()), consent=rig.token()
        ),
    )
    assert isinstance(error, FaceIdError) and error.reason == "unknown"


def test_face_ids_of_two_recognition_models_are_refused() -> None:
    rig = Rig()
    old = rig.detect(recognition_model="recognition_03")[0]
    new = rig.detect(recognition_model="recognition_04")[0]
    error = refused(
        rig,
        FaceIdError,
        lambda: rig.client.recognition.verify_face_to_face(old, new, consent=rig.token()),
    )
    assert isinstance(error, FaceIdError) and error.reason == "model_mismatch"
    assert "recognition_03" in str(error) and "recognition_04" in str(error)


def test_a_face_id_of_another_model_than_the_group_is_refused() -> None:
    rig = Rig()
    rig.client.large_person_groups.create(GROUP, name="Staff", recognition_model="recognition_04")
    face_id = rig.detect(recognition_model="recognition_01", detection_model="detection_01")[0]
    error = refused(
        rig,
        FaceIdError,
        lambda: rig.client.recognition.identify_from_large_person_group(
            [face_id], large_person_group_id=GROUP, consent=rig.token()
        ),
    )
    assert isinstance(error, FaceIdError) and error.reason == "model_mismatch"


# -- 9: identify candidates ------------------------------------------------------------------


def test_candidates_without_live_consent_are_suppressed_and_audited(
    tmp_path: Path, audit: AuditLog
) -> None:
    rig = Rig(audit=audit)
    face_id = rig.detect()[0]
    consented, stranger, withdrawn = PERSON, str(uuid.uuid4()), str(uuid.uuid4())
    rig.ledger._record_enrollment("largePersonGroup", GROUP, consented, SUBJECT)
    rig.ledger._record_enrollment("largePersonGroup", GROUP, withdrawn, OTHER_SUBJECT)
    rig.ledger.withdraw(OTHER_SUBJECT)
    rig.service.identify = [
        {
            "faceId": face_id,
            "candidates": [
                {"personId": consented, "confidence": 0.9},
                {"personId": stranger, "confidence": 0.8},
                {"personId": withdrawn, "confidence": 0.7},
            ],
        }
    ]
    (result,) = rig.client.recognition.identify_from_large_person_group(
        [face_id], large_person_group_id=GROUP, consent=rig.token()
    )
    assert [c.person_id for c in result.candidates] == [consented]
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    suppressed = [r for r in records if r["event"] == "candidate_suppressed"]
    assert suppressed and suppressed[-1]["details"] == {"suppressed": 2}
    assert verify_chain(tmp_path / "audit.jsonl").ok


# -- 10: erasure --------------------------------------------------------------------------------


def test_erasure_is_always_allowed_and_audited(tmp_path: Path, audit: AuditLog) -> None:
    rig = Rig(use_case=None, deployment=Deployment(us_police=True), audit=audit)
    rig.ledger._record_enrollment("largePersonGroup", GROUP, PERSON, SUBJECT)
    rig.client.large_person_groups.delete_person(GROUP, PERSON)
    rig.client.large_person_groups.delete(GROUP)
    assert rig.sent() == 2
    assert rig.ledger.subject_of("largePersonGroup", GROUP, PERSON) is None
    events = [json.loads(x)["event"] for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    # the decision is on file before each call is sent, the deletion receipt after it
    assert events == ["decision", "deletion", "decision", "deletion"]


# -- 11: routes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/face/v1.3/persongroups"),
        ("POST", "/face/v1.2/identify/extra"),
        ("DELETE", "/face/v1.2/detect"),
        ("GET", "/face/v1.2/operations/123"),
    ],
)
def test_unknown_routes_are_denied(method: str, path: str) -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
    )
    FaceClient(ENDPOINT, api_key="k", http_client=http)
    with pytest.raises(UnknownRouteError):
        http.request(method, f"{ENDPOINT}{path}")
    assert seen == []


def test_raw_recognition_through_the_http_client_is_refused_but_reads_pass() -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json=[]))
    )
    FaceClient(ENDPOINT, api_key="k", http_client=http)
    with pytest.raises(GuardError):
        http.post(f"{ENDPOINT}/face/v1.2/identify", json={"faceIds": []})
    with pytest.raises(GuardError):
        http.post(f"{ENDPOINT}/face/v1.2/detect", content=JPEG)  # returnFaceId defaults to true
    assert seen == []
    http.get(f"{ENDPOINT}/face/v1.2/persongroups")
    assert len(seen) == 1
    with pytest.raises(UnknownRouteError):  # a guarded client carries only the service's traffic
        http.get("https://elsewhere.example.com/anything")
    assert len(seen) == 1


# -- prohibited deployments, use cases ------------------------------------------------------


@pytest.mark.parametrize(
    "deployment", [Deployment(us_police=True), Deployment(law_enforcement_mobile_realtime=True)]
)
def test_a_prohibited_deployment_refuses_all_recognition(deployment: Deployment) -> None:
    rig = Rig(use_case=UseCase.GOV_LAW_ENFORCEMENT_APPREHENDED, deployment=deployment)
    error = refused(rig, UseCaseError, lambda: rig.detect(rig.token()))
    assert "No override" in str(error)


def test_recognition_without_a_declared_use_case_is_refused() -> None:
    rig = Rig(use_case=None)
    error = refused(rig, UseCaseError, lambda: rig.detect(rig.token()))
    assert "use case" in str(error)


# -- 13, 14: overrides and liveness ------------------------------------------------------------


@pytest.mark.parametrize("rule", ["consent", "retired_attribute", "face_id_expired", "use_case"])
def test_hard_rules_have_no_override(rule: str) -> None:
    with pytest.raises(ValueError, match="hard rule"):
        Override(rule, "because the demo must go on")


def test_an_override_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        Override("liveness_session_cap", "x")


@pytest.mark.parametrize(
    "device",
    ["alice@example.com", "+1 (555) 010-9999", "0044 20 7946 0958", "alices-iphone", "John Smith"],
)
def test_personal_looking_device_ids_are_refused(device: str) -> None:
    rig = Rig()
    refused(
        rig,
        LivenessGuardError,
        lambda: rig.client.liveness.create_session(
            liveness_operation_mode="Passive", device_correlation_id=device
        ),
    )


def test_the_liveness_cap_holds_and_an_override_is_audited(tmp_path: Path, audit: AuditLog) -> None:
    rig = Rig(liveness_cap=3, audit=audit)
    device = str(uuid.uuid4())

    def create(**extra: Any) -> object:
        return rig.client.liveness.create_session(
            liveness_operation_mode="Passive", device_correlation_id=device, **extra
        )

    for _ in range(3):
        create()
    refused(rig, LivenessGuardError, create)
    create(override=Override("liveness_session_cap", "support ticket 4711: kiosk reboot loop"))
    records = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [r["event"] for r in records[-2:]] == ["override", "api_call"]  # before, after
    assert "kiosk reboot loop" in records[-2]["reason"]
    rig.clock.now += 3601  # the window passes
    create()


# -- stores fail closed; audit content ------------------------------------------------------


class BrokenStore(MemoryStore):
    def get(self, namespace: str, key: str) -> bytes | None:
        raise GuardStoreError("store unreachable")

    def add_if_absent(self, *args: Any, **kwargs: Any) -> bool:
        raise GuardStoreError("store unreachable")


def test_an_unreachable_store_fails_closed() -> None:
    rig = Rig(store=BrokenStore())
    refused(rig, GuardStoreError, lambda: rig.detect(rig.token(use="once")))


def test_the_audit_trail_holds_no_face_ids_tokens_or_keys(tmp_path: Path, audit: AuditLog) -> None:
    rig = Rig(audit=audit)
    token = rig.token()
    face_id = rig.detect(token)[0]
    rig.client.recognition.verify_face_to_face(face_id, face_id, consent=token)
    with pytest.raises(FaceIdError):
        rig.client.recognition.verify_face_to_face(face_id, str(uuid.uuid4()), consent=token)
    text = (tmp_path / "audit.jsonl").read_text()
    assert face_id not in text and token not in text and SUBJECT not in text
    events = [(r["event"], r["decision"]) for r in map(json.loads, text.splitlines())]
    allowed = [("decision", "allowed"), ("api_call", "allowed")]  # before and after each call
    assert events == [*allowed, *allowed, ("decision", "refused")]
    assert verify_chain(tmp_path / "audit.jsonl").ok


def test_guard_errors_are_never_retried() -> None:
    rig = Rig()
    refused(
        rig, ConsentRequiredError, lambda: rig.client.detection.detect(JPEG, return_face_id=True)
    )


def test_public_guard_errors_are_exported() -> None:
    for name in ("ConsentRequiredError", "ConsentRejectedError", "FaceIdError", "UseCaseError"):
        assert issubclass(getattr(faceguard, name), faceguard.GuardError)


# -- 4: withdrawal queues the subject's erasure ------------------------------------------------


def test_erase_subject_withdraws_at_once_and_deletes_what_was_enrolled(
    tmp_path: Path, audit: AuditLog
) -> None:
    rig = Rig(audit=audit)
    token = rig.token(
        bindings=[("largePersonGroup", GROUP, PERSON), ("faceList", "visitors", None)]
    )
    face_id = rig.detect(token)[0]
    rig.client.large_person_groups.add_face(GROUP, PERSON, JPEG, consent=token)
    added = rig.client.face_lists.add_face("visitors", JPEG, consent=token)
    other = str(uuid.uuid4())
    rig.ledger._record_enrollment("largePersonGroup", GROUP, other, OTHER_SUBJECT)
    rig.ledger._record_enrollment("personDirectory", "default", str(uuid.uuid4()), SUBJECT)
    sent = rig.sent()

    plan = rig.client.erase_subject(SUBJECT)

    deleted = [(r.method, r.url.path) for r in rig.service.requests[sent:]]
    assert sorted(deleted) == sorted(
        [
            ("DELETE", f"/face/v1.2/largepersongroups/{GROUP}/persons/{PERSON}"),
            ("DELETE", f"/face/v1.2/facelists/visitors/persistedfaces/{added.persisted_face_id}"),
        ]
    )
    assert [kind for kind, _, _ in plan.not_erasable] == ["personDirectory"]
    # The ledger keeps subjects as pseudonyms only (GUARD.md §4.4).
    assert rig.ledger.subject_of("largePersonGroup", GROUP, other) == rig.ledger.subject_pseudonym(
        OTHER_SUBJECT
    )
    refused(rig, ConsentRejectedError, lambda: rig.detect(token))
    # The subject's faceIds are gone too: under anyone's token they are now unknown.
    error = refused(
        rig,
        FaceIdError,
        lambda: rig.client.recognition.verify_face_to_face(
            face_id, face_id, consent=rig.token(OTHER_SUBJECT)
        ),
    )
    assert isinstance(error, FaceIdError) and error.reason == "unknown"
    events = [json.loads(x)["event"] for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert "consent_withdrawn" in events and events.count("deletion") == 2
    assert verify_chain(tmp_path / "audit.jsonl").ok


def test_person_ids_match_the_token_regardless_of_letter_case() -> None:
    rig = Rig()
    token = rig.token(bindings=[("largePersonGroup", GROUP, PERSON.lower())])
    rig.client.large_person_groups.add_face(GROUP, PERSON.upper(), JPEG, consent=token)
    assert rig.ledger.subject_of("largePersonGroup", GROUP, PERSON) == rig.ledger.subject_pseudonym(
        SUBJECT
    )


def test_recognition_fails_closed_when_redis_is_unreachable() -> None:
    import socket

    from faceguard import RedisStore

    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = RedisStore(f"redis://127.0.0.1:{port}/0?socket_connect_timeout=0.5", key="k" * 32)
    rig = Rig(store=store)
    refused(rig, GuardStoreError, lambda: rig.detect(rig.token()))
