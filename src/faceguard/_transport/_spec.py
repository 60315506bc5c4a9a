"""What an operation asks the transport to do, as plain data.

Every operation is written once as a pure builder returning one of these specs; the sync and
async shells only send them. Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Generic, Literal, TypeVar

from .._wire_enum import WireEnum

__all__ = [
    "GuardCheck",
    "GuardInfo",
    "PageSpec",
    "RawResponse",
    "RequestSpec",
    "Service",
    "TrainSpec",
]

T = TypeVar("T")

Service = Literal["face", "contentsafety"]


class GuardCheck(WireEnum):
    """Responsible-use checks an operation needs; the guard layer enforces them."""

    ATTRIBUTES = "attributes"
    """The request names face attributes: only allowed ones may pass."""
    FACE_ID_ISSUE = "face_id_issue"
    """The response creates faceIds (a biometric template): consent and TTL bookkeeping."""
    FACE_ID_USE = "face_id_use"
    """The request uses faceIds: they must be known, unexpired and of one recognition model."""
    RECOGNITION = "recognition"
    """Verify, identify, group or find-similar: consent and declared use case."""
    ENROLLMENT = "enrollment"
    """A face is stored in a person or a list: consent."""
    ERASURE = "erasure"
    """A person, face or container is deleted: always allowed, audited."""
    LIVENESS = "liveness"
    """A liveness session is created: device correlation id and session caps."""


@dataclass(frozen=True, init=False)
class GuardInfo:
    """What the guard needs to decide about one call, filled in by the call's builder.

    Frozen; ``__init__`` is written out (same parameters, order and defaults as the generated
    one) because the generated one of a frozen dataclass sets each field through
    ``object.__setattr__``, which costs more than the rest of a builder.
    """

    consent_operation: str | None = None
    """The consent operation the call needs (``verify``, ``identify``, ``enroll``...)."""
    use_case_operation: str | None = None
    """The operation the declared use case must permit; defaults to ``consent_operation``
    (``liveness`` for session creation, which needs no consent)."""
    container_kind: str | None = None
    """``personGroup``, ``largePersonGroup``, ``faceList``, ``largeFaceList``,
    ``personDirectory`` or ``dynamicPersonGroup``."""
    container_id: str | None = None
    person_id: str | None = None
    face_ids: tuple[str, ...] = field(default=(), repr=False)
    """faceIds the request uses; checked against the registry."""
    detection_model: str | None = None
    recognition_model: str | None = None
    """For detect: the models of the faceIds it creates; for create: the container's model."""
    face_id_ttl: int | None = None
    device_correlation_id: str | None = field(default=None, repr=False)
    consent: str | None = field(default=None, repr=False)
    """The caller's consent token: a bearer credential, never in a repr or a log."""
    override: object | None = None
    """An ``Override`` of a soft rule, with its reason."""
    source_id: str | None = None
    """The source (camera, kiosk, door) the call's image comes from, as the caller names it:
    what the R17 tracking caps count by (``_guard._tracking``)."""

    def __init__(
        self,
        consent_operation: str | None = None,
        use_case_operation: str | None = None,
        container_kind: str | None = None,
        container_id: str | None = None,
        person_id: str | None = None,
        face_ids: tuple[str, ...] = (),
        detection_model: str | None = None,
        recognition_model: str | None = None,
        face_id_ttl: int | None = None,
        device_correlation_id: str | None = None,
        consent: str | None = None,
        override: object | None = None,
        source_id: str | None = None,
    ) -> None:
        vars(self).update(
            consent_operation=consent_operation,
            use_case_operation=use_case_operation,
            container_kind=container_kind,
            container_id=container_id,
            person_id=person_id,
            face_ids=face_ids,
            detection_model=detection_model,
            recognition_model=recognition_model,
            face_id_ttl=face_id_ttl,
            device_correlation_id=device_correlation_id,
            consent=consent,
            override=override,
            source_id=source_id,
        )

    @property
    def operation_for_use_case(self) -> str | None:
        return self.use_case_operation or self.consent_operation


_OK = frozenset({200})


@dataclass(frozen=True)
class RawResponse:
    """The parts of an HTTP response a parser may read."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


@dataclass(frozen=True, init=False)
class RequestSpec(Generic[T]):
    """One REST call, fully described: a pure value built before any I/O.

    Frozen, with a written-out ``__init__`` like ``GuardInfo`` (one spec per call);
    ``path_params``, ``query`` and ``guard`` default to a new empty dict / ``GuardInfo()``.
    """

    operation: str
    """REST operation id from the spec, e.g. ``FaceDetectionOperations_Detect``."""
    method: str
    route: str
    """Route template as written in the spec, e.g. ``/persongroups/{personGroupId}``."""
    parse: Callable[[RawResponse], T]
    service: Service = "face"
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    # Bodies hold faceIds and image bytes: never in a repr, which may reach a log.
    json: object | None = field(default=None, repr=False)
    content: bytes | None = field(default=None, repr=False)
    content_type: str | None = None
    accept: str = "application/json"
    idempotent: bool = True
    """Safe to resend after the server may have applied it (reads, deletes, PUT by id,
    pure computations). Creates with server-assigned ids and adds are not."""
    guard_checks: frozenset[GuardCheck] = frozenset()
    success_status: frozenset[int] = _OK
    session_id: str | None = None
    """Liveness session the call concerns, for support info."""
    guard: GuardInfo = field(default_factory=GuardInfo)

    def __init__(
        self,
        operation: str,
        method: str,
        route: str,
        parse: Callable[[RawResponse], T],
        service: Service = "face",
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        json: object | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
        accept: str = "application/json",
        idempotent: bool = True,
        guard_checks: frozenset[GuardCheck] = frozenset(),
        success_status: frozenset[int] = _OK,
        session_id: str | None = None,
        guard: GuardInfo | None = None,
    ) -> None:
        vars(self).update(
            operation=operation,
            method=method,
            route=route,
            parse=parse,
            service=service,
            path_params={} if path_params is None else path_params,
            query={} if query is None else query,
            json=json,
            content=content,
            content_type=content_type,
            accept=accept,
            idempotent=idempotent,
            guard_checks=guard_checks,
            success_status=success_status,
            session_id=session_id,
            guard=GuardInfo() if guard is None else guard,
        )

    def with_query(self, **updates: str) -> RequestSpec[T]:
        """A copy with some query parameters replaced (used by pagination)."""
        return replace(self, query={**self.query, **updates})


@dataclass(frozen=True)
class PageSpec(Generic[T]):
    """A paged list: the first request, and how to derive the next one from a page.

    ``next_request`` receives the request that produced a page and the page's items plus
    its continuation marker; it returns ``None`` when there are no more pages.
    """

    first: RequestSpec[tuple[list[T], str | None]]
    next_request: Callable[
        [RequestSpec[tuple[list[T], str | None]], list[T], str | None],
        RequestSpec[tuple[list[T], str | None]] | None,
    ]


@dataclass(frozen=True)
class TrainSpec(Generic[T]):
    """A training long-running operation: the POST that starts it and the GET that polls it."""

    start: RequestSpec[None]
    status: RequestSpec[tuple[T, float | None]]
    """Parses into the training status and the server's ``Retry-After`` in seconds, if any."""
