"""The contract fixtures: clients that replay a cassette, record one, or talk to the resource.

``recorded_face_client`` and its three siblings are what a contract test asks for. Which
backend they use is the run's (``_modes``) and the test's cassette's (``_recorder``):

- **replay**: endpoint ``https://resource.faceguard.invalid`` and a placeholder key (nothing
  is sent, so no ``FACEGUARD_ENDPOINT`` or ``FACEGUARD_API_KEY`` is needed); waits (training
  polls, ``Retry-After``) only advance ``faceguard_clock``, so a recorded training replays
  in milliseconds.
- **record** and **live**: ``FACEGUARD_ENDPOINT`` / ``FACEGUARD_API_KEY`` (and the
  ``FACEGUARD_CONTENT_SAFETY_*`` ones, falling back to them), which must be set; waits sleep
  for real and advance ``faceguard_clock`` by as much, so the guard's faceId lifetimes and
  the pollers' deadlines agree with the service.

The clients carry ``faceguard_guard``: the same guard, consent fixture and use case as the
in-process ``face_client``, so a test can move from one to the other unchanged.

Imports nothing heavy at module level: the clients are imported inside the fixtures.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pytest

from .._exceptions import ConfigurationError
from ._stable import REPLAY_API_KEY, REPLAY_ENDPOINT

if TYPE_CHECKING:
    from faceguard import (
        AsyncContentSafetyClient,
        AsyncFaceClient,
        ContentSafetyClient,
        FaceClient,
        GuardPolicy,
    )
    from faceguard.emulator import ManualClock

__all__ = [
    "REPLAY_API_KEY",
    "REPLAY_ENDPOINT",
    "FaceguardBackend",
    "async_recorded_content_safety_client",
    "async_recorded_face_client",
    "close_async",
    "contract_endpoints",
    "faceguard_backend",
    "recorded_content_safety_client",
    "recorded_face_client",
    "replay_environment",
]

_FACE_ENV = ("FACEGUARD_ENDPOINT", "FACEGUARD_API_KEY")
_SAFETY_ENV = ("FACEGUARD_CONTENT_SAFETY_ENDPOINT", "FACEGUARD_CONTENT_SAFETY_API_KEY")


def replay_environment() -> dict[str, str]:
    """The ``FACEGUARD_*`` variables set while a cassette replays: placeholders, so that
    application code building its own client from the environment replays too."""
    return {
        _FACE_ENV[0]: REPLAY_ENDPOINT,
        _FACE_ENV[1]: REPLAY_API_KEY,
        _SAFETY_ENV[0]: REPLAY_ENDPOINT,
        _SAFETY_ENV[1]: REPLAY_API_KEY,
    }


def _normalised(endpoint: str) -> str | None:
    from .._config import _check_endpoint

    try:
        return _check_endpoint(endpoint)
    except ConfigurationError:
        return None


def contract_endpoints() -> tuple[str, ...]:
    """The endpoints a contract client may use in this run: the replay placeholder, and
    ``FACEGUARD_ENDPOINT`` when set (consent tokens must name the endpoint they are used on)."""
    found = [REPLAY_ENDPOINT]
    for name in (_FACE_ENV[0], _SAFETY_ENV[0]):
        value = os.environ.get(name, "").strip()
        normalised = _normalised(value) if value else None
        if normalised is not None and normalised not in found:
            found.append(normalised)
    return tuple(found)


@dataclass(frozen=True)
class FaceguardBackend:
    """Where this test's contract clients talk to, and how they wait."""

    kind: Literal["replay", "record", "live"]
    """``replay``: the cassette answers; ``record``: a server answers and the cassette keeps
    it; ``live``: the resource answers, no cassette."""
    endpoint: str
    content_safety_endpoint: str
    clock: ManualClock
    api_key: str = field(repr=False)
    content_safety_api_key: str = field(repr=False)

    def sleep(self, seconds: float) -> None:
        """The clients' ``sleep``: on replay only ``clock`` moves; otherwise a real wait too."""
        if self.kind != "replay":
            time.sleep(seconds)
        self.clock.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        """The async clients' ``sleep`` (any event loop anyio supports)."""
        if self.kind != "replay":
            import anyio

            await anyio.sleep(seconds)
        self.clock.advance(seconds)


def _from_environment(kind: str) -> tuple[str, str, str, str]:
    face_endpoint = os.environ.get(_FACE_ENV[0], "").strip()
    face_key = os.environ.get(_FACE_ENV[1], "").strip()
    if not face_endpoint or not face_key:
        what = "live mode" if kind == "live" else "recording"
        raise ConfigurationError(
            f"{what} needs FACEGUARD_ENDPOINT and FACEGUARD_API_KEY naming the server to talk "
            "to (an Azure AI resource, or `faceguard emulator serve` on loopback); replay "
            "needs neither"
        )
    safety_endpoint = os.environ.get(_SAFETY_ENV[0], "").strip() or face_endpoint
    safety_key = os.environ.get(_SAFETY_ENV[1], "").strip() or face_key
    return face_endpoint, face_key, safety_endpoint, safety_key


@pytest.fixture
def faceguard_backend(
    request: pytest.FixtureRequest, faceguard_clock: ManualClock
) -> FaceguardBackend:
    """This test's backend: replay (placeholders), record or live (``FACEGUARD_ENDPOINT``)."""
    from ._contract import settings_of

    settings = settings_of(request.config)
    if settings.live:
        kind: Literal["replay", "record", "live"] = "live"
    else:
        recording = request.getfixturevalue("faceguard_recording")
        kind = "replay" if recording.replaying else "record"
    if kind == "replay":
        return FaceguardBackend(
            kind,
            REPLAY_ENDPOINT,
            REPLAY_ENDPOINT,
            faceguard_clock,
            REPLAY_API_KEY,
            REPLAY_API_KEY,
        )
    face_endpoint, face_key, safety_endpoint, safety_key = _from_environment(kind)
    return FaceguardBackend(
        kind, face_endpoint, safety_endpoint, faceguard_clock, face_key, safety_key
    )


@pytest.fixture
def recorded_face_client(
    faceguard_backend: FaceguardBackend, faceguard_guard: GuardPolicy
) -> Iterator[FaceClient]:
    """A ``FaceClient`` on this test's backend (``faceguard_backend``), guarded by
    ``faceguard_guard``; its cassette is ``faceguard_cassette``'s."""
    from faceguard import FaceClient

    backend = faceguard_backend
    client = FaceClient(
        backend.endpoint,
        api_key=backend.api_key,
        guard=faceguard_guard,
        sleep=backend.sleep,
        clock=backend.clock,
    )
    with client:
        yield client


@pytest.fixture
def async_recorded_face_client(
    faceguard_backend: FaceguardBackend, faceguard_guard: GuardPolicy
) -> Iterator[AsyncFaceClient]:
    """An ``AsyncFaceClient`` on this test's backend; closed after the test."""
    from faceguard import AsyncFaceClient

    backend = faceguard_backend
    client = AsyncFaceClient(
        backend.endpoint,
        api_key=backend.api_key,
        guard=faceguard_guard,
        sleep=backend.async_sleep,
        transport=_no_idle_connections(),
        clock=backend.clock,
    )
    yield client
    close_async(client)


@pytest.fixture
def recorded_content_safety_client(
    faceguard_backend: FaceguardBackend,
) -> Iterator[ContentSafetyClient]:
    """A ``ContentSafetyClient`` on this test's backend."""
    from faceguard import ContentSafetyClient

    backend = faceguard_backend
    client = ContentSafetyClient(
        backend.content_safety_endpoint,
        api_key=backend.content_safety_api_key,
        sleep=backend.sleep,
        clock=backend.clock,
    )
    with client:
        yield client


@pytest.fixture
def async_recorded_content_safety_client(
    faceguard_backend: FaceguardBackend,
) -> Iterator[AsyncContentSafetyClient]:
    """An ``AsyncContentSafetyClient`` on this test's backend; closed after the test."""
    from faceguard import AsyncContentSafetyClient

    backend = faceguard_backend
    client = AsyncContentSafetyClient(
        backend.content_safety_endpoint,
        api_key=backend.content_safety_api_key,
        sleep=backend.async_sleep,
        transport=_no_idle_connections(),
        clock=backend.clock,
    )
    yield client
    close_async(client)


def _no_idle_connections() -> Any:
    """An async transport that keeps no connection open between requests: the fixture closes
    the client after the test, on a loop of its own, where a pooled connection of the test's
    (closed) loop could not be closed."""
    import httpx

    return httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))


def close_async(client: Any) -> None:
    """Close an async client from a sync teardown: on a thread of its own, so that no event
    loop of the test runner is touched."""
    import asyncio

    failures: list[BaseException] = []

    def close() -> None:
        try:
            asyncio.run(client.aclose())
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test's thread
            failures.append(exc)

    worker = threading.Thread(target=close, name="faceguard-aclose")
    worker.start()
    worker.join()
    if failures:
        raise failures[0]
