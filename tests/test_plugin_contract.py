"""Contract tests the way pytest users write them: recorded, replayed, re-recorded, run live.

Each test here is a user's project in miniature: ``pytester`` writes a test module and runs it
in a fresh pytest process, with nothing but the installed ``faceguard`` plugin, against a real
``faceguard emulator serve`` (a subprocess on an ephemeral loopback port, with a key it
checks) while recording and against nothing at all while replaying. The user's app function
enrolls a person, trains, identifies and erases the group: a stateful flow with training polls.

Every trap of issue 16 is reproduced here: ``new_episodes`` on a stateful cassette, a failed
recording kept, replay needing an endpoint and key, no live mode, pytest-recording's
``--record-mode`` ignored, a replay that skips recorded calls passing, real sleeps on replay,
unhelpful mismatches with image bytes in the log, re-recording rewriting lines.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from faceguard.testing import check_text, image_placeholder

pytest_plugins = ["pytester"]

FACES = Path(__file__).resolve().parent / "data" / "faces" / "face_recognition"
OBAMA_1 = FACES / "obama" / "obama1.jpg"
OBAMA_2 = FACES / "obama" / "obama2.jpg"
BIDEN = FACES / "biden" / "biden.jpg"
OBAMA_2_DIGEST = image_placeholder(OBAMA_2.read_bytes())  # never the bytes in an assertion
BIDEN_DIGEST = image_placeholder(BIDEN.read_bytes())
KEY = secrets.token_hex(16)  # a real key's shape, made per run: no cassette or log may hold it
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:recording")
WITH_RECORDING = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
ENV_NAMES = (
    "FACEGUARD_ENDPOINT",
    "FACEGUARD_API_KEY",
    "FACEGUARD_CONTENT_SAFETY_ENDPOINT",
    "FACEGUARD_CONTENT_SAFETY_API_KEY",
    "FACEGUARD_RECORD_MODE",
    "FACEGUARD_LIVE",
)


@pytest.fixture(scope="module")
def engine_installed() -> None:
    """The served emulator detects faces in the photos with its OpenCV engine."""
    pytest.importorskip("cv2")


@pytest.fixture(scope="module")
def server(engine_installed: None) -> Iterator[str]:
    """``faceguard emulator serve --port 0 --key KEY``: its URL, for the whole module."""
    process = subprocess.Popen(
        [sys.executable, "-m", "faceguard", "emulator", "serve", "--port", "0", "--key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    url = None
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if found:
            url = found.group()
            break
    if url is None:
        process.kill()
        process.wait()
        process.stdout.close()
        pytest.fail("faceguard emulator serve did not start:\n" + "".join(seen), pytrace=False)
    # Its request log is drained, so that a full pipe never blocks the server.
    drain = threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True)
    drain.start()
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        drain.join(timeout=10)
        process.stdout.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ``FACEGUARD_*`` variable from the developer's shell reaches the user's runs."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


APP_AND_TESTS = """
import os
import time

import pytest

from faceguard import AuthenticationError

OBAMA_1 = {obama_1!r}
OBAMA_2 = {obama_2!r}
BIDEN = {biden!r}
GROUP = "staff"


def enroll_and_identify(client, consent, photo, candidates):
    '''The application: enroll Ada from one photo, identify a probe, erase the group.'''
    client.large_person_groups.create(GROUP, name="Staff")
    person = client.large_person_groups.create_person(GROUP, name="Ada")
    enroll = consent.token("p-ada", ["enroll"], [("largePersonGroup", GROUP, person.person_id)])
    client.large_person_groups.add_face(GROUP, person.person_id, OBAMA_1, consent=enroll)
    client.large_person_groups.train(GROUP).wait(timeout=60)
    kiosk = consent.token("p-kiosk", ["detect_template", "identify"], [("largePersonGroup", GROUP)])
    (face,) = client.detection.detect(photo, return_face_id=True, consent=kiosk)
    (result,) = client.recognition.identify_from_large_person_group(
        [face.face_id], large_person_group_id=GROUP, consent=kiosk,
        max_num_of_candidates_returned=candidates,
    )
    if os.environ.get("SKIP_ERASURE") != "1":
        client.large_person_groups.delete(GROUP)
    return person.person_id, [c.person_id for c in result.candidates]


@pytest.mark.faceguard_cassette(strict=os.environ.get("STRICT", "1") == "1")
def test_contract(recorded_face_client, faceguard_consent, faceguard_backend, faceguard_clock):
    photo = {{"obama": OBAMA_2, "biden": BIDEN}}[os.environ.get("PHOTO", "obama")]
    candidates = int(os.environ.get("CANDIDATES", "1"))
    started = faceguard_clock()
    client = recorded_face_client
    person_id, found = enroll_and_identify(client, faceguard_consent, photo, candidates)
    assert found == [person_id]
    assert faceguard_clock() > started  # the training poll waited (on the clock, on replay)
    print("BACKEND", faceguard_backend.kind, faceguard_backend.endpoint)


@pytest.mark.faceguard_cassette(record_errors=os.environ.get("RECORD_ERRORS") == "1")
def test_wrong_key_is_refused(recorded_face_client):
    with pytest.raises(AuthenticationError):
        recorded_face_client.large_person_groups.get("whatever")
"""

CONFTEST = """
import os
import time


def pytest_configure(config):
    if os.environ.get("FORBID_SLEEP") == "1":
        def no_sleep(seconds):
            raise AssertionError(f"time.sleep({{seconds}}) on replay")
        time.sleep = no_sleep
"""


def user_project(pytester: pytest.Pytester) -> Path:
    """The user's test module and conftest; the path of ``test_contract``'s cassette."""
    photos = {"obama_1": str(OBAMA_1), "obama_2": str(OBAMA_2), "biden": str(BIDEN)}
    pytester.makepyfile(test_app=APP_AND_TESTS.format(**photos))
    pytester.makeconftest(CONFTEST.format())
    return pytester.path / "cassettes" / "test_app" / "test_contract.yaml"


@pytest.fixture(scope="module")
def contract_cassette(server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``test_contract`` recorded once for the tests that only replay it: the cassette's text."""
    project = tmp_path_factory.mktemp("recorded")
    photos = {"obama_1": str(OBAMA_1), "obama_2": str(OBAMA_2), "biden": str(BIDEN)}
    (project / "test_app.py").write_text(APP_AND_TESTS.format(**photos))
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    command = [sys.executable, "-m", "pytest", *QUIET, "-k", "test_contract"]
    result = subprocess.run(
        [*command, "--faceguard-record-mode=all"],
        cwd=project,
        env={**env, **served(server)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return (project / "cassettes" / "test_app" / "test_contract.yaml").read_text()


def recorded_project(pytester: pytest.Pytester, cassette_text: str) -> Path:
    """The user's project with ``test_contract``'s cassette already recorded."""
    cassette = user_project(pytester)
    cassette.parent.mkdir(parents=True)
    cassette.write_text(cassette_text)
    return cassette


def run(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    env: dict[str, str] | None = None,
    plugins: tuple[str, ...] = QUIET,
) -> pytest.RunResult:
    """A fresh pytest over the user's project, with exactly ``env`` added to a clean one."""
    with monkeypatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        return pytester.runpytest_subprocess(*plugins, "-s", *args)


def served(url: str, key: str = KEY) -> dict[str, str]:
    return {"FACEGUARD_ENDPOINT": url, "FACEGUARD_API_KEY": key}


def output(result: pytest.RunResult) -> str:
    return "\n".join(result.outlines + result.errlines)


# -- record, then replay with nothing ---------------------------------------------------------


def test_replay_needs_no_endpoint_key_or_sleep_and_the_cassette_holds_no_secret(
    pytester, clean_env, server
):
    cassette = user_project(pytester)
    recorded = run(
        pytester,
        clean_env,
        "-k",
        "test_contract",
        "--faceguard-record-mode=all",
        env=served(server),
    )
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines([f"*record cassettes (record mode all) from {server}*"])
    text = cassette.read_text()
    assert KEY not in text
    assert check_text(text) == []  # no key, token, image bytes or id in clear
    assert "127.0.0.1" not in text and "resource.faceguard.invalid" in text
    assert '\\"status\\":\\"running\\"' in text or '"status":"running"' in text  # a real poll wait

    # No FACEGUARD_* at all, time.sleep forbidden: the cassette answers, the clock advances.
    replayed = run(pytester, clean_env, "-k", "test_contract", env={"FORBID_SLEEP": "1"})
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(
        [
            "*replay cassettes (record mode none, strict) on https://resource.faceguard.invalid*",
            "*BACKEND replay https://resource.faceguard.invalid",
        ]
    )
    assert cassette.read_text() == text  # replay writes nothing


def test_an_endpoint_in_the_environment_does_not_silently_replay(
    pytester, clean_env, server, contract_cassette
):
    recorded_project(pytester, contract_cassette)
    replayed = run(pytester, clean_env, "-k", "test_contract", env=served(server))
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(
        [f"*FACEGUARD_ENDPOINT={server} is NOT used (--faceguard-live runs against it*"]
    )


LEGACY = """interactions:
- request:
    body: null
    headers: {}
    method: GET
    uri: http://127.0.0.1:1/face/v1.2/largepersongroups/4f1e0f8c-2b7a-4c55-9d57-3f6f0f2f9a11
  response:
    body: {string: ''}
    headers: {}
    status: {code: 200, message: OK}
version: 1
"""


# -- stable cassettes ---------------------------------------------------------------------------


def test_rerecording_an_unchanged_flow_changes_no_line(pytester, clean_env, server):
    cassette = user_project(pytester)
    # A cassette recorded before (an origin and an id in clear): "all" drops it whole, and
    # what it held must not shift the placeholders of the new recording.
    cassette.parent.mkdir(parents=True)
    cassette.write_text(LEGACY)
    args = ("-k", "test_contract", "--faceguard-record-mode=all")
    run(pytester, clean_env, *args, env=served(server)).assert_outcomes(passed=1)
    first = cassette.read_text()
    # Another spelling of the server's origin, new ids from the service, later timestamps.
    other_origin = server.replace("127.0.0.1", "localhost")
    run(pytester, clean_env, *args, env=served(other_origin)).assert_outcomes(passed=1)
    second = cassette.read_text()

    assert second.splitlines() == first.splitlines()
    assert "user-agent" not in first.lower()
    assert "localhost" not in second and "127.0.0.1" not in first
    assert "resource-2" not in first and "00000000-face-4000-8000-000000000001" in first
    entries = yaml.safe_load(first)["interactions"]
    request_headers = {name.lower() for e in entries for name in e["request"]["headers"]}
    assert request_headers == {"content-type"}  # the only request header matching reads


# -- strict replay ------------------------------------------------------------------------------


def test_a_replay_that_skips_a_recorded_call_fails_naming_it(
    pytester, clean_env, contract_cassette
):
    recorded_project(pytester, contract_cassette)

    skipped = run(pytester, clean_env, "-k", "test_contract", env={"SKIP_ERASURE": "1"})
    skipped.assert_outcomes(passed=1, errors=1)  # raised after the teardowns: an error
    skipped.stdout.fnmatch_lines(
        [
            "*UnplayedInteractionsError*1 recorded interaction(s) were not replayed*",
            "  DELETE /face/v1.2/largepersongroups/staff",
        ]
    )
    allowed = run(
        pytester, clean_env, "-k", "test_contract", env={"SKIP_ERASURE": "1", "STRICT": "0"}
    )
    allowed.assert_outcomes(passed=1)


# -- record modes for stateful flows ------------------------------------------------------------


def test_new_episodes_is_refused_on_a_stateful_cassette_with_faceguards_hint(
    pytester, clean_env, server, contract_cassette
):
    cassette = recorded_project(pytester, contract_cassette)
    before = cassette.read_text()

    appended = run(
        pytester,
        clean_env,
        "-k",
        "test_contract",
        "--faceguard-record-mode=new_episodes",
        env={**served(server), "CANDIDATES": "2"},
    )
    appended.assert_outcomes(errors=1)
    appended.stdout.fnmatch_lines(
        ["*RecordModeError: record mode 'new_episodes' would append to*Re-record the whole "
         "cassette with --faceguard-record-mode=all*"]
    )  # fmt: skip
    assert cassette.read_text() == before

    # Replaying the changed flow names the field and gives faceguard's hint, not vcrpy's.
    changed = run(pytester, clean_env, "-k", "test_contract", env={"CANDIDATES": "2"})
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(
        [
            "*CassetteMismatchError: faceguard cassette * cannot answer POST /face/v1.2/identify*",
            "*body_digest differs (sent != recorded):",
            "*maxNumOfCandidatesReturned: 2 != 1",
            "*re-record the whole cassette against a server*--faceguard-record-mode=all*",
        ]
    )
    assert "record_mode='new_episodes'" not in output(changed)
    # ... and re-recording the whole cassette is the way: it replays afterwards.
    run(
        pytester,
        clean_env,
        "-k",
        "test_contract",
        "--faceguard-record-mode=all",
        env={**served(server), "CANDIDATES": "2"},
    ).assert_outcomes(passed=1)
    run(pytester, clean_env, "-k", "test_contract", env={"CANDIDATES": "2"}).assert_outcomes(
        passed=1
    )


# -- recordings that must not be kept -----------------------------------------------------------


def test_a_recording_whose_test_failed_is_not_kept(pytester, clean_env, server):
    cassette = user_project(pytester)
    args = ("-k", "test_contract", "--faceguard-record-mode=all")

    wrong_key = run(pytester, clean_env, *args, env=served(server, key="0" * 32))
    wrong_key.assert_outcomes(failed=1)
    assert not cassette.parent.exists() or list(cassette.parent.iterdir()) == []
    wrong_key.stdout.fnmatch_lines(["*test_contract: recording of * not kept: the test failed*"])

    run(pytester, clean_env, *args, env=served(server)).assert_outcomes(passed=1)
    good = cassette.read_text()
    again = run(pytester, clean_env, *args, env=served(server, key="0" * 32))
    again.assert_outcomes(failed=1)
    assert cassette.read_text() == good  # the good cassette survives a failed re-recording
    run(pytester, clean_env, "-k", "test_contract").assert_outcomes(passed=1)


def test_a_recording_that_captured_a_401_is_not_kept_or_kept_aside(pytester, clean_env, server):
    user_project(pytester)
    cassette = pytester.path / "cassettes" / "test_app" / "test_wrong_key_is_refused.yaml"
    aside = cassette.with_name("test_wrong_key_is_refused.rejected.yaml")
    args = ("-k", "test_wrong_key_is_refused", "--faceguard-record-mode=all")
    wrong = served(server, key="1" * 32)

    dropped = run(pytester, clean_env, *args, env=wrong)
    dropped.assert_outcomes(passed=1)  # the test expected the 401 ...
    assert not cassette.exists() and not aside.exists()  # ... but nothing was written
    dropped.stdout.fnmatch_lines(["*not kept: it captured a 401 for GET /face/v1.2/*"])

    kept_aside = run(pytester, clean_env, *args, "--faceguard-failed-recordings=aside", env=wrong)
    kept_aside.assert_outcomes(passed=1)
    assert not cassette.exists() and aside.is_file()
    assert "1" * 32 not in aside.read_text() and check_text(aside.read_text()) == []
    kept_aside.stdout.fnmatch_lines(["*kept aside as test_wrong_key_is_refused.rejected.yaml*"])

    on_purpose = run(pytester, clean_env, *args, env={**wrong, "RECORD_ERRORS": "1"})
    on_purpose.assert_outcomes(passed=1)
    assert cassette.is_file() and not aside.exists()  # kept; the stale rejected one removed
    run(pytester, clean_env, "-k", "test_wrong_key_is_refused").assert_outcomes(passed=1)


def test_the_ini_option_keeps_failed_recordings_aside(pytester, clean_env, server):
    cassette = user_project(pytester)
    pytester.makeini("[pytest]\nfaceguard_failed_recordings = aside\n")
    result = run(
        pytester,
        clean_env,
        "-k",
        "test_contract",
        "--faceguard-record-mode=all",
        env=served(server, key="2" * 32),
    )
    result.assert_outcomes(failed=1)
    assert not cassette.exists()
    assert cassette.with_name("test_contract.rejected.yaml").is_file()


# -- live mode ----------------------------------------------------------------------------------


@pytest.mark.parametrize("switch", ["option", "environment"])
def test_live_mode_neither_reads_nor_writes_cassettes(pytester, clean_env, server, switch):
    cassette = user_project(pytester)
    cassette.parent.mkdir(parents=True)
    cassette.write_text("not a cassette: live mode must not read it\n")
    args = ("-k", "test_contract")
    env = served(server)
    if switch == "option":
        args += ("--faceguard-live",)
    else:
        env["FACEGUARD_LIVE"] = "1"
    live = run(pytester, clean_env, *args, env=env)
    live.assert_outcomes(passed=1)
    live.stdout.fnmatch_lines(
        [f"*LIVE against {server} (cassettes neither read nor written)*", f"*BACKEND live {server}"]
    )
    assert cassette.read_text() == "not a cassette: live mode must not read it\n"
    assert sorted(p.name for p in cassette.parent.iterdir()) == ["test_contract.yaml"]


def test_live_mode_needs_the_endpoint_and_refuses_to_record(pytester, clean_env, server):
    user_project(pytester)
    missing = run(pytester, clean_env, "-k", "test_contract", "--faceguard-live")
    missing.assert_outcomes(errors=1)
    missing.stdout.fnmatch_lines(["*live mode needs FACEGUARD_ENDPOINT and FACEGUARD_API_KEY*"])
    both = run(
        pytester, clean_env, "--faceguard-live", "--faceguard-record-mode=all", env=served(server)
    )
    assert both.ret == pytest.ExitCode.USAGE_ERROR
    both.stderr.fnmatch_lines(["*live mode (--faceguard-live) neither reads nor writes*"])
    bad_flag = run(pytester, clean_env, env={"FACEGUARD_LIVE": "maybe"})
    assert bad_flag.ret == pytest.ExitCode.USAGE_ERROR


# -- mismatches say what differs, and print no image --------------------------------------------


@pytest.mark.parametrize("tb", ["long", "short", "native"])
def test_a_mismatch_names_the_image_by_digest_and_prints_no_image_bytes(
    pytester, clean_env, contract_cassette, tb
):
    recorded_project(pytester, contract_cassette)
    other = run(
        pytester,
        clean_env,
        "-k",
        "test_contract",
        "-l",
        f"--tb={tb}",
        "-vv",
        env={"PHOTO": "biden"},
    )
    other.assert_outcomes(failed=1)
    text = output(other)
    assert "cannot answer POST /face/v1.2/detect" in text
    assert BIDEN_DIGEST in text
    assert OBAMA_2_DIGEST in text
    assert [f for f in check_text(text) if f.kind in ("image-bytes", "raw-id")] == []
    assert "\\xff\\xd8" not in text and "JFIF" not in text
    assert "test_app.py:" in text  # the user's own line that made the call is shown


# -- the marker, the in-process emulator, pytest-recording --------------------------------------


MARKED = """
import os

import pytest

from faceguard import ContentSafetyClient


def analyse():
    '''Application code that builds its own client from FACEGUARD_ENDPOINT/FACEGUARD_API_KEY.'''
    with ContentSafetyClient() as client:
        client.blocklists.create_or_update("words")
        client.blocklists.add_or_update_items("words", ["exact phrase"])
        result = client.analyze_text(
            "an EXACT PHRASE", blocklist_names=["words"], halt_on_blocklist_hit=True
        )
    return [m.blocklist_item_text for m in result.blocklists_match]


@pytest.mark.faceguard_cassette(name="shared flow", record_mode=os.environ.get("MARK_MODE"))
def test_app_builds_its_own_client():
    assert analyse() == ["exact phrase"]


def test_the_in_process_emulator_is_recorded_too(face_client, faceguard_cassette):
    face_client.person_groups.create("g", name="G")
    assert len(faceguard_cassette) >= 1
"""


def test_the_marker_names_the_cassette_and_replays_app_built_clients(pytester, clean_env, server):
    pytester.makepyfile(test_marked=MARKED)
    cassette = pytester.path / "cassettes" / "test_marked" / "shared-flow.yaml"
    recorded = run(
        pytester, clean_env, "-k", "own_client", env={**served(server), "MARK_MODE": "once"}
    )
    recorded.assert_outcomes(passed=1)
    assert cassette.is_file() and KEY not in cassette.read_text()
    # Replay: no FACEGUARD_* set; the plugin gives the app placeholders while the cassette plays.
    run(pytester, clean_env, "-k", "own_client").assert_outcomes(passed=1)
    # The command line beats the marker: mode none refuses to record the missing cassette.
    cassette.unlink()
    refused = run(
        pytester,
        clean_env,
        "-k",
        "own_client",
        "--faceguard-record-mode=none",
        env={**served(server), "MARK_MODE": "once"},
    )
    refused.assert_outcomes(failed=1)
    refused.stdout.fnmatch_lines(["*The cassette is empty or does not exist: record it*"])


def test_the_in_process_emulator_transport_is_recorded(pytester, clean_env):
    pytester.makepyfile(test_marked=MARKED)
    result = run(pytester, clean_env, "-k", "in_process", "--faceguard-record-mode=all")
    result.assert_outcomes(passed=1)
    cassette = (
        pytester.path
        / "cassettes"
        / "test_marked"
        / "test_the_in_process_emulator_is_recorded_too.yaml"
    )
    assert "/face/v1.2/persongroups/g" in cassette.read_text()


PYTEST_RECORDING = """
import pytest

import faceguard.testing
from faceguard import FaceClient

PHOTO = {photo!r}


@pytest.fixture
def vcr_config():
    return faceguard.testing.vcr_config()


@pytest.mark.vcr
def test_detect():
    with FaceClient() as client:
        assert len(client.detection.detect(PHOTO)) == 1
"""


def test_pytest_recordings_record_mode_is_honoured(pytester, clean_env, server):
    pytest.importorskip("pytest_recording")
    pytester.makepyfile(test_rec=PYTEST_RECORDING.format(photo=str(OBAMA_1)))
    cassette = pytester.path / "cassettes" / "test_rec" / "test_detect.yaml"
    missing = run(pytester, clean_env, env=served(server), plugins=WITH_RECORDING)
    missing.assert_outcomes(failed=1)  # its default, none: nothing recorded
    assert not cassette.exists()

    recorded = run(
        pytester, clean_env, "--record-mode=once", env=served(server), plugins=WITH_RECORDING
    )
    recorded.assert_outcomes(passed=1)  # vcr_config() no longer pins "none" over the option
    assert cassette.is_file() and KEY not in cassette.read_text()
    assert check_text(cassette.read_text()) == []
    replayed = run(pytester, clean_env, env=served(server, key="x" * 8), plugins=WITH_RECORDING)
    replayed.assert_outcomes(passed=1)


def test_a_pytest_recording_mismatch_is_reported_without_image_bytes(pytester, clean_env, server):
    pytest.importorskip("pytest_recording")
    pytester.makepyfile(test_rec=PYTEST_RECORDING.format(photo=str(OBAMA_1)))
    run(pytester, clean_env, "--record-mode=once", env=served(server), plugins=WITH_RECORDING)
    pytester.makepyfile(test_rec=PYTEST_RECORDING.format(photo=str(BIDEN)))
    other = run(pytester, clean_env, "-l", "--tb=long", env=served(server), plugins=WITH_RECORDING)
    other.assert_outcomes(failed=1)
    text = output(other)
    assert "CassetteMismatchError" in text and BIDEN_DIGEST in text
    assert [f for f in check_text(text) if f.kind in ("image-bytes", "raw-id")] == []


ASYNC_TESTS = """
import pytest

PHOTO = {photo!r}


@pytest.mark.faceguard_cassette
async def test_async_contract(async_recorded_face_client, async_recorded_content_safety_client):
    (face,) = await async_recorded_face_client.detection.detect(PHOTO)
    await async_recorded_content_safety_client.blocklists.create_or_update("words")
    items = await async_recorded_content_safety_client.blocklists.add_or_update_items(
        "words", ["alpha"]
    )
    assert face.face_rectangle.width > 0
    assert [item.text for item in items.blocklist_items] == ["alpha"]
"""


def test_the_async_contract_clients_record_and_replay(pytester, clean_env, server):
    pytest.importorskip("pytest_asyncio")
    pytester.makepyfile(test_async=ASYNC_TESTS.format(photo=str(OBAMA_1)))
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    cassette = pytester.path / "cassettes" / "test_async" / "test_async_contract.yaml"
    args = ("-W", "error", "--faceguard-record-mode=all")
    run(pytester, clean_env, *args, env=served(server)).assert_outcomes(passed=1)
    assert KEY not in cassette.read_text() and check_text(cassette.read_text()) == []
    run(pytester, clean_env, "-W", "error").assert_outcomes(passed=1)


# -- the same traps through the older door: faceguard_cassette, the app's own client ----------

OWN_CLIENT = """
import os

from faceguard import FaceClient

PHOTOS = {{"obama": {obama!r}, "obama2": {obama2!r}, "biden": {biden!r}}}


def test_own_client(faceguard_cassette):
    # Application code: its client comes from FACEGUARD_ENDPOINT / FACEGUARD_API_KEY.
    with FaceClient() as client:
        client.detection.detect(PHOTOS[os.environ.get("PHOTO", "obama")])
        if os.environ.get("SKIP") != "1":
            client.detection.detect(PHOTOS["biden"])
"""


def own_client_recorded(pytester: pytest.Pytester, clean_env: pytest.MonkeyPatch, server: str):
    photos = {"obama": str(OBAMA_1), "obama2": str(OBAMA_2), "biden": str(BIDEN)}
    pytester.makepyfile(test_own=OWN_CLIENT.format(**photos))
    recorded = run(pytester, clean_env, env={**served(server), "FACEGUARD_RECORD_MODE": "all"})
    recorded.assert_outcomes(passed=1)


def test_the_apps_own_client_replays_with_no_environment(pytester, clean_env, server):
    own_client_recorded(pytester, clean_env, server)
    run(pytester, clean_env).assert_outcomes(passed=1)


NOWHERE = {"FACEGUARD_ENDPOINT": "http://127.0.0.1:9", "FACEGUARD_API_KEY": "0" * 32}
"""An endpoint where nothing listens, as users set one for replay before: the next two traps
are about the replay itself."""


def test_the_apps_own_client_replay_is_strict(pytester, clean_env, server):
    own_client_recorded(pytester, clean_env, server)
    skipped = run(pytester, clean_env, env={**NOWHERE, "SKIP": "1"})
    skipped.assert_outcomes(passed=1, errors=1)  # raised after the teardowns: an error
    skipped.stdout.fnmatch_lines(["*UnplayedInteractionsError*", "  POST /face/v1.2/detect?*"])


def test_the_apps_own_client_mismatch_names_images_by_digest(pytester, clean_env, server):
    own_client_recorded(pytester, clean_env, server)
    nowhere = NOWHERE
    other = run(pytester, clean_env, "-l", "--tb=long", env={**nowhere, "PHOTO": "obama2"})
    other.assert_outcomes(failed=1)
    text = output(other)
    assert OBAMA_2_DIGEST in text
    assert [f for f in check_text(text) if f.kind in ("image-bytes", "raw-id")] == []


# -- strictness counts what the fixtures' teardowns play ---------------------------------------

CLEANUP = """
import os

import pytest


@pytest.fixture
def group(recorded_face_client):
    recorded_face_client.large_person_groups.create("cleanup", name="Cleanup")
    yield "cleanup"
    recorded_face_client.large_person_groups.delete("cleanup")  # played after the test


@pytest.mark.faceguard_cassette
def test_with_cleanup(recorded_face_client, group):
    if os.environ.get("SKIP_ME") == "1":
        pytest.skip("skipped on this run: its unplayed interactions are no failure")
    assert recorded_face_client.large_person_groups.get(group).name == "Cleanup"
"""


def test_a_fixtures_teardown_calls_count_as_played(pytester, clean_env, server):
    pytester.makepyfile(test_cleanup=CLEANUP)
    recorded = run(pytester, clean_env, "--faceguard-record-mode=all", env=served(server))
    recorded.assert_outcomes(passed=1)
    run(pytester, clean_env).assert_outcomes(passed=1)
    run(pytester, clean_env, env={"SKIP_ME": "1"}).assert_outcomes(skipped=1)
