"""The emulator as an HTTP server on loopback (``faceguard emulator serve``), stdlib only.

Every request is turned into an ``httpx.Request`` and answered by ``Emulator.handle``, so the
server and the in-process transport behave the same. It binds loopback addresses only, unless
``allow_remote=True``: the emulator has no real authentication and keeps biometric templates.

Keys: without ``key`` any ``Ocp-Apim-Subscription-Key`` (or ``Authorization: Bearer``) is
accepted (the emulator's own check), and a request with neither is refused; with ``key`` only
that subscription key is accepted. A refusal is 401 with the service's error body (code
``401``, "Access denied due to invalid subscription key or wrong API endpoint...", as the Face
error reference words it). The ``/_emulator/...`` control routes need the key too.

A scripted ``drop`` fault closes the socket without a response. With ``state_dir`` the state
is loaded at start and saved to SQLite after every request that may change it (see
``_persist.py``), and once more at shutdown.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from .._redact import redact_text
from ._face_routes import error_response

if TYPE_CHECKING:
    from ._router import Emulator

__all__ = ["EmulatorServer", "is_loopback", "running", "serve"]

logger = logging.getLogger("faceguard.emulator")

_ACCESS_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
    "provide a valid key for an active subscription and use a correct regional API endpoint "
    "for your resource."
)
_MAX_BODY = 64 * 1024 * 1024
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# Response headers the server writes itself.
_HOP_BY_HOP = frozenset(
    {"connection", "content-length", "transfer-encoding", "keep-alive", "content-encoding"}
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _denied() -> tuple[int, dict[str, str], bytes]:
    response = error_response(401, "401", _ACCESS_DENIED)
    return 401, dict(response.headers), response.content


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY, Nagle's algorithm and delayed ACKs add ~40 ms to every response.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        # The request line has no secret (keys and tokens travel in headers only), but its
        # path and query name faceIds, personIds and persistedFaceIds: redacted (GUARD.md §5.4).
        shown = tuple(redact_text(arg) if isinstance(arg, str) else arg for arg in args)
        logger.debug("%s " + format, self.address_string(), *shown)

    def _serve(self) -> None:
        length_header = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            try:
                length = int(length_header) if length_header else 0
            except ValueError:
                length = -1
            if not 0 <= length <= _MAX_BODY:
                self._write(400, {"Content-Type": "text/plain"}, b"bad Content-Length")
                return
            body = self.rfile.read(length) if length else b""
        if not self.server.authorised(self.headers):
            self._write(*_denied())
            return
        host = self.headers.get("Host") or f"{self.server.host}:{self.server.port}"
        request = httpx.Request(
            self.command,
            f"http://{host}{self.path}",
            headers=[(k, v) for k, v in self.headers.items() if k.lower() != "host"],
            content=body,
        )
        try:
            response = self.server.emulator.handle(request)
        except httpx.TransportError:
            # A scripted drop: close the socket without answering.
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self.server.after_request(self.command)
            return
        content = response.read()
        headers = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP}
        self.server.after_request(self.command)
        self._write(response.status_code, headers, content)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            total += size
            if total > _MAX_BODY:
                raise ValueError("body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD" and content:
            self.wfile.write(content)

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_PATCH = _serve
    do_DELETE = _serve
    do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        emulator: Emulator,
        *,
        key: str | None,
        persistence: Any | None,
    ) -> None:
        host = address[0]
        if ":" in host.strip("[]"):
            self.address_family = socket.AF_INET6
        super().__init__((host.strip("[]"), address[1]), _Handler)
        self.emulator = emulator
        self.key = key
        self.persistence = persistence
        self.host = host
        self.port = int(self.server_address[1])
        self._save_lock = threading.Lock()

    def authorised(self, headers: Any) -> bool:
        """With ``key``, only that subscription key passes; without, the emulator decides
        (any non-empty key or bearer token, unless ``Emulator(key=...)``)."""
        if self.key is None:
            return True
        given = headers.get("Ocp-Apim-Subscription-Key")
        return given is not None and hmac.compare_digest(given.encode(), self.key.encode())

    def after_request(self, method: str) -> None:
        if self.persistence is not None and method not in _READS:
            with self._save_lock:
                self.persistence.save()


class EmulatorServer:
    """A running (or ready) loopback server around ``emulator``.

    Args:
        emulator: the ``Emulator`` whose ``handle`` answers.
        host: the address to bind; only loopback unless ``allow_remote``.
        port: the port; 0 picks a free one (see ``url``).
        key: the only subscription key accepted; any key when None.
        state_dir: a directory to load the state from and save it to (SQLite).
        allow_remote: allow a non-loopback ``host``.
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
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"refusing to serve on {host}: the emulator binds loopback addresses only "
                "(it has no real authentication and holds biometric templates); pass "
                "--allow-remote to override"
            )
        persistence = None
        if state_dir is not None:
            from ._persist import Persistence

            persistence = Persistence(emulator, state_dir)
            persistence.load()
        self.emulator = emulator
        self.persistence = persistence
        self._server = _Server((host, port), emulator, key=key, persistence=persistence)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        """The endpoint to give a client: ``http://127.0.0.1:<port>``."""
        host = self._server.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve in this thread until ``shutdown()`` (or Ctrl-C), then close."""
        try:
            self._server.serve_forever(poll_interval=0.1)
        finally:
            self._close()

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"faceguard-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving, save the state (with ``state_dir``) and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._close()

    def _close(self) -> None:
        if self.persistence is not None:
            self.persistence.save()
        self._server.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()


def serve(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 5000,
    key: str | None = None,
    *,
    state_dir: str | Path | None = None,
    allow_remote: bool = False,
) -> None:
    """Serve ``emulator`` over HTTP until interrupted (blocking)."""
    server = EmulatorServer(
        emulator,
        host=host,
        port=port,
        key=key,
        state_dir=state_dir,
        allow_remote=allow_remote,
    )
    server.serve_forever()


@contextmanager
def running(
    emulator: Emulator | None = None,
    *,
    key: str | None = None,
    state_dir: str | Path | None = None,
    host: str = "127.0.0.1",
) -> Iterator[EmulatorServer]:
    """A server on a free loopback port in a background thread, for tests.

    ``with running(emulator) as server: FaceClient(server.url, api_key="any", ...)``.
    """
    if emulator is None:
        from ._router import Emulator

        emulator = Emulator()
    server = EmulatorServer(emulator, host=host, port=0, key=key, state_dir=state_dir)
    with server:
        yield server
