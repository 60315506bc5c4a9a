"""What a bulk run reports: one ``BulkItemResult`` per input item, in input order.

Nothing is silently dropped: every item given to ``bulk_add_faces`` or ``bulk_detect`` ends
as exactly one result, ``added``, ``skipped`` (with a ``SkipReason``) or ``failed`` (with the
error's type, code, message and support info). For ``bulk_detect``, ``added`` means the
detection result was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .._exceptions import FaceGuardError, SupportInfo
from .._wire_enum import WireEnum

if TYPE_CHECKING:
    from ..models.detection import FaceDetectionResult

__all__ = ["BulkFailedError", "BulkItemResult", "BulkReport", "ItemStatus", "SkipReason"]

ItemStatus = Literal["added", "skipped", "failed"]
"""The final status of one item."""

_STATUSES: tuple[ItemStatus, ...] = ("added", "skipped", "failed")


class SkipReason(WireEnum):
    """Why an item was skipped rather than added. Skipped items are not retried, by this run
    or by a resumed one: sending them again would get the same answer."""

    NO_FACE = "no_face"
    """The service found no face (``InvalidImage`` "No face detected"), or detect found none."""
    MULTIPLE_FACES = "multiple_faces"
    """More than one face and no ``target_face`` to choose one."""
    FACE_TOO_SMALL = "face_too_small"
    """``bulk_detect`` with ``min_face_size``: every face found was smaller."""
    INVALID_IMAGE = "invalid_image"
    """Unreadable, wrong format or size: faceguard's own check before sending, or the
    service's ``InvalidImage`` / ``InvalidImageSize`` for another reason."""
    CONSENT_WITHDRAWN = "consent_withdrawn"
    """The subject withdrew consent (or the token was revoked): the guard refused the item."""
    CONSENT_REJECTED = "consent_rejected"
    """No consent token, or the guard refused it (expired, wrong binding, a replayed
    once-token...)."""


@dataclass(frozen=True)
class BulkItemResult:
    """The outcome of one item.

    ``attempts`` counts the tries of this run (each request sent, and each failed check of
    the service for an in-doubt add). ``recovered`` is True when an add whose outcome was in
    doubt (a crash, a dropped connection, a 5xx) was found already applied on the service
    (by the marker in the face's userData) instead of being sent again. ``from_journal`` is
    True when the result was read from the journal of an earlier run and nothing was sent.
    ``in_doubt`` (failed items only) says the last attempt may have been applied: a resumed
    run checks the service before sending it again.
    """

    key: str
    status: ItemStatus
    persisted_face_id: str | None = None
    reason: SkipReason | None = None
    error_type: str | None = None
    error_code: str | None = None
    message: str | None = None
    support: SupportInfo | None = None
    attempts: int = 0
    recovered: bool = False
    from_journal: bool = False
    in_doubt: bool = False
    faces: list[FaceDetectionResult] | None = field(default=None, repr=False)
    """``bulk_detect`` only: the faces detected (those of at least ``min_face_size``)."""


class BulkFailedError(FaceGuardError):
    """``BulkReport.raise_for_failures()``: some items failed. ``report`` holds every result;
    ``failed`` the failed ones."""

    def __init__(self, report: BulkReport) -> None:
        failed = [item for item in report.items if item.status == "failed"]
        shown = ", ".join(repr(item.key) for item in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        super().__init__(
            f"{len(failed)} of {len(report.items)} items failed in batch "
            f"{report.batch_id!r}: {shown}{more}; run again with the same journal to retry them"
        )
        self.report = report
        self.failed = failed


@dataclass(frozen=True)
class BulkReport:
    """Every item's result, in input order, with counts."""

    batch_id: str
    items: list[BulkItemResult]

    @property
    def added(self) -> int:
        """How many items were added (for ``bulk_detect``: detected and recorded)."""
        return self._count("added")

    @property
    def skipped(self) -> int:
        """How many items were skipped (see ``SkipReason``)."""
        return self._count("skipped")

    @property
    def failed(self) -> int:
        """How many items failed; running again with the same journal retries them."""
        return self._count("failed")

    @property
    def recovered(self) -> int:
        """How many in-doubt adds were found already applied on the service."""
        return sum(1 for item in self.items if item.recovered)

    def _count(self, status: ItemStatus) -> int:
        return sum(1 for item in self.items if item.status == status)

    def by_status(self) -> dict[ItemStatus, list[BulkItemResult]]:
        """The results grouped by status (every status present, possibly empty)."""
        grouped: dict[ItemStatus, list[BulkItemResult]] = {status: [] for status in _STATUSES}
        for item in self.items:
            grouped[item.status].append(item)
        return grouped

    def raise_for_failures(self) -> BulkReport:
        """Raise ``BulkFailedError`` if any item failed; else return the report."""
        if self.failed:
            raise BulkFailedError(self)
        return self

    def __repr__(self) -> str:
        return (
            f"BulkReport(batch_id={self.batch_id!r}, items={len(self.items)}, "
            f"added={self.added}, skipped={self.skipped}, failed={self.failed}, "
            f"recovered={self.recovered})"
        )
