"""The route table and the middleware chain every request of the emulator goes through.

``Router`` maps a method and a path to a handler by route template
(``/face/v1.2/persongroups/{personGroupId}``) and answers it: the handler's response, or the
error answer of the ``FaceApiError`` it raised, labelled with the contract operation (the
route's, or the overload the handler chose with ``serves``). Faults, traffic recording and
persistence are ``Middleware``: each gets the request and the next step of the chain, so none
of them needs to patch the emulator or be imported by name.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote

import httpx

from ._wire import (
    OPERATION_EXTENSION,
    EngineUnavailable,
    FaceApiError,
    Handler,
    error_response,
)

__all__ = ["Middleware", "Next", "Route", "Router", "run_chain"]

_log = logging.getLogger("faceguard.emulator")

Next = Callable[[httpx.Request], httpx.Response]
"""The rest of the chain, from a middleware's point of view."""


class Middleware(Protocol):
    """One layer around the emulator's answer: return ``call_next(request)`` (possibly
    changed), or an answer of its own, or raise ``httpx.TransportError`` to drop the
    connection."""

    def __call__(self, request: httpx.Request, call_next: Next) -> httpx.Response: ...


def run_chain(
    middleware: Sequence[Middleware], request: httpx.Request, last: Next
) -> httpx.Response:
    """Run ``request`` through ``middleware`` (the first is outermost), then ``last``."""

    def step(index: int) -> Next:
        if index == len(middleware):
            return last
        layer = middleware[index]
        following = step(index + 1)
        return lambda req: layer(req, following)

    return step(0)(request)


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    pattern: re.Pattern[str]
    literal: int
    """Characters outside ``{params}``: more literal routes are tried first."""
    operation: str | None = None
    """The contract operation (``operationId``) served, when the route alone decides it."""


def _compile(template: str) -> tuple[re.Pattern[str], int]:
    parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", template)
    regex = ""
    literal = 0
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
            literal += len(part)
    return re.compile(f"^{regex}$"), literal


class Router:
    """Routes by method and route template (``/face/v1.2/persongroups/{personGroupId}``)."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Route] = {}
        self._ordered: list[Route] = []
        self._lock = threading.Lock()

    def register(
        self, method: str, template: str, handler: Handler, operation: str | None = None
    ) -> None:
        """Add a route; registering a (method, template) again replaces its handler."""
        if not template.startswith("/"):
            raise ValueError(f"route templates start with '/': {template!r}")
        pattern, literal = _compile(template)
        route = Route(method.upper(), template, handler, pattern, literal, operation)
        with self._lock:
            self._routes[(route.method, template)] = route
            self._ordered = sorted(self._routes.values(), key=lambda r: -r.literal)

    def routes(self) -> list[tuple[str, str]]:
        """Every registered (method, template)."""
        with self._lock:
            return sorted(self._routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for a request and its (percent-decoded) path parameters."""
        with self._lock:
            ordered = self._ordered
        for route in ordered:
            if route.method != method.upper():
                continue
            found = route.pattern.match(path)
            if found is not None:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    @staticmethod
    def answer(route: Route, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        """``route``'s answer to ``request``: its handler's response, or the error answer of
        the refusal it raised, labelled with the operation that served it."""
        if route.operation is not None:
            request.extensions.setdefault(OPERATION_EXTENSION, route.operation)
        try:
            response = route.handler(request, params)
        except FaceApiError as exc:
            response = error_response(exc.status, exc.code, exc.message)
        except EngineUnavailable as exc:
            # Code chosen: not a service situation; 501 so that clients do not retry it.
            response = error_response(501, "EngineUnavailable", str(exc))
        except Exception as exc:  # noqa: BLE001 - an emulator bug must still answer
            _log.exception("emulator handler failed: %s %s", request.method, route.template)
            response = error_response(
                500, "InternalServerError", f"The emulator failed: {type(exc).__name__}"
            )
        operation = request.extensions.get(OPERATION_EXTENSION)
        if operation is not None and OPERATION_EXTENSION not in response.extensions:
            response.extensions[OPERATION_EXTENSION] = operation
        return response
