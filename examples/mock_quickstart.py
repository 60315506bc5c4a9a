"""A first run of faceguard with no cloud account: a scripted stand-in for the service.

The Face API is answered here by a small in-process ``httpx.MockTransport`` that returns
spec-shaped canned responses. It has no face engine: the faces, ids and confidences below are
scripted, not measured. (The offline emulator with a real local face engine is planned; see the
README.) What is real: every request faceguard builds, its validation, retries, typed results
and typed errors.

Run: ``python examples/mock_quickstart.py``
"""

from __future__ import annotations

import json
import uuid

import httpx

import faceguard
from faceguard import FaceAttributeType, FaceClient

PERSON_ID = str(uuid.uuid4())
FACE_ID = str(uuid.uuid4())


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
    if path == "/persongroups/demo-group" and method == "PUT":
        return httpx.Response(200, headers=headers)
    if path == "/persongroups/demo-group/persons" and method == "POST":
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
    with FaceClient(
        "https://example.cognitiveservices.azure.com",
        api_key="not-a-real-key",
        transport=httpx.MockTransport(scripted_service),
    ) as client:
        faces = client.detection.detect(
            image, return_face_id=True, return_face_attributes=[FaceAttributeType.HEAD_POSE]
        )
        attributes = faces[0].face_attributes
        print(f"detected {len(faces)} face(s); head pose {attributes and attributes.head_pose}")
        print(f"support info: {faces.support_info()}")

        try:
            client.detection.detect(image, return_face_attributes=["emotion"])
        except faceguard.RetiredAttributeError as refusal:
            print(f"refused before sending: {refusal}")

        client.person_groups.create("demo-group", name="Demo group")
        person = client.person_groups.create_person("demo-group", name="Ada")
        client.person_groups.add_face("demo-group", person.person_id, image)
        status = client.person_groups.train("demo-group").wait(timeout=30)
        print(f"training: {status.status}")

        (match,) = client.recognition.identify_from_person_group(
            [faces[0].face_id or ""], person_group_id="demo-group"
        )
        best = match.candidates[0]
        print(f"identified person {best.person_id[:8]}... with confidence {best.confidence}")

        try:
            client.person_groups.get("demo-group")
        except faceguard.NotFoundError as error:
            print(f"typed error: {type(error).__name__}: {error}")


if __name__ == "__main__":
    main()
