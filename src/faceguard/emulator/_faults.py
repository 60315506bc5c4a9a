"""Scripted faults and a TPS limit, for retry and resilience tests (DESIGN §5).

``Emulator.faults.add(route, ...)`` scripts what the next matching request(s) meet, checked
in the order added; ``Emulator.faults.set_tps_limit(n)`` throttles like the service. Both run
as an emulator hook, before auth and routing. ``/_emulator/...`` control routes are never
faulted or throttled.

- ``status=429, retry_after=2``: the service's throttling answer (Face: code ``429``,
  "Rate limit is exceeded."; Content Safety: ``TooManyRequests``) with ``Retry-After``.
  ``500`` / ``503`` (or any status) answer the service's error shape too; ``code=`` and
  ``message=`` override the body.
- ``delay=seconds``: waits on the emulator's sleep hook (``Emulator.sleep`` when there is
  one, else the injected clock's ``advance``, else ``time.sleep``) and then answers normally,
  or with the scripted status.
- ``drop=True`` (``"response"``): the request is handled, so its effect happens, then the
  connection is dropped without a response: ``httpx.RemoteProtocolError`` in transport mode,
  a closed socket in server mode. This is the case where a non-idempotent call must not be
  retried. ``drop="connect"``: the request never reaches the service: ``httpx.ConnectError``
  in transport mode. Over a real socket the request has already been read by then, so in
  server mode both kinds close the socket without a response.
- ``times=1`` by default; ``times=None`` keeps the fault until ``clear()``.

TPS limit: at most ``n`` requests in any one-second window of the emulator's clock (all
routes, or the given ones); beyond it the answer is 429 with ``Retry-After`` = whole seconds
until the window frees a slot (at least 1), as the service answers.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import httpx

from ._face_routes import json_response

if TYPE_CHECKING:
    from ._router import Emulator

__all__ = ["CONTROL_PREFIX", "FaultRule", "Faults", "register"]

CONTROL_PREFIX = "/_emulator/"
_DROP_MARK = "faceguard.emulator.drop"
_SERVICE_PREFIXES = ("/face/v1.2", "/contentsafety")

DropKind = Literal["response", "connect"]

_FACE_ERRORS = {
    429: ("429", "Rate limit is exceeded."),
    500: ("InternalServerError", "An internal server error occurred."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable."),
}
# Azure's documented Content Safety codes.
_CONTENT_SAFETY_ERRORS = {
    429: (
        "TooManyRequests",
        "The current requests-per-second has exceeded the quota for your current tier.",
    ),
    500: ("InternalError", "Some unexpected situations on the server side were triggered."),
    503: ("ServerBusy", "The server side cannot process the request temporarily."),
}


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template)
    pattern = "".join(
        "[^/:]+" if part.startswith("{") and part.endswith("}") else re.escape(part)
        for part in parts
    )
    return re.compile(pattern)


def _route_paths(path: str) -> list[str]:
    """The request path, and the path below its service prefix (both are matched)."""
    paths = [path]
    for prefix in _SERVICE_PREFIXES:
        if path.startswith(prefix + "/"):
            paths.append(path[len(prefix) :])
    return paths


@dataclass
class FaultRule:
    """One scripted fault. ``remaining`` is None for a fault kept until cleared."""

    route: str
    method: str | None = None
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    drop: DropKind | None = None
    code: str | None = None
    message: str | None = None
    remaining: int | None = 1
    hits: int = 0
    _regex: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.route != "*":
            self._regex = _template_regex(self.route)

    def matches(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self._regex is None:
            return True
        return any(self._regex.fullmatch(p) for p in _route_paths(path))


class Faults:
    """The fault script of one emulator (``Emulator.faults``). Thread-safe."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._clock = clock
        self.sleep: Callable[[float], None] = sleep or time.sleep
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._tps: int | None = None
        self._tps_routes: list[re.Pattern[str]] | None = None
        self._window: deque[float] = deque()
        self.throttled = 0
        """How many requests the TPS limit answered with 429."""

    # -- script --------------------------------------------------------------------------------

    def add(
        self,
        route: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
        drop: bool | DropKind = False,
        times: int | None = 1,
        method: str | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> FaultRule:
        """Script a fault for requests matching ``route``.

        Args:
            route: a route template as the client writes it (``/detectLiveness-sessions``,
                ``/persongroups/{personGroupId}``, ``/text/blocklists/{blocklistName}``), with
                or without the service prefix (``/face/v1.2``, ``/contentsafety``); ``"*"``
                for every route.
            status: answer with this status (and the service's error body).
            retry_after: seconds for the ``Retry-After`` header.
            delay: seconds to wait first, on the emulator's sleep hook.
            drop: ``True`` / ``"response"`` or ``"connect"``; see the module docstring.
            times: how many matching requests meet the fault; ``None`` for all of them.
            method: only requests with this HTTP method.
            code, message: the error body's code and message instead of the service's.
        """
        drop_kind: DropKind | None = "response" if drop is True else (drop or None)
        if drop_kind not in (None, "response", "connect"):
            raise ValueError("drop must be True, 'response' or 'connect'")
        if status is None and not drop_kind and not delay:
            raise ValueError("a fault needs status=, drop= or delay=")
        if status is not None and drop_kind:
            raise ValueError("a dropped connection has no status")
        if status is not None and not 400 <= status <= 599:
            raise ValueError("status must be an error status (400..599)")
        if delay < 0 or (retry_after is not None and retry_after < 0):
            raise ValueError("delay and retry_after must not be negative")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for always)")
        rule = FaultRule(
            route=route,
            method=method,
            status=status,
            retry_after=retry_after,
            delay=float(delay),
            drop=drop_kind,
            code=code,
            message=message,
            remaining=times,
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def set_tps_limit(self, tps: int | None, *, routes: Iterable[str] | None = None) -> None:
        """Answer 429 beyond ``tps`` requests per second (``None`` removes the limit)."""
        if tps is not None and tps < 1:
            raise ValueError("tps must be at least 1")
        with self._lock:
            self._tps = tps
            self._tps_routes = None if routes is None else [_template_regex(r) for r in routes]
            self._window.clear()

    def clear(self) -> None:
        """Remove every scripted fault and the TPS limit."""
        with self._lock:
            self._rules.clear()
            self._tps = None
            self._tps_routes = None
            self._window.clear()
            self.throttled = 0

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    # -- applying ------------------------------------------------------------------------------

    def hook(self, request: httpx.Request) -> httpx.Response | None:
        """The emulator hook: the fault's answer, or None to let the request through.

        Marks a request whose connection is to be dropped after handling; ``wrap`` drops it.
        """
        rule, response = self.before(request)
        if rule is not None and rule.drop == "response":
            request.extensions[_DROP_MARK] = True
        return response

    def wrap(
        self, handle: Callable[[httpx.Request], httpx.Response]
    ) -> Callable[[httpx.Request], httpx.Response]:
        """``handle`` that drops the connection of requests ``hook`` marked, once handled."""

        def dropping(request: httpx.Request) -> httpx.Response:
            response = handle(request)
            if request.extensions.get(_DROP_MARK):
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response (emulator fault)",
                    request=request,
                )
            return response

        return dropping

    def before(self, request: httpx.Request) -> tuple[FaultRule | None, httpx.Response | None]:
        """The fault that applies to ``request``: (the rule, a response to answer instead).

        A ``drop="connect"`` fault raises ``httpx.ConnectError`` here; a
        ``drop="response"`` rule is returned for the caller to drop after handling.
        """
        path = request.url.path
        if path.startswith(CONTROL_PREFIX):
            return None, None
        with self._lock:
            rule = next((r for r in self._rules if r.matches(request.method, path)), None)
            if rule is not None:
                rule.hits += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
        if rule is not None and rule.delay:
            self.sleep(rule.delay)
        if rule is not None and rule.drop == "connect":
            raise httpx.ConnectError("connection refused (emulator fault)", request=request)
        if rule is not None and rule.status is not None:
            return rule, self._error(path, rule.status, rule.retry_after, rule.code, rule.message)
        throttled = self._throttle(path)
        if throttled is not None:
            return rule, throttled
        return rule, None

    def _throttle(self, path: str) -> httpx.Response | None:
        with self._lock:
            if self._tps is None:
                return None
            if self._tps_routes is not None and not any(
                regex.fullmatch(p) for regex in self._tps_routes for p in _route_paths(path)
            ):
                return None
            now = self._clock()
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) < self._tps:
                self._window.append(now)
                return None
            wait = max(1, math.ceil(self._window[0] + 1.0 - now))
            self.throttled += 1
        code, message = _errors_for(path)[429]
        if code == "429":
            message = f"Rate limit is exceeded. Try again in {wait} seconds."
        return _error_response(429, code, message, float(wait))

    def _error(
        self,
        path: str,
        status: int,
        retry_after: float | None,
        code: str | None,
        message: str | None,
    ) -> httpx.Response:
        default_code, default_message = _errors_for(path).get(
            status, (str(status), f"Emulated HTTP {status} fault.")
        )
        return _error_response(
            status, code or default_code, message or default_message, retry_after
        )


def _errors_for(path: str) -> dict[int, tuple[str, str]]:
    return _CONTENT_SAFETY_ERRORS if path.startswith("/contentsafety") else _FACE_ERRORS


def _error_response(
    status: int, code: str, message: str, retry_after: float | None
) -> httpx.Response:
    headers = {"x-ms-error-code": code}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    return json_response(status, {"error": {"code": code, "message": message}}, headers=headers)


def _sleep_hook(emulator: Any) -> Callable[[float], None]:
    sleep = getattr(emulator, "sleep", None)
    if callable(sleep):
        return sleep  # type: ignore[no-any-return]
    advance = getattr(getattr(emulator, "clock", None), "advance", None)
    if callable(advance):
        return advance  # type: ignore[no-any-return]
    return time.sleep


def register(emulator: Emulator) -> Faults:
    """Set ``emulator.faults``, applied by a hook before auth and routing.

    ``emulator.handle`` is wrapped so that a ``drop="response"`` fault can drop the connection
    after the request was handled.
    """
    clock = emulator.clock
    faults = Faults(clock=lambda: float(clock()), sleep=_sleep_hook(emulator))
    emulator.faults = faults
    emulator.add_hook(faults.hook)
    emulator.handle = faults.wrap(emulator.handle)  # type: ignore[method-assign,assignment]
    return faults
