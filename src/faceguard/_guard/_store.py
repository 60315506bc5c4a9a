"""The guard's shared state, behind one small interface.

The faceId registry, the consent ledger (withdrawals, used token ids, enrolled persons) and
the liveness caps all keep their state in a ``GuardStore``: in memory (one process), SQLite
(a file that survives restarts, safe under threads), or Redis (many app instances share one
state; keys expire with the server's TTL). Values are opaque bytes; callers serialise.

Every method raises ``GuardStoreError`` when the backend fails, so recognition fails closed.

Minimisation (GUARD.md §4.4): every store holds a *store key* and offers ``pseudonym(kind,
value)``, a keyed HMAC; the registry, the ledger and the liveness caps file faceIds, subjects
and device ids under it and never in clear (``_pseudonym``). A ``MemoryStore`` makes a random
key per object unless given one: its state dies with the process, so nothing needs to agree
with it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from .._exceptions import ConfigurationError, GuardStoreError, InvalidInputError
from .._ratelimit._bucket import BucketCommand, BucketReply, BucketState, apply
from ._pseudonym import Pseudonymiser, as_key, random_key

__all__ = [
    "GuardStore",
    "MemoryStore",
    "check_clock",
    "check_key",
    "check_keys",
    "check_slot",
    "check_store",
    "count_events",
    "require_pseudonyms",
]


@runtime_checkable
class GuardStore(Protocol):
    """Key-value state with expiry, namespaced by the component that owns it."""

    def put(self, namespace: str, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Store ``value``; it disappears after ``ttl`` seconds when one is given."""
        ...

    def get(self, namespace: str, key: str) -> bytes | None:
        """The value, or ``None`` if absent or expired."""
        ...

    def get_many(self, namespace: str, keys: Sequence[str]) -> list[bytes | None]:
        """The values of several keys in one round trip (``None`` where absent), in order."""
        ...

    def delete(self, namespace: str, key: str) -> None:
        """Remove a key; absent keys are ignored."""
        ...

    def add_if_absent(
        self, namespace: str, key: str, value: bytes, *, ttl: float | None = None
    ) -> bool:
        """Atomically store ``value`` unless the key exists; True if it was stored.

        Used for single-use token ids: two processes presenting the same token race here,
        and exactly one wins.
        """
        ...

    def count_event(self, namespace: str, key: str, *, window: float) -> int:
        """Record one event for ``key`` and return how many fell within the last ``window``
        seconds, this one included (atomic)."""
        ...

    def keys(self, namespace: str) -> list[str]:
        """Live keys of a namespace (for sweeps and erasure; not for hot paths)."""
        ...

    def update_bucket(self, namespace: str, key: str, command: BucketCommand) -> BucketReply:
        """Run one token-bucket command atomically and return the bucket's answer.

        The arithmetic is ``faceguard._ratelimit._bucket.apply`` on the store's clock; every
        process sharing the store shares the bucket (the ``RateLimiter``'s state).
        """
        ...

    def pseudonym(self, kind: str, value: str) -> str:
        """The keyed pseudonym under which ``value`` (a faceId, subject or device id of
        ``kind``) is stored: the same in every process sharing the store, never the value.

        Raises:
            StoreKeyError: the store has no key, or not the one its data was written with.
        """
        ...

    def close(self) -> None:
        """Release connections or file handles."""
        ...


def _seconds(value: object) -> bool:
    return (type(value) is int or type(value) is float) and -1e12 <= value <= 1e12


def check_slot(
    namespace: object,
    *keys: object,
    ttl: object = None,
    window: object = 0,
    value: object = b"",
) -> None:
    """A store entry's namespace and keys as text UTF-8 can carry, and its ``ttl`` (or
    window) as a finite number of seconds: checked by every store method, so a caller's bad
    key is ``InvalidInputError`` whatever the backend (SQLite and Redis would otherwise fail
    with ``UnicodeEncodeError`` or ``TypeError``, and memory would take it). Never echoed.

    The guard calls this several times per recognition call with plain ASCII keys: those
    pass on exact-type tests alone; anything else takes the full check below."""
    if type(namespace) is str and namespace.isascii():
        for key in keys:
            if type(key) is not str or not key.isascii():
                break
        else:
            if (
                (ttl is None or _seconds(ttl))
                and _seconds(window)
                and (type(value) is bytes or type(value) is bytearray)
            ):
                return
    _check_slot_fully(namespace, keys, ttl, window, value)


def check_key(namespace: object, key: object) -> None:
    """``check_slot`` for an entry read or deleted by key (no ttl, window or value): what the
    guard does several times per recognition call, so the common case is four C calls."""
    if type(namespace) is str and type(key) is str and namespace.isascii() and key.isascii():
        return
    _check_slot_fully(namespace, (key,), None, 0, b"")


def check_keys(namespace: object, keys: Sequence[object]) -> None:
    """``check_key`` for several keys at once (``get_many``, ``count_events``): the common
    case, text keys all ASCII, in two C calls however many keys (``str.join`` refuses
    anything that is not text)."""
    if type(namespace) is str and namespace.isascii():
        try:
            if "".join(keys).isascii():  # type: ignore[arg-type]
                return
        except TypeError:
            pass  # a key that is not text: the full check says which
    _check_slot_fully(namespace, tuple(keys), None, 0, b"")


def _check_slot_fully(
    namespace: object, keys: tuple[object, ...], ttl: object, window: object, value: object
) -> None:
    for part, text in (("namespace", namespace), *(("key", key) for key in keys)):
        if not isinstance(text, str):
            raise InvalidInputError(part, "type", f"must be a string, not {type(text).__name__}")
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInputError(part, "unicode", "holds a lone surrogate") from None
    for part, seconds in (("ttl", 0 if ttl is None else ttl), ("window", window)):
        # A range, not math.isfinite: False for NaN and infinities, exact for huge ints.
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not -1e12 <= seconds <= 1e12
        ):
            raise InvalidInputError(part, "range", "must be a finite number of seconds")
    if not isinstance(value, bytes | bytearray):
        raise InvalidInputError("value", "type", "must be bytes")


def check_limit(limit: object) -> int:
    """The saturation point of ``count_events``: a positive integer."""
    if type(limit) is not int or not 1 <= limit <= 1_000_000:
        raise InvalidInputError("limit", "range", "must be an integer from 1 to 1000000")
    return limit


def count_events(
    store: GuardStore, namespace: str, keys: Sequence[str], *, window: float, limit: int
) -> list[int]:
    """Record one event for each of ``keys`` and return, per key, how many fell within the
    last ``window`` seconds (this one included), counted up to ``limit`` at most.

    One round trip with the faceguard stores (their ``count_events``): the tracking caps
    (R17) count every identified person of an identify call at once, on the hot path. A
    counter only needs to know whether a cap was passed, so each store keeps at most
    ``limit`` events per key: the cost of a count stays constant however busy a key is.
    A third-party store without the method is served one ``count_event`` per key.
    """
    batch = getattr(store, "count_events", None)
    if batch is not None:
        counts: list[int] = batch(namespace, keys, window=window, limit=limit)
        return counts
    check_limit(limit)
    return [min(store.count_event(namespace, key, window=window), limit) for key in keys]


def check_clock(clock: object, parameter: str = "clock") -> Callable[[], float]:
    """An injected clock, checked when it is handed over: something that is not callable
    would otherwise fail at the first guarded call, as an untyped ``TypeError``."""
    if not callable(clock):
        raise InvalidInputError(parameter, "type", "must be a callable returning epoch seconds")
    return clock


def check_store(store: object, parameter: str) -> GuardStore | None:
    """None or a ``GuardStore`` (any object with its methods), checked when it is handed
    over: another object would fail at its first use as an untyped ``AttributeError``."""
    if store is None:
        return None
    # A store of the version before pseudonymisation gets the message that says why.
    require_pseudonyms(store, parameter)
    if not isinstance(store, GuardStore):
        raise InvalidInputError(
            parameter, "type", f"must be a GuardStore or None, not {type(store).__name__}"
        )
    return store


def require_pseudonyms(store: object, user: str) -> None:
    """Refuse, when it is handed over rather than at the first call, a store written for a
    faceguard version before pseudonymisation (it has no ``pseudonym``)."""
    if not callable(getattr(store, "pseudonym", None)):
        raise ConfigurationError(
            f"{user} needs a GuardStore with pseudonym(kind, value), and "
            f"{type(store).__name__} has none: it would have to keep faceIds and subjects in "
            "clear. Implement it as a keyed HMAC (see MemoryStore), or use a faceguard store"
        )


_SWEEP_AT = 1024
"""Counted keys past which ``MemoryStore.count_events`` drops those whose window ended."""


class MemoryStore(GuardStore):
    """A ``GuardStore`` in this process's memory, thread-safe; the default.

    ``key`` (32 bytes or more) pseudonymises identifiers; by default a random key made for
    this object, which is all a store that no other process reads needs.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.time, key: bytes | str | None = None
    ) -> None:
        self._clock = check_clock(clock)
        # Never FACEGUARD_STORE_KEY: a per-object random key is strictly better here.
        self._pseudonymiser = Pseudonymiser(random_key() if key is None else as_key(key, "key="))
        self._lock = threading.Lock()
        self._data: dict[tuple[str, str], tuple[bytes, float | None]] = {}
        self._events: dict[tuple[str, str], list[float]] = {}
        self._capped: dict[tuple[str, int], dict[str, deque[float]]] = {}
        self._capped_sweep = _SWEEP_AT
        self._buckets: dict[tuple[str, str], BucketState] = {}
        self._closed = False

    def _open(self) -> None:
        if self._closed:
            raise GuardStoreError("the store is closed")

    def _live(self, slot: tuple[str, str], now: float) -> bytes | None:
        entry = self._data.get(slot)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and now >= expires:
            del self._data[slot]
            return None
        return value

    def _expiry(self, ttl: float | None) -> float | None:
        return None if ttl is None else self._clock() + ttl

    def put(self, namespace: str, key: str, value: bytes, *, ttl: float | None = None) -> None:
        check_slot(namespace, key, ttl=ttl, value=value)
        with self._lock:
            self._open()
            self._data[(namespace, key)] = (value, self._expiry(ttl))

    # get and get_many run several times per recognition call: _open and _live, inline.

    def get(self, namespace: str, key: str) -> bytes | None:
        check_key(namespace, key)
        slot = (namespace, key)
        with self._lock:
            if self._closed:
                raise GuardStoreError("the store is closed")
            entry = self._data.get(slot)
            if entry is None:
                return None
            if entry[1] is not None and self._clock() >= entry[1]:
                del self._data[slot]
                return None
            return entry[0]

    def get_many(self, namespace: str, keys: Sequence[str]) -> list[bytes | None]:
        check_keys(namespace, keys)
        with self._lock:
            if self._closed:
                raise GuardStoreError("the store is closed")
            now = self._clock()
            data = self._data
            found: list[bytes | None] = []
            for key in keys:
                entry = data.get((namespace, key))
                if entry is not None and entry[1] is not None and now >= entry[1]:
                    del data[(namespace, key)]
                    entry = None
                found.append(None if entry is None else entry[0])
            return found

    def delete(self, namespace: str, key: str) -> None:
        check_key(namespace, key)
        with self._lock:
            self._open()
            self._data.pop((namespace, key), None)

    def add_if_absent(
        self, namespace: str, key: str, value: bytes, *, ttl: float | None = None
    ) -> bool:
        check_slot(namespace, key, ttl=ttl, value=value)
        with self._lock:
            self._open()
            slot = (namespace, key)
            if self._live(slot, self._clock()) is not None:
                return False
            self._data[slot] = (value, self._expiry(ttl))
            return True

    def count_event(self, namespace: str, key: str, *, window: float) -> int:
        check_slot(namespace, key, window=window)
        with self._lock:
            self._open()
            now = self._clock()
            events = [t for t in self._events.get((namespace, key), []) if t > now - window]
            events.append(now)
            self._events[(namespace, key)] = events
            return len(events)

    def count_events(
        self, namespace: str, keys: Sequence[str], *, window: float, limit: int
    ) -> list[int]:
        """See ``count_events``: at most ``limit`` timestamps per key (a bounded deque), so a
        key counted on every call costs the same after an hour as after a minute."""
        check_keys(namespace, keys)
        check_slot(namespace, window=window)
        check_limit(limit)
        with self._lock:
            if self._closed:
                raise GuardStoreError("the store is closed")
            now = self._clock()
            oldest = now - window
            # One dict per (namespace, limit): no tuple per key, and a deque's maxlen is
            # fixed when it is made (a new limit starts new counts).
            bucket = self._capped.get((namespace, limit))
            if bucket is None:
                bucket = self._capped[(namespace, limit)] = {}
            counts = []
            for key in keys:
                events = bucket.get(key)
                if events is None:
                    events = bucket[key] = deque(maxlen=limit)
                elif events[0] <= oldest:
                    while events and events[0] <= oldest:
                        events.popleft()
                events.append(now)
                counts.append(len(events))
            if len(bucket) > self._capped_sweep:
                # Keys with no event left in this window hold nothing worth counting: drop
                # them, and sweep again only when as many more were added (amortised O(1)).
                for key in [k for k, e in bucket.items() if e[-1] <= oldest]:
                    del bucket[key]
                self._capped_sweep = max(_SWEEP_AT, 2 * len(bucket))
            return counts

    def keys(self, namespace: str) -> list[str]:
        check_slot(namespace)
        with self._lock:
            self._open()
            now = self._clock()
            return [
                k
                for (ns, k) in list(self._data)
                if ns == namespace and self._live((ns, k), now) is not None
            ]

    def update_bucket(self, namespace: str, key: str, command: BucketCommand) -> BucketReply:
        check_slot(namespace, key)
        with self._lock:
            self._open()
            slot = (namespace, key)
            state, reply = apply(self._buckets.get(slot), command, self._clock())
            if state is not None:
                self._buckets[slot] = state
            return reply

    def pseudonym(self, kind: str, value: str) -> str:
        return self._pseudonymiser(kind, value)

    def close(self) -> None:
        with self._lock:
            self._data.clear()
            self._events.clear()
            self._capped.clear()
            self._buckets.clear()
            self._closed = True

    def __repr__(self) -> str:
        return "MemoryStore()"
