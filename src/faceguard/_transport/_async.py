"""The async shell of the transport: httpx.AsyncClient plus the shared retry policy."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from .._config import ClientConfig
from .._exceptions import APIConnectionError, APIError
from .._guard._engine import Guard
from .._tracing import CallSpan, span_for
from ._before_send import before_send
from ._exchange import build_request, connection_error, interpret, new_client_request_id
from ._guarded import PASS_KEY, Capability, install_guard
from ._spec import RawResponse, RequestSpec

if TYPE_CHECKING:
    import httpx

    from .._ratelimit._limiter import RateLimiter

__all__ = ["AsyncTransport"]

T = TypeVar("T")
R = TypeVar("R")


class AsyncTransport:
    """Sends ``RequestSpec``s with retries; one ``x-ms-client-request-id`` per logical call."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        guard: Guard | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.config = config
        self.limiter = limiter
        self._bucket = limiter.bucket_for(config.endpoint) if limiter is not None else ""
        self.guard = guard or Guard(None, endpoint=config.endpoint)
        import httpx  # loaded when the first client is built, not with faceguard

        self._transport_error = httpx.TransportError
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(
            timeout=config.timeout, transport=transport, follow_redirects=False
        )
        if sleep is None:
            import asyncio  # only async clients need it

            sleep = asyncio.sleep
        self.sleep = sleep
        self.clock = clock
        # Every request of this httpx client passes the wire check (see _guarded.py); the
        # typed path's requests carry a pass minted by this capability.
        self.capability = Capability()
        install_guard(
            self._client,
            self.capability,
            endpoint_path=urlsplit(config.endpoint).path,
            asynchronous=True,
        )

    async def send(self, spec: RequestSpec[T]) -> T:
        """Guard, send ``spec`` (retrying per the policy), and return its parsed result.

        The guard decides before anything is sent (its refusals are never retried) and
        bookkeeps after the response, in a worker thread when its store or audit log does
        blocking I/O; the exchange runs in an OpenTelemetry span when the ``otel`` extra is
        installed.
        """
        guard = self.guard
        ticket = await self._guarded(guard.before, spec)
        try:
            with span_for(spec) as span:  # the guard's refusals send nothing: outside it
                result = await self._send_with_retries(spec, span)
        except APIError as error:
            await self._guarded(guard.failed, spec, ticket, error)  # the outcome, on file
            raise
        return await self._guarded(guard.after, spec, ticket, result)

    async def _guarded(self, step: Callable[..., R], *args: object) -> R:
        """Run one of the guard's steps: in a worker thread when its store or audit file does
        blocking I/O (the guard is thread-safe: sync clients are shared between threads too),
        else here on the event loop, where a thread hop would cost more than the step."""
        if self.guard.blocking:
            import asyncio

            return await asyncio.to_thread(step, *args)
        return step(*args)

    async def _send_with_retries(self, spec: RequestSpec[T], span: CallSpan) -> T:
        client_request_id = new_client_request_id()
        policy = self.config.retry
        # The first attempt runs outside tenacity: most calls succeed at once (see
        # RetryPolicy.first_retry_wait).
        try:
            return await self._attempt(spec, client_request_id, 1, span)
        except APIError as error:
            wait = policy.first_retry_wait(error, idempotent=spec.idempotent)
            if wait is None:
                raise
        await self.sleep(wait)
        retrying = policy.async_retrying(idempotent=spec.idempotent, sleep=self.sleep, offset=1)
        async for attempt in retrying:
            with attempt:
                return await self._attempt(
                    spec, client_request_id, attempt.retry_state.attempt_number + 1, span
                )
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _attempt(
        self, spec: RequestSpec[T], client_request_id: str, attempt: int, span: CallSpan
    ) -> T:
        limiter = self.limiter
        if limiter is not None:
            # Every attempt takes a slot, retries included: the service counts them all.
            wait = await limiter.areserve(self._bucket)
            if wait > 0:
                await self.sleep(wait)
        hook = before_send.get()
        if hook is not None:
            pending = hook()
            if pending is not None:
                await pending
        request = build_request(
            self._client,
            spec,
            self.config,
            client_request_id=client_request_id,
            auth_headers=await self.config.auth.async_headers(),
        )
        issued = self.capability.mint(spec, request.content)
        request.extensions[PASS_KEY] = issued
        started = time.perf_counter()
        failure: APIConnectionError | None
        try:
            response = await self._client.send(request)
        except self._transport_error as exc:
            failure = connection_error(
                spec, exc, client_request_id=client_request_id, attempt=attempt
            )
        else:
            failure = None
        finally:
            self.capability.retire(issued)
        if failure is not None:
            # Raised outside the except block: httpx's exception holds the request (and its
            # auth header), and must not survive as __context__.
            raise failure
        raw = RawResponse(response.status_code, response.headers, response.content)
        if limiter is not None and raw.status_code == 429:
            await limiter.athrottled(self._bucket)
        span.record(raw, client_request_id, attempt)
        return interpret(
            spec, raw, client_request_id=client_request_id, attempt=attempt, started=started
        )

    async def aclose(self) -> None:
        """Close the underlying connection pool, if this transport created it."""
        if self._owns_client:
            await self._client.aclose()
