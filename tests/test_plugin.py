"""faceguard's pytest plugin (``faceguard.testing._plugin``, the ``pytest11`` entry point).

The fixtures are used here as an application's tests would use them: the clients on the
in-process emulator with real photos, the fake clock, the consent fixture's tokens and the
guard they satisfy. ``pytester`` runs a small user test file in a fresh pytest, with nothing
but the installed entry point providing the fixtures (and a cassette recorded and replayed).
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import faceguard.testing._plugin as plugin
from faceguard import (
    ConsentRejectedError,
    ConsentRequiredError,
    ConsentScope,
    FaceIdError,
    UseCase,
    UseCaseError,
)
from faceguard.emulator import ManualClock

pytest_plugins = ["pytester"]

FACES = Path(__file__).parent / "data" / "faces" / "face_recognition"
OBAMA_1 = FACES / "obama" / "obama1.jpg"
OBAMA_2 = FACES / "obama" / "obama2.jpg"
BIDEN = FACES / "biden" / "biden.jpg"
GROUP = "staff"


@pytest.fixture(scope="module")
def engine_installed() -> None:
    """The real photos need the emulator's OpenCV engine (``faceguard[emulator]``)."""
    pytest.importorskip("cv2")


photos = pytest.mark.usefixtures("engine_installed")


# -- registration -----------------------------------------------------------------------------


def test_the_entry_point_registers_the_plugin_as_faceguard(request: pytest.FixtureRequest):
    entry_points = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}

    assert entry_points["faceguard"] == "faceguard.testing._plugin"
    assert request.config.pluginmanager.get_plugin("faceguard") is plugin


def test_loading_the_plugin_imports_nothing_heavy():
    code = (
        "import sys, faceguard.testing._plugin\n"
        "heavy = ('httpx', 'vcr', 'yaml', 'cv2', 'numpy', 'pydantic', 'anyio', 'jwt',\n"
        "         'cryptography', 'faceguard.emulator', 'faceguard._client', 'faceguard._guard')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )

    assert result.stdout.strip() == "[]"


# -- the clients on the emulator --------------------------------------------------------------


@photos
def test_face_client_enrolls_trains_and_identifies_real_photos(
    face_client, faceguard_consent, faceguard_clock: ManualClock
):
    face_client.large_person_groups.create(GROUP, name="Staff")
    person = face_client.large_person_groups.create_person(GROUP, name="Barack")
    enroll = faceguard_consent.token(
        "p-barack", ["enroll"], [("largePersonGroup", GROUP, person.person_id)]
    )
    face_client.large_person_groups.add_face(GROUP, person.person_id, OBAMA_1, consent=enroll)
    before = faceguard_clock()
    trained = face_client.large_person_groups.train(GROUP).wait(timeout=60)
    kiosk = faceguard_consent.token(
        "p-kiosk", ["detect_template", "identify"], [("largePersonGroup", GROUP)]
    )
    (probe,) = face_client.detection.detect(OBAMA_2, return_face_id=True, consent=kiosk)
    (other,) = face_client.detection.detect(BIDEN, return_face_id=True, consent=kiosk)
    results = face_client.recognition.identify_from_large_person_group(
        [probe.face_id, other.face_id], large_person_group_id=GROUP, consent=kiosk
    )

    assert trained.status == "succeeded"
    assert faceguard_clock() > before  # the status polls waited on the fake clock
    assert [[c.person_id for c in result.candidates] for result in results] == [
        [person.person_id],
        [],
    ]


@photos
async def test_async_face_client_verifies_real_photos(async_face_client, faceguard_consent):
    token = faceguard_consent.token("p-barack", ["detect_template", "verify"])
    faces = []
    for photo in (OBAMA_1, OBAMA_2, BIDEN):
        (face,) = await async_face_client.detection.detect(
            photo, return_face_id=True, consent=token
        )
        faces.append(face.face_id)
    same = await async_face_client.recognition.verify_face_to_face(
        faces[0], faces[1], consent=token
    )
    other = await async_face_client.recognition.verify_face_to_face(
        faces[0], faces[2], consent=token
    )

    assert (same.is_identical, other.is_identical) == (True, False)


@photos
def test_the_clock_expires_face_ids_for_the_guard_too(
    face_client, faceguard_consent, faceguard_clock: ManualClock
):
    token = faceguard_consent.token("p-barack", ["detect_template", "verify"])
    (face,) = face_client.detection.detect(
        OBAMA_1, return_face_id=True, face_id_time_to_live=60, consent=token
    )
    faceguard_clock.advance(61)

    with pytest.raises(FaceIdError):
        face_client.recognition.verify_face_to_face(face.face_id, face.face_id, consent=token)


@photos
def test_the_guard_refuses_recognition_without_consent_before_sending(
    face_client, faceguard_emulator, faceguard_consent
):
    token = faceguard_consent.token("p-barack", ["detect_template"])
    (face,) = face_client.detection.detect(OBAMA_1, return_face_id=True, consent=token)
    sent: list[Any] = []
    faceguard_emulator.add_hook(lambda request: sent.append(request))

    with pytest.raises(ConsentRequiredError):
        face_client.recognition.group([face.face_id, face.face_id])
    with pytest.raises(ConsentRejectedError):  # the token does not name "group"
        face_client.recognition.group([face.face_id, face.face_id], consent=token)
    assert sent == []


def test_content_safety_client(content_safety_client, faceguard_emulator):
    content_safety_client.blocklists.create_or_update("words", description="banned words")
    content_safety_client.blocklists.add_or_update_items("words", ["alpha", "beta"])
    faceguard_emulator.content_safety.script_severity("Hate", 2)
    result = content_safety_client.analyze_text(
        "ALPHA and more", categories=["Hate"], blocklist_names=["words"]
    )

    assert [m.blocklist_item_text for m in result.blocklists_match or []] == ["alpha"]
    assert [(c.category, c.severity) for c in result.categories_analysis] == [("Hate", 2)]


async def test_async_content_safety_client(async_content_safety_client):
    await async_content_safety_client.blocklists.create_or_update("words")
    await async_content_safety_client.blocklists.add_or_update_items("words", ["gamma"])
    items = [item.text async for item in async_content_safety_client.blocklists.list_items("words")]

    assert items == ["gamma"]


def test_the_clients_share_one_emulator(face_client, content_safety_client, faceguard_emulator):
    face_client.person_groups.create("group-1", name="One")
    content_safety_client.blocklists.create_or_update("words")

    assert [g.person_group_id for g in face_client.person_groups.list()] == ["group-1"]
    assert list(faceguard_emulator.content_safety.blocklists) == ["words"]


# -- consent and the guard --------------------------------------------------------------------


def test_consent_tokens_verify_with_the_fixture_verifier(faceguard_consent, faceguard_guard):
    token = faceguard_consent.token(
        "p-barack", ["enroll"], [("largePersonGroup", GROUP, None)], use="once"
    )
    scope = ConsentScope("enroll", "largePersonGroup", GROUP)
    where = {"use_case": faceguard_guard.use_case, "endpoint": plugin.ENDPOINT}
    claims = faceguard_consent.verifier.verify(token, scope, **where)

    assert (claims.subject, claims.use, claims.use_case) == (
        "p-barack",
        "once",
        UseCase.DUPLICATE_OR_BLOCKED_USERS,
    )
    assert claims.audience[:3] == (plugin.AUDIENCE, plugin.ENDPOINT, plugin.REPLAY_ENDPOINT)
    with pytest.raises(ConsentRejectedError):  # "once": spent, and the replay store knows it
        faceguard_consent.verifier.verify(token, scope, **where)


def test_the_default_token_covers_what_the_use_case_permits(faceguard_consent, faceguard_guard):
    token = faceguard_consent.token()
    claims = faceguard_consent.verifier.verify(
        token,
        ConsentScope("group"),
        use_case=faceguard_guard.use_case,
        endpoint=plugin.ENDPOINT,
        session=bytes(32),  # a session token binds to the session that first presents it
    )

    assert claims.subject == plugin.SUBJECT
    assert claims.operations == {
        "detect_template",
        "verify",
        "identify",
        "find_similar",
        "group",
        "enroll",
        "liveness_verify",
    }
    assert claims.use == "session"


def test_the_guard_is_wired_to_the_fixtures(
    faceguard_guard, faceguard_consent, faceguard_store, faceguard_clock
):
    assert faceguard_guard.use_case is UseCase.DUPLICATE_OR_BLOCKED_USERS
    assert faceguard_guard.verifier is faceguard_consent.verifier
    assert faceguard_guard.store is faceguard_store
    assert faceguard_guard.clock is faceguard_clock
    assert faceguard_guard.allow_unknown_face_ids is False


class TestAnApplicationsOwnUseCase:
    @pytest.fixture
    def faceguard_use_case(self) -> UseCase:
        return UseCase.IDENTITY_VERIFICATION

    @photos
    def test_the_guard_and_the_tokens_follow_the_override(
        self, face_client, faceguard_guard, faceguard_consent
    ):
        token = faceguard_consent.token("p-barack")
        (face,) = face_client.detection.detect(OBAMA_1, return_face_id=True, consent=token)
        verified = face_client.recognition.verify_face_to_face(
            face.face_id, face.face_id, consent=token
        )

        assert faceguard_guard.use_case is UseCase.IDENTITY_VERIFICATION
        assert verified.is_identical is True
        with pytest.raises(UseCaseError):  # 1:N is outside identity verification
            face_client.recognition.identify_from_large_person_group(
                [face.face_id], large_person_group_id=GROUP, consent=token
            )


# -- cassettes --------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["sync"])
def test_the_cassette_is_named_after_the_module_and_the_test(faceguard_cassette_path, flavour):
    assert faceguard_cassette_path == (
        Path(__file__).parent
        / "cassettes"
        / "test_plugin"
        / "test_the_cassette_is_named_after_the_module_and_the_test-sync.yaml"
    )


def test_cassette_names():
    assert plugin.cassette_name("test_detect[async]") == "test_detect-async"
    assert plugin.cassette_name("test_x[a b/c]") == "test_x-a-b-c"
    assert plugin.cassette_name("test_plain") == "test_plain"


# -- a user's test suite, run by a fresh pytest -------------------------------------------------

USER_TESTS = """
import asyncio
import os
from pathlib import Path

from faceguard import ContentSafetyClient, UseCase


def test_the_fixtures(face_client, async_face_client, content_safety_client,
                      async_content_safety_client, faceguard_consent, faceguard_guard,
                      faceguard_clock):
    face_client.large_person_groups.create("staff", name="Staff")
    content_safety_client.blocklists.create_or_update("words")

    async def main():
        group = await async_face_client.large_person_groups.get("staff")
        blocklist = await async_content_safety_client.blocklists.get("words")
        return group.name, blocklist.blocklist_name

    assert asyncio.run(main()) == ("Staff", "words")
    assert faceguard_guard.use_case is UseCase.DUPLICATE_OR_BLOCKED_USERS
    assert faceguard_consent.token("p-1", ["enroll"]).count(".") == 2
    faceguard_clock.advance(5)


def test_a_cassette(faceguard_cassette, faceguard_cassette_path):
    recording = os.environ.get("FACEGUARD_RECORD_MODE") == "all"
    assert faceguard_cassette_path == (
        Path(__file__).parent / "cassettes" / "test_user_suite" / "test_a_cassette.yaml"
    )
    if recording:
        from faceguard.emulator import Emulator
        from faceguard.emulator._server import running

        with running(Emulator()) as server:
            analysed = analyse(server.url)
    else:
        analysed = analyse("http://127.0.0.1:9")  # nothing listens: the cassette answers
    assert analysed == ["exact phrase"]


def analyse(endpoint):
    with ContentSafetyClient(endpoint, api_key="k" * 32) as client:
        client.blocklists.create_or_update("words")
        client.blocklists.add_or_update_items("words", ["exact phrase"])
        result = client.analyze_text(
            "an EXACT PHRASE", blocklist_names=["words"], halt_on_blocklist_hit=True
        )
    return [match.blocklist_item_text for match in result.blocklists_match]
"""


QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
"""Fresh processes (an in-process pytester run would re-import cryptography and yaml, which
C extensions do not survive); hypothesis' plugin alone would add 0.6 s to each."""


def test_a_user_suite_gets_the_fixtures_from_the_entry_point(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
):
    pytester.makepyfile(test_user_suite=USER_TESTS)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    cassette = pytester.path / "cassettes" / "test_user_suite" / "test_a_cassette.yaml"

    monkeypatch.setenv("FACEGUARD_RECORD_MODE", "all")
    recorded = pytester.runpytest_subprocess(*QUIET)
    recorded.assert_outcomes(passed=2)
    text = cassette.read_text()
    monkeypatch.delenv("FACEGUARD_RECORD_MODE")
    replayed = pytester.runpytest_subprocess(*QUIET)
    replayed.assert_outcomes(passed=2)
    without_plugin = pytester.runpytest_subprocess(*QUIET, "-p", "no:faceguard")
    without_plugin.assert_outcomes(errors=2)

    assert "k" * 32 not in text  # the key was scrubbed
    assert text.count("uri:") == 3
    without_plugin.stdout.fnmatch_lines(["*fixture 'face_client' not found*"])
