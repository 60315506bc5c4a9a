"""The bulk journals: one contract over memory, SQLite and a real redis-server; typed errors
for broken backends; nothing secret, no image and no faceId ever written."""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _bulk_kit import SINGLE, face_items, make_persons
from faceguard import FaceClient
from faceguard.bulk import (
    BulkImage,
    Journal,
    JournalError,
    JournalRecord,
    MemoryJournal,
    RedisJournal,
    SQLiteJournal,
    bulk_add_faces,
    bulk_detect,
)
from faceguard.testing._plugin import API_KEY


@pytest.fixture(params=["memory", "sqlite", "redis"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journal]:
    if request.param == "memory":
        made: Journal = MemoryJournal()
    elif request.param == "sqlite":
        made = SQLiteJournal(tmp_path / "journal.sqlite3")
    else:
        url = request.getfixturevalue("redis_url")
        made = RedisJournal(url, prefix=f"t-{request.node.name}")
    yield made
    made.close()


def test_open_batch_records_pending_once_and_keeps_existing(journal: Journal) -> None:
    first = journal.open_batch("b", ["x", "y"])
    assert {k: r.state for k, r in first.items()} == {"x": "pending", "y": "pending"}
    journal.put("b", JournalRecord(key="x", state="sending", attempts=1))
    again = journal.open_batch("b", ["x", "y", "z"])
    assert [again[k].state for k in ("x", "y", "z")] == ["sending", "pending", "pending"]
    assert journal.open_batch("other", ["x"])["x"].state == "pending"  # batches are apart
    assert journal.open_batch("b", []) == {}


def test_records_round_trip_every_field(journal: Journal) -> None:
    record = JournalRecord(
        key="photos/ada 1.jpg",
        state="failed",
        persisted_face_id="a3f1c2d4-0000-4000-8000-000000000001",
        reason=None,
        error_type="InternalServerError",
        error_code="ServiceUnavailable",
        message="[request r-1] ServiceUnavailable (POST /x)",
        support={"operation": "op", "request_id": "r-1", "status_code": 503},
        attempts=5,
        in_doubt=True,
        faces=[{"faceRectangle": {"top": 1, "left": 2, "width": 3, "height": 4}}],
    )
    journal.put("b", record)
    journal.put("b", JournalRecord(key="other", state="skipped", reason="no_face"))
    assert journal.records("b") == {
        "photos/ada 1.jpg": record,
        "other": journal.records("b")["other"],
    }
    assert journal.records("b")["other"].reason == "no_face"
    journal.put("b", JournalRecord(key="other", state="added", persisted_face_id="f"))
    assert journal.records("b")["other"].state == "added"
    assert journal.records("empty") == {}


def test_concurrent_writers_lose_nothing(journal: Journal) -> None:
    keys = [f"k{i}" for i in range(200)]
    journal.open_batch("b", keys)

    def write(part: list[str]) -> None:
        for key in part:
            journal.put("b", JournalRecord(key=key, state="added", persisted_face_id=key))

    threads = [threading.Thread(target=write, args=(keys[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = journal.records("b")
    assert len(records) == 200 and {r.state for r in records.values()} == {"added"}


def test_closed_journals_raise_journal_error(tmp_path: Path, redis_url: str) -> None:
    for journal in (SQLiteJournal(tmp_path / "c.sqlite3"), RedisJournal(redis_url)):
        journal.close()
        journal.close()  # idempotent
        with pytest.raises(JournalError, match="closed"):
            journal.put("b", JournalRecord(key="k", state="pending"))


def test_sqlite_journal_survives_reopen_and_a_second_connection(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with SQLiteJournal(path) as one, SQLiteJournal(path) as two:
        one.put("b", JournalRecord(key="k", state="sending"))
        assert two.records("b")["k"].state == "sending"
    with SQLiteJournal(path) as reopened:
        assert reopened.records("b")["k"].state == "sending"
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_sqlite_journal_errors_are_typed(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="SQLite journal: open failed"):
        SQLiteJournal(garbage)
    with pytest.raises(JournalError):
        SQLiteJournal(tmp_path)  # a directory
    with pytest.raises(JournalError):
        SQLiteJournal(tmp_path / "missing-dir" / "j.sqlite3")
    path = tmp_path / "j.sqlite3"
    with SQLiteJournal(path) as journal:
        raw = sqlite3.connect(path)
        journal.put("b", JournalRecord(key="k", state="added"))
        raw.execute('UPDATE bulk_journal SET record = \'{"state": "bogus"}\'')
        raw.commit()
        raw.close()
        with pytest.raises(JournalError, match="unreadable"):
            journal.records("b")


def test_sqlite_journal_times_out_on_a_held_lock(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    SQLiteJournal(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with (
            SQLiteJournal(path, timeout=0.1) as journal,
            pytest.raises(JournalError, match="locked"),
        ):
            journal.put("b", JournalRecord(key="k", state="pending"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_redis_is_a_journal_error_without_the_password() -> None:
    url = f"redis://:s3cret-pw@127.0.0.1:{_closed_port()}/0?socket_connect_timeout=0.5"
    journal = RedisJournal(url)
    assert "s3cret-pw" not in repr(journal)
    with pytest.raises(JournalError) as caught:
        journal.open_batch("b", ["k"])
    assert "s3cret-pw" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    journal.close()


def test_redis_journal_uses_one_hash_per_batch(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    journal = RedisJournal(client, prefix="hash-test")
    journal.open_batch("batch-1", ["a", "b"])
    assert client.hlen("hash-test:batch-1") == 2
    assert "client" in repr(journal)
    journal.close()
    assert client.ping()  # a given client is left open
    client.close()


# -- what a journal holds after real runs -----------------------------------------------------


def _dump(path: Path) -> bytes:
    return path.read_bytes() + b"".join(
        path.with_name(path.name + suffix).read_bytes()
        for suffix in ("-wal",)
        if path.with_name(path.name + suffix).exists()
    )


def test_the_journal_holds_no_secret_image_or_face_id(
    face_client: FaceClient, faceguard_consent: Any, tmp_path: Path, redis_url: str
) -> None:
    persons, token = make_persons(face_client, "staff", 1, faceguard_consent)
    items = face_items(persons, 3, token)
    path = tmp_path / "j.sqlite3"
    with SQLiteJournal(path) as sqlite_journal:
        report = bulk_add_faces(
            face_client.large_person_groups, "staff", items, journal=sqlite_journal, progress=False
        )
        detect_token = faceguard_consent.token(operations=["detect_template"])
        faces = face_client.detection.detect(SINGLE[0], return_face_id=True, consent=detect_token)
        bulk_detect(
            face_client, [BulkImage("d", SINGLE[0])], journal=sqlite_journal, progress=False
        )
        records = sqlite_journal.records(report.batch_id)
    assert {r.persisted_face_id for r in records.values()} == {
        r.persisted_face_id for r in report.items
    }
    raw = _dump(path)
    for secret in (token, API_KEY, faces[0].face_id, SINGLE[0].read_bytes()[:64], b"\xff\xd8\xff"):
        needle = secret if isinstance(secret, bytes) else secret.encode()
        assert needle not in raw
    redis_journal = RedisJournal(redis_url, prefix="secrets")
    report = bulk_add_faces(
        face_client.large_person_groups,
        "staff",
        face_items(persons, 2, token, prefix="r"),
        journal=redis_journal,
        progress=False,
    )
    import redis

    client = redis.Redis.from_url(redis_url)
    stored = b"".join(client.hvals(f"secrets:{report.batch_id}"))
    client.close()
    redis_journal.close()
    assert report.added == 2 and token.encode() not in stored and b"\xff\xd8" not in stored
