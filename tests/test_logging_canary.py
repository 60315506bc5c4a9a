"""The logging canary: secrets and biometrics must never reach a log record, an error or a repr.

Recognisable canaries (a key, a bearer token, a liveness session token, consent tokens, faceIds
and image bytes) are pushed through every operation group of the sync and async Face and
Content Safety clients: successes, a 4xx, a retried 503, connection failures, a read timeout
and a consent token the guard rejects. Every log record of every logger is captured at DEBUG
and searched, with every exception and every result. Further tests check that the canary is
not vacuous (the secrets really travelled, and the ``faceguard`` logger really logged) and that
the library is silent by default.

The Face client carries the guard of ``tests/_guard_kit.py``; every call that needs consent
passes a real consent token (a signed JWT, a bearer credential like the others).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import secrets
import subprocess
import sys
import textwrap
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from _guard_kit import TOKEN as CONSENT_TOKEN
from _guard_kit import consent_person, policy, token
from faceguard import (
    APIConnectionError,
    APITimeoutError,
    AsyncContentSafetyClient,
    AsyncFaceClient,
    ConsentRejectedError,
    ContentSafetyClient,
    FaceClient,
    FaceGuardError,
    GuardError,
    InternalServerError,
    NotFoundError,
    RetryPolicy,
)
from faceguard._logging import logger as faceguard_logger

ENDPOINT = "https://canary.cognitiveservices.azure.com"
KEY = "CANARYKEY" + secrets.token_hex(12)
TOKEN = "CANARYTOKEN" + secrets.token_hex(12)
SESSION_TOKEN = "CANARYSESSION" + secrets.token_hex(12)
FACE_IDS = [str(uuid.uuid4()) for _ in range(3)]
IMAGE_MARKER = "CANARYIMAGE" + secrets.token_hex(12)
IMAGE = b"\xff\xd8\xff\xe0" + IMAGE_MARKER.encode() + secrets.token_bytes(2048)
PERSON_ID = str(uuid.uuid4())
# CONSENT_TOKEN (the kit's) covers the calls that name no container; this one is bound to the
# containers and the person the scenario enrolls into and searches.
SCENARIO_CONSENT = token(
    bindings=[
        ("personGroup", "group-1", PERSON_ID),
        ("personGroup", "unreachable-group", PERSON_ID),
        ("largePersonGroup", "group-1", PERSON_ID),
        ("faceList", "list-1", None),
        ("largeFaceList", "list-1", None),
    ]
)

SECRETS = {
    "api key": KEY,
    "bearer token": TOKEN,
    "liveness session token": SESSION_TOKEN,
    "consent token": CONSENT_TOKEN,
    "consent token signature": CONSENT_TOKEN.rsplit(".", 1)[1],
    "scenario consent token": SCENARIO_CONSENT,
    "scenario consent token signature": SCENARIO_CONSENT.rsplit(".", 1)[1],
    **{f"faceId {i}": face_id for i, face_id in enumerate(FACE_IDS)},
    "image bytes": IMAGE_MARKER,
    "image bytes (hex)": IMAGE[:24].hex(),
    "image bytes (repr)": repr(IMAGE[:16])[2:-1],
}

POLICY = RetryPolicy(max_attempts=3, jitter=0.0)
RECT = {"top": 10, "left": 20, "width": 30, "height": 40}
TRAINED = {
    "status": "succeeded",
    "createdDateTime": "2026-01-01T00:00:00Z",
    "lastActionDateTime": "2026-01-01T00:00:01Z",
}


def session_body(*, verify: bool = False) -> dict[str, Any]:
    results: dict[str, Any] = {"attempts": []}
    if verify:
        results["verifyReferences"] = []
    return {
        "sessionId": "session-1",
        "authToken": SESSION_TOKEN,
        "status": "NotStarted",
        "modelVersion": "2024-11-15",
        "results": results,
    }


# -- the scripted service -------------------------------------------------------------------------


class CanaryService:
    """Answers every route the scenario uses, in the shapes of the two REST contracts.

    ``flaky`` resources answer 503 to the first attempt of each call and succeed on the retry;
    ``missing`` ones answer 404; ``unreachable`` ones never connect; ``slow`` ones time out.
    """

    def __init__(self, expected_auth: tuple[str, str]) -> None:
        self.expected_auth = expected_auth
        self.requests: list[httpx.Request] = []
        self.seen_calls: set[str] = set()
        self.responses = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        name, value = self.expected_auth
        assert request.headers.get(name) == value, "the canary credential was not sent"
        path = request.url.path
        if "unreachable" in path:
            raise httpx.ConnectError("connection refused", request=request)
        if "slow" in path:
            raise httpx.ReadTimeout("timed out", request=request)
        self.responses += 1
        headers = {"apim-request-id": f"req-{self.responses}"}
        if "flaky" in path:
            call = request.headers["x-ms-client-request-id"]
            if call not in self.seen_calls:
                self.seen_calls.add(call)
                return httpx.Response(503, headers=headers)
        if "missing" in path:
            if path.startswith("/contentsafety/"):
                body = {"error": {"code": "NotFound", "message": "Not found.", "details": []}}
            else:
                body = {"error": {"code": "NotFound", "message": "The resource is not found."}}
            return httpx.Response(404, json=body, headers=headers)
        status, body = self.answer(request)
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    def answer(self, request: httpx.Request) -> tuple[int, Any]:
        method, path = request.method, request.url.path
        if path.startswith("/contentsafety/"):
            return self.content_safety(method, path.removeprefix("/contentsafety"))
        path = path.removeprefix("/face/v1.2")
        is_json = request.headers.get("content-type") == "application/json"
        sent = json.loads(request.content) if is_json else None
        if path == "/detect":
            return 200, [{"faceId": f, "faceRectangle": RECT} for f in FACE_IDS]
        if path == "/verify":
            return 200, {"isIdentical": True, "confidence": 0.93}
        if path == "/identify":
            assert sent is not None
            return 200, [
                {"faceId": f, "candidates": [{"personId": PERSON_ID, "confidence": 0.9}]}
                for f in sent["faceIds"]
            ]
        if path == "/findsimilars":
            return 200, [{"faceId": FACE_IDS[1], "confidence": 0.8}]
        if path == "/group":
            return 200, {"groups": [FACE_IDS[:2]], "messyGroup": FACE_IDS[2:]}
        if path.endswith("/persistedfaces") and method == "POST":
            return 200, {"persistedFaceId": str(uuid.uuid4())}
        if path.endswith("/persons") and method == "POST":
            return 200, {"personId": PERSON_ID}
        if path.endswith("/train"):
            return 202, None
        if path.endswith("/training"):
            return 200, TRAINED
        if path == "/largefacelists":
            return 200, [{"largeFaceListId": "list-1", "name": "List"}]
        if path.startswith("/largefacelists/") and method == "GET":
            return 200, {"largeFaceListId": path.split("/")[2], "name": "List"}
        if path.startswith("/persongroups/") and path.endswith("/persons") and method == "GET":
            return 200, [{"personId": PERSON_ID, "name": "Ada", "persistedFaceIds": []}]
        if path.startswith("/largepersongroups/") and method == "GET":
            return 200, {"largePersonGroupId": path.split("/")[2], "name": "Group"}
        if method in {"PUT", "PATCH"} or (method == "DELETE" and "sessions" not in path):
            return 200, None
        if path == "/detectLiveness-sessions":
            return 200, session_body()
        if path == "/detectLivenessWithVerify-sessions":
            return 200, session_body(verify=True)
        if path.startswith("/detectLiveness-sessions/") and method == "GET":
            return 200, session_body()
        if "sessions/" in path and method == "DELETE":
            return 204, None
        if path.startswith("/sessionImages/"):
            return 200, IMAGE
        raise AssertionError(f"unscripted route {method} {path}")

    def content_safety(self, method: str, path: str) -> tuple[int, Any]:
        if path == "/text:analyze":
            return 200, {"categoriesAnalysis": [{"category": "Hate", "severity": 0}]}
        if path.endswith(":addOrUpdateBlocklistItems"):
            item = {"blocklistItemId": "item-1", "text": "badword"}
            return 200, {"blocklistItems": [item]}
        if path.endswith("/blocklistItems"):
            return 200, {"value": [{"blocklistItemId": "item-1", "text": "badword"}]}
        if path.endswith(":removeBlocklistItems"):
            return 204, None
        if path.startswith("/text/blocklists/") and method in {"PATCH", "GET"}:
            return 200, {"blocklistName": path.split("/")[3]}
        raise AssertionError(f"unscripted route {method} /contentsafety{path}")


# -- the scenario ---------------------------------------------------------------------------------


async def settle(value: Any) -> Any:
    """The value, awaited if it is awaitable (so one scenario serves both clients)."""
    return await value if inspect.isawaitable(value) else value


async def train_and_wait(group: Any, container_id: str) -> Any:
    poller = await settle(group.train(container_id))
    return await settle(poller.wait(timeout=60))


Step = Callable[[Any], Awaitable[Any]]

FACE_STEPS: dict[str, Step] = {
    # recognition: before detection, on faceIds this guard has not seen (the kit's policy
    # allows unknown faceIds). Detection returns the three faces of one image, and a token of
    # one subject binds only the largest, so the other two could not be compared after it.
    "verify": lambda c: settle(
        c.recognition.verify_face_to_face(FACE_IDS[0], FACE_IDS[1], consent=CONSENT_TOKEN)
    ),
    "identify": lambda c: settle(
        c.recognition.identify_from_person_group(
            FACE_IDS, person_group_id="group-1", consent=SCENARIO_CONSENT
        )
    ),
    "identify (consent not bound to the group)": lambda c: settle(
        c.recognition.identify_from_person_group(
            FACE_IDS, person_group_id="group-1", consent=CONSENT_TOKEN
        )
    ),
    "find similar": lambda c: settle(
        c.recognition.find_similar(FACE_IDS[0], face_ids=FACE_IDS[1:], consent=CONSENT_TOKEN)
    ),
    "group": lambda c: settle(c.recognition.group(FACE_IDS, consent=CONSENT_TOKEN)),
    # detection
    "detect (bytes)": lambda c: settle(
        c.detection.detect(IMAGE, return_face_id=True, consent=CONSENT_TOKEN)
    ),
    "detect (session image)": lambda c: settle(
        c.detection.detect_from_session_image("image-1", return_face_id=True, consent=CONSENT_TOKEN)
    ),
    "detect (url)": lambda c: settle(
        c.detection.detect(
            "https://images.example/photo.jpg", return_face_id=True, consent=CONSENT_TOKEN
        )
    ),
    # face lists
    "face list create": lambda c: settle(c.face_lists.create("list-1", name="List")),
    "face list add face": lambda c: settle(
        c.face_lists.add_face("list-1", IMAGE, consent=SCENARIO_CONSENT)
    ),
    "face list 404": lambda c: settle(c.face_lists.get("missing-list")),
    # large face lists
    "large face list get (503 then retried)": lambda c: settle(
        c.large_face_lists.get("flaky-list")
    ),
    "large face list add face": lambda c: settle(
        c.large_face_lists.add_face("list-1", IMAGE, consent=SCENARIO_CONSENT)
    ),
    "large face list list": lambda c: settle(c.large_face_lists.list().to_list()),
    "large face list train": lambda c: train_and_wait(c.large_face_lists, "list-1"),
    # person groups
    "person group create": lambda c: settle(c.person_groups.create("group-1", name="Group")),
    "person group create person": lambda c: settle(
        c.person_groups.create_person("group-1", name="Ada")
    ),
    "person group add face": lambda c: settle(
        c.person_groups.add_face("group-1", PERSON_ID, IMAGE, consent=SCENARIO_CONSENT)
    ),
    "person group add face (connection error)": lambda c: settle(
        c.person_groups.add_face("unreachable-group", PERSON_ID, IMAGE, consent=SCENARIO_CONSENT)
    ),
    "person group 404": lambda c: settle(c.person_groups.get("missing-group")),
    "person group list persons": lambda c: settle(
        c.person_groups.list_persons("group-1").to_list()
    ),
    "person group train": lambda c: train_and_wait(c.person_groups, "group-1"),
    # large person groups
    "large person group create person (503, not retried)": lambda c: settle(
        c.large_person_groups.create_person("flaky-group", name="Ada")
    ),
    "large person group create person (connection error, retried)": lambda c: settle(
        c.large_person_groups.create_person("unreachable-group", name="Ada")
    ),
    "large person group get (read timeout)": lambda c: settle(
        c.large_person_groups.get("slow-group")
    ),
    "large person group add face": lambda c: settle(
        c.large_person_groups.add_face("group-1", PERSON_ID, IMAGE, consent=SCENARIO_CONSENT)
    ),
    # liveness
    "liveness create session": lambda c: settle(
        c.liveness.create_session(liveness_operation_mode="Passive")
    ),
    "liveness get session": lambda c: settle(c.liveness.get_session_result("session-1")),
    "liveness create with verify": lambda c: settle(
        c.liveness.create_with_verify_session(
            verify_image=IMAGE, liveness_operation_mode="PassiveActive", consent=CONSENT_TOKEN
        )
    ),
    "liveness delete session": lambda c: settle(c.liveness.delete_session("session-1")),
    "liveness 404": lambda c: settle(c.liveness.get_session_result("missing-session")),
    "liveness session image": lambda c: settle(c.liveness.get_session_image("image-1")),
}

CONTENT_SAFETY_STEPS: dict[str, Step] = {
    "blocklist create": lambda c: settle(c.blocklists.create_or_update("my-list")),
    "blocklist add items": lambda c: settle(c.blocklists.add_or_update_items("my-list", ["bad"])),
    "blocklist list items": lambda c: settle(c.blocklists.list_items("my-list").to_list()),
    "blocklist get (503 then retried)": lambda c: settle(c.blocklists.get("flaky-list")),
    "blocklist 404": lambda c: settle(c.blocklists.get("missing-list")),
    "blocklist get (connection error)": lambda c: settle(c.blocklists.get("unreachable-list")),
    "blocklist remove items": lambda c: settle(c.blocklists.remove_items("my-list", ["item-1"])),
    "analyze text": lambda c: settle(c.analyze_text("some text", blocklist_names=["my-list"])),
}

# The one result that *is* biometric data by definition: the downloaded session image.
RAW_IMAGE_STEPS = {"liveness session image"}
# The steps the guard refuses before sending anything.
REFUSED_STEPS = {"identify (consent not bound to the group)"}


@dataclass
class Run:
    """Everything one scenario run produced."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, FaceGuardError] = field(default_factory=dict)
    waits: list[float] = field(default_factory=list)
    face_service: CanaryService | None = None
    safety_service: CanaryService | None = None


@dataclass
class Credential:
    """A sync token credential handing out the canary token."""

    calls: int = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.calls += 1
        return _Token(TOKEN, int(time.time()) + 3600)


@dataclass
class AsyncCredential:
    """An async token credential handing out the canary token."""

    calls: int = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        self.calls += 1
        return self._issue()

    async def _issue(self) -> Any:
        return _Token(TOKEN, int(time.time()) + 3600)


@dataclass(frozen=True)
class _Token:
    token: str
    expires_on: int

    def __repr__(self) -> str:
        return "_Token(...)"


async def _drive(client: Any, steps: dict[str, Step], run: Run) -> None:
    for label, step in steps.items():
        try:
            run.results[label] = await step(client)
        except FaceGuardError as exc:
            run.errors[label] = exc


async def run_scenario(mode: str, auth: str) -> Run:
    """Drive every operation group on the Face and Content Safety clients of ``mode``."""
    run = Run()
    expected = (
        ("Ocp-Apim-Subscription-Key", KEY)
        if auth == "key"
        else ("Authorization", f"Bearer {TOKEN}")
    )
    run.face_service = CanaryService(expected)
    run.safety_service = CanaryService(expected)

    def credentials() -> dict[str, Any]:
        if auth == "key":
            return {"api_key": KEY}
        return {"credential": Credential() if mode == "sync" else AsyncCredential()}

    guard = policy()
    # The identify candidate was enrolled with live consent, so results keep it (and its repr
    # is searched too) instead of the guard suppressing it.
    consent_person(guard, "personGroup", "group-1", PERSON_ID)

    if mode == "sync":
        common: dict[str, Any] = {"retry": POLICY, "sleep": run.waits.append}
        with FaceClient(
            ENDPOINT,
            transport=httpx.MockTransport(run.face_service),
            guard=guard,
            **common,
            **credentials(),
        ) as face:
            await _drive(face, FACE_STEPS, run)
        with ContentSafetyClient(
            ENDPOINT,
            transport=httpx.MockTransport(run.safety_service),
            **common,
            **credentials(),
        ) as safety:
            await _drive(safety, CONTENT_SAFETY_STEPS, run)
        return run

    async def sleep(seconds: float) -> None:
        run.waits.append(seconds)

    async with AsyncFaceClient(
        ENDPOINT,
        transport=httpx.MockTransport(run.face_service),
        retry=POLICY,
        sleep=sleep,
        guard=guard,
        **credentials(),
    ) as aface:
        await _drive(aface, FACE_STEPS, run)
    async with AsyncContentSafetyClient(
        ENDPOINT,
        transport=httpx.MockTransport(run.safety_service),
        retry=POLICY,
        sleep=sleep,
        **credentials(),
    ) as asafety:
        await _drive(asafety, CONTENT_SAFETY_STEPS, run)
    return run


# -- searching for canaries ---------------------------------------------------------------------

_FORMATTER = logging.Formatter(
    "%(asctime)s %(name)s %(levelname)s %(pathname)s:%(lineno)d %(funcName)s %(message)s"
)


def leaks(text: str) -> list[str]:
    """The names of the canaries found in ``text``."""
    return [name for name, value in SECRETS.items() if value in text]


def record_texts(record: logging.LogRecord) -> dict[str, str]:
    """Every way a handler could render ``record``: message, formatted line, each attribute."""
    texts = {"message": record.getMessage(), "formatted": _FORMATTER.format(record)}
    if record.exc_info:
        texts["exc_info"] = _FORMATTER.formatException(record.exc_info)
    for name, value in vars(record).items():
        texts[f"attribute {name}"] = f"{value!r} {value!s}"
    return texts


def error_texts(error: BaseException) -> dict[str, str]:
    texts = {
        "str": str(error),
        "repr": repr(error),
        "args": repr(error.args),
        "traceback": "".join(traceback.format_exception(error)),
    }
    support_info = getattr(error, "support_info", None)
    if callable(support_info):
        texts["support_info"] = repr(support_info())
    for name, value in vars(error).items():
        texts[f"attribute {name}"] = f"{value!r} {value!s}"
    return texts


def result_texts(result: Any) -> dict[str, str]:
    texts = {"repr": repr(result), "str": str(result)}
    if isinstance(result, list):
        for index, item in enumerate(result):
            texts[f"item {index} repr"] = repr(item)
            texts[f"item {index} str"] = str(item)
    support_info = getattr(result, "support_info", None)
    if callable(support_info):
        texts["support_info"] = repr(support_info())
    return texts


def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    """Capture every record at DEBUG: the root logger, and the loggers a test may have raised."""
    caplog.set_level(logging.DEBUG)
    for name in ("faceguard", "httpx", "httpcore", "asyncio", "tenacity"):
        caplog.set_level(logging.DEBUG, logger=name)


# -- the canary ---------------------------------------------------------------------------------


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


@pytest.mark.parametrize("auth", ["key", "token"])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_no_canary_in_any_log_record_error_or_result(
    caplog: pytest.LogCaptureFixture, mode: str, auth: str
) -> None:
    capture_everything(caplog)

    run = await run_scenario(mode, auth)

    found: list[str] = []
    for index, record in enumerate(caplog.records):
        for where, text in record_texts(record).items():
            found += [f"log record {index} ({record.name}) {where}: {n}" for n in leaks(text)]
    for label, error in run.errors.items():
        for where, text in error_texts(error).items():
            found += [f"error of {label!r} {where}: {n}" for n in leaks(text)]
    for label, result in run.results.items():
        if label in RAW_IMAGE_STEPS:
            continue
        for where, text in result_texts(result).items():
            found += [f"result of {label!r} {where}: {n}" for n in leaks(text)]
    assert found == []


@pytest.mark.parametrize("auth", ["key", "token"])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_canaries_really_travelled(
    caplog: pytest.LogCaptureFixture, mode: str, auth: str
) -> None:
    """Guards the canary test against passing vacuously."""
    capture_everything(caplog)

    run = await run_scenario(mode, auth)

    # Every group was driven and every request carried the canary credential (the service
    # asserts it); the image went out in request bodies.
    assert run.face_service is not None and run.safety_service is not None
    requests = run.face_service.requests + run.safety_service.requests
    assert len(requests) >= len(FACE_STEPS) + len(CONTENT_SAFETY_STEPS) - len(REFUSED_STEPS)
    assert any(IMAGE_MARKER.encode() in r.content for r in requests)
    assert any(FACE_IDS[0].encode() in r.content for r in requests)
    assert set(run.results) | set(run.errors) == set(FACE_STEPS) | set(CONTENT_SAFETY_STEPS)
    # The results hold the secrets the mock returned, so the repr checks are meaningful.
    assert run.results["liveness create session"].auth_token == SESSION_TOKEN
    assert run.results["liveness create with verify"].auth_token == SESSION_TOKEN
    assert [f.face_id for f in run.results["detect (bytes)"]] == FACE_IDS
    assert run.results["identify"][0].face_id == FACE_IDS[0]
    assert run.results["identify"][0].candidates[0].person_id == PERSON_ID
    # The guard accepted both consent tokens wherever they were due (every call needing consent
    # passes one, and none but the deliberate refusal was refused), and checked the one it
    # rejected: the consent canaries were really handled.
    refused = {label for label, error in run.errors.items() if isinstance(error, GuardError)}
    assert refused == REFUSED_STEPS
    rejected = run.errors["identify (consent not bound to the group)"]
    assert isinstance(rejected, ConsentRejectedError)
    assert rejected.check == "container"
    assert run.results["liveness session image"] == IMAGE
    # The failures the brief asks for did happen.
    assert isinstance(run.errors["face list 404"], NotFoundError)
    assert isinstance(run.errors["blocklist 404"], NotFoundError)
    assert isinstance(run.errors["person group add face (connection error)"], APIConnectionError)
    assert isinstance(run.errors["blocklist get (connection error)"], APIConnectionError)
    assert isinstance(
        run.errors["large person group create person (503, not retried)"], InternalServerError
    )
    assert isinstance(run.errors["large person group get (read timeout)"], APITimeoutError)
    assert "large face list get (503 then retried)" in run.results
    assert "blocklist get (503 then retried)" in run.results
    assert run.waits  # retries happened
    # Records were captured from more than one logger, faceguard's among them.
    names = {record.name for record in caplog.records}
    assert "faceguard" in names
    assert len(caplog.records) > len(requests) // 2


async def test_the_faceguard_logger_records_the_call_facts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    capture_everything(caplog)

    await run_scenario("sync", "key")

    records = [r for r in caplog.records if r.name == "faceguard"]
    messages = [r.getMessage() for r in records]
    route = "GET /largefacelists/{largeFaceListId}"
    first = [m for m in messages if m.startswith(f"{route} -> 503 ")]
    retried = [m for m in messages if m.startswith(f"{route} -> 200 ")]
    assert len(first) == 1 and "attempt=1" in first[0]
    assert len(retried) == 1 and "attempt=2" in retried[0]
    assert "request_id=req-" in retried[0]
    # The 503 and the 200 of one call share its client request id.
    client_id = first[0].split("client_request_id=")[1].split()[0]
    uuid.UUID(client_id)
    assert f"client_request_id={client_id}" in retried[0]
    # A 4xx, with the service's request id.
    assert any(
        m.startswith("GET /persongroups/{personGroupId} -> 404 request_id=req-") for m in messages
    )
    # A connection failure, on every attempt.
    failures = [
        m
        for m in messages
        if m.startswith("POST /largepersongroups/{largePersonGroupId}/persons -> ConnectError")
    ]
    assert [f.split("attempt=")[1].split()[0] for f in failures] == ["1", "2", "3"]
    # Routes are templates: ids of groups, lists and persons never appear.
    for message in messages:
        for filled in ("flaky-list", "missing-group", "group-1", "unreachable-group", PERSON_ID):
            assert filled not in message
    # The facts are in the record's arguments too, for structured handlers.
    record = next(r for r in records if r.getMessage() == retried[0])
    assert isinstance(record.args, tuple)
    assert record.args[:3] == ("GET", "/largefacelists/{largeFaceListId}", 200)
    assert record.levelno == logging.INFO


# -- silent by default ----------------------------------------------------------------------------


def test_the_faceguard_logger_has_only_a_null_handler() -> None:
    assert faceguard_logger.name == "faceguard"
    assert faceguard_logger.handlers
    assert all(isinstance(h, logging.NullHandler) for h in faceguard_logger.handlers)
    assert faceguard_logger.level == logging.NOTSET
    assert faceguard_logger.propagate


async def test_the_library_writes_nothing_without_configuration(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Without pytest's own handlers, as in an application that configures no logging.
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = []
    root.setLevel(logging.WARNING)
    try:
        await run_scenario("sync", "key")
        await run_scenario("async", "token")
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)

    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


_SUBPROCESS_SCENARIO = textwrap.dedent(
    """
    import httpx
    from faceguard import FaceClient, RetryPolicy

    def handler(request):
        if request.url.path.endswith("/flaky"):
            return httpx.Response(503, headers={"apim-request-id": "req-503"})
        body = {"error": {"code": "NotFound", "message": "not found"}}
        return httpx.Response(404, json=body, headers={"apim-request-id": "req-404"})

    client = FaceClient(
        "https://canary.cognitiveservices.azure.com",
        api_key=KEY,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=2, jitter=0.0),
        sleep=lambda seconds: None,
    )
    for group in ("missing", "flaky"):
        try:
            client.person_groups.get(group)
        except Exception:
            pass
    client.close()
    """
)


def _run_fresh_interpreter(log_level: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEGUARD_")}
    if log_level is not None:
        env["FACEGUARD_LOG"] = log_level
    code = f"KEY = {KEY!r}\n{_SUBPROCESS_SCENARIO}"
    return subprocess.run(  # a fresh interpreter: no handler from pytest or another test
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_a_fresh_interpreter_is_silent_unless_faceguard_log_is_set() -> None:
    silent = _run_fresh_interpreter(None)
    assert silent.stdout == ""
    assert silent.stderr == ""

    # The contrast, so the silence above means something: FACEGUARD_LOG attaches a handler.
    verbose = _run_fresh_interpreter("info")
    assert verbose.stdout == ""
    assert "faceguard INFO GET /persongroups/{personGroupId} -> 404 request_id=req-404" in (
        verbose.stderr
    )
    assert "-> 503 request_id=req-503" in verbose.stderr
    assert "attempt=2" in verbose.stderr
    assert KEY not in verbose.stderr
