"""Guard behaviours one-line changes used to break unnoticed (issue 11 §7), through the client.

- Identify and find-similar when *no* candidate has live consent: the common case of a
  stranger. Every candidate must be suppressed and the suppression audited (the older test
  always had one consented person, so "return everything when nobody is consented" passed).
- A faceId detected by a client of another Face resource, with the same guard store: refused.
- The emulator answers distinct faceIds for two detects of one image, and both stay usable.
"""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faceguard import FaceClient, FaceIdError, InternalServerError, RetryPolicy
from faceguard._guard._audit import AuditLog
from faceguard._guard._consent import ConsentIssuer, ConsentVerifier
from faceguard._guard._ledger import ConsentLedger
from faceguard._guard._policy import GuardPolicy
from faceguard._guard._store import MemoryStore
from faceguard._guard._usecases import CONSENT_OPERATIONS, UseCase
from faceguard.emulator import Emulator, EngineFace, ManualClock

ENDPOINT = "https://resource-a.cognitiveservices.azure.com"
OTHER_ENDPOINT = "https://resource-b.cognitiveservices.azure.com"
AUDIENCE = "faceguard:guard-gaps"
JPEG = b"\xff\xd8\xff\xe0" + bytes(3000)
SUBJECT = "p-carol"
OTHER_SUBJECT = "p-dave"
ISSUER, PUBLIC_KEY = ConsentIssuer.generate(issuer="urn:faceguard:guard-gaps", kid="gaps-1")

# (client method, keyword naming the container, container kind) for every identify flavour.
IDENTIFY = [
    ("identify_from_person_group", "person_group_id", "personGroup", "staff-pg"),
    ("identify_from_large_person_group", "large_person_group_id", "largePersonGroup", "staff"),
    ("identify_from_dynamic_person_group", "dynamic_person_group_id", "dynamicPersonGroup", "d1"),
    ("identify_from_person_directory", "person_ids", "personDirectory", "default"),
]
FIND_SIMILAR = [
    ("find_similar_from_face_list", "face_list_id", "faceList", "visitors"),
    ("find_similar_from_large_face_list", "large_face_list_id", "largeFaceList", "visitors-l"),
]


class Service:
    """A scripted Face service; records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.identify: list[dict[str, Any]] = []
        self.similar: list[dict[str, Any]] = []
        self.routes: dict[str, Any] = {}
        """Answers to GET requests, by path (after ``/face/v1.2``)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/face/v1.2")
        if request.method == "GET" and path in self.routes:
            return httpx.Response(200, json=self.routes[path])
        if path == "/detect":
            rect = {"top": 1, "left": 1, "width": 90, "height": 90}
            return httpx.Response(200, json=[{"faceId": str(uuid.uuid4()), "faceRectangle": rect}])
        if path == "/identify":
            return httpx.Response(200, json=self.identify)
        if path == "/findsimilars":
            return httpx.Response(200, json=self.similar)
        if path == "/verify":
            return httpx.Response(200, json={"isIdentical": True, "confidence": 0.9})
        if path == "/group":
            return httpx.Response(200, json={"groups": [], "messyGroup": []})
        if path.endswith("/persistedfaces"):
            return httpx.Response(200, json={"persistedFaceId": str(uuid.uuid4())})
        if request.method == "DELETE":
            return httpx.Response(200)
        return httpx.Response(404)


class Rig:
    """Guarded clients sharing one policy (one store, one ledger, one audit log)."""

    def __init__(self, audit: AuditLog | None = None, **policy: Any) -> None:
        self.store = MemoryStore()
        verifier = ConsentVerifier(
            {ISSUER.kid: PUBLIC_KEY},
            issuer=ISSUER.issuer,
            audience=AUDIENCE,
            replay_store=self.store,
        )
        self.policy = GuardPolicy(
            use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS,
            verifier=verifier,
            store=self.store,
            audit=audit,
            **policy,
        )
        self.ledger = ConsentLedger(self.store, clock=self.policy.clock)
        self.service = Service()

    def client(self, endpoint: str = ENDPOINT) -> FaceClient:
        return FaceClient(
            endpoint, api_key="k", transport=httpx.MockTransport(self.service), guard=self.policy
        )

    def token(self, subject: str = SUBJECT, endpoint: str = ENDPOINT) -> str:
        """A token for ``subject`` on the resource at ``endpoint`` (``aud`` names it)."""
        bindings = [(kind, cid, None) for _, _, kind, cid in IDENTIFY + FIND_SIMILAR]
        return ISSUER.issue(
            subject,
            audience=[AUDIENCE, endpoint],
            operations=CONSENT_OPERATIONS,
            use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS,
            bindings=bindings,
            use="session",
        )

    def enrolled(self, kind: str, container: str, person: str, subject: str = SUBJECT) -> None:
        """Record ``person`` as enrolled under ``subject``'s consent, the public way."""
        consent = ISSUER.issue(
            subject,
            audience=[AUDIENCE, ENDPOINT],
            operations=["enroll"],
            use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS,
            bindings=[(kind, container, person)],
            use="session",
        )
        assert self.policy.verifier is not None
        self.ledger.enroll(
            consent,
            verifier=self.policy.verifier,
            endpoint=ENDPOINT,
            use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS,
            container_kind=kind,
            container_id=container,
            person_id=person,
        )

    def detect(self, client: FaceClient, endpoint: str = ENDPOINT) -> str:
        """A faceId detected by ``client`` (whose resource is at ``endpoint``)."""
        consent = self.token(endpoint=endpoint)
        (face,) = client.detection.detect(JPEG, return_face_id=True, consent=consent)
        assert face.face_id is not None
        return face.face_id


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    log = AuditLog(tmp_path / "audit.jsonl")
    yield log
    log.close()


def _records(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


def _suppressed(tmp_path: Path) -> list[int]:
    """The ``suppressed`` counts of the audit's candidate_suppressed records, in order."""
    return [
        r["details"]["suppressed"]
        for r in _records(tmp_path)
        if r.get("event") == "candidate_suppressed"
    ]


def _identify(rig: Rig, flavour: tuple[str, str, str, str], face_ids: list[str]) -> Any:
    method, keyword, _, container = flavour
    argument: object = ["*"] if keyword == "person_ids" else container
    call: Callable[..., Any] = getattr(rig.client().recognition, method)
    return call(face_ids, **{keyword: argument}, consent=rig.token())


def _strangers(count: int) -> list[dict[str, Any]]:
    return [{"personId": str(uuid.uuid4()), "confidence": 0.9 - i / 10} for i in range(count)]


# -- (a) nobody consented: every candidate suppressed, and audited --------------------------


@pytest.mark.parametrize("flavour", IDENTIFY, ids=[f[0] for f in IDENTIFY])
def test_identify_with_only_strangers_returns_no_candidate(
    flavour: tuple[str, str, str, str], tmp_path: Path, audit: AuditLog
) -> None:
    rig = Rig(audit)
    face_id = rig.detect(rig.client())
    rig.service.identify = [{"faceId": face_id, "candidates": _strangers(3)}]
    (result,) = _identify(rig, flavour, [face_id])
    assert result.candidates == []
    assert _suppressed(tmp_path) == [3]


def test_identify_of_several_faces_none_consented(tmp_path: Path, audit: AuditLog) -> None:
    rig = Rig(audit)
    faces = [rig.detect(rig.client()) for _ in range(3)]
    rig.service.identify = [
        {"faceId": face, "candidates": _strangers(n)}
        for face, n in zip(faces, (2, 1, 4), strict=True)
    ]
    results = _identify(rig, IDENTIFY[1], faces)
    assert [r.candidates for r in results] == [[], [], []]
    assert [r.face_id for r in results] == faces  # the faces stay, their candidates go
    assert _suppressed(tmp_path) == [7]


def test_identify_candidates_consented_in_another_container_or_withdrawn(
    tmp_path: Path, audit: AuditLog
) -> None:
    rig = Rig(audit)
    face_id = rig.detect(rig.client())
    elsewhere, withdrawn = str(uuid.uuid4()), str(uuid.uuid4())
    # Consent for the same person in another group does not cover this one...
    rig.enrolled("largePersonGroup", "another-group", elsewhere)
    rig.enrolled("personGroup", "staff", elsewhere)
    # ...and a withdrawn consent covers nothing.
    rig.enrolled("largePersonGroup", "staff", withdrawn, OTHER_SUBJECT)
    rig.ledger.withdraw(OTHER_SUBJECT)
    rig.service.identify = [
        {
            "faceId": face_id,
            "candidates": [
                {"personId": elsewhere, "confidence": 0.95},
                {"personId": withdrawn, "confidence": 0.9},
            ],
        }
    ]
    (result,) = _identify(rig, IDENTIFY[1], [face_id])
    assert result.candidates == []
    assert _suppressed(tmp_path) == [2]


def test_suppression_without_an_audit_log_still_suppresses() -> None:
    rig = Rig()
    face_id = rig.detect(rig.client())
    rig.service.identify = [{"faceId": face_id, "candidates": _strangers(2)}]
    (result,) = _identify(rig, IDENTIFY[0], [face_id])
    assert result.candidates == []


@pytest.mark.parametrize("flavour", FIND_SIMILAR, ids=[f[0] for f in FIND_SIMILAR])
def test_find_similar_in_a_list_with_no_consented_face_returns_nothing(
    flavour: tuple[str, str, str, str], tmp_path: Path, audit: AuditLog
) -> None:
    method, keyword, kind, container = flavour
    rig = Rig(audit)
    face_id = rig.detect(rig.client())
    withdrawn = str(uuid.uuid4())
    rig.enrolled(kind, container, withdrawn, OTHER_SUBJECT)
    rig.ledger.withdraw(OTHER_SUBJECT)
    rig.service.similar = [
        {"persistedFaceId": str(uuid.uuid4()), "confidence": 0.8},
        {"persistedFaceId": withdrawn, "confidence": 0.7},
        {"persistedFaceId": str(uuid.uuid4()), "confidence": 0.6},
    ]
    call: Callable[..., Any] = getattr(rig.client().recognition, method)
    results = call(face_id, **{keyword: container}, consent=rig.token())
    assert list(results) == []
    assert _suppressed(tmp_path) == [3]


def test_a_consented_candidate_is_still_kept(tmp_path: Path, audit: AuditLog) -> None:
    """The other side of the rule, so that "suppress everything" does not pass either."""
    rig = Rig(audit)
    face_id = rig.detect(rig.client())
    kept = str(uuid.uuid4())
    rig.enrolled("dynamicPersonGroup", "d1", kept)
    rig.service.identify = [
        {"faceId": face_id, "candidates": [*_strangers(1), {"personId": kept, "confidence": 0.5}]}
    ]
    (result,) = _identify(rig, IDENTIFY[2], [face_id])
    assert [c.person_id for c in result.candidates] == [kept]
    assert _suppressed(tmp_path) == [1]


# -- (c) a faceId of another Face resource -------------------------------------------------


RECOGNITION_CALLS: dict[str, Callable[[FaceClient, str, str, str], object]] = {
    "verify": lambda c, a, b, t: c.recognition.verify_face_to_face(a, b, consent=t),
    "identify": lambda c, a, b, t: c.recognition.identify_from_large_person_group(
        [a, b], large_person_group_id="staff", consent=t
    ),
    "find_similar": lambda c, a, b, t: c.recognition.find_similar(a, face_ids=[b], consent=t),
    "group": lambda c, a, b, t: c.recognition.group([a, b], consent=t),
}


@pytest.mark.parametrize("operation", list(RECOGNITION_CALLS))
@pytest.mark.parametrize("foreign_first", [True, False], ids=["foreign-first", "foreign-second"])
@pytest.mark.parametrize("allow_unknown", [False, True], ids=["strict", "allow-unknown"])
def test_a_face_id_from_another_resource_is_refused(
    operation: str, foreign_first: bool, allow_unknown: bool
) -> None:
    rig = Rig(allow_unknown_face_ids=allow_unknown)
    here, there = rig.client(ENDPOINT), rig.client(OTHER_ENDPOINT)
    local, foreign = rig.detect(here), rig.detect(there, OTHER_ENDPOINT)
    pair = (foreign, local) if foreign_first else (local, foreign)
    sent = len(rig.service.requests)
    with pytest.raises(FaceIdError) as refusal:
        RECOGNITION_CALLS[operation](here, *pair, rig.token())
    assert refusal.value.reason == "resource_mismatch"
    assert len(rig.service.requests) == sent, "a refused call reached the transport"
    assert foreign not in str(refusal.value)
    # The same faceIds are fine on the resource that made each of them.
    other = rig.detect(there, OTHER_ENDPOINT)
    RECOGNITION_CALLS[operation](there, foreign, other, rig.token(endpoint=OTHER_ENDPOINT))


# -- (d) the emulator: one faceId per detected face, never reused --------------------------


class OneFaceEngine:
    """A minimal ``FaceEngine``: one face, the same for every image (so the same image gives
    the same face, as a real detector would)."""

    def detect(self, image: bytes) -> list[EngineFace]:
        points = {"pupilLeft": (30.0, 30.0)}
        five = ((30.0, 30.0), (60.0, 30.0), (45.0, 45.0), (35.0, 60.0), (55.0, 60.0))
        return [
            EngineFace(
                left=10,
                top=10,
                width=80,
                height=80,
                score=0.99,
                landmarks5=five,
                landmarks27=points,
                head_pose=(0.0, 0.0, 0.0),
                blur=0.1,
                exposure=0.5,
                noise=0.1,
                quality_for_recognition="high",
                embedding=struct.pack("<128f", *([1.0] + [0.0] * 127)),
            )
        ]

    def confidence(self, a: bytes, b: bytes) -> float:
        return 1.0 if a == b else 0.0


EMULATOR = "https://emulator.cognitiveservices.azure.com"


def _emulated(ids: Callable[[], str] | None = None) -> tuple[Emulator, FaceClient, Rig]:
    clock = ManualClock()
    emulator = Emulator(engine=OneFaceEngine(), clock=clock, ids=ids)
    rig = Rig()
    client = FaceClient(
        EMULATOR,
        api_key="k",
        transport=emulator.transport(),
        guard=rig.policy,
        retry=RetryPolicy(max_attempts=1),  # a 500 here is the emulator's bug: no retries
    )
    return emulator, client, rig


def test_two_detects_of_one_image_give_two_face_ids_both_usable() -> None:
    _, client, rig = _emulated()
    first, second = (rig.detect(client, EMULATOR) for _ in range(2))
    assert first != second
    # Both are live templates: the second detect did not replace the first.
    consent = rig.token(endpoint=EMULATOR)
    result = client.recognition.verify_face_to_face(first, second, consent=consent)
    assert result.is_identical


@pytest.mark.parametrize("repeats", [2, 5])
def test_distinct_face_ids_for_repeated_detects_with_other_options(repeats: int) -> None:
    _, client, rig = _emulated()
    seen = set()
    for index in range(repeats):
        (face,) = client.detection.detect(
            JPEG,
            return_face_id=True,
            face_id_time_to_live=60 + index,
            consent=rig.token(endpoint=EMULATOR),
        )
        seen.add(face.face_id)
    assert len(seen) == repeats


def test_an_id_source_that_repeats_does_not_reuse_a_live_face_id() -> None:
    """With an injected ``ids`` that repeats itself (a test's counter, reset), the emulator
    must still never hand out a faceId that names another live template."""
    repeated = "aaaaaaaa-0000-4000-8000-000000000001"
    fixed = iter([repeated, repeated, repeated.upper(), "bbbbbbbb-0000-4000-8000-000000000002"])
    _, client, rig = _emulated(ids=lambda: next(fixed))
    first, second = rig.detect(client, EMULATOR), rig.detect(client, EMULATOR)
    assert (first, second) == (repeated, "bbbbbbbb-0000-4000-8000-000000000002")
    client.recognition.verify_face_to_face(first, second, consent=rig.token(endpoint=EMULATOR))


def test_an_id_source_that_only_repeats_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    _, client, rig = _emulated(ids=lambda: "aaaaaaaa-0000-4000-8000-000000000001")
    rig.detect(client, EMULATOR)
    with (
        caplog.at_level("ERROR", logger="faceguard.emulator"),
        pytest.raises(InternalServerError, match="The emulator failed: RuntimeError"),
    ):
        rig.detect(client, EMULATOR)  # the emulator's own fault, answered as a 500
    # The answer names only the kind of fault; the emulator's log says what it was.
    assert "ids source repeated a faceId" in caplog.text


# -- the attribute allowlist per model (mutation survivors of _attributes) -----------------


def _sent_query(**detect: Any) -> dict[str, str]:
    """The query of the one detect request sent with ``detect`` options (no faceId)."""
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    client = FaceClient(ENDPOINT, api_key="k", transport=httpx.MockTransport(service))
    client.detection.detect(JPEG, **detect)
    (request,) = seen
    return dict(request.url.params)


@pytest.mark.parametrize(
    ("options", "sent"),
    [
        ({"return_face_attributes": ["headPose", "blur"]}, "headPose,blur"),
        ({"return_face_attributes": ["blur", "BLUR", " blur "]}, "blur"),
        (
            {
                "return_face_attributes": ["qualityForRecognition"],
                "recognition_model": "recognition_04",
            },
            "qualityForRecognition",
        ),
        (
            {
                "return_face_attributes": ["glasses", "noise"],
                "detection_model": "detection_01",
                "recognition_model": "recognition_03",
            },
            "glasses,noise",
        ),
    ],
)
def test_allowed_attributes_are_sent_once_each(options: dict[str, Any], sent: str) -> None:
    assert _sent_query(**options)["returnFaceAttributes"] == sent


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {
                "return_face_attributes": ["qualityForRecognition"],
                "recognition_model": "recognition_02",
            },
            "needs recognition_03 or recognition_04",
        ),
        (
            {
                "return_face_attributes": ["qualityForRecognition"],
                "detection_model": "detection_01",
                "recognition_model": "recognition_01",
            },
            "needs recognition_03 or recognition_04",
        ),
        ({"return_face_attributes": ["glasses"]}, "is not produced by detection_03"),
        (
            {"return_face_attributes": ["glasses"], "recognition_model": "recognition_02"},
            "is not produced by detection_03",
        ),
        (
            {"return_face_attributes": ["mask"], "detection_model": "detection_01"},
            "is not produced by detection_01",
        ),
        (
            {"return_face_attributes": ["headPose"], "detection_model": "detection_02"},
            "is not produced by detection_02",
        ),
        ({"return_face_attributes": ["headpose", "eyeColor"]}, "'eyeColor' is unknown"),
    ],
)
def test_attributes_a_model_does_not_produce_are_refused_with_the_reason(
    options: dict[str, Any], message: str
) -> None:
    from faceguard import RetiredAttributeError

    with pytest.raises(RetiredAttributeError, match=message):
        _sent_query(**options)


# -- consent bound to one person; no verifier (mutation survivors of _engine) ---------------

FACE_A = "cccccccc-3333-4333-8333-333333333333"
FACE_B = "dddddddd-4444-4444-8444-444444444444"
PERSON_A = "aaaaaaaa-1111-4111-8111-111111111111"
PERSON_B = "bbbbbbbb-2222-4222-8222-222222222222"


def _person_token(person: str) -> str:
    """Consent for ``person`` only, in each person container (not the whole container)."""
    return ISSUER.issue(
        SUBJECT,
        audience=[AUDIENCE, ENDPOINT],
        operations=CONSENT_OPERATIONS,
        use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS,
        bindings=[
            ("largePersonGroup", "staff", person),
            ("personGroup", "staff-pg", person),
            ("personDirectory", "default", person),
        ],
        use="session",
    )


PERSON_CALLS: dict[str, Callable[[FaceClient, str, str, str], object]] = {
    "verify_large_person_group": lambda c, f, p, t: c.recognition.verify_from_large_person_group(
        f, large_person_group_id="staff", person_id=p, consent=t
    ),
    "verify_person_group": lambda c, f, p, t: c.recognition.verify_from_person_group(
        f, person_group_id="staff-pg", person_id=p, consent=t
    ),
    "verify_person_directory": lambda c, f, p, t: c.recognition.verify_from_person_directory(
        f, person_id=p, consent=t
    ),
    "enroll_large_person_group": lambda c, f, p, t: c.large_person_groups.add_face(
        "staff", p, JPEG, consent=t
    ),
    "enroll_person_group": lambda c, f, p, t: c.person_groups.add_face(
        "staff-pg", p, JPEG, consent=t
    ),
}


@pytest.mark.parametrize("call", list(PERSON_CALLS))
def test_a_token_for_one_person_cannot_verify_or_enroll_another(call: str) -> None:
    from faceguard import ConsentRejectedError

    rig = Rig()
    client = rig.client()
    (face,) = client.detection.detect(JPEG, return_face_id=True, consent=_person_token(PERSON_A))
    assert face.face_id is not None
    sent = len(rig.service.requests)
    with pytest.raises(ConsentRejectedError):
        PERSON_CALLS[call](client, face.face_id, PERSON_B, _person_token(PERSON_A))
    assert len(rig.service.requests) == sent, "a refused call reached the transport"
    # The person the token names is fine.
    PERSON_CALLS[call](client, face.face_id, PERSON_A, _person_token(PERSON_A))
    assert len(rig.service.requests) == sent + 1


def test_recognition_without_a_verifier_is_a_typed_refusal() -> None:
    from faceguard import ConsentRejectedError

    service = Service()
    client = FaceClient(
        ENDPOINT,
        api_key="k",
        transport=httpx.MockTransport(service),
        guard=GuardPolicy(use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS, allow_unknown_face_ids=True),
    )
    with pytest.raises(ConsentRejectedError, match="no ConsentVerifier"):
        client.recognition.verify_face_to_face(FACE_A, FACE_B, consent=Rig().token())
    assert service.requests == []


# -- a container's model learnt from a read (mutation survivors of _engine.after) -----------


@pytest.mark.parametrize(
    ("kind", "group", "identify"),
    [
        ("largePersonGroup", "large_person_groups", IDENTIFY[1]),
        ("personGroup", "person_groups", IDENTIFY[0]),
    ],
)
def test_a_container_read_with_its_model_guards_later_identifies(
    kind: str, group: str, identify: tuple[str, str, str, str]
) -> None:
    """A container made before the guard saw it: reading it with its recognition model
    teaches the guard that model, so a faceId of another model is refused afterwards."""
    rig = Rig()
    container = identify[3]
    body = {f"{kind}Id": container, "name": "Staff", "recognitionModel": "recognition_04"}
    rig.service.routes[f"/{kind.lower()}s/{container}"] = body
    client = rig.client()
    old = client.detection.detect(
        JPEG,
        return_face_id=True,
        recognition_model="recognition_03",
        consent=rig.token(),
    )[0].face_id
    assert old is not None
    _identify(rig, identify, [old])  # the guard does not know the container's model yet
    getattr(client, group).get(container, return_recognition_model=True)
    with pytest.raises(FaceIdError) as refusal:
        _identify(rig, identify, [old])
    assert refusal.value.reason == "model_mismatch"
    # A faceId of the container's model still goes through.
    new = rig.detect(client)
    _identify(rig, identify, [new])


def test_a_read_without_the_model_or_of_a_person_teaches_nothing() -> None:
    rig = Rig()
    rig.service.routes["/largepersongroups/staff"] = {"largePersonGroupId": "staff", "name": "S"}
    rig.service.routes[f"/largepersongroups/staff/persons/{PERSON_A}"] = {
        "personId": PERSON_A,
        "name": "P",
    }
    client = rig.client()
    client.large_person_groups.get("staff")
    client.large_person_groups.get_person("staff", PERSON_A)
    old = client.detection.detect(
        JPEG, return_face_id=True, recognition_model="recognition_03", consent=rig.token()
    )[0].face_id
    assert old is not None
    _identify(rig, IDENTIFY[1], [old])  # nothing learnt: no model to compare with


# -- what the ledger and registry keep after verify, deletions, withdrawal (survivors) -------


def test_verifying_a_person_does_not_record_consent_for_them(
    tmp_path: Path, audit: AuditLog
) -> None:
    """Only enrollment records a person's consent: a 1:1 verify of a person the guard never
    saw enrolled must not make them an identifiable candidate afterwards."""
    rig = Rig(audit)
    client = rig.client()
    (face,) = client.detection.detect(JPEG, return_face_id=True, consent=_person_token(PERSON_A))
    assert face.face_id is not None
    PERSON_CALLS["verify_large_person_group"](
        client, face.face_id, PERSON_A, _person_token(PERSON_A)
    )
    rig.service.identify = [
        {"faceId": face.face_id, "candidates": [{"personId": PERSON_A, "confidence": 0.9}]}
    ]
    (result,) = _identify(rig, IDENTIFY[1], [face.face_id])
    assert result.candidates == []
    assert _suppressed(tmp_path) == [1]


def test_deleting_one_face_of_a_person_keeps_the_persons_consent() -> None:
    rig = Rig()
    client = rig.client()
    token = _person_token(PERSON_A)
    added = client.large_person_groups.add_face("staff", PERSON_A, JPEG, consent=token)
    client.large_person_groups.delete_face("staff", PERSON_A, added.persisted_face_id)
    face_id = rig.detect(client)
    rig.service.identify = [
        {"faceId": face_id, "candidates": [{"personId": PERSON_A, "confidence": 0.9}]}
    ]
    (result,) = _identify(rig, IDENTIFY[1], [face_id])
    assert [c.person_id for c in result.candidates] == [PERSON_A]  # still enrolled


@pytest.mark.parametrize("flavour", FIND_SIMILAR, ids=[f[0] for f in FIND_SIMILAR])
def test_deleting_a_list_face_forgets_its_consent(flavour: tuple[str, str, str, str]) -> None:
    method, keyword, kind, container = flavour
    rig = Rig()
    client = rig.client()
    group = client.face_lists if kind == "faceList" else client.large_face_lists
    kept = group.add_face(container, JPEG, consent=rig.token()).persisted_face_id
    gone = group.add_face(container, JPEG, consent=rig.token()).persisted_face_id
    group.delete_face(container, gone)
    rig.service.similar = [
        {"persistedFaceId": kept, "confidence": 0.9},
        {"persistedFaceId": gone, "confidence": 0.8},
    ]
    face_id = rig.detect(client)
    call: Callable[..., Any] = getattr(client.recognition, method)
    results = call(face_id, **{keyword: container}, consent=rig.token())
    assert [r.persisted_face_id for r in results] == [kept]


def test_withdrawal_forgets_the_subjects_face_ids() -> None:
    """After ``erase_subject``, the subject's faceIds are gone from the registry: using one
    is refused as unknown (nothing left to show), not merely as another subject's."""
    rig = Rig()
    client = rig.client()
    other = ISSUER.issue(
        OTHER_SUBJECT,
        audience=[AUDIENCE, ENDPOINT],
        operations=CONSENT_OPERATIONS,
        use_case=UseCase.DUPLICATE_OR_BLOCKED_USERS,
        use="session",
    )
    theirs = rig.detect(client)
    (kept,) = client.detection.detect(JPEG, return_face_id=True, consent=other)
    assert kept.face_id is not None
    client.erase_subject(SUBJECT)
    with pytest.raises(FaceIdError) as refusal:
        client.recognition.find_similar(theirs, face_ids=[theirs], consent=other)
    assert refusal.value.reason == "unknown"
    # Only that subject's: another subject's faceIds stay usable.
    client.recognition.find_similar(kept.face_id, face_ids=[kept.face_id], consent=other)
