"""One behavioural suite for every ``GuardStore``: memory, a SQLite file, a real Redis server.

Memory and SQLite run on an injected clock; Redis keeps time itself, so its expiry tests use
real short TTLs and poll. The races use 8 threads for every store and, for the stores that
processes share (SQLite, Redis), 4 spawned processes. Failures must surface as
``GuardStoreError`` so the guard fails closed.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from multiprocessing.synchronize import Barrier as ProcessBarrier
from pathlib import Path

import pytest

from faceguard._exceptions import ConfigurationError, GuardStoreError
from faceguard._guard._redis_store import RedisStore
from faceguard._guard._sqlite_store import SQLiteStore
from faceguard._guard._store import GuardStore, MemoryStore

KINDS = ["memory", "sqlite", "redis"]
SHARED_KINDS = ["sqlite", "redis"]  # state that several processes can share


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Backend:
    """One store kind with fresh state: opens stores, and lets time pass for them."""

    kind: str
    path: Path
    url: str | None
    prefix: str = field(default_factory=lambda: f"fgtest{uuid.uuid4().hex[:10]}")
    ns: str = field(default_factory=lambda: f"ns{uuid.uuid4().hex[:10]}")
    clock: FakeClock = field(default_factory=FakeClock)
    opened: list[GuardStore] = field(default_factory=list)

    def open(self) -> GuardStore:
        store: GuardStore
        if self.kind == "memory":
            store = MemoryStore(clock=self.clock)
        elif self.kind == "sqlite":
            store = SQLiteStore(self.path, clock=self.clock)
        else:
            assert self.url is not None
            store = RedisStore(self.url, prefix=self.prefix)
        self.opened.append(store)
        return store

    def spec(self) -> tuple[str, str]:
        """What a spawned process needs to open the same state."""
        if self.kind == "sqlite":
            return ("sqlite", str(self.path))
        assert self.url is not None
        return ("redis", f"{self.url}|{self.prefix}")

    def elapse(self, seconds: float, until: Callable[[], bool]) -> None:
        """Let ``seconds`` pass; then ``until()`` must hold (polled briefly on real time)."""
        if self.kind != "redis":
            self.clock.advance(seconds)
            assert until()
            return
        time.sleep(seconds)
        deadline = time.monotonic() + 3
        while not until():
            assert time.monotonic() < deadline, "Redis did not expire the key in time"
            time.sleep(0.02)

    def sleep(self, seconds: float) -> None:
        if self.kind == "redis":
            time.sleep(seconds)
        else:
            self.clock.advance(seconds)


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    made = Backend(kind=request.param, path=tmp_path / "guard.sqlite3", url=url)
    yield made
    for store in made.opened:
        store.close()


@pytest.fixture
def store(backend: Backend) -> GuardStore:
    return backend.open()


@pytest.fixture(params=SHARED_KINDS)
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    made = Backend(kind=request.param, path=tmp_path / "guard.sqlite3", url=url)
    yield made
    for store in made.opened:
        store.close()


def _dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the protocol, for every store -------------------------------------------------------------


def test_is_a_guard_store(store: GuardStore) -> None:
    assert isinstance(store, GuardStore)


def test_put_get_delete(backend: Backend, store: GuardStore) -> None:
    ns = backend.ns
    assert store.get(ns, "a") is None
    store.put(ns, "a", b"one")
    assert store.get(ns, "a") == b"one"
    store.put(ns, "a", b"two")
    assert store.get(ns, "a") == b"two"
    assert store.get(ns + "x", "a") is None  # namespaces are separate
    store.delete(ns, "a")
    assert store.get(ns, "a") is None
    store.delete(ns, "a")  # absent: ignored
    store.delete(ns, "never")


@pytest.mark.parametrize(
    "value",
    [b"", b"\x00", b"\x00\x00\x01", b"\xff\xfe\xc3\x28\x80", bytes(range(256)), b"x" * 300_000],
    ids=["empty", "nul", "nuls", "non-utf8", "all-bytes", "300k"],
)
def test_values_round_trip_exactly(backend: Backend, store: GuardStore, value: bytes) -> None:
    store.put(backend.ns, "k", value)
    got = store.get(backend.ns, "k")
    assert type(got) is bytes
    assert got == value
    assert store.add_if_absent(backend.ns, "k2", value)
    assert store.get(backend.ns, "k2") == value


def test_odd_keys(backend: Backend, store: GuardStore) -> None:
    odd = ["a:b", "*", "x?[y]\\z", "é ünïcode", "with space", "%s'\";--"]
    for i, key in enumerate(odd):
        store.put(backend.ns, key, bytes([i]))
    for i, key in enumerate(odd):
        assert store.get(backend.ns, key) == bytes([i])
    assert sorted(store.keys(backend.ns)) == sorted(odd)


def test_ttl_expiry(backend: Backend, store: GuardStore) -> None:
    ns = backend.ns
    store.put(ns, "short", b"v", ttl=0.2)
    store.put(ns, "forever", b"f")
    store.put(ns, "long", b"l", ttl=60)
    assert store.get(ns, "short") == b"v"
    started = time.monotonic()
    if backend.kind == "redis":
        backend.elapse(0.2, until=lambda: store.get(ns, "short") is None)
        assert time.monotonic() - started >= 0.15
    else:
        backend.clock.advance(0.19)
        assert store.get(ns, "short") == b"v"  # not a moment early
        backend.elapse(0.02, until=lambda: store.get(ns, "short") is None)
    assert store.get(ns, "forever") == b"f"
    assert store.get(ns, "long") == b"l"
    assert sorted(store.keys(ns)) == ["forever", "long"]


def test_get_many_sees_expiry_as_get_does(backend: Backend, store: GuardStore) -> None:
    """get_many, which the guard uses on every recognition call, expires entries exactly as
    get does: an entry past its TTL reads as missing, in any position of the keys."""
    ns = backend.ns
    store.put(ns, "short", b"v", ttl=0.2)
    store.put(ns, "forever", b"f")
    assert store.get_many(ns, ["forever", "short", "missing"]) == [b"f", b"v", None]
    if backend.kind == "redis":
        backend.elapse(0.2, until=lambda: store.get_many(ns, ["short"]) == [None])
    else:
        backend.clock.advance(0.19)
        assert store.get_many(ns, ["short"]) == [b"v"]  # not a moment early
        backend.clock.advance(0.02)
    assert store.get_many(ns, ["short", "forever"]) == [None, b"f"]
    assert sorted(store.keys(ns)) == ["forever"]


def test_put_without_ttl_clears_an_earlier_ttl(backend: Backend, store: GuardStore) -> None:
    store.put(backend.ns, "k", b"1", ttl=0.2)
    store.put(backend.ns, "k", b"2")
    backend.sleep(0.3)
    assert store.get(backend.ns, "k") == b"2"


def test_non_positive_ttl_is_already_expired(backend: Backend, store: GuardStore) -> None:
    store.put(backend.ns, "k", b"v", ttl=0)
    assert store.get(backend.ns, "k") is None
    store.put(backend.ns, "live", b"v")
    assert not store.add_if_absent(backend.ns, "live", b"w", ttl=0)
    assert store.add_if_absent(backend.ns, "gone", b"w", ttl=-1)
    assert store.get(backend.ns, "gone") is None


def test_add_if_absent(backend: Backend, store: GuardStore) -> None:
    ns = backend.ns
    assert store.add_if_absent(ns, "tok", b"first", ttl=0.2) is True
    assert store.add_if_absent(ns, "tok", b"second", ttl=0.2) is False
    assert store.add_if_absent(ns, "tok", b"third") is False
    assert store.get(ns, "tok") == b"first"  # the loser changed nothing
    backend.elapse(0.2, until=lambda: store.get(ns, "tok") is None)
    assert store.add_if_absent(ns, "tok", b"again") is True
    assert store.get(ns, "tok") == b"again"
    assert store.add_if_absent(ns, "tok", b"later") is False
    store.delete(ns, "tok")
    assert store.add_if_absent(ns, "tok", b"after-delete") is True


def test_add_if_absent_thread_race(backend: Backend, store: GuardStore) -> None:
    threads = 8
    rounds = 20
    barrier = threading.Barrier(threads)
    wins: list[list[int]] = [[] for _ in range(rounds)]
    errors: list[Exception] = []

    def racer(me: int) -> None:
        try:
            barrier.wait()
            for r in range(rounds):
                if store.add_if_absent(backend.ns, f"tok{r}", str(me).encode(), ttl=60):
                    wins[r].append(me)
        except Exception as exc:  # noqa: BLE001 - the main thread asserts there was none
            errors.append(exc)

    pool = [threading.Thread(target=racer, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(30)
    assert not errors
    for r, winners in enumerate(wins):
        assert len(winners) == 1, (r, winners)
        assert store.get(backend.ns, f"tok{r}") == str(winners[0]).encode()


PROCESSES = 4
_racer_barrier: ProcessBarrier | None = None


def _init_racer(barrier: ProcessBarrier) -> None:
    """Pool initializer: a process barrier can only be handed over when the worker starts."""
    global _racer_barrier
    _racer_barrier = barrier


def _process_racer(spec: tuple[str, str], ns: str, rounds: int) -> tuple[int, list[int], str]:
    """Runs in a spawned process: race ``rounds`` keys; return (pid, rounds won, error)."""
    kind, where = spec
    store: GuardStore
    if kind == "sqlite":
        store = SQLiteStore(where)
    else:
        url, prefix = where.split("|")
        store = RedisStore(url, prefix=prefix)
    me = os.getpid()
    won: list[int] = []
    error = ""
    try:
        assert _racer_barrier is not None
        _racer_barrier.wait(timeout=60)  # all PROCESSES workers hold a task before anyone races
        for r in range(rounds):
            if store.add_if_absent(ns, f"tok{r}", str(me).encode(), ttl=60):
                won.append(r)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which asserts
        error = f"{type(exc).__name__}: {exc}"
    finally:
        store.close()
    return me, won, error


@pytest.fixture(scope="module")
def racers() -> Iterator[Pool]:
    """PROCESSES spawned workers, started once for both process races (spawning is slow)."""
    ctx = multiprocessing.get_context("spawn")
    pool = ctx.Pool(PROCESSES, initializer=_init_racer, initargs=(ctx.Barrier(PROCESSES),))
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def test_add_if_absent_process_race(shared: Backend, racers: Pool) -> None:
    rounds = 25
    first = shared.open()  # creates the SQLite file (or checks the server) before the race
    # Each task blocks on the barrier, so the PROCESSES tasks run in PROCESSES workers at once.
    reports = racers.starmap_async(
        _process_racer, [(shared.spec(), shared.ns, rounds)] * PROCESSES, chunksize=1
    ).get(timeout=90)
    assert [error for _, _, error in reports] == [""] * PROCESSES
    assert len({pid for pid, _, _ in reports}) == PROCESSES
    winners: dict[int, list[int]] = {r: [] for r in range(rounds)}
    for pid, won, _ in reports:
        for r in won:
            winners[r].append(pid)
    for r, who in winners.items():
        assert len(who) == 1, (r, who)
        assert first.get(shared.ns, f"tok{r}") == str(who[0]).encode()


def test_count_event_window(backend: Backend, store: GuardStore) -> None:
    ns = backend.ns
    if backend.kind == "redis":  # the server's clock: a short real window
        window = 0.5
        assert [store.count_event(ns, "dev", window=window) for _ in range(3)] == [1, 2, 3]
        assert store.count_event(ns, "other", window=window) == 1
        time.sleep(window + 0.05)
        assert store.count_event(ns, "dev", window=window) == 1
        assert store.count_event(ns, "dev", window=window) == 2
    else:
        window = 10.0
        assert store.count_event(ns, "dev", window=window) == 1  # t=0
        backend.clock.advance(4)
        assert store.count_event(ns, "dev", window=window) == 2  # t=4
        backend.clock.advance(4)
        assert store.count_event(ns, "dev", window=window) == 3  # t=8
        assert store.count_event(ns, "other", window=window) == 1
        backend.clock.advance(3)
        assert store.count_event(ns, "dev", window=window) == 3  # t=11: t=0 is out
        backend.clock.advance(10)
        assert store.count_event(ns, "dev", window=window) == 1  # t=21: all older are out
    assert store.keys(ns) == []  # counters are not keys
    assert store.get(ns, "dev") is None


def test_count_event_is_atomic(backend: Backend, store: GuardStore) -> None:
    threads, per_thread = 8, 10
    barrier = threading.Barrier(threads)
    seen: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        for _ in range(per_thread):
            n = store.count_event(backend.ns, "cap", window=60)
            with lock:
                seen.append(n)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(30)
    assert sorted(seen) == list(range(1, threads * per_thread + 1))


def test_keys_lists_live_keys_only(backend: Backend, store: GuardStore) -> None:
    ns = backend.ns
    store.put(ns, "a", b"1")
    store.put(ns, "b", b"2", ttl=0.2)
    store.put(ns, "c", b"3")
    assert store.add_if_absent(ns, "d", b"4", ttl=60)
    store.put(ns + "x", "other", b"5")
    store.delete(ns, "c")
    assert sorted(store.keys(ns)) == ["a", "b", "d"]
    backend.elapse(0.2, until=lambda: store.get(ns, "b") is None)
    assert sorted(store.keys(ns)) == ["a", "d"]
    assert store.keys(ns + "x") == ["other"]
    assert store.keys(ns + "empty") == []


def test_two_stores_on_the_same_state_agree(shared: Backend) -> None:
    one, two = shared.open(), shared.open()
    one.put(shared.ns, "k", b"v")
    assert two.get(shared.ns, "k") == b"v"
    assert two.add_if_absent(shared.ns, "k", b"w") is False
    assert one.count_event(shared.ns, "e", window=60) == 1
    assert two.count_event(shared.ns, "e", window=60) == 2


def test_closed_store_fails_closed(shared: Backend) -> None:
    store = shared.open()
    store.put(shared.ns, "k", b"v")
    store.close()
    store.close()  # idempotent
    calls: list[Callable[[], object]] = [
        lambda: store.get(shared.ns, "k"),
        lambda: store.put(shared.ns, "k", b"v"),
        lambda: store.delete(shared.ns, "k"),
        lambda: store.add_if_absent(shared.ns, "k2", b"v"),
        lambda: store.count_event(shared.ns, "e", window=1),
        lambda: store.keys(shared.ns),
    ]
    for call in calls:
        with pytest.raises(GuardStoreError, match="closed"):
            call()


# -- SQLite --------------------------------------------------------------------------------


def test_sqlite_survives_a_reopen(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "state.db"
    store = SQLiteStore(path, clock=clock)
    store.put("ns", "kept", b"\x00kept\xff")
    store.put("ns", "expiring", b"e", ttl=10)
    assert store.add_if_absent("tokens", "jti-1", b"")
    assert store.count_event("caps", "dev", window=60) == 1
    store.close()

    again = SQLiteStore(str(path), clock=clock)
    try:
        assert again.get("ns", "kept") == b"\x00kept\xff"
        assert again.get("ns", "expiring") == b"e"
        assert again.add_if_absent("tokens", "jti-1", b"") is False
        assert again.count_event("caps", "dev", window=60) == 2
        clock.advance(10)
        assert again.get("ns", "expiring") is None
        assert again.keys("ns") == ["kept"]
    finally:
        again.close()


def test_sqlite_uses_wal_for_files(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_sqlite_memory_database() -> None:
    store = SQLiteStore(":memory:")
    try:
        store.put("ns", "k", b"v")
        assert store.get("ns", "k") == b"v"
        assert repr(store) == "SQLiteStore(':memory:')"
    finally:
        store.close()


def test_sqlite_purges_expired_rows_lazily(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "purge.db"
    store = SQLiteStore(path, clock=clock)
    for i in range(5):
        store.put("ns", f"k{i}", b"v", ttl=1)
        store.count_event("caps", f"d{i}", window=1)
    store.put("ns", "keep", b"v")

    def rows() -> tuple[int, int]:
        with sqlite3.connect(path) as raw:
            counts = (
                raw.execute("SELECT COUNT(*) FROM kv").fetchone()[0],
                raw.execute("SELECT COUNT(*) FROM events").fetchone()[0],
            )
        raw.close()
        return counts

    assert rows() == (6, 5)
    clock.advance(120)  # past the expiries and the sweep interval
    assert store.keys("ns") == ["keep"]  # invisible at once
    store.put("ns", "other", b"v")  # a write sweeps
    assert rows() == (2, 0)
    store.close()


def test_sqlite_unwritable_path_fails_closed(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a directory")
    with pytest.raises(GuardStoreError) as caught:
        SQLiteStore(blocker / "guard.db")  # parent is a file: even root cannot create it
    assert caught.value.__cause__ is None
    with pytest.raises(GuardStoreError):
        SQLiteStore(tmp_path)  # a directory


def test_sqlite_not_a_database_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a SQLite file, just bytes " * 200)
    with pytest.raises(GuardStoreError):
        SQLiteStore(path)


def test_sqlite_locked_database_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    store = SQLiteStore(path, timeout=0.1)
    store.put("ns", "k", b"v")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(GuardStoreError, match="locked"):
            store.put("ns", "k", b"w")
        with pytest.raises(GuardStoreError):
            store.add_if_absent("ns", "new", b"w")
        with pytest.raises(GuardStoreError):
            store.count_event("ns", "e", window=1)
        assert time.monotonic() - started < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.put("ns", "k", b"w")  # usable again once the lock is gone
    assert store.get("ns", "k") == b"w"
    store.close()


# -- Redis ---------------------------------------------------------------------------------


def test_redis_unreachable_fails_closed_quickly() -> None:
    port = _dead_port()
    url = f"redis://:s3cret@127.0.0.1:{port}/0?socket_connect_timeout=0.5&socket_timeout=0.5"
    store = RedisStore(url)  # no I/O yet
    calls: list[Callable[[], object]] = [
        lambda: store.get("ns", "k"),
        lambda: store.put("ns", "k", b"v", ttl=1),
        lambda: store.add_if_absent("ns", "k", b"v", ttl=1),
        lambda: store.delete("ns", "k"),
        lambda: store.count_event("ns", "e", window=1),
        lambda: store.keys("ns"),
    ]
    started = time.monotonic()
    for call in calls:
        with pytest.raises(GuardStoreError) as caught:
            call()
        assert "s3cret" not in str(caught.value)
        assert caught.value.__cause__ is None
    assert time.monotonic() - started < 5
    store.close()


def test_redis_error_reply_fails_closed(redis_url: str) -> None:
    import redis

    prefix = f"fgtest{uuid.uuid4().hex[:10]}"
    raw = redis.Redis.from_url(redis_url)
    raw.zadd(f"{prefix}:ns:k", {"member": 1})  # a key of the wrong type
    store = RedisStore(redis_url, prefix=prefix)
    try:
        with pytest.raises(GuardStoreError, match="WRONGTYPE"):
            store.get("ns", "k")
    finally:
        store.close()
        raw.close()


def test_redis_uses_the_documented_layout(redis_url: str) -> None:
    import redis

    prefix = f"fgtest{uuid.uuid4().hex[:10]}"
    raw = redis.Redis.from_url(redis_url)
    store = RedisStore(redis_url, prefix=prefix)
    try:
        store.put("ns", "k", b"v", ttl=30)
        store.put("ns", "forever", b"v")
        store.count_event("ns", "dev", window=30)
        assert raw.get(f"{prefix}:ns:k") == b"v"
        assert 0 < raw.pttl(f"{prefix}:ns:k") <= 30_000
        assert raw.pttl(f"{prefix}:ns:forever") == -1
        assert raw.zcard(f"{prefix}#events:ns:dev") == 1
        assert 0 < raw.pttl(f"{prefix}#events:ns:dev") <= 30_000
    finally:
        store.close()
        raw.close()


def test_redis_accepts_a_client_and_leaves_it_open(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    store = RedisStore(client=client, prefix=f"fgtest{uuid.uuid4().hex[:10]}")
    store.put("ns", "k", b"v")
    assert store.get("ns", "k") == b"v"
    assert "Redis client" in repr(store)
    store.close()
    assert client.ping()
    client.close()


def test_redis_refuses_a_decoding_client(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with pytest.raises(ConfigurationError, match="decode_responses"):
        RedisStore(client=client)
    client.close()


def test_redis_namespace_cannot_hold_a_colon(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix=f"fgtest{uuid.uuid4().hex[:10]}")
    with pytest.raises(ValueError, match="':'"):
        store.put("a:b", "k", b"v")
    store.close()


@pytest.mark.parametrize(
    "url",
    [
        "redis://:s3cret@127.0.0.1:1/0",
        "redis://user:s3cret@127.0.0.1:1/0",
        "rediss://default:s3cret@example.invalid:6380/2",
        "unix:///run/redis.sock?db=0&password=s3cret",
    ],
)
def test_redis_repr_hides_the_password(url: str) -> None:
    store = RedisStore(url)
    assert "s3cret" not in repr(store)
    assert "RedisStore(" in repr(store)
    store.close()


def test_redis_repr_keeps_the_address() -> None:
    store = RedisStore("redis://:s3cret@127.0.0.1:1/0", prefix="app")
    # The whole user information goes: an ACL user name is half of a credential.
    assert repr(store) == "RedisStore('redis://***@127.0.0.1:1/0', prefix='app')"
    store.close()


def test_redis_missing_package_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # makes `import redis` fail
    with pytest.raises(ConfigurationError, match=r'pip install "faceguard\[redis\]"'):
        RedisStore()


def test_memory_store_fails_closed_after_close_and_lists_empty_values() -> None:
    store = MemoryStore()
    store.put("ns", "empty", b"")
    assert store.keys("ns") == ["empty"]
    store.close()
    with pytest.raises(GuardStoreError, match="closed"):
        store.get("ns", "empty")
    with pytest.raises(GuardStoreError, match="closed"):
        store.add_if_absent("ns", "k", b"v")


def test_get_many_reads_several_keys_in_order(backend: Backend) -> None:
    store = backend.open()
    store.put(backend.ns, "a", b"1")
    store.put(backend.ns, "c", b"")
    assert store.get_many(backend.ns, ["c", "missing", "a", "a"]) == [b"", None, b"1", b"1"]
    assert store.get_many(backend.ns, []) == []


@pytest.mark.parametrize("key", [b"k" * 32, bytes(range(64)), bytes(range(100)), "a text key " * 4])
def test_pseudonyms_are_hmac_sha256_of_the_domain_kind_and_value(key: bytes | str) -> None:
    """The pseudonymiser computes HMAC by hand for speed: pinned to the standard, so stores
    written by any faceguard version (and any process) agree on every pseudonym."""
    import hashlib
    import hmac

    from faceguard._guard._pseudonym import _DOMAIN, PREFIX, Pseudonymiser

    raw = key.encode() if isinstance(key, str) else key
    pseudonymise = Pseudonymiser(key)  # type: ignore[arg-type]
    for kind, value in (("faceid", "C5C24A82-6845-4031-9d5d-978df9175426"), ("subject", "p-é")):
        message = _DOMAIN + kind.encode() + b"\x00" + value.encode()
        expected = PREFIX + hmac.new(raw, message, hashlib.sha256).hexdigest()
        assert pseudonymise(kind, value) == expected
