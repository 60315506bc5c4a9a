"""The emulator's state on disk: one SQLite file in ``--state-dir``, written change by change.

What is kept: the Face containers (face lists, large face lists, person groups, large person
groups) with their persons, persisted faces and training state, unexpired faceIds, the Content
Safety blocklists and items, and the liveness sessions. Faces are kept as the engine's
embeddings only: no image is ever written (the emulator never holds one beyond a request,
except a liveness session image, which stays in memory and is not persisted).

Layout (schema 2): one row per container, person, persisted face, training, faceId, blocklist
and liveness session, each a JSON document (embeddings base64-encoded) in a table of its own.
Each part of the emulator exports and imports its own rows (``Stateful``): nothing here knows
their attributes. A part that can say what changed (``Incremental``: the Face store) has only
those rows written after a request, in one transaction, so adding a face costs the same with
a thousand faces stored or a million; the others (Content Safety, liveness: a few rows) are
rewritten whole. The file runs in WAL mode on one open connection. A schema 1 file (one row
per container holding all of it) is read and rewritten as schema 2 on first load.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx

from ._routing import Next

__all__ = ["SCHEMA_VERSION", "Incremental", "Persistence", "StateFile", "Stateful"]

SCHEMA_VERSION = 2
FILE_NAME = "emulator.sqlite3"

_TABLES = (
    "containers",
    "trainings",
    "persons",
    "faces",
    "face_ids",
    "blocklists",
    "liveness_sessions",
)
_READS = frozenset({"GET", "HEAD", "OPTIONS"})

Rows = dict[str, list[tuple[str, Any]]]
"""``(key, JSON data)`` rows by table."""


def _checked(table: str) -> str:
    if table not in _TABLES:
        raise ValueError(f"unknown table {table}")
    return table


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


# -- the file ----------------------------------------------------------------------------------


class StateFile:
    """The SQLite file of one emulator's state: one connection, WAL, a lock around it.

    ``schema`` is the version the file was written with (1 until ``rewrite`` upgrades it).
    """

    def __init__(self, state_dir: str | Path) -> None:
        self.directory = Path(state_dir)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / FILE_NAME
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        # Biometric templates: readable by the owner only. Set before WAL mode creates the
        # -wal and -shm files, which SQLite gives the database file's permissions.
        os.chmod(self.path, 0o600)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at each checkpoint
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            for table in _TABLES:
                db.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} "
                    "(id TEXT PRIMARY KEY, position INTEGER NOT NULL, data TEXT NOT NULL)"
                )
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                self.schema = SCHEMA_VERSION
            elif row[0] in ("1", str(SCHEMA_VERSION)):
                self.schema = int(row[0])
            else:
                raise ValueError(
                    f"{self.path} holds emulator state of schema {row[0]}, not "
                    f"{SCHEMA_VERSION}: use another --state-dir"
                )
            self._next = 1 + max(
                db.execute(f"SELECT COALESCE(MAX(position), 0) FROM {t}").fetchone()[0]  # noqa: S608
                for t in _TABLES
            )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def apply(self, upserts: Rows, deletes: dict[str, list[str]], replaced: Rows) -> int:
        """In one transaction: write ``upserts`` (a new row goes after every other, a row
        that exists keeps its place), delete ``deletes``, and replace the whole of the
        ``replaced`` tables. Returns how many rows were written or deleted."""
        written = 0
        with self._transaction() as db:
            for table, keys in deletes.items():
                db.executemany(
                    f"DELETE FROM {_checked(table)} WHERE id = ?",  # noqa: S608
                    [(key,) for key in keys],
                )
                written += len(keys)
            for table, rows in replaced.items():
                db.execute(f"DELETE FROM {_checked(table)}")  # noqa: S608
                upserts = {**upserts, table: [*rows, *upserts.get(table, [])]}
            for table, rows in upserts.items():
                first = self._next
                self._next += len(rows)
                db.executemany(
                    f"INSERT INTO {_checked(table)} (id, position, data) VALUES (?, ?, ?) "  # noqa: S608
                    "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
                    [(key, first + i, _dumps(data)) for i, (key, data) in enumerate(rows)],
                )
                written += len(rows)
        return written

    def rewrite(self, rows: Rows) -> None:
        """Replace every table with ``rows`` and mark the file as of this schema."""
        self.apply({}, {}, {table: rows.get(table, []) for table in _TABLES})
        with self._transaction() as db:
            db.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
            )
        self.schema = SCHEMA_VERSION

    def load(self) -> Rows:
        """Every table's ``(key, data)`` rows, in the order they were first written."""
        with self._lock:
            return {
                table: [
                    (key, json.loads(data))
                    for key, data in self._db.execute(
                        f"SELECT id, data FROM {table} ORDER BY position"  # noqa: S608
                    )
                ]
                for table in _TABLES
            }

    def close(self) -> None:
        with self._lock:
            self._db.close()


# -- the emulator's parts ----------------------------------------------------------------------


class Stateful(Protocol):
    """A part of the emulator whose state persists: it exports ``(key, JSON data)`` rows by
    table and imports them back (``FaceStore``, ``ContentSafetyControl``,
    ``LivenessControl``)."""

    def export_state(self) -> Rows: ...

    def import_state(self, tables: Mapping[str, list[tuple[str, Any]]]) -> None: ...


@runtime_checkable
class Incremental(Protocol):
    """A part that can say which of its rows changed since it was last asked."""

    def export_changes(self) -> tuple[Rows, dict[str, list[str]]]: ...


class Persistence:
    """Loads the parts' state from ``state_dir`` and saves what changed; as a middleware it
    saves after every request that may have changed something (any method but
    GET/HEAD/OPTIONS that got an answer below 500, or was dropped after handling). Control
    calls made in process, such as ``Emulator.liveness.script_attempt``, reach the file with
    the next save or at shutdown.

    Args:
        parts: the stateful parts, by name (``Emulator.parts()``).
        state_dir: the directory of the SQLite file.
    """

    def __init__(self, parts: Mapping[str, Stateful], state_dir: str | Path) -> None:
        self.parts = dict(parts)
        self.file = StateFile(state_dir)
        self._save_lock = threading.Lock()
        self.last_written = 0
        """Rows written or deleted by the last save (how much one request cost on disk)."""

    def load(self) -> None:
        """Put the file's state into the parts (a schema 1 file is rewritten as schema 2)."""
        loaded = self.file.load()
        for part in self.parts.values():
            part.import_state(loaded)
        if self.file.schema != SCHEMA_VERSION:
            with self._save_lock:
                rows: Rows = {}
                for part in self.parts.values():
                    rows.update(part.export_state())
                self.file.rewrite(rows)

    def save(self) -> None:
        """Write what changed since the last save, in one transaction."""
        with self._save_lock:
            upserts: Rows = {}
            deletes: dict[str, list[str]] = {}
            replaced: Rows = {}
            for part in self.parts.values():
                if isinstance(part, Incremental):
                    changed, gone = part.export_changes()
                    upserts.update(changed)
                    deletes.update(gone)
                else:
                    replaced.update(part.export_state())
            self.last_written = self.file.apply(upserts, deletes, replaced)

    def close(self) -> None:
        self.file.close()

    def __call__(self, request: httpx.Request, call_next: Next) -> httpx.Response:
        if request.method in _READS:
            return call_next(request)
        try:
            response = call_next(request)
        except httpx.TransportError:  # dropped after handling: its effect happened
            self.save()
            raise
        if response.status_code < 500:
            self.save()
        return response
