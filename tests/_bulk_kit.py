"""Shared rig of the bulk tests: the emulator in transport mode, the real guard with consent
tokens (the pytest plugin's fixtures), photos from ``tests/data/faces``, and counters.

Import it as ``_bulk_kit`` (pytest puts ``tests/`` on ``sys.path``)."""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from faceguard.bulk import BulkFace

FACES = Path(__file__).parent / "data" / "faces"
_MANIFEST = json.loads((FACES / "manifest.json").read_text())
SINGLE = [
    FACES / entry["file"]
    for entry in _MANIFEST["images"]
    if entry["faces"] == 1 and not entry.get("background_faces")
]
TWO_PEOPLE = FACES / "face_recognition" / "multi" / "two_people.jpg"
SMALL = FACES / "face_recognition" / "sizes" / "obama-240p.jpg"
ADD_ROUTE = "/largepersongroups/{largePersonGroupId}/persons/{personId}/persistedfaces"


def blank_jpeg() -> bytes:
    """A valid JPEG with no face in it (over 1 KB)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.effect_noise((160, 160), 40).convert("RGB").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


class Recorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps the emulator's transport: records every request, counts requests in flight."""

    def __init__(self, inner: Any, *, hold: float = 0.0) -> None:
        self.inner = inner
        self.hold = hold
        self.requests: list[tuple[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def _enter(self, request: httpx.Request) -> None:
        with self._lock:
            self.requests.append((request.method, request.url.path))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._enter(request)
        try:
            if self.hold:
                time.sleep(self.hold)  # real time: lets other items' requests overlap
            response: httpx.Response = self.inner.handle_request(request)
            return response
        finally:
            self._leave()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import asyncio

        self._enter(request)
        try:
            if self.hold:
                await asyncio.sleep(self.hold)
            response: httpx.Response = await self.inner.handle_async_request(request)
            return response
        finally:
            self._leave()

    def posts(self) -> int:
        return sum(1 for method, _ in self.requests if method == "POST")


def no_sleep(_seconds: float) -> None:
    """The bulk loop's backoff, replaced: tests never wait for real."""


async def no_async_sleep(_seconds: float) -> None:
    """The async bulk loop's backoff, replaced."""


def make_persons(
    client: Any, group_id: str, count: int, consent: Any, *, kind: str = "largePersonGroup"
) -> tuple[list[str], str]:
    """Create a large person group with ``count`` persons; a session token binding them all."""
    client.large_person_groups.create(group_id, name="Bulk")
    persons = [
        client.large_person_groups.create_person(group_id, name=f"p{i}").person_id
        for i in range(count)
    ]
    token = consent.token(operations=["enroll"], bindings=[(kind, group_id, p) for p in persons])
    return persons, token


def face_items(
    persons: list[str], per_person: int, token: str | Callable[[], str], *, prefix: str = "photo"
) -> list[BulkFace]:
    """``per_person`` items per person, cycling over the single-face photos."""
    items = []
    for p_index, person in enumerate(persons):
        for i in range(per_person):
            image = SINGLE[(p_index * per_person + i) % len(SINGLE)]
            items.append(
                BulkFace(
                    key=f"{prefix}/{p_index}/{i}.jpg",
                    image=image,
                    person_id=person,
                    consent=token,
                    user_data=f"p{p_index}-{i}",
                )
            )
    return items


def markers_on_server(client: Any, group_id: str, persons: list[str]) -> Counter[str]:
    """How many faces on the service carry each marker (its userData's last word)."""
    found: Counter[str] = Counter()
    for person in persons:
        for face_id in client.large_person_groups.get_person(group_id, person).persisted_face_ids:
            user_data = client.large_person_groups.get_face(group_id, person, face_id).user_data
            found[(user_data or "").rsplit(" ", 1)[-1]] += 1
    return found
