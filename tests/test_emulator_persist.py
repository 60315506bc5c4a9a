"""``--state-dir`` persistence: each change is written as rows of its own, in WAL mode, and a
restart gives back exactly the state that was saved (schema 1 files included).

The cost of a save must not grow with the state: ``Persistence.last_written`` counts the rows
one save wrote or deleted, and adding a face must write the same few rows with 10 or 2,000
faces stored. Restarts are compared on everything a part exports, not on a sample.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from faceguard.emulator import Emulator, ManualClock
from faceguard.emulator._codec import encode
from faceguard.emulator._persist import FILE_NAME, SCHEMA_VERSION, Persistence
from faceguard.emulator.face.models import Container, PersistedFace, Person


def _emulator(clock: ManualClock | None = None) -> Emulator:
    return Emulator(clock=clock or ManualClock(), training_delay=1.0)


def _face(emulator: Emulator, kind: str, cid: str, pid: str | None = None) -> str:
    return emulator.store.add_face(
        kind,  # type: ignore[arg-type]
        cid,
        pid,
        embedding=os.urandom(512),
        detection_model="detection_03",
        user_data=None,
    )


def _everything(emulator: Emulator) -> dict[str, object]:
    return {name: part.export_state() for name, part in emulator.parts().items()}


def _restarted(folder: Path, clock: ManualClock) -> Emulator:
    again = _emulator(clock)
    persistence = Persistence(again.parts(), folder)
    persistence.load()
    persistence.close()
    return again


def test_a_save_writes_only_what_changed(tmp_path: Path) -> None:
    emulator = _emulator()
    store = emulator.store
    store.create_container(
        "largeFaceList", "big", name="b", user_data=None, recognition_model="recognition_04"
    )
    persistence = Persistence(emulator.parts(), tmp_path)
    written = []
    for count in (10, 2000):
        while len(store.persisted_faces("largeFaceList", "big", start=None, top=10**6)) < count:
            _face(emulator, "largeFaceList", "big")
        persistence.save()
        _face(emulator, "largeFaceList", "big")
        persistence.save()
        written.append(persistence.last_written)
    persistence.close()
    # the face's row and its container's (its version moved); the two Content Safety and
    # liveness tables are rewritten whole, and are empty here
    assert written == [2, 2]


def test_a_restart_gives_back_exactly_what_was_saved(tmp_path: Path) -> None:
    clock = ManualClock()
    emulator = _emulator(clock)
    store = emulator.store
    persistence = Persistence(emulator.parts(), tmp_path)
    for kind, cid in (("personGroup", "pg"), ("largeFaceList", "lfl"), ("faceList", "fl")):
        store.create_container(
            kind,  # type: ignore[arg-type]
            cid,
            name=cid,
            user_data="u",
            recognition_model="recognition_04",
        )
    ann = store.create_person("personGroup", "pg", name="Ann", user_data=None)
    bob = store.create_person("personGroup", "pg", name="Bob", user_data="b")
    for _ in range(3):
        _face(emulator, "personGroup", "pg", ann)
        _face(emulator, "largeFaceList", "lfl")
    gone = _face(emulator, "personGroup", "pg", bob)
    persistence.save()
    store.delete_face("personGroup", "pg", bob, gone)
    store.update_person("personGroup", "pg", ann, name="Ann B.", user_data="x")
    kept = _face(emulator, "faceList", "fl")
    store.update_face("faceList", "fl", None, kept, user_data="fl-face")
    store.start_training("personGroup", "pg")
    store.start_training("largeFaceList", "lfl")
    persistence.save()
    clock.advance(2)
    store.training("personGroup", "pg")  # the training finishes on this read
    store.delete_container("largeFaceList", "lfl")
    store.create_container(
        "largeFaceList", "lfl", name="again", user_data=None, recognition_model="recognition_01"
    )
    store.issue_face_id(os.urandom(512), detection_model="d", recognition_model="r", ttl=600)
    emulator.content_safety.import_state(
        {"blocklists": [("l", {"name": "l", "description": "d", "items": []})]}
    )
    persistence.save()
    persistence.close()

    again = _restarted(tmp_path, clock)
    assert _everything(again) == _everything(emulator)
    assert again.store.training("personGroup", "pg")[1].status == "succeeded"
    assert [p.name for p in again.store.persons("personGroup", "pg", start=None, top=10)] == [
        p.name for p in emulator.store.persons("personGroup", "pg", start=None, top=10)
    ]


def test_the_file_runs_in_wal_mode(tmp_path: Path) -> None:
    persistence = Persistence(_emulator().parts(), tmp_path)
    persistence.save()
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    persistence.close()


def test_a_schema_1_file_is_read_and_rewritten_as_rows(tmp_path: Path) -> None:
    """A state written before rows per face (one row per container, holding everything)."""
    face = PersistedFace("f1", b"\x01" * 512, "detection_03", "ud", 1.0)
    person = Person("p1", "Ann", None, 1.0, faces={"f1": face})
    container = Container(
        "personGroup", "old", "Old", None, "recognition_04", 1.0, persons={"p1": person}
    )
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        for table in ("containers", "face_ids", "blocklists", "liveness_sessions"):
            db.execute(
                f"CREATE TABLE {table} "
                "(id TEXT PRIMARY KEY, position INTEGER NOT NULL, data TEXT NOT NULL)"
            )
        db.execute(
            "INSERT INTO containers VALUES ('personGroup/old', 0, ?)",
            (json.dumps(encode(container)),),
        )

    loaded = _restarted(tmp_path, ManualClock())
    found = loaded.store.person("personGroup", "old", "p1")
    assert found.name == "Ann"
    assert found.faces["f1"].embedding == b"\x01" * 512
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        faces = db.execute("SELECT id FROM faces").fetchall()
        (row,) = db.execute("SELECT data FROM containers").fetchone()
    assert version == (str(SCHEMA_VERSION),)
    assert faces == [("personGroup/old/p1/f1",)]
    assert json.loads(row)["persons"] == {}


def test_a_file_of_an_unknown_schema_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / FILE_NAME) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    with pytest.raises(ValueError, match="schema 99"):
        Persistence(_emulator().parts(), tmp_path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_state_files_are_private(tmp_path: Path) -> None:
    """They hold biometric templates: owner read/write only, WAL files included."""
    emulator = _emulator()
    emulator.store.create_container(
        "faceList", "fl", name="f", user_data=None, recognition_model="recognition_04"
    )
    persistence = Persistence(emulator.parts(), tmp_path)
    _face(emulator, "faceList", "fl")
    persistence.save()
    files = sorted(tmp_path.glob(FILE_NAME + "*"))
    assert len(files) >= 2  # the database and its WAL while open
    assert {oct(path.stat().st_mode & 0o777) for path in files} == {"0o600"}
    persistence.close()
