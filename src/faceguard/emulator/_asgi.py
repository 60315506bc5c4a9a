"""The emulator as an ASGI application: what ``faceguard emulator serve`` runs on uvicorn.

The HTTP/1.1 parsing (framing, ``Content-Length``, chunked encoding, header limits,
keep-alive, graceful shutdown) is uvicorn's and h11's; this app decides, in order, with the
headers alone: a path outside the services (404), a refused key (401, before a byte of the
body is read), a declared length over the limit (413). Then it reads the body within
``request_timeout`` seconds of the headers (else 408) and at most ``max_body`` bytes (else
413), and hands the request to ``Emulator.handle`` on a worker thread, the same handler as
the in-process transport. A client that hangs up before its body is complete, or before the
emulator gets its request, has nothing applied. Every refusal here has the services' JSON
error shape and an ``apim-request-id``; an answer given before the body was read closes the
connection, so an unread body is never taken for the next request.

The server's protocol (``_server``) adds two scope extensions: ``faceguard.connected``
(whether the client is still there) and ``faceguard.abort`` (drop the connection without an
answer: a scripted ``drop`` fault).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from .._redact import redact_text
from ._emulator import Emulator
from ._wire import error_response

__all__ = ["CONNECTED_EXTENSION", "ABORT_EXTENSION", "EmulatorApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CONNECTED_EXTENSION = "faceguard.connected"
ABORT_EXTENSION = "faceguard.abort"

_log = logging.getLogger("faceguard.emulator")

# Response headers the server writes itself.
_HOP_BY_HOP = frozenset(
    {"connection", "content-length", "transfer-encoding", "keep-alive", "content-encoding"}
)
_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
    "a valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)


class _Gone(Exception):
    """The client hung up: nothing to answer, nothing to apply."""


class _Refused(Exception):
    """An answer decided before the emulator sees the request."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def refusal(status: int, code: str, message: str) -> httpx.Response:
    """A refusal of the server itself, in the services' error shape.

    Code chosen for these (the Face error reference lists none for HTTP framing): ``400
    BadRequest``, ``408 RequestTimeout`` and ``413 RequestEntityTooLarge``.
    """
    import uuid

    response = error_response(status, code, message)
    response.headers["apim-request-id"] = str(uuid.uuid4())
    return response


class EmulatorApp:
    """The ASGI app around ``emulator``.

    Args:
        emulator: answers every request that gets through.
        key: the only subscription key the server accepts; any when None (the emulator's
            own check still applies).
        max_body: the largest body accepted, in bytes.
        request_timeout: seconds a client has to send its body once its headers are in.
        executor: runs ``Emulator.handle`` (blocking) off the event loop.
    """

    def __init__(
        self,
        emulator: Emulator,
        *,
        key: str | None,
        max_body: int,
        request_timeout: float,
        executor: ThreadPoolExecutor,
    ) -> None:
        self.emulator = emulator
        self.key = key
        self.max_body = max_body
        self.request_timeout = request_timeout
        self._executor = executor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no lifespan or websocket: uvicorn runs with lifespan off
            return
        extensions = scope.get("extensions") or {}
        connected: Callable[[], bool] = extensions.get(CONNECTED_EXTENSION, lambda: True)
        abort: Callable[[], None] | None = extensions.get(ABORT_EXTENSION)
        method = str(scope["method"])
        raw_path = bytes(scope.get("raw_path") or scope["path"].encode())
        path = raw_path.decode("latin-1")
        headers = httpx.Headers(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        )
        body_expected = _has_body(headers)
        try:
            self._judge_headers(method, path, headers)
            body = await self._read_body(receive, connected)
        except _Refused as refused:
            await _send(send, refused.response, close=body_expected)
            return
        except _Gone:
            return
        query = scope.get("query_string") or b""
        target = raw_path + (b"?" + query if query else b"")
        host = headers.get("host") or "emulator"
        request = httpx.Request(
            method,
            f"http://{host}{target.decode('latin-1')}",
            headers=[(k, v) for k, v in headers.multi_items() if k.lower() != "host"],
            content=body,
        )
        if not connected():  # hung up while its request was read: do not apply it
            return
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(self._executor, self.emulator.handle, request)
        except httpx.TransportError:
            # A scripted drop: close the socket without answering.
            if abort is not None:
                abort()
            return
        _log.debug("%s %s -> %d", method, redact_text(path), response.status_code)
        await _send(send, response, close=False)

    def _judge_headers(self, method: str, path: str, headers: httpx.Headers) -> None:
        """What the headers alone decide: the path, the key, the declared length."""
        bare = path.split("?", 1)[0]
        if self.key is not None and not _same(headers.get("ocp-apim-subscription-key"), self.key):
            raise _Refused(refusal(401, "401", _DENIED))
        early = self.emulator.precheck(method, bare, headers)
        if early is not None:
            raise _Refused(early)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise _Refused(self._too_large())

    async def _read_body(self, receive: Receive, connected: Callable[[], bool]) -> bytes:
        """The whole body, within the timeout and the size limit.

        One timer per request cancels the read when the time is up (cheaper than a
        ``wait_for`` task per chunk: most bodies arrive in one message)."""
        task = asyncio.current_task()
        assert task is not None
        late: list[bool] = []

        def time_up() -> None:
            late.append(True)
            task.cancel()

        timer = asyncio.get_running_loop().call_later(self.request_timeout, time_up)
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _Gone
                data = bytes(message.get("body", b""))
                size += len(data)
                if size > self.max_body:
                    raise _Refused(self._too_large())
                chunks.append(data)
                if not message.get("more_body", False):
                    return b"".join(chunks)
        except asyncio.CancelledError:
            if not late:
                raise  # the server is stopping: not ours to answer
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+: the cancel was ours
            if uncancel is not None:
                uncancel()
            if not connected():
                raise _Gone from None
            raise _Refused(
                refusal(
                    408,
                    "RequestTimeout",
                    f"The request body did not arrive within {self.request_timeout:g} seconds.",
                )
            ) from None
        finally:
            timer.cancel()

    def _too_large(self) -> httpx.Response:
        return refusal(
            413,
            "RequestEntityTooLarge",
            f"The request body is larger than the emulator accepts ({self.max_body} bytes).",
        )


def _same(given: str | None, expected: str) -> bool:
    if given is None:
        return False
    return bool(hmac.compare_digest(given.encode(), expected.encode()))


def _has_body(headers: httpx.Headers) -> bool:
    """Whether the request announces a body (which an early answer leaves unread)."""
    if "transfer-encoding" in headers:
        return True
    declared: str = headers.get("content-length", "0")
    return declared != "0"


async def _send(send: Send, response: httpx.Response, *, close: bool) -> None:
    content = response.read()
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in response.headers.multi_items()
        if name.lower() not in _HOP_BY_HOP
    ]
    headers.append((b"content-length", str(len(content)).encode()))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": content, "more_body": False})
