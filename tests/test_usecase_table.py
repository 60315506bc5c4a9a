"""Every row of the use-case table, through the client (GUARD §1c R10, §3.4; issue 11 §7).

For each limited-access use case, every operation it does not permit must be refused with
``UseCaseError`` before a byte is sent, and every operation it permits must go through. The
expected table is written out here, row by row, from the transparency note's descriptions
(GUARD §3.4), independently of ``faceguard._guard._usecases.PERMITTED``: a test generated
from the code's own table could never fail. A row of the code that permits one operation
more (or one fewer) than this table turns a test red.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from faceguard import AgeAttestation, AuditLog, FaceClient, OversightError, UseCaseError
from faceguard._guard._consent import ConsentIssuer, ConsentVerifier
from faceguard._guard._oversight import REVIEWERS
from faceguard._guard._policy import GuardPolicy
from faceguard._guard._store import MemoryStore
from faceguard._guard._usecases import Deployment, UseCase

ENDPOINT = "https://usecases.cognitiveservices.azure.com"
AUDIENCE = "faceguard:usecase-table"
JPEG = b"\xff\xd8\xff\xe0" + bytes(2000)
GROUP = "staff"
PERSON = "8f0c2d8e-3f3a-4a57-9d55-2f7c6a1b0c11"
FACE_1 = "11111111-2222-4333-8444-555555555555"
FACE_2 = "66666666-7777-4888-8999-aaaaaaaaaaaa"
ISSUER, PUBLIC_KEY = ConsentIssuer.generate(issuer="urn:faceguard:usecase-table", kid="uc-1")

ALL_OPERATIONS = (
    "liveness",
    "liveness_verify",
    "detect_template",
    "verify",
    "enroll",
    "identify",
    "find_similar",
    "group",
)

# Written by hand from GUARD §3.4 / the transparency note; do not derive from PERMITTED.
# 1:1 verification (with optional liveness) enrolls and verifies, never searches 1:N;
# identification cases add identify; finding duplicates also compares faces with each other;
# archive search has no live subject (no liveness) and searches; the law-enforcement and
# emergency cases identify one person and do not cluster (no group).
EXPECTED: dict[str, frozenset[str]] = {
    "commercial.liveness": frozenset({"liveness"}),
    "gov.liveness": frozenset({"liveness"}),
    "commercial.identity_verification": frozenset(
        {"liveness", "liveness_verify", "detect_template", "verify", "enroll"}
    ),
    "gov.identity_verification": frozenset(
        {"liveness", "liveness_verify", "detect_template", "verify", "enroll"}
    ),
    "commercial.touchless_access_control": frozenset(
        {"liveness", "liveness_verify", "detect_template", "verify", "enroll", "identify"}
    ),
    "gov.touchless_access_control": frozenset(
        {"liveness", "liveness_verify", "detect_template", "verify", "enroll", "identify"}
    ),
    "commercial.personalization": frozenset(
        {"liveness", "liveness_verify", "detect_template", "verify", "enroll", "identify"}
    ),
    "gov.personalization": frozenset(
        {"liveness", "liveness_verify", "detect_template", "verify", "enroll", "identify"}
    ),
    "commercial.duplicate_or_blocked_users": frozenset(
        {
            "liveness",
            "liveness_verify",
            "detect_template",
            "verify",
            "enroll",
            "identify",
            "find_similar",
            "group",
        }
    ),
    "commercial.media_archive_search": frozenset(
        {"detect_template", "verify", "enroll", "identify", "find_similar", "group"}
    ),
    "gov.public_media_archive": frozenset(
        {"detect_template", "verify", "enroll", "identify", "find_similar", "group"}
    ),
    "gov.humanitarian_missing_persons": frozenset(
        {"detect_template", "verify", "enroll", "identify", "find_similar", "group"}
    ),
    "gov.law_enforcement_apprehended": frozenset(
        {"detect_template", "verify", "enroll", "identify", "find_similar"}
    ),
    "gov.emergency": frozenset({"detect_template", "verify", "enroll", "identify", "find_similar"}),
}


class Service:
    """Answers every operation the table exercises; records what reached it."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/face/v1.2")
        rect = {"top": 1, "left": 1, "width": 90, "height": 90}
        session = {"sessionId": "s", "authToken": "t", "status": "NotStarted"}
        answers: dict[str, Any] = {
            "/detect": [{"faceId": str(uuid.uuid4()), "faceRectangle": rect}],
            "/verify": {"isIdentical": True, "confidence": 0.9},
            "/identify": [],
            "/findsimilars": [],
            "/group": {"groups": [], "messyGroup": []},
            "/detectLiveness-sessions": {**session, "results": {"attempts": []}},
            "/detectLivenessWithVerify-sessions": {
                **session,
                "results": {"attempts": [], "verifyReferences": []},
            },
        }
        if path.endswith("/persistedfaces"):
            return httpx.Response(200, json={"persistedFaceId": str(uuid.uuid4())})
        return httpx.Response(200, json=answers[path])


def _client(use_case: UseCase, audit: Path | None = None) -> tuple[FaceClient, Service, str]:
    store = MemoryStore()
    verifier = ConsentVerifier(
        {ISSUER.kid: PUBLIC_KEY}, issuer=ISSUER.issuer, audience=AUDIENCE, replay_store=store
    )
    policy = GuardPolicy(
        use_case=use_case,
        verifier=verifier,
        store=store,
        allow_unknown_face_ids=True,  # the faceIds below are invented: only the table matters
        audit=AuditLog(audit) if audit is not None else None,
    )
    service = Service()
    client = FaceClient(ENDPOINT, api_key="k", transport=httpx.MockTransport(service), guard=policy)
    token = ISSUER.issue(
        "p-table",
        audience=[AUDIENCE, ENDPOINT],
        operations=[op for op in ALL_OPERATIONS if op != "liveness"],
        use_case=use_case,
        bindings=[("largePersonGroup", GROUP, PERSON)],
        use="session",
        # What the stricter use cases need on top (R06 access control, R16 law enforcement).
        alternative_offered=True,
        age=AgeAttestation.ADULT_ATTESTED,
    )
    return client, service, token


CALLS: dict[str, Callable[[FaceClient, str], object]] = {
    "liveness": lambda c, t: c.liveness.create_session(liveness_operation_mode="Passive"),
    "liveness_verify": lambda c, t: c.liveness.create_with_verify_session(
        verify_image=JPEG, liveness_operation_mode="Passive", consent=t
    ),
    "detect_template": lambda c, t: c.detection.detect(JPEG, return_face_id=True, consent=t),
    "verify": lambda c, t: c.recognition.verify_face_to_face(FACE_1, FACE_2, consent=t),
    "enroll": lambda c, t: c.large_person_groups.add_face(GROUP, PERSON, JPEG, consent=t),
    "identify": lambda c, t: c.recognition.identify_from_large_person_group(
        [FACE_1], large_person_group_id=GROUP, consent=t
    ),
    "find_similar": lambda c, t: c.recognition.find_similar(FACE_1, face_ids=[FACE_2], consent=t),
    "group": lambda c, t: c.recognition.group([FACE_1, FACE_2], consent=t),
}

# R11: under a consequential use case the recognition operations go through client.oversight
# (with an audit log); client.recognition refuses them.
REVIEWED: dict[str, Callable[[FaceClient, str], object]] = {
    "verify": lambda c, t: c.oversight.verify_face_to_face(FACE_1, FACE_2, consent=t),
    "identify": lambda c, t: c.oversight.identify_from_large_person_group(
        [FACE_1], large_person_group_id=GROUP, consent=t
    ),
    "find_similar": lambda c, t: c.oversight.find_similar(FACE_1, face_ids=[FACE_2], consent=t),
    "group": lambda c, t: c.oversight.group([FACE_1, FACE_2], consent=t),
}

CASES = [
    (use_case, operation, operation in EXPECTED[use_case.value])
    for use_case in UseCase
    for operation in ALL_OPERATIONS
]


def test_a_declared_deployment_cannot_be_changed_after_the_client_is_built() -> None:
    """Configuration is frozen: flipping a prohibited-deployment flag later is impossible."""
    deployment = Deployment()
    for name in ("us_police", "law_enforcement_mobile_realtime"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(deployment, name, True)
        assert getattr(deployment, name) is False


def test_the_expected_table_has_a_row_for_every_use_case() -> None:
    """A use case added to the code must get a hand-written row here first."""
    assert set(EXPECTED) == {use_case.value for use_case in UseCase}
    assert set(CALLS) == set(ALL_OPERATIONS)
    for permitted in EXPECTED.values():
        assert permitted <= set(ALL_OPERATIONS)


@pytest.mark.parametrize(
    ("use_case", "operation", "permitted"),
    CASES,
    ids=[f"{u.value}-{op}-{'permitted' if p else 'refused'}" for u, op, p in CASES],
)
def test_each_operation_under_each_use_case(
    use_case: UseCase, operation: str, permitted: bool, tmp_path: Path
) -> None:
    client, service, token = _client(use_case)
    call = CALLS[operation]
    if permitted and REVIEWERS[use_case].get(operation):
        with pytest.raises(OversightError) as plain:
            call(client, token)
        assert plain.value.reason == "oversight_required" and service.requests == []
        client, service, token = _client(use_case, tmp_path / "audit.jsonl")
        call = REVIEWED[operation]
    if permitted:
        call(client, token)
        assert len(service.requests) == 1, f"{operation} under {use_case.value} was not sent"
        return
    with pytest.raises(UseCaseError) as refusal:
        call(client, token)
    assert service.requests == [], "a refused call reached the transport"
    assert operation in str(refusal.value) and use_case.value in str(refusal.value)


# -- the policy's own checks (mutation survivors of _policy) --------------------------------


def test_a_policy_takes_the_use_case_by_its_wire_name_or_refuses_it() -> None:
    from faceguard import GuardPolicy as PublicPolicy
    from faceguard import InvalidInputError

    policy = PublicPolicy(use_case="gov.emergency")  # type: ignore[arg-type]
    assert policy.use_case is UseCase.GOV_EMERGENCY
    assert PublicPolicy(use_case=UseCase.LIVENESS).use_case is UseCase.LIVENESS
    for wrong in ("emergency", "GOV.EMERGENCY", ""):
        with pytest.raises(InvalidInputError) as refusal:
            PublicPolicy(use_case=wrong)  # type: ignore[arg-type]
        assert refusal.value.parameter == "use_case"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("liveness_sessions_per_device", 0),
        ("liveness_sessions_per_device", -1),
        ("liveness_sessions_per_device", True),
        ("liveness_sessions_per_device", 2.0),
        ("liveness_sessions_per_application", 0),
        ("liveness_sessions_per_application", "5"),
        ("liveness_window", 0),
        ("liveness_window", -1.0),
        ("liveness_window", float("inf")),
        ("liveness_window", float("nan")),
        ("liveness_window", True),
        ("liveness_window", 10**400),
        ("face_id_margin", -1),
        ("face_id_margin", float("nan")),
        ("face_id_margin", float("inf")),
        ("face_id_margin", False),
        ("face_id_margin", "30"),
    ],
)
def test_a_policy_refuses_settings_out_of_range(setting: str, value: object) -> None:
    from faceguard import GuardPolicy as PublicPolicy
    from faceguard import InvalidInputError

    with pytest.raises(InvalidInputError) as refusal:
        PublicPolicy(**{setting: value})  # type: ignore[arg-type]
    assert refusal.value.parameter == setting


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("liveness_sessions_per_device", 1),
        ("liveness_sessions_per_application", 1),
        ("liveness_window", 0.5),
        ("liveness_window", 1),
        ("face_id_margin", 0),
        ("face_id_margin", 0.0),
        ("face_id_margin", 45),
        ("face_id_margin", None),
    ],
)
def test_a_policy_takes_the_smallest_valid_settings(setting: str, value: object) -> None:
    from faceguard import GuardPolicy as PublicPolicy

    assert getattr(PublicPolicy(**{setting: value}), setting) == value  # type: ignore[arg-type]


def test_a_policy_is_frozen() -> None:
    policy = GuardPolicy(use_case=UseCase.LIVENESS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.use_case = UseCase.DUPLICATE_OR_BLOCKED_USERS  # type: ignore[misc]
