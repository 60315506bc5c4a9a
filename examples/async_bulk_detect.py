"""Bulk detection with the async client: a folder of photos, a few requests at a time.

A typical first pass before enrollment: which photos hold exactly one face, of a quality good
enough to enroll (``high``; ``medium`` will do for a photo to identify)? A semaphore caps the
requests in flight (stay under your resource's transactions per second; faceguard also honours
``Retry-After`` on a 429). One failed photo is reported and does not stop the batch.
Detection without faceIds creates no biometric template, so it needs no declared use case and
no consent token (``GuardPolicy()`` declares none).

Runs on the offline emulator by default; to use your Azure resource instead, set both
``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY``. Needs ``faceguard[emulator]``.

Run from the repository root: ``python examples/async_bulk_detect.py``
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from _common import FACES, Backend

import faceguard
from faceguard import AsyncFaceClient, FaceAttributeType, GuardPolicy

IN_FLIGHT = 4


async def check(client: AsyncFaceClient, photo: Path, slots: asyncio.Semaphore) -> str:
    """What to do with one photo: enroll it, retake it, or why it was rejected."""
    async with slots:
        try:
            faces = await client.detection.detect(
                photo, return_face_attributes=[FaceAttributeType.QUALITY_FOR_RECOGNITION]
            )
        except faceguard.APIError as error:  # typed, with support info for a failure report
            return f"rejected: {type(error).__name__}"
    if len(faces) != 1:
        return f"rejected: {len(faces)} faces"
    attributes = faces[0].face_attributes
    quality = attributes.quality_for_recognition if attributes else None
    if quality == "high":
        return "good: enroll it"
    if quality == "medium":
        return "medium quality: retake it to enroll"
    return "low quality: retake it"


async def main() -> None:
    backend = Backend()
    photos = sorted(p for p in Path(FACES).rglob("*") if p.suffix in {".jpg", ".jpeg"})
    print(f"checking {len(photos)} photos on {backend.name}, {IN_FLIGHT} at a time")
    slots = asyncio.Semaphore(IN_FLIGHT)
    async with backend.async_face_client(GuardPolicy()) as client:
        verdicts = await asyncio.gather(*(check(client, photo, slots) for photo in photos))
    for photo, verdict in zip(photos, verdicts, strict=True):
        print(f"  {photo.relative_to(FACES)}: {verdict}")
    good = sum(verdict.startswith("good") for verdict in verdicts)
    print(f"{good} of {len(photos)} photos are good enough to enroll")


if __name__ == "__main__":
    asyncio.run(main())
