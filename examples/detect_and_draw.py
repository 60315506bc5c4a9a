"""Detect faces in a photo and draw them: boxes, landmarks and quality, as an HTML page.

Detection without faceIds creates no biometric template, so it needs no declared use case and
no consent token: this is the one thing a client with an empty ``GuardPolicy()`` may do. The
guard still refuses retired attributes (age, emotion...) and faceIds without consent.

Runs on the offline emulator by default; to use your Azure resource instead, set both
``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY``. Needs ``faceguard[emulator,notebook]``.

Run from the repository root: ``python examples/detect_and_draw.py``
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from _common import FACES, Backend

import faceguard
from faceguard import FaceAttributeType, GuardPolicy
from faceguard.notebook import render_detection

PHOTO = Path(FACES, "face_recognition/multi/two_people.jpg")


def main() -> None:
    backend = Backend()
    print(f"detecting faces in {PHOTO} on {backend.name}")
    # No use case declared and no consent verifier: recognition of any kind is refused.
    with backend.face_client(GuardPolicy()) as client:
        faces = client.detection.detect(
            PHOTO,
            return_face_landmarks=True,
            return_face_attributes=[
                FaceAttributeType.HEAD_POSE,
                FaceAttributeType.BLUR,
                FaceAttributeType.QUALITY_FOR_RECOGNITION,
            ],
        )
        print(f"{len(faces)} face(s) detected")
        for number, face in enumerate(faces, start=1):
            box, attributes = face.face_rectangle, face.face_attributes
            quality = attributes.quality_for_recognition if attributes else None
            print(
                f"  face {number}: {box.width}x{box.height} px at ({box.left}, {box.top}), "
                f"quality for recognition {quality}"
            )

        refusals: dict[str, Callable[[], object]] = {
            "a retired attribute (age)": lambda: client.detection.detect(
                PHOTO, return_face_attributes=["age"]
            ),
            "a faceId (a biometric template)": lambda: client.detection.detect(
                PHOTO, return_face_id=True
            ),
        }
        for label, call in refusals.items():
            try:
                call()
            except faceguard.GuardError as refusal:
                print(f"  refused before sending {label}: {type(refusal).__name__}")

    page = Path(tempfile.mkdtemp(prefix="faceguard-example-")) / "detection.html"
    html = render_detection(faces, PHOTO)  # boxes and landmarks drawn on a copy (Pillow)
    page.write_text(f"<!doctype html><meta charset='utf-8'>\n{html}\n", encoding="utf-8")
    print(f"HTML with the faces drawn: {page}")


if __name__ == "__main__":
    main()
