"""The emulator's traffic log, and the control routes that script faults from another process.

Every service request (not the ``/_emulator/...`` control routes) is recorded as an
``Arrival``: when it arrived on the emulator's clock, its method and path, and its outcome
(the final status, or ``"dropped"``). ``Faults.wrap`` records it once the answer is known;
the log keeps the last 200,000 arrivals. A request the server refuses before the emulator
sees it (``EmulatorServer(key=...)`` with a wrong key, an unreadable body) is not recorded.

``peak(window)`` is the largest number of arrivals within any half-open window
``[t, t + window)``: what a client-side rate limiter is judged by. With
``accepted_only=True`` only the requests the service let in are counted: those the TPS limit
answered 429 are left out, and so are those a scripted fault answered (a status, or a refused
connection) before they reached the limit. A connection dropped after handling was let in.
When a TPS limit is set, a request's ``at`` is the time the limit judged it (its arrival,
after any scripted ``delay``), so that the log and the limit agree and
``peak(1.0, accepted_only=True)`` never exceeds the limit.

Control routes (server mode; JSON; they need the key as the other control routes do):

- ``POST /_emulator/faults`` with ``{"route": "*", "status": 429, "retry_after": 1,
  "drop": false, "probability": 0.1, "times": null, "method": null, "delay": 0, "code":
  null, "message": null, "seed": null}`` (every member optional except that a fault needs
  ``status``, ``drop`` or ``delay``; ``route`` defaults to ``"*"`` and ``times`` to 1, as
  ``Faults.add``; ``seed`` reseeds the generator that ``probability`` draws from) answers 201
  ``{"index": i, "rules": n}``. ``GET`` lists the rules with their hits; ``DELETE`` removes
  every rule and the TPS limit (204). A bad body answers 400 ``InvalidFault``.
- ``PUT /_emulator/tps`` with ``{"tps": 10}`` (optionally ``"routes": [...]``) or
  ``{"tps": null}``: 200 ``{"tps": ...}``; 400 ``InvalidTps``.
- ``GET /_emulator/traffic?window=1.0`` answers ``{"count", "peak", "peak_accepted",
  "throttled", "faulted", "dropped", "statuses": {"200": n, "dropped": k, ...}, "first", "last",
  "window"}`` (``first`` / ``last`` are arrival times, null for an empty log); with
  ``&full=1`` also ``"arrivals": [{"at", "method", "path", "status", "throttled",
  "faulted"}, ...]``.
  ``DELETE /_emulator/traffic`` empties the log (204).
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx

from ._face_routes import empty_response, error_response, json_response

if TYPE_CHECKING:
    from ._faults import Faults
    from ._router import Emulator

__all__ = ["DROPPED", "Arrival", "TrafficLog", "peak_of", "register_routes"]

DROPPED: Literal["dropped"] = "dropped"
"""The ``status`` of a request whose connection was dropped (a ``drop`` fault)."""
_MAX_ARRIVALS = 200_000
_FAULT_FIELDS = frozenset(
    {
        "route",
        "status",
        "retry_after",
        "delay",
        "drop",
        "probability",
        "times",
        "method",
        "code",
        "message",
        "seed",
    }
)


@dataclass(frozen=True)
class Arrival:
    """One service request as the emulator met it.

    Attributes:
        at: arrival time on the emulator's clock.
        method: the HTTP method.
        path: the URL path (with the service prefix).
        status: the final status answered, or ``"dropped"``.
        throttled: whether the TPS limit answered it (429).
        faulted: whether a scripted fault answered it (a status, or a refused connection)
            before it reached the TPS limit.
    """

    at: float
    method: str
    path: str
    status: int | Literal["dropped"]
    throttled: bool = False
    faulted: bool = False

    @property
    def accepted(self) -> bool:
        """Whether the service let the request in (neither throttled nor faulted)."""
        return not (self.throttled or self.faulted)


def peak_of(times: Iterable[float], window: float = 1.0) -> int:
    """The largest number of ``times`` within any half-open window ``[t, t + window)``."""
    if not window > 0 or math.isinf(window):
        raise ValueError("window must be a positive number of seconds")
    ordered = sorted(times)
    best = 0
    start = 0
    for end, at in enumerate(ordered):
        # A window worth finding starts at an arrival: slide its start up to ``at - window``.
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


class TrafficLog:
    """A bounded, thread-safe log of arrivals (the last ``maxlen``)."""

    def __init__(self, maxlen: int = _MAX_ARRIVALS) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        self._lock = threading.Lock()
        self._arrivals: deque[Arrival] = deque(maxlen=maxlen)

    def record(self, arrival: Arrival) -> None:
        """Append ``arrival`` (the oldest is forgotten once the log is full)."""
        with self._lock:
            self._arrivals.append(arrival)

    def arrivals(self) -> list[Arrival]:
        """The recorded arrivals, in the order their answers were decided."""
        with self._lock:
            return list(self._arrivals)

    def clear(self) -> None:
        """Forget every arrival."""
        with self._lock:
            self._arrivals.clear()

    def peak(self, window: float = 1.0, *, accepted_only: bool = False) -> int:
        """The most arrivals within any half-open window of ``window`` seconds; with
        ``accepted_only`` only those the service let in (``Arrival.accepted``)."""
        arrivals = self.arrivals()
        return peak_of((a.at for a in arrivals if a.accepted or not accepted_only), window)

    def summary(self, window: float = 1.0, *, full: bool = False) -> dict[str, Any]:
        """The JSON of ``GET /_emulator/traffic`` (see the module docstring)."""
        arrivals = self.arrivals()
        times = [a.at for a in arrivals]
        statuses = Counter(str(a.status) for a in arrivals)
        summary: dict[str, Any] = {
            "count": len(arrivals),
            "window": window,
            "peak": peak_of(times, window),
            "peak_accepted": peak_of((a.at for a in arrivals if a.accepted), window),
            "throttled": sum(1 for a in arrivals if a.throttled),
            "faulted": sum(1 for a in arrivals if a.faulted),
            "dropped": statuses.get(DROPPED, 0),
            "statuses": dict(sorted(statuses.items())),
            "first": min(times) if times else None,
            "last": max(times) if times else None,
        }
        if full:
            summary["arrivals"] = [asdict(a) for a in arrivals]
        return summary


# -- control routes ----------------------------------------------------------------------------


class _BadBody(ValueError):
    pass


def _json_object(request: httpx.Request) -> dict[str, Any]:
    try:
        body = json.loads(request.content or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _BadBody(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise _BadBody("the body must be a JSON object")
    return body


def _number(body: Mapping[str, Any], name: str, *, nullable: bool = True) -> float | None:
    value = body.get(name)
    if value is None and nullable:
        return None
    # bool is an int in Python, but ``true`` is not a number of seconds.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadBody(f"'{name}' must be a number{' or null' if nullable else ''}")
    return float(value)


def _integer(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadBody(f"'{name}' must be an integer or null")
    return value


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _BadBody(f"'{name}' must be a string or null")
    return value


def _fault_kwargs(body: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - _FAULT_FIELDS)
    if unknown:
        raise _BadBody(
            f"unknown member(s) {', '.join(unknown)}; expected {', '.join(sorted(_FAULT_FIELDS))}"
        )
    drop = body.get("drop", False)
    if drop is None:
        drop = False
    if not isinstance(drop, bool) and drop not in ("response", "connect"):
        raise _BadBody("'drop' must be true, false, 'response' or 'connect'")
    route = body.get("route", "*")
    if not isinstance(route, str) or not route:
        raise _BadBody("'route' must be a route template or '*'")
    return {
        "route": route,
        "status": _integer(body, "status"),
        "retry_after": _number(body, "retry_after"),
        "delay": _number(body, "delay") or 0.0,
        "drop": drop,
        "probability": _number(body, "probability"),
        "times": _integer(body, "times") if "times" in body else 1,
        "method": _text(body, "method"),
        "code": _text(body, "code"),
        "message": _text(body, "message"),
    }


def _rule_json(rule: Any) -> dict[str, Any]:
    return {
        "route": rule.route,
        "method": rule.method,
        "status": rule.status,
        "retry_after": rule.retry_after,
        "delay": rule.delay,
        "drop": rule.drop,
        "probability": rule.probability,
        "remaining": rule.remaining,
        "hits": rule.hits,
    }


def register_routes(emulator: Emulator, faults: Faults) -> None:
    """Serve the control routes of the module docstring for ``faults`` on ``emulator``."""

    def add_fault(request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        try:
            body = _json_object(request)
            kwargs = _fault_kwargs(body)
            seed = _integer(body, "seed")
            if seed is not None:
                faults.seed(seed)
            rule = faults.add(**kwargs)
        except ValueError as exc:  # _BadBody, and Faults.add's own checks
            return error_response(400, "InvalidFault", str(exc))
        rules = faults.rules
        index = next((i for i, r in enumerate(rules) if r is rule), len(rules) - 1)
        return json_response(201, {"index": index, "rules": len(rules)})

    def list_faults(_request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        return json_response(200, {"rules": [_rule_json(r) for r in faults.rules]})

    def clear_faults(_request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        faults.clear()
        return empty_response(204)

    def set_tps(request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        try:
            body = _json_object(request)
            if "tps" not in body:
                raise _BadBody("'tps' is required (a positive integer, or null for no limit)")
            tps = _integer(body, "tps")
            routes = body.get("routes")
            if routes is not None and (
                not isinstance(routes, list) or not all(isinstance(r, str) for r in routes)
            ):
                raise _BadBody("'routes' must be a list of route templates or null")
            faults.set_tps_limit(tps, routes=routes)
        except ValueError as exc:
            return error_response(400, "InvalidTps", str(exc))
        return json_response(200, {"tps": tps})

    def traffic(request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        raw = request.url.params.get("window", "1.0")
        try:
            window = float(raw)
            summary = faults.traffic_log.summary(
                window, full=request.url.params.get("full", "") in ("1", "true")
            )
        except ValueError:
            return error_response(
                400, "InvalidWindow", f"window must be a positive number of seconds, not {raw!r}"
            )
        return json_response(200, summary)

    def clear_traffic(_request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        faults.clear_traffic()
        return empty_response(204)

    emulator.register("POST", "/_emulator/faults", add_fault)
    emulator.register("GET", "/_emulator/faults", list_faults)
    emulator.register("DELETE", "/_emulator/faults", clear_faults)
    emulator.register("PUT", "/_emulator/tps", set_tps)
    emulator.register("GET", "/_emulator/traffic", traffic)
    emulator.register("DELETE", "/_emulator/traffic", clear_traffic)
