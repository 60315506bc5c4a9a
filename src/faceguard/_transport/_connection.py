"""Why a call got no response: the cause's kind and words, with secrets taken out.

httpx reports every network failure as one of a few classes (``ConnectError`` for a DNS
failure, a refused port and a failed TLS handshake alike), and its message is often the bare
operating-system text (``[Errno -2] Name or service not known``) without the host it was
about. A user debugging an endpoint needs both: which kind of failure, and where. The kind
is read from the exception chain httpx keeps (``socket.gaierror``, ``ssl.SSLError``,
``ConnectionRefusedError`` ...), and from the words when a plugged-in transport raised an
httpx error without a cause.

The words are not trusted to be clean. A proxy or a custom transport may quote a URL with a
user and password or a signed query, a header, a bearer token: the detail is scrubbed of the
request's own credential header values (by value, whatever their shape), of URL user info
and query values, of ``name=value`` pairs whose name says key, token, secret or password, of
JWS/JWT-shaped tokens and of long opaque key-like runs, before it becomes an error message
(which ``APIError`` then rids of UUIDs, as it does for every message).
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["describe_failure", "scrub"]

_HIDDEN = "***"
_MAX_DETAIL = 300
_DEFAULT_PORTS = {"https": 443, "http": 80}

_SECRET_HEADER = re.compile(r"(?i)authorization|cookie|key|token|secret|signature|password")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]+@")
_QUERY_VALUE = re.compile(r"([?&][^=&#\s'\"]+=)[^&#\s'\"]*")
_NAMED_SECRET = re.compile(
    r"(?i)\b([\w-]*(?:key|token|secret|passw(?:or)?d|pwd|signature|credential)[\w-]*|sig)"
    r"(\s*[=:]\s*['\"]?)(?:(?:bearer|basic)\s+)?[^\s&'\",;)}\]]+"
)
_SCHEME_SECRET = re.compile(r"(?i)\b(bearer|basic|digest|sharedaccesssignature)\s+[^\s,;'\"]+")
_JWS = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_OPAQUE = re.compile(
    r"(?<![A-Za-z0-9+/_=])(?=[A-Za-z0-9+/_=]*[0-9])(?=[A-Za-z0-9+/_=]*[A-Za-z])"
    r"[A-Za-z0-9+/_=]{32,}(?![A-Za-z0-9+/_=])"
)

# Words other platforms and resolvers use, for transports that raise without a cause; the
# first kind whose words appear wins, so the more specific kinds come first.
_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "dns",
        (
            "name or service not known",
            "nodename nor servname",
            "getaddrinfo",
            "name resolution",
            "no address associated",
            "could not resolve",
        ),
    ),
    ("tls", ("ssl", "tls", "certificate", "handshake")),
    ("timeout", ("timed out", "timeout")),
    ("refused", ("refused",)),
    ("reset", ("reset by peer", "connection reset", "disconnected", "broken pipe", "aborted")),
    ("unreachable", ("unreachable", "no route to host")),
    ("proxy", ("proxy",)),
)

_UNREACHABLE = frozenset(
    code
    for code in (
        getattr(errno, "ENETUNREACH", None),
        getattr(errno, "EHOSTUNREACH", None),
        getattr(errno, "ENETDOWN", None),
        getattr(errno, "EHOSTDOWN", None),
    )
    if code is not None
)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and its causes, outermost first (cycles and runaway chains cut)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 16 and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _kind_by_type(exc: httpx.TransportError, chain: list[BaseException]) -> str | None:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    for kind, types in (
        ("dns", (socket.gaierror,)),
        ("tls", (ssl.SSLError, ssl.CertificateError)),
        ("timeout", (TimeoutError,)),
        ("refused", (ConnectionRefusedError,)),
        ("reset", (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)),
    ):
        if any(isinstance(link, types) for link in chain):
            return kind
    if any(isinstance(link, OSError) and link.errno in _UNREACHABLE for link in chain):
        return "unreachable"
    if isinstance(exc, httpx.ProxyError):
        return "proxy"
    if isinstance(exc, httpx.RemoteProtocolError) and "disconnect" in str(exc).lower():
        return "reset"
    return None


def _kind(exc: httpx.TransportError, chain: list[BaseException]) -> str:
    import httpx

    found = _kind_by_type(exc, chain)
    if found is not None:
        return found
    words = " ".join(str(link) for link in chain).lower()
    for kind, markers in _WORDS:
        if any(marker in words for marker in markers):
            return kind
    if isinstance(exc, httpx.ProtocolError | httpx.UnsupportedProtocol):
        return "protocol"
    return "network"


def _detail(chain: list[BaseException]) -> str:
    """The most specific words: the innermost operating-system error that says something,
    else the outermost message (an asyncio cancellation's words never)."""
    for link in reversed(chain):
        if isinstance(link, OSError) and str(link).strip():
            return str(link)
    return str(chain[0]).strip()


def _secret_values(request: httpx.Request | None) -> list[str]:
    """The request's credential header values, and their token part after a scheme."""
    if request is None:
        return []
    values: list[str] = []
    for name, value in request.headers.items():
        if _SECRET_HEADER.search(name):
            values.append(value)
            values.extend(value.split()[1:])
    return sorted((v for v in values if len(v) >= 4), key=len, reverse=True)


def scrub(text: str, request: httpx.Request | None = None) -> str:
    """``text`` with the request's credentials and anything shaped like a secret hidden."""
    for value in _secret_values(request):
        text = text.replace(value, _HIDDEN)
    text = _USERINFO.sub(rf"\1{_HIDDEN}@", text)
    text = _QUERY_VALUE.sub(rf"\1{_HIDDEN}", text)
    text = _SCHEME_SECRET.sub(rf"\1 {_HIDDEN}", text)
    text = _JWS.sub(_HIDDEN, text)
    text = _NAMED_SECRET.sub(rf"\1\2{_HIDDEN}", text)
    text = _OPAQUE.sub(_HIDDEN, text)
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 1] + "\u2026"
    return text


def _request_of(exc: httpx.TransportError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:  # raised outside a request (a caller's own transport)
        return None


def _where(request: httpx.Request | None) -> str:
    if request is None:
        return "the service"
    url = request.url
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = url.port or _DEFAULT_PORTS.get(url.scheme)
    return f"{host}:{port}" if port else host


def _timeout_phrase(exc: httpx.TransportError, where: str, request: httpx.Request | None) -> str:
    import httpx

    phases: tuple[tuple[type[httpx.TimeoutException], str, str], ...] = (
        (httpx.ConnectTimeout, "connect", f"connecting to {where}"),
        (httpx.ReadTimeout, "read", f"reading the response from {where}"),
        (httpx.WriteTimeout, "write", f"sending the request to {where}"),
        (httpx.PoolTimeout, "pool", f"waiting for a free connection to {where}"),
    )
    for cls, setting, doing in phases:
        if isinstance(exc, cls):
            limits = request.extensions.get("timeout", {}) if request is not None else {}
            limit = limits.get(setting) if isinstance(limits, dict) else None
            after = f" after {limit:g} s" if isinstance(limit, int | float) else ""
            return f"timed out {doing}{after}"
    return f"timed out talking to {where}"


def describe_failure(exc: httpx.TransportError) -> tuple[str, str]:
    """``(kind, message)`` for a transport failure; the message holds no secret."""
    chain = _chain(exc)
    kind = _kind(exc, chain)
    request = _request_of(exc)
    where = _where(request)
    phrases = {
        "dns": f"DNS lookup of {request.url.host if request else 'the host'} failed",
        "refused": f"connection to {where} refused (is anything listening there?)",
        "tls": f"TLS handshake with {where} failed",
        "reset": f"connection to {where} closed or reset by the peer",
        "unreachable": f"{where} is unreachable from this machine",
        "proxy": f"the proxy failed the connection to {where}",
        "protocol": f"HTTP protocol error talking to {where}",
        "network": f"network error talking to {where}",
    }
    phrase = _timeout_phrase(exc, where, request) if kind == "timeout" else phrases[kind]
    detail = scrub(_detail(chain), request)
    said = f": {detail}" if detail else ""
    return kind, f"{phrase}{said} ({type(exc).__name__}); no response from the service"
