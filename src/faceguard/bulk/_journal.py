"""The journal of a bulk run: one record per (batch_id, key), written as the run goes.

An add moves ``pending`` -> ``sending`` -> ``added`` | ``skipped`` | ``failed``. ``sending`` is
written BEFORE the request leaves, so a run that dies mid-flight leaves the item ``sending``:
the next run knows the add is in doubt and checks the service (the marker in the face's
userData) before sending it again. Detection writes no ``sending`` (it changes nothing on the
service, so a repeat is harmless).

A record holds the item's key, its state, the persisted face id, the skip reason, the error's
type, code and message, the support info (request ids, route template) and, for detection,
the detected faces without their faceIds. Never image bytes, keys, tokens or faceIds.

``MemoryJournal`` (the default) lives as long as the object; ``SQLiteJournal`` survives a
crash and is shared by threads and processes; ``RedisJournal`` (``_redis_journal``) is shared
by machines. Every backend failure raises ``JournalError``: the run stops rather than go on
without a record of what it sent.

A SQLite journal's file and its ``-wal`` / ``-shm`` side files are mode 0600 whatever the
umask, and an existing file with wider permissions is tightened with a warning (they name
persons and persisted faces). The item keys are the caller's own names for its items (a file
path, a database id) and are stored as given: choose keys that are not personal data.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from .._exceptions import FaceGuardError, InvalidInputError
from .._guard._private_files import make_private, sqlite_file

__all__ = [
    "Journal",
    "JournalError",
    "JournalRecord",
    "JournalState",
    "MemoryJournal",
    "SQLiteJournal",
]

_T = TypeVar("_T")

JournalState = Literal["pending", "sending", "added", "skipped", "failed"]
"""Where an item is: ``pending`` (known, not yet tried), ``sending`` (a request may be in
flight), or final for this run (``added``, ``skipped``, ``failed``)."""

_STATES = frozenset({"pending", "sending", "added", "skipped", "failed"})
_CHUNK = 500  # keys per SQL statement: well below SQLite's 999 parameters


def _check_path(path: object) -> str:
    """A file path SQLite can open: text, no NUL, no lone surrogate (the OS cannot encode
    either); refused typed, and never echoed."""
    if not isinstance(path, str | os.PathLike):
        raise InvalidInputError("path", "type", "must be a str or os.PathLike path")
    text = os.fspath(path)
    if not isinstance(text, str) or "\x00" in text:
        raise InvalidInputError("path", "pattern", "must be a text path without NUL")
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        raise InvalidInputError("path", "unicode", "holds a lone surrogate") from None
    return text


class JournalError(FaceGuardError):
    """The journal's backend failed (unreadable file, locked database past the timeout,
    unreachable Redis...). The bulk run stops: going on would send requests with no record
    of them. Messages never carry a password, a key or an image."""


@dataclass(frozen=True)
class JournalRecord:
    """The journal's view of one item (no image, no secret, no faceId)."""

    key: str
    state: JournalState
    persisted_face_id: str | None = None
    reason: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    message: str | None = None
    support: dict[str, Any] | None = None
    attempts: int = 0
    in_doubt: bool = False
    faces: list[dict[str, Any]] | None = field(default=None, repr=False)
    """``bulk_detect``: the detection results as JSON, faceIds removed."""

    def to_json(self) -> str:
        """The record without its key (the key is the storage key), as compact JSON."""
        data = {name: value for name, value in asdict(self).items() if value not in (None, False)}
        del data["key"]
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, key: str, text: str | bytes) -> JournalRecord:
        """Parse what ``to_json`` wrote; ``JournalError`` if it is not a record."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("state") not in _STATES:
                raise ValueError("not a journal record")
            return cls(key=key, **data)
        except (ValueError, TypeError) as exc:
            raise JournalError(
                f"journal record {key!r} is unreadable ({type(exc).__name__})"
            ) from None


@runtime_checkable
class Journal(Protocol):
    """Where a bulk run records each item's state. Implementations must be safe to call from
    several threads at once, and should raise ``JournalError`` for any backend failure."""

    def open_batch(self, batch_id: str, keys: Sequence[str]) -> dict[str, JournalRecord]:
        """Record ``pending`` for each key without a record, and return every key's record."""
        ...

    def put(self, batch_id: str, record: JournalRecord) -> None:
        """Write (replace) the record of ``record.key``."""
        ...

    def records(self, batch_id: str) -> dict[str, JournalRecord]:
        """Every record of a batch, by key."""
        ...

    def close(self) -> None:
        """Release the backend (idempotent)."""
        ...


class MemoryJournal:
    """A journal in this object's memory: a rerun in the same process resumes, a new
    process starts afresh. The default of the bulk functions."""

    def __init__(self) -> None:
        self._batches: dict[str, dict[str, JournalRecord]] = {}
        self._lock = threading.Lock()

    def open_batch(self, batch_id: str, keys: Sequence[str]) -> dict[str, JournalRecord]:
        """Record ``pending`` for new keys; return every key's record."""
        with self._lock:
            batch = self._batches.setdefault(batch_id, {})
            for key in keys:
                batch.setdefault(key, JournalRecord(key=key, state="pending"))
            return {key: batch[key] for key in keys}

    def put(self, batch_id: str, record: JournalRecord) -> None:
        """Write the record of ``record.key``."""
        with self._lock:
            self._batches.setdefault(batch_id, {})[record.key] = replace(record)

    def records(self, batch_id: str) -> dict[str, JournalRecord]:
        """Every record of a batch, by key."""
        with self._lock:
            return dict(self._batches.get(batch_id, {}))

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return f"MemoryJournal(batches={len(self._batches)})"


_SCHEMA = """CREATE TABLE IF NOT EXISTS bulk_journal (
    batch_id TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    record TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (batch_id, key)
) WITHOUT ROWID"""


def _failure(action: str, exc: BaseException) -> JournalError:
    # sqlite3's message names the failure (locked, readonly, not a database...), never a
    # record; not chained, so no frame keeps the arguments.
    return JournalError(f"SQLite journal: {action} failed ({type(exc).__name__}: {exc})")


class SQLiteJournal:
    """A journal in a SQLite file: survives a crash, shared by threads and processes.

    WAL mode (readers do not block the writer); every write is a ``BEGIN IMMEDIATE``
    transaction, so processes sharing the file wait for each other up to ``timeout`` seconds
    and then fail with ``JournalError``. Threads of one process share one connection behind
    a lock. Every SQLite or file failure raises ``JournalError``.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 5.0) -> None:
        self._path = _check_path(path)
        self._file = sqlite_file(self._path)  # what SQLite opens (and what is kept private)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        make_private(self._file, JournalError)
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
        make_private(self._file, JournalError, create=False)

    def _initialise(self, conn: sqlite3.Connection) -> None:
        # Processes opening a new file at once race to switch it to WAL, which SQLite may
        # refuse without waiting: retry until the timeout.
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                if self._path != ":memory:":
                    conn.execute("PRAGMA journal_mode=WAL").fetchall()
                    # FULL: a record that says "sending" must be on disk before the request
                    # leaves, even if the machine (not only the process) goes down.
                    conn.execute("PRAGMA synchronous=FULL")
                conn.execute(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise JournalError("SQLite journal is closed")
        return self._conn

    def _read(self, action: str, op: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            conn = self._connection()
            try:
                return op(conn)
            except sqlite3.Error as exc:
                raise _failure(action, exc) from None

    def _write(self, action: str, op: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = op(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    raise
                return result
            except sqlite3.Error as exc:
                raise _failure(action, exc) from None

    def open_batch(self, batch_id: str, keys: Sequence[str]) -> dict[str, JournalRecord]:
        """Record ``pending`` for new keys (one transaction); return every key's record."""
        wanted = list(keys)
        pending = JournalRecord(key="", state="pending").to_json()

        def op(conn: sqlite3.Connection) -> dict[str, str]:
            now = time.time()
            conn.executemany(
                "INSERT OR IGNORE INTO bulk_journal (batch_id, key, state, record, updated) "
                "VALUES (?, ?, 'pending', ?, ?)",
                [(batch_id, key, pending, now) for key in wanted],
            )
            found: dict[str, str] = {}
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT key, record FROM bulk_journal WHERE batch_id = ? AND key IN ({marks})",  # noqa: S608
                    (batch_id, *chunk),
                ).fetchall()
                found.update((str(key), str(record)) for key, record in rows)
            return found

        rows = self._write("open_batch", op)
        return {key: JournalRecord.from_json(key, rows[key]) for key in wanted}

    def put(self, batch_id: str, record: JournalRecord) -> None:
        """Write the record of ``record.key`` (committed before this returns)."""
        text = record.to_json()

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO bulk_journal (batch_id, key, state, record, updated) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (batch_id, key) DO UPDATE SET "
                "state = excluded.state, record = excluded.record, updated = excluded.updated",
                (batch_id, record.key, record.state, text, time.time()),
            )

        self._write("put", op)

    def records(self, batch_id: str) -> dict[str, JournalRecord]:
        """Every record of a batch, by key."""

        def op(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            return [
                (str(key), str(record))
                for key, record in conn.execute(
                    "SELECT key, record FROM bulk_journal WHERE batch_id = ? ORDER BY key",
                    (batch_id,),
                )
            ]

        return {key: JournalRecord.from_json(key, text) for key, text in self._read("records", op)}

    def close(self) -> None:
        """Close the connection; later calls raise ``JournalError``. Idempotent."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    def __enter__(self) -> SQLiteJournal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteJournal({self._path!r})"
