"""R17 tracking caps through the public API: identifications per person per source per hour,
detect calls per source per minute, on the embedded emulator with its real face engine.

Every count lives in the guard store, so the cross-process tests run the same checks with two
processes sharing a SQLite file and a real Redis server: what one process counted, the other
sees. Clocks are injected (no test sleeps); the Redis store counts on the server's clock, so
its tests only need the window not to end, which it does not within a test.

The §9-style vectors (token and call -> decision) are at the end, in ``VECTORS``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import _guard_kit as kit
from faceguard import (
    AsyncFaceClient,
    AuditLog,
    ConsentLedger,
    FaceClient,
    GuardPolicy,
    InvalidInputError,
    Override,
    RedisStore,
    SQLiteStore,
    TrackingCapError,
)
from faceguard._guard._store import GuardStore, MemoryStore
from faceguard.emulator import Emulator
from faceguard.emulator._server import EmulatorServer

ENDPOINT = "https://caps.cognitiveservices.azure.com"  # one the kit's tokens name
KEY = "k" * 32
GROUP = "tracking-caps"
FACES = "tracking-caps-faces"
PHOTOS = Path(__file__).parent / "data" / "faces" / "face_recognition"
OBAMA = (PHOTOS / "obama" / "obama1.jpg").read_bytes()
OBAMA_PROBE = (PHOTOS / "obama" / "obama2.jpg").read_bytes()
BIDEN = (PHOTOS / "biden" / "biden.jpg").read_bytes()
BIDEN_PROBE = (PHOTOS / "biden" / "biden2.jpg").read_bytes()
IDENTIFY_CAP = 2
DETECT_CAP = 3
REASON = "continuous access audit for the night shift, ticket SEC-1042"


class Clock:
    """An injected wall clock: advanced by the test, never by time passing."""

    def __init__(self) -> None:
        # The issuer stamps tokens with the real time: the guard's clock starts there.
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def token(
    subject: str = kit.SUBJECT,
    *,
    continuous: bool = False,
    endpoints: tuple[str, ...] = (ENDPOINT,),
    person: str | None = None,
) -> str:
    """A standing token for the group (or one person of it), valid for a day."""
    return kit.ISSUER.issue(
        subject,
        audience=[kit.AUDIENCE, *endpoints],
        operations=["detect_template", "identify", "verify", "enroll", "find_similar"],
        use_case=kit.USE_CASE,
        bindings=[("largePersonGroup", GROUP, person), ("faceList", FACES, person)],
        use="standing",
        lifetime=86400,
        status=(kit.STATUS_URI, kit.STATUS_INDEX),
        continuous_identification=continuous,
    )


def caps_policy(store: GuardStore, clock: Callable[[], float], **settings: Any) -> GuardPolicy:
    base = kit.policy(store, clock=clock, allow_unknown_face_ids=False)
    settings.setdefault("identifications_per_person_per_hour", IDENTIFY_CAP)
    settings.setdefault("detect_calls_per_minute", DETECT_CAP)
    return dataclasses.replace(base, **settings)


class World:
    """One emulator with the group enrolled and trained, shared by the module's tests (the
    engine's models load once); each test brings its own guard store, clock and client."""

    def __init__(self) -> None:
        self.emulator = Emulator()
        self.sent: list[str] = []
        self.emulator.add_hook(lambda request: self.sent.append(request.url.path))
        consent = token()
        with FaceClient(
            ENDPOINT,
            api_key=KEY,
            transport=self.emulator.transport(),
            guard=caps_policy(MemoryStore(), time.time),
        ) as setup:
            self.obama, self.biden = enroll_two(setup, consent)
            setup.face_lists.create(FACES, name="tracking caps faces")
            self.face = setup.face_lists.add_face(FACES, OBAMA, consent=consent).persisted_face_id


@pytest.fixture(scope="module")
def world() -> World:
    return World()


class Rig:
    """A guarded client on the shared emulator: the enrolled persons on file in its own
    store's ledger (through the public ``ConsentLedger.enroll``), and the probes' faceIds."""

    def __init__(
        self,
        world: World,
        tmp_path: Path,
        *,
        enroll: bool = True,
        **settings: Any,
    ) -> None:
        self.clock = Clock()
        self.store = MemoryStore(clock=self.clock)
        self.audit_path = tmp_path / f"audit-{uuid.uuid4().hex[:6]}.jsonl"
        self.audit = AuditLog(self.audit_path)
        self.policy = dataclasses.replace(
            caps_policy(self.store, self.clock, **settings), audit=self.audit
        )
        self.emulator = world.emulator
        self.sent = world.sent
        self.token = token()
        self.client = FaceClient(
            ENDPOINT, api_key=KEY, transport=self.emulator.transport(), guard=self.policy
        )
        self.obama, self.biden, self.face = world.obama, world.biden, world.face
        if enroll:
            ledger = ConsentLedger(self.store, clock=self.clock)
            for person in (self.obama, self.biden):
                assert self.policy.verifier is not None
                ledger.enroll(
                    token(person=person),
                    verifier=self.policy.verifier,
                    endpoint=ENDPOINT,
                    use_case=kit.USE_CASE,
                    container_kind="largePersonGroup",
                    container_id=GROUP,
                    person_id=person,
                )
            ledger.enroll(
                token(person=world.face),
                verifier=self.policy.verifier,
                endpoint=ENDPOINT,
                use_case=kit.USE_CASE,
                container_kind="faceList",
                container_id=FACES,
                person_id=world.face,
            )
            self.obama_face = self.probe(OBAMA_PROBE)
            self.biden_face = self.probe(BIDEN_PROBE)

    def probe(self, image: bytes) -> str:
        [face] = self.client.detection.detect(
            image, return_face_id=True, face_id_time_to_live=86400, consent=self.token
        )
        assert face.face_id is not None
        return face.face_id

    def identify(self, face_id: str, consent: str | None = None, **options: Any) -> list[str]:
        [result] = self.client.recognition.identify_from_large_person_group(
            [face_id], large_person_group_id=GROUP, consent=consent or self.token, **options
        )
        return [candidate.person_id for candidate in result.candidates]

    def verify(self, face_id: str, person: str, consent: str | None = None, **options: Any) -> bool:
        result = self.client.recognition.verify_from_large_person_group(
            face_id,
            large_person_group_id=GROUP,
            person_id=person,
            consent=consent or self.token,
            **options,
        )
        return result.is_identical

    def similar(self, face_id: str, **options: Any) -> list[str]:
        found = self.client.recognition.find_similar_from_face_list(
            face_id, face_list_id=FACES, consent=self.token, **options
        )
        return [item.persisted_face_id for item in found if item.persisted_face_id]

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.audit_path.read_text().splitlines()]


def enroll_two(client: FaceClient, consent: str) -> tuple[str, str]:
    groups = client.large_person_groups
    groups.create(GROUP, name="tracking caps")
    obama = groups.create_person(GROUP, name="one", consent=consent).person_id
    groups.add_face(GROUP, obama, OBAMA, consent=consent)
    biden = groups.create_person(GROUP, name="two", consent=consent).person_id
    groups.add_face(GROUP, biden, BIDEN, consent=consent)
    groups.train(GROUP).wait()
    return obama, biden


@pytest.fixture
def rig(world: World, tmp_path: Path) -> Iterator[Rig]:
    made = Rig(world, tmp_path)
    yield made
    made.client.close()


# -- identifications per person per source per hour -----------------------------------------


def test_a_person_identified_past_the_cap_is_withheld_until_the_hour_has_passed(rig: Rig) -> None:
    for _ in range(IDENTIFY_CAP):
        assert rig.identify(rig.obama_face, source_id="door-1") == [rig.obama]
    assert rig.identify(rig.obama_face, source_id="door-1") == []
    # The withholding is in the audit trail, counted, with no id in it.
    capped = [r for r in rig.records() if r["event"] == "candidate_suppressed"]
    assert capped and capped[-1]["details"]["tracking_capped"] == 1
    # Still inside the hour: still withheld. Past it: identified again.
    rig.clock.advance(3599)
    assert rig.identify(rig.obama_face, source_id="door-1") == []
    rig.clock.advance(3601)
    assert rig.identify(rig.obama_face, source_id="door-1") == [rig.obama]


def test_the_cap_is_per_person_and_per_source(rig: Rig) -> None:
    for _ in range(IDENTIFY_CAP + 1):
        rig.identify(rig.obama_face, source_id="door-1")
    assert rig.identify(rig.obama_face, source_id="door-1") == []
    # Another source, another person: their own counts.
    assert rig.identify(rig.obama_face, source_id="door-2") == [rig.obama]
    assert rig.identify(rig.biden_face, source_id="door-1") == [rig.biden]


@pytest.mark.parametrize(
    "spelling",
    ["DOOR-1", " door-1 ", "\uff44\uff4f\uff4f\uff52-\uff11", "door\u200b-1", "Door\u2060-1"],
)
def test_a_respelled_source_is_the_same_source(rig: Rig, spelling: str) -> None:
    for _ in range(IDENTIFY_CAP):
        rig.identify(rig.obama_face, source_id="door-1")
    assert rig.identify(rig.obama_face, source_id=spelling) == []


def test_calls_naming_no_source_count_as_one_source_for_the_application(rig: Rig) -> None:
    for _ in range(IDENTIFY_CAP):
        assert rig.identify(rig.obama_face) == [rig.obama]
    assert rig.identify(rig.obama_face) == []
    # A second client of the same application (same store, same resource) sees the count.
    other = FaceClient(ENDPOINT, api_key=KEY, transport=rig.emulator.transport(), guard=rig.policy)
    with other:
        [result] = other.recognition.identify_from_large_person_group(
            [rig.obama_face], large_person_group_id=GROUP, consent=rig.token
        )
    assert result.candidates == []


def test_the_policy_source_is_the_default_and_a_call_source_wins(
    world: World, tmp_path: Path
) -> None:
    rig = Rig(world, tmp_path, source_id="Kiosk-7")
    with rig.client:
        for _ in range(IDENTIFY_CAP):
            rig.identify(rig.obama_face)
        assert rig.identify(rig.obama_face, source_id="kiosk-7") == []  # the same source
        assert rig.identify(rig.obama_face, source_id="kiosk-8") == [rig.obama]


def test_consent_to_continuous_identification_lifts_the_cap(rig: Rig) -> None:
    continuous = token(continuous=True)
    for _ in range(IDENTIFY_CAP + 3):
        assert rig.identify(rig.obama_face, continuous, source_id="door-1") == [rig.obama]
    # A token without the claim is still capped: the counts went on.
    assert rig.identify(rig.obama_face, source_id="door-1") == []


def test_an_override_of_the_cap_lets_one_call_through_and_is_audited(rig: Rig) -> None:
    for _ in range(IDENTIFY_CAP):
        rig.identify(rig.obama_face, source_id="door-1")
    override = Override("tracking_identification_cap", REASON)
    assert rig.identify(rig.obama_face, source_id="door-1", override=override) == [rig.obama]
    overrides = [r for r in rig.records() if r["event"] == "override"]
    assert len(overrides) == 1
    assert overrides[0]["reason"].startswith("tracking_identification_cap: ")
    # For that call only.
    assert rig.identify(rig.obama_face, source_id="door-1") == []


@pytest.mark.parametrize("rule", ["tracking_detect_cap", "unknown_face_id", "primary_identifier"])
def test_an_override_of_another_rule_does_not_lift_the_cap(rig: Rig, rule: str) -> None:
    for _ in range(IDENTIFY_CAP):
        rig.identify(rig.obama_face, source_id="door-1")
    assert rig.identify(rig.obama_face, source_id="door-1", override=Override(rule, REASON)) == []


def test_the_cap_and_its_rule_are_configurable_and_checked(tmp_path: Path) -> None:
    for bad in (0, -1, True, 1.5, "3", 10**6):
        with pytest.raises(InvalidInputError):
            GuardPolicy(identifications_per_person_per_hour=bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError):
            GuardPolicy(detect_calls_per_minute=bad)  # type: ignore[arg-type]
    for bad_source in ("", "   ", "a\nb", "\ud800", 7, "x" * 300):
        with pytest.raises(InvalidInputError):
            GuardPolicy(source_id=bad_source)  # type: ignore[arg-type]
    assert GuardPolicy().identifications_per_person_per_hour == 10
    assert GuardPolicy().detect_calls_per_minute == 60
    assert GuardPolicy(source_id=" Door-1 ").source_id == "door-1"


@pytest.mark.parametrize("bad", ["", "a\x00b", "\ud800", 5, b"door"])
def test_a_bad_source_id_is_refused_before_sending(rig: Rig, bad: object) -> None:
    sent = len(rig.sent)
    with pytest.raises(InvalidInputError) as info:
        rig.identify(rig.obama_face, source_id=bad)
    assert info.value.parameter == "source_id"
    with pytest.raises(InvalidInputError):
        rig.client.detection.detect(OBAMA_PROBE, source_id=bad)  # type: ignore[arg-type]
    assert len(rig.sent) == sent
    assert "\ud800" not in str(info.value)


def test_an_override_that_is_not_an_override_is_refused(rig: Rig) -> None:
    with pytest.raises(InvalidInputError):
        rig.identify(rig.obama_face, override="tracking_identification_cap")


def test_a_verify_against_the_person_counts_and_is_refused_unsent_past_the_cap(rig: Rig) -> None:
    assert rig.identify(rig.obama_face, source_id="door-1") == [rig.obama]
    assert rig.verify(rig.obama_face, rig.obama, source_id="door-1")  # the cap's last
    sent = len(rig.sent)
    with pytest.raises(TrackingCapError) as info:
        rig.verify(rig.obama_face, rig.obama, source_id="Door-1")
    assert len(rig.sent) == sent
    assert (info.value.cap, info.value.limit) == ("identification", IDENTIFY_CAP)
    assert rig.obama not in str(info.value)
    # Identify counted the verifies too; another person and another source are unaffected.
    assert rig.identify(rig.obama_face, source_id="door-1") == []
    assert not rig.verify(rig.obama_face, rig.biden, source_id="door-1")
    assert rig.verify(rig.obama_face, rig.obama, source_id="door-2")
    # With consent to continuous identification, or an override (audited), it goes.
    assert rig.verify(rig.obama_face, rig.obama, token(continuous=True), source_id="door-1")
    override = Override("tracking_identification_cap", REASON)
    assert rig.verify(rig.obama_face, rig.obama, source_id="door-1", override=override)
    assert [r["reason"].split(":")[0] for r in rig.records() if r["event"] == "override"] == [
        "tracking_identification_cap"
    ]


def test_a_face_list_face_find_similar_returns_is_counted_and_withheld(rig: Rig) -> None:
    for _ in range(IDENTIFY_CAP):
        assert rig.similar(rig.obama_face, source_id="cam-3") == [rig.face]
    assert rig.similar(rig.obama_face, source_id="cam-3") == []
    assert rig.similar(rig.obama_face, source_id="cam-4") == [rig.face]
    override = Override("tracking_identification_cap", REASON)
    assert rig.similar(rig.obama_face, source_id="cam-3", override=override) == [rig.face]


def test_attempts_past_the_cap_keep_the_source_capped_until_it_pauses(rig: Rig) -> None:
    for _ in range(IDENTIFY_CAP):
        rig.identify(rig.obama_face, source_id="door-1")
    # A loop that keeps trying every 20 minutes never gets the person back...
    for _ in range(6):
        rig.clock.advance(1200)
        assert rig.identify(rig.obama_face, source_id="door-1") == []
    # ...until it leaves the source alone for the window.
    rig.clock.advance(3601)
    assert rig.identify(rig.obama_face, source_id="door-1") == [rig.obama]


# -- detect calls per source per minute -----------------------------------------------------


def test_detect_past_the_cap_is_refused_before_sending(rig: Rig) -> None:
    for _ in range(DETECT_CAP):
        rig.client.detection.detect(OBAMA_PROBE, source_id="cam-1")
    sent = len(rig.sent)
    with pytest.raises(TrackingCapError) as info:
        rig.client.detection.detect(OBAMA_PROBE, source_id="cam-1")
    assert len(rig.sent) == sent, "a refused detect must send nothing"
    refusal = info.value
    assert (refusal.cap, refusal.limit, refusal.window) == ("detect", DETECT_CAP, 60.0)
    assert "cam-1" not in str(refusal)
    assert "continuous_identification=True" in str(refusal)
    assert [r["rule"] for r in rig.records() if r["decision"] == "refused"] == ["R17 tracking cap"]
    # Other sources are not affected; after the minute, this one is not either.
    rig.client.detection.detect(OBAMA_PROBE, source_id="cam-2")
    rig.clock.advance(60.5)
    rig.client.detection.detect(OBAMA_PROBE, source_id="CAM-1")


@pytest.mark.parametrize("spelling", ["CAM-1", " cam-1", "cam\u200c-1", "\uff43am-1"])
def test_detect_from_a_respelled_source_is_counted_as_the_same(rig: Rig, spelling: str) -> None:
    for _ in range(DETECT_CAP):
        rig.client.detection.detect(OBAMA_PROBE, source_id="cam-1")
    with pytest.raises(TrackingCapError):
        rig.client.detection.detect(OBAMA_PROBE, source_id=spelling)


def test_detect_from_a_session_image_counts_too(rig: Rig) -> None:
    for _ in range(DETECT_CAP):
        rig.client.detection.detect(OBAMA_PROBE, source_id="cam-1")
    with pytest.raises(TrackingCapError):
        rig.client.detection.detect_from_session_image("some-session-image", source_id="cam-1")


def test_detect_naming_no_source_is_not_counted(rig: Rig) -> None:
    for _ in range(DETECT_CAP + 2):
        rig.client.detection.detect(OBAMA_PROBE)
    rig.client.detection.detect(OBAMA_PROBE, source_id="cam-1")  # its own count starts at 1


def test_detect_with_consent_to_continuous_identification_or_an_override(rig: Rig) -> None:
    for _ in range(DETECT_CAP):
        rig.client.detection.detect(OBAMA_PROBE, source_id="cam-1")
    continuous = token(continuous=True)
    faces = rig.client.detection.detect(
        OBAMA_PROBE, return_face_id=True, consent=continuous, source_id="cam-1"
    )
    assert len(faces) == 1
    with pytest.raises(TrackingCapError):  # the same call without the claim
        rig.client.detection.detect(
            OBAMA_PROBE, return_face_id=True, consent=rig.token, source_id="cam-1"
        )
    override = Override("tracking_detect_cap", REASON)
    rig.client.detection.detect(OBAMA_PROBE, source_id="cam-1", override=override)
    overrides = [r for r in rig.records() if r["event"] == "override"]
    assert [r["reason"].split(":")[0] for r in overrides] == ["tracking_detect_cap"]
    with pytest.raises(TrackingCapError):  # an override of another rule does not do
        rig.client.detection.detect(
            OBAMA_PROBE, source_id="cam-1", override=Override("tracking_identification_cap", REASON)
        )


def test_the_policy_source_counts_detect_calls(world: World, tmp_path: Path) -> None:
    rig = Rig(world, tmp_path, enroll=False, source_id="kiosk-7")
    with rig.client:
        for _ in range(DETECT_CAP):
            rig.client.detection.detect(OBAMA_PROBE)
        with pytest.raises(TrackingCapError):
            rig.client.detection.detect(OBAMA_PROBE)
        rig.client.detection.detect(OBAMA_PROBE, source_id="kiosk-8")


# -- async ----------------------------------------------------------------------------------


def test_async_client_withholds_and_refuses_the_same(rig: Rig) -> None:
    async def run() -> tuple[list[list[str]], bool]:
        async with AsyncFaceClient(
            ENDPOINT, api_key=KEY, transport=rig.emulator.transport(), guard=rig.policy
        ) as client:
            found = []
            for _ in range(IDENTIFY_CAP + 1):
                [result] = await client.recognition.identify_from_large_person_group(
                    [rig.obama_face],
                    large_person_group_id=GROUP,
                    consent=rig.token,
                    source_id="door-9",
                )
                found.append([c.person_id for c in result.candidates])
            for _ in range(DETECT_CAP):
                await client.detection.detect(OBAMA_PROBE, source_id="cam-9")
            try:
                await client.detection.detect(OBAMA_PROBE, source_id="cam-9")
            except TrackingCapError:
                return found, True
            return found, False

    found, refused = asyncio.run(run())
    assert found == [[rig.obama]] * IDENTIFY_CAP + [[]]
    assert refused


# -- the stores' batch count ----------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite", "redis"])
def counting_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[GuardStore, Clock | None]]:
    clock = Clock()
    store: GuardStore
    if request.param == "memory":
        store = MemoryStore(clock=clock)
    elif request.param == "sqlite":
        store = SQLiteStore(tmp_path / "count.sqlite3", clock=clock)
    else:
        url = request.getfixturevalue("redis_url")
        store = RedisStore(url, prefix=f"fgcount{uuid.uuid4().hex[:8]}", key="k" * 32)
    yield store, None if request.param == "redis" else clock
    store.close()


def test_count_events_counts_each_key_saturates_and_slides(
    counting_store: tuple[GuardStore, Clock | None],
) -> None:
    from faceguard._guard._store import count_events

    store, clock = counting_store
    assert count_events(store, "caps", [], window=60, limit=3) == []
    assert count_events(store, "caps", ["a", "b"], window=60, limit=3) == [1, 1]
    assert count_events(store, "caps", ["a", "a", "c"], window=60, limit=3) == [2, 3, 1]
    # Past the limit the count stays at it (the store keeps no more than that per key).
    assert count_events(store, "caps", ["a"] * 5, window=60, limit=3) == [3] * 5
    assert count_events(store, "other", ["a"], window=60, limit=3) == [1]
    if clock is not None:  # the Redis store counts on the server's clock
        clock.advance(61)
        assert count_events(store, "caps", ["a", "b"], window=60, limit=3) == [1, 1]


def test_a_store_without_a_batch_count_is_counted_key_by_key() -> None:
    """A third-party GuardStore written before count_events still serves the caps."""
    from faceguard._guard._store import count_events

    class Older:
        def __init__(self) -> None:
            self.inner = MemoryStore()

        def count_event(self, namespace: str, key: str, *, window: float) -> int:
            return self.inner.count_event(namespace, key, window=window)

    older: Any = Older()
    assert count_events(older, "caps", ["a", "a", "b"], window=60, limit=2) == [1, 2, 1]
    assert count_events(older, "caps", ["a"], window=60, limit=2) == [2]  # saturated
    with pytest.raises(InvalidInputError):
        count_events(older, "caps", ["a"], window=60, limit=0)


@pytest.mark.parametrize(
    ("keys", "window", "limit"),
    [
        (["\ud800"], 60, 3),
        ([5], 60, 3),
        (["a"], float("nan"), 3),
        (["a"], 60, 0),
        (["a"], 60, True),
    ],
)
def test_count_events_refuses_bad_arguments_typed(
    counting_store: tuple[GuardStore, Clock | None], keys: Any, window: Any, limit: Any
) -> None:
    store, _ = counting_store
    with pytest.raises(InvalidInputError):
        store.count_events("caps", keys, window=window, limit=limit)  # type: ignore[attr-defined]


def test_a_closed_store_fails_closed(counting_store: tuple[GuardStore, Clock | None]) -> None:
    from faceguard import GuardStoreError

    store, _ = counting_store
    store.close()
    with pytest.raises(GuardStoreError):
        store.count_events("caps", ["a"], window=60, limit=3)  # type: ignore[attr-defined]


# -- two processes sharing the store ---------------------------------------------------------


def _store(spec: tuple[str, ...], clock: Callable[[], float]) -> GuardStore:
    if spec[0] == "sqlite":
        return SQLiteStore(spec[1], clock=clock)
    return RedisStore(spec[1], prefix=spec[2], key="tracking-caps-test-key-" + "0" * 16)


def _worker(url: str, spec: tuple[str, ...], now: float, identifications: int) -> dict[str, Any]:
    """Another process: its own client, verifier and key, on the shared store."""
    store = _store(spec, lambda: now)
    policy = caps_policy(store, lambda: now)
    consent = token(endpoints=(url,))
    outcome: dict[str, Any] = {"found": [], "detect_refused": 0}
    try:
        with FaceClient(url, api_key=KEY, guard=policy) as client:
            [face] = client.detection.detect(
                OBAMA_PROBE, return_face_id=True, consent=consent, source_id="shared-cam"
            )
            assert face.face_id is not None
            for _ in range(identifications):
                [result] = client.recognition.identify_from_large_person_group(
                    [face.face_id],
                    large_person_group_id=GROUP,
                    consent=consent,
                    source_id="shared-door",
                )
                outcome["found"].append(len(result.candidates))
            for _ in range(DETECT_CAP):
                try:
                    client.detection.detect(OBAMA_PROBE, source_id="shared-cam")
                except TrackingCapError:
                    outcome["detect_refused"] += 1
    finally:
        store.close()
    return outcome


def _in_other_process(*args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result: dict[str, Any] = pool.apply(_worker, args)
    return result


def _shared_store_round(spec: tuple[str, ...]) -> None:
    now = float(int(time.time()))
    store = _store(spec, lambda: now)
    emulator = Emulator()
    with EmulatorServer(emulator, port=0, key=KEY) as server:
        policy = caps_policy(store, lambda: now)
        consent = token(endpoints=(server.url,))
        with FaceClient(server.url, api_key=KEY, guard=policy) as client:
            obama, _ = enroll_two(client, consent)
            [face] = client.detection.detect(
                OBAMA_PROBE, return_face_id=True, consent=consent, source_id="shared-cam"
            )
            assert face.face_id is not None
            [first] = client.recognition.identify_from_large_person_group(
                [face.face_id],
                large_person_group_id=GROUP,
                consent=consent,
                source_id="shared-door",
            )
            assert [c.person_id for c in first.candidates] == [obama]
            # The other process: one more identification (the cap's last), then past it;
            # its detect calls add to this process's one.
            outcome = _in_other_process(server.url, spec, now, IDENTIFY_CAP)
            assert outcome["found"] == [1] + [0] * (IDENTIFY_CAP - 1)
            assert outcome["detect_refused"] == 2  # 1 here + its probe + 1 allowed = 3
            # Back here: the count the other process made holds here too.
            [again] = client.recognition.identify_from_large_person_group(
                [face.face_id],
                large_person_group_id=GROUP,
                consent=consent,
                source_id="shared-door",
            )
            assert again.candidates == []
            with pytest.raises(TrackingCapError):
                client.detection.detect(OBAMA_PROBE, source_id="shared-cam")
    store.close()


def test_two_processes_share_the_counts_in_a_sqlite_file(tmp_path: Path) -> None:
    _shared_store_round(("sqlite", str(tmp_path / "guard.sqlite3")))


def test_two_processes_share_the_counts_on_redis(redis_url: str) -> None:
    _shared_store_round(("redis", redis_url, f"fgcaps{uuid.uuid4().hex[:8]}"))


# -- GUARD.md §9-style vectors ----------------------------------------------------------------

# (what was counted before, the call's token and override, the call) -> the decision.
# "identify N" means the person was already identified N times from this source this hour.
VECTORS: list[tuple[str, dict[str, Any], str]] = [
    ("identify under the cap", {"before": IDENTIFY_CAP - 1}, "returned"),
    ("identify at the cap", {"before": IDENTIFY_CAP}, "withheld"),
    ("identify at the cap, cnt=true", {"before": IDENTIFY_CAP, "cnt": True}, "returned"),
    (
        "identify at the cap, override of the cap",
        {"before": IDENTIFY_CAP, "override": "tracking_identification_cap"},
        "returned",
    ),
    (
        "identify at the cap, override of another rule",
        {"before": IDENTIFY_CAP, "override": "tracking_detect_cap"},
        "withheld",
    ),
    ("identify at the cap, other source", {"before": IDENTIFY_CAP, "source": "door-2"}, "returned"),
    ("identify at the cap, an hour later", {"before": IDENTIFY_CAP, "later": 3600.5}, "returned"),
]


@pytest.mark.parametrize(("name", "case", "decision"), VECTORS, ids=[v[0] for v in VECTORS])
def test_vectors(rig: Rig, name: str, case: dict[str, Any], decision: str) -> None:
    for _ in range(case["before"]):
        rig.identify(rig.obama_face, source_id="door-1")
    rig.clock.advance(case.get("later", 0.0))
    consent = token(continuous=True) if case.get("cnt") else rig.token
    override = Override(case["override"], REASON) if "override" in case else None
    found = rig.identify(
        rig.obama_face, consent, source_id=case.get("source", "door-1"), override=override
    )
    assert found == ([rig.obama] if decision == "returned" else [])
