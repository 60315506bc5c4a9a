"""OpenTelemetry spans (the ``otel`` extra): one CLIENT span per logical call, sync and async.

Spans go to the SDK's in-memory exporter through a provider injected into faceguard's tracing
helper for each test only (OpenTelemetry's global provider can be set once per process). The
canary test checks that no attribute carries the image bytes, the key, faceIds or the ids of
the people and groups used in the calls.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("opentelemetry.sdk.trace")

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from _guard_kit import TOKEN, policy
from _samples import FACE_ID, FACE_ID_2, LARGE_PERSON_GROUP_ID, PERSON_ID
from faceguard import AsyncFaceClient, FaceClient, NotFoundError, RetryPolicy, _tracing

ENDPOINT = "https://tracing-tests.cognitiveservices.azure.com"
KEY = "tracing-canary-key-7f3a91"
IMAGE = b"\xff\xd8\xff\xe0" + b"IMAGE-CANARY-BYTES" * 64
REQUEST_ID = "apim-req-0001"
IDENTIFY = "FaceRecognitionOperations_IdentifyFromLargePersonGroup"
GET_PERSON = "PersonGroupOperations_GetLargePersonGroupPerson"

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _tracing.use_tracer_provider(provider)
    try:
        yield exporter
    finally:
        _tracing.use_tracer_provider(None)
        provider.shutdown()


def respond(*steps: tuple[int, object]) -> Handler:
    """Answer with the steps in order (the last one repeats), each with an apim-request-id."""
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        status, body = steps[min(len(calls), len(steps)) - 1]
        return httpx.Response(status, json=body, headers={"apim-request-id": REQUEST_ID})

    return handler


IDENTIFIED = [{"faceId": FACE_ID, "candidates": []}, {"faceId": FACE_ID_2, "candidates": []}]
NOT_FOUND = {"error": {"code": "PersonNotFound", "message": f"Person {PERSON_ID} is not found."}}
DETECTED = [
    {"faceId": FACE_ID, "faceRectangle": {"top": 1, "left": 2, "width": 30, "height": 30}},
]


def identify(client: Any) -> Any:
    return client.recognition.identify_from_large_person_group(
        [FACE_ID, FACE_ID_2], large_person_group_id=LARGE_PERSON_GROUP_ID, consent=TOKEN
    )


def get_person(client: Any) -> Any:
    return client.large_person_groups.get_person(LARGE_PERSON_GROUP_ID, PERSON_ID)


def detect(client: Any) -> Any:
    return client.detection.detect(IMAGE, return_face_id=True, consent=TOKEN)


async def call(mode: str, handler: Handler, operation: Callable[[Any], Any]) -> Any:
    """Run ``operation`` on a guarded sync or async client over ``handler``."""
    options: dict[str, Any] = {
        "api_key": KEY,
        "transport": httpx.MockTransport(handler),
        "guard": policy(),
        "retry": RetryPolicy(jitter=0.0),
    }
    if mode == "sync":
        with FaceClient(ENDPOINT, sleep=lambda _: None, **options) as client:
            return operation(client)

    async def no_sleep(_: float) -> None:
        return None

    async with AsyncFaceClient(ENDPOINT, sleep=no_sleep, **options) as async_client:
        return await operation(async_client)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    [span] = exporter.get_finished_spans()
    return span


async def test_one_client_span_per_call_with_the_route_template(
    mode: str, exporter: InMemorySpanExporter
) -> None:
    result = await call(mode, respond((200, IDENTIFIED)), identify)

    assert [r.face_id for r in result] == [FACE_ID, FACE_ID_2]
    span = only_span(exporter)
    assert span.name == IDENTIFY
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "faceguard"
    attributes = dict(span.attributes or {})
    client_request_id = attributes.pop("faceguard.client_request_id")
    assert isinstance(client_request_id, str)
    assert result.support_info()["client_request_id"] == client_request_id
    assert attributes == {
        "faceguard.operation": IDENTIFY,
        "http.request.method": "POST",
        "url.template": "/identify",
        "http.response.status_code": 200,
        "az.service_request_id": REQUEST_ID,
        "faceguard.retries": 0,
    }


async def test_a_404_is_an_error_span_with_status_and_code_but_no_message(
    mode: str, exporter: InMemorySpanExporter
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await call(mode, respond((404, NOT_FOUND)), get_person)

    span = only_span(exporter)
    assert span.name == GET_PERSON
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "PersonNotFound"
    attributes = dict(span.attributes or {})
    assert attributes["url.template"] == (
        "/largepersongroups/{largePersonGroupId}/persons/{personId}"
    )
    assert attributes["http.response.status_code"] == 404
    assert attributes["faceguard.error_code"] == "PersonNotFound"
    assert attributes["error.type"] == "NotFoundError"
    assert attributes["az.service_request_id"] == REQUEST_ID
    assert attributes["faceguard.client_request_id"] == caught.value.client_request_id
    assert attributes["faceguard.retries"] == 0
    assert not span.events  # no exception event: it would carry the message
    assert "not found" not in repr(span.to_json()).lower()


async def test_a_retried_503_counts_one_retry(mode: str, exporter: InMemorySpanExporter) -> None:
    unavailable = {"error": {"code": "ServiceUnavailable", "message": "try again"}}
    await call(mode, respond((503, unavailable), (200, IDENTIFIED)), identify)

    attributes = only_span(exporter).attributes or {}
    assert attributes["faceguard.retries"] == 1
    assert attributes["http.response.status_code"] == 200


async def test_retries_exhausted_on_503_is_an_error_span_with_the_retries(
    mode: str, exporter: InMemorySpanExporter
) -> None:
    unavailable = {"error": {"code": "ServiceUnavailable", "message": "try again"}}
    with pytest.raises(Exception) as caught:
        await call(mode, respond((503, unavailable)), get_person)

    span = only_span(exporter)
    attributes = span.attributes or {}
    assert span.status.status_code is StatusCode.ERROR
    assert attributes["http.response.status_code"] == 503
    assert attributes["faceguard.retries"] == caught.value.retries_taken  # type: ignore[attr-defined]
    assert attributes["faceguard.retries"] >= 1  # type: ignore[operator]


async def test_a_connection_failure_is_an_error_span_without_status(
    mode: str, exporter: InMemorySpanExporter
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(Exception):  # noqa: B017
        await call(mode, down, get_person)

    span = only_span(exporter)
    attributes = span.attributes or {}
    assert span.status.status_code is StatusCode.ERROR
    assert attributes["error.type"] == "APIConnectionError"
    assert "http.response.status_code" not in attributes


async def test_a_guard_refusal_sends_nothing_and_makes_no_span(
    mode: str, exporter: InMemorySpanExporter
) -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("the guard should have refused before sending")

    def identify_without_consent(client: Any) -> Any:
        return client.recognition.identify_from_large_person_group(
            [FACE_ID], large_person_group_id=LARGE_PERSON_GROUP_ID
        )

    with pytest.raises(Exception):  # noqa: B017
        await call(mode, never, identify_without_consent)
    assert exporter.get_finished_spans() == ()


async def test_no_span_carries_bodies_ids_or_the_key(
    mode: str, exporter: InMemorySpanExporter
) -> None:
    await call(mode, respond((200, DETECTED)), detect)
    await call(mode, respond((200, IDENTIFIED)), identify)
    with pytest.raises(NotFoundError):
        await call(mode, respond((404, NOT_FOUND)), get_person)

    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["FaceDetectionOperations_Detect", IDENTIFY, GET_PERSON]
    canaries = [
        "IMAGE-CANARY",
        KEY,
        FACE_ID,
        FACE_ID_2,
        PERSON_ID,
        LARGE_PERSON_GROUP_ID,
        TOKEN,
        TOKEN[:24],
    ]
    for span in spans:
        dumped = span.to_json()
        for canary in canaries:
            assert canary not in dumped, (span.name, canary)
        for value in (span.attributes or {}).values():
            text = repr(value)
            assert not any(canary in text for canary in canaries)


async def test_without_opentelemetry_calls_still_work(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", None)
    _tracing.use_tracer_provider(None)  # forget the cached import check
    try:
        result = await call(mode, respond((200, IDENTIFIED)), identify)
        assert [r.face_id for r in result] == [FACE_ID, FACE_ID_2]
        assert _tracing._trace is None
    finally:
        monkeypatch.undo()
        _tracing.use_tracer_provider(None)


# Run in a fresh interpreter: OpenTelemetry's global provider can be set once per process.
_GLOBAL_PROVIDER_SCRIPT = """
import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from faceguard import FaceClient

def handler(request):
    body = {"largePersonGroupId": "g1", "name": "group one"}
    return httpx.Response(200, json=body, headers={"apim-request-id": "r-1"})

client = FaceClient(
    "https://tracing-tests.cognitiveservices.azure.com",
    api_key="k" * 32,
    transport=httpx.MockTransport(handler),
)
client.large_person_groups.get("g1")  # no provider yet: not traced, and no error
assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
client.large_person_groups.get("g1")
client.large_person_groups.get("g1")
print("spans", len(exporter.get_finished_spans()))
"""


def test_spans_start_once_the_application_sets_a_global_provider() -> None:
    """Until a provider is set no span is made at all (OpenTelemetry's proxy would only make
    non-recording ones); calls after ``trace.set_tracer_provider`` are traced, by the same
    client, with nothing to re-import or rebuild."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _GLOBAL_PROVIDER_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "spans 2" in done.stdout


def test_no_span_is_entered_while_no_provider_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry import trace

    from faceguard._transport._spec import RequestSpec

    _tracing.use_tracer_provider(None)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.ProxyTracerProvider())
    spec: RequestSpec[Any] = RequestSpec("List", "GET", "/largepersongroups", parse=lambda raw: raw)
    assert _tracing.span_for(spec) is _tracing._NOOP
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.NoOpTracerProvider())
    assert _tracing.span_for(spec) is _tracing._NOOP
    provider = TracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    assert _tracing.span_for(spec) is not _tracing._NOOP
