"""The emulator's wire: how every emulated service reads a request and shapes an answer.

One error class, ``FaceApiError`` (status, code, message), is what every handler raises to
refuse a request; the router turns it into the services' shared error shape
(``{"error": {"code", "message"}}`` with an ``x-ms-error-code`` header: the Face error
reference and Azure.Core for Content Safety agree on it). Handlers never build error answers
themselves, so a refusal cannot lose the operation name or the request id.

JSON bodies are read once, here, for every service (``read_json``): a body that is not
strict JSON, nests deeper than ``MAX_JSON_DEPTH``, or holds a string with a lone UTF-16
surrogate (``"\\ud800"``, or the CESU-8 bytes of one) is refused as the service refuses
unparsable JSON. Such a string cannot be encoded as UTF-8 again, so once stored it would make
every later answer that echoes it fail: refusing it at the door keeps the state answerable.

No other module of the emulator is imported here: everything else builds on this one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import httpx

__all__ = [
    "MAX_JSON_DEPTH",
    "OPERATION_EXTENSION",
    "EngineUnavailable",
    "FaceApiError",
    "Handler",
    "empty_response",
    "error_response",
    "json_response",
    "media_type",
    "read_json",
    "serves",
]

Handler = Callable[[httpx.Request, Mapping[str, str]], httpx.Response]
"""A route's handler: the request and its percent-decoded path parameters."""

OPERATION_EXTENSION = "faceguard.emulator.operation"
"""Response (and request) extension naming the contract operation that answered."""

MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects a request body may have. The contracts' deepest
request schema nests 3 levels; 32 leaves room without letting a body exhaust the stack."""

_SURROGATE = re.compile("[\ud800-\udfff]")


class FaceApiError(Exception):
    """A refusal in the service's words: HTTP status, error code and message.

    Raised by every handler of every emulated service (Face, liveness, Content Safety, the
    control routes); the router answers it with ``error_response``.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class EngineUnavailable(ImportError):
    """The face engine cannot be built (OpenCV, numpy or the model package is missing, or a
    model file fails its checksum); install ``faceguard[emulator]`` or inject an engine."""


# -- answers -----------------------------------------------------------------------------------


def json_response(
    status: int,
    body: object,
    *,
    operation: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """A JSON answer (compact, UTF-8)."""
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    response = httpx.Response(
        status,
        content=content,
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )
    if operation is not None:
        response.extensions[OPERATION_EXTENSION] = operation
    return response


def empty_response(
    status: int, *, operation: str | None = None, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """An answer without a body (creates, updates, deletes, train)."""
    response = httpx.Response(status, headers=dict(headers or {}))
    if operation is not None:
        response.extensions[OPERATION_EXTENSION] = operation
    return response


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    operation: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """The services' error shape, with ``x-ms-error-code``."""
    return json_response(
        status,
        {"error": {"code": code, "message": message}},
        operation=operation,
        headers={"x-ms-error-code": code, **(headers or {})},
    )


def serves(request: httpx.Request, operation: str) -> str:
    """Record that ``request`` is served by contract operation ``operation`` (an overload,
    such as ``...DetectFromUrl``, is known only once the body is read); the router labels the
    answer with it, refusals included. Returns ``operation``."""
    request.extensions[OPERATION_EXTENSION] = operation
    return operation


# -- reading -----------------------------------------------------------------------------------


def media_type(request: httpx.Request) -> str:
    """The request's media type, lower case, without parameters."""
    value: str = request.headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower()


def read_json(
    content: bytes,
    *,
    code: str,
    message: str,
    empty: object = ...,
) -> Any:
    """The JSON value of a request body, or ``FaceApiError(400, code, message)``.

    Args:
        content: the body's bytes (``empty`` stands for an empty body).
        code, message: the service's refusal of a body it cannot parse.
        empty: the value of an empty body; by default an empty body is refused.

    The parse is strict: ``NaN``/``Infinity`` are refused, and so are nesting deeper than
    ``MAX_JSON_DEPTH`` and strings (keys included) holding a lone surrogate.
    """
    if not content and empty is not ...:
        return empty
    try:
        value = json.loads(content, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise FaceApiError(400, code, message) from None
    if not _sound(value):
        raise FaceApiError(400, code, message)
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _sound(value: object) -> bool:
    """Whether ``value`` nests at most ``MAX_JSON_DEPTH`` deep and every string in it (keys
    included) is valid Unicode text: iterative, so a hostile body cannot exhaust the stack."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return False
        elif isinstance(item, list):
            if depth >= MAX_JSON_DEPTH:
                return False
            pending.extend((child, depth + 1) for child in item)
        elif isinstance(item, dict):
            if depth >= MAX_JSON_DEPTH:
                return False
            for key, child in item.items():
                if _SURROGATE.search(key):
                    return False
                pending.append((child, depth + 1))
    return True
