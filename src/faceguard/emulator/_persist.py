"""The emulator's state on disk: one SQLite file in ``--state-dir``.

What is kept: the Face containers (face lists, large face lists, person groups, large person
groups) with their persons, persisted faces and training state, unexpired faceIds, the Content
Safety blocklists and items, and the liveness sessions. Faces are kept as the engine's
embeddings only: no image is ever written (the emulator never holds one beyond a request,
except a liveness session image, which stays in memory and is not persisted).

Layout: one row per container, faceId, blocklist and liveness session, each a JSON document
(embeddings base64-encoded) in a table of its own, written in one transaction. The dataclasses
of the Face state are encoded field by field from their type hints, so a field added to them
is persisted without a change here. ``schema_version`` in ``meta`` guards against reading a
file written by an incompatible version.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sqlite3
import threading
import types
import typing
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA_VERSION", "Persistence", "StateFile", "decode", "encode", "restore", "snapshot"]

SCHEMA_VERSION = 1
FILE_NAME = "emulator.sqlite3"

_TABLES = ("containers", "face_ids", "blocklists", "liveness_sessions")


# -- a dataclass <-> JSON codec driven by type hints -------------------------------------------


def encode(value: Any) -> Any:
    """Plain JSON data for a dataclass tree (bytes as ``{"$b64": ...}``)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes | bytearray):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(hint: Any, data: Any) -> Any:
    """The inverse of ``encode`` for a value of type ``hint``."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return data
    if origin is typing.Union or origin is types.UnionType:
        if data is None:
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return decode(options[0], data)
        for option in options:  # the first option that decodes
            try:
                return decode(option, data)
            except (TypeError, ValueError, KeyError):
                continue
        raise ValueError(f"cannot decode {data!r} as {hint}")
    if origin is typing.Literal:
        if data not in typing.get_args(hint):
            raise ValueError(f"{data!r} is not one of {typing.get_args(hint)}")
        return data
    if origin is dict:
        key_type, value_type = typing.get_args(hint)
        return {decode(key_type, k): decode(value_type, v) for k, v in data.items()}
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v) for v in data)
        return tuple(decode(a, v) for a, v in zip(args, data, strict=True))
    if origin is list:
        (item_type,) = typing.get_args(hint)
        return [decode(item_type, v) for v in data]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {hint.__name__}")
        hints = typing.get_type_hints(hint)
        kwargs = {}
        for f in dataclasses.fields(hint):
            if f.name in data:
                kwargs[f.name] = decode(hints[f.name], data[f.name])
        return hint(**kwargs)
    if hint is bytes:
        if not isinstance(data, dict) or "$b64" not in data:
            raise TypeError("expected base64 bytes")
        return base64.b64decode(data["$b64"])
    if hint is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise TypeError("expected a number")
        return float(data)
    if hint in (int, str, bool):
        if not isinstance(data, hint) or (hint is int and isinstance(data, bool)):
            raise TypeError(f"expected {hint.__name__}")
        return data
    raise TypeError(f"unsupported type {hint!r}")


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


def _face_store(emulator: Any) -> Any | None:
    """The emulator's ``FaceStore`` (``_store.py``), if it has one."""
    for name in ("store", "face_store", "state"):
        candidate = getattr(emulator, name, None)
        if candidate is not None and hasattr(candidate, "locked"):
            return candidate
    return None


def snapshot(emulator: Any) -> dict[str, list[tuple[str, Any]]]:
    """What ``save`` writes for ``emulator``: only the parts it has."""
    sections: dict[str, list[tuple[str, Any]]] = {}
    store = _face_store(emulator)
    if store is not None:
        now = float(store.clock())
        with store.locked() as state:
            sections["containers"] = [
                (f"{kind}/{container_id}", encode(container))
                for kind, by_id in state.containers.items()
                for container_id, container in by_id.items()
            ]
            sections["face_ids"] = [
                (face_id, encode(face))
                for face_id, face in state.face_ids.items()
                if now < face.created_at + face.ttl
            ]
    content_safety = getattr(emulator, "content_safety", None)
    if content_safety is not None:
        sections["blocklists"] = [(b["name"], b) for b in content_safety.export_blocklists()]
    liveness = getattr(emulator, "liveness", None)
    if liveness is not None:
        sections["liveness_sessions"] = [(s["session_id"], s) for s in liveness.export_sessions()]
    return sections


def restore(emulator: Any, loaded: dict[str, list[Any]]) -> None:
    """Put ``loaded`` (from ``StateFile.load``) into ``emulator``'s parts."""
    store = _face_store(emulator)
    if store is not None:
        from ._state import Container, DetectedFace

        now = float(store.clock())
        with store.locked() as state:
            for data in loaded.get("containers", []):
                container = decode(Container, data)
                state.containers.setdefault(container.kind, {})[container.container_id] = container
            for data in loaded.get("face_ids", []):
                face = decode(DetectedFace, data)
                if now < face.created_at + face.ttl:
                    state.face_ids[face.face_id] = face
    content_safety = getattr(emulator, "content_safety", None)
    if content_safety is not None:
        content_safety.import_blocklists(loaded.get("blocklists", []))
    liveness = getattr(emulator, "liveness", None)
    if liveness is not None:
        liveness.import_sessions(loaded.get("liveness_sessions", []))


class Persistence:
    """Loads ``emulator``'s state from ``state_dir`` and saves it on demand (the server saves
    after every request that may change it, and at shutdown; control calls made in process,
    such as ``Emulator.liveness.script_attempt``, reach the file with the next save)."""

    def __init__(self, emulator: Any, state_dir: str | Path) -> None:
        self.emulator = emulator
        self.file = StateFile(state_dir)

    def load(self) -> None:
        restore(self.emulator, self.file.load())

    def save(self) -> None:
        self.file.save(snapshot(self.emulator))
