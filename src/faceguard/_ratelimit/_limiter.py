"""``RateLimiter``: a client-side token bucket per Face resource, shared through a store.

A Face resource has a transactions-per-second limit for all its callers together. Every app
instance that builds its clients with a ``RateLimiter`` on the same ``GuardStore`` shares one
bucket per resource (keyed by the endpoint's host): threads and asyncio tasks of one process
through a ``MemoryStore``, processes of one machine through a ``SQLiteStore`` file, and
machines through a ``RedisStore`` (an atomic Lua script on the server's clock).

The transport asks the limiter before *every attempt*, retries included, and reports each
429 it receives; the bucket then lowers its rate and climbs back over a few seconds
(``AdaptiveRate``). The limiter only computes waits: the client sleeps with its own sleep
function, so an async client never blocks its event loop while waiting for a slot.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .._exceptions import GuardStoreError, InvalidInputError, RateLimitWaitError
from ._bucket import AdaptiveRate, BucketCommand, BucketReply

if TYPE_CHECKING:
    from .._guard._store import GuardStore

__all__ = ["RateLimiter"]

_NAMESPACE = "ratelimit"
_DEFAULT_MAX_WAIT = 60.0


def resource_key(endpoint: str) -> str:
    """The bucket of an endpoint: its lower-cased host and port (no scheme, no path)."""
    parts = urlsplit(endpoint)
    return (parts.netloc or parts.path).lower()


class RateLimiter:
    """A token bucket per Face resource, in transactions per second.

    Give one to a client (``FaceClient(..., rate_limit=RateLimiter(10))``); every request the
    client sends (retries included) first takes a slot. Share the same ``store`` between
    processes or machines to share the budget: every limiter on that store with the same
    endpoint draws from one bucket.

    Args:
        tps: the resource's budget in requests per second (the Face API's S0 tier allows 10;
            give a little less when other, unlimited callers share the resource).
        burst: how many requests may go back to back after an idle period. 1 (the default)
            spaces every request ``1 / tps`` apart, which a per-second service window accepts
            without a 429.
        store: where the bucket lives; a private ``MemoryStore`` by default (one process).
        adaptive: how to react to a 429 (``AdaptiveRate()`` by default); ``False`` keeps the
            rate fixed.
        max_wait: the longest a request may wait for its slot; a request that would wait
            longer raises ``RateLimitWaitError`` without being sent (and without taking a slot).
        name: the bucket's name; by default the endpoint's host, so that every client of one
            resource shares it.
    """

    def __init__(
        self,
        tps: float,
        *,
        burst: int = 1,
        store: GuardStore | None = None,
        adaptive: AdaptiveRate | bool = True,
        max_wait: float = _DEFAULT_MAX_WAIT,
        name: str | None = None,
    ) -> None:
        # InvalidInputError is a ValueError (and a FaceGuardError): typed for every caller.
        if not _positive_finite(tps):
            raise InvalidInputError(
                "tps", "range", "tps must be a positive, finite number of requests per second"
            )
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise InvalidInputError(
                "burst", "range", "burst must be a whole number of requests, at least 1"
            )
        if not (_positive_finite(max_wait) or (type(max_wait) in (int, float) and max_wait == 0)):
            raise InvalidInputError(
                "max_wait", "range", "max_wait must be a finite, non-negative number of seconds"
            )
        if name is not None and (not isinstance(name, str) or not name or not name.isprintable()):
            raise InvalidInputError("name", "pattern", "name must be a non-empty printable string")
        if store is None:
            from .._guard._store import MemoryStore

            store = MemoryStore()
        self.tps = float(tps)
        self.burst = burst
        self.store = store
        if isinstance(adaptive, AdaptiveRate):
            self.adaptive: AdaptiveRate | None = adaptive
        elif adaptive is True or adaptive is False:
            self.adaptive = AdaptiveRate() if adaptive else None
        else:
            raise InvalidInputError(
                "adaptive", "type", "adaptive must be an AdaptiveRate, True or False"
            )
        self.max_wait = float(max_wait)
        self.name = name
        self._reserve = BucketCommand(
            op="reserve",
            rate=self.tps,
            burst=float(burst),
            max_wait=self.max_wait,
            adaptive=self.adaptive,
        )
        self._throttled = BucketCommand(
            op="throttled", rate=self.tps, burst=float(burst), adaptive=self.adaptive
        )
        self._peek = BucketCommand(
            op="peek", rate=self.tps, burst=float(burst), adaptive=self.adaptive
        )
        # The async path runs network stores in a worker thread; the memory store answers in
        # a few microseconds, less than a thread hop costs.
        from .._guard._store import MemoryStore

        self.local = isinstance(store, MemoryStore)

    # -- the two calls the transports make ---------------------------------------------------

    def bucket_for(self, endpoint: str) -> str:
        """The bucket a client of ``endpoint`` draws from."""
        return self.name or resource_key(endpoint)

    def reserve(self, bucket: str) -> float:
        """Book the next slot of ``bucket``; return the seconds to wait before sending.

        Raises:
            RateLimitWaitError: the wait would exceed ``max_wait``; nothing was booked.
            GuardStoreError: the store failed (the request is not sent).
        """
        reply = self._run(bucket, self._reserve)
        if not reply.granted:
            raise RateLimitWaitError(
                f"the client-side rate limit ({reply.rate:g} requests/s on {bucket!r}) would "
                f"delay this request {reply.wait:.1f} s, more than max_wait={self.max_wait:g} s; "
                "nothing was sent",
                wait=reply.wait,
            )
        return reply.wait

    def throttled(self, bucket: str) -> float:
        """Report a 429 on ``bucket``; return the rate now in force (requests per second)."""
        return self._run(bucket, self._throttled).rate

    def current(self, bucket: str) -> tuple[float, float]:
        """(the rate in force, the wait a request would have now) for ``bucket``; books
        nothing. For dashboards and tests."""
        reply = self._run(bucket, self._peek)
        return reply.rate, reply.wait

    async def areserve(self, bucket: str) -> float:
        """``reserve`` for async clients: a network store is asked from a worker thread."""
        if self.local:
            return self.reserve(bucket)
        import asyncio

        return await asyncio.to_thread(self.reserve, bucket)

    async def athrottled(self, bucket: str) -> float:
        """``throttled`` for async clients."""
        if self.local:
            return self.throttled(bucket)
        import asyncio

        return await asyncio.to_thread(self.throttled, bucket)

    def _run(self, bucket: str, command: BucketCommand) -> BucketReply:
        reply = self.store.update_bucket(_NAMESPACE, bucket, command)
        if not isinstance(reply, BucketReply):
            # A GuardStore written before rate limiting existed inherits the protocol's stub.
            raise GuardStoreError(
                f"{type(self.store).__name__} does not implement update_bucket, which the "
                "rate limiter needs"
            )
        return reply

    def __repr__(self) -> str:
        return (
            f"RateLimiter(tps={self.tps:g}, burst={self.burst}, store={self.store!r}, "
            f"adaptive={self.adaptive!r}, max_wait={self.max_wait:g})"
        )


def _positive_finite(value: object) -> bool:
    """A number above zero and finite (an int too large for a float is not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and value > 0
    except OverflowError:
        return False
