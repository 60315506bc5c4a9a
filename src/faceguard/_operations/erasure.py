"""Erasure of a subject: withdraw consent, then delete everything enrolled under it.

Withdrawal takes effect in the ledger at once (the subject's tokens are refused from the next
call on). Then every person (in person groups) and every face (in face lists) the ledger maps
to the subject is deleted through the ordinary delete operations, which the guard always
allows and audits. Person Directory persons cannot be deleted through the v1.2 GA API; they
are reported, not silently skipped.

The ledger finds them although it stores no subject in clear: it hashes ``subject`` with the
store's key and matches the pseudonym. What it reads back in clear is exactly what ``DELETE``
needs, ``(kind, container, personId or persistedFaceId)`` (GUARD.md §4.4; see ``_ledger``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .._exceptions import AuditError
from .._guard._engine import Guard
from .._transport._spec import RequestSpec
from ._inputs import check_length
from ._kinds import FACE_LISTS, LARGE_FACE_LISTS, LARGE_PERSON_GROUPS, PERSON_GROUPS

__all__ = ["ErasurePlan", "plan_erasure"]

_DELETE: dict[str, Callable[[str, str], RequestSpec[None]]] = {
    "personGroup": PERSON_GROUPS.delete_person,
    "largePersonGroup": LARGE_PERSON_GROUPS.delete_person,
    "faceList": FACE_LISTS.delete_face,
    "largeFaceList": LARGE_FACE_LISTS.delete_face,
}


_SUBJECT_MAX = 1024  # generous: a consent token's subject is an opaque id, never a document


@dataclass(frozen=True)
class ErasurePlan:
    """The deletions erasing a subject, and what the GA API cannot delete."""

    deletions: list[RequestSpec[None]] = field(default_factory=list)
    not_erasable: list[tuple[str, str, str]] = field(default_factory=list)
    """``(kind, container_id, id)`` entries no v1.2 GA operation deletes (Person Directory)."""
    unrecorded: AuditError | None = field(default=None, repr=False)
    """The audit log could not record the withdrawal (which took effect all the same)."""

    def finish(self, failure: AuditError | None, *, sent: int) -> ErasurePlan:
        """The plan, once every deletion was attempted; ``AuditError`` if the audit log
        missed the withdrawal or a deletion: erasure is never blocked, never silent."""
        failure = failure or self.unrecorded
        if failure is None:
            return self
        raise AuditError(
            f"the subject was erased ({sent} deletion(s) sent) but the audit log could not "
            f"record all of it: {failure}",
            reason=failure.reason,
            request_sent=sent > 0,
        ) from failure


def plan_erasure(guard: Guard, subject: str) -> ErasurePlan:
    """Withdraw ``subject``'s consent now and list the deletions that erase their data.

    The subject is checked first (a non-empty string of valid Unicode): a withdrawal the
    ledger or the audit file cannot record must fail typed, before anything is written.
    """
    checked = check_length("subject", subject, minimum=1, maximum=_SUBJECT_MAX)
    unrecorded = None
    try:
        guard.withdraw(checked)
    except AuditError as failure:  # the ledger took the withdrawal; only its record is missing
        unrecorded = failure
    plan = ErasurePlan(unrecorded=unrecorded)
    for kind, container_id, item_id in guard.ledger.persons_of(subject):
        delete = _DELETE.get(kind)
        if delete is None:
            plan.not_erasable.append((kind, container_id, item_id))
        else:
            plan.deletions.append(delete(container_id, item_id))
    return plan
