"""The emulator over real HTTP on loopback: the real clients talk to ``http://127.0.0.1:<port>``.

Servers run in a background thread on a free port (``faceguard.emulator._server.running``);
one test starts ``faceguard emulator serve`` as a subprocess. The only waits are the short
loopback polls for a server to come up.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _guard_kit import ENDPOINTS, policy, token
from _samples import FACE_LIST_ID, LARGE_FACE_LIST_ID
from faceguard import (
    APIConnectionError,
    AsyncFaceClient,
    AuthenticationError,
    ContentSafetyClient,
    FaceClient,
    RetryPolicy,
)
from faceguard.emulator import Emulator
from faceguard.emulator._server import EmulatorServer, is_loopback, running

FACES = Path(__file__).parent / "data" / "faces" / "face_recognition"
OBAMA_1 = (FACES / "obama" / "obama1.jpg").read_bytes()
OBAMA_2 = (FACES / "obama" / "obama2.jpg").read_bytes()
DEVICE = "0f7b2a5e-3c1d-4e8f-9a6b-2d4c8e1f3a5b"


@pytest.fixture(scope="module")
def engine() -> Any:
    pytest.importorskip("cv2")
    from faceguard.emulator._engine import OpenCVEngine

    return OpenCVEngine()


@pytest.fixture
def server(engine: Any) -> Iterator[EmulatorServer]:
    with running(Emulator(engine=engine)) as started:
        yield started


def face_client(url: str, key: str = "any-key", **kwargs: Any) -> FaceClient:
    return FaceClient(url, api_key=key, guard=policy(), **kwargs)


def consent(url: str) -> str:
    """The kit's standing token, also naming this server (a free port, so not among the kit's
    ``ENDPOINTS``): ``aud`` must name the Face resource the token is used on."""
    return token(endpoints=[*ENDPOINTS, url])


def create(client: Any) -> Any:
    return client.liveness.create_session(
        liveness_operation_mode="Passive", device_correlation_id=DEVICE
    )


# -- serving ----------------------------------------------------------------------------------


def test_the_server_answers_on_a_loopback_url(server: EmulatorServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
    assert server.port != 0


def test_a_liveness_flow_over_http(server: EmulatorServer) -> None:
    with face_client(server.url) as client:
        session = client.liveness.create_with_verify_session(
            verify_image=OBAMA_1,
            liveness_operation_mode="Passive",
            device_correlation_id=DEVICE,
            consent=consent(server.url),
        )
        scripted = httpx.post(
            f"{server.url}/_emulator/liveness/sessions/{session.session_id}/attempts",
            json={"decision": "realface", "matchConfidence": 0.83, "faceRectangle": {
                "left": 1, "top": 2, "width": 30, "height": 40}},
        )  # fmt: skip
        result = client.liveness.get_with_verify_session_result(session.session_id)
        client.liveness.delete_with_verify_session(session.session_id)

    assert scripted.status_code == 200
    attempt = result.results.attempts[0].result
    assert attempt.liveness_decision == "realface"
    assert (attempt.verify_result.match_confidence, attempt.verify_result.is_identical) == (
        0.83,
        True,
    )
    assert result.support_info()["request_id"]  # the apim-request-id header crossed the wire


def test_the_async_client_works_over_http(server: EmulatorServer) -> None:
    async def main() -> Any:
        async with AsyncFaceClient(server.url, api_key="k", guard=policy()) as client:
            session = await create(client)
            return await client.liveness.get_session_result(session.session_id)

    assert asyncio.run(main()).status == "NotStarted"


def test_content_safety_over_http(server: EmulatorServer) -> None:
    server.emulator.content_safety.default_page_size = 1
    with ContentSafetyClient(server.url, api_key="k") as client:
        created = client.blocklists.create_or_update("words", description="d")
        client.blocklists.add_or_update_items("words", ["alpha", "beta", "gamma"])
        items = [i.text for i in client.blocklists.list_items("words")]
        result = client.analyze_text(
            "ALPHA!", blocklist_names=["words"], halt_on_blocklist_hit=True
        )

    assert created.support_info()["status_code"] == 201
    assert items == ["alpha", "beta", "gamma"]  # three pages, by nextLink
    assert [m.blocklist_item_text for m in result.blocklists_match or []] == ["alpha"]


# -- keys -------------------------------------------------------------------------------------


def test_any_key_is_accepted_but_none_is_refused(server: EmulatorServer) -> None:
    with face_client(server.url, key="whatever") as client:
        assert create(client).status == "NotStarted"
    missing = httpx.get(f"{server.url}/face/v1.2/persongroups")

    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "401"


def test_with_a_key_a_wrong_key_gets_401_in_the_services_shape(engine: Any) -> None:
    with running(Emulator(engine=engine), key="the-right-key") as server:
        with (
            face_client(server.url, key="the-wrong-key") as client,
            pytest.raises(AuthenticationError) as refused,
        ):
            create(client)
        with face_client(server.url, key="the-right-key") as client:
            session = create(client)
        control = httpx.post(
            f"{server.url}/_emulator/liveness/sessions/{session.session_id}/attempts",
            json={"decision": "realface"},
            headers={"Ocp-Apim-Subscription-Key": "the-wrong-key"},
        )

    assert refused.value.status_code == 401
    assert refused.value.error_code == "401"
    assert "Access denied due to invalid subscription key" in str(refused.value)
    assert set(refused.value.body["error"]) == {"code", "message"}
    assert control.status_code == 401


# -- loopback only ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.8.7", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_only_loopback_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_non_loopback_host_is_refused_unless_allowed() -> None:
    with pytest.raises(ValueError, match="allow-remote"):
        EmulatorServer(Emulator(), host="0.0.0.0", port=0)

    allowed = EmulatorServer(Emulator(), host="0.0.0.0", port=0, allow_remote=True)
    allowed.shutdown()


# -- faults over a socket ---------------------------------------------------------------------


def test_a_dropped_connection_closes_the_socket_and_a_create_is_not_retried(
    server: EmulatorServer,
) -> None:
    server.emulator.faults.add("/detectLiveness-sessions", drop=True)
    waits: list[float] = []

    with (
        face_client(server.url, sleep=waits.append) as client,
        pytest.raises(APIConnectionError) as dropped,
    ):
        create(client)

    assert dropped.value.request_sent is True
    assert waits == []
    assert len(server.emulator.liveness.sessions) == 1  # applied once, never resent


def test_a_throttle_over_http_carries_retry_after(server: EmulatorServer) -> None:
    server.emulator.faults.add("/detectLiveness-sessions", status=429, retry_after=2)
    waits: list[float] = []

    with face_client(server.url, sleep=waits.append, retry=RetryPolicy(jitter=0.0)) as client:
        session = create(client)

    assert waits == [2.0]
    assert list(server.emulator.liveness.sessions) == [session.session_id]


# -- state across restarts --------------------------------------------------------------------


def test_the_state_survives_a_restart_with_a_state_dir(tmp_path: Path, engine: Any) -> None:
    state_dir = tmp_path / "state"
    with running(Emulator(engine=engine, training_delay=0), state_dir=state_dir) as server:
        with face_client(server.url) as client:
            client.face_lists.create(FACE_LIST_ID, name="Staff")
            standing = consent(server.url)
            added = client.face_lists.add_face(FACE_LIST_ID, OBAMA_1, consent=standing)
            client.large_face_lists.create(LARGE_FACE_LIST_ID, name="Large")
            client.large_face_lists.add_face(LARGE_FACE_LIST_ID, OBAMA_2, consent=standing)
            trained = client.large_face_lists.train(LARGE_FACE_LIST_ID).wait()
            client.person_groups.create("group-1", name="Group")
            person = client.person_groups.create_person("group-1", name="Someone")
            session = create(client)
        server.emulator.liveness.script_attempt(
            session.session_id, decision="spoofface", face_rectangle=(3, 4, 50, 60)
        )
        with ContentSafetyClient(server.url, api_key="k") as safety:
            safety.blocklists.create_or_update("words", description="kept")
            items = safety.blocklists.add_or_update_items("words", ["alpha"])

    with running(Emulator(engine=engine), state_dir=state_dir) as restarted:
        with face_client(restarted.url) as client:
            face_list = client.face_lists.get(FACE_LIST_ID)
            got_person = client.person_groups.get_person("group-1", person.person_id)
            result = client.liveness.get_session_result(session.session_id)
            training = client.large_face_lists.get_training_status(LARGE_FACE_LIST_ID)
        with ContentSafetyClient(restarted.url, api_key="k") as safety:
            blocklist = safety.blocklists.get("words")
            item = safety.blocklists.get_item("words", items.blocklist_items[0].blocklist_item_id)
        stored = restarted.emulator.store.state.containers["faceList"][FACE_LIST_ID]

    assert [f.persisted_face_id for f in face_list.persisted_faces or []] == [
        added.persisted_face_id
    ]
    assert len(stored.faces[added.persisted_face_id].embedding) == 128 * 4
    assert trained.status == "succeeded"
    assert training.status == "succeeded"
    assert training.last_successful_training_date_time == trained.last_successful_training_date_time
    snapshot = restarted.emulator.store.state.containers["largeFaceList"][LARGE_FACE_LIST_ID]
    assert snapshot.training is not None and snapshot.training.snapshot is not None
    assert got_person.name == "Someone"
    assert result.auth_token == session.auth_token
    assert result.results.attempts[0].result.liveness_decision == "spoofface"
    assert blocklist.description == "kept"
    assert item.text == "alpha"


def test_the_state_file_holds_embeddings_never_images(tmp_path: Path, engine: Any) -> None:
    with (
        running(Emulator(engine=engine), state_dir=tmp_path) as server,
        face_client(server.url) as client,
    ):
        client.face_lists.create(FACE_LIST_ID, name="Staff")
        client.face_lists.add_face(FACE_LIST_ID, OBAMA_1, consent=consent(server.url))
        client.liveness.create_with_verify_session(
            verify_image=OBAMA_2,
            liveness_operation_mode="Passive",
            device_correlation_id=DEVICE,
            consent=consent(server.url),
        )

    [database] = tmp_path.glob("*.sqlite3")
    with sqlite3.connect(database) as db:
        rows = [data for table in ("containers", "liveness_sessions")
                for (data,) in db.execute(f"SELECT data FROM {table}")]  # fmt: skip
    everything = database.read_bytes() + "".join(rows).encode()
    assert len(rows) == 2
    for image in (OBAMA_1, OBAMA_2):
        assert image[:64] not in everything
        assert base64.b64encode(image[:300])[:100] not in everything


# -- the command line -------------------------------------------------------------------------


def _read_url(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        found = re.search(r"serving on (http://\S+?)[; ]", line)
        if found:
            return found.group(1)
        if not line and process.poll() is not None:
            break
    raise AssertionError("the emulator did not start")


def _serve(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "faceguard", "emulator", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=20)
    finally:
        if process.stderr is not None:
            process.stderr.close()
    return code


@pytest.mark.skipif(os.name != "posix", reason="stops the server with SIGINT")
def test_the_cli_serves_with_a_key_and_keeps_state(tmp_path: Path) -> None:
    process = _serve("--key", "cli-key", "--state-dir", str(tmp_path))
    try:
        url = _read_url(process)
        with ContentSafetyClient(url, api_key="cli-key") as client:
            client.blocklists.create_or_update("cli-list")
        with (
            ContentSafetyClient(url, api_key="wrong") as client,
            pytest.raises(AuthenticationError),
        ):
            client.blocklists.get("cli-list")
    finally:
        assert _stop(process) == 0

    again = _serve("--key", "cli-key", "--state-dir", str(tmp_path))
    try:
        with ContentSafetyClient(_read_url(again), api_key="cli-key") as client:
            assert client.blocklists.get("cli-list").blocklist_name == "cli-list"
    finally:
        assert _stop(again) == 0


def test_the_cli_refuses_a_remote_host(capsys: pytest.CaptureFixture[str]) -> None:
    from faceguard.__main__ import main

    assert main(["emulator", "serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
