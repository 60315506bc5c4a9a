# ruff: noqa: RUF001 - fullwidth and other look-alike characters are the attack here
"""R31 through the clients: ``name`` and ``userData`` of persons, faces and lists hold no
primary identifier (email, phone number, national id) unless an audited override says why.

Every method that sends a ``name`` or ``userData`` is attacked (sync and async, body and query),
the refusal is a ``PersonalDataError`` naming the field and the kind but never the value, and
nothing reaches the service. An ``Override("primary_identifier", reason)`` lets one call
through and leaves an audit record; an override of another rule does not.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import faceguard
from _guard_kit import TOKEN, policy
from _samples import (
    FACE_LIST_ID,
    LARGE_FACE_LIST_ID,
    LARGE_PERSON_GROUP_ID,
    PERSISTED_FACE_ID,
    PERSON_GROUP_ID,
    PERSON_ID,
)
from faceguard import (
    AsyncFaceClient,
    FaceClient,
    GuardError,
    PersonalDataError,
    RetryPolicy,
)
from faceguard._guard._audit import AuditLog
from faceguard._guard._override import Override
from faceguard._guard._policy import GuardPolicy

ENDPOINT = "https://r31.cognitiveservices.azure.com"
JPEG = b"\xff\xd8\xff\xe0" + bytes(4000)
EMAIL = "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"
PHONE = "call +44 20 7946 0958"
SSN = "ssn 123-45-6789"
REASON = "migration of legacy records, DPO approval 2026-11"


class Service:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST" and request.url.path.endswith("/persons"):
            return httpx.Response(200, json={"personId": PERSON_ID})
        if request.method == "POST" and "persistedfaces" in request.url.path:
            return httpx.Response(200, json={"persistedFaceId": PERSISTED_FACE_ID})
        return httpx.Response(200)


def _client(service: Service, audit: AuditLog | None = None) -> FaceClient:
    guard = policy()
    if audit is not None:
        guard = GuardPolicy(**{**vars(guard), "audit": audit})
    return FaceClient(
        ENDPOINT,
        api_key="k",
        transport=httpx.MockTransport(service),
        retry=RetryPolicy(max_attempts=1),
        guard=guard,
    )


Call = Callable[[FaceClient, str, dict[str, Any]], object]

# (label, field the value goes in, call) for every method that sends a name or userData.
CALLS: list[tuple[str, str, Call]] = []
for _group, _cid, _kind in (
    ("person_groups", PERSON_GROUP_ID, "person"),
    ("large_person_groups", LARGE_PERSON_GROUP_ID, "person"),
    ("face_lists", FACE_LIST_ID, "list"),
    ("large_face_lists", LARGE_FACE_LIST_ID, "list"),
):

    def _g(c: FaceClient, group: str = _group) -> Any:
        return getattr(c, group)

    CALLS += [
        (
            f"{_group}.create name",
            "name",
            lambda c, v, o, g=_g, i=_cid: g(c).create(i, name=v, **o),
        ),
        (
            f"{_group}.create user_data",
            "user_data",
            lambda c, v, o, g=_g, i=_cid: g(c).create(i, name="Staff", user_data=v, **o),
        ),
        (
            f"{_group}.update name",
            "name",
            lambda c, v, o, g=_g, i=_cid: g(c).update(i, name=v, **o),
        ),
        (
            f"{_group}.update user_data",
            "user_data",
            lambda c, v, o, g=_g, i=_cid: g(c).update(i, user_data=v, **o),
        ),
    ]
    if _kind == "person":
        CALLS += [
            (
                f"{_group}.create_person name",
                "name",
                lambda c, v, o, g=_g, i=_cid: g(c).create_person(i, name=v, **o),
            ),
            (
                f"{_group}.create_person user_data",
                "user_data",
                lambda c, v, o, g=_g, i=_cid: g(c).create_person(i, name="Ada", user_data=v, **o),
            ),
            (
                f"{_group}.update_person name",
                "name",
                lambda c, v, o, g=_g, i=_cid: g(c).update_person(i, PERSON_ID, name=v, **o),
            ),
            (
                f"{_group}.update_person user_data",
                "user_data",
                lambda c, v, o, g=_g, i=_cid: g(c).update_person(i, PERSON_ID, user_data=v, **o),
            ),
            (
                f"{_group}.add_face user_data",
                "user_data",
                lambda c, v, o, g=_g, i=_cid: g(c).add_face(
                    i, PERSON_ID, JPEG, user_data=v, consent=TOKEN, **o
                ),
            ),
            (
                f"{_group}.update_face user_data",
                "user_data",
                lambda c, v, o, g=_g, i=_cid: g(c).update_face(
                    i, PERSON_ID, PERSISTED_FACE_ID, user_data=v, **o
                ),
            ),
        ]
    else:
        CALLS.append(
            (
                f"{_group}.add_face user_data",
                "user_data",
                lambda c, v, o, g=_g, i=_cid: g(c).add_face(
                    i, JPEG, user_data=v, consent=TOKEN, **o
                ),
            )
        )
        if _group == "large_face_lists":
            CALLS.append(
                (
                    f"{_group}.update_face user_data",
                    "user_data",
                    lambda c, v, o, g=_g, i=_cid: g(c).update_face(
                        i, PERSISTED_FACE_ID, user_data=v, **o
                    ),
                )
            )

IDS = [label for label, _, _ in CALLS]


@pytest.mark.parametrize(("label", "field", "call"), CALLS, ids=IDS)
@pytest.mark.parametrize(
    ("value", "kind"), [(EMAIL, "email"), (PHONE, "phone"), (SSN, "national_id")]
)
def test_primary_identifiers_are_refused_naming_field_and_kind(
    label: str, field: str, call: Call, value: str, kind: str
) -> None:
    service = Service()
    with _client(service) as client, pytest.raises(PersonalDataError) as info:
        call(client, value, {})
    assert service.requests == [], f"{label}: sent before the refusal"
    error = info.value
    assert error.field == field and kind in error.kinds
    assert field in str(error) and kind in str(error)
    assert value not in str(error) and value not in repr(error)
    assert "7946" not in str(error) and "6789" not in str(error)


@pytest.mark.parametrize(("label", "field", "call"), CALLS, ids=IDS)
def test_an_audited_override_lets_one_call_through(
    label: str, field: str, call: Call, tmp_path: Path
) -> None:
    service = Service()
    audit = AuditLog(tmp_path / "audit.jsonl")
    try:
        with _client(service, audit) as client:
            call(client, PHONE, {"override": Override("primary_identifier", REASON)})
            assert len(service.requests) == 1
            with pytest.raises(PersonalDataError):  # the next call needs its own override
                call(client, PHONE, {})
            with pytest.raises(PersonalDataError):  # another rule's override does not count
                call(client, PHONE, {"override": Override("liveness_session_cap", REASON)})
    finally:
        audit.close()
    assert len(service.requests) == 1
    text = (tmp_path / "audit.jsonl").read_text()
    records = [json.loads(line) for line in text.splitlines()]
    overrides = [r for r in records if r["event"] == "override"]
    assert len(overrides) == 1, label
    assert (
        "primary_identifier" in overrides[0]["reason"] and "DPO approval" in overrides[0]["reason"]
    )
    assert "7946" not in text, "the identifier itself reached the audit trail"


@pytest.mark.parametrize(("label", "field", "call"), CALLS, ids=IDS)
def test_ordinary_names_and_user_data_pass(label: str, field: str, call: Call) -> None:
    service = Service()
    with _client(service) as client:
        call(client, "Ada Lovelace, front desk 3, enrolled 2024-01-15", {})
        call(client, "0ab6bb5b-b5b3-4e4b-9f3c-5ad24b8e0c6f", {})
    assert len(service.requests) == 2


def test_an_override_without_an_identifier_is_not_audited(tmp_path: Path) -> None:
    service = Service()
    audit = AuditLog(tmp_path / "audit.jsonl")
    try:
        with _client(service, audit) as client:
            client.person_groups.create(
                PERSON_GROUP_ID, name="Staff", override=Override("primary_identifier", REASON)
            )
    finally:
        audit.close()
    assert len(service.requests) == 1
    text = (tmp_path / "audit.jsonl").read_text() if (tmp_path / "audit.jsonl").exists() else ""
    assert '"override"' not in text


def test_the_error_is_a_guard_error_exported_from_the_package() -> None:
    assert issubclass(PersonalDataError, GuardError)
    assert faceguard.PersonalDataError is PersonalDataError
    assert "PersonalDataError" in faceguard.__all__


def test_the_async_client_refuses_too() -> None:
    service = Service()

    async def run() -> None:
        async with AsyncFaceClient(
            ENDPOINT, api_key="k", transport=httpx.MockTransport(service), guard=policy()
        ) as client:
            with pytest.raises(PersonalDataError):
                await client.large_person_groups.create_person(
                    LARGE_PERSON_GROUP_ID, name="Ada", user_data="alice at example dot com"
                )
            await client.large_person_groups.create_person(
                LARGE_PERSON_GROUP_ID,
                name="Ada",
                user_data="alice at example dot com",
                override=Override("primary_identifier", REASON),
            )

    asyncio.run(run())
    assert len(service.requests) == 1


def test_both_fields_are_checked_and_the_first_bad_one_named() -> None:
    service = Service()
    with _client(service) as client, pytest.raises(PersonalDataError) as info:
        client.person_groups.create_person(PERSON_GROUP_ID, name="Ada", user_data=SSN)
    assert info.value.field == "user_data"
    assert info.value.kinds == ("national_id",)
