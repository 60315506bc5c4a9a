"""Retries, on the sync and the async client alike.

Every test runs against an ``httpx.MockTransport`` that answers with scripted steps; the
client's ``sleep=`` hook records the waits instead of sleeping, so the exact backoff and
``Retry-After`` handling can be asserted and nothing really sleeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from _guard_kit import TOKEN, policy, token
from faceguard import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncContentSafetyClient,
    AsyncFaceClient,
    ContentSafetyClient,
    FaceClient,
    FaceGuardError,
    InternalServerError,
    InvalidInputError,
    RateLimitError,
    RetryPolicy,
)
from faceguard._transport._retry import parse_retry_after

ENDPOINT = "https://retry-tests.cognitiveservices.azure.com"
KEY = "retry-test-key"
PERSON_ID = str(uuid.UUID(int=1))
FACE_ID = str(uuid.UUID(int=2))
FACE_ID_2 = str(uuid.UUID(int=3))
JPEG = b"\xff\xd8\xff\xe0" + bytes(2048)
# No jitter, so the recorded waits are exact.
EXACT = RetryPolicy(jitter=0.0)
# Consent for the enrollments below: bound to the containers and the person this file uses.
ENROLL_CONSENT = token(
    bindings=[
        ("personGroup", "group-1", PERSON_ID),
        ("faceList", "list-1", None),
        ("largeFaceList", "list-1", None),
    ]
)

Step = Callable[[httpx.Request], httpx.Response]
Operation = Callable[[Any], Any]

SESSION = {
    "sessionId": "session-1",
    "authToken": "session-token",
    "status": "NotStarted",
    "results": {"attempts": []},
}
VERIFY_SESSION = {**SESSION, "results": {"attempts": [], "verifyReferences": []}}
PERSON_GROUP = {"personGroupId": "group-1", "name": "Group"}


# -- scripted service --------------------------------------------------------------------------


def reply(status: int, body: object = None, headers: dict[str, str] | None = None) -> Step:
    """A step answering ``status`` with an optional JSON body."""

    def step(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return step


def fail(exc_type: type[httpx.TransportError]) -> Step:
    """A step where the transport raises ``exc_type`` (no response at all)."""

    def step(request: httpx.Request) -> httpx.Response:
        raise exc_type("scripted transport failure", request=request)

    return step


OK_GROUP = reply(200, PERSON_GROUP)


class Service:
    """A MockTransport handler answering with its steps in order; the last one repeats."""

    def __init__(self, *steps: Step) -> None:
        self.steps = steps
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.steps[min(len(self.requests), len(self.steps)) - 1](request)

    @property
    def request_ids(self) -> list[str]:
        return [r.headers["x-ms-client-request-id"] for r in self.requests]


class Rig:
    """A sync or async client over a scripted service, with recorded sleeps.

    Face clients get the guard of ``tests/_guard_kit.py``: calls that need consent pass a token.
    """

    def __init__(
        self,
        mode: str,
        service: Service,
        *,
        retry: RetryPolicy = EXACT,
        content_safety: bool = False,
    ) -> None:
        self.mode = mode
        self.service = service
        self.retry = retry
        self.content_safety = content_safety
        self.waits: list[float] = []

    async def run(self, *operations: Operation) -> list[Any]:
        """Run each operation on one client; a FaceGuardError is returned, not raised."""
        outcomes: list[Any] = []
        transport = httpx.MockTransport(self.service)
        guarded: dict[str, Any] = {} if self.content_safety else {"guard": policy()}
        if self.mode == "sync":
            sync_cls: type[Any] = ContentSafetyClient if self.content_safety else FaceClient
            with sync_cls(
                ENDPOINT,
                api_key=KEY,
                transport=transport,
                retry=self.retry,
                sleep=self.waits.append,
                **guarded,
            ) as client:
                for operation in operations:
                    try:
                        outcomes.append(operation(client))
                    except FaceGuardError as exc:
                        outcomes.append(exc)
            return outcomes

        async def sleep(seconds: float) -> None:
            self.waits.append(seconds)

        async_cls: type[Any] = AsyncContentSafetyClient if self.content_safety else AsyncFaceClient
        async with async_cls(
            ENDPOINT, api_key=KEY, transport=transport, retry=self.retry, sleep=sleep, **guarded
        ) as client:
            for operation in operations:
                try:
                    outcomes.append(await operation(client))
                except FaceGuardError as exc:
                    outcomes.append(exc)
        return outcomes

    async def call(self, operation: Operation) -> Any:
        """Run one operation; its error is raised."""
        [outcome] = await self.run(operation)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "FACEGUARD_ENDPOINT",
        "FACEGUARD_API_KEY",
        "FACEGUARD_CONTENT_SAFETY_ENDPOINT",
        "FACEGUARD_CONTENT_SAFETY_API_KEY",
        "FACEGUARD_LOG",
    ):
        monkeypatch.delenv(name, raising=False)


def get_group(client: Any) -> Awaitable[Any] | Any:
    return client.person_groups.get("group-1")


# -- Retry-After on 429 ---------------------------------------------------------------------


async def test_429_with_retry_after_waits_exactly_that_long_then_succeeds(mode: str) -> None:
    service = Service(reply(429, headers={"Retry-After": "2"}), OK_GROUP)
    rig = Rig(mode, service)

    group = await rig.call(get_group)

    assert group.person_group_id == "group-1"
    assert rig.waits == [2.0]
    assert len(service.requests) == 2


async def test_retry_after_is_preferred_to_backoff_on_every_retry(mode: str) -> None:
    service = Service(
        reply(429, headers={"Retry-After": "3"}),
        reply(429, headers={"Retry-After": "7"}),
        OK_GROUP,
    )
    rig = Rig(mode, service)

    await rig.call(get_group)

    assert rig.waits == [3.0, 7.0]


async def test_retry_after_above_the_cap_fails_at_once(mode: str) -> None:
    service = Service(reply(429, headers={"Retry-After": "30"}), OK_GROUP)
    rig = Rig(mode, service, retry=RetryPolicy(jitter=0.0, retry_after_cap=10.0))

    with pytest.raises(RateLimitError) as info:
        await rig.call(get_group)

    assert info.value.retry_after == 30.0
    assert info.value.retries_taken == 0
    assert len(service.requests) == 1
    assert rig.waits == []


async def test_retry_after_equal_to_the_cap_is_still_waited(mode: str) -> None:
    service = Service(reply(429, headers={"Retry-After": "10"}), OK_GROUP)
    rig = Rig(mode, service, retry=RetryPolicy(jitter=0.0, retry_after_cap=10.0))

    await rig.call(get_group)

    assert rig.waits == [10.0]


async def test_retry_after_as_an_http_date(mode: str) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=5)
    service = Service(
        reply(429, headers={"Retry-After": format_datetime(when, usegmt=True)}), OK_GROUP
    )
    rig = Rig(mode, service)

    await rig.call(get_group)

    # The date has one-second resolution: the wait is what is left of those 5 s.
    [wait] = rig.waits
    assert 3.5 <= wait <= 5.0


async def test_retry_after_http_date_in_the_past_retries_without_waiting(mode: str) -> None:
    when = datetime.now(timezone.utc) - timedelta(minutes=5)
    service = Service(
        reply(429, headers={"Retry-After": format_datetime(when, usegmt=True)}), OK_GROUP
    )
    rig = Rig(mode, service)

    await rig.call(get_group)

    assert rig.waits == [0.0]


async def test_retry_after_http_date_beyond_the_cap_fails_at_once(mode: str) -> None:
    when = datetime.now(timezone.utc) + timedelta(hours=1)
    service = Service(
        reply(429, headers={"Retry-After": format_datetime(when, usegmt=True)}), OK_GROUP
    )
    rig = Rig(mode, service)

    with pytest.raises(RateLimitError) as info:
        await rig.call(get_group)

    assert info.value.retry_after is not None
    assert 3500 < info.value.retry_after <= 3600
    assert len(service.requests) == 1
    assert rig.waits == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=timezone.utc)
    assert parse_retry_after(value, now=now) == expected


async def test_unparseable_retry_after_falls_back_to_backoff(mode: str) -> None:
    service = Service(reply(429, headers={"Retry-After": "whenever"}), OK_GROUP)
    rig = Rig(mode, service)

    await rig.call(get_group)

    assert rig.waits == [0.5]


# -- exponential backoff ------------------------------------------------------------------------


async def test_429_without_retry_after_backs_off_exponentially_up_to_the_cap(mode: str) -> None:
    service = Service(reply(429))
    policy = RetryPolicy(max_attempts=7, backoff_base=0.5, backoff_cap=4.0, jitter=0.0)
    rig = Rig(mode, service, retry=policy)

    with pytest.raises(RateLimitError) as info:
        await rig.call(get_group)

    assert rig.waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert info.value.retry_after is None
    assert info.value.retries_taken == 6
    assert len(service.requests) == 7


async def test_default_backoff_without_jitter(mode: str) -> None:
    service = Service(reply(429), reply(429), reply(429), OK_GROUP)
    rig = Rig(mode, service)

    await rig.call(get_group)

    assert rig.waits == [0.5, 1.0, 2.0]


async def test_jitter_removes_a_fraction_of_each_backoff(mode: str) -> None:
    service = Service(reply(503), reply(503), OK_GROUP)
    policy = RetryPolicy(jitter=0.5, random=lambda: 1.0)
    rig = Rig(mode, service, retry=policy)

    await rig.call(get_group)

    assert rig.waits == [0.25, 0.5]


# -- idempotent operations: 5xx, 408 and transport failures are retried -------------------------


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
async def test_retryable_status_on_an_idempotent_get_is_retried(mode: str, status: int) -> None:
    service = Service(reply(status), reply(status), OK_GROUP)
    rig = Rig(mode, service)

    group = await rig.call(get_group)

    assert group.name == "Group"
    assert [r.method for r in service.requests] == ["GET", "GET", "GET"]
    assert rig.waits == [0.5, 1.0]


IDEMPOTENT_POSTS: dict[str, tuple[Operation, Step, bool]] = {
    "detection.detect": (
        lambda c: c.detection.detect(JPEG),
        reply(200, [{"faceRectangle": {"top": 1, "left": 2, "width": 3, "height": 4}}]),
        False,
    ),
    "recognition.verify_face_to_face": (
        lambda c: c.recognition.verify_face_to_face(FACE_ID, FACE_ID_2, consent=TOKEN),
        reply(200, {"isIdentical": True, "confidence": 0.9}),
        False,
    ),
    "analyze_text": (
        lambda c: c.analyze_text("hello"),
        reply(200, {"categoriesAnalysis": []}),
        True,
    ),
}


@pytest.mark.parametrize("name", sorted(IDEMPOTENT_POSTS))
async def test_503_on_a_pure_computation_post_is_retried(mode: str, name: str) -> None:
    operation, success, content_safety = IDEMPOTENT_POSTS[name]
    service = Service(reply(503), success)
    rig = Rig(mode, service, content_safety=content_safety)

    await rig.call(operation)

    assert [r.method for r in service.requests] == ["POST", "POST"]
    assert rig.waits == [0.5]


@pytest.mark.parametrize("exc_type", [httpx.ReadTimeout, httpx.ReadError, httpx.ConnectError])
async def test_transport_failures_on_an_idempotent_get_are_retried(
    mode: str, exc_type: type[httpx.TransportError]
) -> None:
    service = Service(fail(exc_type), OK_GROUP)
    rig = Rig(mode, service)

    group = await rig.call(get_group)

    assert group.person_group_id == "group-1"
    assert len(service.requests) == 2
    assert rig.waits == [0.5]


# -- non-idempotent operations ------------------------------------------------------------------

NON_IDEMPOTENT: dict[str, tuple[Operation, Step, str]] = {
    "person_groups.create_person": (
        lambda c: c.person_groups.create_person("group-1", name="Ada"),
        reply(200, {"personId": PERSON_ID}),
        "/face/v1.2/persongroups/group-1/persons",
    ),
    "person_groups.add_face": (
        lambda c: c.person_groups.add_face("group-1", PERSON_ID, JPEG, consent=ENROLL_CONSENT),
        reply(200, {"persistedFaceId": FACE_ID}),
        f"/face/v1.2/persongroups/group-1/persons/{PERSON_ID}/persistedfaces",
    ),
    "person_groups.add_face(url)": (
        lambda c: c.person_groups.add_face(
            "group-1", PERSON_ID, "https://img.example/a.jpg", consent=ENROLL_CONSENT
        ),
        reply(200, {"persistedFaceId": FACE_ID}),
        f"/face/v1.2/persongroups/group-1/persons/{PERSON_ID}/persistedfaces",
    ),
    "person_groups.train": (
        lambda c: c.person_groups.train("group-1"),
        reply(202),
        "/face/v1.2/persongroups/group-1/train",
    ),
    "large_person_groups.create_person": (
        lambda c: c.large_person_groups.create_person("group-1", name="Ada"),
        reply(200, {"personId": PERSON_ID}),
        "/face/v1.2/largepersongroups/group-1/persons",
    ),
    "large_person_groups.train": (
        lambda c: c.large_person_groups.train("group-1"),
        reply(202),
        "/face/v1.2/largepersongroups/group-1/train",
    ),
    "face_lists.add_face": (
        lambda c: c.face_lists.add_face("list-1", JPEG, consent=ENROLL_CONSENT),
        reply(200, {"persistedFaceId": FACE_ID}),
        "/face/v1.2/facelists/list-1/persistedfaces",
    ),
    "large_face_lists.add_face": (
        lambda c: c.large_face_lists.add_face("list-1", JPEG, consent=ENROLL_CONSENT),
        reply(200, {"persistedFaceId": FACE_ID}),
        "/face/v1.2/largefacelists/list-1/persistedfaces",
    ),
    "large_face_lists.train": (
        lambda c: c.large_face_lists.train("list-1"),
        reply(202),
        "/face/v1.2/largefacelists/list-1/train",
    ),
    "liveness.create_session": (
        lambda c: c.liveness.create_session(liveness_operation_mode="Passive"),
        reply(200, SESSION),
        "/face/v1.2/detectLiveness-sessions",
    ),
    "liveness.create_with_verify_session": (
        lambda c: c.liveness.create_with_verify_session(
            verify_image=JPEG, liveness_operation_mode="Passive", consent=TOKEN
        ),
        reply(200, VERIFY_SESSION),
        "/face/v1.2/detectLivenessWithVerify-sessions",
    ),
}


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("name", sorted(NON_IDEMPOTENT))
async def test_5xx_on_a_non_idempotent_operation_is_not_retried(
    mode: str, name: str, status: int
) -> None:
    operation, success, path = NON_IDEMPOTENT[name]
    service = Service(reply(status), success)
    rig = Rig(mode, service)

    with pytest.raises(InternalServerError) as info:
        await rig.call(operation)

    assert len(service.requests) == 1
    assert service.requests[0].method == "POST"
    assert service.requests[0].url.path == path
    assert info.value.status_code == status
    assert info.value.retries_taken == 0
    assert rig.waits == []


@pytest.mark.parametrize("name", sorted(NON_IDEMPOTENT))
async def test_429_on_a_non_idempotent_operation_is_retried(mode: str, name: str) -> None:
    operation, success, path = NON_IDEMPOTENT[name]
    service = Service(reply(429, headers={"Retry-After": "1"}), success)
    rig = Rig(mode, service)

    result = await rig.call(operation)

    assert result is not None
    assert [r.url.path for r in service.requests] == [path, path]
    assert rig.waits == [1.0]


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
@pytest.mark.parametrize(
    "name", ["person_groups.create_person", "person_groups.add_face", "liveness.create_session"]
)
async def test_failure_before_sending_is_retried_for_a_non_idempotent_create(
    mode: str, name: str, exc_type: type[httpx.TransportError]
) -> None:
    operation, success, _ = NON_IDEMPOTENT[name]
    service = Service(fail(exc_type), success)
    rig = Rig(mode, service)

    result = await rig.call(operation)

    assert result is not None
    assert len(service.requests) == 2
    assert rig.waits == [0.5]


@pytest.mark.parametrize(
    "name", ["person_groups.create_person", "person_groups.add_face", "liveness.create_session"]
)
async def test_read_timeout_on_a_non_idempotent_create_is_not_retried(mode: str, name: str) -> None:
    operation, success, _ = NON_IDEMPOTENT[name]
    service = Service(fail(httpx.ReadTimeout), success)
    rig = Rig(mode, service)

    with pytest.raises(APITimeoutError) as info:
        await rig.call(operation)

    assert info.value.request_sent is True
    assert info.value.retries_taken == 0
    assert len(service.requests) == 1
    assert rig.waits == []


@pytest.mark.parametrize("exc_type", [httpx.ReadError, httpx.RemoteProtocolError])
async def test_failure_after_sending_on_a_non_idempotent_create_is_not_retried(
    mode: str, exc_type: type[httpx.TransportError]
) -> None:
    operation, success, _ = NON_IDEMPOTENT["person_groups.create_person"]
    service = Service(fail(exc_type), success)
    rig = Rig(mode, service)

    with pytest.raises(APIConnectionError) as info:
        await rig.call(operation)

    assert not isinstance(info.value, APITimeoutError)
    assert info.value.request_sent is True
    assert len(service.requests) == 1


# -- limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_attempts", [1, 2, 3, 5])
async def test_attempts_are_capped_and_the_error_counts_its_retries(
    mode: str, max_attempts: int
) -> None:
    service = Service(reply(503))
    rig = Rig(mode, service, retry=RetryPolicy(max_attempts=max_attempts, jitter=0.0))

    with pytest.raises(InternalServerError) as info:
        await rig.call(get_group)

    assert len(service.requests) == max_attempts
    assert info.value.retries_taken == max_attempts - 1
    assert rig.waits == [0.5 * 2**i for i in range(max_attempts - 1)]


async def test_connection_errors_are_capped_too(mode: str) -> None:
    service = Service(fail(httpx.ConnectError))
    rig = Rig(mode, service, retry=RetryPolicy(max_attempts=3, jitter=0.0))

    with pytest.raises(APIConnectionError) as info:
        await rig.call(lambda c: c.person_groups.create_person("group-1", name="Ada"))

    assert info.value.request_sent is False
    assert info.value.retries_taken == 2
    assert len(service.requests) == 3


async def test_a_success_after_a_failure_ends_the_loop(mode: str) -> None:
    service = Service(reply(503), OK_GROUP, reply(503))
    rig = Rig(mode, service)

    await rig.call(get_group)

    assert len(service.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 415])
async def test_client_errors_are_never_retried(mode: str, status: int) -> None:
    body = {"error": {"code": "Nope", "message": "no"}}
    service = Service(reply(status, body), OK_GROUP)
    rig = Rig(mode, service)

    with pytest.raises(APIStatusError) as info:
        await rig.call(get_group)

    assert info.value.status_code == status
    assert info.value.retries_taken == 0
    assert len(service.requests) == 1
    assert rig.waits == []


async def test_invalid_input_is_raised_before_any_request(mode: str) -> None:
    service = Service(OK_GROUP)
    rig = Rig(mode, service)

    with pytest.raises(InvalidInputError):
        await rig.call(lambda c: c.person_groups.get("Not A Valid Id"))

    assert service.requests == []


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=1.5)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(backoff_cap=-1)


# -- x-ms-client-request-id ---------------------------------------------------------------------


async def test_one_client_request_id_per_call_shared_by_its_attempts(mode: str) -> None:
    service = Service(reply(503), reply(429), OK_GROUP, reply(503), reply(404))
    rig = Rig(mode, service)

    first, second = await rig.run(get_group, get_group)

    ids = service.request_ids
    assert len(ids) == 5
    assert len(set(ids[:3])) == 1
    assert len(set(ids[3:])) == 1
    assert ids[0] != ids[3]
    uuid.UUID(ids[0])
    uuid.UUID(ids[3])
    assert first.support_info()["client_request_id"] == ids[0]
    assert isinstance(second, APIStatusError)
    assert second.client_request_id == ids[3]
    assert second.retries_taken == 1


async def test_client_request_id_kept_across_connection_retries(mode: str) -> None:
    service = Service(fail(httpx.ConnectError), fail(httpx.ConnectError), OK_GROUP)
    rig = Rig(mode, service)

    await rig.call(get_group)

    assert len(set(service.request_ids)) == 1
    assert len(service.requests) == 3


async def test_503_with_retry_after_waits_what_the_service_asks(mode: str) -> None:
    service = Service(reply(503, headers={"Retry-After": "4"}), OK_GROUP)
    rig = Rig(mode, service)

    await rig.call(get_group)

    assert rig.waits == [4.0]


async def test_503_with_retry_after_above_the_cap_fails_at_once(mode: str) -> None:
    service = Service(reply(503, headers={"Retry-After": "300"}), OK_GROUP)
    rig = Rig(mode, service, retry=RetryPolicy(jitter=0.0, retry_after_cap=10.0))

    with pytest.raises(InternalServerError) as info:
        await rig.call(get_group)

    assert info.value.retry_after == 300.0
    assert len(service.requests) == 1
    assert rig.waits == []
