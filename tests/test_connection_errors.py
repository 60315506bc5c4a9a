"""A call that got no response says why: the cause's kind and words, with secrets removed.

Each kind is provoked for real, through the public clients, sync and async: a loopback port
nobody listens on (refused), a host under ``.invalid`` (DNS, RFC 6761 guarantees it never
resolves), TLS spoken to a plain-HTTP loopback server (TLS), and a loopback server that
accepts and never answers (timeout). Transports a caller plugs in may word their failures
freely, so the secrets test feeds messages full of keys, tokens and URLs through ``transport=``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from faceguard import (
    APIConnectionError,
    APITimeoutError,
    AsyncFaceClient,
    FaceClient,
    RetryPolicy,
)

KEY = "0123456789abcdef0123456789abcdef"  # an Azure subscription key's shape
LONG_KEY = "Zm9vYmFyMTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGRw" + "x9" * 10
JWT = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJwLTEyMyJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
ONCE = RetryPolicy(max_attempts=1)


def _shown(error: BaseException) -> str:
    parts = [str(error), repr(error), repr(error.args), "".join(traceback.format_exception(error))]
    if isinstance(error, APIConnectionError):
        parts += [repr(error.support_info()), repr(error.support), error.kind]
    return "\n".join(parts)


def _call(endpoint: str, mode: str, **options: Any) -> APIConnectionError:
    """One container read (no guard decision needed) against ``endpoint``; its error."""
    options.setdefault("api_key", KEY)
    options.setdefault("retry", ONCE)
    if mode == "sync":
        with FaceClient(endpoint, **options) as client, pytest.raises(APIConnectionError) as caught:
            client.large_person_groups.get("staff")
        return caught.value

    async def run() -> APIConnectionError:
        async with AsyncFaceClient(endpoint, **options) as client:
            with pytest.raises(APIConnectionError) as caught:
                await client.large_person_groups.get("staff")
        return caught.value

    return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["127.0.0.1", "localhost", "[::1]"])
def closed_address(request: pytest.FixtureRequest) -> tuple[str, int]:
    """(host as written in a URL, port) where nothing listens."""
    host = str(request.param)
    family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
    try:
        with socket.socket(family) as probe:
            probe.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
            return host, int(probe.getsockname()[1])
    except OSError:
        pytest.skip(f"no {host} loopback on this machine")


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def self_signed_tls_port(tmp_path: Any) -> Iterator[int]:
    """A TLS server on loopback whose certificate no trust store knows."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            # The client refuses the certificate mid-handshake: the server side fails too.
            with connection, contextlib.suppress(OSError):
                context.wrap_socket(connection, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.fixture
def plain_http_port() -> Iterator[int]:
    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def test_a_refused_port_says_refused(mode: str, closed_address: tuple[str, int]) -> None:
    host, port = closed_address
    error = _call(f"http://{host}:{port}", mode)
    assert type(error) is APIConnectionError
    assert error.kind == "refused"
    assert error.request_sent is False
    assert "refused" in error.message.lower()
    assert f"{host}:{port}" in error.message
    assert "Errno" in error.message  # the operating system's own words are kept
    assert KEY not in _shown(error)


def test_an_unresolvable_host_says_dns(mode: str) -> None:
    error = _call("https://faceguard-no-such-resource.invalid", mode)
    assert type(error) is APIConnectionError
    assert error.kind == "dns"
    assert error.request_sent is False
    assert "faceguard-no-such-resource.invalid" in error.message
    assert "DNS" in error.message
    assert KEY not in _shown(error)


def test_tls_to_a_plain_http_server_says_tls(mode: str, plain_http_port: int) -> None:
    error = _call(f"https://127.0.0.1:{plain_http_port}", mode)
    assert type(error) is APIConnectionError
    assert error.kind == "tls"
    assert error.request_sent is False
    assert "TLS" in error.message
    assert "SSL" in error.message  # OpenSSL's reason, e.g. WRONG_VERSION_NUMBER
    assert KEY not in _shown(error)


def test_an_untrusted_certificate_says_tls(mode: str, self_signed_tls_port: int) -> None:
    error = _call(f"https://127.0.0.1:{self_signed_tls_port}", mode)
    assert error.kind == "tls"
    assert "CERTIFICATE_VERIFY_FAILED" in error.message
    assert KEY not in _shown(error)


def test_a_silent_server_says_timeout(mode: str, silent_port: int) -> None:
    error = _call(f"http://127.0.0.1:{silent_port}", mode, timeout=0.3)
    assert isinstance(error, APITimeoutError)
    assert error.kind == "timeout"
    assert "timed out" in error.message
    assert "reading" in error.message  # which phase ran out of time
    assert "0.3 s" in error.message
    assert KEY not in _shown(error)


def test_the_cause_is_not_chained(mode: str, closed_port: int) -> None:
    # httpx's exception holds the request and its key header: it must not be reachable.
    error = _call(f"http://127.0.0.1:{closed_port}", mode)
    assert error.__cause__ is None and error.__context__ is None


# -- what a plugged-in transport says, scrubbed -------------------------------------------


def _raising(exc_type: type[httpx.TransportError], message: str) -> Callable[..., Any]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(message.format(key=KEY), request=request)

    return handler


SECRET_MESSAGES = [
    # (message the transport raises, a secret that must not be shown, what must stay)
    ("proxy said: bad key {key}", KEY, "proxy said: bad key"),
    ("Authorization: Bearer " + JWT + " refused", JWT, "refused"),
    ("token " + JWT + " expired", JWT, "expired"),
    (
        "GET https://user:hunter2@proxy.example:8080/face?sig=s3cr3t&x=1 failed",
        "hunter2",
        "proxy.example",
    ),
    ("GET https://proxy.example/face?sig=s3cr3tvalue failed", "s3cr3tvalue", "sig="),
    ("upstream rejected api-key=" + LONG_KEY, LONG_KEY, "upstream rejected"),
    ("upstream rejected subscription-key: " + LONG_KEY, LONG_KEY, "upstream rejected"),
    ("password=hunter22 was wrong", "hunter22", "was wrong"),
    ("upstream: sig=abc123secret refused", "abc123secret", "upstream: sig="),
    ("design: the signal: words stay", "", "design: the signal: words stay"),
    ("GET https://proxy.example/cb?code=opaquevalue7 failed", "opaquevalue7", "cb?code="),
    ("proxy answered: Bearer abc.def-ghi rejected", "abc.def-ghi", "rejected"),
    ("proxy answered: Basic dXNlcjpwYXNz rejected", "dXNlcjpwYXNz", "rejected"),
    ("raw " + LONG_KEY + " leaked", LONG_KEY, "leaked"),
]


@pytest.mark.parametrize(("message", "secret", "kept"), SECRET_MESSAGES)
def test_secrets_in_a_transport_message_are_removed(
    mode: str, message: str, secret: str, kept: str
) -> None:
    if mode == "sync":
        transport: Any = httpx.MockTransport(_raising(httpx.ConnectError, message))
    else:
        handler = _raising(httpx.ConnectError, message)

        async def async_handler(request: httpx.Request) -> httpx.Response:
            return handler(request)

        transport = httpx.MockTransport(async_handler)
    error = _call("https://face.example", mode, transport=transport)
    shown = _shown(error)
    if secret:
        assert secret not in shown
    assert KEY not in shown
    assert kept in error.message


def test_a_bearer_credential_in_the_request_is_never_echoed(mode: str) -> None:
    # The transport quotes the request's own headers back: the values are removed by value.
    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["ocp-apim-subscription-key"]
        raise httpx.ConnectError(f"rejected headers: key {key} unknown", request=request)

    if mode == "sync":
        transport: Any = httpx.MockTransport(handler)
    else:

        async def async_handler(request: httpx.Request) -> httpx.Response:
            return handler(request)

        transport = httpx.MockTransport(async_handler)
    weird_key = "not-shaped-like-any-key"
    error = _call("https://face.example", mode, transport=transport, api_key=weird_key)
    assert weird_key not in _shown(error)
    assert "rejected headers" in error.message


@pytest.mark.parametrize(
    ("exc_type", "message", "kind"),
    [
        (httpx.ConnectError, "[Errno -2] Name or service not known", "dns"),
        (httpx.ConnectError, "[Errno 8] nodename nor servname provided, or not known", "dns"),
        (httpx.ConnectError, "getaddrinfo failed", "dns"),
        (httpx.ConnectError, "[Errno 111] Connection refused", "refused"),
        (httpx.ConnectError, "[WinError 10061] the target machine actively refused it", "refused"),
        (httpx.ConnectError, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "tls"),
        (httpx.ConnectTimeout, "timed out", "timeout"),
        (httpx.ReadTimeout, "", "timeout"),
        (httpx.PoolTimeout, "", "timeout"),
        (httpx.RemoteProtocolError, "Server disconnected without sending a response.", "reset"),
        (httpx.ReadError, "[Errno 104] Connection reset by peer", "reset"),
        (httpx.ConnectError, "[Errno 101] Network is unreachable", "unreachable"),
        (httpx.ProxyError, "407 Proxy Authentication Required", "proxy"),
        (httpx.ConnectError, "something else entirely", "network"),
    ],
)
def test_a_transport_without_a_chained_cause_is_classified_by_its_words(
    exc_type: type[httpx.TransportError], message: str, kind: str
) -> None:
    transport = httpx.MockTransport(_raising(exc_type, message))
    error = _call("https://face.example", "sync", transport=transport)
    assert error.kind == kind
    assert isinstance(error, APITimeoutError) == (kind == "timeout")
    if message:
        assert message in error.message
