"""The guard at run time: decide before a request, bookkeep and filter after it.

``Guard.before`` runs before any byte is sent and raises a ``GuardError`` to refuse; it is
never retried. ``Guard.after`` records what the response created (faceIds, enrollments,
container models), suppresses identify and find-similar candidates without live consent, and
writes the audit trail. Both are called by the transports (sync and async alike), so every
typed operation passes through them.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from .._exceptions import (
    AuditError,
    ConsentRejectedError,
    ConsentRequiredError,
    FaceGuardError,
    GuardError,
    OversightError,
)
from .._logging import logger
from .._transport._spec import GuardCheck, GuardInfo, RequestSpec
from ..models._results import ResultList, attr_or_none
from ._claim_rules import requirements_for
from ._ledger import ConsentLedger
from ._liveness import check_session_caps
from ._override import Override
from ._oversight import in_oversight, reviewers_for
from ._policy import GuardPolicy
from ._registry import FaceIdRecord, FaceIdRegistry
from ._retention import RetentionBook
from ._store import GuardStore, MemoryStore
from ._tracking import (
    TrackingCounter,
    detect_cap_passed,
    identification_cap_passed,
    identification_override,
)
from ._usecases import check_use_case

if TYPE_CHECKING:
    from ._consent import ConsentClaims, ConsentScope

__all__ = ["Guard", "Ticket"]

T = TypeVar("T")

_RULES = {
    "RetiredAttributeError": "R01 retired attribute",
    "UseCaseError": "R10/R14 use case",
    "ConsentRequiredError": "R05 consent",
    "ConsentRejectedError": "R05 consent",
    "FaceIdError": "R25 faceId registry",
    "LivenessGuardError": "R19 liveness",
    "GuardStoreError": "fail closed",
    "OversightError": "R11 oversight",
    "TrackingCapError": "R17 tracking cap",
}


_REMEMBERED_SUBJECTS = 256
_PERSON_CALLS = frozenset({"verify", "enroll"})


class Ticket(NamedTuple):
    """What ``before`` learned, for ``after``: the start time and the verified consent.

    Immutable like a frozen dataclass, and built several times faster (one per call)."""

    started: float
    subject: str | None
    override: Override | None
    claims: ConsentClaims | None = None
    """The verified consent (for the tracking caps' ``consent.cnt`` and the retention
    claims an enrollment records)."""


@functools.lru_cache(maxsize=1024)
def _scope(
    operation: str,
    kind: str | None,
    container_id: str | None,
    person_id: str | None,
    image_url: bool = False,
) -> ConsentScope:
    """The (validated, immutable) consent scope of a call; the same few recur on every call.

    Only successful constructions are cached: an invalid scope raises every time.
    """
    from ._consent import ConsentScope

    return ConsentScope(
        operation=operation,
        container_kind=kind,
        container_id=container_id,
        person_id=person_id,
        image_url=image_url,
    )


# Reading a liveness-with-verify session's result: its verify match is a decision (R11).
_LIVENESS_VERIFY_RESULT = "LivenessSessionOperations_GetLivenessWithVerifySessionResult"

# The records of a call's outcome: for a provisional result, the decision a review confirms.
_OUTCOMES = frozenset({"api_call", "candidate_suppressed"})

# The calls whose decision record must be on file before they are sent (GUARD.md §5.1).
_AUDITED = frozenset(
    {GuardCheck.RECOGNITION, GuardCheck.ENROLLMENT, GuardCheck.ERASURE, GuardCheck.LIVENESS}
)


def _audited(spec: RequestSpec[Any]) -> bool:
    return spec.guard.consent_operation is not None or not _AUDITED.isdisjoint(spec.guard_checks)


def _override(info: GuardInfo, rule: str) -> Override | None:
    override = info.override
    if isinstance(override, Override) and override.rule == rule:
        return override
    return None


class Guard:
    """The guard of one client."""

    def __init__(self, policy: GuardPolicy | None, *, endpoint: str) -> None:
        self.policy = policy or GuardPolicy()
        self.endpoint = endpoint
        self.store: GuardStore = self.policy.store or MemoryStore(clock=self.policy.clock)
        self.registry = FaceIdRegistry(
            self.store, clock=self.policy.clock, margin=self.policy.face_id_margin
        )
        self.ledger = ConsentLedger(self.store, clock=self.policy.clock)
        self.tracking = TrackingCounter(self.store, endpoint=endpoint)
        self._warned_tracking = False
        self.retention = RetentionBook(
            self.store, clock=self.policy.clock, jurisdictions=self.policy.jurisdictions
        )
        # This client's session handle (GUARD.md §3.7 step 7): a use:"session" token is bound
        # to the first handle that presents it. Unguessable and never exposed, so no other
        # client can claim to be this one.
        self._session = secrets.token_bytes(32)
        # The consent claims this deployment needs (use case, Deployment, jurisdictions):
        # fixed with the policy, so worked out once here, not per call.
        self.requirements = requirements_for(
            self.policy.use_case, self.policy.deployment, self.policy.jurisdictions
        )
        self._pseudonyms: dict[str, str] = {}
        # R11: recognition operations whose results need reviewers under this policy (empty
        # when none do, so the per-call check is one failed dict look-up).
        self.review = reviewers_for(
            self.policy.use_case,
            self.policy.consequential,
            workplace=self.policy.deployment.workplace,
        )
        verifier = self.policy.verifier
        replay = getattr(verifier, "replay_store", None)
        self.blocking = (
            not isinstance(self.store, MemoryStore)
            or (replay is not None and not isinstance(replay, MemoryStore))
            or self.policy.audit is not None
        )
        """Whether ``before``/``after`` may wait on I/O (a database or network store, an audit
        file written with fsync): the async transport then runs them in a worker thread, so
        the event loop keeps serving other calls meanwhile."""

    # -- before ------------------------------------------------------------------------------

    def before(self, spec: RequestSpec[Any]) -> Ticket:
        """Refuse the call (``GuardError``) or return a ticket for ``after``.

        The decision is recorded here, before anything is sent: when the audit log cannot
        take the record, ``AuditError`` is raised instead and the call is not sent.
        """
        try:
            ticket = self._decide(spec)
        except GuardError as refusal:
            try:
                self._audit(spec, "decision", "refused", refusal, subject=None)
            except AuditError as failure:
                raise failure from refusal  # not sent either way; the log needs attention
            raise
        if ticket.override is not None:
            self._audit(
                spec,
                "override",
                "allowed",
                None,
                subject=ticket.subject,
                reason=f"{ticket.override.rule}: {ticket.override.reason}",
            )
        elif GuardCheck.ERASURE in spec.guard_checks:
            # Erasure is never blocked (GUARD.md §2.1): deleting a template must not wait for
            # a healthy log. Without its decision record the deletion is still sent; ``after``
            # then fails to write the deletion record too and raises AuditError with
            # request_sent=True, so the missing evidence is never silent.
            with contextlib.suppress(AuditError):
                self._audit(spec, "decision", "allowed", None, subject=ticket.subject)
        elif _audited(spec):
            self._audit(spec, "decision", "allowed", None, subject=ticket.subject)
        return ticket

    def _decide(self, spec: RequestSpec[Any]) -> Ticket:
        info = spec.guard
        policy = self.policy
        started = policy.clock()
        operation = info.use_case_operation or info.consent_operation  # operation_for_use_case
        if self.review and spec.operation == _LIVENESS_VERIFY_RESULT:
            operation = None  # a read: no use-case check, but its match is a decision
            self._check_oversight("verify")
        if operation is not None:
            check_use_case(operation, policy.use_case, policy.deployment)
            if operation in self.review:
                self._check_oversight(operation)
        subject = mine = claims = None
        if info.consent_operation:
            # An image the service fetches from a URL ({"url": ...} body of detect and
            # add-face): a token for camera captures does not cover it (consent.src).
            claims = self._consent(info, type(spec.json) is dict and "url" in spec.json)
            subject = claims.subject
            mine = self._pseudonym_of(subject)
            self._check_subject(info, mine)
        used_override: Override | None = None
        if info.face_ids:
            used_override = self._check_face_ids(info, mine)
        if GuardCheck.LIVENESS in spec.guard_checks:
            used_override = self._check_liveness(info) or used_override
        if spec.route == "/detect":
            used_override = self._check_detect_cap(info, claims) or used_override
        elif info.consent_operation == "verify" and info.person_id and info.container_kind:
            used_override = self._check_verify_cap(info, claims) or used_override
        if used_override is None:
            # R31: the builder found a primary identifier in a name or userData and passes
            # the override only when it let one through, so it is audited below.
            used_override = _override(info, "primary_identifier")
        return Ticket(started=started, subject=subject, override=used_override, claims=claims)

    def _check_verify_cap(self, info: GuardInfo, claims: ConsentClaims | None) -> Override | None:
        """R17: a verify against a person is an identification of that person from the
        source, counted with their identify matches (one store operation); the person is
        known before sending, so past the cap the call is refused unsent."""
        limit = self.policy.identifications_per_person_per_hour
        [count] = self.tracking.count_identifications(
            info.source_id or self.policy.source_id,
            info.container_kind or "",
            info.container_id,
            [info.person_id or ""],
            limit=limit,
        )
        return identification_cap_passed(
            info.override,
            continuous=claims is not None and claims.continuous_identification,
            count=count,
            limit=limit,
        )

    def _check_detect_cap(self, info: GuardInfo, claims: ConsentClaims | None) -> Override | None:
        """R17: detect calls per named source per minute (one store operation); unnamed
        sources are not counted (``_tracking``)."""
        source = info.source_id or self.policy.source_id
        if source is None:
            return None
        limit = self.policy.detect_calls_per_minute
        count = self.tracking.count_detect(source, limit=limit)
        return detect_cap_passed(
            info.override,
            continuous=claims is not None and claims.continuous_identification,
            count=count,
            limit=limit,
        )

    def _check_oversight(self, operation: str) -> None:
        """R11: a result that decides about people is asked for through client.oversight."""
        if operation in self.review and in_oversight.get() is None:
            raise OversightError(
                "oversight_required",
                f"{operation} results of {self.policy.use_case} decide about people and need "
                "human review (R11): call the same method on client.oversight, which returns "
                "a provisional result to confirm(reviewer_id, outcome)",
            )

    def _consent(self, info: GuardInfo, image_url: bool = False) -> ConsentClaims:
        operation = info.consent_operation or ""
        if not info.consent:
            raise ConsentRequiredError(
                operation,
                f"{operation} creates or compares biometric templates: pass consent=<token> "
                "issued by your consent service (ConsentIssuer) for this subject, operation "
                "and container",
            )
        verifier = self.policy.verifier
        if verifier is None:
            raise ConsentRejectedError(
                "verifier",
                "this client has no ConsentVerifier: build it with "
                "guard=GuardPolicy(verifier=ConsentVerifier(...))",
            )
        kind, container = info.container_kind, info.container_id
        person = info.person_id if operation in {"verify", "enroll"} else None
        try:
            claims = verifier.verify(
                info.consent,
                _scope(operation, kind, container, person, image_url),
                use_case=self.policy.use_case,
                endpoint=self.endpoint,
                session=self._session,
                requirements=self.requirements,
            )
        except ConsentRejectedError as refusal:
            if refusal.check != "person" or person is None or kind is None:
                raise
            # The scope check comes before the replay mark, so nothing was spent: verify again
            # for the container alone, and accept the token if it binds the whole container
            # and the ledger has this person on file under the token's own subject (a person
            # made by create_person(..., consent=token)).
            claims = verifier.verify(
                info.consent,
                _scope(operation, kind, container, None, image_url),
                use_case=self.policy.use_case,
                endpoint=self.endpoint,
                session=self._session,
                requirements=self.requirements,
            )
            whole = (kind, container, None) in claims.bindings
            owner = self.ledger.subject_of(kind, container, person) if whole else None
            if owner is None or owner != self._pseudonym_of(claims.subject):
                raise ConsentRejectedError(
                    "person",
                    "the token does not cover this person: issue it with a binding that names "
                    "the person ((kind, container_id, person_id)), or bind the container only "
                    "and create the person with create_person(..., consent=token), which "
                    "records the person under the token's subject",
                ) from None
        return claims

    def _pseudonym_of(self, subject: str) -> str:
        """What ledger and registry keep instead of ``subject``: an HMAC, remembered for the
        few subjects a client serves at a time (the consent verifier's cache holds their
        verified claims in memory already); forgotten when the subject withdraws."""
        pseudonym = self._pseudonyms.get(subject)
        if pseudonym is None:
            if len(self._pseudonyms) >= _REMEMBERED_SUBJECTS:
                self._pseudonyms.clear()
            pseudonym = self._pseudonyms[subject] = self.ledger.subject_pseudonym(subject)
        return pseudonym

    def _check_subject(self, info: GuardInfo, mine: str) -> None:
        """The verified subject (its pseudonym ``mine``) has not withdrawn, and a call about a
        person on file (verify against it, or enroll more faces) is by that person's own
        subject: one person, one subject; no token of another subject takes a person over."""
        if self.ledger.withdrawn_pseudonym(mine):
            raise ConsentRejectedError(
                "withdrawn",
                "the subject has withdrawn consent: nothing more can be done under it",
            )
        if info.consent_operation in _PERSON_CALLS and info.person_id and info.container_kind:
            owner = self.ledger.subject_of(info.container_kind, info.container_id, info.person_id)
            if owner is not None and owner != mine:
                raise ConsentRejectedError(
                    "subject",
                    "the person is on file under another subject's consent: use a token "
                    "issued for that person's own subject",
                )

    def _check_face_ids(self, info: GuardInfo, mine: str | None) -> Override | None:
        container_model = None
        if info.container_kind and info.container_id:
            container_model = self.registry.container_model(info.container_kind, info.container_id)
        override = _override(info, "unknown_face_id")
        records = self.registry.check(
            info.face_ids,
            endpoint=self.endpoint,
            container_model=container_model,
            allow_unknown=self.policy.allow_unknown_face_ids or override is not None,
        )
        unknown = False
        # Records hold the subject's pseudonym only (GUARD.md §4.4): ``mine`` is the caller's.
        for index, record in enumerate(records, start=1):
            if record is None:
                unknown = True
            elif mine is not None and record.subject != mine:
                raise ConsentRejectedError(
                    "subject",
                    f"faceId #{index} was detected under another subject's consent token",
                )
        return override if unknown else None

    def _check_liveness(self, info: GuardInfo) -> Override | None:
        # Every session counts per application, those with the device id set in the client too.
        policy = self.policy
        return check_session_caps(
            self.store,
            endpoint=self.endpoint,
            device_correlation_id=info.device_correlation_id,
            per_device=policy.liveness_sessions_per_device,
            per_application=policy.liveness_sessions_per_application,
            window=policy.liveness_window,
            override=info.override,
        )

    def withdraw(self, subject: str) -> None:
        """Record a withdrawal (effective at once) and drop the subject's faceIds."""
        self.ledger.withdraw(subject)
        self.registry.forget_subject(subject)
        self._pseudonyms.pop(subject, None)
        log = self.policy.audit
        if log is not None:
            log.record(
                "consent_withdrawn",
                operation="ConsentWithdrawal",
                route="POST /consent-withdrawal",
                decision="allowed",
                rule="R05 consent",
                reason="the subject withdrew consent",
                subject=subject,
            )

    # -- after -------------------------------------------------------------------------------

    def after(self, spec: RequestSpec[Any], ticket: Ticket, result: T) -> T:
        """Bookkeeping and filtering of a successful result, and the record of its outcome.

        Raises ``AuditError`` with ``request_sent=True`` when that record cannot be written:
        the call went out, but its outcome is not evidenced, and the log refuses further
        calls until it is recovered.
        """
        try:
            return self._after(spec, ticket, result)
        except AuditError as failure:
            raise AuditError(
                f"the call was sent and answered, but its outcome could not be recorded: {failure}",
                reason=failure.reason,
                request_sent=True,
            ) from failure

    def failed(self, spec: RequestSpec[Any], ticket: Ticket, error: FaceGuardError) -> None:
        """Record the outcome of an audited call that got an error instead of a result (a
        status error, no response, a response off the contract), so that no decision record
        is left without its outcome. The record holds the error's type, status and code,
        never its message (which can quote the service's text).

        Raises ``AuditError`` (``request_sent`` as the error says, from the error) when the
        log cannot take the record."""
        if self.policy.audit is None or not _audited(spec):
            return
        details: dict[str, Any] = {"error": type(error).__name__}
        for name in ("status_code", "error_code", "request_sent"):
            value = getattr(error, name, None)
            if isinstance(value, (str, int, bool)):
                details[name] = value
        try:
            self._audit(
                spec,
                "api_call",
                "allowed",
                None,
                subject=ticket.subject,
                result=error,
                reason="api_error",
                details=details,
            )
        except AuditError as failure:
            sent = getattr(error, "request_sent", True)
            raise AuditError(
                f"the call failed ({type(error).__name__}) and its outcome could not be "
                f"recorded: {failure}",
                reason=failure.reason,
                request_sent=bool(sent),
            ) from error

    def _after(self, spec: RequestSpec[Any], ticket: Ticket, result: T) -> T:
        info = spec.guard
        if GuardCheck.FACE_ID_ISSUE in spec.guard_checks and isinstance(result, list):
            self._record_face_ids(info, ticket, result)
        if info.consent_operation == "enroll" and ticket.subject is not None:
            self._record_enrollment(info, ticket.subject, result, ticket.claims)
        elif (
            info.consent_operation == "verify"
            and info.person_id is not None
            and getattr(result, "is_identical", False) is True
        ):
            # A successful 1:1 match is an interaction with the person (BIPA §15(a)).
            self.retention.touch(info.container_kind or "", info.container_id, (info.person_id,))
        if (
            info.recognition_model
            and info.container_kind
            and info.container_id
            and (spec.method == "PUT")
        ):
            self.registry.remember_container_model(
                info.container_kind, info.container_id, info.recognition_model
            )
        # Only container reads report the model (and only with returnRecognitionModel).
        seen_model = (
            getattr(result, "recognition_model", None)
            if spec.method == "GET" and "recognition_model" in getattr(result, "__dict__", ())
            else None
        )
        if isinstance(seen_model, str) and info.container_kind and info.container_id:
            self.registry.remember_container_model(
                info.container_kind, info.container_id, str(seen_model)
            )
        if GuardCheck.ERASURE in spec.guard_checks:
            self._forget(spec)
            self._audit(spec, "deletion", "allowed", None, subject=None, result=result)
        elif info.consent_operation in {"identify", "find_similar"} and isinstance(result, list):
            result = self._suppress(spec, ticket, result)  # type: ignore[assignment]
        elif _audited(spec) or (self.review and spec.operation == _LIVENESS_VERIFY_RESULT):
            # A liveness-with-verify result read under oversight is the decision to review.
            self._audit(spec, "api_call", "allowed", None, subject=ticket.subject, result=result)
        return result

    def _record_face_ids(self, info: GuardInfo, ticket: Ticket, faces: list[Any]) -> None:
        for index, face in enumerate(faces):
            face_id = getattr(face, "face_id", None)
            if not face_id:
                continue
            self.registry.record(
                face_id,
                FaceIdRecord(
                    issued_at=ticket.started,
                    ttl=info.face_id_ttl or 0,
                    detection_model=info.detection_model or "",
                    recognition_model=info.recognition_model or "",
                    endpoint=self.endpoint,
                    # Faces come largest first; a single-subject token binds only that one.
                    subject=ticket.subject if index == 0 else None,
                ),
            )

    def _record_enrollment(
        self, info: GuardInfo, subject: str, result: object, claims: ConsentClaims | None
    ) -> None:
        if info.container_kind is None:
            return
        # Persons are the unit of consent in groups (create_person with consent names a new
        # one: the result's person_id); in face lists, each persisted face is.
        key = (
            info.person_id
            or attr_or_none(result, "person_id")
            or attr_or_none(result, "persisted_face_id")
        )
        if isinstance(key, str):
            self.ledger._record_enrollment(info.container_kind, info.container_id, key, subject)
            # What the retention sweeper computes the deadline from (GUARD.md §4.6).
            self.retention.record_enrollment(
                info.container_kind,
                info.container_id,
                key,
                until=None if claims is None else claims.retention_until,
                purpose_end=None if claims is None else claims.retention_purpose_end,
            )

    def _forget(self, spec: RequestSpec[Any]) -> None:
        """After an erasure, drop what the guard kept about what was erased."""
        info = spec.guard
        kind, container = info.container_kind, info.container_id
        if kind is None or container is None:
            return
        face = spec.path_params.get("persistedFaceId")
        if face is not None:
            if info.person_id is None:  # a face-list face is its own unit of consent
                self.ledger.forget_person(kind, container, face)
                self.retention.forget(kind, container, face)
        elif info.person_id is not None:
            self.ledger.forget_person(kind, container, info.person_id)
            self.retention.forget(kind, container, info.person_id)
        else:
            self.ledger.forget_container(kind, container)
            self.registry.forget_container(kind, container)
            self.retention.forget_container(kind, container)

    def _suppress(self, spec: RequestSpec[Any], ticket: Ticket, results: list[Any]) -> list[Any]:
        info = spec.guard
        kind, container = info.container_kind, info.container_id
        if kind is None:
            # find-similar among faceIds: no enrolled candidate to filter, but its outcome is
            # recorded like any other recognition call's.
            self._audit(spec, "api_call", "allowed", None, subject=ticket.subject, result=results)
            return results
        # Every candidate person (identify) or persisted face (face-list find-similar), at once.
        # attr_or_none: a model without the field would raise (and catch) AttributeError.
        entries = []
        ids: list[str] = []
        for item in results:
            candidates = attr_or_none(item, "candidates")
            face = attr_or_none(item, "persisted_face_id")
            if candidates:
                ids += [candidate.person_id for candidate in candidates]
            if face is not None:
                ids.append(face)
            entries.append((item, candidates, face))
        live = self.ledger.live_persons(kind, container, ids) if ids else set()
        capped: set[str] = set()
        if live:  # identify candidates, or face-list faces find-similar matched
            capped = self._track_identifications(spec, ticket, kind, container, live)
            if capped:
                live = live - capped
        suppressed = 0
        kept: list[Any] = []
        for item, candidates, face in entries:
            if candidates is not None:
                keep = [c for c in candidates if c.person_id in live]
                if len(keep) != len(candidates):
                    suppressed += len(candidates) - len(keep)
                    item = item.model_copy(update={"candidates": keep})
                kept.append(item)
            elif face is None or face in live:
                kept.append(item)
            else:
                suppressed += 1
        filtered: list[Any]
        if not suppressed and type(results) is ResultList:
            filtered = results  # nothing removed: the same items, with their support info
        else:
            filtered = ResultList(kept)
            filtered._attach_support(getattr(results, "_support_state", None))
        if self.policy.audit is not None:
            self._audit(
                spec,
                "candidate_suppressed" if suppressed else "api_call",
                "suppressed" if suppressed else "allowed",
                None,
                subject=ticket.subject,
                result=results,
                details={"suppressed": suppressed, "tracking_capped": len(capped)}
                if capped
                else {"suppressed": suppressed},
            )
        return filtered

    def _track_identifications(
        self,
        spec: RequestSpec[Any],
        ticket: Ticket,
        kind: str,
        container: str | None,
        live: set[str],
    ) -> set[str]:
        """R17: count this identification of every consented candidate person from the
        call's source (one store operation) and return those past the hourly cap, unless
        the token carries ``consent.cnt`` or the call an override of the cap (audited).
        Those returned are also recorded as interactions (retention)."""
        info = spec.guard
        persons = list(live)
        limit = self.policy.identifications_per_person_per_hour
        counts = self.tracking.count_identifications(
            info.source_id or self.policy.source_id, kind, container, persons, limit=limit
        )
        over = {person for person, count in zip(persons, counts, strict=True) if count > limit}
        if over and ticket.claims is not None and ticket.claims.continuous_identification:
            over = set()
        if over:
            override = identification_override(info.override)
            if override is not None:
                self._audit(
                    spec,
                    "override",
                    "allowed",
                    None,
                    subject=ticket.subject,
                    reason=f"{override.rule}: {override.reason}",
                )
                over = set()
            elif not self._warned_tracking:
                # Once per client: the audit trail has every withholding; a log line per
                # call would flood the log of the very deployment the cap is aimed at.
                self._warned_tracking = True
                logger.warning(
                    "faceguard: identify candidates withheld: identified more than %d times "
                    "from one source within an hour (R17 tracking cap; every case is in the "
                    "audit trail). Issue the consent token with continuous_identification="
                    "True, or pass override=Override('tracking_identification_cap', reason)",
                    limit,
                )
        self.retention.touch(kind, container, live - over if over else persons)
        return over

    # -- audit -------------------------------------------------------------------------------

    def _audit(
        self,
        spec: RequestSpec[Any],
        event: str,
        decision: str,
        refusal: FaceGuardError | None,
        *,
        subject: str | None,
        result: object = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        log = self.policy.audit
        if log is None:
            return
        support = getattr(result, "_support", None)
        if support is None and isinstance(result, FaceGuardError):
            support = getattr(result, "support", None)  # an API error's support info
        call = in_oversight.get() if event in _OUTCOMES else None
        if call is not None:
            # R11: the outcome record of a provisional result; its hash is the decision id.
            details = {**(details or {}), "reviewers_required": call.reviewers}
        written = log.record(
            event,
            operation=spec.operation,
            route=f"{spec.method} {spec.route}",
            decision=decision,
            rule=_RULES.get(type(refusal).__name__, "guard") if refusal else "allowed",
            reason=reason or (type(refusal).__name__ if refusal else event),
            subject=subject,  # pseudonymised by the log, which also refuses it in free text
            request_id=getattr(support, "request_id", None),
            client_request_id=getattr(support, "client_request_id", None),
            model_version=getattr(support, "model_version", None),
            details=details,
        )
        if call is not None:
            call.record = written
