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

What an outcome is, per operation, is in ``_outcomes``; the audit trail gets its SHA-256 and
a short summary, never the ids themselves.

The state of a decision's review (who reviewed, with which outcome digest, confirmed or not)
is one object per (audit log, decision), shared by every handle on that decision in the
process, so two handles cannot each count the same reviewer. ``client.review(decision_id)`` opens
a handle from the audit log alone, for a later review in another process once the first has
closed the log (the log has one writer): it rebuilds the state from the ``review`` records,
and takes only outcomes that agree with the first review, which was checked against the
result.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Generic, NoReturn, TypeVar, cast

from .._exceptions import OversightError, ProvisionalResultError
from .._guard._review import history, record_review, reviewer_key
from . import _outcomes

if TYPE_CHECKING:
    from .._guard._audit import AuditLog
    from .._guard._audit_record import AuditRecord

__all__ = ["AsyncProvisional", "AsyncReview", "Provisional", "Review", "resume"]

T = TypeVar("T")
O = TypeVar("O")  # noqa: E741 (the outcome's type, as the docs name it)

_NOT_YET: Final = (
    "this result is provisional (R11): show result.provisional to a reviewer and act on what "
    "result.confirm(reviewer_id, outcome) returns"
)
_OPERATIONS: Final = (
    ("FindSimilar", "find_similar"),
    ("Identify", "identify"),
    ("Verify", "verify"),
    ("Group", "group"),
)


class _State:
    """One decision's review, shared by its handles in this process (under ``lock``)."""

    __slots__ = ("__weakref__", "digest", "known", "lock", "outcome", "reviewers", "status")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reviewers: list[str] = []  # pseudonyms, in review order
        self.digest: str | None = None
        self.outcome: Any = None
        self.known = True  # False: confirmed in another process, outcome not in the log
        self.status = "pending"  # "confirmed", "disagreement"


_STATES: weakref.WeakValueDictionary[tuple[int, str], _State] = weakref.WeakValueDictionary()
_STATES_LOCK = threading.Lock()


def _state_of(log: AuditLog, decision: str, build: Callable[[], _State] | None = None) -> _State:
    """The shared state of ``decision`` in ``log``, made by ``build()`` (or empty) if none."""
    with _STATES_LOCK:
        state = _STATES.get((id(log), decision))
        if state is None:
            state = build() if build is not None else _State()
            _STATES[(id(log), decision)] = state
        return state


class _Reviewed(Generic[T, O]):
    """What every handle on a decision under review shares: the state, and the refusals."""

    __slots__ = ("_decision", "_log", "_operation", "_required", "_result", "_state")

    def __init__(
        self,
        result: T,
        *,
        operation: str,
        decision: AuditRecord,
        required: int,
        log: AuditLog,
        state: _State | None = None,
    ) -> None:
        self._result = result
        self._operation = operation
        self._decision = decision
        self._required = required
        self._log = log
        self._state = state or _state_of(log, decision.hash)

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
        """How many reviewers have reviewed so far."""
        return len(self._state.reviewers)

    @property
    def confirmed(self) -> bool:
        """True once enough distinct reviewers gave the same outcome."""
        return self._state.status == "confirmed"

    @property
    def outcome(self) -> O:
        """The confirmed outcome; ``ProvisionalResultError`` until it is confirmed."""
        state = self._state
        if state.status == "disagreement":
            raise ProvisionalResultError(
                "the reviewers disagreed, so this result is not confirmed: use the fallback "
                "path (R12)"
            )
        if state.status != "confirmed":
            raise ProvisionalResultError(
                f"{_NOT_YET} ({len(state.reviewers)} of {self._required} reviews so far)"
            )
        if not state.known:
            raise OversightError(
                "outcome_elsewhere",
                "this decision was confirmed in another process; the audit log keeps only "
                "the outcome's digest (faceguard audit show --decision ID)",
            )
        return cast("O", state.outcome)

    def _check(self, outcome: object) -> tuple[Any, str]:
        return _outcomes.check(self._operation, self._result, outcome)

    def _confirm(self, reviewer_id: str, outcome: object) -> O | None:
        """One review, recorded; the outcome when it completes the decision, else None."""
        reviewer = self._log.pseudonym(reviewer_key(reviewer_id))
        state = self._state
        with state.lock:
            if state.status == "confirmed":
                raise OversightError(
                    "already_confirmed", "this decision is confirmed already: nothing to add"
                )
            if state.status == "disagreement":
                raise OversightError(
                    "disagreement", "the reviewers of this decision disagreed; it stays open"
                )
            if reviewer in state.reviewers:
                raise OversightError(
                    "same_reviewer",
                    f"this reviewer has reviewed this decision already; it needs "
                    f"{self._required} distinct reviewers (EU AI Act Art. 14(5))",
                )
            chosen, summary = self._check(outcome)
            digest = _outcomes.digest(self._operation, chosen)
            count = len(state.reviewers) + 1
            agree = state.digest is None or digest == state.digest
            final = agree and count >= self._required
            record_review(
                self._log,
                self._decision,
                reviewer=reviewer,
                outcome_digest=digest,
                summary=summary if agree else "reviewed: disagrees with the earlier review",
                decision_value=("confirmed" if final else "pending") if agree else "refused",
                reviews=count,
                required=self._required,
            )
            state.reviewers.append(reviewer)
            if not agree:
                state.status = "disagreement"
                raise OversightError(
                    "disagreement",
                    "this reviewer's outcome differs from the earlier review: the decision "
                    "is recorded as disputed between reviewers and stays unconfirmed",
                )
            state.digest = digest
            if not final:
                return None
            state.status = "confirmed"
            state.outcome = chosen
            return cast("O", chosen)

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
        return (
            f"{type(self).__name__}(operation={self._operation!r}, "
            f"reviews={len(self._state.reviewers)}/{self._required}, "
            f"state={self._state.status!r})"
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


class _Resumed(_Reviewed[None, O]):
    """A decision under review opened from the audit log alone: no result to show, and an
    outcome held to its form and to the first review's digest."""

    __slots__ = ()

    def _check(self, outcome: object) -> tuple[Any, str]:
        chosen, summary = _outcomes.shape(self._operation, outcome)
        if self._state.digest is None:  # pragma: no cover - resume requires a first review
            raise OversightError("first_review", "no earlier review to agree with")
        return chosen, summary


class Review(_Resumed[O]):
    """A decision under review, resumed from the audit log (sync); see ``resume``."""

    __slots__ = ()

    def confirm(self, reviewer_id: str, outcome: O) -> O | None:
        """As ``Provisional.confirm``; the outcome is the same kind of value."""
        return self._confirm(reviewer_id, outcome)


class AsyncReview(_Resumed[O]):
    """A decision under review, resumed from the audit log (async); see ``resume``."""

    __slots__ = ()

    async def confirm(self, reviewer_id: str, outcome: O) -> O | None:
        """As ``Review.confirm``, the audit write in a worker thread."""
        import asyncio

        return await asyncio.to_thread(self._confirm, reviewer_id, outcome)


R = TypeVar("R", bound="_Resumed[Any]")


def resume(log: AuditLog, decision_id: str, kind: type[R]) -> R:
    """A handle on ``decision_id``'s review from ``log``, for a reviewer in another process.

    Refused (``OversightError``): ``unknown_decision`` (not a decision of this log, or one
    that asked for no review) and ``first_review`` (nobody reviewed it yet: the first review
    is made on the provisional result, where the outcome is checked against what the service
    returned).
    """
    found = history(log.path, decision_id)
    decision = found.decision
    required = decision.details.get("reviewers_required")
    operation = next((op for name, op in _OPERATIONS if name in decision.operation), None)
    if not isinstance(required, int) or operation is None:
        raise OversightError(
            "unknown_decision", "this decision was not made under oversight: nothing to review"
        )
    if not found.reviews:
        raise OversightError(
            "first_review",
            "nobody has reviewed this decision yet: the first review is made on the "
            "provisional result (result.confirm), where the outcome is checked against the "
            "service's answer",
        )

    def build() -> _State:
        state = _State()
        for record in found.reviews:
            reviewer = record.details.get("reviewer")
            if isinstance(reviewer, str):
                state.reviewers.append(reviewer)
            if record.decision == "refused":
                state.status = "disagreement"
            elif state.digest is None:
                digest = record.details.get("outcome")
                state.digest = digest if isinstance(digest, str) else None
            if record.decision == "confirmed":
                state.status = "confirmed"
                state.known = False
        return state

    state = _state_of(log, decision.hash, build)
    return kind(
        None, operation=operation, decision=decision, required=required, log=log, state=state
    )
