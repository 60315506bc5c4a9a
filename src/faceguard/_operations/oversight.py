"""``client.oversight``: the recognition operations, returning provisional results (R11).

The same twelve operations as ``client.recognition``, and the result read of a
liveness-with-verify session (``client.liveness.get_with_verify_session_result``: its verify
match is a 1:1 decision too), with the same arguments, REST routes and guard checks, for use
cases whose results decide about people (the table in the guard's ``_oversight`` module):
each returns a ``Provisional`` (``AsyncProvisional`` on async clients) to be confirmed by one
reviewer, or two for remote identification, before anyone acts on it. Under such a use case
``client.recognition`` and ``client.liveness`` refuse these calls
(``OversightError(reason="oversight_required")``), so no bare result reaches the caller.

A client may also use ``client.oversight`` where the table asks for no review: its results
then need one reviewer. Either way the client needs an audit log, where the outcome of the
call (whose hash is the decision id) and every review are recorded; without one the call is
refused before it is sent (``OversightError(reason="audit_required")``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from .._exceptions import AuditError, OversightError
from .._guard._oversight import OversightCall, in_oversight
from . import liveness, recognition
from ._provisional import AsyncProvisional, AsyncReview, Provisional, Review, resume
from ._shell import AsyncGroup, SyncGroup, _Operation

if TYPE_CHECKING:
    from .._guard._audit import AuditLog
    from .._guard._engine import Guard
    from .._transport._async import AsyncTransport
    from .._transport._spec import RequestSpec
    from .._transport._sync import SyncTransport

__all__ = ["AsyncOversight", "Oversight", "areview", "review"]

P = ParamSpec("P")
T = TypeVar("T")
O = TypeVar("O")  # noqa: E741 (the outcome's type)


def _prepare(
    guard: Guard, spec: RequestSpec[Any], operation: str | None
) -> tuple[str, AuditLog, OversightCall]:
    """The operation, the log its review goes to, and the call marker; refuses (before any
    I/O) a client without an audit log."""
    operation = operation or spec.guard.consent_operation or ""
    log = guard.policy.audit
    if log is None:
        raise OversightError(
            "audit_required",
            "human oversight records each decision and review in the audit trail: build the "
            "client with guard=GuardPolicy(audit=AuditLog(...))",
        )
    call = OversightCall()
    call.reviewers = guard.review.get(operation) or 1
    return operation, log, call


def _decision(call: OversightCall) -> Any:
    if call.record is None:  # pragma: no cover - the guard writes it for every such call
        raise AuditError(
            "the outcome of the call was not recorded, so it cannot be reviewed",
            reason="write_failed",
            request_sent=True,
        )
    return call.record


def _sync(
    builder: Callable[P, RequestSpec[T]],
    outcome: type[O],  # noqa: ARG001 (read by type checkers only)
    operation: str | None = None,
) -> _Operation[P, Provisional[T, O]]:
    """A method sending ``builder``'s request under oversight; ``outcome`` is the type a
    reviewer's outcome has (for type checkers: ``confirm`` takes and returns it)."""

    def execute(transport: SyncTransport, spec: RequestSpec[T]) -> Provisional[T, O]:
        kind, log, call = _prepare(transport.guard, spec, operation)
        token = in_oversight.set(call)
        try:
            result = transport.send(spec)
        finally:
            in_oversight.reset(token)
        return Provisional(
            result,
            operation=kind,
            decision=_decision(call),
            required=call.reviewers,
            log=log,
        )

    return _Operation(builder, execute, coroutine=False, returns="Provisional[{}]")


def _async(
    builder: Callable[P, RequestSpec[T]],
    outcome: type[O],  # noqa: ARG001 (read by type checkers only)
    operation: str | None = None,
) -> _Operation[P, Coroutine[Any, Any, AsyncProvisional[T, O]]]:
    """As ``_sync``, for async clients."""

    async def execute(transport: AsyncTransport, spec: RequestSpec[T]) -> AsyncProvisional[T, O]:
        kind, log, call = _prepare(transport.guard, spec, operation)
        # The guard's steps run in a worker thread with a copy of this context: the marker
        # object is shared, so the outcome record the guard puts on it is seen here.
        token = in_oversight.set(call)
        try:
            result = await transport.send(spec)
        finally:
            in_oversight.reset(token)
        return AsyncProvisional(
            result,
            operation=kind,
            decision=_decision(call),
            required=call.reviewers,
            log=log,
        )

    return _Operation(builder, execute, coroutine=True, returns="AsyncProvisional[{}]")


# What a reviewer's outcome is, per operation (see _provisional): for type checkers.
_PERSONS = cast("type[Sequence[str | None]]", Sequence)
_FACES = cast("type[Sequence[str]]", Sequence)
_GROUPS = cast("type[Sequence[Sequence[str]]]", Sequence)


def review(guard: Guard, decision_id: str) -> Review[Any]:
    """``FaceClient.review``: the decision's review, resumed from the guard's audit log."""
    return resume(_log_of(guard), decision_id, Review[Any])


async def areview(guard: Guard, decision_id: str) -> AsyncReview[Any]:
    """``AsyncFaceClient.review``: as ``review``, the log read in a worker thread."""
    import asyncio

    log = _log_of(guard)
    return await asyncio.to_thread(resume, log, decision_id, AsyncReview[Any])


def _log_of(guard: Guard) -> AuditLog:
    log = guard.policy.audit
    if log is None:
        raise OversightError(
            "audit_required",
            "reviews are recorded in the audit trail: build the client with "
            "guard=GuardPolicy(audit=AuditLog(...)) on the log the decision is in",
        )
    return log


class Oversight(SyncGroup):
    """Verify, identify, find-similar and group with human review (``client.oversight``).

    Each method takes the arguments of its ``client.recognition`` namesake and returns a
    ``Provisional``: ``decision_id``, ``provisional`` (the service's answer, for the reviewer)
    and ``confirm(reviewer_id, outcome)``.
    """

    verify_face_to_face = _sync(recognition.verify_face_to_face, bool)
    verify_from_person_group = _sync(recognition.verify_from_person_group, bool)
    verify_from_large_person_group = _sync(recognition.verify_from_large_person_group, bool)
    verify_from_person_directory = _sync(recognition.verify_from_person_directory, bool)
    identify_from_person_group = _sync(recognition.identify_from_person_group, _PERSONS)
    identify_from_large_person_group = _sync(recognition.identify_from_large_person_group, _PERSONS)
    identify_from_person_directory = _sync(recognition.identify_from_person_directory, _PERSONS)
    identify_from_dynamic_person_group = _sync(
        recognition.identify_from_dynamic_person_group, _PERSONS
    )
    find_similar = _sync(recognition.find_similar, _FACES)
    find_similar_from_face_list = _sync(recognition.find_similar_from_face_list, _FACES)
    find_similar_from_large_face_list = _sync(recognition.find_similar_from_large_face_list, _FACES)
    group = _sync(recognition.group, _GROUPS)
    # The verify result of a liveness-with-verify session is a 1:1 match: outcome a bool.
    get_with_verify_session_result = _sync(liveness.get_with_verify_session_result, bool, "verify")


class AsyncOversight(AsyncGroup):
    """Verify, identify, find-similar and group with human review (``client.oversight``);
    see ``Oversight``. Results are ``AsyncProvisional``: ``await result.confirm(...)``."""

    verify_face_to_face = _async(recognition.verify_face_to_face, bool)
    verify_from_person_group = _async(recognition.verify_from_person_group, bool)
    verify_from_large_person_group = _async(recognition.verify_from_large_person_group, bool)
    verify_from_person_directory = _async(recognition.verify_from_person_directory, bool)
    identify_from_person_group = _async(recognition.identify_from_person_group, _PERSONS)
    identify_from_large_person_group = _async(
        recognition.identify_from_large_person_group, _PERSONS
    )
    identify_from_person_directory = _async(recognition.identify_from_person_directory, _PERSONS)
    identify_from_dynamic_person_group = _async(
        recognition.identify_from_dynamic_person_group, _PERSONS
    )
    find_similar = _async(recognition.find_similar, _FACES)
    find_similar_from_face_list = _async(recognition.find_similar_from_face_list, _FACES)
    find_similar_from_large_face_list = _async(
        recognition.find_similar_from_large_face_list, _FACES
    )
    group = _async(recognition.group, _GROUPS)
    get_with_verify_session_result = _async(liveness.get_with_verify_session_result, bool, "verify")
