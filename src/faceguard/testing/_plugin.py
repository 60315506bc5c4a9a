"""faceguard's pytest plugin, registered through the ``pytest11`` entry point as ``faceguard``.

Installed with faceguard, it is active in every pytest run (``-p no:faceguard`` turns it off).
Its fixtures build nothing until a test asks for them:

``faceguard_clock``
    A ``ManualClock``: the emulator's, the guard's and the consent issuer's time, and the
    clients' ``sleep`` (training polls and retry waits advance it instead of waiting).
``faceguard_emulator``
    An ``Emulator`` on that clock (Face v1.2, liveness and Content Safety). Its OpenCV face
    engine (``faceguard[emulator]``) is built on the first detection, then shared by the
    emulators of later tests.
``faceguard_use_case``
    The use case the guard declares: ``UseCase.DUPLICATE_OR_BLOCKED_USERS`` (it permits every
    recognition operation). Override it to test an application's own use case.
``faceguard_store``
    A ``MemoryStore`` on the clock: the guard's faceId registry and consent ledger, and the
    verifier's replay store.
``faceguard_consent``
    A throwaway consent issuer and a verifier that trusts only it (``.issuer``,
    ``.verifier``); ``.token(subject, operations, bindings, use=...)`` mints a token for the
    declared use case.
``faceguard_guard``
    A ``GuardPolicy`` with the declared use case, that verifier and that store.
``face_client`` / ``async_face_client``
    ``FaceClient`` / ``AsyncFaceClient`` on the emulator's in-process transport, with the guard.
``content_safety_client`` / ``async_content_safety_client``
    The Content Safety clients on the same emulator.
``recorded_face_client`` / ``async_recorded_face_client`` / ``recorded_content_safety_client``
/ ``async_recorded_content_safety_client``
    The contract clients (``_backend``): on replay a placeholder endpoint and key and the
    cassette's answers, waits on ``faceguard_clock``; recording or live,
    ``FACEGUARD_ENDPOINT`` / ``FACEGUARD_API_KEY``. ``faceguard_backend`` says which.
``faceguard_cassette`` / ``faceguard_recording`` / ``faceguard_cassette_path``
    The test's vcrpy cassette with faceguard's configuration at
    ``cassettes/<module>/<test>.yaml`` next to the test module: strict replay by default,
    record modes that fit stateful flows, failed recordings not kept (``_contract``,
    ``_recorder``). The options ``--faceguard-record-mode`` and ``--faceguard-live``, the
    marker ``faceguard_cassette`` and the header line are ``_contract``'s.

This module imports only pytest, the standard library and faceguard's error classes:
faceguard's clients, the emulator, httpx and vcrpy are imported inside the fixtures, so
loading the plugin costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from ._backend import (
    REPLAY_ENDPOINT,
    FaceguardBackend,
    async_recorded_content_safety_client,
    async_recorded_face_client,
    close_async,
    contract_endpoints,
    faceguard_backend,
    recorded_content_safety_client,
    recorded_face_client,
)
from ._contract import (
    _faceguard_cassette_marker,
    cassette_name,
    faceguard_cassette,
    faceguard_cassette_path,
    faceguard_recording,
    pytest_addoption,
    pytest_configure,
    pytest_recording_configure,
    pytest_report_header,
    pytest_runtest_makereport,
    pytest_terminal_summary,
    pytest_unconfigure,
)

if TYPE_CHECKING:
    from faceguard import (
        AsyncContentSafetyClient,
        AsyncFaceClient,
        ConsentIssuer,
        ConsentVerifier,
        ContentSafetyClient,
        FaceClient,
        GuardPolicy,
        MemoryStore,
        UseCase,
    )
    from faceguard._guard._consent import Use
    from faceguard.emulator import Emulator, ManualClock

__all__ = [
    "AUDIENCE",
    "API_KEY",
    "ENDPOINT",
    "REPLAY_ENDPOINT",
    "SUBJECT",
    "FaceguardBackend",
    "FaceguardConsent",
    "_faceguard_cassette_marker",
    "async_content_safety_client",
    "async_face_client",
    "async_recorded_content_safety_client",
    "async_recorded_face_client",
    "cassette_name",
    "content_safety_client",
    "face_client",
    "faceguard_backend",
    "faceguard_cassette",
    "faceguard_cassette_path",
    "faceguard_recording",
    "faceguard_clock",
    "faceguard_consent",
    "faceguard_emulator",
    "faceguard_guard",
    "faceguard_store",
    "faceguard_use_case",
    "pytest_addoption",
    "pytest_configure",
    "pytest_recording_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "recorded_content_safety_client",
    "recorded_face_client",
]

ENDPOINT = "https://emulator.invalid"
"""The endpoint of the emulator clients (never resolved: the transport answers in process)."""
API_KEY = "faceguard-emulator-key"
"""The emulator accepts any key."""
AUDIENCE = "faceguard:pytest"
"""The ``aud`` of the fixture tokens, which the fixture verifier pins."""
SUBJECT = "p-pytest-subject"
"""The default pseudonymous subject of ``FaceguardConsent.token``."""


# -- time, store, consent, guard --------------------------------------------------------------


@pytest.fixture
def faceguard_clock() -> ManualClock:
    """A ``ManualClock`` shared by the emulator, the guard, the consent fixtures and the
    clients' sleeps: ``faceguard_clock.advance(86_400)`` expires faceIds everywhere."""
    from faceguard.emulator import ManualClock

    return ManualClock()


@pytest.fixture
def faceguard_use_case() -> UseCase:
    """The use case ``faceguard_guard`` declares and ``faceguard_consent`` tokens name.

    Override it (in a conftest, module or class) with the application's own use case."""
    from faceguard import UseCase

    return UseCase.DUPLICATE_OR_BLOCKED_USERS


@pytest.fixture
def faceguard_store(faceguard_clock: ManualClock) -> MemoryStore:
    """The guard's ``MemoryStore`` on the fake clock (also the verifier's replay store)."""
    from faceguard import MemoryStore

    return MemoryStore(clock=faceguard_clock)


@dataclass(frozen=True)
class FaceguardConsent:
    """A throwaway consent service for tests: an issuer with a fresh Ed25519 key and a
    verifier that trusts only that key, both on the fake clock.

    Tokens name ``audience`` (the deployment) and ``endpoints`` (the Face resources): a
    verifier refuses a token whose ``aud`` does not name the endpoint of the client it is
    used on. The fixture's tokens name the in-process ``ENDPOINT``, the replay placeholder
    ``https://resource.faceguard.invalid`` and ``FACEGUARD_ENDPOINT`` when it is set, so the
    same token serves ``face_client`` and ``recorded_face_client``. For clients on another
    endpoint, use ``dataclasses.replace(faceguard_consent, endpoints=(url,))``.
    """

    issuer: ConsentIssuer
    verifier: ConsentVerifier
    use_case: UseCase
    audience: str = AUDIENCE
    endpoints: tuple[str, ...] = (ENDPOINT,)

    def token(
        self,
        subject: str = SUBJECT,
        operations: Iterable[str] | None = None,
        bindings: Iterable[tuple[str, str] | tuple[str, str, str | None]] = (),
        *,
        use: Use = "session",
        lifetime: float | None = None,
    ) -> str:
        """A consent token for ``subject`` (a pseudonymous id) and the declared use case.

        Args:
            operations: consent operations (``"detect_template"``, ``"identify"``,
                ``"enroll"`` ...); by default every one the use case permits.
            bindings: ``(kind, container_id)`` or ``(kind, container_id, person_id)``, e.g.
                ``("largePersonGroup", "staff", person_id)``; enrollment and identification
                need the container (and for enrollment the person) bound.
            use: ``"session"`` by default (reusable for an hour by the client that first
                presents it, and refused on any other); ``"once"`` tokens are spent by their
                first call. ``"standing"`` ones need a status list entry, which this fixture
                does not publish: mint them with ``issuer.issue(status=...)``.
            lifetime: seconds, at most what ``use`` allows.
        """
        if operations is None:
            from faceguard._guard._usecases import CONSENT_OPERATIONS, PERMITTED

            operations = sorted(PERMITTED[self.use_case] & CONSENT_OPERATIONS)
        return self.issuer.issue(
            subject,
            audience=[self.audience, *self.endpoints],
            operations=operations,
            use_case=self.use_case,
            bindings=bindings,
            use=use,
            lifetime=lifetime,
        )


@pytest.fixture
def faceguard_consent(
    faceguard_clock: ManualClock, faceguard_store: MemoryStore, faceguard_use_case: UseCase
) -> FaceguardConsent:
    """A consent issuer with a throwaway key, and the verifier ``faceguard_guard`` uses."""
    from faceguard import ConsentIssuer, ConsentVerifier

    issuer, public_key = ConsentIssuer.generate(
        issuer="urn:faceguard:pytest", kid="pytest-1", clock=faceguard_clock
    )
    verifier = ConsentVerifier(
        {issuer.kid: public_key},
        issuer=issuer.issuer,
        audience=AUDIENCE,
        clock=faceguard_clock,
        replay_store=faceguard_store,
    )
    return FaceguardConsent(
        issuer=issuer,
        verifier=verifier,
        use_case=faceguard_use_case,
        endpoints=(ENDPOINT, *contract_endpoints()),
    )


@pytest.fixture
def faceguard_guard(
    faceguard_clock: ManualClock,
    faceguard_store: MemoryStore,
    faceguard_consent: FaceguardConsent,
    faceguard_use_case: UseCase,
) -> GuardPolicy:
    """The clients' ``GuardPolicy``: the declared use case, the fixture verifier and store.

    Nothing is relaxed: faceIds must come from a detection this guard saw, recognition needs
    a consent token, and identify candidates need their enrollment in the consent ledger."""
    from faceguard import GuardPolicy

    return GuardPolicy(
        use_case=faceguard_use_case,
        verifier=faceguard_consent.verifier,
        store=faceguard_store,
        clock=faceguard_clock,
    )


# -- the emulator and its clients -------------------------------------------------------------


class _EngineCache:
    """The OpenCV engine, once a test's emulator has built it (models load in ~0.5 s)."""

    engine: Any = None


@pytest.fixture(scope="session")
def _faceguard_engine_cache() -> _EngineCache:
    return _EngineCache()


@pytest.fixture
def faceguard_emulator(
    faceguard_clock: ManualClock, _faceguard_engine_cache: _EngineCache
) -> Iterator[Emulator]:
    """An in-process ``Emulator`` on ``faceguard_clock``, with Face, liveness and Content
    Safety. The face engine is built on the first call that needs it (``faceguard[emulator]``)
    and reused by later tests' emulators."""
    from faceguard.emulator import Emulator

    emulator = Emulator(clock=faceguard_clock, engine=_faceguard_engine_cache.engine)
    yield emulator
    built = emulator._engine
    if (
        _faceguard_engine_cache.engine is None
        and built is not None
        and type(built).__module__ == "faceguard.emulator._engine"  # not a test's own engine
    ):
        _faceguard_engine_cache.engine = built


@pytest.fixture
def face_client(
    faceguard_emulator: Emulator, faceguard_guard: GuardPolicy, faceguard_clock: ManualClock
) -> Iterator[FaceClient]:
    """A ``FaceClient`` on the emulator, guarded by ``faceguard_guard``; its waits advance
    ``faceguard_clock``."""
    from faceguard import FaceClient

    client = FaceClient(
        ENDPOINT,
        api_key=API_KEY,
        transport=faceguard_emulator.transport(),
        guard=faceguard_guard,
        sleep=faceguard_clock.advance,
        clock=faceguard_clock,
    )
    with client:
        yield client


@pytest.fixture
def async_face_client(
    faceguard_emulator: Emulator, faceguard_guard: GuardPolicy, faceguard_clock: ManualClock
) -> Iterator[AsyncFaceClient]:
    """An ``AsyncFaceClient`` on the emulator, guarded by ``faceguard_guard``.

    A plain fixture, so any async test runner (pytest-asyncio, anyio) can use it; it is
    closed after the test."""
    from faceguard import AsyncFaceClient

    client = AsyncFaceClient(
        ENDPOINT,
        api_key=API_KEY,
        transport=faceguard_emulator.transport(),
        guard=faceguard_guard,
        sleep=faceguard_clock.async_advance,
        clock=faceguard_clock,
    )
    yield client
    close_async(client)


@pytest.fixture
def content_safety_client(
    faceguard_emulator: Emulator, faceguard_clock: ManualClock
) -> Iterator[ContentSafetyClient]:
    """A ``ContentSafetyClient`` on the emulator (text blocklists and analyze)."""
    from faceguard import ContentSafetyClient

    client = ContentSafetyClient(
        ENDPOINT,
        api_key=API_KEY,
        transport=faceguard_emulator.transport(),
        sleep=faceguard_clock.advance,
        clock=faceguard_clock,
    )
    with client:
        yield client


@pytest.fixture
def async_content_safety_client(
    faceguard_emulator: Emulator, faceguard_clock: ManualClock
) -> Iterator[AsyncContentSafetyClient]:
    """An ``AsyncContentSafetyClient`` on the emulator; closed after the test."""
    from faceguard import AsyncContentSafetyClient

    client = AsyncContentSafetyClient(
        ENDPOINT,
        api_key=API_KEY,
        transport=faceguard_emulator.transport(),
        sleep=faceguard_clock.async_advance,
        clock=faceguard_clock,
    )
    yield client
    close_async(client)
