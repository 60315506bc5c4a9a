"""faceguard's own cassette suite: every operation group, sync and async, replayed offline.

The cassettes under ``tests/cassettes/test_cassette_replay/`` were recorded from the real
clients talking over loopback HTTP to the emulator's server (the one behind ``faceguard
emulator serve``) with its real face engine and the photos under ``tests/data/faces``. They
hold no key, token or image: each photo is only its ``sha256:`` digest, which the replay
matches, so sending another photo fails.

By default (``FACEGUARD_RECORD_MODE`` unset, i.e. ``none``) nothing is served: the clients
talk to a port where nothing listens and every answer comes from the cassette, so CI needs
neither the network nor the engine. ``nox -s record`` (``FACEGUARD_RECORD_MODE=all``) starts
the server for each test and records the cassettes again.

What varies per recording (faceIds, personIds, session ids, the results the engine measured)
comes back from the cassette, so each replay is the recorded run exactly; what the test makes
itself is fixed (container ids, subjects, the device id). Consent tokens are checked by the
guard and never sent, so they are minted afresh by the plugin's ``faceguard_consent`` on
every run. Scripted outcomes (liveness attempts, harm severities) are control calls on the
emulator, made only while recording.

The module also checks the suite as a whole: every file under ``tests/cassettes`` is one a
test here plays (none is orphaned), each replays request by request, and the repository's
cassettes, fixtures and docs pass the hygiene check.
"""

from __future__ import annotations

import importlib
import inspect
import random
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from faceguard import (
    AsyncContentSafetyClient,
    AsyncFaceClient,
    ContentSafetyClient,
    FaceAttributeType,
    FaceClient,
    GuardPolicy,
    RetryPolicy,
)
from faceguard._pagination import AsyncPager, SyncPager
from faceguard._polling import AsyncTrainingPoller, TrainingPoller
from faceguard.emulator import Emulator, ManualClock
from faceguard.emulator._server import running
from faceguard.models import TextBlocklistItemInput
from faceguard.testing import check_paths, image_placeholder, record_mode, use_cassette
from faceguard.testing._plugin import FaceguardConsent, cassette_name

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
CASSETTES = TESTS / "cassettes"
MODULE = Path(__file__).stem
FACES = TESTS / "data" / "faces" / "face_recognition"
OBAMA_1 = FACES / "obama" / "obama1.jpg"
OBAMA_2 = FACES / "obama" / "obama2.jpg"
BIDEN_1 = FACES / "biden" / "biden.jpg"
BIDEN_2 = FACES / "biden" / "biden2.jpg"
KIT_1 = FACES / "kit_harington" / "john1.jpg"
TWO_PEOPLE = FACES / "multi" / "two_people.jpg"

KEY = secrets.token_hex(16)  # a real key's shape, made per run: the cassettes must not hold it
REPLAY_ENDPOINT = "http://127.0.0.1:9"
"""Where the replaying clients point: nothing listens there, the cassette answers."""
DEVICE = "5d0c3a9e-7b41-4c6e-9f2a-1e8b7c6d5a40"

FLAVOURS = ("sync", "async")
CASSETTES_USED: set[str] = set()
"""The cassette names (``<test>-<flavour>``) this module's tests play; filled by ``replayed``."""


def replayed(test: Callable[..., Any]) -> Any:
    """Run ``test`` once per flavour, each with its own cassette ``<test>-<flavour>.yaml``."""
    CASSETTES_USED.update(cassette_name(f"{test.__name__}[{flavour}]") for flavour in FLAVOURS)
    return pytest.mark.parametrize("flavour", FLAVOURS)(test)


# -- recording or replaying ---------------------------------------------------------------------


def recording(cassette: Path | None = None) -> bool:
    """Whether the emulator is served and recorded: in mode ``all`` (``nox -s record``), or
    in another recording mode when the cassette does not exist yet."""
    mode = record_mode()
    if cassette is None or mode == "all":
        return mode != "none"
    return mode != "none" and not cassette.is_file()


@pytest.fixture(scope="module")
def engine() -> Any:
    """The real face engine, built once, and only while recording."""
    if not recording():
        return None
    from faceguard.emulator._engine import OpenCVEngine

    return OpenCVEngine()


def seeded_ids(seed: str) -> Callable[[], str]:
    """faceIds, personIds and persistedFaceIds the same on every recording of a test."""
    rng = random.Random(seed)
    return lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class Wire:
    """Where one test's clients talk to, and the guard they share."""

    flavour: str
    endpoint: str
    clock: ManualClock
    guard: GuardPolicy
    consent: FaceguardConsent
    emulator: Emulator | None
    """The emulator behind the server while recording; None on replay."""

    def face(self) -> FaceClient | AsyncFaceClient:
        options: dict[str, Any] = {
            "api_key": KEY,
            "guard": self.guard,
            "clock": self.clock,
            "retry": RetryPolicy(max_attempts=1),  # a replay is the recorded run, retries aside
        }
        if self.flavour == "sync":
            return FaceClient(self.endpoint, sleep=self.clock.advance, **options)
        return AsyncFaceClient(self.endpoint, sleep=self.clock.async_advance, **options)

    def safety(self) -> ContentSafetyClient | AsyncContentSafetyClient:
        options: dict[str, Any] = {
            "api_key": KEY,
            "clock": self.clock,
            "retry": RetryPolicy(max_attempts=1),
        }
        if self.flavour == "sync":
            return ContentSafetyClient(self.endpoint, sleep=self.clock.advance, **options)
        return AsyncContentSafetyClient(self.endpoint, sleep=self.clock.async_advance, **options)

    def script(self, control: Callable[[Emulator], object]) -> None:
        """A control call on the emulator (a device's liveness attempt, a harm severity):
        made while recording; on replay its effect is already in the cassette."""
        if self.emulator is not None:
            control(self.emulator)


@pytest.fixture
def wire(
    flavour: str,
    engine: Any,
    faceguard_cassette: Any,
    faceguard_cassette_path: Path,
    faceguard_clock: ManualClock,
    faceguard_guard: GuardPolicy,
    faceguard_consent: FaceguardConsent,
) -> Iterator[Wire]:
    """The emulator served on loopback while recording; nothing at all on replay."""
    assert faceguard_cassette_path.parent == CASSETTES / MODULE
    assert faceguard_cassette_path.stem in CASSETTES_USED
    common = (faceguard_clock, faceguard_guard)
    if not recording(faceguard_cassette_path):
        if not faceguard_cassette_path.is_file():
            pytest.fail(
                f"{faceguard_cassette_path.relative_to(REPO)} is missing: record it with "
                "`nox -s record` (FACEGUARD_RECORD_MODE=all)",
                pytrace=False,
            )
        # Tokens must name the resource they are used on (never sent, so not in the cassette).
        consent = replace(faceguard_consent, endpoints=(REPLAY_ENDPOINT,))
        yield Wire(flavour, REPLAY_ENDPOINT, *common, consent, emulator=None)
        unplayed = len(faceguard_cassette) - len(faceguard_cassette.play_counts)
        assert unplayed == 0, f"{unplayed} recorded interaction(s) not replayed"
        return
    emulator = Emulator(
        engine=engine, clock=faceguard_clock, ids=seeded_ids(faceguard_cassette_path.stem)
    )
    with running(emulator, key=KEY) as server:
        consent = replace(faceguard_consent, endpoints=(server.url,))
        yield Wire(flavour, server.url, *common, consent, emulator=emulator)


async def settle(returned: Any) -> Any:
    """What a call delivers, sync or async: awaited, pages drained, training waited for."""
    value = await returned if inspect.isawaitable(returned) else returned
    if isinstance(value, SyncPager):
        return list(value)
    if isinstance(value, AsyncPager):
        return [item async for item in value]
    if isinstance(value, TrainingPoller):
        return value.wait(timeout=600)
    if isinstance(value, AsyncTrainingPoller):
        return await value.wait(timeout=600)
    return value


async def close(client: Any) -> None:
    await settle(client.aclose() if hasattr(client, "aclose") else client.close())


def is_image_or_its_digest(returned: bytes, photo: Path) -> bool:
    """A session image: the photo itself while recording, its placeholder on replay."""
    data = photo.read_bytes()
    return returned in (data, image_placeholder(data).encode())


# -- the operation groups -------------------------------------------------------------------------


FIRST_DETECTION: dict[str, Any] = {
    "return_face_landmarks": True,
    "return_face_attributes": [
        FaceAttributeType.HEAD_POSE,
        FaceAttributeType.BLUR,
        FaceAttributeType.QUALITY_FOR_RECOGNITION,
    ],
}


@replayed
async def test_detection(flavour: str, wire: Wire) -> None:
    client = wire.face()
    try:
        (face,) = await settle(client.detection.detect(OBAMA_1, **FIRST_DETECTION))
        (older,) = await settle(
            client.detection.detect(
                BIDEN_1,
                detection_model="detection_01",
                return_face_attributes=[FaceAttributeType.EXPOSURE, FaceAttributeType.NOISE],
            )
        )
        pair = await settle(client.detection.detect(TWO_PEOPLE))
        token = wire.consent.token("p-cassette-detect", ["detect_template"])
        (with_id,) = await settle(
            client.detection.detect(
                OBAMA_2, return_face_id=True, return_recognition_model=True, consent=token
            )
        )
    finally:
        await close(client)

    assert face.face_id is None and face.face_landmarks is not None
    attributes = face.face_attributes
    assert attributes is not None and attributes.head_pose is not None
    assert attributes.quality_for_recognition in ("low", "medium", "high")
    measured = older.face_attributes
    assert measured is not None and measured.exposure is not None and measured.noise is not None
    assert len(pair) == 2  # largest first
    sizes = [f.face_rectangle.width * f.face_rectangle.height for f in pair]
    assert sizes == sorted(sizes, reverse=True)
    assert with_id.face_id is not None and with_id.recognition_model == "recognition_04"


@replayed
async def test_recognition(flavour: str, wire: Wire) -> None:
    token = wire.consent.token(
        "p-cassette-recognition", ["detect_template", "verify", "find_similar", "group"]
    )
    client = wire.face()
    try:
        ids: dict[str, str] = {}
        for name, photo in (
            ("obama1", OBAMA_1),
            ("obama2", OBAMA_2),
            ("biden1", BIDEN_1),
            ("biden2", BIDEN_2),
            ("kit1", KIT_1),
        ):
            (found,) = await settle(
                client.detection.detect(photo, return_face_id=True, consent=token)
            )
            ids[name] = found.face_id
        same = await settle(
            client.recognition.verify_face_to_face(ids["obama1"], ids["obama2"], consent=token)
        )
        other = await settle(
            client.recognition.verify_face_to_face(ids["obama1"], ids["biden1"], consent=token)
        )
        similar = await settle(
            client.recognition.find_similar(
                ids["obama1"],
                face_ids=[ids["biden1"], ids["kit1"], ids["obama2"]],
                max_num_of_candidates_returned=2,
                consent=token,
            )
        )
        grouped = await settle(client.recognition.group(list(ids.values()), consent=token))
    finally:
        await close(client)

    assert (same.is_identical, other.is_identical) == (True, False)
    assert similar[0].face_id == ids["obama2"]
    groups = sorted(sorted(g) for g in grouped.groups)
    assert sorted([ids["obama1"], ids["obama2"]]) in groups
    assert sorted([ids["biden1"], ids["biden2"]]) in groups
    assert grouped.messy_group == [ids["kit1"]]


@replayed
async def test_face_lists(flavour: str, wire: Wire) -> None:
    list_id = "cassette-faces"
    client = wire.face()
    try:
        await settle(client.face_lists.create(list_id, name="Cassette faces"))
        listed = await settle(client.face_lists.list())
        await settle(client.face_lists.update(list_id, name="Renamed", user_data="reviewed"))
        enroll = wire.consent.token("p-cassette-list", ["enroll"], [("faceList", list_id)])
        added = {}
        for name, photo in (("obama", OBAMA_1), ("biden", BIDEN_1), ("kit", KIT_1)):
            result = await settle(
                client.face_lists.add_face(list_id, photo, user_data=name, consent=enroll)
            )
            added[name] = result.persisted_face_id
        face_list = await settle(client.face_lists.get(list_id))
        search = wire.consent.token(
            "p-cassette-probe", ["detect_template", "find_similar"], [("faceList", list_id)]
        )
        (probe,) = await settle(
            client.detection.detect(OBAMA_2, return_face_id=True, consent=search)
        )
        similar = await settle(
            client.recognition.find_similar_from_face_list(
                probe.face_id, face_list_id=list_id, consent=search
            )
        )
        await settle(client.face_lists.delete_face(list_id, added["kit"]))
        remaining = await settle(client.face_lists.get(list_id))
        await settle(client.face_lists.delete(list_id))
        after = await settle(client.face_lists.list())
    finally:
        await close(client)

    assert [f.face_list_id for f in listed] == [list_id]
    assert (face_list.name, face_list.user_data) == ("Renamed", "reviewed")
    assert sorted(f.user_data for f in face_list.persisted_faces or []) == ["biden", "kit", "obama"]
    assert similar[0].persisted_face_id == added["obama"]
    assert {f.persisted_face_id for f in remaining.persisted_faces or []} == {
        added["obama"],
        added["biden"],
    }
    assert after == []


@replayed
async def test_large_face_lists(flavour: str, wire: Wire) -> None:
    list_id = "cassette-large-faces"
    client = wire.face()
    try:
        await settle(client.large_face_lists.create(list_id, name="Cassette large faces"))
        listed = await settle(client.large_face_lists.list())
        enroll = wire.consent.token("p-cassette-large", ["enroll"], [("largeFaceList", list_id)])
        added = {}
        for name, photo in (("obama", OBAMA_1), ("biden", BIDEN_1), ("kit", KIT_1)):
            result = await settle(
                client.large_face_lists.add_face(list_id, photo, user_data=name, consent=enroll)
            )
            added[name] = result.persisted_face_id
        faces = await settle(client.large_face_lists.list_faces(list_id))
        await settle(client.large_face_lists.update_face(list_id, added["kit"], user_data="kit 1"))
        kit = await settle(client.large_face_lists.get_face(list_id, added["kit"]))
        trained = await settle(client.large_face_lists.train(list_id))
        status = await settle(client.large_face_lists.get_training_status(list_id))
        search = wire.consent.token(
            "p-cassette-probe", ["detect_template", "find_similar"], [("largeFaceList", list_id)]
        )
        (probe,) = await settle(
            client.detection.detect(BIDEN_2, return_face_id=True, consent=search)
        )
        similar = await settle(
            client.recognition.find_similar_from_large_face_list(
                probe.face_id,
                large_face_list_id=list_id,
                max_num_of_candidates_returned=1,
                consent=search,
            )
        )
        await settle(client.large_face_lists.delete_face(list_id, added["kit"]))
        remaining = await settle(client.large_face_lists.list_faces(list_id))
        await settle(client.large_face_lists.delete(list_id))
    finally:
        await close(client)

    assert [f.large_face_list_id for f in listed] == [list_id]
    assert sorted(f.persisted_face_id for f in faces) == sorted(added.values())
    assert kit.user_data == "kit 1"
    assert (trained.status, status.status) == ("succeeded", "succeeded")
    assert [s.persisted_face_id for s in similar] == [added["biden"]]
    assert sorted(f.persisted_face_id for f in remaining) == sorted(
        [added["obama"], added["biden"]]
    )


@replayed
async def test_person_groups(flavour: str, wire: Wire) -> None:
    group_id = "cassette-people"
    client = wire.face()
    try:
        await settle(client.person_groups.create(group_id, name="Cassette people"))
        persons = {}
        for name, photos in (("obama", [OBAMA_1]), ("biden", [BIDEN_1])):
            person = await settle(client.person_groups.create_person(group_id, name=name))
            persons[name] = person.person_id
            enroll = wire.consent.token(
                f"p-cassette-{name}", ["enroll"], [("personGroup", group_id, person.person_id)]
            )
            for photo in photos:
                await settle(
                    client.person_groups.add_face(group_id, person.person_id, photo, consent=enroll)
                )
        await settle(client.person_groups.update_person(group_id, persons["biden"], user_data="vp"))
        biden = await settle(client.person_groups.get_person(group_id, persons["biden"]))
        listed = await settle(client.person_groups.list_persons(group_id))
        trained = await settle(client.person_groups.train(group_id))
        kiosk = wire.consent.token(
            "p-cassette-kiosk",
            ["detect_template", "identify", "verify"],
            [("personGroup", group_id)],
        )
        obama_verifies = wire.consent.token(  # 1:1 against a person: that person's consent
            "p-cassette-obama",
            ["detect_template", "verify"],
            [("personGroup", group_id, persons["obama"])],
        )
        probes = []
        for photo in (OBAMA_2, BIDEN_2, KIT_1):
            (found,) = await settle(
                client.detection.detect(photo, return_face_id=True, consent=kiosk)
            )
            probes.append(found.face_id)
        identified = await settle(
            client.recognition.identify_from_person_group(
                probes, person_group_id=group_id, consent=kiosk
            )
        )
        (claimed,) = await settle(
            client.detection.detect(OBAMA_2, return_face_id=True, consent=obama_verifies)
        )
        verified = await settle(
            client.recognition.verify_from_person_group(
                claimed.face_id,
                person_group_id=group_id,
                person_id=persons["obama"],
                consent=obama_verifies,
            )
        )
        await settle(client.person_groups.delete_person(group_id, persons["biden"]))
        left = await settle(client.person_groups.list_persons(group_id))
        await settle(client.person_groups.delete(group_id))
    finally:
        await close(client)

    assert (biden.name, biden.user_data, len(biden.persisted_face_ids or [])) == ("biden", "vp", 1)
    assert sorted(p.person_id for p in listed) == sorted(persons.values())
    assert trained.status == "succeeded"
    assert [[c.person_id for c in r.candidates] for r in identified] == [
        [persons["obama"]],
        [persons["biden"]],
        [],
    ]
    assert verified.is_identical is True
    assert [p.person_id for p in left] == [persons["obama"]]


@replayed
async def test_large_person_groups(flavour: str, wire: Wire) -> None:
    group_id = "cassette-staff"
    subjects = {"obama": "p-cassette-obama", "biden": "p-cassette-biden"}
    client = wire.face()
    try:
        await settle(client.large_person_groups.create(group_id, name="Cassette staff"))
        persons = {}
        for name, photos in (("obama", [OBAMA_1]), ("biden", [BIDEN_1, BIDEN_2])):
            person = await settle(client.large_person_groups.create_person(group_id, name=name))
            persons[name] = person.person_id
            enroll = wire.consent.token(
                subjects[name], ["enroll"], [("largePersonGroup", group_id, person.person_id)]
            )
            for photo in photos:
                added = await settle(
                    client.large_person_groups.add_face(
                        group_id, person.person_id, photo, user_data=photo.name, consent=enroll
                    )
                )
        face = await settle(
            client.large_person_groups.get_face(group_id, persons["biden"], added.persisted_face_id)
        )
        trained = await settle(client.large_person_groups.train(group_id))
        kiosk = wire.consent.token(
            "p-cassette-kiosk",
            ["detect_template", "identify", "verify"],
            [("largePersonGroup", group_id)],
        )
        biden_verifies = wire.consent.token(  # 1:1 against a person: that person's consent
            subjects["biden"],
            ["detect_template", "verify"],
            [("largePersonGroup", group_id, persons["biden"])],
        )
        (probe,) = await settle(
            client.detection.detect(OBAMA_2, return_face_id=True, consent=kiosk)
        )
        before = await settle(
            client.recognition.identify_from_large_person_group(
                [probe.face_id], large_person_group_id=group_id, consent=kiosk
            )
        )
        # Someone claims to be biden, in biden's session, and shows obama's face.
        (impostor,) = await settle(
            client.detection.detect(OBAMA_2, return_face_id=True, consent=biden_verifies)
        )
        verified = await settle(
            client.recognition.verify_from_large_person_group(
                impostor.face_id,
                large_person_group_id=group_id,
                person_id=persons["biden"],
                consent=biden_verifies,
            )
        )
        plan = await settle(client.erase_subject(subjects["obama"]))  # consent withdrawn
        after = await settle(
            client.recognition.identify_from_large_person_group(
                [probe.face_id], large_person_group_id=group_id, consent=kiosk
            )
        )
        left = await settle(client.large_person_groups.list_persons(group_id))
        await settle(client.large_person_groups.delete(group_id))
    finally:
        await close(client)

    assert face.user_data == "biden2.jpg"
    assert trained.status == "succeeded"
    assert [c.person_id for c in before[0].candidates] == [persons["obama"]]
    assert verified.is_identical is False
    assert len(plan.deletions) == 1
    assert after[0].candidates == []
    assert [p.person_id for p in left] == [persons["biden"]]


@replayed
async def test_liveness(flavour: str, wire: Wire) -> None:
    frame = OBAMA_2.read_bytes()
    client = wire.face()
    try:
        session = await settle(
            client.liveness.create_session(
                liveness_operation_mode="Passive",
                device_correlation_id=DEVICE,
                enable_session_image=True,
            )
        )
        wire.script(
            lambda e: e.liveness.script_attempt(
                session.session_id, decision="realface", image=frame
            )
        )
        result = await settle(client.liveness.get_session_result(session.session_id))
        (attempt,) = result.results.attempts
        image_id = attempt.result.session_image_id
        image = await settle(client.liveness.get_session_image(image_id))
        token = wire.consent.token("p-cassette-liveness", ["detect_template", "liveness_verify"])
        (from_session,) = await settle(
            client.detection.detect_from_session_image(image_id, return_face_id=True, consent=token)
        )
        await settle(client.liveness.delete_session(session.session_id))

        verify = await settle(
            client.liveness.create_with_verify_session(
                verify_image=OBAMA_1,
                liveness_operation_mode="Passive",
                device_correlation_id=DEVICE,
                consent=token,
            )
        )
        wire.script(
            lambda e: e.liveness.script_attempt(verify.session_id, decision="realface", image=frame)
        )
        checked = await settle(client.liveness.get_with_verify_session_result(verify.session_id))
        await settle(client.liveness.delete_with_verify_session(verify.session_id))
    finally:
        await close(client)

    assert session.status == "NotStarted" and session.auth_token  # "<redacted>" on replay
    assert (result.status, attempt.result.liveness_decision) == ("Succeeded", "realface")
    assert is_image_or_its_digest(image, OBAMA_2)
    assert from_session.face_id is not None
    assert verify.auth_token
    (reference,) = verify.results.verify_references
    assert reference.reference_type == "Color"
    outcome = checked.results.attempts[0].result
    assert outcome.liveness_decision == "realface"
    assert outcome.verify_result is not None and outcome.verify_result.is_identical is True


@replayed
async def test_blocklists_and_analyze(flavour: str, wire: Wire) -> None:
    name = "cassette-words"
    client = wire.safety()
    try:
        created = await settle(client.blocklists.create_or_update(name, description="for tests"))
        fetched = await settle(client.blocklists.get(name))
        listed = await settle(client.blocklists.list())
        added = await settle(
            client.blocklists.add_or_update_items(
                name,
                [
                    "exact phrase",
                    TextBlocklistItemInput(text=r"b[a@]d\s+word", is_regex=True),
                    "third",
                ],
            )
        )
        exact, regex, third = added.blocklist_items
        item = await settle(client.blocklists.get_item(name, exact.blocklist_item_id))
        wire.script(lambda e: e.content_safety.script_severity("Hate", 2))
        wire.script(lambda e: e.content_safety.script_severity("Violence", 4))
        analysed = await settle(
            client.analyze_text(
                "an EXACT PHRASE in a sentence",
                categories=["Hate", "Violence"],
                blocklist_names=[name],
            )
        )
        halted = await settle(
            client.analyze_text(
                "what a b@d  word", blocklist_names=[name], halt_on_blocklist_hit=True
            )
        )
        await settle(client.blocklists.remove_items(name, [third.blocklist_item_id]))
        items = await settle(client.blocklists.list_items(name))
        await settle(client.blocklists.delete(name))
        after = await settle(client.blocklists.list())
    finally:
        await close(client)

    assert created.support_info()["status_code"] == 201
    assert fetched.description == "for tests"
    assert [b.blocklist_name for b in listed] == [name]
    assert (item.text, regex.is_regex) == ("exact phrase", True)
    assert [(c.category, c.severity) for c in analysed.categories_analysis] == [
        ("Hate", 2),
        ("Violence", 4),
    ]
    assert [m.blocklist_item_text for m in analysed.blocklists_match or []] == ["exact phrase"]
    assert [m.blocklist_item_id for m in halted.blocklists_match or []] == [regex.blocklist_item_id]
    assert halted.categories_analysis == []
    assert sorted(i.text for i in items) == sorted([exact.text, regex.text])
    assert after == []


# -- the suite as a whole ---------------------------------------------------------------------


def cassette_files() -> list[Path]:
    return sorted(path for path in CASSETTES.rglob("*") if path.is_file())


def test_every_cassette_is_played_by_a_test() -> None:
    """A file under ``tests/cassettes/`` is orphaned unless it is
    ``<module>/<name>.yaml`` for a test module ``tests/<module>.py`` whose ``CASSETTES_USED``
    names it (the plugin's ``faceguard_cassette`` layout): delete it, or give it a test."""
    orphaned = []
    for path in cassette_files():
        relative = path.relative_to(CASSETTES)
        used: set[str] = set()
        if len(relative.parts) == 2 and path.suffix == ".yaml":
            owner = relative.parts[0]
            if (TESTS / f"{owner}.py").is_file():  # tests/ is on sys.path, as pytest runs it
                used = getattr(importlib.import_module(owner), "CASSETTES_USED", set())
        if path.stem not in used:
            orphaned.append(str(relative))

    assert orphaned == []


def test_every_test_here_has_its_cassette() -> None:
    expected = {CASSETTES / MODULE / f"{name}.yaml" for name in CASSETTES_USED}

    assert len(CASSETTES_USED) == 8 * len(FLAVOURS)  # eight operation groups, sync and async
    assert sorted(str(p.relative_to(REPO)) for p in expected - set(cassette_files())) == []


@pytest.mark.parametrize(
    "path",
    [p for p in cassette_files() if p.suffix == ".yaml"],
    ids=lambda p: str(p.relative_to(CASSETTES)),
)
def test_every_cassette_replays_request_by_request(path: Path) -> None:
    """Each recorded request, sent as recorded (scrubbed), gets its recorded answer from the
    cassette in mode ``none``, and every interaction is played: the file loads with today's
    vcrpy and matchers, and is consistent with itself."""
    with (
        use_cassette(path, record_mode="none") as cassette,
        httpx.Client(timeout=5) as client,
    ):
        recorded = list(cassette.data)
        for request, response in recorded:
            headers = {
                name: value
                for name, value in request.headers.items()
                if name.lower() not in ("content-length", "host")
            }
            answer = client.request(
                request.method, request.uri, headers=headers, content=request.body or b""
            )
            body = response["body"]["string"]
            assert answer.status_code == response["status"]["code"], request.uri
            assert answer.content == (body.encode() if isinstance(body, str) else body)

    assert recorded
    assert len(cassette.play_counts) == len(recorded)


def test_a_replay_with_another_photo_fails() -> None:
    """The cassettes hold only the photos' digests, and the replay matches on them."""
    path = CASSETTES / MODULE / "test_detection-sync.yaml"
    with (
        use_cassette(path, record_mode="none") as cassette,
        FaceClient(REPLAY_ENDPOINT, api_key=KEY) as client,
        pytest.raises(CannotOverwriteExistingCassetteException) as failure,
    ):
        client.detection.detect(KIT_1, **FIRST_DETECTION)  # the recorded call, another photo

    message = str(failure.value)
    assert "body_digest" in message
    assert image_placeholder(KIT_1.read_bytes()) in message
    assert image_placeholder(OBAMA_1.read_bytes()) in path.read_text()
    assert cassette.play_counts == {}


def test_the_repository_passes_the_hygiene_check() -> None:
    """No key, token or image in the cassettes and JSON fixtures of tests/, examples/ and
    docs/, nor in the docs' Markdown (which shows cassettes and configuration)."""
    findings = check_paths([TESTS, REPO / "examples", REPO / "docs"])
    findings += check_paths([REPO / "docs", REPO / "README.md"], suffixes=(".md",))

    assert [str(f) for f in findings] == []
