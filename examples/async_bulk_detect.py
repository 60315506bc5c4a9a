"""Bulk detection with the async client: which photos are good enough to enroll?

A typical first pass before enrollment: which photos hold exactly one face, of a quality good
enough to enroll (``high``; ``medium`` will do for a photo to identify)?
``faceguard.bulk.async_bulk_detect`` sends a few requests at a time (``concurrency``), retries
what can be retried, and answers one result per photo, in order: a photo that fails is
reported and does not stop the batch. A ``RateLimiter`` on the client keeps the requests under
the resource's transactions per second. Detection without faceIds creates no biometric
template, so it needs no declared use case and no consent token (``GuardPolicy()`` declares
none).

Runs on the offline emulator by default; to use your Azure resource instead, set both
``FACEGUARD_ENDPOINT`` and ``FACEGUARD_API_KEY``. Needs ``faceguard[emulator]``.

Run from the repository root: ``python examples/async_bulk_detect.py``
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from _common import FACES, Backend

from faceguard import FaceAttributeType, GuardPolicy, RateLimiter
from faceguard.bulk import BulkImage, BulkItemResult, async_bulk_detect

IN_FLIGHT = 4
TPS = 10  # the S0 tier's limit


def verdict(result: BulkItemResult) -> str:
    """What to do with one photo: enroll it, retake it, or why it was rejected."""
    if result.status != "added":  # skipped (no face, unreadable image) or failed
        return f"rejected: {result.reason or result.error_type}"
    faces = result.faces or []
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
    async with backend.async_face_client(GuardPolicy(), rate_limit=RateLimiter(TPS)) as client:
        report = await async_bulk_detect(
            client,
            (BulkImage(key=str(photo.relative_to(FACES)), image=photo) for photo in photos),
            concurrency=IN_FLIGHT,
            progress=False,
            return_face_attributes=[FaceAttributeType.QUALITY_FOR_RECOGNITION],
        )
    verdicts = [verdict(result) for result in report.items]
    for result, text in zip(report.items, verdicts, strict=True):
        print(f"  {result.key}: {text}")
    good = sum(text.startswith("good") for text in verdicts)
    print(f"{good} of {len(photos)} photos are good enough to enroll")


if __name__ == "__main__":
    asyncio.run(main())
