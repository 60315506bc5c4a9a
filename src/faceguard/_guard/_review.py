"""Reviews (R11) and disputes (R22) in the audit trail, and reading a decision's history back.

A decision id is the ``hash`` of the audit record of a recognition call's outcome (an
``api_call`` or ``candidate_suppressed`` record): ``sha256:`` and 64 hex digits. It names one
record of one chain, so it cannot be guessed, and it cannot be moved to another log: a review
or a dispute is accepted only for a decision found in the client's own log, read back with
its hash and its link to the record before it checked. The search reads the file as bytes
and parses only the lines that name the decision (about 1.5 µs a record: 0.15 s for 100,000,
``benchmarks/bench_oversight.py``); ``faceguard audit show`` also verifies the whole chain
first. Each ``review`` and ``dispute`` record carries the decision id
in ``details.decision`` and the decision's subject pseudonym, so ``faceguard audit show``
finds them all.

Reviewer ids are people, and are written like subjects: as ``hmac:`` pseudonyms under the
log's subject key, after folding case and compatibility forms (``Alice``, ``alice `` and
the full-width form of ``alice`` are one reviewer, so one person cannot pose as two). A
domain prefix keeps a reviewer's pseudonym from ever equalling a subject's.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from .._exceptions import AuditError, InvalidInputError, OversightError
from ._audit_chain import _check_link, open_log
from ._audit_record import GENESIS, AuditRecord

if TYPE_CHECKING:
    import os

    from ._audit import AuditLog

__all__ = [
    "DecisionHistory",
    "check_decision_id",
    "find_decision",
    "history",
    "record_dispute",
    "record_review",
    "reviewer_key",
]

_DECISION_RE: Final = re.compile(r"sha256:[0-9a-f]{64}")
_OUTCOME_EVENTS: Final = frozenset({"api_call", "candidate_suppressed"})
_MAX_REVIEWER: Final = 128
_REVIEWER_DOMAIN: Final = "faceguard-reviewer:"


def check_decision_id(decision_id: object) -> str:
    """A decision id's form (``sha256:`` + 64 lowercase hex digits), or ``InvalidInputError``.
    The message never repeats the value."""
    if not isinstance(decision_id, str) or not _DECISION_RE.fullmatch(decision_id):
        raise InvalidInputError(
            "decision_id",
            "value",
            "must be a decision id as a provisional result gives it (result.decision_id): "
            "'sha256:' and 64 lowercase hex digits",
        )
    return str.__str__(decision_id)


def reviewer_key(reviewer_id: object) -> str:
    """The form a reviewer id is compared and pseudonymised in: NFKC, case-folded, trimmed."""
    if not isinstance(reviewer_id, str):
        raise InvalidInputError("reviewer_id", "type", "must be a string naming the reviewer")
    try:
        folded = unicodedata.normalize("NFKC", reviewer_id).casefold().strip()
        folded.encode("utf-8")
    except UnicodeError:
        raise InvalidInputError("reviewer_id", "value", "must be valid Unicode") from None
    if not folded or len(folded) > _MAX_REVIEWER:
        raise InvalidInputError(
            "reviewer_id", "value", f"must be 1 to {_MAX_REVIEWER} characters, not blank"
        )
    if any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in folded):
        raise InvalidInputError("reviewer_id", "value", "must not hold control characters")
    return _REVIEWER_DOMAIN + folded


def _damaged(path: object, position: int, problem: str) -> AuditError:
    return AuditError(
        f"the audit log {path} is broken at record {position} ({problem}); run "
        "'faceguard audit verify' on it",
        reason="damaged",
    )


def _mentioning(path: str | os.PathLike[str], decision: str) -> Iterator[AuditRecord]:
    """The records whose line holds ``decision`` (its own ``hash``, or a ``details.decision``
    naming it), in order. Each is parsed and checked in full (canonical form, its hash, its
    ``seq``, its link to the line before); the other lines are only split, not parsed, so a
    search costs a byte scan of the file rather than a hash per record (``faceguard audit
    verify`` checks the whole chain). ``AuditError(reason="damaged")`` for a bad match."""
    needle = decision.encode("ascii")
    previous = b""
    with open_log(path) as handle:
        for position, raw in enumerate(handle):
            if needle in raw:
                prev = GENESIS
                if position > 0:
                    try:
                        prev = str(json.loads(previous)["hash"])
                    except (ValueError, KeyError, TypeError):
                        raise _damaged(path, position - 1, "not a record") from None
                checked = _check_link(raw, position, prev)
                if isinstance(checked, str):
                    raise _damaged(path, position, checked)
                yield checked
            previous = raw


def find_decision(log: AuditLog, decision_id: object) -> AuditRecord:
    """The outcome record named by ``decision_id`` in ``log``'s file, read back verified.

    ``OversightError(reason="unknown_decision")`` when this log holds no such outcome: an id
    made up, mistyped, or taken from another log.
    """
    wanted = check_decision_id(decision_id)
    for record in _mentioning(log.path, wanted):
        if record.hash == wanted:
            if record.event in _OUTCOME_EVENTS:
                return record
            break
    raise OversightError(
        "unknown_decision",
        f"no recognition decision with this id in the audit log {log.path}: use the "
        "decision_id of a result of a client writing to this log",
    )


def record_review(
    log: AuditLog,
    decision: AuditRecord,
    *,
    reviewer: str,
    outcome_digest: str,
    summary: str,
    decision_value: str,
    reviews: int,
    required: int,
) -> AuditRecord:
    """Write one reviewer's review of ``decision``; ``reviewer`` is the log's pseudonym of
    the reviewer's ``reviewer_key`` (``log.pseudonym(reviewer_key(reviewer_id))``)."""
    if not reviewer.startswith("hmac:"):
        raise InvalidInputError("reviewer", "value", "must be the log's pseudonym of the reviewer")
    return log.record(
        "review",
        operation=decision.operation,
        route=decision.route,
        decision=decision_value,
        rule="R11 oversight",
        reason=summary,
        subject=decision.subject,
        details={
            "decision": decision.hash,
            "reviewer": reviewer,
            "outcome": outcome_digest,
            "reviews": reviews,
            "reviewers_required": required,
        },
    )


def record_dispute(log: AuditLog, decision_id: object, reason: object) -> AuditRecord:
    """Write a dispute of the decision ``decision_id`` (found in ``log`` first)."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInputError("reason", "value", "must say what is disputed (not blank)")
    decision = find_decision(log, decision_id)
    return log.record(
        "dispute",
        operation=decision.operation,
        route=decision.route,
        decision="disputed",
        rule="R22 feedback",
        reason=reason,
        subject=decision.subject,
        details={"decision": decision.hash},
    )


@dataclass(frozen=True)
class DecisionHistory:
    """A decision's outcome record and the reviews and disputes that name it, in log order."""

    decision: AuditRecord
    reviews: list[AuditRecord] = field(default_factory=list)
    disputes: list[AuditRecord] = field(default_factory=list)


def history(path: str | os.PathLike[str], decision_id: object) -> DecisionHistory:
    """Read the whole log (verified link by link) and collect ``decision_id``'s history.

    ``OversightError(reason="unknown_decision")`` when the log holds no such outcome.
    """
    wanted = check_decision_id(decision_id)
    found: DecisionHistory | None = None
    for record in _mentioning(path, wanted):
        if found is None:
            if record.hash == wanted and record.event in _OUTCOME_EVENTS:
                found = DecisionHistory(record)
            continue
        if record.details.get("decision") != wanted:
            continue
        if record.event == "review":
            found.reviews.append(record)
        elif record.event == "dispute":
            found.disputes.append(record)
    if found is None:
        raise OversightError(
            "unknown_decision", f"no recognition decision with this id in the audit log {path}"
        )
    return found
