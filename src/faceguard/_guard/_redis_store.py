"""A ``GuardStore`` on a Redis server, shared by every app instance that points at it.

Values live at ``{prefix}:{namespace}:{key}`` and expire with the server's TTL
(``SET ... PX``); ``add_if_absent`` is ``SET NX PX``, atomic on the server. Event counts live
in sorted sets at ``{prefix}#events:{namespace}:{key}`` (outside the ``{prefix}:`` key
space, so ``keys`` never sees them) and are counted by a Lua script that reads the
SERVER's clock, so machines with skewed clocks agree on the window.

Every Redis failure (refused or lost connection, timeout, authentication, an error reply)
raises ``GuardStoreError``, never a ``redis`` exception; by default a request waits at
most 5 s and a lost connection is retried once, so a dead server fails closed quickly. The
``socket_timeout`` and ``socket_connect_timeout`` query parameters of the URL override the
timeouts. Credentials (in the URL, or ``username=`` / ``password=`` for an ACL user) never
appear in ``repr`` or in an error; ``rediss://`` URLs connect over TLS (``_redis_connect``).

Minimisation (GUARD.md §4.4): faceIds, subjects and device ids reach Redis only as keyed
pseudonyms (``pseudonym``). The key (``key=`` or ``FACEGUARD_STORE_KEY``, the same in every
process that shares the server) cannot be made up here: without one, ``pseudonym`` raises
``StoreKeyError``, so the store still serves a ``RateLimiter`` (which stores no identifier) but
not a guard. On first use the store checks the key against the one the data was written
with, and converts entries an earlier version stored in clear (``_migrate``).

Requires the ``redis`` package: ``pip install "faceguard[redis]"``.
"""

from __future__ import annotations

import contextlib
import math
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._exceptions import ConfigurationError, GuardStoreError, StoreKeyError
from .._ratelimit._bucket import BUCKET_LUA, BucketCommand, BucketReply
from ._pseudonym import HOW_TO_MAKE_A_KEY, Pseudonymiser, configured_key
from ._redis_connect import connect, redact
from ._store import GuardStore, check_key, check_keys, check_limit, check_slot

if TYPE_CHECKING:
    import redis

__all__ = ["RedisStore"]

_T = TypeVar("_T")

# KEYS[1] the sorted set; ARGV[1] window in microseconds, ARGV[2] a unique member,
# ARGV[3] the set's expiry in milliseconds. Scores are the server's time in microseconds
# (below 2**53, exact in Lua's doubles). An event older than the window is one whose score
# is <= now - window, as in MemoryStore.
_COUNT_EVENT_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
redis.call('ZADD', KEYS[1], now, ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return n
"""

# count_events: KEYS the sorted sets; ARGV[1] window (us), ARGV[2] a unique member prefix,
# ARGV[3] expiry (ms), ARGV[4] the most events kept per set. One script, so one round trip
# and one atomic step for every key of an identify call.
_COUNT_EVENTS_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[4])
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[1]))
  redis.call('ZADD', key, now, ARGV[2] .. ':' .. i)
  redis.call('ZREMRANGEBYRANK', key, 0, -(limit + 1))
  counts[i] = redis.call('ZCARD', key)
  redis.call('PEXPIRE', key, ARGV[3])
end
return counts
"""

_GLOB_SPECIAL = frozenset("\\*?[]")


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in _GLOB_SPECIAL else ch for ch in text)


def _ms(seconds: float) -> int:
    """Whole milliseconds for PX/PEXPIRE, at least 1."""
    return max(1, math.ceil(seconds * 1000 - 1e-6))


class RedisStore(GuardStore):
    """A ``GuardStore`` on Redis.

    Give ``url`` (``redis://[user[:password]@]host:port/db``, ``rediss://`` for TLS,
    ``unix:///path.sock``), or a ready ``client`` (a ``redis.Redis`` made with
    ``decode_responses=False``; the store then leaves closing it to you).

    Args:
        key: the pseudonymisation key (32 bytes or more), the same in every process sharing
            the server; by default ``FACEGUARD_STORE_KEY``. Needed to serve a guard.
        username: the ACL user, when not in the URL.
        password: its password, when not in the URL.
        ssl_ca_certs: a private CA bundle, for ``rediss://`` URLs.
        ssl_certfile: a client certificate, for ``rediss://`` URLs.
        ssl_keyfile: the client certificate's key, for ``rediss://`` URLs.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "faceguard",
        client: redis.Redis | None = None,
        key: bytes | str | None = None,
        username: str | None = None,
        password: str | None = None,
        ssl_ca_certs: str | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        try:
            import redis
        except ImportError:
            raise ConfigurationError(
                'RedisStore needs the redis package: pip install "faceguard[redis]"'
            ) from None
        if not prefix:
            raise ConfigurationError("RedisStore prefix must not be empty")
        self._prefix = prefix
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._closed = False
        self._store_key = configured_key(key)
        self._pseudonymiser: Pseudonymiser | None = None
        self._ready_lock = threading.Lock()
        if client is None:
            client = connect(
                url,
                what="RedisStore",
                username=username,
                password=password,
                ssl_ca_certs=ssl_ca_certs,
                ssl_certfile=ssl_certfile,
                ssl_keyfile=ssl_keyfile,
            )
            self._owns_client = True
            self._where = redact(url)
        else:
            given = (username, password, ssl_ca_certs, ssl_certfile, ssl_keyfile)
            if any(option is not None for option in given):
                raise ConfigurationError(
                    "RedisStore: username/password/ssl_* configure the connection to url; a "
                    "client you built carries its own"
                )
            self._owns_client = False
            self._where = f"<{type(client).__name__} client>"
        pool_kwargs: dict[str, Any] = getattr(client.connection_pool, "connection_kwargs", {})
        if pool_kwargs.get("decode_responses"):
            raise ConfigurationError(
                "RedisStore needs a client made with decode_responses=False (values are bytes)"
            )
        self._client: redis.Redis = client
        self._count_script = client.register_script(_COUNT_EVENT_LUA)
        self._counts_script = client.register_script(_COUNT_EVENTS_LUA)
        self._bucket_script = client.register_script(BUCKET_LUA)
        # Tests freeze the bucket's clock to check atomicity exactly; None: the server's TIME.
        self._bucket_clock: Callable[[], float] | None = None

    # -- plumbing --------------------------------------------------------------------------

    def _key(self, namespace: str, key: str) -> str:
        self._check_namespace(namespace)
        return f"{self._prefix}:{namespace}:{key}"

    def _events_key(self, namespace: str, key: str) -> str:
        self._check_namespace(namespace)
        return f"{self._prefix}#events:{namespace}:{key}"

    @staticmethod
    def _check_namespace(namespace: str) -> None:
        # A ':' would make (ns "a", key "b:c") and (ns "a:b", key "c") the same Redis key.
        if not namespace or ":" in namespace:
            raise ValueError("a RedisStore namespace must be non-empty and contain no ':'")

    def _call(self, action: str, op: Callable[[redis.Redis], _T]) -> _T:
        if self._closed:
            raise GuardStoreError("Redis guard store is closed")
        try:
            return op(self._client)
        except self._errors as exc:
            # redis-py's messages name the host and the failure, never the password; the
            # exception is not chained, so no frame keeps the arguments.
            raise GuardStoreError(
                f"Redis guard store: {action} failed ({type(exc).__name__}: {exc})"
            ) from None

    @staticmethod
    def _bytes(action: str, reply: object) -> bytes | None:
        if reply is None or isinstance(reply, bytes):
            return reply
        raise GuardStoreError(f"Redis guard store: {action} got a {type(reply).__name__} reply")

    # -- GuardStore --------------------------------------------------------------------------

    def put(self, namespace: str, key: str, value: bytes, *, ttl: float | None = None) -> None:
        check_slot(namespace, key, ttl=ttl, value=value)
        name = self._key(namespace, key)
        blob = bytes(value)
        if ttl is not None and ttl <= 0:
            # Already expired: as if stored and gone (Redis refuses PX 0).
            self._call("put", lambda r: r.delete(name))
            return
        px = None if ttl is None else _ms(ttl)
        self._call("put", lambda r: r.set(name, blob, px=px))

    def get(self, namespace: str, key: str) -> bytes | None:
        check_key(namespace, key)
        name = self._key(namespace, key)
        return self._bytes("get", self._call("get", lambda r: r.get(name)))

    def get_many(self, namespace: str, keys: Sequence[str]) -> list[bytes | None]:
        check_keys(namespace, keys)
        names = [self._key(namespace, key) for key in keys]
        if not names:
            return []
        replies = self._call("get_many", lambda r: r.mget(names))
        if not isinstance(replies, list) or len(replies) != len(names):
            raise GuardStoreError("Redis guard store: get_many got a malformed reply")
        return [self._bytes("get_many", reply) for reply in replies]

    def delete(self, namespace: str, key: str) -> None:
        check_key(namespace, key)
        name = self._key(namespace, key)
        self._call("delete", lambda r: r.delete(name))

    def add_if_absent(
        self, namespace: str, key: str, value: bytes, *, ttl: float | None = None
    ) -> bool:
        check_slot(namespace, key, ttl=ttl, value=value)
        name = self._key(namespace, key)
        blob = bytes(value)
        if ttl is not None and ttl <= 0:
            # Stored and expired at once: it "wins" exactly when no live value is there.
            return self._call("add_if_absent", lambda r: r.exists(name)) == 0
        px = None if ttl is None else _ms(ttl)
        reply = self._call("add_if_absent", lambda r: r.set(name, blob, px=px, nx=True))
        return reply is True

    def count_event(self, namespace: str, key: str, *, window: float) -> int:
        check_slot(namespace, key, window=window)
        name = self._events_key(namespace, key)
        window_us = max(0, math.ceil(window * 1_000_000 - 1e-3))
        args: list[int | str] = [window_us, uuid.uuid4().hex, _ms(window)]
        reply = self._call(
            "count_event", lambda r: self._count_script(keys=[name], args=args, client=r)
        )
        if not isinstance(reply, int):
            raise GuardStoreError(
                f"Redis guard store: count_event got a {type(reply).__name__} reply"
            )
        return reply

    def count_events(
        self, namespace: str, keys: Sequence[str], *, window: float, limit: int
    ) -> list[int]:
        """``GuardStore`` batch count (see ``_store.count_events``): one Lua script on the
        server's clock for every key, each sorted set trimmed to its newest ``limit``."""
        check_keys(namespace, keys)
        check_slot(namespace, window=window)
        check_limit(limit)
        names = [self._events_key(namespace, key) for key in keys]
        if not names:
            return []
        window_us = max(0, math.ceil(window * 1_000_000 - 1e-3))
        args: list[int | str] = [window_us, uuid.uuid4().hex, _ms(window), limit]
        reply = self._call(
            "count_events", lambda r: self._counts_script(keys=names, args=args, client=r)
        )
        if (
            not isinstance(reply, list)
            or len(reply) != len(names)
            or not all(isinstance(n, int) for n in reply)
        ):
            raise GuardStoreError("Redis guard store: count_events got a malformed reply")
        return [int(n) for n in reply]

    def update_bucket(self, namespace: str, key: str, command: BucketCommand) -> BucketReply:
        check_slot(namespace, key)
        # Outside the ``{prefix}:`` key space, like the event sets, so ``keys`` never sees it.
        self._check_namespace(namespace)
        name = f"{self._prefix}#bucket:{namespace}:{key}"
        adaptive = command.adaptive
        args: list[str] = [
            command.op,
            repr(float(command.rate)),
            repr(float(command.burst)),
            repr(float(command.max_wait)) if math.isfinite(command.max_wait) else "-1",
            "1" if adaptive is not None else "0",
            repr(adaptive.decrease if adaptive else 1.0),
            repr(adaptive.floor if adaptive else 1.0),
            repr(adaptive.recovery if adaptive else 1.0),
            repr(adaptive.hold if adaptive else 0.0),
            str(adaptive.threshold if adaptive else 1),
        ]
        if self._bucket_clock is not None:
            args.append(repr(self._bucket_clock()))
        reply = self._call(
            "update_bucket", lambda r: self._bucket_script(keys=[name], args=args, client=r)
        )
        try:
            granted, wait, rate = reply
            return BucketReply(granted=int(granted) == 1, wait=float(wait), rate=float(rate))
        except (TypeError, ValueError):
            raise GuardStoreError(
                "Redis guard store: update_bucket got a malformed reply"
            ) from None

    def keys(self, namespace: str) -> list[str]:
        check_slot(namespace)
        start = self._key(namespace, "")
        pattern = _glob_escape(start) + "*"

        def scan(r: redis.Redis) -> list[str]:
            found: set[str] = set()  # SCAN may return a key more than once
            for name in r.scan_iter(match=pattern, count=500):
                raw = name if isinstance(name, bytes) else str(name).encode()
                found.add(raw.decode("utf-8", "surrogateescape")[len(start) :])
            return sorted(found)

        return self._call("keys", scan)

    def pseudonym(self, kind: str, value: str) -> str:
        pseudonymiser = self._pseudonymiser
        if pseudonymiser is None:
            pseudonymiser = self._prepare()
        return pseudonymiser(kind, value)

    def _prepare(self) -> Pseudonymiser:
        from ._migrate import prepare

        with self._ready_lock:
            if self._pseudonymiser is None:
                if self._store_key is None:
                    raise StoreKeyError(
                        "RedisStore has no pseudonymisation key, and one cannot be made up: "
                        "every process sharing the server must derive the same pseudonyms. "
                        + HOW_TO_MAKE_A_KEY[0].upper()
                        + HOW_TO_MAKE_A_KEY[1:]
                    )
                pseudonymiser = Pseudonymiser(self._store_key)
                # Converted entries: see _migrate on rewriting the server's AOF afterwards.
                prepare(self, pseudonymiser, what=f"RedisStore({self._where!r})")
                self._pseudonymiser = pseudonymiser
            return self._pseudonymiser

    def close(self) -> None:
        """Close the connections this store opened; later calls raise ``GuardStoreError``."""
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            with contextlib.suppress(*self._errors):
                self._client.close()

    def __repr__(self) -> str:
        return f"RedisStore({self._where!r}, prefix={self._prefix!r})"
