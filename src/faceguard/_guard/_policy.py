"""``GuardPolicy``: how a client's guard is configured, frozen when the client is built.

There is no switch that turns the guard off. A client built without a policy still refuses
retired attributes, unknown routes and any recognition (no use case is declared); detection
without faceIds works with no configuration at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._exceptions import InvalidInputError
from ._jurisdictions import Jurisdiction, jurisdictions_of
from ._store import GuardStore, check_clock, check_store
from ._tracking import check_source_id
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
            mobile cameras) refuses all recognition. ``Deployment(workplace=True)`` makes every
            consent token need ``alternative_offered=True`` (R06).
        jurisdictions: where the deployment collects or processes face templates
            (``Jurisdiction.US_IL``, ``US_TX``, ``US_WA``, ``EU_GDPR``, ``UK``, or their codes).
            Every consent token must then carry the claims each of those laws needs (a
            refusal names the law's section), and retention follows their rules
            (``destroy_by``; each law's row is in the responsible-use guide).
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
        consequential: whether recognition results decide about people (R11). ``None``
            (default) takes the use case's entry in the oversight table (reviewers per use
            case, in the responsible-use guide): access control, government identity checks
            and the law-enforcement, emergency and missing-person cases return provisional
            results to confirm, and so does every use case of a
            ``Deployment(workplace=True)``. ``True`` makes every recognition result
            provisional; ``False`` is refused for a use case the table flags (oversight
            cannot be switched off).
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
        source_id: the source this client's images come from (a camera, a kiosk, a door),
            for the tracking caps (R17); a call's own ``source_id=`` wins. Default: none
            named (see ``identifications_per_person_per_hour``).
        identifications_per_person_per_hour: how often one person may be identified from
            one source in an hour before identifying them again needs a token with
            ``consent.cnt`` (``continuous_identification=True``) or
            ``Override("tracking_identification_cap", reason)``; default 10. Identify
            candidates (and face-list faces find-similar returns) past it are withheld
            (audited); a verify against the person is refused unsent. Calls that name no
            source count under one source for the whole application.
        detect_calls_per_minute: detect calls one named source may make in a minute (a video
            loop makes more) before a call needs ``consent.cnt`` or
            ``Override("tracking_detect_cap", reason)``; refused with ``TrackingCapError``
            otherwise; default 60. Detect calls that name no source are not counted.
        clock: wall clock (seconds since the epoch), injectable for tests.
    """

    use_case: UseCase | None = None
    deployment: Deployment = field(default_factory=Deployment)
    # Any sequence (a list reads best); kept as a sorted tuple without repeats.
    jurisdictions: Sequence[Jurisdiction] = ()
    verifier: ConsentVerifier | None = None
    store: GuardStore | None = None
    audit: AuditLog | None = None
    face_id_margin: float | None = None
    allow_unknown_face_ids: bool = False
    consequential: bool | None = None
    liveness_sessions_per_device: int = 5
    liveness_sessions_per_application: int = 1000
    liveness_window: float = 3600.0
    source_id: str | None = None
    identifications_per_person_per_hour: int = 10
    detect_calls_per_minute: int = 60
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Any list of members or codes, kept as a sorted tuple (hashable, one order).
        object.__setattr__(self, "jurisdictions", jurisdictions_of(self.jurisdictions))
        declared: object = self.use_case
        if isinstance(declared, str) and not isinstance(declared, UseCase):
            # Accept the wire name too ("commercial.identity_verification").
            try:
                object.__setattr__(self, "use_case", UseCase(declared))
            except ValueError:
                raise InvalidInputError(
                    "use_case", "enum", "must be a UseCase or its wire name"
                ) from None
        # Kept canonical, as a call's own source_id is: one source, one spelling.
        object.__setattr__(self, "source_id", check_source_id(self.source_id))
        for name in (
            "liveness_sessions_per_device",
            "liveness_sessions_per_application",
            "identifications_per_person_per_hour",
            "detect_calls_per_minute",
        ):
            cap: object = getattr(self, name)
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
                raise InvalidInputError(name, "range", "must be a positive integer")
        for name in ("identifications_per_person_per_hour", "detect_calls_per_minute"):
            if getattr(self, name) > 100_000:  # each counted event is kept until its window ends
                raise InvalidInputError(name, "range", "must be at most 100000")
        if not _positive_seconds(self.liveness_window):
            raise InvalidInputError("liveness_window", "range", "must be a finite number > 0")
        _check_collaborators_of(self)
        _check_consequential(self)
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


def _check_consequential(policy: GuardPolicy) -> None:
    """``consequential`` is None or a bool, and never lowers what the oversight table says."""
    from ._oversight import reviewers_for

    value = policy.consequential
    if value is not None and not isinstance(value, bool):
        raise InvalidInputError("consequential", "type", "must be True, False or None")
    workplace = policy.deployment.workplace
    if value is False and reviewers_for(policy.use_case, None, workplace=workplace):
        use_case = policy.use_case.value if policy.use_case is not None else ""
        raise InvalidInputError(
            "consequential",
            "value",
            f"{use_case} decides about people: its results need human review (R11), "
            "which cannot be switched off",
        )


def _positive_seconds(value: object) -> bool:
    """A finite number of seconds above zero (an int too large for a float is not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and value > 0
    except OverflowError:
        return False
