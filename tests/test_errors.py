"""Typed errors, their support info, and what they must never contain.

The service is an ``httpx.MockTransport``; every test that talks to it runs on the sync and the
async client. Retries are disabled unless a test is about them, so each status is seen once.
"""

from __future__ import annotations

import inspect
import json
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import faceguard
from _guard_kit import TOKEN, policy, token
from faceguard import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncContentSafetyClient,
    AsyncFaceClient,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ContentSafetyClient,
    FaceClient,
    FaceGuardError,
    GuardError,
    InternalServerError,
    InvalidImageError,
    InvalidInputError,
    NotFoundError,
    OperationError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PollingTimeoutError,
    RateLimitError,
    RetiredAttributeError,
    RetryPolicy,
    TrainingFailedError,
    UnsupportedMediaTypeError,
    _exceptions,
)
from faceguard.models import ContentSafetyErrorResponse

ENDPOINT = "https://errors-tests.cognitiveservices.azure.com"
KEY = "ERRORSKEY" + uuid.uuid4().hex
PERSON_ID = str(uuid.uuid4())
FACE_ID = str(uuid.uuid4())
IMAGE_MARKER = b"IMAGEMARKER" + uuid.uuid4().hex.encode()
JPEG = b"\xff\xd8\xff\xe0" + IMAGE_MARKER + bytes(2048)
NO_RETRY = RetryPolicy(max_attempts=1)
# Enrolling a face of PERSON_ID in "group" needs consent bound to that group and person.
GROUP_CONSENT = token(bindings=[("personGroup", "group", PERSON_ID)])

Handler = Callable[[httpx.Request], httpx.Response]
Operation = Callable[[Any], Any]

NOT_FOUND_BODY = {"error": {"code": "PersonGroupNotFound", "message": "Person group is not found."}}


class Recorder:
    """A MockTransport handler: answers with ``respond`` and keeps every request."""

    def __init__(self, respond: Handler) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> Handler:
    def respond(request: httpx.Request) -> httpx.Response:
        if body is None or isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return respond


async def run(
    mode: str,
    handler: Handler,
    operation: Operation,
    *,
    retry: RetryPolicy = NO_RETRY,
    content_safety: bool = False,
) -> Any:
    """Run one operation on a fresh sync or async client; return its result or its error.

    Face clients get the guard of ``tests/_guard_kit.py``, so calls passing its consent tokens
    reach the service.
    """
    transport = httpx.MockTransport(handler)
    waits: list[float] = []
    guarded: dict[str, Any] = {} if content_safety else {"guard": policy()}
    if mode == "sync":
        sync_cls: type[Any] = ContentSafetyClient if content_safety else FaceClient
        with sync_cls(
            ENDPOINT, api_key=KEY, transport=transport, retry=retry, sleep=waits.append, **guarded
        ) as client:
            try:
                return operation(client)
            except FaceGuardError as exc:
                return exc

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async_cls: type[Any] = AsyncContentSafetyClient if content_safety else AsyncFaceClient
    async with async_cls(
        ENDPOINT, api_key=KEY, transport=transport, retry=retry, sleep=sleep, **guarded
    ) as client:
        try:
            return await operation(client)
        except FaceGuardError as exc:
            return exc


async def expect_error(mode: str, handler: Handler, operation: Operation, **kw: Any) -> Any:
    outcome = await run(mode, handler, operation, **kw)
    assert isinstance(outcome, FaceGuardError), f"expected an error, got {outcome!r}"
    return outcome


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FACEGUARD_ENDPOINT", "FACEGUARD_API_KEY", "FACEGUARD_LOG"):
        monkeypatch.delenv(name, raising=False)


def get_group(client: Any) -> Any:
    return client.person_groups.get("secret-group-id")


# -- a Face error, field by field --------------------------------------------------------------


async def test_not_found_error_carries_everything_a_report_needs(mode: str) -> None:
    recorder = Recorder(answer(404, NOT_FOUND_BODY, {"apim-request-id": "req-404"}))

    error = await expect_error(mode, recorder, get_group)

    assert type(error) is NotFoundError
    assert error.status_code == 404
    assert error.error_code == "PersonGroupNotFound"
    assert "Person group is not found." in error.message
    assert error.request_id == "req-404"
    [request] = recorder.requests
    assert error.client_request_id == request.headers["x-ms-client-request-id"]
    assert error.route == "/persongroups/{personGroupId}"
    assert error.retries_taken == 0
    assert error.body == NOT_FOUND_BODY
    assert str(error).startswith("[request req-404] ")
    assert "PersonGroupNotFound" in str(error)
    assert "GET /persongroups/{personGroupId}" in str(error)
    # The route is the template: the id of the group is not repeated.
    assert "secret-group-id" not in str(error)
    assert "secret-group-id" not in repr(error)


async def test_support_info_of_an_error(mode: str) -> None:
    recorder = Recorder(answer(404, NOT_FOUND_BODY, {"apim-request-id": "req-404"}))

    error = await expect_error(mode, recorder, get_group)

    info = error.support_info()
    assert info == {
        "operation": "PersonGroupOperations_GetPersonGroup",
        "method": "GET",
        "api_path": "/persongroups/{personGroupId}",
        "request_id": "req-404",
        "client_request_id": recorder.requests[0].headers["x-ms-client-request-id"],
        "status_code": 404,
        "error_code": "PersonGroupNotFound",
    }
    json.dumps(info)  # ready to paste into a ticket


async def test_retries_taken_counts_the_retries_before_the_error(mode: str) -> None:
    steps = iter([answer(503), answer(503), answer(404, NOT_FOUND_BODY)])
    recorder = Recorder(lambda request: next(steps)(request))

    error = await expect_error(mode, recorder, get_group, retry=RetryPolicy(jitter=0.0))

    assert type(error) is NotFoundError
    assert error.retries_taken == 2
    assert len(recorder.requests) == 3


async def test_request_id_falls_back_to_x_ms_request_id(mode: str) -> None:
    recorder = Recorder(answer(404, NOT_FOUND_BODY, {"x-ms-request-id": "ms-req-1"}))

    error = await expect_error(mode, recorder, get_group)

    assert error.request_id == "ms-req-1"
    assert str(error).startswith("[request ms-req-1] ")


async def test_without_a_request_id_the_message_has_no_prefix(mode: str) -> None:
    recorder = Recorder(answer(404, NOT_FOUND_BODY))

    error = await expect_error(mode, recorder, get_group)

    assert error.request_id is None
    assert not str(error).startswith("[request")
    assert "request_id" not in error.support_info()


@pytest.mark.parametrize(
    ("operation", "route"),
    [
        (
            lambda c: c.liveness.get_session_result("sess-42"),
            "/detectLiveness-sessions/{sessionId}",
        ),
        (lambda c: c.liveness.delete_session("sess-42"), "/detectLiveness-sessions/{sessionId}"),
        (
            lambda c: c.liveness.get_with_verify_session_result("sess-42"),
            "/detectLivenessWithVerify-sessions/{sessionId}",
        ),
    ],
)
async def test_liveness_errors_name_their_session(
    mode: str, operation: Operation, route: str
) -> None:
    body = {"error": {"code": "SessionNotFound", "message": "Session not found."}}
    recorder = Recorder(answer(404, body, {"apim-request-id": "req-live"}))

    error = await expect_error(mode, recorder, operation)

    info = error.support_info()
    assert info["session_id"] == "sess-42"
    assert info["api_path"] == route
    assert info["request_id"] == "req-live"
    assert info["error_code"] == "SessionNotFound"
    assert error.route == route


# -- error codes and non-JSON bodies -----------------------------------------------------------


async def test_error_code_from_the_header_when_the_body_has_none(mode: str) -> None:
    recorder = Recorder(answer(409, b"", {"x-ms-error-code": "PersonGroupTrainingNotFinished"}))

    error = await expect_error(mode, recorder, get_group)

    assert type(error) is ConflictError
    assert error.error_code == "PersonGroupTrainingNotFinished"
    assert error.support_info()["error_code"] == "PersonGroupTrainingNotFinished"
    assert "PersonGroupTrainingNotFinished" in str(error)


async def test_error_code_from_the_header_when_the_body_is_not_an_error_object(
    mode: str,
) -> None:
    recorder = Recorder(answer(400, {"detail": "nope"}, {"x-ms-error-code": "BadArgument"}))

    error = await expect_error(mode, recorder, get_group)

    assert type(error) is BadRequestError
    assert error.error_code == "BadArgument"
    assert error.body == {"detail": "nope"}


async def test_the_body_code_wins_over_the_header(mode: str) -> None:
    recorder = Recorder(answer(404, NOT_FOUND_BODY, {"x-ms-error-code": "Other"}))

    error = await expect_error(mode, recorder, get_group)

    assert error.error_code == "PersonGroupNotFound"


async def test_html_403_from_a_gateway_is_a_permission_error(mode: str) -> None:
    html = b"<html><head><title>403 Forbidden</title></head><body>nginx</body></html>"
    headers = {"content-type": "text/html; charset=utf-8", "apim-request-id": "req-gw"}
    recorder = Recorder(answer(403, html, headers))

    error = await expect_error(mode, recorder, get_group)

    assert type(error) is PermissionDeniedError
    assert not isinstance(error, json.JSONDecodeError)
    assert error.status_code == 403
    assert error.error_code is None
    assert error.body is None
    assert "text/html" in error.message
    assert str(error).startswith("[request req-gw] ")


@pytest.mark.parametrize(
    "content",
    [
        b"<html>502 Bad Gateway</html>",
        b"\xff\xfe\x00garbage",
        b'"just a string"',
        b"[1, 2, 3]",
        b'{"error": "flat"}',
        b'{"error": {"code": 7, "message": null}}',
        b"{truncated",
    ],
)
async def test_odd_error_bodies_still_give_the_typed_error(mode: str, content: bytes) -> None:
    recorder = Recorder(answer(502, content, {"content-type": "application/json"}))

    error = await expect_error(mode, recorder, get_group)

    assert type(error) is InternalServerError
    assert error.status_code == 502
    assert error.error_code is None
    assert error.message


# -- status -> class ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, PayloadTooLargeError),
        (415, UnsupportedMediaTypeError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
        (422, APIStatusError),
    ],
)
async def test_each_status_maps_to_its_class(
    mode: str, status: int, cls: type[APIStatusError]
) -> None:
    body = {"error": {"code": f"Code{status}", "message": "m"}}
    recorder = Recorder(answer(status, body, {"apim-request-id": f"req-{status}"}))

    error = await expect_error(mode, recorder, get_group)

    assert type(error) is cls
    assert error.status_code == status
    assert error.error_code == f"Code{status}"
    assert error.support_info()["status_code"] == status


async def test_rate_limit_error_carries_retry_after(mode: str) -> None:
    recorder = Recorder(answer(429, NOT_FOUND_BODY, {"Retry-After": "17"}))

    error = await expect_error(mode, recorder, get_group)

    assert type(error) is RateLimitError
    assert error.retry_after == 17.0


# -- success responses that break the contract ---------------------------------------------------


async def test_a_200_that_breaks_the_contract_is_a_validation_error(mode: str) -> None:
    bad = [
        {
            "faceId": FACE_ID,
            "faceRectangle": {"top": "SECRETVALUE", "left": 1, "width": 2, "height": 3},
        }
    ]
    recorder = Recorder(answer(200, bad, {"apim-request-id": "req-bad"}))

    error = await expect_error(
        mode, recorder, lambda c: c.detection.detect(JPEG, return_face_id=True, consent=TOKEN)
    )

    assert type(error) is APIResponseValidationError
    assert len(recorder.requests) == 1
    info = error.support_info()
    assert info["status_code"] == 200
    assert info["request_id"] == "req-bad"
    assert info["api_path"] == "/detect"
    shown = str(error) + repr(error) + "".join(traceback.format_exception(error))
    assert "SECRETVALUE" not in shown
    assert FACE_ID not in shown
    assert TOKEN not in shown
    assert str(error).startswith("[request req-bad] ")


@pytest.mark.parametrize("content", [b"not json at all", b"", b"{}", b"null"])
async def test_a_200_with_an_unreadable_body_is_a_validation_error(
    mode: str, content: bytes
) -> None:
    recorder = Recorder(answer(200, content))

    error = await expect_error(mode, recorder, get_group)

    assert type(error) is APIResponseValidationError


async def test_an_unexpected_success_status_is_an_error(mode: str) -> None:
    # Only the statuses the contract lists as success are parsed; a 201 on this GET is not one.
    recorder = Recorder(answer(201, {"personGroupId": "g", "name": "n"}))

    error = await expect_error(mode, recorder, get_group)

    assert isinstance(error, APIStatusError)
    assert error.status_code == 201


# -- Content Safety's Azure.Core error -------------------------------------------------------------

CONTENT_SAFETY_ERROR = {
    "error": {
        "code": "InvalidRequestBody",
        "message": "The request body is invalid.",
        "target": "blocklistItems",
        "details": [
            {"code": "TooManyItems", "message": "At most 100 items.", "target": "blocklistItems"}
        ],
        "innererror": {"code": "ItemLimit", "innererror": {"code": "ItemLimitPerCall"}},
    }
}


async def test_content_safety_rich_error_body(mode: str) -> None:
    headers = {"apim-request-id": "cs-req-1", "x-ms-error-code": "InvalidRequestBody"}
    recorder = Recorder(answer(400, CONTENT_SAFETY_ERROR, headers))

    error = await expect_error(
        mode,
        recorder,
        lambda c: c.blocklists.add_or_update_items("my-list", ["bad word"]),
        content_safety=True,
    )

    assert type(error) is BadRequestError
    assert error.error_code == "InvalidRequestBody"
    assert "The request body is invalid." in error.message
    assert error.request_id == "cs-req-1"
    assert error.route == "/text/blocklists/{blocklistName}:addOrUpdateBlocklistItems"
    assert "my-list" not in str(error)
    assert error.body == CONTENT_SAFETY_ERROR
    parsed = ContentSafetyErrorResponse.model_validate(error.body)
    assert parsed.error.details is not None
    assert parsed.error.details[0].code == "TooManyItems"
    assert parsed.error.innererror is not None
    assert parsed.error.innererror.innererror is not None
    assert parsed.error.innererror.innererror.code == "ItemLimitPerCall"
    info = error.support_info()
    assert info["operation"] == "TextBlocklists_AddOrUpdateBlocklistItems"
    assert info["request_id"] == "cs-req-1"


async def test_content_safety_not_found(mode: str) -> None:
    body = {"error": {"code": "NotFound", "message": "Blocklist not found.", "details": []}}
    recorder = Recorder(answer(404, body, {"apim-request-id": "cs-req-2"}))

    error = await expect_error(
        mode, recorder, lambda c: c.blocklists.get("missing-list"), content_safety=True
    )

    assert type(error) is NotFoundError
    assert error.error_code == "NotFound"
    assert error.route == "/text/blocklists/{blocklistName}"
    assert recorder.requests[0].url.params["api-version"] == "2024-09-01"


# -- the error tree --------------------------------------------------------------------------------


def _error_classes() -> list[type[BaseException]]:
    return [
        obj
        for name in _exceptions.__all__
        if inspect.isclass(obj := getattr(_exceptions, name)) and issubclass(obj, BaseException)
    ]


def test_every_error_class_is_a_faceguard_error() -> None:
    classes = _error_classes()
    assert len(classes) == len(_exceptions.__all__) - 1  # all but SupportInfo
    for cls in classes:
        assert issubclass(cls, FaceGuardError), cls
        assert getattr(faceguard, cls.__name__) is cls


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (InvalidInputError, ValueError),
        (InvalidImageError, InvalidInputError),
        (RetiredAttributeError, GuardError),
        (APIConnectionError, APIError),
        (APITimeoutError, APIConnectionError),
        (APIStatusError, APIError),
        (APIResponseValidationError, APIError),
        (BadRequestError, APIStatusError),
        (AuthenticationError, APIStatusError),
        (PermissionDeniedError, APIStatusError),
        (NotFoundError, APIStatusError),
        (ConflictError, APIStatusError),
        (PayloadTooLargeError, APIStatusError),
        (UnsupportedMediaTypeError, APIStatusError),
        (RateLimitError, APIStatusError),
        (InternalServerError, APIStatusError),
        (TrainingFailedError, OperationError),
        (PollingTimeoutError, OperationError),
        (PollingTimeoutError, TimeoutError),
    ],
)
def test_error_tree(child: type, parent: type) -> None:
    assert issubclass(child, parent)


def test_configuration_and_guard_errors_are_not_api_errors() -> None:
    for cls in (ConfigurationError, GuardError, InvalidInputError, OperationError):
        assert not issubclass(cls, APIError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [(500, InternalServerError), (504, InternalServerError), (599, InternalServerError)],
)
def test_every_5xx_is_an_internal_server_error(status: int, cls: type) -> None:
    assert _exceptions.status_error_class(status) is cls


# -- results carry support info ------------------------------------------------------------------


async def test_a_model_result_carries_support_info(mode: str) -> None:
    recorder = Recorder(
        answer(200, {"personGroupId": "g", "name": "n"}, {"apim-request-id": "req-ok"})
    )

    group = await run(mode, recorder, get_group)

    info = group.support_info()
    assert info["request_id"] == "req-ok"
    assert info["api_path"] == "/persongroups/{personGroupId}"
    assert info["status_code"] == 200
    assert info["client_request_id"] == recorder.requests[0].headers["x-ms-client-request-id"]
    assert "error_code" not in info


async def test_a_list_result_carries_support_info(mode: str) -> None:
    faces = [{"faceRectangle": {"top": 1, "left": 2, "width": 3, "height": 4}}]
    recorder = Recorder(answer(200, faces, {"apim-request-id": "req-list"}))

    result = await run(mode, recorder, lambda c: c.detection.detect(JPEG))

    assert len(result) == 1
    info = result.support_info()
    assert info["request_id"] == "req-list"
    assert info["api_path"] == "/detect"
    assert info["operation"] == "FaceDetectionOperations_Detect"


async def test_a_liveness_result_carries_session_and_model_version(mode: str) -> None:
    session = {
        "sessionId": "sess-7",
        "authToken": "tok",
        "status": "Succeeded",
        "modelVersion": "2024-11-15",
        "results": {"attempts": []},
    }
    recorder = Recorder(answer(200, session, {"apim-request-id": "req-live"}))

    result = await run(mode, recorder, lambda c: c.liveness.get_session_result("sess-7"))

    info = result.support_info()
    assert info["session_id"] == "sess-7"
    assert info["model_version"] == "2024-11-15"
    assert info["request_id"] == "req-live"
    assert info["api_path"] == "/detectLiveness-sessions/{sessionId}"


async def test_a_content_safety_result_carries_support_info(mode: str) -> None:
    recorder = Recorder(answer(200, {"blocklistName": "my-list"}, {"apim-request-id": "cs-req-ok"}))

    result = await run(mode, recorder, lambda c: c.blocklists.get("my-list"), content_safety=True)

    assert result.support_info()["request_id"] == "cs-req-ok"
    assert result.support_info()["api_path"] == "/text/blocklists/{blocklistName}"


# -- nothing secret in an error -------------------------------------------------------------------


def add_face_with_consent(client: Any) -> Any:
    return client.person_groups.add_face("group", PERSON_ID, JPEG, consent=GROUP_CONSENT)


def _everything_shown(error: BaseException) -> str:
    parts = [str(error), repr(error), repr(error.args), "".join(traceback.format_exception(error))]
    if isinstance(error, APIError):
        parts.append(repr(error.support_info()))
        parts.append(repr(error.support))
    return "\n".join(parts)


@pytest.mark.parametrize(
    "handler",
    [
        answer(400, {"error": {"code": "InvalidImage", "message": "Decoding error."}}),
        answer(500, b"<html>oops</html>", {"content-type": "text/html"}),
        answer(200, {"persistedFaceId": 12}),
    ],
)
async def test_errors_never_hold_the_image_or_the_key(mode: str, handler: Handler) -> None:
    recorder = Recorder(handler)
    error = await expect_error(mode, recorder, add_face_with_consent)

    assert isinstance(error, APIError)  # the service answered: not a refusal before sending
    assert len(recorder.requests) == 1
    shown = _everything_shown(error)
    assert KEY not in shown
    assert IMAGE_MARKER.decode() not in shown
    assert PERSON_ID not in shown
    assert GROUP_CONSENT not in shown


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ReadTimeout])
async def test_connection_errors_never_hold_the_image_or_the_key(
    mode: str, exc_type: type[httpx.TransportError]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("no route", request=request)

    error = await expect_error(mode, Recorder(handler), add_face_with_consent)

    assert isinstance(error, APIConnectionError)
    shown = _everything_shown(error)
    assert KEY not in shown
    assert IMAGE_MARKER.decode() not in shown
    assert GROUP_CONSENT not in shown
    # The underlying httpx error (whose request holds the key header) is not chained at all:
    # neither as the cause nor as a context reachable through error.__context__.
    assert error.__cause__ is None
    assert error.__context__ is None


async def test_invalid_input_errors_do_not_echo_the_value(mode: str) -> None:
    secret_id = "NOT-A-UUID-" + uuid.uuid4().hex
    error = await expect_error(
        mode, Recorder(answer(200)), lambda c: c.recognition.verify_face_to_face(secret_id, FACE_ID)
    )

    assert isinstance(error, InvalidInputError)
    assert error.parameter == "face_id1"
    assert secret_id not in _everything_shown(error)


async def test_a_validation_error_keeps_no_chained_parser_error(mode: str) -> None:
    # pydantic's ValidationError quotes the offending values; it must not be reachable.
    bad = {"personGroupId": 12345, "name": "SECRETNAME"}
    error = await expect_error(mode, Recorder(answer(200, bad)), get_group)

    assert type(error) is APIResponseValidationError
    assert error.__cause__ is None
    assert error.__context__ is None
