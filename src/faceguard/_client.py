"""The four clients: ``FaceClient`` / ``AsyncFaceClient`` and ``ContentSafetyClient`` /
``AsyncContentSafetyClient``.

A client resolves its configuration once, owns one transport (one connection pool), and exposes
the operation groups as attributes. Everything an operation does is in ``_operations``; the
clients only wire it together.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from ._config import resolve_config
from ._credentials import TokenAuth, TokenCredential
from ._exceptions import AuditError, ConfigurationError
from ._guard._engine import Guard
from ._guard._policy import GuardPolicy
from ._operations import content_safety
from ._operations._groups import (
    AsyncBlocklists,
    AsyncDetection,
    AsyncFaceLists,
    AsyncLargeFaceLists,
    AsyncLargePersonGroups,
    AsyncLiveness,
    AsyncPersonGroups,
    AsyncRecognition,
    Blocklists,
    Detection,
    FaceLists,
    LargeFaceLists,
    LargePersonGroups,
    Liveness,
    PersonGroups,
    Recognition,
)
from ._operations._shell import AsyncGroup, SyncGroup, async_call, sync_call
from ._operations.erasure import ErasurePlan, plan_erasure
from ._operations.oversight import AsyncOversight, Oversight, areview, review
from ._operations.retention import AsyncRetentionSweeper, RetentionSweeper
from ._ratelimit._limiter import RateLimiter
from ._transport._async import AsyncTransport
from ._transport._retry import RetryPolicy
from ._transport._spec import Service
from ._transport._sync import SyncTransport

if TYPE_CHECKING:
    import httpx
    from typing_extensions import Self

    from ._operations._provisional import AsyncReview, Review

__all__ = ["AsyncContentSafetyClient", "AsyncFaceClient", "ContentSafetyClient", "FaceClient"]


def _limiter(rate_limit: RateLimiter | float | None) -> RateLimiter | None:
    if rate_limit is None or isinstance(rate_limit, RateLimiter):
        return rate_limit
    return RateLimiter(rate_limit)  # refuses anything but a positive, finite rate (typed)


def _guard(policy: GuardPolicy | None, endpoint: str) -> Guard:
    if policy is not None and not isinstance(policy, GuardPolicy):
        raise ConfigurationError(f"guard must be a GuardPolicy, not {type(policy).__name__}")
    return Guard(policy, endpoint=endpoint)


def _dispute(guard: Guard, decision_id: str, reason: str) -> str:
    from ._exceptions import OversightError
    from ._guard._review import record_dispute

    log = guard.policy.audit
    if log is None:
        raise OversightError(
            "audit_required",
            "disputes are recorded in the audit trail, next to the decision: build the client "
            "with guard=GuardPolicy(audit=AuditLog(...)) on the log the decision is in",
        )
    return record_dispute(log, decision_id, reason).hash


class _SyncClient(SyncGroup):
    """The sync shell: one constructor for both services; subclasses attach their groups."""

    _service: ClassVar[Service]

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        api_key: str | None = None,
        credential: TokenCredential | None = None,
        timeout: float | httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        guard: GuardPolicy | None = None,
        rate_limit: RateLimiter | float | None = None,
    ) -> None:
        """Resolve the configuration once (argument, then environment variable, then default)
        and open one connection pool.

        Args:
            endpoint: ``https://<resource>.cognitiveservices.azure.com``. Default:
                ``FACEGUARD_ENDPOINT``; the Content Safety clients read
                ``FACEGUARD_CONTENT_SAFETY_ENDPOINT`` first. Plain ``http://`` only on
                loopback (``faceguard emulator serve``).
            api_key: the resource key, sent as ``Ocp-Apim-Subscription-Key``. Default:
                ``FACEGUARD_API_KEY`` (``FACEGUARD_CONTENT_SAFETY_API_KEY`` first for Content
                Safety). Give either a key or a ``credential``, not both.
            credential: Microsoft Entra ID instead of a key: any object with
                ``get_token(*scopes)``, such as an ``azure.identity`` credential (faceguard does
                not depend on it). Tokens for ``https://cognitiveservices.azure.com/.default``
                are refreshed before they expire.
            timeout: seconds per attempt, or an ``httpx.Timeout``. Default: 5 s to connect,
                60 s per read.
            retry: how failed attempts are retried (``RetryPolicy``);
                ``RetryPolicy(max_attempts=1)`` turns retries off.
            http_client: an ``httpx.Client`` to send through instead of creating one; the guard
                wraps its transports, and faceguard does not close it.
            transport: an httpx transport for the client faceguard creates, e.g. the
                emulator's ``Emulator().transport()``.
            sleep: how to wait between retries and training polls (a test hook: a fake clock's
                ``advance`` makes nothing really sleep).
            clock: a monotonic clock in seconds for polling timeouts (a test hook).
            guard: the responsible-use policy (``GuardPolicy``): declared use case, consent
                verifier, store, audit trail. Without one, detection without faceIds works and
                every recognition or enrollment is refused.
            rate_limit: a ``RateLimiter`` (give it a SQLite or Redis store to share one budget
                across processes or machines), or a number of requests per second for a
                private one. Every attempt waits for a slot, and 429s lower the rate for a
                while. ``None``: no client-side limit.

        Raises:
            ConfigurationError: no endpoint, no key or credential, both, or an
                ``http_client`` faceguard cannot guard.
        """
        config = resolve_config(
            self._service,
            endpoint=endpoint,
            api_key=api_key,
            credential=credential,
            timeout=timeout,
            retry=retry,
        )
        if isinstance(config.auth, TokenAuth):
            config.auth.check_sync()
        super().__init__(
            SyncTransport(
                config,
                http_client=http_client,
                transport=transport,
                guard=_guard(guard, config.endpoint),
                limiter=_limiter(rate_limit),
                sleep=sleep or time.sleep,
                clock=clock or time.monotonic,
            )
        )
        self._attach_groups()

    def _attach_groups(self) -> None:
        """Create the operation groups on ``self._transport``."""

    def close(self) -> None:
        """Close the connection pool (if the client created it)."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self._transport.config.endpoint!r})"


class _AsyncClient(AsyncGroup):
    """The async shell: one constructor for both services; subclasses attach their groups."""

    _service: ClassVar[Service]

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        api_key: str | None = None,
        credential: TokenCredential | None = None,
        timeout: float | httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
        guard: GuardPolicy | None = None,
        rate_limit: RateLimiter | float | None = None,
    ) -> None:
        """Resolve the configuration once (argument, then environment variable, then default)
        and open one connection pool.

        Args:
            endpoint: ``https://<resource>.cognitiveservices.azure.com``. Default:
                ``FACEGUARD_ENDPOINT``; the Content Safety clients read
                ``FACEGUARD_CONTENT_SAFETY_ENDPOINT`` first. Plain ``http://`` only on
                loopback (``faceguard emulator serve``).
            api_key: the resource key, sent as ``Ocp-Apim-Subscription-Key``. Default:
                ``FACEGUARD_API_KEY`` (``FACEGUARD_CONTENT_SAFETY_API_KEY`` first for Content
                Safety). Give either a key or a ``credential``, not both.
            credential: Microsoft Entra ID instead of a key: any object with
                ``get_token(*scopes)``, such as an ``azure.identity`` credential (faceguard does
                not depend on it). Tokens for ``https://cognitiveservices.azure.com/.default``
                are refreshed before they expire.
            timeout: seconds per attempt, or an ``httpx.Timeout``. Default: 5 s to connect,
                60 s per read.
            retry: how failed attempts are retried (``RetryPolicy``);
                ``RetryPolicy(max_attempts=1)`` turns retries off.
            http_client: an ``httpx.AsyncClient`` to send through instead of creating one; the guard
                wraps its transports, and faceguard does not close it.
            transport: an httpx transport for the client faceguard creates, e.g. the
                emulator's ``Emulator().transport()``.
            sleep: an async function awaited between retries and training polls (a test hook).
            clock: a monotonic clock in seconds for polling timeouts (a test hook).
            guard: the responsible-use policy (``GuardPolicy``): declared use case, consent
                verifier, store, audit trail. Without one, detection without faceIds works and
                every recognition or enrollment is refused.
            rate_limit: a ``RateLimiter`` (give it a SQLite or Redis store to share one budget
                across processes or machines), or a number of requests per second for a
                private one. Every attempt waits for a slot, and 429s lower the rate for a
                while. ``None``: no client-side limit.

        Raises:
            ConfigurationError: no endpoint, no key or credential, both, or an
                ``http_client`` faceguard cannot guard.
        """
        config = resolve_config(
            self._service,
            endpoint=endpoint,
            api_key=api_key,
            credential=credential,
            timeout=timeout,
            retry=retry,
        )
        super().__init__(
            AsyncTransport(
                config,
                http_client=http_client,
                transport=transport,
                guard=_guard(guard, config.endpoint),
                limiter=_limiter(rate_limit),
                sleep=sleep,
                clock=clock or time.monotonic,
            )
        )
        self._attach_groups()

    def _attach_groups(self) -> None:
        """Create the operation groups on ``self._transport``."""

    async def aclose(self) -> None:
        """Close the connection pool (if the client created it)."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self._transport.config.endpoint!r})"


class FaceClient(_SyncClient):
    """A client of the Azure AI Face API v1.2 (sync).

    The operations are grouped as the REST API is: ``detection``, ``recognition``,
    ``face_lists``, ``large_face_lists``, ``person_groups``, ``large_person_groups`` and
    ``liveness``; ``oversight`` holds the recognition operations whose results a person
    confirms (R11, ``Provisional``); ``retention`` lists and deletes what retention says must
    go (GUARD.md §4.6). Use it as a context manager, or call ``close()``.
    """

    _service = "face"

    def erase_subject(self, subject: str) -> ErasurePlan:
        """Withdraw a subject's consent at once, then delete every person and face enrolled
        under it (as recorded in the consent ledger).

        REST: ``DELETE .../persons/{personId}`` and ``DELETE .../persistedfaces/{id}`` per
        entry. Guard checks: erasure is always allowed; the withdrawal and each deletion are
        audited. With a broken audit log every deletion is still sent, then
        ``AuditError(request_sent=True)`` is raised. Returns the plan, including entries the
        GA API cannot delete.
        """
        plan = plan_erasure(self._transport.guard, subject)
        unrecorded: AuditError | None = None
        sent = 0
        for spec in plan.deletions:
            try:
                self._transport.send(spec)
            except AuditError as failure:  # a deletion is never blocked: erase the rest
                unrecorded = unrecorded or failure
                sent += failure.request_sent
            else:
                sent += 1
        return plan.finish(unrecorded, sent=sent)

    def dispute(self, decision_id: str, reason: str) -> str:
        """Record that a person disputes a recognition decision (R22, feedback channels).

        ``decision_id`` is the ``decision_id`` of the provisional result the decision came
        from; ``reason`` says what is disputed (written to the audit trail under its content
        rules: no images, ids or keys; do not put names in it). The dispute is linked to the
        decision in the audit chain; ``faceguard audit show --decision ID`` prints both.
        Returns the dispute record's id. Raises ``OversightError``: ``audit_required`` (the
        client has no audit log), ``unknown_decision`` (this client's log holds no such
        decision: an id made up, mistyped or from another log); ``AuditError`` when the log
        cannot take the record.
        """
        return _dispute(self._transport.guard, decision_id, reason)

    def review(self, decision_id: str) -> Review[Any]:
        """The review of a decision under oversight, resumed from this client's audit log:
        for a reviewer in another process than the one that made the call (which has
        closed the log: it has one writer), or a later session.

        The first review must have been made on the provisional result itself, where the
        outcome is checked against the service's answer; ``confirm`` here then takes only
        outcomes that agree with it, from reviewers not yet counted. Raises
        ``OversightError``: ``audit_required``, ``unknown_decision`` (not a decision of this
        log that asked for review), ``first_review``; ``InvalidInputError`` for a malformed
        id.
        """
        return review(self._transport.guard, decision_id)

    def _attach_groups(self) -> None:
        self.detection = Detection(self._transport)
        self.recognition = Recognition(self._transport)
        self.oversight = Oversight(self._transport)
        self.face_lists = FaceLists(self._transport)
        self.large_face_lists = LargeFaceLists(self._transport)
        self.person_groups = PersonGroups(self._transport)
        self.large_person_groups = LargePersonGroups(self._transport)
        self.liveness = Liveness(self._transport)
        self.retention = RetentionSweeper(self._transport)


class AsyncFaceClient(_AsyncClient):
    """A client of the Azure AI Face API v1.2 (async).

    The same operation groups and method names as ``FaceClient``, to ``await`` (list methods
    return async pagers). Use it as an async context manager, or call ``aclose()``.
    """

    _service = "face"

    async def erase_subject(self, subject: str) -> ErasurePlan:
        """Withdraw a subject's consent at once, then delete every person and face enrolled
        under it; see ``FaceClient.erase_subject``.

        REST: ``DELETE .../persons/{personId}`` and ``DELETE .../persistedfaces/{id}`` per
        entry. Guard checks: erasure is always allowed, and audited.
        """
        plan = plan_erasure(self._transport.guard, subject)
        unrecorded: AuditError | None = None
        sent = 0
        for spec in plan.deletions:
            try:
                await self._transport.send(spec)
            except AuditError as failure:  # a deletion is never blocked: erase the rest
                unrecorded = unrecorded or failure
                sent += failure.request_sent
            else:
                sent += 1
        return plan.finish(unrecorded, sent=sent)

    async def dispute(self, decision_id: str, reason: str) -> str:
        """Record that a person disputes a recognition decision; see
        ``FaceClient.dispute``. The log is read and written in a worker thread."""
        import asyncio

        return await asyncio.to_thread(_dispute, self._transport.guard, decision_id, reason)

    async def review(self, decision_id: str) -> AsyncReview[Any]:
        """The review of a decision under oversight, resumed from this client's audit log;
        see ``FaceClient.review``. The log is read in a worker thread."""
        return await areview(self._transport.guard, decision_id)

    def _attach_groups(self) -> None:
        self.detection = AsyncDetection(self._transport)
        self.recognition = AsyncRecognition(self._transport)
        self.oversight = AsyncOversight(self._transport)
        self.face_lists = AsyncFaceLists(self._transport)
        self.large_face_lists = AsyncLargeFaceLists(self._transport)
        self.person_groups = AsyncPersonGroups(self._transport)
        self.large_person_groups = AsyncLargePersonGroups(self._transport)
        self.liveness = AsyncLiveness(self._transport)
        self.retention = AsyncRetentionSweeper(self._transport)


class ContentSafetyClient(_SyncClient):
    """A client of Azure AI Content Safety 2024-09-01: text blocklists and text analysis (sync).

    ``blocklists`` holds the blocklist operations; ``analyze_text`` screens a text. Use it as
    a context manager, or call ``close()``.
    """

    _service = "contentsafety"
    analyze_text = sync_call(content_safety.analyze_text)

    def _attach_groups(self) -> None:
        self.blocklists = Blocklists(self._transport)


class AsyncContentSafetyClient(_AsyncClient):
    """A client of Azure AI Content Safety 2024-09-01: text blocklists and text analysis
    (async).

    The same operations as ``ContentSafetyClient``, to ``await``. Use it as an async context
    manager, or call ``aclose()``.
    """

    _service = "contentsafety"
    analyze_text = async_call(content_safety.analyze_text)

    def _attach_groups(self) -> None:
        self.blocklists = AsyncBlocklists(self._transport)
