"""The emulator's state on disk: one SQLite file in ``--state-dir``.

What is kept: the Face containers (face lists, large face lists, person groups, large person
groups) with their persons, persisted faces and training state, unexpired faceIds, the Content
Safety blocklists and items, and the liveness sessions. Faces are kept as the engine's
embeddings only: no image is ever written (the emulator never holds one beyond a request,
except a liveness session image, which stays in memory and is not persisted).

Layout: one row per container, faceId, blocklist and liveness session, each a JSON document
(embeddings base64-encoded) in a table of its own, written in one transaction. Each part of
the emulator exports and imports its own rows (``Stateful``): nothing here knows their
attributes. The Face dataclasses are encoded by ``_codec`` from their type hints.
``schema_version`` in ``meta`` guards against reading a file written by an incompatible
version.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx

from ._routing import Next

__all__ = ["SCHEMA_VERSION", "Persistence", "StateFile", "Stateful"]

SCHEMA_VERSION = 1
FILE_NAME = "emulator.sqlite3"

_TABLES = ("containers", "face_ids", "blocklists", "liveness_sessions")
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


# -- the file ----------------------------------------------------------------------------------


class StateFile:
    """The SQLite file of one emulator's state. Thread-safe (one connection per call)."""

    def __init__(self, state_dir: str | Path) -> None:
        self.directory = Path(state_dir)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / FILE_NAME
        self._lock = threading.Lock()
        with self._connect() as db:
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
            elif row[0] != str(SCHEMA_VERSION):
                raise ValueError(
                    f"{self.path} holds emulator state of schema {row[0]}, not "
                    f"{SCHEMA_VERSION}: use another --state-dir"
                )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock, closing(sqlite3.connect(self.path)) as db, db:  # one transaction
            yield db

    def save(self, sections: dict[str, list[tuple[str, Any]]]) -> None:
        """Replace the named tables' rows with ``(id, json-able data)`` rows, atomically."""
        with self._connect() as db:
            for table, rows in sections.items():
                if table not in _TABLES:
                    raise ValueError(f"unknown table {table}")
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
                db.executemany(
                    f"INSERT INTO {table} (id, position, data) VALUES (?, ?, ?)",  # noqa: S608
                    [
                        (row_id, position, json.dumps(data, separators=(",", ":")))
                        for position, (row_id, data) in enumerate(rows)
                    ],
                )

    def load(self) -> dict[str, list[Any]]:
        """Every table's rows' data, in the order they were saved."""
        with self._connect() as db:
            return {
                table: [
                    json.loads(data)
                    for (data,) in db.execute(
                        f"SELECT data FROM {table} ORDER BY position"  # noqa: S608
                    )
                ]
                for table in _TABLES
            }


# -- the emulator's parts ----------------------------------------------------------------------


class Stateful(Protocol):
    """A part of the emulator whose state persists: it exports JSON rows by table and imports
    them back (``FaceStore``, ``ContentSafetyControl``, ``LivenessControl``)."""

    def export_state(self) -> dict[str, list[tuple[str, Any]]]: ...

    def import_state(self, tables: Mapping[str, list[Any]]) -> None: ...


class Persistence:
    """Loads the parts' state from ``state_dir`` and saves it; as a middleware it saves after
    every request that may have changed it (any method but GET/HEAD/OPTIONS that got an
    answer below 500, or was dropped after handling). Control calls made in process, such as
    ``Emulator.liveness.script_attempt``, reach the file with the next save or at shutdown.

    Args:
        parts: the stateful parts, by name (``Emulator.parts()``).
        state_dir: the directory of the SQLite file.
    """

    def __init__(self, parts: Mapping[str, Stateful], state_dir: str | Path) -> None:
        self.parts = dict(parts)
        self.file = StateFile(state_dir)
        self._save_lock = threading.Lock()

    def load(self) -> None:
        loaded = self.file.load()
        for part in self.parts.values():
            part.import_state(loaded)

    def save(self) -> None:
        with self._save_lock:
            sections: dict[str, list[tuple[str, Any]]] = {}
            for part in self.parts.values():
                sections.update(part.export_state())
            self.file.save(sections)

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
