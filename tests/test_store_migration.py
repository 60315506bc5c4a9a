"""Stores written by the faceguard version before pseudonymisation (faceIds, subjects in clear)
are converted the first time this version uses them: nothing is lost (withdrawals above all:
losing one would let a withdrawn subject's tokens through), nothing stays in clear, a
migration that died half-way is finished by the next process, and processes that start
together migrate once.

The legacy entries are written exactly as the previous version wrote them: SQLite rows in
``kv`` (``ns``, ``key``, ``value``, ``expires``), Redis strings at ``{prefix}:{ns}:{key}``.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from faceguard import RedisStore, SQLiteStore, StoreKeyError
from faceguard._guard._ledger import ConsentLedger
from faceguard._guard._registry import FaceIdRegistry
from test_store_minimisation import assert_absent, dump_redis, dump_sqlite

KEY = "the-deployment-key-of-the-upgrade-" + "5" * 20
ENDPOINT = "https://legacy.cognitiveservices.azure.com"
GROUP = "legacy-group"


class Legacy:
    """One set of clear identifiers, as an old store held them."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.face_id = str(uuid.uuid4())
        self.expired_face_id = str(uuid.uuid4())
        self.enrolled = f"p-enrolled-{tag}"
        self.withdrawn = f"p-withdrawn-{tag}"
        self.person = str(uuid.uuid4())
        self.withdrawn_person = str(uuid.uuid4())

    def entries(self, now: float) -> list[tuple[str, str, bytes, float | None]]:
        """(namespace, key, value, expires) rows of the previous version."""

        def record(issued: float, subject: str) -> bytes:
            return json.dumps(
                {
                    "issued_at": issued,
                    "ttl": 86400,
                    "detection_model": "detection_03",
                    "recognition_model": "recognition_04",
                    "endpoint": ENDPOINT,
                    "subject": subject,
                },
                separators=(",", ":"),
            ).encode()

        return [
            ("faceid", self.face_id, record(now - 60, self.enrolled), now + 86400 - 60),
            # Old enough that the service has forgotten it; its store TTL not yet run out.
            ("faceid", self.expired_face_id, record(now - 90000, self.enrolled), now + 60),
            ("consent-withdrawn", self.withdrawn, f"{now:.3f}".encode(), None),
            (
                "consent-person",
                f"largePersonGroup:{GROUP}:{self.person}",
                self.enrolled.encode(),
                None,
            ),
            (
                "consent-person",
                f"largePersonGroup:{GROUP}:{self.withdrawn_person}",
                self.withdrawn.encode(),
                None,
            ),
            ("container-model", f"largePersonGroup:{GROUP}", b"recognition_04", None),
        ]

    def secrets(self) -> dict[str, list[str]]:
        return {
            "faceId": [self.face_id, self.expired_face_id],
            "subject": [self.enrolled, self.withdrawn],
        }


def write_legacy_sqlite(path: Path, legacy: Legacy) -> None:
    """A store file as the previous version left it (its schema, its rows)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """CREATE TABLE kv (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
               expires REAL, PRIMARY KEY (ns, key)) WITHOUT ROWID;
           CREATE TABLE events (id INTEGER PRIMARY KEY, ns TEXT NOT NULL, key TEXT NOT NULL,
               at REAL NOT NULL, expires REAL NOT NULL);"""
    )
    conn.executemany("INSERT INTO kv VALUES (?, ?, ?, ?)", legacy.entries(time.time()))
    conn.commit()
    conn.close()


def write_legacy_redis(url: str, prefix: str, legacy: Legacy) -> None:
    import redis

    client = redis.Redis.from_url(url)
    now = time.time()
    for ns, key, value, expires in legacy.entries(now):
        px = None if expires is None else int((expires - now) * 1000)
        client.set(f"{prefix}:{ns}:{key}", value, px=px)
    client.close()


def assert_migrated(store: SQLiteStore | RedisStore, legacy: Legacy) -> None:
    """Every legacy fact reads back through the registry and the ledger."""
    registry = FaceIdRegistry(store, clock=time.time)
    ledger = ConsentLedger(store, clock=time.time)
    record = registry.lookup(legacy.face_id.upper())  # looked up in any spelling, as before
    assert record is not None
    assert record.subject == registry.subject_pseudonym(legacy.enrolled)
    assert record.recognition_model == "recognition_04" and record.endpoint == ENDPOINT
    assert registry.lookup(legacy.expired_face_id) is None  # past its lifetime: dropped
    assert ledger.is_withdrawn(legacy.withdrawn)
    assert not ledger.is_withdrawn(legacy.enrolled)
    assert ledger.persons_of(legacy.enrolled) == [("largePersonGroup", GROUP, legacy.person)]
    assert ledger.has_live_consent("largePersonGroup", GROUP, legacy.person)
    assert not ledger.has_live_consent("largePersonGroup", GROUP, legacy.withdrawn_person)
    assert registry.container_model("largePersonGroup", GROUP) == "recognition_04"


@pytest.fixture
def legacy() -> Legacy:
    return Legacy()


def test_a_legacy_sqlite_store_is_migrated_on_first_use(tmp_path: Path, legacy: Legacy) -> None:
    path = tmp_path / "old.sqlite3"
    write_legacy_sqlite(path, legacy)
    store = SQLiteStore(path, key=KEY)
    assert_migrated(store, legacy)
    store.close()
    assert_absent(dump_sqlite(path), legacy.secrets())
    reopened = SQLiteStore(path, key=KEY)  # a second open finds it migrated: same answers
    assert_migrated(reopened, legacy)
    reopened.close()
    wrong = SQLiteStore(path, key="x" * 40)
    with pytest.raises(StoreKeyError):
        ConsentLedger(wrong, clock=time.time).is_withdrawn(legacy.withdrawn)
    wrong.close()


def test_a_legacy_sqlite_store_without_a_key_migrates_under_its_sidecar(
    tmp_path: Path, legacy: Legacy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FACEGUARD_STORE_KEY", raising=False)
    path = tmp_path / "old.sqlite3"
    write_legacy_sqlite(path, legacy)
    store = SQLiteStore(path)
    assert_migrated(store, legacy)
    store.close()
    assert_absent(
        dump_sqlite(path).replace((tmp_path / "old.sqlite3.key").read_bytes(), b""),
        legacy.secrets(),
    )


def test_a_legacy_redis_store_is_migrated_on_first_use(redis_url: str, legacy: Legacy) -> None:
    prefix = f"legacy{uuid.uuid4().hex[:8]}"
    write_legacy_redis(redis_url, prefix, legacy)
    store = RedisStore(redis_url, prefix=prefix, key=KEY)
    assert_migrated(store, legacy)
    store.close()
    assert_absent(dump_redis(redis_url), legacy.secrets())
    reopened = RedisStore(redis_url, prefix=prefix, key=KEY)
    assert_migrated(reopened, legacy)
    reopened.close()


def test_a_migration_that_died_half_way_is_finished_without_double_hashing(
    tmp_path: Path, legacy: Legacy
) -> None:
    """A crash after some entries were converted and before the check value was written:
    the next process converts the rest and leaves the converted ones alone."""
    path = tmp_path / "half.sqlite3"
    write_legacy_sqlite(path, legacy)
    store = SQLiteStore(path, key=KEY)
    assert_migrated(store, legacy)
    store.close()
    # Undo the end of the migration: no check value, and one clear withdrawal still there.
    late = Legacy()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM kv WHERE ns = 'store-meta'")
    conn.execute("INSERT INTO kv VALUES ('consent-withdrawn', ?, ?, NULL)", (late.withdrawn, b"1"))
    conn.commit()
    conn.close()
    again = SQLiteStore(path, key=KEY)
    assert_migrated(again, legacy)
    assert ConsentLedger(again, clock=time.time).is_withdrawn(late.withdrawn)
    again.close()
    assert_absent(dump_sqlite(path), {**legacy.secrets(), "late subject": [late.withdrawn]})


def _withdrawn_in_process(path: str, subject: str) -> bool:
    """Runs in a spawned process: open the legacy file and ask about a withdrawal."""
    store = SQLiteStore(path, key=KEY)
    try:
        return ConsentLedger(store, clock=time.time).is_withdrawn(subject)
    finally:
        store.close()


def test_processes_starting_together_migrate_once(tmp_path: Path, legacy: Legacy) -> None:
    path = tmp_path / "shared.sqlite3"
    write_legacy_sqlite(path, legacy)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        answers = pool.starmap(_withdrawn_in_process, [(str(path), legacy.withdrawn)] * 4)
    assert answers == [True] * 4
    store = SQLiteStore(path, key=KEY)
    assert_migrated(store, legacy)
    # Exactly one pseudonymised withdrawal: nobody hashed a pseudonym again.
    assert len(store.keys("consent-withdrawn")) == 1
    store.close()
    assert_absent(dump_sqlite(path), legacy.secrets())


def test_no_clear_remnant_survives_in_free_pages_or_the_wal(tmp_path: Path) -> None:
    """A legacy store in WAL mode with enough rows to fill many pages: after the migration,
    the bytes of the file and its -wal hold no identifier, not even in freed cells or in old
    WAL frames (deleted is not erased unless SQLite is told to zero what it deletes)."""
    path = tmp_path / "big.sqlite3"
    crowd = [Legacy() for _ in range(20)]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL").fetchall()
    conn.execute("PRAGMA wal_autocheckpoint=0")  # keep every legacy frame in the -wal
    conn.executescript(
        """CREATE TABLE kv (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
               expires REAL, PRIMARY KEY (ns, key)) WITHOUT ROWID;
           CREATE TABLE events (id INTEGER PRIMARY KEY, ns TEXT NOT NULL, key TEXT NOT NULL,
               at REAL NOT NULL, expires REAL NOT NULL);"""
    )
    now = time.time()
    for legacy in crowd:
        # OR REPLACE: every Legacy names the same container.
        conn.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?, ?, ?)", legacy.entries(now))
        conn.commit()
    # Past their lifetime: the migration drops them and writes nothing in their place, so
    # nothing new overwrites the space they leave.
    stale = [str(uuid.uuid4()) for _ in range(1000)]  # far more than is written back
    old = json.dumps({"issued_at": now - 90000, "ttl": 86400, "subject": None}).encode()
    conn.executemany(
        "INSERT INTO kv VALUES ('faceid', ?, ?, ?)", [(face_id, old, now + 60) for face_id in stale]
    )
    conn.commit()
    conn.close()  # the last connection: SQLite checkpoints the -wal into the file
    store = SQLiteStore(path, key=KEY)
    assert_migrated(store, crowd[0])
    assert_migrated(store, crowd[-1])
    raw = dump_sqlite(path)  # while the store is open: its -wal counts too
    store.close()
    secrets: dict[str, list[str]] = {"faceId": list(stale), "subject": []}
    for legacy in crowd:
        for kind, values in legacy.secrets().items():
            secrets[kind] += values
    assert_absent(raw, secrets)
    assert_absent(dump_sqlite(path), secrets)
