"""The retention sweeper (GUARD.md §4.6) through the public API, on the emulator's real engine.

``client.retention.due()`` lists persons and face-list faces past their ``destroy_by`` (the
earliest of the enrollment token's ``ret.until``, the subject's withdrawal, and the declared
jurisdictions' rules, e.g. Illinois's three years after the last successful match);
``client.retention.sweep()`` deletes them through the guarded deletes and records each
receipt. The clock is injected (the issuer's too, so tokens are valid years later); nothing
sleeps. Two processes share the store in the cron test: the application enrolls, ``faceguard
retention sweep`` in another process deletes, on a SQLite file and on Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faceguard import (
    AsyncFaceClient,
    AuditLog,
    ConsentIssuer,
    ConsentLedger,
    ConsentVerifier,
    FaceClient,
    GuardPolicy,
    LegalBasis,
    MemoryStore,
    NotFoundError,
    Notice,
    Retention,
    RetryPolicy,
    SQLiteStore,
)
from faceguard._guard._store import GuardStore
from faceguard._guard._usecases import UseCase
from faceguard.emulator import Emulator
from faceguard.emulator._server import EmulatorServer

ENDPOINT = "https://retention.cognitiveservices.azure.com"
AUDIENCE = "faceguard:retention-tests"
KEY = "k" * 32
GROUP = "retention"
FACES = "retention-faces"
USE_CASE = UseCase.DUPLICATE_OR_BLOCKED_USERS
PHOTOS = Path(__file__).parent / "data" / "faces" / "face_recognition"
OBAMA = (PHOTOS / "obama" / "obama1.jpg").read_bytes()
OBAMA_PROBE = (PHOTOS / "obama" / "obama2.jpg").read_bytes()
BIDEN = (PHOTOS / "biden" / "biden.jpg").read_bytes()
HARINGTON = next((PHOTOS / "kit_harington").glob("*.jpg")).read_bytes()
DAY = 86400.0
YEAR = 365 * DAY
T0 = 1_900_000_000.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Rig:
    """A guarded client on an emulator, with its own consent issuer on the injected clock."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        store: GuardStore | None = None,
        jurisdictions: tuple[str, ...] = (),
        endpoint: str = ENDPOINT,
        transport: httpx.BaseTransport | None = None,
        emulator: Emulator | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.issuer, public = ConsentIssuer.generate(issuer="urn:retention-tests", clock=self.clock)
        self.store = store or MemoryStore(clock=self.clock)
        self.audit_path = tmp_path / f"audit-{uuid.uuid4().hex[:6]}.jsonl"
        self.policy = GuardPolicy(
            use_case=USE_CASE,
            verifier=ConsentVerifier(
                {self.issuer.kid: public},
                issuer=self.issuer.issuer,
                audience=AUDIENCE,
                replay_store=self.store,
                clock=self.clock,
            ),
            store=self.store,
            audit=AuditLog(self.audit_path),
            jurisdictions=jurisdictions,  # type: ignore[arg-type]
            clock=self.clock,
        )
        self.endpoint = endpoint
        self.emulator = emulator or Emulator()
        self.client = FaceClient(
            endpoint,
            api_key=KEY,
            transport=transport or self.emulator.transport(),
            guard=self.policy,
            retry=RetryPolicy(max_attempts=1),
        )
        self.client.large_person_groups.create(GROUP, name="retention")
        self.client.face_lists.create(FACES, name="retention faces")

    def token(
        self,
        subject: str,
        *,
        until: float | None = None,
        purpose_end: float | None = None,
        illinois: bool = False,
    ) -> str:
        extra: dict[str, Any] = {}
        if until is not None or purpose_end is not None or illinois:
            extra["retention"] = Retention(
                until=until,
                purpose_end=purpose_end,
                policy_uri="https://example.com/biometric-retention" if illinois else None,
            )
        if illinois:
            extra["legal_basis"] = [LegalBasis.BIPA_WRITTEN_RELEASE]
            extra["notice"] = Notice(
                uri="https://example.com/biometric-notice", given_at=self.clock() - 60
            )
        return self.issuer.issue(
            subject,
            audience=[AUDIENCE, self.endpoint],
            operations=["enroll", "identify", "verify", "detect_template"],
            use_case=USE_CASE,
            bindings=[("largePersonGroup", GROUP, None), ("faceList", FACES, None)],
            use="session",
            **extra,
        )

    def enroll(self, subject: str, photo: bytes, **retention: Any) -> str:
        consent = self.token(subject, **retention)
        groups = self.client.large_person_groups
        person = groups.create_person(GROUP, name=subject, consent=consent).person_id
        groups.add_face(GROUP, person, photo, consent=consent)
        return person

    def exists(self, person: str) -> bool:
        try:
            self.client.large_person_groups.get_person(GROUP, person)
        except NotFoundError:
            return False
        return True

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.audit_path.read_text().splitlines()]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path)
    yield made
    made.client.close()


def test_nothing_is_due_before_ret_until_and_the_sweep_deletes_after_it(rig: Rig) -> None:
    person = rig.enroll("p-one", OBAMA, until=T0 + 30 * DAY)
    kept = rig.enroll("p-two", BIDEN, until=T0 + 90 * DAY)
    assert rig.client.retention.due() == []
    assert rig.client.retention.sweep().deleted == []
    assert [d.item_id for d in rig.client.retention.due(at=T0 + 30 * DAY)] == [person]

    rig.clock.advance(31 * DAY)
    [due] = rig.client.retention.due()
    assert (due.kind, due.container_id, due.item_id) == ("largePersonGroup", GROUP, person)
    assert (due.destroy_by, due.basis) == (T0 + 30 * DAY, "ret.until")
    assert person not in repr(due)

    report = rig.client.retention.sweep()
    assert report.deleted == [due] and report.complete
    assert not rig.exists(person) and rig.exists(kept)
    assert rig.client.retention.due() == []
    # The receipt (apim-request-id) is in the audit trail, next to the guard's erasure record.
    [receipt] = report.receipts
    assert receipt
    swept = [r for r in rig.records() if r["operation"] == "RetentionSweep"]
    assert [(r["event"], r["request_id"], r["rule"]) for r in swept] == [
        ("deletion", receipt, "R07 retention")
    ]
    assert "ret.until" in swept[0]["reason"]
    erasures = [r for r in rig.records() if r["event"] == "deletion" and r is not swept[0]]
    assert any(r["operation"].endswith("DeleteLargePersonGroupPerson") for r in erasures)
    assert person not in rig.audit_path.read_text()


def test_withdrawal_makes_the_subject_due_at_once(rig: Rig) -> None:
    person = rig.enroll("p-leaving", OBAMA, until=T0 + 10 * YEAR)
    other = rig.enroll("p-staying", BIDEN, until=T0 + 10 * YEAR)
    rig.clock.advance(DAY)
    ConsentLedger(rig.store, clock=rig.clock).withdraw("p-leaving")
    [due] = rig.client.retention.due()
    assert (due.item_id, due.basis, due.destroy_by) == (person, "withdrawal", T0 + DAY)
    rig.client.retention.sweep()
    assert not rig.exists(person) and rig.exists(other)


def test_face_list_faces_are_swept_too(rig: Rig) -> None:
    consent = rig.token("p-face", until=T0 + DAY)
    face = rig.client.face_lists.add_face(FACES, OBAMA, consent=consent).persisted_face_id
    rig.clock.advance(2 * DAY)
    [due] = rig.client.retention.due()
    assert (due.kind, due.item_id) == ("faceList", face)
    assert rig.client.retention.sweep().deleted == [due]
    assert rig.client.face_lists.get(FACES).persisted_faces == []


def test_a_person_recorded_with_the_ledger_carries_its_retention_too(rig: Rig) -> None:
    """Enrolled by another client (its own store), then put on file here with the public
    ConsentLedger.enroll: the token's ret.until counts as for a guarded enrollment."""
    person = rig.client.large_person_groups.create_person(GROUP, name="outside").person_id
    token = rig.issuer.issue(
        "p-outside",
        audience=[AUDIENCE, rig.endpoint],
        operations=["enroll"],
        use_case=USE_CASE,
        bindings=[("largePersonGroup", GROUP, person)],
        use="once",
        retention=Retention(until=T0 + 5 * DAY),
    )
    assert rig.policy.verifier is not None
    ConsentLedger(rig.store, clock=rig.clock).enroll(
        token,
        verifier=rig.policy.verifier,
        endpoint=rig.endpoint,
        use_case=USE_CASE,
        container_kind="largePersonGroup",
        container_id=GROUP,
        person_id=person,
    )
    assert rig.client.retention.due(at=T0 + 5 * DAY - 1) == []
    rig.clock.advance(6 * DAY)
    assert [d.item_id for d in rig.client.retention.due()] == [person]
    assert rig.client.retention.sweep().complete
    assert not rig.exists(person)


def test_illinois_three_years_after_the_last_match(tmp_path: Path) -> None:
    rig = Rig(tmp_path, jurisdictions=("US-IL",))
    with rig.client:
        matched = rig.enroll("p-matched", OBAMA, illinois=True)
        idle = rig.enroll("p-idle", BIDEN, illinois=True)
        rig.client.large_person_groups.train(GROUP).wait()
        # A year on, one successful identify of the first person: their last interaction.
        rig.clock.advance(YEAR)
        consent = rig.token("p-matched", illinois=True)
        [probe] = rig.client.detection.detect(OBAMA_PROBE, return_face_id=True, consent=consent)
        assert probe.face_id is not None
        [result] = rig.client.recognition.identify_from_large_person_group(
            [probe.face_id], large_person_group_id=GROUP, consent=consent
        )
        assert [c.person_id for c in result.candidates] == [matched]

        rig.clock.advance(2 * YEAR + DAY)  # 3 years and a day after enrollment
        [due] = rig.client.retention.due()
        assert due.item_id == idle and due.destroy_by == T0 + 3 * YEAR
        assert due.basis.startswith("US-IL")
        rig.clock.advance(YEAR)  # 3 years and a day after the match
        assert {d.item_id for d in rig.client.retention.due()} == {idle, matched}


def test_a_verify_match_is_an_interaction_and_a_mismatch_is_not(tmp_path: Path) -> None:
    rig = Rig(tmp_path, jurisdictions=("US-IL",))
    with rig.client:
        person = rig.enroll("p-verify", OBAMA, illinois=True)
        rig.client.large_person_groups.train(GROUP).wait()
        rig.clock.advance(2 * YEAR)
        consent = rig.token("p-verify", illinois=True)
        [other] = rig.client.detection.detect(BIDEN, return_face_id=True, consent=consent)
        assert other.face_id is not None
        miss = rig.client.recognition.verify_from_large_person_group(
            other.face_id, large_person_group_id=GROUP, person_id=person, consent=consent
        )
        assert not miss.is_identical
        rig.clock.advance(YEAR + DAY)
        assert [d.item_id for d in rig.client.retention.due()] == [person]  # not extended
        rig.clock.now = T0 + 2 * YEAR + 10
        consent = rig.token("p-verify", illinois=True)
        [probe] = rig.client.detection.detect(OBAMA_PROBE, return_face_id=True, consent=consent)
        assert probe.face_id is not None
        hit = rig.client.recognition.verify_from_large_person_group(
            probe.face_id, large_person_group_id=GROUP, person_id=person, consent=consent
        )
        assert hit.is_identical
        rig.clock.advance(YEAR + DAY)
        assert rig.client.retention.due() == []  # 3 years from the match, not the enrollment


def test_the_earliest_rule_wins(tmp_path: Path) -> None:
    rig = Rig(tmp_path, jurisdictions=("US-IL",))
    with rig.client:
        person = rig.enroll("p-early", OBAMA, illinois=True, purpose_end=T0 + 100 * DAY)
        rig.clock.advance(101 * DAY)
        [due] = rig.client.retention.due()
        assert (due.item_id, due.destroy_by) == (person, T0 + 100 * DAY)


class Interrupting(httpx.BaseTransport):
    """The emulator behind a connection that breaks after ``deliver`` DELETEs: the next one
    reaches the service, which deletes, but its answer is lost (the client sees a broken
    connection), and every later one never leaves."""

    def __init__(self, inner: httpx.BaseTransport, deliver: int) -> None:
        self.inner = inner
        self.deletes = 0
        self.deliver = deliver

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "DELETE":
            return self.inner.handle_request(request)
        self.deletes += 1
        if self.deletes <= self.deliver:
            return self.inner.handle_request(request)
        if self.deletes == self.deliver + 1:
            self.inner.handle_request(request)  # done on the service, answer lost
            raise httpx.ReadError("connection reset", request=request)
        raise httpx.ConnectError("connection refused", request=request)


def test_an_interrupted_sweep_finishes_the_rest_when_run_again(tmp_path: Path) -> None:
    emulator = Emulator()
    store = MemoryStore(clock=(clock := Clock()))
    broken = Interrupting(emulator.transport(), deliver=1)
    first = Rig(tmp_path, store=store, transport=broken, emulator=emulator, clock=clock)
    photos = [OBAMA, BIDEN, HARINGTON, OBAMA_PROBE]
    persons = [first.enroll(f"p-{i}", photo, until=T0 + DAY) for i, photo in enumerate(photos)]
    clock.advance(2 * DAY)
    report = first.client.retention.sweep()
    assert len(report.deleted) == 1 and len(report.failed) == 3 and not report.complete
    assert set(report.errors) <= {"APIConnectionError", "APITimeoutError"}
    assert len(first.client.retention.due()) == 3  # nothing dropped from the books
    first.client.close()

    # Run again on a working connection (a new client on the same store): the rest goes,
    # including the one the service deleted but whose answer was lost.
    again = FaceClient(ENDPOINT, api_key=KEY, transport=emulator.transport(), guard=first.policy)
    with again:
        second = again.retention.sweep()
        assert len(second.deleted) + len(second.already_gone) == 3
        assert len(second.already_gone) == 1 and second.complete
        assert again.retention.due() == []
        for person in persons:
            with pytest.raises(NotFoundError):
                again.large_person_groups.get_person(GROUP, person)


def test_the_async_client_lists_and_sweeps(rig: Rig) -> None:
    person = rig.enroll("p-async", OBAMA, until=T0 + DAY)
    rig.clock.advance(2 * DAY)

    async def run() -> tuple[list[Any], Any, list[Any]]:
        async with AsyncFaceClient(
            ENDPOINT, api_key=KEY, transport=rig.emulator.transport(), guard=rig.policy
        ) as client:
            due = await client.retention.due()
            report = await client.retention.sweep()
            return due, report, await client.retention.due()

    due, report, after = asyncio.run(run())
    assert [d.item_id for d in due] == [person]
    assert report.deleted == due and len(report.receipts) == 1 and report.receipts[0]
    assert after == []
    assert not rig.exists(person)


# -- cron: `faceguard retention sweep` in another process, on a shared store ------------------

FACTORY = """
import os
from faceguard import AuditLog, FaceClient, GuardPolicy, RedisStore, SQLiteStore

def make_client():
    now = float(os.environ["RETENTION_TEST_NOW"])
    where = os.environ["RETENTION_TEST_STORE"]
    if where.startswith("redis://"):
        url, prefix = where.rsplit("#", 1)
        store = RedisStore(url, prefix=prefix, key=os.environ["RETENTION_TEST_KEY"])
    else:
        store = SQLiteStore(where, clock=lambda: now)
    policy = GuardPolicy(
        store=store, audit=AuditLog(os.environ["RETENTION_TEST_AUDIT"]), clock=lambda: now
    )
    url, key = os.environ["RETENTION_TEST_URL"], os.environ["RETENTION_TEST_API_KEY"]
    return FaceClient(url, api_key=key, guard=policy)
"""


def _cli(tmp_path: Path, command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "retention_factory.py").write_text(textwrap.dedent(FACTORY))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "faceguard",
            "retention",
            command,
            "--client",
            "retention_factory:make_client",
        ],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _cron_round(tmp_path: Path, store: GuardStore, where: str, key: str) -> None:
    clock = Clock()
    emulator = Emulator()
    with EmulatorServer(emulator, port=0, key=KEY) as server:
        # Real HTTP on loopback, as the other process uses.
        rig = Rig(
            tmp_path,
            store=store,
            endpoint=server.url,
            clock=clock,
            emulator=emulator,
            transport=httpx.HTTPTransport(),
        )
        with rig.client:
            gone = rig.enroll("p-cron-1", OBAMA, until=T0 + DAY)
            kept = rig.enroll("p-cron-2", BIDEN, until=T0 + 10 * DAY)
            env = {
                "RETENTION_TEST_NOW": str(T0 + 2 * DAY),
                "RETENTION_TEST_STORE": where,
                "RETENTION_TEST_KEY": key,
                "RETENTION_TEST_AUDIT": str(tmp_path / "cron-audit.jsonl"),
                "RETENTION_TEST_URL": server.url,
                "RETENTION_TEST_API_KEY": KEY,
            }
            listed = _cli(tmp_path, "due", env)
            assert listed.returncode == 0, listed.stderr
            assert "1 item(s) due" in listed.stdout and gone not in listed.stdout
            swept = _cli(tmp_path, "sweep", env)
            assert swept.returncode == 0, swept.stderr
            assert "swept: 1 deleted" in swept.stdout
            # This process sees the other's work: the person is gone from the service and
            # from the shared books; the other one stays.
            assert not rig.exists(gone) and rig.exists(kept)
            assert rig.client.retention.due(at=T0 + 2 * DAY) == []
            again = _cli(tmp_path, "sweep", env)
            assert again.returncode == 0 and "swept: 0 deleted" in again.stdout
            records = (tmp_path / "cron-audit.jsonl").read_text()
            assert '"RetentionSweep"' in records and gone not in records


def test_cron_sweep_in_another_process_on_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "guard.sqlite3"
    store = SQLiteStore(path)
    try:
        _cron_round(tmp_path, store, str(path), "")
    finally:
        store.close()


def test_cron_sweep_in_another_process_on_redis(tmp_path: Path, redis_url: str) -> None:
    from faceguard import RedisStore

    key = "retention-test-store-key-" + "0" * 16
    prefix = f"fgret{uuid.uuid4().hex[:8]}"
    store = RedisStore(redis_url, prefix=prefix, key=key)
    try:
        _cron_round(tmp_path, store, f"{redis_url}#{prefix}", key)
    finally:
        store.close()


def test_the_cli_says_what_is_missing(tmp_path: Path) -> None:
    env = {"FACEGUARD_CLIENT": ""}
    result = subprocess.run(
        [sys.executable, "-m", "faceguard", "retention", "sweep"],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "--client MODULE:CALLABLE" in result.stderr
    for spec in ("nomodule", "missing_module:make", "os:no_such_function"):
        result = subprocess.run(
            [sys.executable, "-m", "faceguard", "retention", "due", "--client", spec],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, spec
        assert "Traceback" not in result.stderr


# -- GUARD.md §9-style vectors ----------------------------------------------------------------

# (jurisdictions, the enrollment token's retention, what happened, when we look) -> due?
RETENTION_VECTORS: list[tuple[str, dict[str, Any], bool]] = [
    ("ret.until tomorrow", {"until": T0 + DAY, "look": T0 + DAY - 1}, False),
    ("ret.until passed", {"until": T0 + DAY, "look": T0 + DAY}, True),
    ("withdrawn", {"until": T0 + 10 * YEAR, "withdraw": True, "look": T0 + 1}, True),
    ("US-IL, never matched, 3 years less a day", {"il": True, "look": T0 + 3 * YEAR - DAY}, False),
    ("US-IL, never matched, 3 years", {"il": True, "look": T0 + 3 * YEAR}, True),
    (
        "US-IL, purpose ended after 100 days",
        {"il": True, "purpose_end": T0 + 100 * DAY, "look": T0 + 100 * DAY},
        True,
    ),
    ("no retention claim, no jurisdiction", {"look": T0 + 50 * YEAR}, False),
]


@pytest.mark.parametrize(
    ("name", "case", "due"), RETENTION_VECTORS, ids=[v[0] for v in RETENTION_VECTORS]
)
def test_retention_vectors(tmp_path: Path, name: str, case: dict[str, Any], due: bool) -> None:
    rig = Rig(tmp_path, jurisdictions=("US-IL",) if case.get("il") else ())
    with rig.client:
        person = rig.enroll(
            "p-vector",
            OBAMA,
            until=case.get("until"),
            purpose_end=case.get("purpose_end"),
            illinois=bool(case.get("il")),
        )
        if case.get("withdraw"):
            ConsentLedger(rig.store, clock=rig.clock).withdraw("p-vector")
        found = [d.item_id for d in rig.client.retention.due(at=case["look"])]
        assert found == ([person] if due else [])
