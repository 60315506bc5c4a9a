"""A ``GuardStore`` in one SQLite file: survives restarts, shared by threads and processes.

Every write runs in a ``BEGIN IMMEDIATE`` transaction, which takes the database's write
lock before reading, so ``add_if_absent`` and ``count_event`` are atomic between threads of
this process (which share one connection behind a lock) and between processes that open the
same file (which wait for each other up to ``timeout`` seconds). Files use WAL mode, so
readers do not block the writer.

Expiry times are absolute readings of ``clock``: processes sharing a file must share a clock
(the default, ``time.time``, is the machine's). Expired rows are invisible at once and
deleted by a later write (the key's own, or a sweep at most once a minute per process).

Every failure (a locked database past the timeout, an unreadable or unwritable file, a
closed store) raises ``GuardStoreError``, never a ``sqlite3`` exception.

Minimisation (GUARD.md §4.4): the file and its ``-wal`` / ``-shm`` side files are mode 0600
whatever the umask; a file found with wider permissions is tightened, with a warning
(``_private_files``). faceIds, subjects and device ids are stored only as keyed pseudonyms
(``pseudonym``). The key is, in order: ``key=``; the ``FACEGUARD_STORE_KEY`` environment
variable; else a random key kept in ``<path>.key`` (mode 0600), made by the first process
that needs it and read by every later one, so processes sharing the file agree without any
configuration. That sidecar protects a copy of the database made without it (a dump, a
backup of the one file); a deployment whose threat includes the directory itself configures
the key from a secret manager instead. ``:memory:`` uses a random key. On first use the store
checks the key against the one its data was written with (``StoreKeyError`` if another) and
converts the entries an earlier faceguard version wrote in clear (``_migrate``): upgrading
keeps withdrawals and enrolments.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from array import array
from collections.abc import Callable, Sequence
from typing import TypeVar

from .._exceptions import GuardStoreError, InvalidInputError
from .._ratelimit._bucket import (
    BucketCommand,
    BucketReply,
    apply,
    decode_state,
    encode_state,
    idle_ttl,
)
from ._private_files import check_path, make_private, sidecar_key, sqlite_file
from ._pseudonym import Pseudonymiser, configured_key, random_key
from ._store import GuardStore, check_clock, check_key, check_keys, check_limit, check_slot

__all__ = ["SQLiteStore"]

_T = TypeVar("_T")

_PURGE_INTERVAL = 60.0
"""Seconds (of ``clock``) between two sweeps of expired rows by one process."""
_MAX_TIMEOUT = 86400.0  # sqlite3 takes a C double; a day is already far past any use

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS kv (
        ns TEXT NOT NULL,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        expires REAL,
        PRIMARY KEY (ns, key)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY,
        ns TEXT NOT NULL,
        key TEXT NOT NULL,
        at REAL NOT NULL,
        expires REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS events_key ON events (ns, key, at)",
    "CREATE INDEX IF NOT EXISTS events_expires ON events (expires)",
    # count_events: one row per key, its newest event times packed as little-endian doubles.
    """CREATE TABLE IF NOT EXISTS counts (
        ns TEXT NOT NULL,
        key TEXT NOT NULL,
        times BLOB NOT NULL,
        expires REAL NOT NULL,
        PRIMARY KEY (ns, key)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS counts_expires ON counts (expires)",
)

_LIVE = "(expires IS NULL OR expires > ?)"


def _failure(action: str, exc: BaseException) -> GuardStoreError:
    # The sqlite3 message names the failure (locked, readonly, unable to open...), never a
    # stored key or value; the exception is not chained, so no frame keeps the arguments.
    return GuardStoreError(f"SQLite guard store: {action} failed ({type(exc).__name__}: {exc})")


class SQLiteStore(GuardStore):
    """A ``GuardStore`` in a SQLite file (or ``":memory:"``, private to this object).

    ``timeout`` is how long a write waits for another process's write lock before it fails
    with ``GuardStoreError``.

    ``key`` (32 bytes or more) is the pseudonymisation key: faceIds, subjects and device ids
    are stored only as HMACs under it. Omitted, it is ``FACEGUARD_STORE_KEY``, else a random
    key kept next to the file in ``<path>.key`` (mode 0600) and shared by every process that
    opens the file. A file written with another key raises ``StoreKeyError``; a file written
    by a faceguard version that stored identifiers in clear is converted on first use. The
    file and its side files are made mode 0600 (wider ones are tightened, with a warning).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = 5.0,
        key: bytes | str | None = None,
    ) -> None:
        self._path = check_path(path)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not 0 <= timeout <= _MAX_TIMEOUT
        ):
            raise InvalidInputError(
                "timeout", "value", f"must be a number of seconds in 0..{_MAX_TIMEOUT:g}"
            )
        self._file = sqlite_file(self._path)  # what SQLite opens (and what is kept private)
        self._clock = check_clock(clock)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._last_purge = float("-inf")
        self._conn: sqlite3.Connection | None = None
        self._store_key = configured_key(key)
        self._pseudonymiser: Pseudonymiser | None = None
        self._ready_lock = threading.Lock()
        make_private(self._file, GuardStoreError)
        try:
            conn = sqlite3.connect(
                self._file,
                timeout=timeout,
                isolation_level=None,  # autocommit; transactions are explicit
                check_same_thread=False,  # threads share it, one at a time, under _lock
            )
        except (sqlite3.Error, OSError) as exc:
            raise _failure("open", exc) from None
        try:
            self._initialise(conn)
        except (sqlite3.Error, OSError) as exc:
            conn.close()
            raise _failure("open", exc) from None
        self._conn = conn
        # The side files exist now (WAL mode); SQLite gave them the file's mode: make sure.
        make_private(self._file, GuardStoreError, create=False)

    def _initialise(self, conn: sqlite3.Connection) -> None:
        # Several processes may open a new file at once; switching it to WAL takes an
        # exclusive lock that SQLite may refuse without waiting, so retry until the timeout.
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                if self._path != ":memory:":
                    conn.execute("PRAGMA journal_mode=WAL").fetchall()
                    conn.execute("PRAGMA synchronous=NORMAL")
                # Deleted rows are overwritten with zeros, not left in free space: an erased
                # person's or a migrated clear entry's bytes do not stay in the file. (Some
                # builds, Debian's among them, default to it; SQLite's own default is off.)
                conn.execute("PRAGMA secure_delete=ON").fetchall()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _SCHEMA:
                        conn.execute(statement)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                return
            except sqlite3.OperationalError as exc:
                # "locking protocol" (SQLITE_PROTOCOL) is WAL's own transient race between
                # processes opening the file at once; SQLite's advice is to try again.
                message = str(exc)
                busy = "locked" in message or "busy" in message or "locking protocol" in message
                if not busy or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    # -- plumbing --------------------------------------------------------------------------

    def _read(self, action: str, op: Callable[[sqlite3.Connection, float], _T]) -> _T:
        with self._lock:
            conn = self._open_connection()
            try:
                return op(conn, self._clock())
            except sqlite3.Error as exc:
                raise _failure(action, exc) from None

    def _write(self, action: str, op: Callable[[sqlite3.Connection, float], _T]) -> _T:
        with self._lock:
            conn = self._open_connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    # Read the clock once the write lock is held, so that writers from
                    # several processes see time advance in the order they commit.
                    now = self._clock()
                    result = op(conn, now)
                    self._maybe_purge(conn, now)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    raise
                return result
            except sqlite3.Error as exc:
                raise _failure(action, exc) from None

    def _open_connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise GuardStoreError("SQLite guard store is closed")
        return self._conn

    def _maybe_purge(self, conn: sqlite3.Connection, now: float) -> None:
        if now - self._last_purge < _PURGE_INTERVAL:
            return
        conn.execute("DELETE FROM kv WHERE expires IS NOT NULL AND expires <= ?", (now,))
        conn.execute("DELETE FROM events WHERE expires <= ?", (now,))
        conn.execute("DELETE FROM counts WHERE expires <= ?", (now,))
        self._last_purge = now

    # -- GuardStore --------------------------------------------------------------------------

    def put(self, namespace: str, key: str, value: bytes, *, ttl: float | None = None) -> None:
        check_slot(namespace, key, ttl=ttl, value=value)
        blob = bytes(value)

        def op(conn: sqlite3.Connection, now: float) -> None:
            expires = None if ttl is None else now + ttl
            conn.execute(
                "INSERT INTO kv (ns, key, value, expires) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, "
                "expires = excluded.expires",
                (namespace, key, blob, expires),
            )

        self._write("put", op)

    def get(self, namespace: str, key: str) -> bytes | None:
        check_key(namespace, key)

        def op(conn: sqlite3.Connection, now: float) -> bytes | None:
            row = conn.execute(
                f"SELECT value FROM kv WHERE ns = ? AND key = ? AND {_LIVE}",  # noqa: S608
                (namespace, key, now),
            ).fetchone()
            return None if row is None else bytes(row[0])

        return self._read("get", op)

    def get_many(self, namespace: str, keys: Sequence[str]) -> list[bytes | None]:
        check_keys(namespace, keys)
        wanted = list(keys)
        if not wanted:
            return []

        def op(conn: sqlite3.Connection, now: float) -> list[bytes | None]:
            found: dict[str, bytes] = {}
            # SQLite allows 999 parameters by default; ask in chunks well below it.
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT key, value FROM kv WHERE ns = ? AND key IN ({marks}) AND {_LIVE}",  # noqa: S608
                    (namespace, *chunk, now),
                ).fetchall()
                found.update((str(key), bytes(value)) for key, value in rows)
            return [found.get(key) for key in wanted]

        return self._read("get_many", op)

    def delete(self, namespace: str, key: str) -> None:
        check_key(namespace, key)

        def op(conn: sqlite3.Connection, _now: float) -> None:
            conn.execute("DELETE FROM kv WHERE ns = ? AND key = ?", (namespace, key))

        self._write("delete", op)

    def add_if_absent(
        self, namespace: str, key: str, value: bytes, *, ttl: float | None = None
    ) -> bool:
        check_slot(namespace, key, ttl=ttl, value=value)
        blob = bytes(value)

        def op(conn: sqlite3.Connection, now: float) -> bool:
            expires = None if ttl is None else now + ttl
            # One statement under the write lock: insert, or take over an expired row.
            cursor = conn.execute(
                "INSERT INTO kv (ns, key, value, expires) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, "
                "expires = excluded.expires "
                "WHERE kv.expires IS NOT NULL AND kv.expires <= ?",
                (namespace, key, blob, expires, now),
            )
            return cursor.rowcount == 1

        return self._write("add_if_absent", op)

    def count_event(self, namespace: str, key: str, *, window: float) -> int:
        check_slot(namespace, key, window=window)

        def op(conn: sqlite3.Connection, now: float) -> int:
            conn.execute(
                "DELETE FROM events WHERE ns = ? AND key = ? AND at <= ?",
                (namespace, key, now - window),
            )
            conn.execute(
                "INSERT INTO events (ns, key, at, expires) VALUES (?, ?, ?, ?)",
                (namespace, key, now, now + window),
            )
            row = conn.execute(
                "SELECT COUNT(*) FROM events WHERE ns = ? AND key = ?", (namespace, key)
            ).fetchone()
            return int(row[0])

        return self._write("count_event", op)

    def count_events(
        self, namespace: str, keys: Sequence[str], *, window: float, limit: int
    ) -> list[int]:
        """``GuardStore`` batch count (see ``_store.count_events``) in two statements however
        many keys: one read of their rows and one upsert, in one write transaction. Each key
        is one row holding its newest ``limit`` event times (packed doubles)."""
        check_keys(namespace, keys)
        check_slot(namespace, window=window)
        check_limit(limit)
        wanted = list(keys)
        if not wanted:
            return []

        def op(conn: sqlite3.Connection, now: float) -> list[int]:
            oldest = now - window
            found: dict[str, array[float]] = {}
            distinct = list(dict.fromkeys(wanted))
            for start in range(0, len(distinct), 500):  # SQLite's parameter limit
                chunk = distinct[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT key, times FROM counts WHERE ns = ? AND key IN ({marks})",  # noqa: S608
                    (namespace, *chunk),
                ).fetchall()
                for key, blob in rows:
                    stored = array("d")
                    stored.frombytes(bytes(blob)[: len(blob) // 8 * 8])  # whole doubles only
                    found[str(key)] = stored
            counts = []
            for key in wanted:  # in order: a key given twice is counted twice
                times = found.get(key)
                if times is None:
                    times = found[key] = array("d")
                elif times and times[0] <= oldest:
                    times = found[key] = array("d", [t for t in times if t > oldest])
                times.append(now)
                if len(times) > limit:
                    del times[: len(times) - limit]
                counts.append(len(times))
            conn.executemany(
                "INSERT INTO counts (ns, key, times, expires) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (ns, key) DO UPDATE SET times = excluded.times, "
                "expires = excluded.expires",
                [(namespace, key, found[key].tobytes(), now + window) for key in distinct],
            )
            return counts

        return self._write("count_events", op)

    def update_bucket(self, namespace: str, key: str, command: BucketCommand) -> BucketReply:
        check_slot(namespace, key)

        def op(conn: sqlite3.Connection, now: float) -> BucketReply:
            # Under BEGIN IMMEDIATE: read, compute and write back as one step for every
            # process that shares the file.
            row = conn.execute(
                f"SELECT value FROM kv WHERE ns = ? AND key = ? AND {_LIVE}",  # noqa: S608
                (namespace, key, now),
            ).fetchone()
            state, reply = apply(decode_state(None if row is None else bytes(row[0])), command, now)
            if state is not None:
                conn.execute(
                    "INSERT INTO kv (ns, key, value, expires) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, "
                    "expires = excluded.expires",
                    (namespace, key, encode_state(state), now + idle_ttl(state, command, now)),
                )
            return reply

        return self._write("update_bucket", op)

    def keys(self, namespace: str) -> list[str]:
        check_slot(namespace)

        def op(conn: sqlite3.Connection, now: float) -> list[str]:
            rows = conn.execute(
                f"SELECT key FROM kv WHERE ns = ? AND {_LIVE} ORDER BY key",  # noqa: S608
                (namespace, now),
            ).fetchall()
            return [str(row[0]) for row in rows]

        return self._read("keys", op)

    def pseudonym(self, kind: str, value: str) -> str:
        pseudonymiser = self._pseudonymiser
        if pseudonymiser is None:
            pseudonymiser = self._prepare()
        return pseudonymiser(kind, value)

    def _prepare(self) -> Pseudonymiser:
        from ._migrate import prepare

        with self._ready_lock:
            if self._pseudonymiser is None:
                key = self._store_key
                if key is None:
                    # No file, or a temporary one: nothing outlives this object.
                    private = self._path in {"", ":memory:"}
                    key = random_key() if private else sidecar_key(self._file, GuardStoreError)
                pseudonymiser = Pseudonymiser(key)
                if prepare(self, pseudonymiser, what=f"SQLiteStore({self._path!r})"):
                    self._empty_wal()
                self._pseudonymiser = pseudonymiser
            return self._pseudonymiser

    def _empty_wal(self) -> None:
        """After a migration, drop the write-ahead log: its frames hold page images from
        before the clear entries were deleted. Best effort: a reader in another process can
        hold it; the frames are then overwritten as the log is reused."""

        def op(conn: sqlite3.Connection, _now: float) -> None:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

        if self._file not in {"", ":memory:"}:
            self._read("checkpoint", op)

    def close(self) -> None:
        """Close the connection; later calls raise ``GuardStoreError``. Idempotent."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({self._path!r})"
