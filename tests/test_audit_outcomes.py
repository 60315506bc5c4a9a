"""Every audited call leaves its outcome in the audit trail, the failed ones too.

An audited call writes its decision before it is sent and its outcome after. A call that ends
in an error (the service's 4xx or 5xx after retries, no response at all, a response off the
contract) used to leave the decision alone, so the trail could not tell "refused by the
service" from "cut short". The outcome record is an ``api_call`` with reason ``api_error``,
the error's type, status and code, and the request ids; never the error's message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import _guard_kit as kit
from _samples import FACE_ID, LARGE_PERSON_GROUP_ID, PERSON_ID
from faceguard import (
    APIConnectionError,
    APIResponseValidationError,
    AsyncFaceClient,
    AuditError,
    AuditLog,
    FaceClient,
    InternalServerError,
    NotFoundError,
    RetryPolicy,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the audit log is POSIX-only")

ENDPOINT = "https://example.cognitiveservices.azure.com"
SERVICE_TEXT = "Large person group lpg-secret-text is not found."

Handler = Callable[[httpx.Request], httpx.Response]


def status(code: int, error_code: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": error_code, "message": SERVICE_TEXT}}
        return httpx.Response(code, json=body, headers={"apim-request-id": "req-outcome-1"})

    return handler


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def off_contract(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"unexpected": True}, headers={"apim-request-id": "r-2"})


def identify(client: Any) -> Any:
    return client.recognition.identify_from_large_person_group(
        [FACE_ID], large_person_group_id=LARGE_PERSON_GROUP_ID, consent=kit.TOKEN
    )


def enroll(client: Any) -> Any:
    return client.large_person_groups.add_face(
        LARGE_PERSON_GROUP_ID, PERSON_ID, b"\xff\xd8\xff\xe0" + b"x" * 2048, consent=kit.TOKEN
    )


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def run(handler: Handler, call: Callable[[Any], Any], log: AuditLog, mode: str = "sync") -> None:
    policy = dataclasses.replace(kit.policy(), audit=log)
    options: dict[str, Any] = {
        "api_key": "k" * 32,
        "transport": httpx.MockTransport(handler),
        "guard": policy,
        "retry": RetryPolicy(max_attempts=2, jitter=0.0),
    }
    if mode == "sync":
        with FaceClient(ENDPOINT, sleep=lambda _: None, **options) as client:
            call(client)
        return

    async def no_sleep(_: float) -> None:
        return None

    async def scenario() -> None:
        async with AsyncFaceClient(ENDPOINT, sleep=no_sleep, **options) as client:
            await call(client)

    asyncio.run(scenario())


CASES = [
    ("not-found", status(404, "LargePersonGroupNotFound"), NotFoundError, 404),
    ("server-error-after-retries", status(500, "InternalError"), InternalServerError, 500),
    ("no-response", unreachable, APIConnectionError, None),
    ("off-contract", off_contract, APIResponseValidationError, None),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("call", [identify, enroll], ids=["identify", "enroll"])
@pytest.mark.parametrize(
    ("label", "handler", "error", "code"), CASES, ids=[case[0] for case in CASES]
)
def test_a_failed_call_leaves_its_outcome_after_its_decision(
    tmp_path: Path,
    mode: str,
    call: Callable[[Any], Any],
    label: str,
    handler: Handler,
    error: type[Exception],
    code: int | None,
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, fsync=False)
    with pytest.raises(error):
        run(handler, call, log, mode)
    log.close()
    written = [r for r in records(path) if r["event"] != "checkpoint"]
    assert [r["event"] for r in written] == ["decision", "api_call"]
    outcome = written[1]
    assert outcome["reason"] == "api_error"
    assert outcome["details"]["error"] == error.__name__
    assert outcome["details"].get("status_code") == code
    if error is APIConnectionError:
        assert outcome["details"]["request_sent"] is False
    assert SERVICE_TEXT not in path.read_text()  # the service's text is never recorded
    if code is not None:
        assert outcome["request_id"] == "req-outcome-1"


def test_an_outcome_the_log_cannot_take_is_an_audit_error_caused_by_the_api_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, fsync=False)
    policy = dataclasses.replace(kit.policy(), audit=log)
    sent: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        path.chmod(0o400)  # the log turns read-only while the call is on the wire
        log.close()
        return status(404, "LargePersonGroupNotFound")(request)

    with (
        FaceClient(
            ENDPOINT, api_key="k" * 32, transport=httpx.MockTransport(handler), guard=policy
        ) as client,
        pytest.raises(AuditError) as info,
    ):
        identify(client)
    assert sent == [1]
    assert info.value.request_sent is True
    assert isinstance(info.value.__cause__, NotFoundError)
