"""The emulator's traffic log (its control routes are ``_fault_routes``'s).

Every service request (not the ``/_emulator/...`` control routes) is recorded as an
``Arrival``: when it arrived on the emulator's clock, its method and path, and its outcome
(the final status, or ``"dropped"``). The fault middleware (``_faults``) records it once the
answer is known; the log keeps the last 200,000 arrivals. A request the server refuses
before the emulator sees it (``EmulatorServer(key=...)`` with a wrong key, an unreadable
body) is not recorded.

``peak(window)`` is the largest number of arrivals within any half-open window
``[t, t + window)``: what a client-side rate limiter is judged by. With
``accepted_only=True`` only the requests the service let in are counted: those the TPS limit
answered 429 are left out, and so are those a scripted fault answered (a status, or a refused
connection) before they reached the limit. A connection dropped after handling was let in.
When a TPS limit is set, a request's ``at`` is the time the limit judged it (its arrival,
after any scripted ``delay``), so that the log and the limit agree and
``peak(1.0, accepted_only=True)`` never exceeds the limit.

Control routes (``_fault_routes``; server mode; JSON; they need the key as the other control
routes do):

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

import math
import threading
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["DROPPED", "Arrival", "TrafficLog", "peak_of"]

DROPPED: Literal["dropped"] = "dropped"
"""The ``status`` of a request whose connection was dropped (a ``drop`` fault)."""
_MAX_ARRIVALS = 200_000


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
