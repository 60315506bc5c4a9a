"""The pure halves of one HTTP exchange, shared by the sync and async transports.

``build_request`` turns a ``RequestSpec`` into an ``httpx.Request``; ``interpret`` turns the
response into a result or a typed error; ``connection_error`` classifies a failure that left no
response. The transports add only the I/O between them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from .._config import ClientConfig
from .._constants import CONTENT_SAFETY_API_PATH, CONTENT_SAFETY_API_VERSION, FACE_API_PATH
from .._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    PendingSupport,
    SupportInfo,
    service_request_id,
    status_error_class,
)
from .._logging import logger
from ..models._results import attr_or_none
from ._retry import parse_retry_after
from ._spec import RawResponse, RequestSpec

if TYPE_CHECKING:
    import httpx

__all__ = [
    "build_request",
    "connection_error",
    "interpret",
    "new_client_request_id",
    "support_for",
]

T = TypeVar("T")


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""Compact JSON bodies; one shared encoder (``json.dumps`` with options builds one per call)."""


def new_client_request_id() -> str:
    """A fresh ``x-ms-client-request-id``: exactly what ``str(uuid.uuid4())`` returns for the
    same 16 random bytes (version 4, RFC 4122 variant), without building a ``uuid.UUID``,
    whose checks cost most of it."""
    data = bytearray(os.urandom(16))
    data[6] = (data[6] & 0x0F) | 0x40  # version 4
    data[8] = (data[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = data.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@functools.lru_cache(maxsize=256)
def _url(address: str, query: tuple[tuple[str, str], ...]) -> httpx.URL:
    """The parsed URL of a route with its query, kept for the next call to the same one.

    An application repeats a few routes with the same settings (detect's query is the same
    on every call): parsing the address and encoding the query cost httpx more than the rest
    of building the request. ``httpx.URL`` is immutable, so one object may serve every call.
    Neither part holds a secret: keys and tokens travel in headers, images in the body.
    """
    import httpx

    return httpx.URL(address, params=query or None)


def build_request(
    client: httpx.Client | httpx.AsyncClient,
    spec: RequestSpec[Any],
    config: ClientConfig,
    *,
    client_request_id: str,
    auth_headers: Mapping[str, str],
) -> httpx.Request:
    """The HTTP request for one attempt of ``spec``.

    Built by the httpx client so its defaults apply (``Accept-Encoding``, and the headers of
    a caller's own ``http_client``); the transport then attaches the guard's pass.
    """
    route = spec.route
    if spec.path_params:
        route = route.format_map({k: quote(v, safe="") for k, v in spec.path_params.items()})
    query = spec.query
    if config.service == "contentsafety":
        query = {**query, "api-version": CONTENT_SAFETY_API_VERSION}
        base = CONTENT_SAFETY_API_PATH
    else:
        base = FACE_API_PATH
    headers = {
        "Accept": spec.accept,
        "User-Agent": config.user_agent,
        "x-ms-client-request-id": client_request_id,
        **auth_headers,
    }
    content = spec.content
    if spec.json is not None:
        content = _JSON.encode(spec.json).encode()
        headers["Content-Type"] = spec.content_type or "application/json"
    elif content is not None:
        headers["Content-Type"] = spec.content_type or "application/octet-stream"
    address = f"{config.endpoint}{base}{route}"
    url: httpx.URL | str = address
    params: Mapping[str, str] | None = query or None
    if not client.params:
        # A caller's http_client with its own params keeps httpx's merge (ours win on a
        # clash); otherwise the whole URL comes parsed from the cache.
        with contextlib.suppress(TypeError):  # unhashable query values: not faceguard's own
            url, params = _url(address, tuple(query.items())), None
    return client.build_request(
        spec.method,
        url,
        params=params,
        headers=headers,
        content=content,
    )


def support_for(
    spec: RequestSpec[Any],
    *,
    client_request_id: str,
    headers: Mapping[str, str] | None = None,
    status_code: int | None = None,
    error_code: str | None = None,
    model_version: str | None = None,
) -> SupportInfo:
    """Support info of a call, from its spec and (when there is one) its response."""
    return SupportInfo(
        operation=spec.operation,
        method=spec.method,
        api_path=spec.route,
        request_id=service_request_id(headers),
        client_request_id=client_request_id,
        status_code=status_code,
        error_code=error_code,
        session_id=spec.session_id,
        model_version=model_version,
    )


def _error_body(raw: RawResponse) -> tuple[object | None, str | None, str | None]:
    """(parsed body, error code, message) of an error response; never raises."""
    try:
        body = json.loads(raw.content) if raw.content else None
    except (ValueError, UnicodeDecodeError):
        return None, None, None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return body, None, None
    code, message = error.get("code"), error.get("message")
    return (
        body,
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else None,
    )


def _model_version(result: object) -> str | None:
    version = attr_or_none(result, "model_version")
    version = getattr(version, "value", version)  # an OpenEnum member or a new string
    return version if isinstance(version, str) else None


def interpret(
    spec: RequestSpec[T],
    raw: RawResponse,
    *,
    client_request_id: str,
    attempt: int,
    started: float,
) -> T:
    """The parsed result of a response, or the typed error it stands for."""
    if logger.isEnabledFor(20):
        logger.info(
            "%s %s -> %s request_id=%s client_request_id=%s attempt=%d elapsed_ms=%.1f",
            spec.method,
            spec.route,
            raw.status_code,
            raw.headers.get("apim-request-id"),
            client_request_id,
            attempt,
            (time.perf_counter() - started) * 1000,
        )
    if raw.status_code not in spec.success_status:
        raise status_error(spec, raw, client_request_id=client_request_id, attempt=attempt)
    problems = 0
    try:
        result = spec.parse(raw)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        count = getattr(exc, "error_count", None)
        problems = count() if callable(count) else 1
    if problems:
        # Raised outside the except block: the parser's exception (which quotes response
        # values) must not survive as __context__. The message names no values either.
        support = support_for(
            spec,
            client_request_id=client_request_id,
            headers=raw.headers,
            status_code=raw.status_code,
        )
        raise APIResponseValidationError(
            f"the response does not match the REST contract ({problems} problem(s))",
            support=support,
        )
    # Models and ResultList carry their support info: its raw values now, built when read.
    attach = getattr(result, "_attach_support", None)
    if attach is not None:
        attach(
            PendingSupport(
                spec.operation,
                spec.method,
                spec.route,
                spec.session_id,
                client_request_id,
                raw.status_code,
                raw.headers,
                _model_version(result),
            )
        )
    return result


def status_error(
    spec: RequestSpec[Any], raw: RawResponse, *, client_request_id: str, attempt: int
) -> APIStatusError:
    """The typed error of a non-success response; a non-JSON body is handled too."""
    body, code, message = _error_body(raw)
    code = code or raw.headers.get("x-ms-error-code")
    if message is None:
        content_type = raw.headers.get("content-type", "no content type")
        message = f"HTTP {raw.status_code} with a non-JSON or unexpected body ({content_type})"
    support = support_for(
        spec,
        client_request_id=client_request_id,
        headers=raw.headers,
        status_code=raw.status_code,
        error_code=code,
    )
    text = f"{code}: {message}" if code else message
    return status_error_class(raw.status_code)(
        text,
        support=support,
        status_code=raw.status_code,
        error_code=code,
        body=body,
        retries_taken=attempt - 1,
        retry_after=parse_retry_after(raw.headers.get("retry-after")),
    )


def connection_error(
    spec: RequestSpec[Any], exc: httpx.TransportError, *, client_request_id: str, attempt: int
) -> APIConnectionError:
    """The typed error of a call that got no response: its ``kind`` (DNS, refused, TLS,
    timeout ...) and the cause's own words with secrets removed (``_connection``)."""
    import httpx

    from ._connection import describe_failure

    # httpx errors raised before any byte of the request can have reached the server.
    not_sent = (
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
        httpx.UnsupportedProtocol,
    )
    kind, message = describe_failure(exc)
    timed_out = kind == "timeout" or isinstance(exc, httpx.TimeoutException)
    cls = APITimeoutError if timed_out else APIConnectionError
    sent = not isinstance(exc, not_sent)
    logger.info(
        "%s %s -> %s client_request_id=%s attempt=%d request_sent=%s kind=%s",
        spec.method,
        spec.route,
        type(exc).__name__,
        client_request_id,
        attempt,
        sent,
        kind,
    )
    return cls(
        message,
        support=support_for(spec, client_request_id=client_request_id),
        request_sent=sent,
        retries_taken=attempt - 1,
        kind=kind,
    )
