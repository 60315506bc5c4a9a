"""Bulk enrollment and detection (``faceguard.bulk``) on the emulator, with the real guard.

The core promise is checked on the service's own state: after throttling, 5xx, dropped
connections and crashes, every item ends with exactly one persisted face carrying its
marker, and none is added twice.
"""

from __future__ import annotations

import asyncio
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from _bulk_kit import (
    ADD_ROUTE,
    SINGLE,
    SMALL,
    TWO_PEOPLE,
    Recorder,
    blank_jpeg,
    face_items,
    make_persons,
    markers_on_server,
    no_async_sleep,
    no_sleep,
)
from faceguard import (
    AsyncFaceClient,
    ConsentLedger,
    FaceClient,
    InvalidInputError,
    RetiredAttributeError,
)
from faceguard.bulk import (
    BulkFace,
    BulkFailedError,
    BulkImage,
    JournalRecord,
    MemoryJournal,
    SkipReason,
    SQLiteJournal,
    async_bulk_add_faces,
    async_bulk_detect,
    bulk_add_faces,
    bulk_detect,
    face_marker,
)
from faceguard.testing._plugin import API_KEY, ENDPOINT


@dataclass
class Rig:
    client: FaceClient
    recorder: Recorder
    emulator: Any
    consent: Any
    guard: Any
    clock: Any

    def async_client(self) -> AsyncFaceClient:
        return AsyncFaceClient(
            ENDPOINT,
            api_key=API_KEY,
            transport=self.recorder,
            guard=self.guard,
            sleep=self.clock.async_advance,
            clock=self.clock,
        )


@pytest.fixture
def rig(
    faceguard_emulator: Any, faceguard_guard: Any, faceguard_clock: Any, faceguard_consent: Any
) -> Iterator[Rig]:
    recorder = Recorder(faceguard_emulator.transport())
    client = FaceClient(
        ENDPOINT,
        api_key=API_KEY,
        transport=recorder,
        guard=faceguard_guard,
        sleep=faceguard_clock.advance,
        clock=faceguard_clock,
    )
    with client:
        yield Rig(
            client,
            recorder,
            faceguard_emulator,
            faceguard_consent,
            faceguard_guard,
            faceguard_clock,
        )


def _exactly_once(rig: Rig, group: str, persons: list[str], items: list[BulkFace], batch: str):
    on_server = markers_on_server(rig.client, group, persons)
    expected = {face_marker(batch, item.key) for item in items}
    assert set(on_server) == expected, "a face is missing, or an unknown face was added"
    assert all(count == 1 for count in on_server.values()), f"added twice: {on_server}"


# -- no face lost, none added twice, under faults -------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param([{"status": 429, "retry_after": 0, "times": 12}], id="429"),
        pytest.param([{"status": 503, "times": 6}], id="503"),
        pytest.param([{"drop": True, "times": 6}], id="drop-after-handling"),
        pytest.param([{"drop": "connect", "times": 8}], id="drop-connect"),
        pytest.param(
            [
                {"status": 429, "retry_after": 0, "times": 6},
                {"drop": True, "times": 4},
                {"status": 503, "times": 3},
                {"drop": "connect", "times": 3},
            ],
            id="mixed",
        ),
    ],
)
def test_every_item_is_added_exactly_once_under_faults(rig: Rig, faults: list[dict]) -> None:
    persons, token = make_persons(rig.client, "staff", 4, rig.consent)
    items = face_items(persons, 12, token)  # 48 adds
    for fault in faults:
        rig.emulator.faults.add(ADD_ROUTE, method="POST", **fault)

    # Items share the faults: one item may meet several in a row, so allow more tries than
    # there are faults of a kind.
    report = bulk_add_faces(
        rig.client.large_person_groups,
        "staff",
        items,
        progress=False,
        sleep=no_sleep,
        max_attempts=13,
    )

    assert (report.added, report.skipped, report.failed) == (48, 0, 0), report.by_status()["failed"]
    assert [r.key for r in report.items] == [item.key for item in items]
    ids = [r.persisted_face_id for r in report.items]
    assert None not in ids and len(set(ids)) == 48
    _exactly_once(rig, "staff", persons, items, report.batch_id)
    if any(f.get("drop") is True for f in faults):
        # the dropped adds were applied: found by their marker, not sent again
        assert report.recovered >= 1
    if any(f.get("status") == 503 for f in faults):
        assert any(r.attempts > 1 for r in report.items)


def test_faults_on_every_route_including_the_lookups(rig: Rig) -> None:
    persons, token = make_persons(rig.client, "staff", 2, rig.consent)
    items = face_items(persons, 10, token)
    rig.emulator.faults.add(ADD_ROUTE, method="POST", drop=True, times=5)
    rig.emulator.faults.add("*", status=503, times=6)  # hits adds and the in-doubt GETs
    report = bulk_add_faces(
        rig.client.large_person_groups,
        "staff",
        items,
        progress=False,
        sleep=no_sleep,
        max_attempts=20,  # more tries than faults: one item may meet them all
    )
    assert report.added == 20
    _exactly_once(rig, "staff", persons, items, report.batch_id)


def test_marker_is_sha256_of_batch_and_key() -> None:
    import hashlib

    digest = hashlib.sha256(b"largePersonGroup:staff\0photos/a.jpg").hexdigest()
    assert face_marker("largePersonGroup:staff", "photos/a.jpg") == f"faceguard-bulk:{digest[:16]}"


def test_userdata_keeps_the_callers_text_before_the_marker(rig: Rig) -> None:
    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    items = face_items(persons, 1, token)
    report = bulk_add_faces(rig.client.large_person_groups, "staff", items, progress=False)
    face = rig.client.large_person_groups.get_face(
        "staff", persons[0], report.items[0].persisted_face_id
    )
    assert face.user_data == f"p0-0 {face_marker('largePersonGroup:staff', items[0].key)}"
    assert report.batch_id == "largePersonGroup:staff"


@pytest.mark.parametrize("kind", ["person_groups", "face_lists", "large_face_lists"])
def test_other_container_kinds_recover_dropped_adds(rig: Rig, kind: str) -> None:
    group = getattr(rig.client, kind)
    consent_kind = {"person_groups": "personGroup", "face_lists": "faceList"}.get(
        kind, "largeFaceList"
    )
    group.create("box", name="Box")
    person = group.create_person("box", name="p").person_id if kind == "person_groups" else None
    token = rig.consent.token(operations=["enroll"], bindings=[(consent_kind, "box", person)])
    items = [
        BulkFace(key=f"k{i}", image=SINGLE[i % len(SINGLE)], person_id=person, consent=token)
        for i in range(8)
    ]
    rig.emulator.faults.add("*", method="POST", drop=True, times=4)
    report = bulk_add_faces(group, "box", items, progress=False, sleep=no_sleep)
    assert report.added == 8 and report.recovered == 4
    if kind == "person_groups":
        face_ids = group.get_person("box", person).persisted_face_ids
        user_data = [group.get_face("box", person, f).user_data for f in face_ids]
    elif kind == "face_lists":
        user_data = [f.user_data for f in group.get("box").persisted_faces]
    else:
        user_data = [f.user_data for f in group.list_faces("box")]
    assert sorted(user_data) == sorted(face_marker(report.batch_id, i.key) for i in items)


# -- crash and resume -------------------------------------------------------------------------


def per_client(rig: Rig, persons: list[str]) -> Any:
    """A token factory: a run resumed after a crash is a new client, and a ``use: "session"``
    token is refused on any client but the one that first presented it (GUARD.md §3.7 step
    7), so each add is given a freshly minted one."""
    bindings = [("largePersonGroup", "staff", p) for p in persons]
    return lambda: rig.consent.token(operations=["enroll"], bindings=bindings)


class Crash(BaseException):
    """The process dying: not an Exception, so nothing in the bulk loop handles it."""


class CrashingJournal(SQLiteJournal):
    """Dies right after the service applied the Nth add, before ``added`` is recorded."""

    def __init__(self, path: Path, after: int) -> None:
        super().__init__(path)
        self.after = after
        self.added = 0

    def put(self, batch_id: str, record: JournalRecord) -> None:
        if record.state == "added":
            self.added += 1
            if self.added >= self.after:
                raise Crash
        super().put(batch_id, record)


def test_crash_mid_batch_then_resume_adds_each_face_once(rig: Rig, tmp_path: Path) -> None:
    persons, token = make_persons(rig.client, "staff", 3, rig.consent)
    items = face_items(persons, 14, token)  # 42
    path = tmp_path / "journal.sqlite3"
    crashing = CrashingJournal(path, after=15)
    with pytest.raises(Crash):
        bulk_add_faces(
            rig.client.large_person_groups,
            "staff",
            iter(items),
            journal=crashing,
            concurrency=4,
            progress=False,
        )
    crashing.close()
    with SQLiteJournal(path) as journal:
        states = {r.state for r in journal.records("largePersonGroup:staff").values()}
        assert "sending" in states and "pending" in states  # died mid-flight
        posts_before = rig.recorder.posts()
        report = bulk_add_faces(
            rig.client.large_person_groups, "staff", items, journal=journal, progress=False
        )
    assert report.added == 42 and report.failed == 0
    assert report.recovered >= 1  # applied before the crash, found by marker
    assert sum(r.from_journal for r in report.items) == 14  # recorded before the crash
    resent = rig.recorder.posts() - posts_before
    assert resent == 42 - 14 - report.recovered
    _exactly_once(rig, "staff", persons, items, report.batch_id)


def test_resume_from_a_journal_left_sending(rig: Rig, tmp_path: Path) -> None:
    persons, token = make_persons(rig.client, "staff", 2, rig.consent)
    items = face_items(persons, 5, token)
    batch = "largePersonGroup:staff"
    with SQLiteJournal(tmp_path / "j.sqlite3") as journal:
        journal.open_batch(batch, [item.key for item in items])
        # Items 0-3 reached the service before the crash, 4-7 did not; all say "sending".
        for index, item in enumerate(items[:8]):
            journal.put(batch, JournalRecord(key=item.key, state="sending", attempts=1))
            if index < 4:
                rig.client.large_person_groups.add_face(
                    "staff",
                    item.person_id,
                    item.image,
                    user_data=f"{item.user_data} {face_marker(batch, item.key)}",
                    consent=token,
                )
        report = bulk_add_faces(
            rig.client.large_person_groups, "staff", items, journal=journal, progress=False
        )
        assert {r.state for r in journal.records(batch).values()} == {"added"}
    assert [r.recovered for r in report.items] == [True] * 4 + [False] * 6
    _exactly_once(rig, "staff", persons, items, batch)


def test_second_run_sends_nothing_and_reports_from_the_journal(rig: Rig) -> None:
    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    items = [*face_items(persons, 3, token), BulkFace("bad", TWO_PEOPLE, persons[0], token)]
    journal = MemoryJournal()
    group = rig.client.large_person_groups
    first = bulk_add_faces(group, "staff", items, journal=journal, progress=False)
    posts = rig.recorder.posts()
    second = bulk_add_faces(group, "staff", items, journal=journal, progress=False)
    assert rig.recorder.posts() == posts
    assert all(r.from_journal and r.attempts == 0 for r in second.items)
    assert [(r.status, r.persisted_face_id, r.reason) for r in second.items] == [
        (r.status, r.persisted_face_id, r.reason) for r in first.items
    ]


def test_failed_items_are_retried_by_the_next_run(rig: Rig) -> None:
    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    items = face_items(persons, 3, token)
    journal = MemoryJournal()
    group = rig.client.large_person_groups
    rig.emulator.faults.add(ADD_ROUTE, method="POST", status=503, times=None)
    first = bulk_add_faces(
        group, "staff", items, journal=journal, progress=False, sleep=no_sleep, max_attempts=2
    )
    assert first.failed == 3 and all(r.in_doubt and r.error_code for r in first.items)
    assert first.items[0].support is not None and first.items[0].support.request_id
    with pytest.raises(BulkFailedError) as caught:
        first.raise_for_failures()
    assert len(caught.value.failed) == 3
    rig.emulator.faults.clear()
    second = bulk_add_faces(group, "staff", items, journal=journal, progress=False)
    assert second.added == 3 and not any(r.from_journal for r in second.items)
    _exactly_once(rig, "staff", persons, items, second.batch_id)


# -- validation before anything is sent -------------------------------------------------------


def _refused(rig: Rig, call: Any, error: type[Exception], match: str) -> None:
    before = len(rig.recorder.requests)
    with pytest.raises(error, match=match):
        call()
    assert len(rig.recorder.requests) == before, "a request was sent"


def test_bad_items_are_refused_before_anything_is_sent(rig: Rig) -> None:
    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    group = rig.client.large_person_groups
    ok = face_items(persons, 3, token)

    def run(items: list[BulkFace], target: Any = group) -> Any:
        return lambda: bulk_add_faces(target, "staff", items, progress=False)

    _refused(rig, run([*ok, BulkFace(ok[0].key, SMALL, persons[0])]), InvalidInputError, "twice")
    _refused(rig, run([*ok, BulkFace("x", SMALL)]), InvalidInputError, "person_id")
    rig.client.face_lists.create("fl", name="fl")
    face_list = [BulkFace("x", SMALL, person_id=persons[0])]
    _refused(rig, run(face_list, rig.client.face_lists), InvalidInputError, "no persons")
    long = [*ok, BulkFace("long", SMALL, persons[0], token, user_data="x" * 1000)]
    _refused(rig, run(long), InvalidInputError, r"items\[3\].*user_data")
    bad_uuid = [*ok, BulkFace("u", SMALL, "not-a-uuid", token)]
    _refused(rig, run(bad_uuid), InvalidInputError, r"items\[3\].*person_id")
    bad_target = [*ok, BulkFace("t", SMALL, persons[0], token, target_face=[1, 2])]
    _refused(rig, run(bad_target), InvalidInputError, "target_face")
    _refused(rig, lambda: bulk_add_faces(rig.client.detection, "s", ok), TypeError, "group")
    # the user_data limit leaves exactly room for the marker
    fits = BulkFace("fits", SMALL, persons[0], token, user_data="x" * (1024 - 32))
    assert bulk_add_faces(group, "staff", [fits], progress=False).added == 1


def test_bulk_detect_checks_options_before_anything_is_sent(rig: Rig) -> None:
    items = [BulkImage("a", SINGLE[0])]
    _refused(
        rig,
        lambda: bulk_detect(rig.client, items, return_face_attributes=["age"]),
        RetiredAttributeError,
        "age",
    )
    _refused(
        rig,
        lambda: bulk_detect(rig.client, items, journal=MemoryJournal(), return_face_id=True),
        InvalidInputError,
        "faceIds expire",
    )
    _refused(rig, lambda: bulk_detect(rig.client, [*items, *items]), InvalidInputError, "twice")


# -- skips --------------------------------------------------------------------------------------


def test_each_item_appears_once_with_its_skip_reason(rig: Rig, tmp_path: Path) -> None:
    persons, token = make_persons(rig.client, "staff", 2, rig.consent)
    other_subject = rig.consent.token(
        "p-withdrawn",
        operations=["enroll"],
        bindings=[("largePersonGroup", "staff", persons[1])],
    )
    ConsentLedger(rig.guard.store, clock=rig.clock).withdraw("p-withdrawn")
    (tmp_path / "text.jpg").write_text("not an image " * 200)
    items = [
        BulkFace("ok", SINGLE[0], persons[0], token),
        BulkFace("blank", blank_jpeg(), persons[0], token),
        BulkFace("two", TWO_PEOPLE, persons[0], token),
        BulkFace("text", tmp_path / "text.jpg", persons[0], token),
        BulkFace("missing", tmp_path / "missing.jpg", persons[0], token),
        BulkFace("no-consent", SINGLE[1], persons[0]),
        BulkFace("wrong-person", SINGLE[1], persons[1], token.replace(token[-8:], "A" * 8)),
        BulkFace("withdrawn", SINGLE[2], persons[1], other_subject),
        BulkFace("ok2", SINGLE[3], persons[1], token),
    ]
    report = bulk_add_faces(rig.client.large_person_groups, "staff", items, progress=False)
    assert [(r.key, r.status, r.reason) for r in report.items] == [
        ("ok", "added", None),
        ("blank", "skipped", SkipReason.NO_FACE),
        ("two", "skipped", SkipReason.MULTIPLE_FACES),
        ("text", "skipped", SkipReason.INVALID_IMAGE),
        ("missing", "skipped", SkipReason.INVALID_IMAGE),
        ("no-consent", "skipped", SkipReason.CONSENT_REJECTED),
        ("wrong-person", "skipped", SkipReason.CONSENT_REJECTED),
        ("withdrawn", "skipped", SkipReason.CONSENT_WITHDRAWN),
        ("ok2", "added", None),
    ]
    assert all(r.attempts == 1 for r in report.items)  # skips are not retried
    assert report.by_status()["skipped"][0].error_code == "InvalidImage"
    assert sum(len(v) for v in report.by_status().values()) == len(items)


def test_once_tokens_need_a_callable_to_survive_a_retry(rig: Rig) -> None:
    persons, _ = make_persons(rig.client, "staff", 1, rig.consent)
    binding = [("largePersonGroup", "staff", persons[0])]
    minted: list[str] = []

    def once() -> str:
        minted.append(rig.consent.token(operations=["enroll"], bindings=binding, use="once"))
        return minted[-1]

    rig.emulator.faults.add(ADD_ROUTE, method="POST", status=503, times=1)
    fresh = bulk_add_faces(
        rig.client.large_person_groups,
        "staff",
        [BulkFace("a", SINGLE[0], persons[0], once)],
        progress=False,
        sleep=no_sleep,
    )
    assert fresh.added == 1 and fresh.items[0].attempts == 2 and len(minted) == 2

    rig.emulator.faults.add(ADD_ROUTE, method="POST", status=503, times=1)
    spent = bulk_add_faces(
        rig.client.large_person_groups,
        "staff",
        [BulkFace("b", SINGLE[1], persons[0], once())],  # one string, presented twice
        progress=False,
        sleep=no_sleep,
    )
    assert spent.items[0].reason is SkipReason.CONSENT_REJECTED
    assert spent.items[0].error_code == "replay"


def test_permanent_errors_fail_the_item_without_retrying(rig: Rig) -> None:
    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    ghost = "00000000-0000-4000-8000-000000000000"
    token = rig.consent.token(
        operations=["enroll"],
        bindings=[("largePersonGroup", "staff", ghost), ("largePersonGroup", "staff", persons[0])],
    )
    items = [
        BulkFace("ghost", SINGLE[0], ghost, token),
        BulkFace("ok", SINGLE[1], persons[0], token),
    ]
    report = bulk_add_faces(rig.client.large_person_groups, "staff", items, progress=False)
    ghost_result = report.items[0]
    assert (ghost_result.status, ghost_result.error_type, ghost_result.attempts) == (
        "failed",
        "NotFoundError",
        1,
    )
    assert not ghost_result.in_doubt and report.items[1].status == "added"


# -- concurrency, order, progress ------------------------------------------------------------


def test_concurrency_bound_is_respected_and_order_kept(rig: Rig) -> None:
    persons, token = make_persons(rig.client, "staff", 2, rig.consent)
    items = face_items(persons, 8, token)
    rig.recorder.hold = 0.02
    rig.recorder.max_in_flight = 0
    pulled: list[int] = []

    def lazily() -> Iterator[BulkFace]:
        for index, item in enumerate(items):
            pulled.append(index)
            yield item

    report = bulk_add_faces(
        rig.client.large_person_groups, "staff", lazily(), concurrency=3, progress=False
    )
    assert 1 < rig.recorder.max_in_flight <= 3
    assert [r.key for r in report.items] == [item.key for item in items]
    assert len(pulled) == 16


def test_progress_bar_with_and_without_tqdm(
    rig: Rig, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    group = rig.client.large_person_groups
    bulk_add_faces(group, "staff", face_items(persons, 2, token, prefix="a"), progress=True)
    assert "2/2" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails
    report = bulk_add_faces(group, "staff", face_items(persons, 2, token, prefix="b"))
    assert report.added == 2 and capsys.readouterr().err == ""


# -- async parity -----------------------------------------------------------------------------


def test_async_bulk_add_matches_the_sync_results(rig: Rig) -> None:
    persons, token = make_persons(rig.client, "staff", 2, rig.consent)
    items = [
        *face_items(persons, 6, token),
        BulkFace("two", TWO_PEOPLE, persons[0], token),
        BulkFace("no-consent", SINGLE[0], persons[1]),
    ]
    for fault in ({"status": 429, "retry_after": 0, "times": 4}, {"drop": True, "times": 3}):
        rig.emulator.faults.add(ADD_ROUTE, method="POST", **fault)
    rig.recorder.hold = 0.01
    rig.recorder.max_in_flight = 0

    async def main() -> Any:
        async with rig.async_client() as client:
            return await async_bulk_add_faces(
                client.large_person_groups,
                "staff",
                iter(items),
                concurrency=3,
                progress=False,
                sleep=no_async_sleep,
            )

    report = asyncio.run(main())
    assert 1 < rig.recorder.max_in_flight <= 3
    assert [(r.key, r.status, r.reason) for r in report.items] == [
        *((item.key, "added", None) for item in items[:12]),
        ("two", "skipped", SkipReason.MULTIPLE_FACES),
        ("no-consent", "skipped", SkipReason.CONSENT_REJECTED),
    ]
    assert report.recovered == 3
    _exactly_once(rig, "staff", persons, items[:12], report.batch_id)
    with pytest.raises(TypeError, match="async_bulk_add_faces"):
        bulk_add_faces(rig.async_client().large_person_groups, "staff", items)


def test_async_resume_after_crash(rig: Rig, tmp_path: Path) -> None:
    persons, _ = make_persons(rig.client, "staff", 2, rig.consent)
    items = face_items(persons, 8, per_client(rig, persons))
    path = tmp_path / "j.sqlite3"

    async def run(journal: Any) -> Any:
        async with rig.async_client() as client:
            return await async_bulk_add_faces(
                client.large_person_groups, "staff", items, journal=journal, progress=False
            )

    crashing = CrashingJournal(path, after=6)
    with pytest.raises(Crash):
        asyncio.run(run(crashing))
    crashing.close()
    with SQLiteJournal(path) as journal:
        report = asyncio.run(run(journal))
    assert report.added == 16 and report.recovered >= 1
    _exactly_once(rig, "staff", persons, items, report.batch_id)


# -- bulk detect --------------------------------------------------------------------------------


def test_bulk_detect_journals_results_and_does_not_detect_again(rig: Rig, tmp_path: Path) -> None:
    items = [
        BulkImage("one", SINGLE[0]),
        BulkImage("two", TWO_PEOPLE),
        BulkImage("blank", blank_jpeg()),
        BulkImage("small", SMALL),
    ]
    rig.emulator.faults.add("/detect", status=503, times=2)
    with SQLiteJournal(tmp_path / "d.sqlite3") as journal:
        first = bulk_detect(
            rig.client.detection,
            items,
            journal=journal,
            progress=False,
            sleep=no_sleep,
            min_face_size=60,
            return_face_landmarks=True,
        )
        posts = rig.recorder.posts()
        second = bulk_detect(
            rig.client,
            items,
            journal=journal,
            progress=False,
            min_face_size=60,
            return_face_landmarks=True,
        )
        raw = [r.faces for r in journal.records(first.batch_id).values()]
    assert [(r.key, r.status, r.reason) for r in first.items] == [
        ("one", "added", None),
        ("two", "added", None),
        ("blank", "skipped", SkipReason.NO_FACE),
        ("small", "skipped", SkipReason.FACE_TOO_SMALL),
    ]
    assert [len(r.faces or []) for r in first.items] == [1, 2, 0, 0]
    assert rig.recorder.posts() == posts  # resumed from the journal
    assert all(r.from_journal for r in second.items)
    assert [r.faces for r in second.items] == [r.faces for r in first.items]
    assert second.items[0].faces[0].face_landmarks is not None
    assert all("faceId" not in face for faces in raw if faces for face in faces)


def test_bulk_detect_with_face_ids_and_async_parity(rig: Rig) -> None:
    token = rig.consent.token(operations=["detect_template"])
    items = [BulkImage(f"k{i}", path) for i, path in enumerate(SINGLE[:4])]
    report = bulk_detect(
        rig.client, items, progress=False, return_face_id=True, consent=lambda: token
    )
    assert report.added == 4 and all(r.faces[0].face_id for r in report.items)

    async def main() -> Any:
        async with rig.async_client() as client:
            return await async_bulk_detect(client, items, progress=False, concurrency=2)

    async_report = asyncio.run(main())
    assert [len(r.faces) for r in async_report.items] == [1, 1, 1, 1]
    assert async_report.batch_id == bulk_detect(rig.client, [], progress=False).batch_id
    assert async_report.batch_id.startswith("detect:")
    assert async_report.batch_id != report.batch_id  # other options, another batch


@pytest.mark.parametrize("name", __import__("faceguard.bulk").bulk.__all__)
def test_every_bulk_symbol_is_documented(name: str) -> None:
    import inspect

    import faceguard.bulk

    obj = getattr(faceguard.bulk, name)
    if typing.get_origin(obj) is typing.Literal:
        pytest.skip("a Literal alias: documented by its attribute docstring")
    assert inspect.getdoc(obj), f"faceguard.bulk.{name}"
    if isinstance(obj, type):
        for member_name, member in vars(obj).items():
            if not member_name.startswith("_") and (
                inspect.isfunction(member) or isinstance(member, property)
            ):
                assert inspect.getdoc(member), f"faceguard.bulk.{name}.{member_name}"


# -- hardening: adds in doubt, stopping, look-up cost, markers --------------------------------


def test_a_guard_store_failure_after_the_add_is_in_doubt_not_failed(rig: Rig) -> None:
    """The guard records the enrollment AFTER the service applied the add; if its store fails
    there, the add happened: the item must be looked up, never re-sent blindly (and never
    reported as a plain failure, which a rerun would send again)."""
    from faceguard import GuardStoreError

    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    items = face_items(persons, 3, token)
    store = rig.guard.store
    real_put = store.put
    failures = []

    def put(namespace: str, key: str, value: bytes, **kwargs: Any) -> None:
        if namespace == "consent-person" and not failures:
            failures.append(key)
            raise GuardStoreError("store down")
        real_put(namespace, key, value, **kwargs)

    store.put = put  # type: ignore[method-assign]
    journal = MemoryJournal()
    posts = rig.recorder.posts()
    report = bulk_add_faces(
        rig.client.large_person_groups,
        "staff",
        items,
        journal=journal,
        progress=False,
        sleep=no_sleep,
        concurrency=1,
    )
    assert failures, "the fault was not met"
    assert (report.added, report.failed, report.recovered) == (3, 0, 1)
    assert rig.recorder.posts() - posts == 3  # the applied add was found, not sent again
    _exactly_once(rig, "staff", persons, items, report.batch_id)
    # ... and a rerun sends nothing either
    again = bulk_add_faces(rig.client.large_person_groups, "staff", items, journal=journal)
    assert all(r.from_journal for r in again.items) and rig.recorder.posts() - posts == 3


def test_classify_retries_what_was_not_sent_and_doubts_guard_store_failures() -> None:
    from faceguard import GuardStoreError, RateLimitWaitError
    from faceguard.bulk._outcome import Decision, Step, classify

    wait = RateLimitWaitError("limiter", wait=3.0)
    assert classify(wait, sent=True, mutating=True) == Decision(Step.RETRY, retry_after=3.0)
    store = GuardStoreError("down")
    assert classify(store, sent=True, mutating=True) == Decision(Step.RETRY, in_doubt=True)
    assert classify(store, sent=False, mutating=True) == Decision(Step.RETRY)
    assert classify(store, sent=True, mutating=False) == Decision(Step.RETRY)


def _timeline(rig: Rig, run: Any) -> list[tuple[str, float]]:
    """What one bulk run did, in order: ("POST" | "GET", 0) per request, ("sleep", seconds)
    per backoff wait."""
    events: list[tuple[str, float]] = []
    seen = len(rig.recorder.requests)

    def sleep(seconds: float) -> None:
        nonlocal seen
        events.extend((method, 0.0) for method, _ in rig.recorder.requests[seen:])
        seen = len(rig.recorder.requests)
        events.append(("sleep", seconds))

    run(sleep)
    events.extend((method, 0.0) for method, _ in rig.recorder.requests[seen:])
    return events


def _resent_only_after_settling(events: list[tuple[str, float]], settle: float) -> None:
    """Every re-send follows a look-up made at least ``settle`` seconds after the send
    before it."""
    slept, looked_after_settle = 0.0, False
    for kind, seconds in events:
        if kind == "sleep":
            slept += seconds
        elif kind == "GET":
            looked_after_settle = looked_after_settle or slept >= settle
        elif slept or looked_after_settle:  # a re-send
            assert looked_after_settle, events
            slept, looked_after_settle = 0.0, False


def test_an_add_in_doubt_is_re_sent_only_after_the_settle_time(rig: Rig) -> None:
    """A timed-out or dropped request may still be running on the service: a look-up made
    at once could miss the face it is about to add, and a re-send would add it twice. So the
    first look-up (after the usual backoff) may only find the face; a re-send needs a
    look-up made once ``Backoff.settle`` seconds have passed."""
    from faceguard.bulk import Backoff

    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    backoff = Backoff(random=lambda: 0.0, settle=7.0)

    def run(
        key: str, fault: dict[str, Any], *, settling: bool = True
    ) -> tuple[Any, list[tuple[str, float]]]:
        rig.emulator.faults.add(ADD_ROUTE, method="POST", **fault)
        reports = []
        events = _timeline(
            rig,
            lambda sleep: reports.append(
                bulk_add_faces(
                    rig.client.large_person_groups,
                    "staff",
                    [BulkFace(key, SINGLE[0], persons[0], token)],
                    progress=False,
                    sleep=sleep,
                    backoff=backoff,
                )
            ),
        )
        if settling:
            _resent_only_after_settling(events, 7.0)
        return reports[0], events

    # Dropped after the service applied it: found by the first look-up, after 1 s, not 7.
    dropped, events = run("a", {"drop": True})
    assert dropped.recovered == 1 and [e for e in events if e[0] != "GET"] == [
        ("POST", 0.0),
        ("sleep", 1.0),
    ]
    # A gateway timeout, not applied: looked up after 1 s, again at 7 s, then re-sent.
    gateway, events = run("b", {"status": 504})
    assert gateway.added == 1 and gateway.recovered == 0
    assert [e for e in events if e[0] != "GET"] == [
        ("POST", 0.0),
        ("sleep", 1.0),
        ("sleep", 6.0),
        ("POST", 0.0),
    ]
    looked_up = "".join("G" if kind == "GET" else "." for kind, _ in events)
    assert looked_up.startswith("..G") and ".G" in looked_up[3:]  # a look-up after each wait
    # The service answered: in doubt (looked up once), but nothing of it is still running.
    failed, events = run("c", {"status": 503}, settling=False)
    assert failed.added == 1 and failed.items[0].attempts == 2
    assert [e[1] for e in events if e[0] == "sleep"] == [1.0]
    throttled, events = run("d", {"status": 429, "retry_after": 0, "times": 4}, settling=False)
    assert throttled.added == 1  # a 429 was not applied: no look-up, no settle
    assert [e for e in events if e[0] != "POST"] == [("sleep", 0.0)]
    assert Backoff(random=lambda: 0.0).wait(1, None, settle=True) == 5.0  # the default


def test_a_resumed_sending_item_not_found_waits_the_settle_time(rig: Rig) -> None:
    """A run that died with an add ``sending`` left no time of sending: the next run may find
    it at once, but re-sends it only after a look-up ``settle`` seconds into the run."""
    from faceguard.bulk import Backoff

    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    items = face_items(persons, 1, token)
    batch = "largePersonGroup:staff"
    journal = MemoryJournal()
    journal.open_batch(batch, [items[0].key])
    journal.put(batch, JournalRecord(key=items[0].key, state="sending", attempts=1))
    reports = []
    events = _timeline(
        rig,
        lambda sleep: reports.append(
            bulk_add_faces(
                rig.client.large_person_groups,
                "staff",
                items,
                journal=journal,
                progress=False,
                sleep=sleep,
                backoff=Backoff(settle=4.0),
            )
        ),
    )
    assert reports[0].added == 1 and reports[0].recovered == 0
    assert events == [("GET", 0.0), ("sleep", 4.0), ("GET", 0.0), ("POST", 0.0)]
    _exactly_once(rig, "staff", persons, items, batch)


def test_ctrl_c_stops_the_items_in_flight(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C (KeyboardInterrupt in the main thread) must not wait for items in flight to
    use up their retries: they stop before their next request, the journal says where each
    is, and a rerun completes the batch with each face once."""
    import time

    import faceguard.bulk._sync as bulk_sync

    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    items = [BulkFace("no-consent", SINGLE[0], persons[0]), *face_items(persons, 3, token)]

    class Interrupting(bulk_sync.Progress):
        def done(self, result: Any) -> None:
            raise KeyboardInterrupt

    monkeypatch.setattr(bulk_sync, "Progress", Interrupting)
    rig.emulator.faults.add(ADD_ROUTE, method="POST", status=503, times=None)
    journal = MemoryJournal()
    posts = rig.recorder.posts()
    with pytest.raises(KeyboardInterrupt):
        bulk_add_faces(
            rig.client.large_person_groups,
            "staff",
            items,
            journal=journal,
            concurrency=2,
            max_attempts=30,
            sleep=lambda _s: time.sleep(0.02),
        )
    assert rig.recorder.posts() - posts <= 3, "items in flight went on retrying after Ctrl-C"
    monkeypatch.undo()
    rig.emulator.faults.clear()
    report = bulk_add_faces(
        rig.client.large_person_groups, "staff", items, journal=journal, progress=False
    )
    assert (report.added, report.skipped, report.failed) == (3, 1, 0)
    _exactly_once(rig, "staff", persons, items[1:], report.batch_id)


class _FailingJournal(MemoryJournal):
    """Fails the first write of one key."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def put(self, batch_id: str, record: JournalRecord) -> None:
        if record.key == self.key:
            from faceguard.bulk import JournalError

            raise JournalError("disk full")
        super().put(batch_id, record)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_journal_failure_stops_the_other_items_in_flight(rig: Rig, mode: str) -> None:
    import time

    from faceguard.bulk import JournalError

    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    items = face_items(persons, 2, token)
    rig.emulator.faults.add(ADD_ROUTE, method="POST", status=503, times=None)
    journal = _FailingJournal(items[0].key)
    posts = rig.recorder.posts()
    kwargs: dict[str, Any] = {"journal": journal, "concurrency": 2, "max_attempts": 30}
    with pytest.raises(JournalError, match="disk full"):
        if mode == "sync":
            bulk_add_faces(
                rig.client.large_person_groups,
                "staff",
                items,
                progress=False,
                sleep=lambda _s: time.sleep(0.02),
                **kwargs,
            )
        else:

            async def main() -> Any:
                async with rig.async_client() as client:
                    return await async_bulk_add_faces(
                        client.large_person_groups,
                        "staff",
                        items,
                        progress=False,
                        sleep=lambda _s: asyncio.sleep(0.02),
                        **kwargs,
                    )

            asyncio.run(main())
    assert rig.recorder.posts() - posts <= 2, "an item went on sending after the journal failed"
    # the item that was in flight is left as the journal says, never dropped: pending if it
    # was stopped before its request left, sending or failed if a request had left
    state = journal.records("largePersonGroup:staff")[items[1].key].state
    assert state in ("pending", "sending", "failed")


def test_in_doubt_look_ups_fetch_only_faces_of_unknown_marker(rig: Rig) -> None:
    """A person's faces added by this batch (journal, or this run) carry known markers: an
    in-doubt look-up fetches only the others, from the last listed, until it finds its own.
    Counted in requests: each is rate-limited."""
    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    journal = MemoryJournal()
    group = rig.client.large_person_groups
    first = face_items(persons, 10, token, prefix="first")
    # a face of the person added outside the batch: fetched once, its marker unknown
    group.add_face("staff", persons[0], SINGLE[0], user_data="enrolled by hand", consent=token)
    bulk_add_faces(group, "staff", first, journal=journal, progress=False)
    rig.emulator.faults.add(ADD_ROUTE, method="POST", drop=True, times=3)
    second = face_items(persons, 10, token, prefix="second")
    before = len(rig.recorder.requests)
    report = bulk_add_faces(
        group, "staff", [*first, *second], journal=journal, progress=False, concurrency=1,
        sleep=no_sleep,
    )  # fmt: skip
    gets = [path for method, path in rig.recorder.requests[before:] if method == "GET"]
    face_gets = [p for p in gets if "/persistedfaces/" in p]
    assert report.added == 20 and report.recovered == 3
    assert len(gets) - len(face_gets) == 3  # one get_person per look-up
    # each dropped face is the last listed: one GET each (before: every face, 11 + 1 + 1)
    assert len(face_gets) == 3, face_gets
    _exactly_once_with(rig, persons, {face_marker(report.batch_id, i.key) for i in first + second})


def _exactly_once_with(rig: Rig, persons: list[str], markers: set[str]) -> None:
    on_server = markers_on_server(rig.client, "staff", persons)
    assert {m: on_server[m] for m in markers} == dict.fromkeys(markers, 1)


def test_in_doubt_look_up_from_a_resumed_journal_skips_the_batchs_own_faces(rig: Rig) -> None:
    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    journal = MemoryJournal()
    group = rig.client.large_person_groups
    items = face_items(persons, 12, token)
    bulk_add_faces(group, "staff", items[:11], journal=journal, progress=False)
    journal.put("largePersonGroup:staff", JournalRecord(key=items[11].key, state="sending"))
    before = len(rig.recorder.requests)
    report = bulk_add_faces(group, "staff", items, journal=journal, progress=False, sleep=no_sleep)
    new = rig.recorder.requests[before:]
    # get_person at once, again after the settle time (the face was not applied), then the
    # add; no get_face: all 11 markers are known
    assert [m for m, _ in new] == ["GET", "GET", "POST"]
    assert report.added == 12 and not report.items[11].recovered
    _exactly_once(rig, "staff", persons, items, report.batch_id)


def test_the_marker_check_is_exact() -> None:
    from faceguard.bulk._target import has_marker

    a = face_marker("b", "photo")
    b = face_marker("b", "photo2")
    assert has_marker(a, a) and has_marker(f"ada {a}", a)
    assert not has_marker(f"ada {a}", b)
    assert not has_marker(f"{a} {b}", a)  # only the last word is this face's marker
    assert not has_marker(f"ada{a}", a)  # glued to other text
    assert not has_marker(a + "0", a) and not has_marker(a[:-1], a)
    assert not has_marker(f"{a} copied", a) and not has_marker(None, a) and not has_marker("", a)
    assert len({len(face_marker("b", str(i))) for i in range(100)}) == 1  # never a prefix


def test_failure_messages_and_reprs_hold_no_token_or_image(rig: Rig) -> None:
    make_persons(rig.client, "staff", 1, rig.consent)
    ghost = "00000000-0000-4000-8000-000000000000"
    token = rig.consent.token(
        operations=["enroll"], bindings=[("largePersonGroup", "staff", ghost)]
    )
    image = SINGLE[0].read_bytes()
    item = BulkFace("ghost", image, ghost, token, user_data="ada")
    report = bulk_add_faces(rig.client.large_person_groups, "staff", [item], progress=False)
    with pytest.raises(BulkFailedError) as caught:
        report.raise_for_failures()
    texts = [str(caught.value), repr(report), repr(report.items), repr(item), str(report.items)]
    for text in texts:
        assert token not in text and repr(image[:16])[2:-1] not in text and "ada " not in text
    failed = report.items[0]
    assert failed.support is not None and failed.support.request_id and failed.error_code


def test_a_generator_that_raises_stops_the_call_before_anything_is_sent(rig: Rig) -> None:
    persons, token = make_persons(rig.client, "staff", 1, rig.consent)
    items = face_items(persons, 3, token)

    def broken() -> Iterator[BulkFace]:
        yield from items[:2]
        raise OSError("photo share unmounted")

    _refused(
        rig,
        lambda: bulk_add_faces(rig.client.large_person_groups, "staff", broken(), progress=False),
        OSError,
        "unmounted",
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_add_still_waiting_for_its_rate_limit_slot_is_pending_after_a_crash(
    rig: Rig, mode: str
) -> None:
    """``sending`` is journaled as the request leaves, after the limiter's wait: an add that
    was only queued for its slot when the process died is sent by the next run without a
    look-up (look-ups spend the same TPS budget)."""
    from faceguard import RateLimiter

    persons, _ = make_persons(rig.client, "staff", 1, rig.consent)
    items = face_items(persons, 2, per_client(rig, persons))
    journal = MemoryJournal()
    batch = "largePersonGroup:staff"

    def crash(_seconds: float) -> None:
        raise Crash("killed while waiting for a rate-limit slot")

    async def async_crash(_seconds: float) -> None:
        crash(_seconds)

    with pytest.raises(Crash):
        # One request per 2 s: the first add goes at once, the second must wait.
        if mode == "sync":
            with FaceClient(
                ENDPOINT,
                api_key=API_KEY,
                transport=rig.recorder,
                guard=rig.guard,
                sleep=crash,
                rate_limit=RateLimiter(0.5),
            ) as client:
                bulk_add_faces(
                    client.large_person_groups,
                    "staff",
                    items,
                    journal=journal,
                    concurrency=1,
                    progress=False,
                )
        else:

            async def main() -> None:
                async with AsyncFaceClient(
                    ENDPOINT,
                    api_key=API_KEY,
                    transport=rig.recorder,
                    guard=rig.guard,
                    sleep=async_crash,
                    rate_limit=RateLimiter(0.5),
                ) as client:
                    await async_bulk_add_faces(
                        client.large_person_groups,
                        "staff",
                        items,
                        journal=journal,
                        concurrency=1,
                        progress=False,
                    )

            asyncio.run(main())
    states = {key: record.state for key, record in journal.records(batch).items()}
    assert states == {items[0].key: "added", items[1].key: "pending"}
    before = len(rig.recorder.requests)
    report = bulk_add_faces(
        rig.client.large_person_groups, "staff", items, journal=journal, progress=False
    )
    assert [method for method, _ in rig.recorder.requests[before:]] == ["POST"]  # no look-up
    assert report.added == 2 and not any(r.recovered for r in report.items)
    _exactly_once(rig, "staff", persons, items, batch)
