"""Training long-running operations: the 202 POST, then polling ``/training``.

Time is fake throughout: the clients get a recording ``sleep`` that advances a fake ``clock``,
so intervals and timeouts are checked exactly and nothing really sleeps.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from faceguard import (
    AsyncFaceClient,
    AsyncTrainingPoller,
    FaceClient,
    InternalServerError,
    PollingTimeoutError,
    TrainingFailedError,
    TrainingPoller,
)
from faceguard.models import TrainingResult

ENDPOINT = "https://unit-test.cognitiveservices.azure.com"
CREATED = "2025-01-01T00:00:00Z"

# group attribute on the client -> (container id, route prefix)
KINDS = {
    "person_groups": ("group-1", "/face/v1.2/persongroups/group-1"),
    "large_person_groups": ("group-1", "/face/v1.2/largepersongroups/group-1"),
    "large_face_lists": ("list-1", "/face/v1.2/largefacelists/list-1"),
}


class FakeTime:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


class TrainingService:
    """Answers the train POST with ``train_status`` and each status GET with the next script
    entry: ``("running", {"Retry-After": "5"})``, ``("failed", {})`` or ``(503, {})``."""

    def __init__(
        self,
        prefix: str,
        script: list[tuple[str | int, dict[str, str]]],
        *,
        train_status: int = 202,
        message: str | None = None,
        repeat_last: bool = False,
    ) -> None:
        self.prefix = prefix
        self.script = list(script)
        self.train_status = train_status
        self.message = message
        self.repeat_last = repeat_last
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST":
            assert request.url.path == self.prefix + "/train"
            if self.train_status >= 400:
                error = {"error": {"code": "InternalError", "message": "boom"}}
                return httpx.Response(self.train_status, json=error)
            return httpx.Response(self.train_status)
        assert request.method == "GET"
        assert request.url.path == self.prefix + "/training"
        entry = self.script[0] if self.repeat_last and len(self.script) == 1 else None
        status, headers = entry or self.script.pop(0)
        if isinstance(status, int):
            error = {"error": {"code": "ServiceUnavailable", "message": "later"}}
            return httpx.Response(status, json=error, headers=headers)
        body: dict[str, Any] = {"status": status, "createdDateTime": CREATED}
        if status == "failed" and self.message is not None:
            body["message"] = self.message
        return httpx.Response(200, json=body, headers=headers)

    @property
    def polls(self) -> int:
        return sum(1 for r in self.requests if r.method == "GET")

    @property
    def methods(self) -> list[str]:
        return [r.method for r in self.requests]


def sync_client(service: TrainingService, fake: FakeTime) -> FaceClient:
    return FaceClient(
        ENDPOINT,
        api_key="k",
        transport=httpx.MockTransport(service),
        sleep=fake.sleep,
        clock=fake.clock,
    )


def async_client(service: TrainingService, fake: FakeTime) -> AsyncFaceClient:
    return AsyncFaceClient(
        ENDPOINT,
        api_key="k",
        transport=httpx.MockTransport(service),
        sleep=fake.async_sleep,
        clock=fake.clock,
    )


SUCCESS_SCRIPT: list[tuple[str | int, dict[str, str]]] = [
    ("notStarted", {"Retry-After": "5"}),
    ("running", {}),  # no Retry-After: fall back to 1 s
    ("running", {"Retry-After": "2.5"}),
    ("succeeded", {}),
]


@pytest.fixture(params=sorted(KINDS))
def kind(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    container_id, prefix = KINDS[request.param]
    return request.param, container_id, prefix


# =============================================================================================
# sync
# =============================================================================================


def test_train_then_wait_polls_until_succeeded(kind):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(prefix, SUCCESS_SCRIPT)
    seen: list[str] = []
    with sync_client(service, fake) as client:
        poller = getattr(client, group).train(container_id)
        assert isinstance(poller, TrainingPoller)
        assert service.methods == ["POST"]  # train() only starts the operation
        result = poller.wait(progress=lambda status: seen.append(status.status))
    assert isinstance(result, TrainingResult)
    assert result.status == "succeeded"
    assert service.methods == ["POST", "GET", "GET", "GET", "GET"]
    assert fake.sleeps == [5.0, 1.0, 2.5]  # Retry-After, fallback, Retry-After
    assert seen == ["notStarted", "running", "running", "succeeded"]


def test_wait_returns_at_once_when_already_succeeded(kind):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(prefix, [("succeeded", {"Retry-After": "9"})])
    with sync_client(service, fake) as client:
        result = getattr(client, group).train(container_id).wait()
    assert result.status == "succeeded"
    assert fake.sleeps == []
    assert service.polls == 1


def test_failed_training_raises_with_the_service_message(kind):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(
        prefix,
        [("running", {"Retry-After": "3"}), ("failed", {})],
        message="There is no face in the person group.",
    )
    seen: list[str] = []
    with sync_client(service, fake) as client:
        poller = getattr(client, group).train(container_id)
        with pytest.raises(TrainingFailedError) as info:
            poller.wait(progress=lambda status: seen.append(status.status))
    assert info.value.message == "There is no face in the person group."
    assert "There is no face in the person group." in str(info.value)
    assert info.value.route.endswith("/train")
    assert seen == ["running", "failed"]
    assert fake.sleeps == [3.0]


def test_timeout_raises_with_the_last_status(kind):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(prefix, [("running", {"Retry-After": "2"})], repeat_last=True)
    with sync_client(service, fake) as client:
        poller = getattr(client, group).train(container_id)
        with pytest.raises(PollingTimeoutError) as info:
            poller.wait(timeout=5)
    assert info.value.last_status == "running"
    assert info.value.timeout == 5
    assert "running" in str(info.value)
    assert "TrainingStatus" not in str(info.value)
    # Polls at t=0, 2, 4 and 5: the last sleep is cut to what is left, never past the timeout.
    assert fake.sleeps == [2.0, 2.0, 1.0]
    assert service.polls == 4


def test_timeout_with_not_started_status(kind):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(prefix, [("notStarted", {})], repeat_last=True)
    with sync_client(service, fake) as client, pytest.raises(PollingTimeoutError) as info:
        getattr(client, group).train(container_id).wait(timeout=2.5)
    assert info.value.last_status == "notStarted"
    assert fake.sleeps == [1.0, 1.0, 0.5]


def test_explicit_interval_overrides_retry_after():
    fake = FakeTime()
    service = TrainingService(
        KINDS["person_groups"][1],
        [("running", {"Retry-After": "10"}), ("running", {}), ("succeeded", {})],
    )
    with sync_client(service, fake) as client:
        client.person_groups.train("group-1").wait(interval=0.25)
    assert fake.sleeps == [0.25, 0.25]


def test_long_retry_after_is_capped():
    fake = FakeTime()
    service = TrainingService(
        KINDS["person_groups"][1], [("running", {"Retry-After": "3600"}), ("succeeded", {})]
    )
    with sync_client(service, fake) as client:
        client.person_groups.train("group-1").wait()
    assert fake.sleeps == [30.0]


def test_status_polls_exactly_once(kind):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(prefix, [("running", {"Retry-After": "4"})])
    with sync_client(service, fake) as client:
        result = getattr(client, group).train(container_id).status()
    assert isinstance(result, TrainingResult)
    assert result.status == "running"
    assert service.methods == ["POST", "GET"]
    assert fake.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_on_the_train_post_is_not_retried(kind, status):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(prefix, [], train_status=status)
    with sync_client(service, fake) as client, pytest.raises(InternalServerError) as info:
        getattr(client, group).train(container_id)
    assert info.value.status_code == status
    assert info.value.retries_taken == 0
    assert service.methods == ["POST"]
    assert fake.sleeps == []


def test_a_5xx_on_a_status_poll_is_retried():
    # The contrast to the train POST: the status GET is idempotent, so a 503 is retried.
    fake = FakeTime()
    prefix = KINDS["person_groups"][1]
    service = TrainingService(prefix, [(503, {"Retry-After": "1"}), ("succeeded", {})])
    with sync_client(service, fake) as client:
        result = client.person_groups.train("group-1").status()
    assert result.status == "succeeded"
    assert service.methods == ["POST", "GET", "GET"]
    assert len(fake.sleeps) == 1


def test_get_training_status_is_a_plain_call():
    fake = FakeTime()
    prefix = KINDS["large_face_lists"][1]
    service = TrainingService(prefix, [("running", {})])
    with sync_client(service, fake) as client:
        result = client.large_face_lists.get_training_status("list-1")
    assert result.status == "running"
    assert service.methods == ["GET"]


# =============================================================================================
# async
# =============================================================================================


async def test_async_train_then_wait_polls_until_succeeded(kind):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(prefix, SUCCESS_SCRIPT)
    seen: list[str] = []
    async with async_client(service, fake) as client:
        poller = await getattr(client, group).train(container_id)
        assert isinstance(poller, AsyncTrainingPoller)
        assert service.methods == ["POST"]
        result = await poller.wait(progress=lambda status: seen.append(status.status))
    assert result.status == "succeeded"
    assert service.methods == ["POST", "GET", "GET", "GET", "GET"]
    assert fake.sleeps == [5.0, 1.0, 2.5]
    assert seen == ["notStarted", "running", "running", "succeeded"]


async def test_async_failed_training_raises_with_the_service_message(kind):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(
        prefix, [("running", {}), ("failed", {})], message="Not enough faces."
    )
    async with async_client(service, fake) as client:
        poller = await getattr(client, group).train(container_id)
        with pytest.raises(TrainingFailedError) as info:
            await poller.wait()
    assert info.value.message == "Not enough faces."
    assert fake.sleeps == [1.0]


async def test_async_timeout_raises_with_the_last_status(kind):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(prefix, [("running", {"Retry-After": "2"})], repeat_last=True)
    async with async_client(service, fake) as client:
        poller = await getattr(client, group).train(container_id)
        with pytest.raises(PollingTimeoutError) as info:
            await poller.wait(timeout=5)
    assert info.value.last_status == "running"
    assert fake.sleeps == [2.0, 2.0, 1.0]
    assert service.polls == 4


async def test_async_status_polls_exactly_once(kind):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(prefix, [("running", {})])
    async with async_client(service, fake) as client:
        poller = await getattr(client, group).train(container_id)
        result = await poller.status()
    assert result.status == "running"
    assert service.methods == ["POST", "GET"]
    assert fake.sleeps == []


async def test_async_5xx_on_the_train_post_is_not_retried(kind):
    group, container_id, prefix = kind
    fake = FakeTime()
    service = TrainingService(prefix, [], train_status=503)
    async with async_client(service, fake) as client:
        with pytest.raises(InternalServerError):
            await getattr(client, group).train(container_id)
    assert service.methods == ["POST"]
    assert fake.sleeps == []


def test_sync_and_async_pollers_make_the_same_decisions():
    """One script, both pollers: the same polls, sleeps and outcome."""

    def run_sync() -> tuple[list[float], list[str]]:
        fake = FakeTime()
        service = TrainingService(KINDS["person_groups"][1], SUCCESS_SCRIPT)
        with sync_client(service, fake) as client:
            client.person_groups.train("group-1").wait()
        return fake.sleeps, service.methods

    async def run_async() -> tuple[list[float], list[str]]:
        fake = FakeTime()
        service = TrainingService(KINDS["person_groups"][1], SUCCESS_SCRIPT)
        async with async_client(service, fake) as client:
            await (await client.person_groups.train("group-1")).wait()
        return fake.sleeps, service.methods

    assert run_sync() == asyncio.run(run_async())
