"""Scripted faults and the TPS limit of the emulator, met by the real clients' retry logic.

The clients' ``sleep=`` hook records the waits (nothing really sleeps); the emulator runs on a
``ManualClock``, whose ``advance`` is also the emulator's delay hook.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from _guard_kit import policy
from faceguard import (
    APIConnectionError,
    AsyncFaceClient,
    ContentSafetyClient,
    FaceClient,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
)
from faceguard.emulator import Emulator, ManualClock

ENDPOINT = "http://127.0.0.1:5000"
DEVICE = "0f7b2a5e-3c1d-4e8f-9a6b-2d4c8e1f3a5b"
EXACT = RetryPolicy(jitter=0.0)
SESSIONS = "/detectLiveness-sessions"
SESSION = "/detectLiveness-sessions/{sessionId}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=time.time())


@pytest.fixture
def emulator(clock: ManualClock) -> Emulator:
    return Emulator(clock=clock)


class Rig:
    """A sync or async Face client on the emulator, recording its retry waits and requests."""

    def __init__(self, mode: str, emulator: Emulator, clock: ManualClock) -> None:
        self.mode = mode
        self.emulator = emulator
        self.clock = clock
        self.waits: list[float] = []
        self.requests: list[tuple[str, str]] = []

    def _transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            self.requests.append((request.method, request.url.path))
            return self.emulator.handle(request)

        return httpx.MockTransport(handler)

    def run(self, operation: Callable[[Any], Any], *, retry: RetryPolicy = EXACT) -> Any:
        if self.mode == "sync":
            with FaceClient(
                ENDPOINT,
                api_key="k",
                transport=self._transport(),
                guard=policy(clock=self.clock),
                retry=retry,
                sleep=self.waits.append,
            ) as client:
                return operation(client)

        async def sleep(seconds: float) -> None:
            self.waits.append(seconds)

        async def main() -> Any:
            async with AsyncFaceClient(
                ENDPOINT,
                api_key="k",
                transport=self._transport(),
                guard=policy(clock=self.clock),
                retry=retry,
                sleep=sleep,
            ) as client:
                return await operation(client)

        return asyncio.run(main())


@pytest.fixture(params=["sync", "async"])
def rig(request: pytest.FixtureRequest, emulator: Emulator, clock: ManualClock) -> Rig:
    return Rig(str(request.param), emulator, clock)


def create(client: Any) -> Any:
    return client.liveness.create_session(
        liveness_operation_mode="Passive", device_correlation_id=DEVICE
    )


def new_session(emulator: Emulator) -> str:
    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as raw:
        response = raw.post(
            "/face/v1.2" + SESSIONS,
            json={"livenessOperationMode": "Passive", "deviceCorrelationId": DEVICE},
            headers={"Ocp-Apim-Subscription-Key": "k"},
        )
    assert response.status_code == 200
    return str(response.json()["sessionId"])


# -- 429 and Retry-After ----------------------------------------------------------------------


def test_the_client_waits_the_scripted_retry_after_then_succeeds(
    rig: Rig, emulator: Emulator
) -> None:
    session_id = new_session(emulator)
    rule = emulator.faults.add(SESSION, status=429, retry_after=2, times=1)

    result = rig.run(lambda c: c.liveness.get_session_result(session_id))

    assert result.session_id == session_id
    assert rig.waits == [2.0]
    assert len(rig.requests) == 2
    assert (rule.hits, rule.remaining) == (1, 0)


def test_a_throttled_create_is_resent_once_and_creates_one_session(
    rig: Rig, emulator: Emulator
) -> None:
    emulator.faults.add(SESSIONS, status=429, retry_after=1, method="POST")

    session = rig.run(create)

    assert rig.waits == [1.0]
    assert list(emulator.liveness.sessions) == [session.session_id]


def test_a_retry_after_beyond_the_cap_fails_at_once(rig: Rig, emulator: Emulator) -> None:
    session_id = new_session(emulator)
    emulator.faults.add(SESSION, status=429, retry_after=120)

    with pytest.raises(RateLimitError) as throttled:
        rig.run(lambda c: c.liveness.get_session_result(session_id))

    assert throttled.value.retry_after == 120.0
    assert throttled.value.error_code == "429"
    assert rig.waits == []


def test_the_429_body_is_the_face_services(emulator: Emulator) -> None:
    emulator.faults.add("*", status=429, retry_after=3)

    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as raw:
        response = raw.get("/face/v1.2/persongroups", headers={"Ocp-Apim-Subscription-Key": "k"})

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.json() == {"error": {"code": "429", "message": "Rate limit is exceeded."}}
    assert response.headers["x-ms-error-code"] == "429"
    assert response.headers["apim-request-id"]


def test_content_safety_throttling_uses_its_own_code(emulator: Emulator) -> None:
    emulator.faults.add("/text/blocklists", status=429, retry_after=1, times=None)

    with (
        ContentSafetyClient(
            ENDPOINT, api_key="k", transport=emulator.transport(), retry=RetryPolicy(max_attempts=1)
        ) as client,
        pytest.raises(RateLimitError) as throttled,
    ):
        list(client.blocklists.list())

    assert throttled.value.error_code == "TooManyRequests"
    assert throttled.value.retry_after == 1.0


# -- 5xx --------------------------------------------------------------------------------------


def test_a_500_on_a_read_is_retried_with_backoff(rig: Rig, emulator: Emulator) -> None:
    session_id = new_session(emulator)
    emulator.faults.add(SESSION, status=500, times=2)

    result = rig.run(lambda c: c.liveness.get_session_result(session_id))

    assert result.session_id == session_id
    assert rig.waits == [EXACT.backoff_base, EXACT.backoff_base * 2]


def test_a_503_on_a_create_is_not_retried(rig: Rig, emulator: Emulator) -> None:
    emulator.faults.add(SESSIONS, status=503, times=None)

    with pytest.raises(Exception) as failed:  # ServiceUnavailable: a 5xx status error
        rig.run(create)

    assert getattr(failed.value, "status_code", None) == 503
    assert getattr(failed.value, "error_code", None) == "ServiceUnavailable"
    assert rig.waits == []
    assert len(rig.requests) == 1
    assert emulator.liveness.sessions == {}


def test_a_persistent_fault_stays_until_cleared(rig: Rig, emulator: Emulator) -> None:
    session_id = new_session(emulator)
    emulator.faults.add(SESSION, status=500, times=None)

    with pytest.raises(InternalServerError):
        rig.run(
            lambda c: c.liveness.get_session_result(session_id),
            retry=RetryPolicy(max_attempts=2, jitter=0.0),
        )
    emulator.faults.clear()

    assert rig.run(lambda c: c.liveness.get_session_result(session_id)).session_id == session_id


# -- dropped connections ----------------------------------------------------------------------


def test_a_dropped_create_is_not_retried(rig: Rig, emulator: Emulator) -> None:
    emulator.faults.add(SESSIONS, drop=True)

    with pytest.raises(APIConnectionError) as dropped:
        rig.run(create)

    assert dropped.value.request_sent is True
    assert rig.waits == []
    assert len(rig.requests) == 1
    # The service applied it before the connection dropped: a resend would make a second one.
    assert len(emulator.liveness.sessions) == 1


def test_a_connect_failure_on_a_create_is_retried(rig: Rig, emulator: Emulator) -> None:
    emulator.faults.add(SESSIONS, drop="connect")

    session = rig.run(create)

    assert len(rig.requests) == 2
    assert rig.waits == [EXACT.backoff_base]
    assert list(emulator.liveness.sessions) == [session.session_id]


def test_a_dropped_read_is_retried(rig: Rig, emulator: Emulator) -> None:
    session_id = new_session(emulator)
    emulator.faults.add(SESSION, drop=True)

    assert rig.run(lambda c: c.liveness.get_session_result(session_id)).session_id == session_id
    assert len(rig.requests) == 2


def test_a_drop_in_transport_mode_raises_the_httpx_errors(emulator: Emulator) -> None:
    emulator.faults.add(SESSIONS, drop=True)
    emulator.faults.add(SESSIONS, drop="connect")
    body = {"livenessOperationMode": "Passive", "deviceCorrelationId": DEVICE}

    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as raw:
        with pytest.raises(httpx.RemoteProtocolError):
            raw.post("/face/v1.2" + SESSIONS, json=body, headers={"Ocp-Apim-Subscription-Key": "k"})
        with pytest.raises(httpx.ConnectError):
            raw.post("/face/v1.2" + SESSIONS, json=body, headers={"Ocp-Apim-Subscription-Key": "k"})


# -- delays -----------------------------------------------------------------------------------


def test_a_delay_waits_on_the_emulators_clock(
    rig: Rig, emulator: Emulator, clock: ManualClock
) -> None:
    session_id = new_session(emulator)
    before = clock()
    emulator.faults.add(SESSION, delay=7.5)

    result = rig.run(lambda c: c.liveness.get_session_result(session_id))

    assert result.session_id == session_id
    assert clock() - before == 7.5
    assert rig.waits == []


def test_a_delay_can_use_an_injected_sleep_hook(emulator: Emulator) -> None:
    slept: list[float] = []
    emulator.faults.sleep = slept.append
    emulator.faults.add("*", delay=0.25, status=503)

    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as raw:
        response = raw.get("/face/v1.2/persongroups", headers={"Ocp-Apim-Subscription-Key": "k"})

    assert slept == [0.25]
    assert response.status_code == 503


# -- TPS limit --------------------------------------------------------------------------------


def test_the_tps_limit_answers_429_with_retry_after(
    rig: Rig, emulator: Emulator, clock: ManualClock
) -> None:
    session_id = new_session(emulator)
    emulator.faults.set_tps_limit(2)
    once = RetryPolicy(max_attempts=1)

    def read(client: Any) -> Any:
        return client.liveness.get_session_result(session_id)

    rig.run(read, retry=once)
    rig.run(read, retry=once)
    with pytest.raises(RateLimitError) as throttled:
        rig.run(read, retry=once)

    assert throttled.value.retry_after == 1.0
    assert throttled.value.error_code == "429"
    assert "Try again in 1 seconds" in str(throttled.value)
    assert emulator.faults.throttled == 1
    clock.advance(1.0)
    assert rig.run(read, retry=once).session_id == session_id


def test_a_throttled_client_waits_and_gets_through(emulator: Emulator, clock: ManualClock) -> None:
    session_id = new_session(emulator)
    emulator.faults.set_tps_limit(1)
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the client's wait moves the emulator's clock
        waits.append(seconds)
        clock.advance(seconds)

    with FaceClient(
        ENDPOINT,
        api_key="k",
        transport=emulator.transport(),
        guard=policy(clock=clock),
        retry=EXACT,
        sleep=sleep,
    ) as client:
        results = [client.liveness.get_session_result(session_id) for _ in range(3)]

    assert [r.session_id for r in results] == [session_id] * 3
    assert waits == [1.0, 1.0]


def test_the_tps_limit_can_cover_some_routes_only(emulator: Emulator) -> None:
    emulator.faults.set_tps_limit(1, routes=[SESSIONS])
    headers = {"Ocp-Apim-Subscription-Key": "k"}
    body = {"livenessOperationMode": "Passive", "deviceCorrelationId": DEVICE}

    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as raw:
        statuses = [
            raw.post("/face/v1.2" + SESSIONS, json=body, headers=headers).status_code
            for _ in range(2)
        ]
        other = [raw.get("/face/v1.2/persongroups", headers=headers).status_code for _ in range(3)]

    assert statuses == [200, 429]
    assert other == [200, 200, 200]


# -- what faults leave alone ------------------------------------------------------------------


def test_control_routes_are_never_faulted(emulator: Emulator) -> None:
    emulator.faults.add("*", status=500, times=None)
    emulator.faults.set_tps_limit(1)

    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as raw:
        statuses = [
            raw.post("/_emulator/content-safety/severities", json={"Hate": 1}).status_code
            for _ in range(3)
        ]

    assert statuses == [204, 204, 204]


def test_a_fault_script_is_checked(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="needs status"):
        emulator.faults.add(SESSIONS)
    with pytest.raises(ValueError, match="no status"):
        emulator.faults.add(SESSIONS, status=500, drop=True)
    with pytest.raises(ValueError, match="error status"):
        emulator.faults.add(SESSIONS, status=200)
    with pytest.raises(ValueError, match="times"):
        emulator.faults.add(SESSIONS, status=500, times=0)
    with pytest.raises(ValueError, match="tps"):
        emulator.faults.set_tps_limit(0)


def test_a_fault_matches_its_method_and_route_only(emulator: Emulator) -> None:
    session_id = new_session(emulator)
    rule = emulator.faults.add(SESSION, status=500, method="DELETE")
    headers = {"Ocp-Apim-Subscription-Key": "k"}

    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as raw:
        read = raw.get(f"/face/v1.2/detectLiveness-sessions/{session_id}", headers=headers)
        listed = raw.get("/face/v1.2/persongroups", headers=headers)
        deleted = raw.delete(f"/face/v1.2/detectLiveness-sessions/{session_id}", headers=headers)

    assert (read.status_code, listed.status_code, deleted.status_code) == (200, 200, 500)
    assert rule.hits == 1
