"""``GuardPolicy``: how a client's guard is configured, frozen when the client is built.

There is no switch that turns the guard off. A client built without a policy still refuses
retired attributes, unknown routes and any recognition (no use case is declared); detection
without faceIds works with no configuration at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._store import GuardStore
from ._usecases import Deployment, UseCase

if TYPE_CHECKING:
    from ._audit import AuditLog
    from ._consent import ConsentVerifier

__all__ = ["GuardPolicy"]


@dataclass(frozen=True)
class GuardPolicy:
    """The responsible-use configuration of a client.

    Args:
        use_case: the limited-access use case Microsoft approved for this application;
            recognition operations outside it are refused, and consent tokens must name it.
        deployment: declarations about who uses the application; a prohibited deployment
            (by or for a US police department; real-time recognition on law-enforcement
            mobile cameras) refuses all recognition.
        verifier: checks consent tokens (holds the consent service's public keys only).
            Required for any operation that needs consent.
        store: where the faceId registry, consent ledger and liveness caps live; a fresh
            ``MemoryStore`` per client by default. Use ``SQLiteStore`` to survive restarts and
            ``RedisStore`` to share state between app instances (and pass the same store to
            the verifier for single-use token replay checks).
        audit: the append-only, hash-chained audit trail; ``None`` writes none.
        face_id_margin: seconds before a faceId's TTL ends at which faceguard stops using it;
            default ``max(30 s, 1 % of the TTL)``.
        allow_unknown_face_ids: accept faceIds this guard did not see detected (for example
            detected by another process without a shared store). Their age, model and consent
            cannot be checked; every such use is audited. Off by default.
        liveness_sessions_per_device: sessions one device may create per window (soft rule,
            overridable per call with a reason).
        liveness_window: the window of that cap, in seconds.
        clock: wall clock (seconds since the epoch), injectable for tests.
    """

    use_case: UseCase | None = None
    deployment: Deployment = field(default_factory=Deployment)
    verifier: ConsentVerifier | None = None
    store: GuardStore | None = None
    audit: AuditLog | None = None
    face_id_margin: float | None = None
    allow_unknown_face_ids: bool = False
    liveness_sessions_per_device: int = 5
    liveness_window: float = 3600.0
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        declared: object = self.use_case
        if isinstance(declared, str) and not isinstance(declared, UseCase):
            # Accept the wire name too ("commercial.identity_verification").
            object.__setattr__(self, "use_case", UseCase(declared))
        if self.liveness_sessions_per_device < 1 or self.liveness_window <= 0:
            raise ValueError("the liveness cap and its window must be positive")
