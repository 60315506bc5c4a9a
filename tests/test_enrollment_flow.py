"""Enrollment with one token issued before the person exists (issue 12 §3).

A token bound to a container only (``(kind, container_id, None)``) is accepted by
``create_person(..., consent=token)``, which records the new personId under the token's
subject; ``add_face`` then accepts the same token for that person, and for no other. Every
attempt to stretch such a token to a person it does not cover is refused before anything is
sent: a person created without consent, a person on file under another subject, a token that
names some other person, another container, a spent single-use token; sync and async, in
any letter case of the person id.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import _guard_kit as kit
from faceguard import AsyncFaceClient, ConsentRejectedError, FaceClient
from faceguard.emulator import Emulator

ENDPOINT = "https://example.cognitiveservices.azure.com"  # one the kit's tokens name
GROUP = "enrollment-flow"
OTHER_GROUP = "enrollment-flow-other"
PHOTOS = Path(__file__).parent / "data" / "faces" / "face_recognition"
OBAMA = (PHOTOS / "obama" / "obama1.jpg").read_bytes()
OBAMA_PROBE = (PHOTOS / "obama" / "obama2.jpg").read_bytes()
BIDEN = (PHOTOS / "biden" / "biden.jpg").read_bytes()


def container_token(subject: str = kit.SUBJECT, *, group: str = GROUP, use: str = "session") -> str:
    """An enroll/identify token bound to the whole group: issued before any person exists."""
    return kit.token(subject=subject, bindings=[("largePersonGroup", group, None)], use=use)


class Rig:
    """A guarded client on the emulator, counting the requests that reach it."""

    def __init__(self) -> None:
        self.emulator = Emulator()
        self.sent: list[str] = []
        self.emulator.add_hook(lambda request: self.sent.append(request.url.path))
        self.client = FaceClient(
            ENDPOINT, api_key="k" * 32, transport=self.emulator.transport(), guard=kit.policy()
        )
        for group in (GROUP, OTHER_GROUP):
            self.client.large_person_groups.create(group, name=group)

    def refused_unsent(self, call: Any) -> ConsentRejectedError:
        before = len(self.sent)
        with pytest.raises(ConsentRejectedError) as info:
            call()
        assert len(self.sent) == before, "a refused call must send nothing"
        return info.value


@pytest.fixture
def rig() -> Rig:
    return Rig()


def test_one_token_creates_the_person_adds_faces_and_identifies_them(rig: Rig) -> None:
    groups = rig.client.large_person_groups
    token = container_token()
    person = groups.create_person(GROUP, name="person one", consent=token).person_id
    groups.add_face(GROUP, person, OBAMA, consent=token)
    groups.train(GROUP).wait()
    [probe] = rig.client.detection.detect(OBAMA_PROBE, return_face_id=True, consent=token)
    assert probe.face_id is not None
    [result] = rig.client.recognition.identify_from_large_person_group(
        [probe.face_id], large_person_group_id=GROUP, consent=token
    )
    # The candidate survives the guard's filter: the ledger has the person on file.
    assert [c.person_id for c in result.candidates] == [person]


def test_the_person_id_in_another_letter_case_is_the_same_person(rig: Rig) -> None:
    groups = rig.client.large_person_groups
    token = container_token()
    person = groups.create_person(GROUP, name="person one", consent=token).person_id
    groups.add_face(GROUP, person.upper(), OBAMA, consent=token)


def test_a_person_created_without_consent_is_not_covered(rig: Rig) -> None:
    groups = rig.client.large_person_groups
    person = groups.create_person(GROUP, name="no consent").person_id
    refusal = rig.refused_unsent(
        lambda: groups.add_face(GROUP, person, OBAMA, consent=container_token())
    )
    assert refusal.check == "person"
    assert "create_person(..., consent=token)" in str(refusal)


def test_a_person_of_another_subject_is_not_covered(rig: Rig) -> None:
    groups = rig.client.large_person_groups
    alice = groups.create_person(GROUP, name="a", consent=container_token("p-alice")).person_id
    mallory = container_token("p-mallory")
    refusal = rig.refused_unsent(lambda: groups.add_face(GROUP, alice, BIDEN, consent=mallory))
    assert refusal.check == "person"


def test_a_token_naming_another_person_does_not_cover_this_one(rig: Rig) -> None:
    groups = rig.client.large_person_groups
    mine = groups.create_person(GROUP, name="a", consent=container_token()).person_id
    other = groups.create_person(GROUP, name="b").person_id
    # Same subject, but bound to `other` only: not a token for the whole group.
    narrow = kit.token(bindings=[("largePersonGroup", GROUP, other)], use="session")
    refusal = rig.refused_unsent(lambda: groups.add_face(GROUP, mine, OBAMA, consent=narrow))
    assert refusal.check == "person"


def test_a_token_for_another_container_is_refused(rig: Rig) -> None:
    groups = rig.client.large_person_groups
    elsewhere = container_token(group=OTHER_GROUP)
    refusal = rig.refused_unsent(lambda: groups.create_person(GROUP, name="a", consent=elsewhere))
    assert refusal.check == "container"
    person = groups.create_person(GROUP, name="b", consent=container_token()).person_id
    refusal = rig.refused_unsent(lambda: groups.add_face(GROUP, person, OBAMA, consent=elsewhere))
    assert refusal.check == "container"


def test_a_person_on_file_under_one_subject_is_not_rebound_by_another(rig: Rig) -> None:
    """A token that names the person explicitly, for another subject, cannot take over a
    person already enrolled under someone's consent."""
    groups = rig.client.large_person_groups
    alice = groups.create_person(GROUP, name="a", consent=container_token("p-alice")).person_id
    takeover = kit.token(subject="p-mallory", bindings=[("largePersonGroup", GROUP, alice)])
    refusal = rig.refused_unsent(lambda: groups.add_face(GROUP, alice, BIDEN, consent=takeover))
    assert refusal.check == "subject"


def test_a_single_use_token_is_spent_by_create_person_and_says_what_to_issue(rig: Rig) -> None:
    groups = rig.client.large_person_groups
    once = container_token(use="once")
    person = groups.create_person(GROUP, name="a", consent=once).person_id
    refusal = rig.refused_unsent(lambda: groups.add_face(GROUP, person, OBAMA, consent=once))
    assert refusal.check == "replay"
    assert "use='session'" in str(refusal)


def test_create_person_with_a_token_without_enroll_is_refused_in_plain_words(rig: Rig) -> None:
    token = kit.ISSUER.issue(
        kit.SUBJECT,
        audience=[kit.AUDIENCE, ENDPOINT],
        operations=["identify"],
        use_case=kit.USE_CASE,
        bindings=[("largePersonGroup", GROUP, None)],
        use="session",
    )
    refusal = rig.refused_unsent(
        lambda: rig.client.large_person_groups.create_person(GROUP, name="a", consent=token)
    )
    assert refusal.check == "operation"
    assert "issue the token with operation 'enroll'" in str(refusal)
    assert "consent.ops" not in str(refusal)


def test_the_async_client_follows_the_same_flow() -> None:
    async def scenario() -> None:
        emulator = Emulator()
        async with AsyncFaceClient(
            ENDPOINT, api_key="k" * 32, transport=emulator.transport(), guard=kit.policy()
        ) as client:
            groups = client.large_person_groups
            await groups.create(GROUP, name=GROUP)
            token = container_token()
            person = (await groups.create_person(GROUP, name="a", consent=token)).person_id
            await groups.add_face(GROUP, person, OBAMA, consent=token)
            stranger = (await groups.create_person(GROUP, name="b")).person_id
            with pytest.raises(ConsentRejectedError):
                await groups.add_face(GROUP, stranger, BIDEN, consent=token)

    asyncio.run(scenario())
