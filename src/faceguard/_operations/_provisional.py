"""Provisional recognition results (R11): nothing to act on until people have confirmed it.

A recognition call of a consequential use case (``client.oversight``) returns a
``Provisional`` instead of the result model. It has no ``is_identical``, no ``candidates``, no
truth value and no items: the machine's answer is reachable only as ``.provisional``, named so
that code reading it says what it is reading, and meant for the reviewer's screen. What the
application acts on is the outcome people confirmed: ``confirm(reviewer_id, outcome)`` records
each review in the audit trail (linked to the call's outcome record by ``decision_id``), and
returns the outcome once enough distinct reviewers agree; ``.outcome`` raises
``ProvisionalResultError`` until then. Type checkers see ``Provisional[VerificationResult,
bool]``, not a ``VerificationResult``, so ``result.is_identical`` is an error before it runs.

Outcomes, per operation (what the reviewer decided, checked against the result):

- verify: ``bool``, the same person or not;
- identify: one ``personId`` or ``None`` per query face, in the result's order, each among
  that face's candidates;
- find-similar: the ids (``face_id`` or ``persisted_face_id``) the reviewer confirms as the
  same person, among those returned;
- group: groups of faceIds the reviewer confirms, each faceId of the call at most once.

The audit trail gets a SHA-256 of the outcome and a short summary, never the ids themselves.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, Generic, NoReturn, TypeVar

from .._exceptions import InvalidInputError, OversightError, ProvisionalResultError
from .._guard._review import record_review, reviewer_key

if TYPE_CHECKING:
    from .._guard._audit import AuditLog
    from .._guard._audit_record import AuditRecord

__all__ = ["AsyncProvisional", "OutcomeCheck", "Provisional", "outcome_check"]

T = TypeVar("T")
O = TypeVar("O")  # noqa: E741 (the outcome's type, as the docs name it)

OutcomeCheck = Callable[[Any, object], tuple[Any, str]]
"""``(result, outcome) -> (the outcome as returned, summary)``; ``InvalidInputError`` when the
outcome is not one the result can have."""

_NOT_YET: Final = (
    "this result is provisional (R11): show result.provisional to a reviewer and act on what "
    "result.confirm(reviewer_id, outcome) returns"
)


def _outcome_error(message: str) -> InvalidInputError:
    return InvalidInputError("outcome", "value", message)


def _ids(values: object, what: str) -> list[str]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise _outcome_error(f"must be a list of {what}")
    if not all(isinstance(value, str) for value in values):
        raise _outcome_error(f"must be a list of {what} (strings)")
    folded = [value.lower() for value in values]
    if len(set(folded)) != len(folded):
        raise _outcome_error(f"names one of the {what} twice")
    return folded


def _verify(result: Any, outcome: object) -> tuple[Any, str]:  # noqa: ARG001 (one signature)
    if not isinstance(outcome, bool):
        raise _outcome_error("a verify outcome is True (the same person) or False")
    return outcome, "reviewed: the same person" if outcome else "reviewed: not the same person"


def _identify(result: Any, outcome: object) -> tuple[Any, str]:
    if isinstance(outcome, (str, bytes)) or not isinstance(outcome, Sequence):
        raise _outcome_error("an identify outcome is a list: one personId or None per face")
    if len(outcome) != len(result):
        raise _outcome_error(f"an identify outcome names {len(result)} face(s), in order")
    chosen: list[str | None] = []
    for index, (entry, person) in enumerate(zip(result, outcome, strict=True), start=1):
        if person is None:
            chosen.append(None)
            continue
        if not isinstance(person, str):
            raise _outcome_error(f"face #{index}: a personId (string) or None")
        offered = {candidate.person_id.lower() for candidate in entry.candidates}
        if person.lower() not in offered:
            raise _outcome_error(f"face #{index}: the person is not among its candidates")
        chosen.append(person.lower())
    found = sum(person is not None for person in chosen)
    return tuple(chosen), f"reviewed: {found} of {len(chosen)} face(s) identified"


def _find_similar(result: Any, outcome: object) -> tuple[Any, str]:
    chosen = _ids(outcome, "returned face ids")
    offered = {(item.face_id or item.persisted_face_id or "").lower() for item in result}
    if not set(chosen) <= offered:
        raise _outcome_error("names a face that is not among the returned ones")
    return tuple(chosen), f"reviewed: {len(chosen)} of {len(result)} similar face(s) confirmed"


def _group(result: Any, outcome: object) -> tuple[Any, str]:
    if isinstance(outcome, (str, bytes)) or not isinstance(outcome, Sequence):
        raise _outcome_error("a group outcome is a list of groups (lists of faceIds)")
    offered = {face.lower() for group in result.groups for face in group}
    offered |= {face.lower() for face in result.messy_group}
    groups = [_ids(group, "faceIds") for group in outcome]
    flat = [face for group in groups for face in group]
    if any(not group for group in groups):
        raise _outcome_error("holds an empty group")
    if len(set(flat)) != len(flat) or not set(flat) <= offered:
        raise _outcome_error("names a faceId twice, or one the call did not group")
    return tuple(tuple(group) for group in groups), f"reviewed: {len(groups)} group(s) confirmed"


_CHECKS: Final[dict[str, OutcomeCheck]] = {
    "verify": _verify,
    "identify": _identify,
    "find_similar": _find_similar,
    "group": _group,
}


def outcome_check(operation: str) -> OutcomeCheck:
    """The outcome check of a recognition operation."""
    return _CHECKS[operation]


def _digest(operation: str, outcome: object) -> str:
    text = json.dumps([operation, outcome], separators=(",", ":"), sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Reviewed(Generic[T, O]):
    """What the sync and async provisional results share: the state, and the refusals."""

    __slots__ = (
        "_decision",
        "_digest",
        "_lock",
        "_log",
        "_operation",
        "_outcome",
        "_required",
        "_result",
        "_reviewers",
        "_state",
    )

    def __init__(
        self, result: T, *, operation: str, decision: AuditRecord, required: int, log: AuditLog
    ) -> None:
        self._result = result
        self._operation = operation
        self._decision = decision
        self._required = required
        self._log = log
        self._lock = threading.Lock()
        self._reviewers: list[str] = []
        self._digest: str | None = None
        self._outcome: O | None = None
        self._state = "pending"

    @property
    def decision_id(self) -> str:
        """The id of this decision in the audit trail (the hash of the call's outcome
        record): give it to the person concerned, for ``client.dispute(decision_id, ...)``
        and ``faceguard audit show --decision``."""
        return self._decision.hash

    @property
    def operation(self) -> str:
        """``verify``, ``identify``, ``find_similar`` or ``group``."""
        return self._operation

    @property
    def provisional(self) -> T:
        """The service's answer, unconfirmed: to show a reviewer, not to act on."""
        return self._result

    @property
    def reviewers_required(self) -> int:
        """How many distinct reviewers must agree (two for remote identification)."""
        return self._required

    @property
    def reviews(self) -> int:
        """How many reviewers have confirmed so far."""
        return len(self._reviewers)

    @property
    def confirmed(self) -> bool:
        """True once enough distinct reviewers gave the same outcome."""
        return self._state == "confirmed"

    @property
    def outcome(self) -> O:
        """The confirmed outcome; ``ProvisionalResultError`` until it is confirmed."""
        if self._state != "confirmed":
            if self._state == "disagreement":
                raise ProvisionalResultError(
                    "the reviewers disagreed, so this result is not confirmed: use the "
                    "fallback path (R12)"
                )
            raise ProvisionalResultError(
                f"{_NOT_YET} ({len(self._reviewers)} of {self._required} reviews so far)"
            )
        return self._outcome  # type: ignore[return-value]

    def _confirm(self, reviewer_id: str, outcome: object) -> O | None:
        """One review, recorded; the outcome when it completes the decision, else None."""
        key = reviewer_key(reviewer_id)
        chosen, summary = _CHECKS[self._operation](self._result, outcome)
        digest = _digest(self._operation, chosen)
        with self._lock:
            if self._state == "confirmed":
                raise OversightError(
                    "already_confirmed", "this decision is confirmed already: nothing to add"
                )
            if self._state == "disagreement":
                raise OversightError(
                    "disagreement", "the reviewers of this decision disagreed; it stays open"
                )
            if key in self._reviewers:
                raise OversightError(
                    "same_reviewer",
                    f"this reviewer has reviewed this decision already; it needs "
                    f"{self._required} distinct reviewers (EU AI Act Art. 14(5))",
                )
            count = len(self._reviewers) + 1
            agree = self._digest is None or digest == self._digest
            final = agree and count >= self._required
            record_review(
                self._log,
                self._decision,
                reviewer=key,
                outcome_digest=digest,
                summary=summary if agree else "reviewed: disagrees with the earlier review",
                decision_value=("confirmed" if final else "pending") if agree else "refused",
                reviews=count,
                required=self._required,
            )
            self._reviewers.append(key)
            if not agree:
                self._state = "disagreement"
                raise OversightError(
                    "disagreement",
                    "this reviewer's outcome differs from the earlier review: the decision "
                    "is recorded as disputed between reviewers and stays unconfirmed",
                )
            self._digest = digest
            if not final:
                return None
            self._state = "confirmed"
            self._outcome = chosen
            return chosen  # type: ignore[no-any-return]

    # -- what must not work on a provisional result ------------------------------------

    def __bool__(self) -> NoReturn:
        raise ProvisionalResultError(_NOT_YET)

    def __iter__(self) -> NoReturn:
        raise ProvisionalResultError(_NOT_YET)

    def __len__(self) -> NoReturn:
        raise ProvisionalResultError(_NOT_YET)

    def __getitem__(self, index: object) -> NoReturn:
        raise ProvisionalResultError(_NOT_YET)

    def __eq__(self, other: object) -> NoReturn:
        raise ProvisionalResultError(_NOT_YET)

    __hash__ = object.__hash__

    def __getattr__(self, name: str) -> NoReturn:
        # Only names the wrapped result has (is_identical, candidates, confidence...): other
        # misses stay AttributeError, as hasattr() and copy expect.
        if not name.startswith("_") and hasattr(object.__getattribute__(self, "_result"), name):
            raise ProvisionalResultError(f"{name}: {_NOT_YET}")
        raise AttributeError(name)

    def __reduce__(self) -> NoReturn:
        raise OversightError(
            "not_portable",
            "a provisional result belongs to the client (and audit log) that made it; pass "
            "its decision_id instead",
        )

    def __repr__(self) -> str:
        state = "confirmed" if self._state == "confirmed" else self._state
        return (
            f"{type(self).__name__}(operation={self._operation!r}, "
            f"reviews={len(self._reviewers)}/{self._required}, state={state!r})"
        )


class Provisional(_Reviewed[T, O]):
    """A recognition result awaiting human review (sync clients); see the module docs."""

    __slots__ = ()

    def confirm(self, reviewer_id: str, outcome: O) -> O | None:
        """Record ``reviewer_id``'s review with ``outcome`` in the audit trail.

        Returns the confirmed outcome when this review completes the decision (the required
        number of distinct reviewers agree), or ``None`` when another reviewer is still
        needed. Raises ``OversightError``: ``same_reviewer``, ``already_confirmed``,
        ``disagreement`` (recorded; the result stays unconfirmed); ``InvalidInputError`` for
        an outcome the result cannot have; ``AuditError`` when the review cannot be written
        (then nothing is confirmed).
        """
        return self._confirm(reviewer_id, outcome)


class AsyncProvisional(_Reviewed[T, O]):
    """A recognition result awaiting human review (async clients); see ``Provisional``."""

    __slots__ = ()

    async def confirm(self, reviewer_id: str, outcome: O) -> O | None:
        """As ``Provisional.confirm``; the audit write runs in a worker thread (it may wait
        on the disk), so the event loop keeps serving other calls."""
        import asyncio

        return await asyncio.to_thread(self._confirm, reviewer_id, outcome)
