"""A real crash: a process enrolling faces is killed with SIGKILL half-way, and a second
process resumes from its SQLite journal.

The emulator server runs in this process (a loopback HTTP server with the real face engine,
10 % random faults: 429, 503 and connections dropped after the face was added); the
enrolling processes are spawned, and the first one is killed once the server has seen a
third of the adds, so some adds are in flight when it dies. The checks are on the server's
state: every item's marker present exactly once.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from faceguard import FaceClient
from faceguard.bulk import face_marker
from faceguard.emulator import Emulator
from faceguard.emulator._server import EmulatorServer

pytest.importorskip("cv2", reason="the emulator's face engine needs the emulator extra")
pytest.importorskip("jwt", reason="consent tokens need the consent extra")

KEY = "bulk-kill-key"
GROUP = "bulk-kill"
PERSONS = 6
FACES = 36
ADD_PATH = "/persistedfaces"
AUDIENCE = "faceguard:bulk-kill"


def _enroll(url: str, persons: list[str], journal: str, out: str) -> None:
    """One enrolling process (spawned): guard on, a session token per person."""
    from _bulk_kit import SINGLE
    from faceguard import ConsentIssuer, ConsentVerifier, GuardPolicy, MemoryStore, UseCase
    from faceguard.bulk import BulkFace, SQLiteJournal, bulk_add_faces

    issuer, public_key = ConsentIssuer.generate()
    store = MemoryStore()
    use_case = UseCase.DUPLICATE_OR_BLOCKED_USERS
    policy = GuardPolicy(
        use_case=use_case,
        verifier=ConsentVerifier(
            {issuer.kid: public_key}, issuer=issuer.issuer, audience=AUDIENCE, replay_store=store
        ),
        store=store,
    )
    tokens = {
        person: issuer.issue(
            f"subject-{n}",
            audience=[AUDIENCE, url],  # this deployment, and the Face resource at url
            operations=["enroll"],
            use_case=use_case,
            bindings=[("largePersonGroup", GROUP, person)],
            use="session",
        )
        for n, person in enumerate(persons)
    }
    items = [
        BulkFace(
            key=f"face-{i:03d}",
            image=SINGLE[i % len(SINGLE)],
            person_id=persons[i % len(persons)],
            consent=tokens[persons[i % len(persons)]],
        )
        for i in range(FACES)
    ]
    with (
        FaceClient(url, api_key=KEY, guard=policy) as client,
        SQLiteJournal(journal) as opened,
    ):
        report = bulk_add_faces(
            client.large_person_groups,
            GROUP,
            items,
            journal=opened,
            concurrency=4,
            progress=False,
            max_attempts=20,
            sleep=lambda seconds: time.sleep(min(seconds, 0.05)),
        )
    Path(out).write_text(
        json.dumps(
            [
                {"key": r.key, "status": r.status, "journal": r.from_journal, "rec": r.recovered}
                for r in report.items
            ]
        )
    )


@pytest.fixture
def server() -> Any:
    emulator = Emulator()
    with EmulatorServer(emulator, port=0, key=KEY) as running:
        with FaceClient(running.url, api_key=KEY) as setup:
            setup.large_person_groups.create(GROUP, name="kill and resume")
            persons = [
                setup.large_person_groups.create_person(GROUP, name=f"p{i}").person_id
                for i in range(PERSONS)
            ]
        emulator.faults.seed(11)
        emulator.faults.add_fault_mix(0.1, retry_after=0.05)
        yield running, persons


def _adds_seen(emulator: Emulator) -> int:
    return sum(1 for a in emulator.faults.traffic() if a.path.endswith(ADD_PATH))


def test_killed_half_way_and_resumed_nothing_lost_nothing_twice(
    server: Any, tmp_path: Path
) -> None:
    running, persons = server
    emulator = running.emulator
    journal = str(tmp_path / "journal.sqlite3")
    context = multiprocessing.get_context("spawn")

    first = context.Process(
        target=_enroll, args=(running.url, persons, journal, str(tmp_path / "first.json"))
    )
    first.start()
    deadline = time.monotonic() + 120
    while _adds_seen(emulator) < FACES // 3:
        assert first.is_alive(), "the first process ended before it could be killed"
        assert time.monotonic() < deadline, "the first process made no progress"
        time.sleep(0.01)
    first.kill()  # SIGKILL: no cleanup, no journal flush beyond what was committed
    first.join()
    assert not (tmp_path / "first.json").exists()
    sent_before_kill = _adds_seen(emulator)

    second = context.Process(
        target=_enroll, args=(running.url, persons, journal, str(tmp_path / "second.json"))
    )
    second.start()
    second.join(timeout=180)
    assert second.exitcode == 0
    report = json.loads((tmp_path / "second.json").read_text())

    # Every item added, and some of them from the first process's work.
    assert [r["status"] for r in report] == ["added"] * FACES
    resumed = sum(1 for r in report if r["journal"] or r["rec"])
    assert resumed >= 1
    assert sent_before_kill < _adds_seen(emulator)  # the second process did the rest

    # On the server: each item's marker exactly once, and nothing else.
    emulator.faults.clear()
    markers: Counter[str] = Counter()
    with FaceClient(running.url, api_key=KEY) as client:
        for person in client.large_person_groups.list_persons(GROUP):
            for face_id in person.persisted_face_ids or []:
                face = client.large_person_groups.get_face(GROUP, person.person_id, face_id)
                markers.update(w for w in (face.user_data or "").split() if "bulk" in w)
    expected = {face_marker(f"largePersonGroup:{GROUP}", f"face-{i:03d}") for i in range(FACES)}
    assert set(markers) == expected
    assert max(markers.values()) == 1
