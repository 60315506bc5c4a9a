"""A first run of faceguard with no cloud account: a scripted stand-in for the service.

The Face API is answered here by a small in-process ``httpx.MockTransport`` that returns
spec-shaped canned responses. It has no face engine: the faces, ids and confidences below are
scripted, not measured (for measured faces, the offline emulator with a real local face
engine: ``faceguard demo``, or ``Emulator().transport()`` from ``faceguard.emulator``). What
is real: every request faceguard builds, its validation, retries, typed results and typed
errors, and the responsible-use guard: a declared use case, and a consent token checked
before any call that creates, stores or compares a face template.

The consent tokens come from a throwaway consent service in this process. In an application,
your consent service holds the private key and issues a short-lived token when a person agrees;
faceguard holds only the public key. (Consent tokens need ``pip install "faceguard[consent]"``.)

Run: ``python examples/mock_quickstart.py``
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from pathlib import Path

import httpx

import faceguard
from faceguard import (
    AuditLog,
    ConsentIssuer,
    ConsentVerifier,
    FaceAttributeType,
    FaceClient,
    GuardPolicy,
    Jurisdiction,
    LegalBasis,
    MemoryStore,
    Notice,
    Retention,
    UseCase,
)

PERSON_ID = str(uuid.uuid4())
FACE_ID = str(uuid.uuid4())
GROUP = "demo-group"
AUDIENCE = "urn:example:front-door"
ENDPOINT = "https://example.cognitiveservices.azure.com"
"""This deployment's id: tokens for another deployment are refused."""
ADA = "p-7c1e-ada"
"""Ada's pseudonymous id at the consent service (never an email or a phone number)."""


def scripted_service(request: httpx.Request) -> httpx.Response:
    """Canned answers in the shapes of the Face v1.2 contract."""
    path, method = request.url.path.removeprefix("/face/v1.2"), request.method
    headers = {"apim-request-id": str(uuid.uuid4())}
    if path == "/detect":
        face = {
            "faceId": FACE_ID,
            "faceRectangle": {"top": 40, "left": 52, "width": 120, "height": 120},
            "faceAttributes": {"headPose": {"pitch": 1.5, "roll": -2.0, "yaw": 4.1}},
        }
        return httpx.Response(200, json=[face], headers=headers)
    if path == f"/persongroups/{GROUP}" and method == "PUT":
        return httpx.Response(200, headers=headers)
    if path == f"/persongroups/{GROUP}/persons" and method == "POST":
        return httpx.Response(200, json={"personId": PERSON_ID}, headers=headers)
    if path.endswith("/persistedfaces"):
        return httpx.Response(200, json={"persistedFaceId": str(uuid.uuid4())}, headers=headers)
    if path.endswith("/train"):
        return httpx.Response(202, headers={**headers, "operation-Location": "https://x/op"})
    if path.endswith("/training"):
        status = {
            "status": "succeeded",
            "createdDateTime": "2026-11-22T10:00:00Z",
            "lastActionDateTime": "2026-11-22T10:00:01Z",
            "lastSuccessfulTrainingDateTime": "2026-11-22T10:00:01Z",
        }
        return httpx.Response(200, json=status, headers=headers)
    if path == "/identify":
        face_ids = json.loads(request.content)["faceIds"]
        results = [
            {"faceId": f, "candidates": [{"personId": PERSON_ID, "confidence": 0.91}]}
            for f in face_ids
        ]
        return httpx.Response(200, json=results, headers=headers)
    error = {"error": {"code": "NotFound", "message": f"{method} {path} is not scripted"}}
    return httpx.Response(404, json=error, headers={**headers, "x-ms-error-code": "NotFound"})


def main() -> None:
    image = b"\xff\xd8\xff\xe0" + bytes(4096)  # JPEG magic number: enough for validation

    # The consent service's side: a signing key (here a throwaway one) and, once Ada agreed,
    # short-lived tokens naming her, what may be done with her face, and in which group.
    issuer, public_key = ConsentIssuer.generate()

    def consent(*operations: str, person_id: str | None = None) -> str:
        return issuer.issue(
            ADA,
            audience=[AUDIENCE, ENDPOINT],  # this deployment, and this Face resource
            operations=operations,
            use_case=UseCase.TOUCHLESS_ACCESS_CONTROL,
            bindings=[("personGroup", GROUP, person_id)],
            use="session",
            alternative_offered=True,  # a badge works too: enrolling is optional (R06)
            # What the UK profile below needs: explicit consent under UK GDPR Art. 9(2)(a),
            # the notice Ada was shown, and how long her template is kept.
            legal_basis=[LegalBasis.EXPLICIT_CONSENT, LegalBasis.UK_GDPR_ART9_2A],
            notice=Notice("https://example.com/door-notice", time.time() - 60),
            retention=Retention(until=time.time() + 365 * 86400),
        )

    # faceguard's side: the use case Microsoft approved, and a verifier with the public key only.
    store = MemoryStore()
    verifier = ConsentVerifier(
        {issuer.kid: public_key}, issuer=issuer.issuer, audience=AUDIENCE, replay_store=store
    )
    # A door decision bears on someone's work: access control is a consequential use case
    # (R11), so matches come back provisional and are confirmed by a person, and the calls
    # and reviews are recorded in an audit log (here a temporary file).
    audit = AuditLog(Path(tempfile.mkdtemp(prefix="faceguard-quickstart-")) / "audit.jsonl")
    # The door is in the UK: every token must carry what UK GDPR needs, or it is refused.
    guard = GuardPolicy(
        use_case=UseCase.TOUCHLESS_ACCESS_CONTROL,
        jurisdictions=[Jurisdiction.UK],
        verifier=verifier,
        store=store,
        audit=audit,
    )

    with FaceClient(
        ENDPOINT,
        api_key="not-a-real-key",
        transport=httpx.MockTransport(scripted_service),
        guard=guard,
    ) as client:
        at_the_door = consent("detect_template", "identify")
        faces = client.detection.detect(
            image,
            return_face_id=True,
            return_face_attributes=[FaceAttributeType.HEAD_POSE],
            consent=at_the_door,
        )
        attributes = faces[0].face_attributes
        print(f"detected {len(faces)} face(s); head pose {attributes and attributes.head_pose}")
        print(f"support info: {faces.support_info()}")

        try:
            client.detection.detect(image, return_face_attributes=["emotion"])
        except faceguard.RetiredAttributeError as refusal:
            print(f"refused before sending: {refusal}")

        try:
            client.detection.detect(image, return_face_id=True)  # a faceId is a face template
        except faceguard.ConsentRequiredError as refusal:
            print(f"refused without consent: {refusal}")

        client.person_groups.create(GROUP, name="Demo group")
        person = client.person_groups.create_person(GROUP, name="Ada")
        enrollment = consent("enroll", person_id=person.person_id)
        client.person_groups.add_face(GROUP, person.person_id, image, consent=enrollment)
        status = client.person_groups.train(GROUP).wait(timeout=30)
        print(f"training: {status.status}")

        result = client.oversight.identify_from_person_group(
            [faces[0].face_id or ""], person_group_id=GROUP, consent=at_the_door
        )
        best = result.provisional[0].candidates[0]  # proposed, for the reviewer's screen
        print(f"proposed person {best.person_id[:8]}... with confidence {best.confidence}")
        result.confirm("front-desk-1", [best.person_id])  # a person looked, and agrees
        (confirmed,) = result.outcome
        print(f"confirmed by the front desk: {confirmed == PERSON_ID}")

        try:
            client.person_groups.get(GROUP)
        except faceguard.NotFoundError as error:
            print(f"typed error: {type(error).__name__}: {error}")
    audit.close()


if __name__ == "__main__":
    main()
