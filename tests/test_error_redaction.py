"""Service errors never carry a faceId, personId or persistedFaceId in clear (GUARD.md §5.4).

The attacker's side: error answers from an ``httpx.MockTransport`` and from the emulator (in
process, and served on loopback HTTP so its server logs too) that name biometric handles in
every spelling (lower and upper case, 32 bare hex digits, in braces, URL-encoded) and every
position (the message, the code, a target, nested details and innererror objects, a dict
key, a list of lists). None of the raw ids may appear in ``str``, ``repr``, ``args``,
``.body``, ``.error_code``, the support info, the ``faceguard`` loggers' records at DEBUG or
``traceback.format_exception`` of the error and of an exception chained to it. The request
ids the code of conduct wants in a support ticket (``apim-request-id``,
``x-ms-client-request-id``) are UUIDs too, and must stay readable.

Every test runs on the sync and the async client.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import traceback
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

import _guard_kit
from _guard_kit import policy
from faceguard import (
    APIStatusError,
    AsyncFaceClient,
    BadRequestError,
    FaceClient,
    FaceGuardError,
    NotFoundError,
    PollingTimeoutError,
    RetryPolicy,
    TrainingFailedError,
)
from faceguard.emulator import Emulator
from faceguard.emulator._server import running

ENDPOINT = "https://redaction-tests.cognitiveservices.azure.com"
KEY = uuid.uuid4().hex

FACE_1, FACE_2, FACE_3, FACE_4, FACE_5 = (str(uuid.uuid4()) for _ in range(5))
PERSON, PERSISTED_1, PERSISTED_2 = (str(uuid.uuid4()) for _ in range(3))
HANDLES = (FACE_1, FACE_2, FACE_3, FACE_4, FACE_5, PERSON, PERSISTED_1, PERSISTED_2)
APIM_REQUEST_ID = str(uuid.uuid4())


def consent(endpoint: str) -> str:
    """The kit's standing token; where the kit's tokens name the Face resources they are for
    (``aud``), it names ``endpoint`` too (the emulator's server has a free port)."""
    extra: dict[str, Any] = {}
    if "endpoints" in inspect.signature(_guard_kit.token).parameters:
        extra["endpoints"] = [*getattr(_guard_kit, "ENDPOINTS", ()), endpoint]
    return _guard_kit.token(**extra)


def canonical(text: str) -> str:
    """``text`` with every dash (plain or URL-encoded) gone and lower-cased: any spelling of a
    UUID in it becomes its 32 lower-case hex digits."""
    return re.sub(r"-|%2[dD]|%252[dD]|\\+u002[dD]", "", text).lower()


def leaks(texts: dict[str, str], ids: tuple[str, ...] = HANDLES) -> list[str]:
    """Which of ``texts`` hold which id, in any spelling."""
    found = []
    for where, text in texts.items():
        flat = canonical(text)
        found += [f"{where}: id #{i}" for i, raw in enumerate(ids) if canonical(raw) in flat]
    return found


def everything_about(error: BaseException, caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    """Every text an error reaches: its own, its traceback, a chain, and the log records."""
    try:
        raise RuntimeError("while handling a face") from error
    except RuntimeError as chained:
        chain = "".join(traceback.format_exception(chained))
    texts = {
        "str": str(error),
        "repr": repr(error),
        "args": repr(error.args),
        "notes": repr(getattr(error, "__notes__", None)),
        "traceback": "".join(traceback.format_exception(error)),
        "chain": chain,
        "log": caplog.text,
        "log args": repr([(r.msg, r.args) for r in caplog.records]),
    }
    if isinstance(error, APIStatusError):
        texts["body"] = json.dumps(error.body)
        texts["body repr"] = repr(error.body)
        texts["error_code"] = str(error.error_code)
        texts["message"] = error.message
        texts["support"] = repr(error.support) + json.dumps(error.support_info())
    return texts


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


async def run(
    mode: str,
    operation: Callable[[Any], Any],
    *,
    transport: httpx.BaseTransport | None = None,
    endpoint: str = ENDPOINT,
    retry: RetryPolicy | None = None,
) -> Any:
    """Run ``operation`` on a fresh sync or async client: its result, or the error it raised."""
    options: dict[str, Any] = {
        "api_key": KEY,
        "guard": policy(),
        "retry": retry or RetryPolicy(max_attempts=1),
    }
    if transport is not None:
        options["transport"] = transport
    if mode == "sync":
        with FaceClient(endpoint, sleep=lambda _s: None, **options) as client:
            try:
                return operation(client)
            except FaceGuardError as exc:
                return exc

    async def no_wait(_seconds: float) -> None:
        return None

    async with AsyncFaceClient(endpoint, sleep=no_wait, **options) as client:
        try:
            return await operation(client)
        except FaceGuardError as exc:
            return exc


async def call(mode: str, operation: Callable[[Any], Any], **options: Any) -> FaceGuardError:
    outcome = await run(mode, operation, **options)
    assert isinstance(outcome, FaceGuardError), f"expected an error, got {outcome!r}"
    return outcome


def spellings(raw: str) -> dict[str, str]:
    bare = raw.replace("-", "")
    return {
        "lower": raw,
        "upper": raw.upper(),
        "bare": bare,
        "bare upper": bare.upper(),
        "braces": "{" + raw + "}",
        "url-encoded braces": quote("{" + raw.upper() + "}"),
        "url-encoded dashes": raw.replace("-", "%2D"),
        "double-encoded dashes": raw.replace("-", "%252d"),
        "mixed case": raw[:18].upper() + raw[18:],
        "JSON-escaped dashes": raw.replace("-", "\\u002d"),
        "JSON-escaped dashes, escaped again": raw.replace("-", "\\\\u002D"),
    }


def hostile_body(client_request_id: str) -> dict[str, Any]:
    """An error body naming the handles everywhere a service (or a proxy) might put them."""
    return {
        "error": {
            "code": f"FaceNotFound:{FACE_5.upper()}",
            "message": (
                f"Face {FACE_1} is not found; persisted face {{{PERSISTED_1.upper()}}} of "
                f"person {PERSON.replace('-', '')} was removed; see "
                f"/persons/{quote('{' + PERSISTED_2 + '}')}?faceId={FACE_2.replace('-', '%2D')}."
                f" Request {APIM_REQUEST_ID}, client request {client_request_id}."
            ),
            "target": FACE_2.upper().replace("-", ""),
            "details": [
                {
                    "code": "InvalidFaceId",
                    "target": f"faceIds[{FACE_3}]",
                    "message": FACE_1.upper(),
                },
            ],
            "innererror": {
                "code": "FaceIdExpired",
                "faceId": FACE_1,
                FACE_4: "an id as a key",
                "persons": [[{"personId": PERSON.upper(), "persistedFaceIds": [PERSISTED_1]}]],
            },
        },
        "requestId": APIM_REQUEST_ID,
        "clientRequestId": client_request_id,
    }


class Service:
    """A MockTransport handler answering ``status`` with the hostile body."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.client_request_ids: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        client_request_id = request.headers["x-ms-client-request-id"]
        self.client_request_ids.append(client_request_id)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        headers = {
            "apim-request-id": APIM_REQUEST_ID,
            "x-ms-error-code": f"FaceNotFound-{FACE_4}",
        }
        return httpx.Response(status, json=hostile_body(client_request_id), headers=headers)


def get_face(client: Any) -> Any:
    return client.person_groups.get_face("group", PERSON, PERSISTED_1)


# -- a hostile service behind a MockTransport ----------------------------------------------------


@pytest.mark.parametrize("status", [400, 404, 409, 429, 500])
async def test_no_handle_survives_in_any_spelling_or_position(
    mode: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    service = Service(status)
    error = await call(mode, get_face, transport=httpx.MockTransport(service))

    assert isinstance(error, APIStatusError) and error.status_code == status
    assert leaks(everything_about(error, caplog)) == []
    # Redacted, not dropped: each handle became a marker, the same one each time it recurs.
    assert isinstance(error.body, dict)
    inner = error.body["error"]["innererror"]
    assert inner["faceId"].startswith("id#")
    assert inner["faceId"] in error.message
    assert error.body["error"]["details"][0]["message"] == inner["faceId"]
    assert error.error_code is not None and error.error_code.startswith("FaceNotFound:id#")


async def test_the_request_ids_stay_readable(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    service = Service(404)
    error = await call(mode, get_face, transport=httpx.MockTransport(service))

    (client_request_id,) = service.client_request_ids
    assert isinstance(error, NotFoundError)
    assert error.request_id == APIM_REQUEST_ID
    assert error.client_request_id == client_request_id
    assert str(error).startswith(f"[request {APIM_REQUEST_ID}] ")
    # ... also where the service's own text and body quote them.
    assert f"Request {APIM_REQUEST_ID}, client request {client_request_id}." in error.message
    assert isinstance(error.body, dict)
    assert error.body["requestId"] == APIM_REQUEST_ID
    assert error.body["clientRequestId"] == client_request_id
    assert APIM_REQUEST_ID in caplog.text
    assert leaks(everything_about(error, caplog)) == []


async def test_a_request_id_spelled_like_a_handle_is_kept_only_as_itself(mode: str) -> None:
    """Keeping the request ids readable is no loophole: a handle elsewhere in the same text
    is still redacted, whatever its spelling."""

    def respond(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "X", "message": f"{APIM_REQUEST_ID.upper()} {FACE_1}"}}
        return httpx.Response(404, json=body, headers={"apim-request-id": APIM_REQUEST_ID})

    error = await call(mode, get_face, transport=httpx.MockTransport(respond))

    assert isinstance(error, NotFoundError)
    assert APIM_REQUEST_ID.upper() in error.message
    assert FACE_1 not in canonical(error.message) and canonical(FACE_1) not in canonical(str(error))


async def test_a_retried_error_chain_holds_no_handle(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    """503 then 404: every attempt's error is redacted, whatever the retry machinery keeps."""
    service = Service(503, 404)
    error = await call(
        mode,
        get_face,
        transport=httpx.MockTransport(service),
        retry=RetryPolicy(max_attempts=2),
    )

    assert isinstance(error, NotFoundError)
    assert len(service.client_request_ids) == 2
    assert leaks(everything_about(error, caplog)) == []


@pytest.mark.parametrize("form", list(spellings(FACE_1)))
async def test_each_spelling_alone_is_redacted(
    mode: str, form: str, caplog: pytest.LogCaptureFixture
) -> None:
    written = spellings(FACE_1)[form]

    def respond(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "FaceNotFound", "message": f"faceId={written}."}}
        return httpx.Response(400, json=body)

    error = await call(mode, get_face, transport=httpx.MockTransport(respond))

    assert isinstance(error, BadRequestError)
    assert "id#" in error.message
    assert leaks(everything_about(error, caplog), (FACE_1,)) == []


async def test_json_escapes_on_the_wire_are_no_way_round(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    """JSON may escape any character (``\\u002d`` for a dash, ``\\u0041`` for an ``A``): the body
    is parsed before it is redacted, so the escapes are gone by then."""
    escaped_dashes = FACE_1.replace("-", "\\u002d")
    escaped_all = "".join(f"\\u{ord(c):04x}" for c in PERSON)
    content = (
        '{"error": {"code": "FaceNotFound", "message": "face ' + escaped_dashes + '",'
        ' "innererror": {"personId": "' + escaped_all + '"}}}'
    ).encode()

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, content=content, headers={"content-type": "application/json"})

    error = await call(mode, get_face, transport=httpx.MockTransport(respond))

    assert isinstance(error, NotFoundError) and error.message.startswith("FaceNotFound: face id#")
    assert leaks(everything_about(error, caplog)) == []


async def test_a_non_json_error_body_keeps_nothing(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        # The code comes from the header when the body has none: the service's words too.
        headers = {"x-ms-error-code": f"FaceNotFound-{FACE_4.upper()}"}
        return httpx.Response(404, text=f"Face {FACE_1} of {PERSON} not found", headers=headers)

    error = await call(mode, get_face, transport=httpx.MockTransport(respond))

    assert isinstance(error, NotFoundError) and error.body is None
    assert error.error_code is not None and error.error_code.startswith("FaceNotFound-id#")
    assert error.support.error_code == error.error_code
    assert leaks(everything_about(error, caplog)) == []


# -- the emulator -----------------------------------------------------------------------------


async def emulator_errors(mode: str, endpoint: str, transport: Any) -> list[FaceGuardError]:
    """Errors the emulator words itself: unknown person, persisted face and faceIds."""
    options: dict[str, Any] = {"endpoint": endpoint}
    if transport is not None:
        options["transport"] = transport
    created = await run(
        mode, lambda c: c.person_groups.create("group", name="redaction"), **options
    )
    assert not isinstance(created, FaceGuardError), created
    token = consent(endpoint)
    operations: list[Callable[[Any], Any]] = [
        lambda c: c.person_groups.get_person("group", PERSON.upper()),
        lambda c: c.person_groups.get_face("group", PERSON, PERSISTED_1),
        lambda c: c.person_groups.delete_person("group", PERSON),
        lambda c: c.recognition.verify_face_to_face(FACE_1, FACE_2.upper(), consent=token),
        lambda c: c.recognition.find_similar(FACE_3, face_ids=[FACE_4, FACE_5], consent=token),
    ]
    return [await call(mode, operation, **options) for operation in operations]


async def test_emulator_errors_in_process(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    emulator = Emulator()
    errors = await emulator_errors(mode, ENDPOINT, emulator.transport())

    assert all(isinstance(e, (NotFoundError, BadRequestError)) for e in errors), errors
    # The emulator did name them: its raw answers hold the handles.
    assert any("id#" in e.message for e in errors)
    for error in errors:
        assert leaks(everything_about(error, caplog)) == [], error.message


def test_emulator_errors_over_http_and_its_server_log(caplog: pytest.LogCaptureFixture) -> None:
    """Served on loopback, the emulator's server logs each request line (with the filled
    path) to the ``faceguard.emulator`` logger: the handles in it are redacted too."""
    import asyncio

    emulator = Emulator()
    with running(emulator, key=KEY) as server:
        errors = asyncio.run(emulator_errors("sync", server.url, None))

    assert all(isinstance(e, (NotFoundError, BadRequestError)) for e in errors), errors
    assert any(r.name == "faceguard.emulator" for r in caplog.records)
    assert "/persons/" in caplog.text  # the request lines were logged
    for error in errors:
        assert leaks(everything_about(error, caplog)) == [], error.message


# -- long-running operations -------------------------------------------------------------------


@pytest.mark.parametrize("status", ["failed", f"stuck-on-{FACE_1}"])
async def test_training_failures_and_timeouts_hold_no_handle(
    mode: str, status: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The service's reason for a failed training, and a status it made up, are its words."""

    def respond(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(202)
        body = {
            "status": status,
            "createdDateTime": "2026-01-01T00:00:00Z",
            "message": f"Person {PERSON} has a broken face {{{PERSISTED_1.upper()}}}.",
        }
        return httpx.Response(200, json=body)

    def train(client: Any) -> Any:
        return client.person_groups.train("group").wait(timeout=0, interval=0)

    async def train_async(client: Any) -> Any:
        poller = await client.person_groups.train("group")
        return await poller.wait(timeout=0, interval=0)

    operation = train if mode == "sync" else train_async
    error = await call(mode, operation, transport=httpx.MockTransport(respond))

    expected = TrainingFailedError if status == "failed" else PollingTimeoutError
    assert isinstance(error, expected), error
    if status == "failed":
        assert "id#" in error.message  # the reason is kept, its ids are not
    else:
        assert "stuck-on-id#" in str(error)
    assert leaks(everything_about(error, caplog)) == []
