"""GUARD §4.4 minimisation, attacked from outside: after a realistic flow through a
``FaceClient`` on the emulator, read the raw storage of every backend (every SQLite row and
the file's bytes, every Redis key and value through a raw client, every object a
``MemoryStore`` holds, the bulk journals' files and keys) and look for the faceIds, the
consent subjects and the device correlation ids in every spelling an attacker would try:
as text, upper case, without dashes, as UUID bytes, and as an unkeyed SHA-256 (a dictionary
attack on guessed ids). Only keyed, domain-separated pseudonyms may be stored.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _bulk_kit import SINGLE, face_items
from faceguard import FaceClient, GuardStore, MemoryStore, RedisStore, SQLiteStore
from faceguard.bulk import RedisJournal, SQLiteJournal, bulk_add_faces

KEY = "test-store-key-" + "x" * 40  # a configured deployment key (>= 32 bytes)


def spellings(secret: str) -> list[bytes]:
    """Every way an identifier could sit in storage that an attacker could search for."""
    texts = {
        secret,
        secret.upper(),
        secret.lower(),
        secret.replace("-", ""),
        secret.replace("-", "").upper(),
        secret.replace("-", "").lower(),
    }
    # An unkeyed hash of any spelling is as good as the id to whoever can guess candidates.
    forms = texts | {hashlib.sha256(text.encode()).hexdigest() for text in texts}
    found = [form.encode() for form in forms]
    found += [form.encode("utf-16-le") for form in (secret, secret.upper())]
    with contextlib.suppress(ValueError):
        found.append(uuid.UUID(secret).bytes)
    return found


def assert_absent(raw: bytes, secrets: dict[str, list[str]]) -> None:
    """No spelling of any identifier in ``raw``; the failure lists every kind that leaked."""
    assert raw, "the dump is empty: the flow stored nothing, so the test would prove nothing"
    leaks: set[str] = set()
    for kind, values in secrets.items():
        assert values, f"the flow produced no {kind}"
        for value in values:
            for needle in spellings(value):
                if needle in raw:
                    leaks.add(f"{kind} ({needle[:10]!r}...)")
    assert not leaks, f"stored in clear or unkeyed: {sorted(leaks)}"


# -- raw dumps ----------------------------------------------------------------------------


def dump_sqlite(path: Path) -> bytes:
    """Every row of every table (through a separate connection) plus the files' bytes."""
    parts: list[bytes] = []
    conn = sqlite3.connect(path)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]
        for table in tables:
            try:
                rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            except sqlite3.Error:
                continue  # an index
            for row in rows:
                for cell in row:
                    parts.append(cell if isinstance(cell, bytes) else str(cell).encode())
    finally:
        conn.close()
    for suffix in ("", "-wal", "-shm", ".key"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            parts.append(side.read_bytes())
    return b"\n".join(parts)


def dump_redis(url: str) -> bytes:
    """Every key of the database and every value, whatever its type, via a raw client."""
    import redis

    client = redis.Redis.from_url(url)
    parts: list[bytes] = []
    try:
        for name in client.scan_iter(count=1000):
            parts.append(name)
            kind = client.type(name)
            if kind == b"string":
                parts.append(client.get(name) or b"")
            elif kind == b"hash":
                for field, value in client.hgetall(name).items():
                    parts += [field, value]
            elif kind == b"zset":
                for member, score in client.zrange(name, 0, -1, withscores=True):
                    parts += [member, repr(score).encode()]
            elif kind == b"set":
                parts += list(client.smembers(name))
            elif kind == b"list":
                parts += client.lrange(name, 0, -1)
    finally:
        client.close()
    return b"\n".join(parts)


def dump_memory(store: object) -> bytes:
    """Every str and bytes object reachable from the store (a heap dump of it)."""
    parts: list[bytes] = []
    seen: set[int] = set()
    pending: list[Any] = [store]
    while pending:
        obj = pending.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            parts.append(obj.encode("utf-8", "surrogatepass"))
        elif isinstance(obj, (bytes, bytearray)):
            parts.append(bytes(obj))
        elif not callable(obj) or obj is store:
            pending.extend(gc.get_referents(obj))
    return b"\n".join(parts)


# -- the backends -------------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(request.param)


@pytest.fixture
def faceguard_store(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, faceguard_clock: Any
) -> Iterator[GuardStore]:
    """The plugin's store, replaced by each backend (the guard and the replay store)."""
    store: GuardStore
    if backend == "memory":
        store = MemoryStore(clock=faceguard_clock)
    elif backend == "sqlite":
        store = SQLiteStore(tmp_path / "guard.sqlite3", clock=faceguard_clock, key=KEY)
    else:
        url = request.getfixturevalue("redis_url")
        store = RedisStore(url, prefix=f"min{uuid.uuid4().hex[:8]}", key=KEY)
    yield store
    store.close()


def realistic_flow(client: FaceClient, consent: Any) -> dict[str, list[str]]:
    """Enroll, detect, verify, identify, a liveness session, withdraw and erase; returns
    the identifiers that must not be stored in clear."""
    tag = uuid.uuid4().hex[:8]
    alice, bob = f"p-alice-{tag}", f"P-Bob-{tag}"
    group = f"staff-{tag}"
    client.large_person_groups.create(group, name="Staff")
    persons = {
        who: client.large_person_groups.create_person(group, name=who).person_id
        for who in (alice, bob)
    }
    for index, who in enumerate((alice, bob)):
        token = consent.token(
            who, operations=["enroll"], bindings=[("largePersonGroup", group, persons[who])]
        )
        client.large_person_groups.add_face(group, persons[who], SINGLE[index], consent=token)
    client.large_person_groups.train(group).wait()
    face_ids: list[str] = []
    for index, who in enumerate((alice, bob)):
        token = consent.token(
            who,
            operations=["detect_template", "verify", "identify"],
            bindings=[("largePersonGroup", group, persons[who])],
        )
        (face,) = client.detection.detect(SINGLE[index], return_face_id=True, consent=token)
        assert face.face_id
        face_ids.append(face.face_id)
        client.recognition.verify_from_large_person_group(
            face.face_id, large_person_group_id=group, person_id=persons[who], consent=token
        )
        client.recognition.identify_from_large_person_group(
            [face.face_id], large_person_group_id=group, consent=token
        )
    # A face list (each persisted face its own unit of consent), searched with a faceId
    # detected under a single-use token (its id goes to the replay store).
    carol = f"p-carol-{tag}"
    face_list = f"list-{tag}"
    client.face_lists.create(face_list, name="Visitors")
    enroll = consent.token(carol, operations=["enroll"], bindings=[("faceList", face_list)])
    client.face_lists.add_face(face_list, SINGLE[2], consent=enroll)
    once = consent.token(
        carol,
        operations=["detect_template", "find_similar"],
        bindings=[("faceList", face_list)],
        use="once",
    )
    session = consent.token(
        carol, operations=["detect_template", "find_similar"], bindings=[("faceList", face_list)]
    )
    (face,) = client.detection.detect(SINGLE[2], return_face_id=True, consent=once)
    assert face.face_id
    face_ids.append(face.face_id)
    client.recognition.find_similar_from_face_list(
        face.face_id, face_list_id=face_list, consent=session
    )
    device = str(uuid.uuid4())
    client.liveness.create_session(liveness_operation_mode="Passive", device_correlation_id=device)
    # The same device in other spellings counts as the same device, and is stored as nothing.
    client.liveness.create_session(
        liveness_operation_mode="Passive", device_correlation_id=device.upper()
    )
    client.erase_subject(bob)  # withdrawal + deletion: the withdrawal mark stays stored
    return {"faceId": face_ids, "subject": [alice, bob, carol], "device id": [device]}


def test_no_identifier_is_stored_in_clear(
    backend: str,
    face_client: FaceClient,
    faceguard_consent: Any,
    faceguard_store: GuardStore,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    secrets = realistic_flow(face_client, faceguard_consent)
    if backend == "memory":
        raw = dump_memory(faceguard_store)
    elif backend == "sqlite":
        raw = dump_sqlite(tmp_path / "guard.sqlite3")
    else:
        raw = dump_redis(request.getfixturevalue("redis_url"))
    assert_absent(raw, secrets)


@pytest.mark.parametrize("backend", ["memory"], indirect=False)
def test_bulk_journals_hold_no_identifier(
    face_client: FaceClient, faceguard_consent: Any, tmp_path: Path, redis_url: str
) -> None:
    """The bulk journals (SQLite file, Redis hashes) after a bulk enroll and a detection."""
    tag = uuid.uuid4().hex[:8]
    subject = f"p-bulk-{tag}"
    group = f"bulk-{tag}"
    face_client.large_person_groups.create(group, name="Bulk")
    person = face_client.large_person_groups.create_person(group, name="b").person_id
    token = faceguard_consent.token(
        subject, operations=["enroll"], bindings=[("largePersonGroup", group, person)]
    )
    detect = faceguard_consent.token(subject, operations=["detect_template"])
    (face,) = face_client.detection.detect(SINGLE[0], return_face_id=True, consent=detect)
    assert face.face_id
    path = tmp_path / "journal.sqlite3"
    with SQLiteJournal(path) as journal:
        report = bulk_add_faces(
            face_client.large_person_groups,
            group,
            face_items([person], 2, token),
            journal=journal,
            progress=False,
        )
    redis_journal = RedisJournal(redis_url, prefix=f"minj{tag}")
    again = bulk_add_faces(
        face_client.large_person_groups,
        group,
        face_items([person], 2, token, prefix="r"),
        journal=redis_journal,
        progress=False,
    )
    # A withdrawn subject's items fail: what the journal says about them names nobody.
    face_client.erase_subject(subject)
    refused = bulk_add_faces(
        face_client.large_person_groups,
        group,
        face_items([person], 1, token, prefix="w"),
        journal=redis_journal,
        progress=False,
    )
    redis_journal.close()
    assert report.added == 2 and again.added == 2 and refused.added == 0
    secrets = {"faceId": [face.face_id], "subject": [subject]}
    assert_absent(dump_sqlite(path), secrets)
    assert_absent(dump_redis(redis_url), secrets)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_async_client_stores_no_identifier_either(
    async_face_client: Any, faceguard_consent: Any, faceguard_store: GuardStore, tmp_path: Path
) -> None:
    """The async client (its guard runs the SQLite store in a worker thread)."""
    client = async_face_client
    tag = uuid.uuid4().hex[:8]
    subject, group = f"p-async-{tag}", f"async-{tag}"
    await client.large_person_groups.create(group, name="Async")
    person = (await client.large_person_groups.create_person(group, name="a")).person_id
    enroll = faceguard_consent.token(
        subject, operations=["enroll"], bindings=[("largePersonGroup", group, person)]
    )
    await client.large_person_groups.add_face(group, person, SINGLE[1], consent=enroll)
    detect = faceguard_consent.token(
        subject,
        operations=["detect_template", "verify"],
        bindings=[("largePersonGroup", group, person)],
    )
    (face,) = await client.detection.detect(SINGLE[1], return_face_id=True, consent=detect)
    assert face.face_id
    await client.recognition.verify_from_large_person_group(
        face.face_id, large_person_group_id=group, person_id=person, consent=detect
    )
    await client.erase_subject(subject)
    assert_absent(
        dump_sqlite(tmp_path / "guard.sqlite3"), {"faceId": [face.face_id], "subject": [subject]}
    )
