"""``GuardPolicy``: how a client's guard is configured, frozen when the client is built.

There is no switch that turns the guard off. A client built without a policy still refuses
retired attributes, unknown routes and any recognition (no use case is declared); detection
without faceIds works with no configuration at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._exceptions import InvalidInputError
from ._store import GuardStore, check_clock, check_store
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
            the verifier for single-use token replay checks). Stores keep faceIds, subjects
            and device ids only as keyed pseudonyms: every process sharing a store needs the
            same key (``key=`` or ``FACEGUARD_STORE_KEY``; a ``RedisStore`` has no default).
        audit: the append-only, hash-chained audit trail; ``None`` writes none.
        face_id_margin: seconds before a faceId's TTL ends at which faceguard stops using it;
            default ``max(30 s, 1 % of the TTL)``.
        allow_unknown_face_ids: accept faceIds this guard did not see detected (for example
            detected by another process without a shared store). Their age, model and consent
            cannot be checked; every such use is audited. Off by default.
        liveness_sessions_per_device: sessions one device may create per window (soft rule
            ``liveness_session_cap``, overridable per call with a reason). Device ids are
            compared canonicalised: one UUID in upper case, without dashes, in braces or as a
            ``urn:uuid:`` is one device.
        liveness_sessions_per_application: sessions this application may create per window
            on one Face resource, counted over the guard's store (so shared by every process
            that shares the store), whatever the device: sessions whose device id is set in
            the client (``device_correlation_id_set_in_client=True``), which the per-device
            cap cannot see, count here too. Soft rule ``liveness_application_cap``; default
            1000 per window.
        liveness_window: the window of both caps, in seconds.
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
    liveness_sessions_per_application: int = 1000
    liveness_window: float = 3600.0
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        declared: object = self.use_case
        if isinstance(declared, str) and not isinstance(declared, UseCase):
            # Accept the wire name too ("commercial.identity_verification").
            try:
                object.__setattr__(self, "use_case", UseCase(declared))
            except ValueError:
                raise InvalidInputError(
                    "use_case", "enum", "must be a UseCase or its wire name"
                ) from None
        for name in ("liveness_sessions_per_device", "liveness_sessions_per_application"):
            cap: object = getattr(self, name)
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
                raise InvalidInputError(name, "range", "must be a positive integer")
        if not _positive_seconds(self.liveness_window):
            raise InvalidInputError("liveness_window", "range", "must be a finite number > 0")
        _check_collaborators_of(self)
        margin: object = self.face_id_margin
        zero = type(margin) in (int, float) and margin == 0
        if margin is not None and not (zero or _positive_seconds(margin)):
            raise InvalidInputError("face_id_margin", "range", "must be None or seconds >= 0")


def _check_collaborators_of(policy: GuardPolicy) -> None:
    """Each collaborator of the right kind, checked when the policy is built: a wrong object
    would fail at the first guarded call as an untyped ``AttributeError`` or ``TypeError``."""
    from ._audit import AuditLog
    from ._consent import ConsentVerifier

    for name, kind in (("verifier", ConsentVerifier), ("audit", AuditLog)):
        value = getattr(policy, name)
        if value is not None and not isinstance(value, kind):
            raise InvalidInputError(name, "type", f"must be a {kind.__name__} or None")
    if not isinstance(policy.deployment, Deployment):
        raise InvalidInputError("deployment", "type", "must be a Deployment")
    if not isinstance(policy.allow_unknown_face_ids, bool):
        raise InvalidInputError("allow_unknown_face_ids", "type", "must be True or False")
    check_store(policy.store, "store")
    check_clock(policy.clock)


def _positive_seconds(value: object) -> bool:
    """A finite number of seconds above zero (an int too large for a float is not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and value > 0
    except OverflowError:
        return False
