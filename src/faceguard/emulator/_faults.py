"""Scripted faults and a TPS limit, for retry and resilience tests (DESIGN §5).

``Emulator.faults.add(route, ...)`` scripts what the next matching request(s) meet, checked
in the order added; ``Emulator.faults.set_tps_limit(n)`` throttles like the service. Both
run in the fault middleware (``Faults`` is one), before auth and routing. ``/_emulator/...``
control routes are never faulted or throttled.

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
- ``probability=0.1``: a matching request meets the fault with this probability, drawn from
  the ``random.Random`` of ``Faults`` (``Faults(seed=...)`` or ``Faults.seed(n)``: the same
  seed and the same order of requests meet the same faults). Only a request that meets the
  fault uses up one of its ``times``; one that escapes it goes on to the next matching rule.
  ``add_fault_mix(rate)`` splits ``rate`` evenly between a 429 (``Retry-After: 1``), a 503
  and a connection dropped after handling.

TPS limit: at most ``n`` requests in any one-second window of the emulator's clock (all
routes, or the given ones); beyond it the answer is 429 with ``Retry-After`` = whole seconds
until the window frees a slot (at least 1), as the service answers.

Traffic: every service request is recorded (``traffic()``, ``peak(window)``,
``clear_traffic()``; see ``_traffic.py``; ``_fault_routes.py`` serves the ``/_emulator/faults``,
``/_emulator/tps`` and ``/_emulator/traffic`` control routes for server mode).
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from ._routing import Next
from ._traffic import DROPPED, Arrival, TrafficLog
from ._wire import json_response

__all__ = ["CONTROL_PREFIX", "Arrival", "FaultRule", "Faults"]

CONTROL_PREFIX = "/_emulator/"
# Set by the TPS limit on a request it judged: the time it used, and whether it answered 429.
_JUDGED_AT = "faceguard.emulator.judged_at"
_THROTTLED_MARK = "faceguard.emulator.throttled"
# Answered by a scripted fault (a status, or a refused connection) before the TPS limit.
_FAULTED_MARK = "faceguard.emulator.faulted"
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
    probability: float | None = None
    """The chance that a matching request meets the fault; None for every one."""
    _regex: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.route != "*":
            self._regex = _template_regex(self.route)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is one the rule is for (its probability aside)."""
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self._regex is None:
            return True
        return any(self._regex.fullmatch(p) for p in _route_paths(path))


class Faults:
    """The fault script of one emulator (``Emulator.faults``). Thread-safe.

    Args:
        clock: the emulator's clock (TPS windows and arrival times).
        sleep: waits a ``delay`` fault out.
        seed: seeds the generator that ``probability`` faults draw from.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        seed: int | None = None,
    ) -> None:
        self._clock = clock
        self.sleep: Callable[[float], None] = sleep or time.sleep
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not secrets
        self.traffic_log = TrafficLog()
        """Every service request met (``traffic()``, ``peak()``)."""
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
        probability: float | None = None,
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
            probability: the chance (0 < p <= 1) that a matching request meets the fault;
                ``None`` for every one. Only requests that meet it use up ``times``.

        Raises:
            ValueError: a fault that does nothing, or an argument out of its range.
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
        if probability is not None and (
            isinstance(probability, bool) or not 0.0 < probability <= 1.0
        ):
            raise ValueError("probability must be within (0, 1], or None for every request")
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
            probability=None if probability is None else float(probability),
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def add_fault_mix(
        self, rate: float, *, route: str = "*", retry_after: float = 1.0
    ) -> list[FaultRule]:
        """Random faults on ``rate`` of the requests to ``route``, split evenly between a
        429 with ``Retry-After``, a 503 and a connection dropped after handling (kept until
        ``clear()``).

        Raises:
            ValueError: ``rate`` is not within (0, 1].
        """
        if isinstance(rate, bool) or not 0.0 < rate <= 1.0:
            raise ValueError("the fault rate must be within (0, 1]")
        share = rate / 3
        # Each rule draws only for requests the rules before it let through, so its
        # probability is conditional: share / (what is left), which makes each kind ``share``.
        kinds: list[dict[str, Any]] = [
            {"status": 429, "retry_after": retry_after},
            {"status": 503},
            {"drop": "response"},
        ]
        return [
            self.add(route, times=None, probability=min(1.0, share / (1 - i * share)), **kind)
            for i, kind in enumerate(kinds)
        ]

    def seed(self, seed: int | None) -> None:
        """Reseed the generator that ``probability`` faults draw from."""
        with self._lock:
            self._random.seed(seed)

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
        """The scripted faults, in the order they are checked."""
        with self._lock:
            return list(self._rules)

    # -- traffic -------------------------------------------------------------------------------

    def traffic(self) -> list[Arrival]:
        """The service requests met so far (the last 200,000)."""
        return self.traffic_log.arrivals()

    def clear_traffic(self) -> None:
        """Forget the recorded traffic."""
        self.traffic_log.clear()

    def peak(self, window: float = 1.0, *, accepted_only: bool = False) -> int:
        """The most requests that arrived within any half-open window of ``window``
        seconds; with ``accepted_only``, only those the service let in (not answered 429 by
        the TPS limit, nor answered by a scripted fault before it)."""
        return self.traffic_log.peak(window, accepted_only=accepted_only)

    # -- applying ------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request, call_next: Next) -> httpx.Response:
        """The fault middleware: the scripted fault's answer, or the rest of the chain's;
        records every service request in the traffic log, and drops the connection (raises
        ``httpx.RemoteProtocolError``) of a request a ``drop="response"`` fault met, once
        it has been handled."""
        if request.url.path.startswith(CONTROL_PREFIX):
            return call_next(request)
        arrived = self._clock()
        try:
            rule, response = self.before(request)
            if response is None:
                response = call_next(request)
        except httpx.TransportError:  # a drop="connect" fault
            self._record(request, arrived, DROPPED)
            raise
        if rule is not None and rule.drop == "response":
            self._record(request, arrived, DROPPED)
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response (emulator fault)",
                request=request,
            )
        self._record(request, arrived, response.status_code)
        return response

    def _record(
        self, request: httpx.Request, arrived: float, status: int | Literal["dropped"]
    ) -> None:
        # The time the TPS limit judged the request by, when it did, so that the log and the
        # limit agree on which requests share a window.
        at = request.extensions.get(_JUDGED_AT, arrived)
        self.traffic_log.record(
            Arrival(
                at=float(at),
                method=request.method,
                path=request.url.path,
                status=status,
                throttled=bool(request.extensions.get(_THROTTLED_MARK)),
                faulted=bool(request.extensions.get(_FAULTED_MARK)),
            )
        )

    def before(self, request: httpx.Request) -> tuple[FaultRule | None, httpx.Response | None]:
        """The fault that applies to ``request``: (the rule, a response to answer instead).

        A ``drop="connect"`` fault raises ``httpx.ConnectError`` here; a
        ``drop="response"`` rule is returned for the caller to drop after handling.
        """
        path = request.url.path
        if path.startswith(CONTROL_PREFIX):
            return None, None
        with self._lock:
            rule = None
            for candidate in self._rules:
                if not candidate.matches(request.method, path):
                    continue
                # Drawn under the lock: the same seed and request order meet the same faults.
                if (
                    candidate.probability is not None
                    and self._random.random() >= candidate.probability
                ):
                    continue
                rule = candidate
                rule.hits += 1
                if rule.remaining is not None:
                    rule.remaining -= 1
                break
        if rule is not None and rule.delay:
            self.sleep(rule.delay)
        if rule is not None and (rule.drop == "connect" or rule.status is not None):
            request.extensions[_FAULTED_MARK] = True
        if rule is not None and rule.drop == "connect":
            raise httpx.ConnectError("connection refused (emulator fault)", request=request)
        if rule is not None and rule.status is not None:
            return rule, self._error(path, rule.status, rule.retry_after, rule.code, rule.message)
        throttled = self._throttle(request)
        if throttled is not None:
            return rule, throttled
        return rule, None

    def _throttle(self, request: httpx.Request) -> httpx.Response | None:
        path = request.url.path
        with self._lock:
            if self._tps is None:
                return None
            if self._tps_routes is not None and not any(
                regex.fullmatch(p) for regex in self._tps_routes for p in _route_paths(path)
            ):
                return None
            now = self._clock()
            request.extensions[_JUDGED_AT] = now
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) < self._tps:
                self._window.append(now)
                return None
            wait = max(1, math.ceil(self._window[0] + 1.0 - now))
            self.throttled += 1
            request.extensions[_THROTTLED_MARK] = True
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
