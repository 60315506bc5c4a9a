"""Request details the contract tables do not show: Accept headers, spec reprs, TTL checks."""

from __future__ import annotations

import httpx
import pytest

from faceguard import FaceClient, GuardError, InvalidInputError
from faceguard._operations import detection, recognition

ENDPOINT = "https://example.cognitiveservices.azure.com"
JPEG = b"\xff\xd8\xff\xe0" + b"IMAGEBYTES" * 200
FACE_ID = "0b6c3c1e-6f3e-4d7e-9d1a-5c2b8f0e9a11"


def _client(seen: list[httpx.Request], response: httpx.Response) -> FaceClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return response

    return FaceClient(ENDPOINT, api_key="k", transport=httpx.MockTransport(handler))


def test_session_image_download_accepts_binary() -> None:
    seen: list[httpx.Request] = []
    with _client(seen, httpx.Response(200, content=b"\x89PNG")) as client:
        assert client.liveness.get_session_image("image-1") == b"\x89PNG"
    assert seen[0].headers["accept"].startswith("application/octet-stream")


def test_json_operations_accept_json() -> None:
    seen: list[httpx.Request] = []
    body = {"personGroupId": "g", "name": "n"}
    with _client(seen, httpx.Response(200, json=body)) as client:
        client.person_groups.get("g")
    assert seen[0].headers["accept"] == "application/json"


def test_a_request_spec_repr_shows_neither_image_bytes_nor_face_ids() -> None:
    spec = detection.detect(JPEG)
    assert "IMAGEBYTES" not in repr(spec)
    spec = recognition.verify_face_to_face(FACE_ID, FACE_ID)
    assert FACE_ID not in repr(spec)


@pytest.mark.parametrize("ttl", [59, 86401])
def test_face_id_ttl_is_checked_even_without_face_ids(ttl: int) -> None:
    with pytest.raises(InvalidInputError) as info:
        detection.detect(JPEG, return_face_id=False, face_id_time_to_live=ttl)
    assert info.value.parameter == "face_id_time_to_live"


@pytest.mark.parametrize("cls_name", ["RequestSpec", "GuardInfo"])
def test_spec_init_matches_the_dataclass_fields(cls_name: str) -> None:
    """RequestSpec and GuardInfo write their ``__init__`` out (the frozen-dataclass one is
    slow): it must take every field, in order, with the field's default."""
    import dataclasses
    import inspect

    from faceguard._transport import _spec

    cls = getattr(_spec, cls_name)
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = dataclasses.fields(cls)
    assert [p.name for p in parameters] == [f.name for f in fields]
    built = cls(**{p.name: "x" for p in parameters if p.default is inspect.Parameter.empty})
    for field in fields:
        if field.default is not dataclasses.MISSING:
            assert getattr(built, field.name) == field.default, field.name
        elif field.default_factory is not dataclasses.MISSING:
            assert getattr(built, field.name) == field.default_factory(), field.name
    assert list(vars(built)) == [f.name for f in fields]
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.route = "y"


def _list_and_get(http_client: httpx.Client, calls: int) -> None:
    with FaceClient("https://res.example.com", api_key="k", http_client=http_client) as client:
        for _ in range(calls):
            client.face_lists.list(return_recognition_model=True)
            client.face_lists.get("list-1")


def test_urls_of_repeated_calls_are_the_same_with_or_without_a_caller_s_params() -> None:
    def record(urls: list[str]) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            urls.append(str(request.url))
            one = b'{"faceListId":"x","name":"n"}'
            body = b"[]" if request.url.path.endswith("facelists") else one
            return httpx.Response(200, content=body)

        return httpx.MockTransport(handler)

    plain: list[str] = []
    _list_and_get(httpx.Client(transport=record(plain)), 2)
    assert (
        plain
        == [
            "https://res.example.com/face/v1.2/facelists?returnRecognitionModel=true",
            "https://res.example.com/face/v1.2/facelists/list-1?returnRecognitionModel=false",
        ]
        * 2
    )
    # A caller's own client params would change the request the guard decided on (and could
    # carry a guarded parameter): the wire check refuses the call, and nothing is sent.
    merged: list[str] = []
    for params in ({"trace": "1"}, {"returnRecognitionModel": "false", "top": "3"}):
        caller = httpx.Client(transport=record(merged), params=params)
        with pytest.raises(GuardError, match=r"not the one the guard decided on|not define"):
            _list_and_get(caller, 1)
    assert merged == []
