"""The retention sweeper (GUARD.md §4.6): ``client.retention.due()`` and ``.sweep()``.

Persisted faces never expire on the service; the deployer must delete each person or face
once its retention ends (R07, R27). The guard store knows, for everything enrolled through
the guard, the deadline's ingredients (``_guard._retention``); ``due()`` lists what is past
its ``destroy_by`` and ``sweep()`` deletes it through the client's ordinary, guarded delete
operations (``DELETE .../persons/{personId}``, which deletes the person's faces too, or
``DELETE .../persistedfaces/{persistedFaceId}`` for a face list), so each deletion is the
usual always-allowed, audited erasure. For each one the sweep also writes a ``deletion``
record with the service's receipt (its ``apim-request-id``), the deadline and the rule that
set it.

Nothing is lost when a sweep stops halfway (a crash, a lost connection): an item leaves the
store's books only once the service confirmed its deletion, so running the sweep again
deletes the rest. An item the service no longer has (deleted by a sweep that stopped before
it could record it) is recorded as gone and dropped from the books. Person Directory persons
have no delete operation in the v1.2 GA API: they are reported as not erasable, never
skipped silently.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from .._exceptions import AuditError, FaceGuardError, NotFoundError
from .._guard._retention import RetentionDue
from .._transport._spec import RawResponse, RequestSpec
from ._kinds import FACE_LISTS, LARGE_FACE_LISTS, LARGE_PERSON_GROUPS, PERSON_GROUPS

if TYPE_CHECKING:
    from .._guard._engine import Guard
    from .._transport._async import AsyncTransport
    from .._transport._sync import SyncTransport

__all__ = ["AsyncRetentionSweeper", "RetentionSweeper", "SweepReport"]

_DELETE: dict[str, Callable[[str, str], RequestSpec[None]]] = {
    "personGroup": PERSON_GROUPS.delete_person,
    "largePersonGroup": LARGE_PERSON_GROUPS.delete_person,
    "faceList": FACE_LISTS.delete_face,
    "largeFaceList": LARGE_FACE_LISTS.delete_face,
}


@dataclass(frozen=True)
class _Receipt:
    """What a retention deletion returns instead of ``None``: the response's request ids,
    where the guard's deletion record reads them (``_support``)."""

    _support: SimpleNamespace


def _with_receipt(spec: RequestSpec[None]) -> RequestSpec[Any]:
    def parse(raw: RawResponse) -> _Receipt:
        request_id = raw.headers.get("apim-request-id")
        return _Receipt(SimpleNamespace(request_id=request_id, client_request_id=None))

    return dataclasses.replace(spec, parse=parse)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did.

    ``deleted``: items the service deleted now, with ``receipts`` (their ``apim-request-id``,
    in the same order); ``already_gone``: items the service no longer had; ``not_erasable``:
    Person Directory persons (no GA delete operation); ``failed``: items whose deletion
    failed (still due: the next sweep tries again), with the error's type in ``errors``.
    """

    deleted: list[RetentionDue] = field(default_factory=list)
    receipts: list[str | None] = field(default_factory=list)
    already_gone: list[RetentionDue] = field(default_factory=list)
    not_erasable: list[RetentionDue] = field(default_factory=list)
    failed: list[RetentionDue] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether everything due was deleted (or was gone already)."""
        return not self.failed and not self.not_erasable


def _record(
    guard: Guard, due: RetentionDue, spec: RequestSpec[Any], receipt: str | None, note: str
) -> None:
    """The sweep's own deletion record: which rule's deadline passed, and the receipt."""
    log = guard.policy.audit
    if log is None:
        return
    log.record(
        "deletion",
        operation="RetentionSweep",
        route=f"{spec.method} {spec.route}",
        decision="allowed",
        rule="R07 retention",
        reason=f"retention ended ({due.basis}){note}",
        request_id=receipt,
        details={"destroy_by": round(due.destroy_by), "kind": due.kind},
    )


def _gone(guard: Guard, due: RetentionDue, spec: RequestSpec[Any]) -> None:
    """The service no longer has the item: drop it from the books, and say so."""
    guard.ledger.forget_person(due.kind, due.container_id, due.item_id)
    guard.retention.forget(due.kind, due.container_id, due.item_id)
    _record(guard, due, spec, None, "; the service no longer had it")


def _finish(report: SweepReport, unrecorded: AuditError | None) -> SweepReport:
    if unrecorded is None:
        return report
    raise AuditError(
        f"the sweep deleted {len(report.deleted)} item(s) but the audit log could not record "
        f"all of it: {unrecorded}",
        reason=unrecorded.reason,
        request_sent=True,
    ) from unrecorded


class RetentionSweeper:
    """``client.retention`` of a ``FaceClient``: what retention says must go, and its deletion."""

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    def due(self, *, at: float | None = None) -> list[RetentionDue]:
        """Persons and face-list faces whose ``destroy_by`` is at or before ``at`` (seconds
        since the epoch; default: now, on the guard policy's clock), earliest first.

        ``destroy_by`` is the earliest of the enrollment token's ``ret.until``, the subject's
        withdrawal, and the declared jurisdictions' rules (e.g. US-IL: three years after the
        last successful match). Only what was enrolled through a guarded client (or recorded
        with ``ConsentLedger.enroll``) is known.
        """
        return self._transport.guard.retention.due(at=at)

    def sweep(self) -> SweepReport:
        """Delete everything ``due()`` lists now, through the guarded delete operations.
        (No ``at=``: what is not due yet is never deleted early by a mistyped date.)

        REST: ``DELETE .../persons/{personId}`` or ``DELETE .../persistedfaces/{id}`` per
        item. Each deletion is audited twice: the guard's erasure record and the sweep's
        ``deletion`` record with the receipt. Failures are reported, not raised, and the
        rest is swept; ``AuditError`` (after the whole sweep) when the log missed a record.
        Safe to run again after an interruption: it finishes what is left.
        """
        guard = self._transport.guard
        report = SweepReport()
        unrecorded: AuditError | None = None
        for due in guard.retention.due():
            make = _DELETE.get(due.kind)
            if make is None:
                report.not_erasable.append(due)
                continue
            spec = _with_receipt(make(due.container_id, due.item_id))
            try:
                receipt = self._transport.send(spec)
            except NotFoundError:
                _gone(guard, due, spec)
                report.already_gone.append(due)
                continue
            except AuditError as failure:  # sent, not evidenced: keep sweeping
                unrecorded = unrecorded or failure
                report.failed.append(due)
                report.errors.append(type(failure).__name__)
                continue
            except FaceGuardError as failure:
                report.failed.append(due)
                report.errors.append(type(failure).__name__)
                continue
            request_id = receipt._support.request_id
            report.deleted.append(due)
            report.receipts.append(request_id)
            try:
                _record(guard, due, spec, request_id, "")
            except AuditError as failure:
                unrecorded = unrecorded or failure
        return _finish(report, unrecorded)

    def __repr__(self) -> str:
        return "RetentionSweeper()"


class AsyncRetentionSweeper:
    """``client.retention`` of an ``AsyncFaceClient``: as ``RetentionSweeper``, awaited.

    Store reads and audit writes run in a worker thread when the guard's store or log may
    block (SQLite, Redis, an audit file), so the event loop keeps serving other calls."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    async def _off_loop(self, call: Callable[[], Any]) -> Any:
        if self._transport.guard.blocking:
            return await asyncio.to_thread(call)
        return call()

    async def due(self, *, at: float | None = None) -> list[RetentionDue]:
        """See ``RetentionSweeper.due``."""
        guard = self._transport.guard
        found: list[RetentionDue] = await self._off_loop(lambda: guard.retention.due(at=at))
        return found

    async def sweep(self) -> SweepReport:
        """See ``RetentionSweeper.sweep``."""
        guard = self._transport.guard
        report = SweepReport()
        unrecorded: AuditError | None = None
        for due in await self.due():
            make = _DELETE.get(due.kind)
            if make is None:
                report.not_erasable.append(due)
                continue
            spec = _with_receipt(make(due.container_id, due.item_id))
            try:
                receipt = await self._transport.send(spec)
            except NotFoundError:
                await self._off_loop(functools.partial(_gone, guard, due, spec))
                report.already_gone.append(due)
                continue
            except AuditError as failure:
                unrecorded = unrecorded or failure
                report.failed.append(due)
                report.errors.append(type(failure).__name__)
                continue
            except FaceGuardError as failure:
                report.failed.append(due)
                report.errors.append(type(failure).__name__)
                continue
            request_id = receipt._support.request_id
            report.deleted.append(due)
            report.receipts.append(request_id)
            try:
                await self._off_loop(functools.partial(_record, guard, due, spec, request_id, ""))
            except AuditError as failure:
                unrecorded = unrecorded or failure
        return _finish(report, unrecorded)

    def __repr__(self) -> str:
        return "AsyncRetentionSweeper()"
