"""The emulator as an HTTP server on loopback (``faceguard emulator serve``), on uvicorn.

The emulator's router is served as an ASGI app (``_asgi.EmulatorApp``) on uvicorn with h11, so
HTTP parsing, keep-alive and graceful shutdown are a maintained library's job; the server and
the in-process transport answer through the same ``Emulator.handle``. It binds loopback
addresses only, unless ``allow_remote=True``: the emulator has no real authentication and
keeps biometric templates.

Keys: without ``key`` any ``Ocp-Apim-Subscription-Key`` (or ``Authorization: Bearer``) is
accepted (the emulator's own check), and a request with neither is refused; with ``key`` only
that subscription key is accepted. A refusal is 401 with the service's error body (code
``401``, "Access denied due to invalid subscription key or wrong API endpoint...", as the Face
error reference words it), decided on the headers before the body is read. The
``/_emulator/...`` control routes need the key too.

Client faults are answered, never crashed on: a request h11 cannot parse (a bad
``Content-Length``, broken chunked framing, oversized headers) gets 400 and one that does not
send its headers within ``request_timeout`` gets 408, both in the services' JSON error shape
with an ``apim-request-id`` (``_Protocol`` below); body limits and body timeouts are the
app's. Such faults are logged as one warning line, without a traceback.

A scripted ``drop`` fault closes the socket without a response. With ``state_dir`` the state
is loaded at start and saved to SQLite after every request that may change it (the
``_persist.Persistence`` middleware), and once more at shutdown.
"""

from __future__ import annotations

import asyncio
import http
import ipaddress
import logging
import signal
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol
except ImportError as exc:  # pragma: no cover - the emulator extra brings uvicorn
    raise ImportError(
        "faceguard emulator serve needs uvicorn: pip install 'faceguard[emulator]'"
    ) from exc

from ._asgi import ABORT_EXTENSION, CONNECTED_EXTENSION, EmulatorApp
from ._emulator import Emulator
from ._persist import Persistence
from ._wire import error_response

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_REQUEST_TIMEOUT",
    "EmulatorServer",
    "is_loopback",
    "running",
    "serve",
]

logger = logging.getLogger("faceguard.emulator")

DEFAULT_MAX_BODY = 64 * 1024 * 1024
"""The largest request body accepted (the Face API's largest, a 6 MB image, fits easily)."""
DEFAULT_REQUEST_TIMEOUT = 30.0
"""Seconds a client has to send its headers, and then its body."""
_MAX_HEADER_BYTES = 64 * 1024


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _raw_refusal(status: int, code: str, message: str) -> bytes:
    """A whole HTTP/1.1 refusal that closes the connection, for the moments h11 cannot send
    one (no request was parsed yet, or the request was not valid HTTP)."""
    response = error_response(status, code, message)
    body = response.content
    lines = [
        f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}",
        "content-type: application/json; charset=utf-8",
        f"x-ms-error-code: {code}",
        f"apim-request-id: {uuid.uuid4()}",
        f"content-length: {len(body)}",
        "connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol, with the services' error shape for what it refuses, a timeout
    on request headers (uvicorn has none: a client trickling a header a byte at a time would
    hold the connection forever), and the scope extensions ``_asgi`` uses to see a hung-up
    client and to drop a connection."""

    request_timeout = DEFAULT_REQUEST_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app
        extensions = {CONNECTED_EXTENSION: self._connected, ABORT_EXTENSION: self._abort}

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope["extensions"] = {**(scope.get("extensions") or {}), **extensions}
            await inner(scope, receive, send)

        self.app = app
        self._header_timer: asyncio.TimerHandle | None = None

    # -- the header timeout --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Without TCP_NODELAY, Nagle's algorithm holds the body write behind the header write
        # until the client's delayed ACK: ~40 ms on every answer.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:  # a request's headers are in: the app times its body
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()  # before the next (possibly pipelined) request is parsed
        super().on_response_complete()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.request_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served: the app owns its timing
        logger.warning("emulator: a client sent no complete request headers in time (408)")
        self._refuse(
            408,
            "RequestTimeout",
            f"The request headers did not arrive within {self.request_timeout:g} seconds.",
        )

    # -- refusals ------------------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        # h11 refused the bytes (bad Content-Length, broken chunks, oversized headers...):
        # uvicorn's own answer would be plain text.
        detail = f"The request is not valid HTTP/1.1 ({msg.rstrip('.')})."
        self._refuse(400, "BadRequest", detail)

    def _refuse(self, status: int, code: str, message: str) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:  # too late for an answer: just close
                self.transport.close()
                return
            cycle.disconnected = True  # the app must neither answer nor apply it
            cycle.message_event.set()
        self.transport.write(_raw_refusal(status, code, message))
        self.transport.close()

    # -- scope extensions ----------------------------------------------------------------------

    def _connected(self) -> bool:
        cycle = self.cycle
        return not self.transport.is_closing() and not (cycle is not None and cycle.disconnected)

    def _abort(self) -> None:
        if self.cycle is not None:
            self.cycle.disconnected = True
        self.transport.abort()


class EmulatorServer:
    """A running (or ready) loopback server around ``emulator``.

    Args:
        emulator: the ``Emulator`` whose ``handle`` answers.
        host: the address to bind; only loopback unless ``allow_remote``.
        port: the port; 0 picks a free one (see ``url``).
        key: the only subscription key accepted; any key when None.
        state_dir: a directory to load the state from and save it to (SQLite).
        allow_remote: allow a non-loopback ``host``.
        max_body: the largest request body accepted, in bytes (413 beyond).
        request_timeout: seconds a client has to send its headers, and then its body (408
            beyond).
        workers: threads running ``Emulator.handle``.
    """

    def __init__(
        self,
        emulator: Emulator,
        *,
        host: str = "127.0.0.1",
        port: int = 5000,
        key: str | None = None,
        state_dir: str | Path | None = None,
        allow_remote: bool = False,
        max_body: int = DEFAULT_MAX_BODY,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        workers: int = 16,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"refusing to serve on {host}: the emulator binds loopback addresses only "
                "(it has no real authentication and holds biometric templates); pass "
                "--allow-remote to override"
            )
        if not request_timeout > 0:
            raise ValueError("the request timeout must be a positive number of seconds")
        if max_body < 0:
            raise ValueError("the body limit must not be negative")
        persistence = None
        if state_dir is not None:
            persistence = Persistence(emulator.parts(), state_dir)
            persistence.load()
            emulator.use(persistence)
        self.emulator = emulator
        self.persistence = persistence
        self.host = host
        self._socket = _bind(host, port)
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="faceguard-emulator")
        app = EmulatorApp(
            emulator,
            key=key,
            max_body=max_body,
            request_timeout=request_timeout,
            executor=self._executor,
        )
        protocol = type("_ServerProtocol", (_Protocol,), {"request_timeout": request_timeout})
        config = uvicorn.Config(
            app,
            http=protocol,
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_keep_alive=max(5, int(request_timeout)),
            timeout_graceful_shutdown=5,
            h11_max_incomplete_event_size=_MAX_HEADER_BYTES,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """The endpoint to give a client: ``http://127.0.0.1:<port>``."""
        host = self.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve in this thread until ``shutdown()`` (or Ctrl-C / SIGTERM), then close.

        uvicorn stops gracefully on SIGINT and SIGTERM and then re-raises the signal; SIGTERM's
        default action would end the process before the state is saved, so in the main thread
        it is turned into ``KeyboardInterrupt`` (what Ctrl-C raises) for the time of serving.
        """
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
        try:
            self._server.run(sockets=[self._socket])
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            self._close()

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread; returns once the server accepts connections."""
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"faceguard-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            self._thread.join(0.01)
        if not self._server.started:
            self._close()
            raise OSError(f"the emulator could not serve on {self.url}")
        return self

    def shutdown(self) -> None:
        """Stop serving (requests in flight finish), save the state (with ``state_dir``)
        and release the port."""
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join()
            self._thread = None
        self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True)
        if self.persistence is not None:
            self.persistence.save()
            self.persistence.close()
        self._socket.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _bind(host: str, port: int) -> socket.socket:
    bare = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((bare, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 5000,
    key: str | None = None,
    *,
    state_dir: str | Path | None = None,
    allow_remote: bool = False,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
) -> None:
    """Serve ``emulator`` over HTTP until interrupted (blocking)."""
    server = EmulatorServer(
        emulator,
        host=host,
        port=port,
        key=key,
        state_dir=state_dir,
        allow_remote=allow_remote,
        request_timeout=request_timeout,
    )
    server.serve_forever()


@contextmanager
def running(
    emulator: Emulator | None = None,
    *,
    key: str | None = None,
    state_dir: str | Path | None = None,
    host: str = "127.0.0.1",
    max_body: int = DEFAULT_MAX_BODY,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
) -> Iterator[EmulatorServer]:
    """A server on a free loopback port in a background thread, for tests.

    ``with running(emulator) as server: FaceClient(server.url, api_key="any", ...)``.
    """
    server = EmulatorServer(
        emulator if emulator is not None else Emulator(),
        host=host,
        port=0,
        key=key,
        state_dir=state_dir,
        max_body=max_body,
        request_timeout=request_timeout,
    )
    with server:
        yield server
