"""A real guard configuration for the tests that exercise the wire (conformance, retries,
errors, logging): a consent issuer with a throwaway key, a verifier that trusts it, a status
list that says every consent is valid, and one standing token that covers every operation and
every container the sample table uses, on every Face endpoint the tests call (``ENDPOINTS``;
add yours there, or mint one with ``token(endpoints=[url])`` for a server on a free port).

Nothing here switches a guard check off; faceIds the tests invent are accepted only because
the policy sets ``allow_unknown_face_ids`` (a documented, audited setting), and identify
candidates survive only when the test records their person's consent in the ledger.

Import it as ``_guard_kit``, like ``_optable`` (pytest puts ``tests/`` on ``sys.path``): the
same file imported a second time as ``tests._guard_kit`` would be a second module with its own
throwaway key, whose tokens the first module's verifier rejects. The sample ids come from
``_samples`` because ``_optable`` itself passes ``TOKEN``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from _samples import (
    DYNAMIC_PERSON_GROUP_ID,
    FACE_LIST_ID,
    LARGE_FACE_LIST_ID,
    LARGE_PERSON_GROUP_ID,
    PERSON_GROUP_ID,
    PERSON_ID,
)
from faceguard._guard._consent import ConsentIssuer, ConsentVerifier
from faceguard._guard._ledger import ConsentLedger
from faceguard._guard._policy import GuardPolicy
from faceguard._guard._status import StatusListIssuer, StatusLists
from faceguard._guard._store import GuardStore, MemoryStore
from faceguard._guard._usecases import CONSENT_OPERATIONS, UseCase

AUDIENCE = "faceguard:tests"
SUBJECT = "p-test-subject-1"
ISSUER, PUBLIC_KEY = ConsentIssuer.generate(issuer="urn:faceguard:tests", kid="test-1")
USE_CASE = UseCase.DUPLICATE_OR_BLOCKED_USERS  # permits every recognition operation
STATUS_URI = "https://consent.tests.invalid/status/1"
STATUS_INDEX = 7
ENDPOINTS = (
    "http://127.0.0.1:5000",
    "http://127.0.0.1:9",
    "https://auth-tests.cognitiveservices.azure.com",
    "https://canary.cognitiveservices.azure.com",
    "https://caps.cognitiveservices.azure.com",
    "https://emulator.invalid",
    "https://errors-tests.cognitiveservices.azure.com",
    "https://example.cognitiveservices.azure.com",
    "https://faceguard-test.cognitiveservices.azure.com",
    "https://guarded.cognitiveservices.azure.com",
    "https://limits.cognitiveservices.azure.com",
    "https://public-errors.invalid",
    "https://r31.cognitiveservices.azure.com",
    "https://redaction-tests.cognitiveservices.azure.com",
    "https://retired.cognitiveservices.azure.com",
    "https://retry-tests.cognitiveservices.azure.com",
    "https://tracing-tests.cognitiveservices.azure.com",
    "https://unit-test.cognitiveservices.azure.com",
    "https://wire.cognitiveservices.azure.com",
)
"""The Face endpoints the wire tests' clients use: ``TOKEN``'s ``aud`` names them all, as a
token for several resources of one deployment would."""

BINDINGS: list[tuple[str, str, str | None]] = [
    ("personGroup", PERSON_GROUP_ID, PERSON_ID),
    ("largePersonGroup", LARGE_PERSON_GROUP_ID, PERSON_ID),
    ("faceList", FACE_LIST_ID, None),
    ("largeFaceList", LARGE_FACE_LIST_ID, None),
    ("personDirectory", "default", PERSON_ID),
    ("dynamicPersonGroup", DYNAMIC_PERSON_GROUP_ID, None),
]


def token(
    *,
    subject: str = SUBJECT,
    bindings: list[tuple[str, str, str | None]] | None = None,
    use: str = "standing",
    endpoints: tuple[str, ...] | list[str] = ENDPOINTS,
) -> str:
    """A consent token for every operation over the sample containers and ``endpoints``."""
    return ISSUER.issue(
        subject,
        audience=[AUDIENCE, *endpoints],
        operations=CONSENT_OPERATIONS,
        use_case=USE_CASE,
        bindings=BINDINGS if bindings is None else bindings,
        use=use,  # type: ignore[arg-type]
        status=(STATUS_URI, STATUS_INDEX) if use == "standing" else None,
    )


TOKEN = token()


def policy(
    store: GuardStore | None = None,
    *,
    clock: Callable[[], float] = time.time,
    allow_unknown_face_ids: bool = True,
) -> GuardPolicy:
    """A guard for wire tests: the sample use case, this kit's verifier, a fresh store."""
    store = store if store is not None else MemoryStore(clock=clock)
    # A fresh list on this policy's clock; its age limit is the longest allowed (a day), so
    # tests that move their clock by hours do not see it go stale.
    lists = StatusLists({ISSUER.kid: PUBLIC_KEY}, issuer=ISSUER.issuer, clock=clock)
    lists.update(StatusListIssuer(ISSUER, size=64, clock=clock).token(STATUS_URI, ttl=300))
    verifier = ConsentVerifier(
        {ISSUER.kid: PUBLIC_KEY},
        issuer=ISSUER.issuer,
        audience=AUDIENCE,
        replay_store=store,
        clock=clock,
        status_lists=lists,
        status_max_age=dict.fromkeys(CONSENT_OPERATIONS, 86400.0),
    )
    return GuardPolicy(
        use_case=USE_CASE,
        verifier=verifier,
        store=store,
        allow_unknown_face_ids=allow_unknown_face_ids,
        liveness_sessions_per_device=10_000,
        clock=clock,
    )


def consent_person(
    guard_policy: GuardPolicy, kind: str, container_id: str | None, person_id: str
) -> None:
    """Record in the policy's ledger that ``person_id`` was enrolled with live consent."""
    assert guard_policy.store is not None
    # The private binding: these tests script the service's candidates, they do not test
    # how an enrollment gets recorded (test_consent_semantics does, with tokens).
    ConsentLedger(guard_policy.store, clock=guard_policy.clock)._record_enrollment(
        kind, container_id, person_id, SUBJECT
    )
