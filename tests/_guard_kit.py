"""A real guard configuration for the tests that exercise the wire (conformance, retries,
errors, logging): a consent issuer with a throwaway key, a verifier that trusts it, and one
standing token that covers every operation and every container the sample table uses.

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
from faceguard._guard._store import GuardStore, MemoryStore
from faceguard._guard._usecases import CONSENT_OPERATIONS, UseCase

AUDIENCE = "faceguard:tests"
SUBJECT = "p-test-subject-1"
ISSUER, PUBLIC_KEY = ConsentIssuer.generate(issuer="urn:faceguard:tests", kid="test-1")
USE_CASE = UseCase.DUPLICATE_OR_BLOCKED_USERS  # permits every recognition operation

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
) -> str:
    """A consent token for every operation over the sample containers."""
    return ISSUER.issue(
        subject,
        audience=AUDIENCE,
        operations=CONSENT_OPERATIONS,
        use_case=USE_CASE,
        bindings=BINDINGS if bindings is None else bindings,
        use=use,  # type: ignore[arg-type]
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
    verifier = ConsentVerifier(
        {ISSUER.kid: PUBLIC_KEY},
        issuer=ISSUER.issuer,
        audience=AUDIENCE,
        replay_store=store,
        clock=clock,
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
    ConsentLedger(guard_policy.store, clock=guard_policy.clock).record_enrollment(
        kind, container_id, person_id, SUBJECT
    )
