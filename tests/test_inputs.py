"""Every input rule of the Face v1.2 and Content Safety 2024-09-01 contracts is checked before
anything is sent.

Each refusal test asserts the typed error (exact class), its ``parameter`` and ``rule`` where the
error has them, and that the mock transport saw no request at all. Each rule also has an
"accepted" twin at the boundary, so a check that refused everything would fail too.

The Face client carries the guard of ``tests/_guard_kit.py``, and every call that needs consent
passes a token bound to exactly the container (and person) it names, so an accepted twin
really reaches the service and a refusal is the input check's, never the guard's.
"""

from __future__ import annotations

import builtins
import io
import json
import math
import pathlib
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _guard_kit import TOKEN, policy, token
from faceguard import (
    AsyncFaceClient,
    ContentSafetyClient,
    DetectionModel,
    FaceAttributeType,
    FaceClient,
    FindSimilarMatchMode,
    InvalidImageError,
    InvalidInputError,
    LivenessOperationMode,
    RecognitionModel,
    RetiredAttributeError,
    RetryPolicy,
)
from faceguard._transport._retry import parse_retry_after
from faceguard.models import TextBlocklistItemInput

ENDPOINT = "https://unit-test.cognitiveservices.azure.com"
KB = 1024
MB = 1024 * 1024
IMAGE_MAX = 6 * MB

PERSON = "6f2b5c1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b"
FACE = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
FACE2 = "11111111-2222-4333-8444-555555555555"
DEVICE = "3f0c9a52-7d1e-4b8a-9c6f-2e5d8a1b4c7e"  # random-looking, as the liveness guard asks


def consent(kind: str, container_id: Any, person_id: Any = None) -> str:
    """A consent token bound to exactly this container (and person).

    Only strings can be bound; any other id (or an empty one) is refused by the input checks
    before the guard sees the call, so the kit's TOKEN stands in for it.
    """
    ids = (container_id,) if person_id is None else (container_id, person_id)
    if not all(isinstance(v, str) and v for v in ids):
        return TOKEN
    return token(bindings=[(kind, container_id, person_id)])


def uuids(count: int) -> list[str]:
    return [str(uuid.UUID(int=i + 1)) for i in range(count)]


def image(magic: bytes = b"\xff\xd8\xff\xe0", size: int = 2 * KB) -> bytes:
    return magic + b"\x00" * (size - len(magic))


JPEG = image()

# -- a mock service that records every request ------------------------------------------------

_SESSION = {"sessionId": "s-1", "authToken": "t", "status": "NotStarted"}


def _respond(request: httpx.Request) -> httpx.Response:
    path, method = request.url.path, request.method
    # One container by id: whatever the id ("train", "persons", "detect"...).
    one = re.fullmatch(r"/face/v1\.2/(\w+)/[^/]+", path)
    if method == "GET" and one and one.group(1) not in ("sessionImages",):
        return httpx.Response(200, json=_ANY_RESOURCE)
    # Exact routes: a container may be called "detect" or "verify" too.
    if path in ("/face/v1.2/detect", "/face/v1.2/identify", "/face/v1.2/findsimilars"):
        return httpx.Response(200, json=[])
    if path.endswith("/train"):
        return httpx.Response(202)
    if path.endswith("/training"):
        status = {"status": "succeeded", "createdDateTime": "2025-01-01T00:00:00Z"}
        return httpx.Response(200, json=status)
    if path == "/face/v1.2/group":
        return httpx.Response(200, json={"groups": [], "messyGroup": []})
    if path == "/face/v1.2/verify":
        return httpx.Response(200, json={"isIdentical": False, "confidence": 0.1})
    if "persistedfaces" in path and method == "POST":
        return httpx.Response(200, json={"persistedFaceId": FACE})
    if path.endswith("/persons") and method == "POST":
        return httpx.Response(200, json={"personId": PERSON})
    # Collection roots only: a container may itself be named "persongroups".
    if path.endswith("/persons") or re.fullmatch(
        r"/face/v1\.2/(largefacelists|persongroups|largepersongroups)", path
    ):
        return httpx.Response(200, json=[])
    if path.endswith("/persistedfaces") and method == "GET":
        return httpx.Response(200, json=[])
    if path.endswith("/detectLiveness-sessions"):
        return httpx.Response(200, json={**_SESSION, "results": {"attempts": []}})
    if path.endswith("/detectLivenessWithVerify-sessions"):
        results = {"verifyReferences": [], "attempts": []}
        return httpx.Response(200, json={**_SESSION, "results": results})
    if path.endswith(":addOrUpdateBlocklistItems"):
        return httpx.Response(200, json={"blocklistItems": []})
    if path.endswith(":removeBlocklistItems") or (method == "DELETE" and "/contentsafety/" in path):
        return httpx.Response(204)
    if path.endswith("/text:analyze"):
        return httpx.Response(200, json={"categoriesAnalysis": []})
    if path.endswith("/blocklistItems") or path.endswith("/text/blocklists"):
        return httpx.Response(200, json={"value": []})
    if "/blocklistItems/" in path:
        return httpx.Response(200, json={"blocklistItemId": "i", "text": "t"})
    if "/text/blocklists/" in path:
        return httpx.Response(200, json={"blocklistName": "x"})
    if method == "GET":
        # Any single Face resource: the fields every container, person and face model needs.
        return httpx.Response(200, json=_ANY_RESOURCE)
    return httpx.Response(200)


_ANY_RESOURCE = {
    "name": "n",
    "personGroupId": "g",
    "largePersonGroupId": "g",
    "faceListId": "l",
    "largeFaceListId": "l",
    "personId": PERSON,
    "persistedFaceId": FACE,
}


class Service:
    """An ``httpx.MockTransport`` handler that records every request it receives."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return _respond(request)

    @property
    def last(self) -> httpx.Request:
        assert self.requests, "no request was sent"
        return self.requests[-1]

    def last_json(self) -> Any:
        return json.loads(self.last.content)


def _no_sleep(_seconds: float) -> None:
    raise AssertionError("input tests never retry or sleep")


@pytest.fixture
def service() -> Service:
    return Service()


@pytest.fixture
def face(service: Service) -> Iterator[FaceClient]:
    with FaceClient(
        ENDPOINT,
        api_key="unit-test-key",
        transport=httpx.MockTransport(service),
        retry=RetryPolicy(max_attempts=1),
        sleep=_no_sleep,
        guard=policy(),
    ) as client:
        yield client


@pytest.fixture
def safety(service: Service) -> Iterator[ContentSafetyClient]:
    with ContentSafetyClient(
        ENDPOINT,
        api_key="unit-test-key",
        transport=httpx.MockTransport(service),
        retry=RetryPolicy(max_attempts=1),
        sleep=_no_sleep,
    ) as client:
        yield client


def refused(
    service: Service,
    error: type[Exception],
    call: Callable[[], object],
    *,
    parameter: str | None = None,
    rule: str | None = None,
) -> Any:
    """Run ``call``; it must raise exactly ``error`` and send nothing."""
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error, f"expected {error.__name__}, got {info.value!r}"
    assert service.requests == [], "a request was sent before the input was refused"
    if parameter is not None:
        assert info.value.parameter == parameter  # type: ignore[attr-defined]
    if rule is not None:
        assert info.value.rule == rule  # type: ignore[attr-defined]
    return info.value


# =============================================================================================
# Images
# =============================================================================================

# (operation, parameter name) pairs that take an image.
IMAGE_OPS: dict[str, tuple[Callable[[FaceClient, Any], object], str]] = {
    "detect": (lambda c, img: c.detection.detect(img), "image"),
    "face_list_add": (
        lambda c, img: c.face_lists.add_face("list-1", img, consent=consent("faceList", "list-1")),
        "image",
    ),
    "large_face_list_add": (
        lambda c, img: c.large_face_lists.add_face(
            "list-1", img, consent=consent("largeFaceList", "list-1")
        ),
        "image",
    ),
    "person_group_add": (
        lambda c, img: c.person_groups.add_face(
            "group-1", PERSON, img, consent=consent("personGroup", "group-1", PERSON)
        ),
        "image",
    ),
    "large_person_group_add": (
        lambda c, img: c.large_person_groups.add_face(
            "group-1", PERSON, img, consent=consent("largePersonGroup", "group-1", PERSON)
        ),
        "image",
    ),
    "liveness_verify": (
        lambda c, img: c.liveness.create_with_verify_session(
            verify_image=img, liveness_operation_mode="Passive", consent=TOKEN
        ),
        "verify_image",
    ),
}


@pytest.fixture(params=sorted(IMAGE_OPS))
def image_op(request: pytest.FixtureRequest) -> tuple[Callable[[FaceClient, Any], object], str]:
    return IMAGE_OPS[request.param]


def _jpeg_file(tmp_path: pathlib.Path, data: bytes = JPEG) -> pathlib.Path:
    path = tmp_path / "face.jpg"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "form",
    ["bytes", "bytearray", "memoryview", "bytesio", "binary_file", "path", "str_path"],
)
def test_local_image_forms_are_accepted_and_sent_as_bytes(face, service, tmp_path, form):
    path = _jpeg_file(tmp_path)
    with path.open("rb") as handle:
        value = {
            "bytes": JPEG,
            "bytearray": bytearray(JPEG),
            "memoryview": memoryview(JPEG),
            "bytesio": io.BytesIO(JPEG),
            "binary_file": handle,
            "path": path,
            "str_path": str(path),
        }[form]
        face.detection.detect(value)
    assert len(service.requests) == 1
    assert service.last.content == JPEG
    assert service.last.headers["content-type"] == "application/octet-stream"


def test_local_image_accepted_by_every_image_operation(face, service, image_op):
    call, _ = image_op
    call(face, JPEG)
    assert len(service.requests) == 1
    assert JPEG in service.last.content


def test_https_url_is_accepted_and_sent_as_json(face, service):
    url = "https://images.example.com/face.jpg"
    face.detection.detect(url)
    assert service.last_json() == {"url": url}
    assert service.last.headers["content-type"] == "application/json"


def test_url_accepted_by_add_face(face, service):
    url = "https://images.example.com/face.jpg"
    face.person_groups.add_face(
        "group-1", PERSON, url, consent=consent("personGroup", "group-1", PERSON)
    )
    assert service.last_json() == {"url": url}


@pytest.mark.parametrize(
    ("magic", "name"),
    [
        (b"\xff\xd8\xff\xe0", "jpeg"),
        (b"\xff\xd8\xff\xe1", "jpeg-exif"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"GIF87a", "gif87a"),
        (b"GIF89a", "gif89a"),
        (b"BM", "bmp"),
    ],
)
def test_supported_magic_numbers_are_accepted(face, service, magic, name):
    data = image(magic)
    face.detection.detect(data)
    assert service.last.content == data, name


@pytest.mark.parametrize(
    "data",
    [
        image(b"%PDF-1.7\n"),
        image(b"RIFF\x00\x00\x00\x00WEBP"),
        image(b"II*\x00"),
        image(b"\x00\x00\x00\x18ftypheic"),
        image(b"GIF90a"),
        image(b"\x89PNG\r\n"),
        b"\x00" * (2 * KB),
        ("A" * 2 * KB).encode(),
    ],
    ids=["pdf", "webp", "tiff", "heic", "gif90a", "truncated-png", "zeros", "text"],
)
def test_non_image_bytes_are_refused(face, service, data):
    err = refused(
        service,
        InvalidImageError,
        lambda: face.detection.detect(data),
        parameter="image",
        rule="format",
    )
    assert str(err).startswith("image:")


def test_non_image_bytes_refused_by_every_image_operation(face, service, image_op):
    call, parameter = image_op
    refused(
        service,
        InvalidImageError,
        lambda: call(face, image(b"%PDF-1.7\n")),
        parameter=parameter,
        rule="format",
    )


@pytest.mark.parametrize("size", [0, 1, KB - 1])
def test_images_under_1_kb_are_refused(face, service, size):
    data = image(b"\xff\xd8\xff", max(size, 3))[:size]
    refused(
        service,
        InvalidImageError,
        lambda: face.detection.detect(data),
        parameter="image",
        rule="size",
    )


def test_images_of_exactly_1_kb_and_6_mb_are_accepted(face, service):
    face.detection.detect(image(size=KB))
    face.detection.detect(image(size=IMAGE_MAX))
    assert [len(r.content) for r in service.requests] == [KB, IMAGE_MAX]


def test_bytes_over_6_mb_are_refused(face, service, image_op):
    call, parameter = image_op
    data = image(size=IMAGE_MAX + 1)
    refused(service, InvalidImageError, lambda: call(face, data), parameter=parameter, rule="size")


class _RecordingStream(io.BytesIO):
    """A binary stream that records how much each ``read`` asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int | None] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.asked.append(size)
        return super().read(size)


def test_file_object_over_6_mb_is_refused_without_reading_it_all(face, service):
    stream = _RecordingStream(image(size=IMAGE_MAX + 5 * KB))
    refused(
        service,
        InvalidImageError,
        lambda: face.detection.detect(stream),
        parameter="image",
        rule="size",
    )
    assert stream.asked, "the stream was never read"
    assert all(size is not None and 0 < size <= IMAGE_MAX + 1 for size in stream.asked)
    assert stream.tell() <= IMAGE_MAX + 1


@pytest.fixture
def big_sparse_jpeg(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "big.jpg"
    with path.open("wb") as handle:
        handle.write(b"\xff\xd8\xff\xe0")
        handle.truncate(IMAGE_MAX + 1)  # sparse: 6 MB + 1 byte without writing them
    return path


@pytest.mark.parametrize("as_str", [False, True])
def test_path_over_6_mb_is_refused_from_its_size_without_reading(
    face, service, big_sparse_jpeg, monkeypatch, as_str
):
    def forbidden(*_args: object, **_kwargs: object) -> Any:
        raise AssertionError("the oversized file was opened; stat() alone must refuse it")

    monkeypatch.setattr(pathlib.Path, "read_bytes", forbidden)
    monkeypatch.setattr(pathlib.Path, "open", forbidden)
    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(io, "open", forbidden)
    value = str(big_sparse_jpeg) if as_str else big_sparse_jpeg
    refused(
        service,
        InvalidImageError,
        lambda: face.detection.detect(value),
        parameter="image",
        rule="size",
    )


@pytest.mark.parametrize("as_str", [False, True])
def test_missing_file_is_refused(face, service, tmp_path, as_str):
    missing = tmp_path / "no-such-face.jpg"
    value = str(missing) if as_str else missing
    refused(
        service,
        InvalidImageError,
        lambda: face.detection.detect(value),
        parameter="image",
        rule="file",
    )


def test_directory_is_refused(face, service, tmp_path):
    refused(
        service,
        InvalidImageError,
        lambda: face.detection.detect(tmp_path),
        parameter="image",
        rule="file",
    )


@pytest.mark.parametrize("content", [JPEG, b"hello " * 400], ids=["jpeg-bytes", "ascii-bytes"])
def test_text_mode_file_is_refused(face, service, tmp_path, content):
    # A JPEG opened in text mode cannot even be decoded; the typed error must come first.
    path = _jpeg_file(tmp_path, content)
    with path.open("r", encoding="utf-8") as handle:
        refused(
            service,
            InvalidImageError,
            lambda: face.detection.detect(handle),
            parameter="image",
            rule="type",
        )


def test_string_io_is_refused(face, service):
    stream = io.StringIO("x" * 2 * KB)
    refused(
        service,
        InvalidImageError,
        lambda: face.detection.detect(stream),
        parameter="image",
        rule="type",
    )


def test_closed_file_is_refused(face, service, tmp_path):
    handle = _jpeg_file(tmp_path).open("rb")
    handle.close()
    refused(
        service,
        InvalidImageError,
        lambda: face.detection.detect(handle),
        parameter="image",
        rule="file",
    )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://images.example.com/face.jpg",
        "FTP://images.example.com/face.jpg",
        "file:///etc/passwd",
        "gopher://images.example.com/face.jpg",
        "https://",
        "http:///face.jpg",
        "https://images.example.com/" + "a" * 2100,
    ],
)
def test_non_http_urls_are_refused(face, service, url):
    refused(
        service,
        InvalidImageError,
        lambda: face.detection.detect(url),
        parameter="image",
        rule="url",
    )


@pytest.mark.parametrize("value", [None, 42, 3.5, ["face.jpg"], object()])
def test_other_image_types_are_refused(face, service, value):
    refused(
        service,
        InvalidImageError,
        lambda: face.detection.detect(value),
        parameter="image",
        rule="type",
    )


def test_liveness_verify_image_must_not_be_a_url(face, service):
    err = refused(
        service,
        InvalidInputError,  # exactly InvalidInputError: the URL itself is well-formed
        lambda: face.liveness.create_with_verify_session(
            verify_image="https://images.example.com/face.jpg", liveness_operation_mode="Passive"
        ),
        parameter="verify_image",
        rule="type",
    )
    assert not isinstance(err, InvalidImageError)


def test_liveness_verify_image_bytes_are_sent_as_multipart(face, service):
    face.liveness.create_with_verify_session(
        verify_image=JPEG, liveness_operation_mode="Passive", consent=TOKEN
    )
    assert service.last.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="verifyImage"; filename="verify.jpeg"' in service.last.content
    assert JPEG in service.last.content


async def test_async_client_refuses_bad_image_before_sending(service):
    async with AsyncFaceClient(
        ENDPOINT, api_key="k", transport=httpx.MockTransport(service)
    ) as client:
        with pytest.raises(InvalidImageError) as info:
            await client.detection.detect(image(b"%PDF-1.7\n"))
        assert info.value.rule == "format"
        with pytest.raises(InvalidInputError) as info2:
            await client.person_groups.get("Not Valid")
        assert info2.value.parameter == "container_id"
    assert service.requests == []


# =============================================================================================
# Collection ids, person and face ids, names, userData
# =============================================================================================

BAD_COLLECTION_IDS = {
    "uppercase": ("Group1", "pattern"),
    "space": ("my group", "pattern"),
    "65-chars": ("a" * 65, "length"),
    "empty": ("", "length"),
    "trailing-newline": ("group\n", "pattern"),
    "slash": ("a/b", "pattern"),
    "dot": ("a.b", "pattern"),
    "non-ascii": ("gr\u00fcppe", "pattern"),
    "not-a-string": (123, "type"),
}

# (operation taking a collection id, the parameter it is reported as)
COLLECTION_OPS: dict[str, tuple[Callable[[FaceClient, Any], object], str]] = {
    "pg.create": (lambda c, i: c.person_groups.create(i, name="n"), "container_id"),
    "pg.get": (lambda c, i: c.person_groups.get(i), "container_id"),
    "pg.update": (lambda c, i: c.person_groups.update(i, name="n"), "container_id"),
    "pg.delete": (lambda c, i: c.person_groups.delete(i), "container_id"),
    "pg.train": (lambda c, i: c.person_groups.train(i), "container_id"),
    "pg.list_persons": (lambda c, i: c.person_groups.list_persons(i), "container_id"),
    "pg.create_person": (lambda c, i: c.person_groups.create_person(i, name="n"), "container_id"),
    "lpg.get": (lambda c, i: c.large_person_groups.get(i), "container_id"),
    "lpg.get_person": (
        lambda c, i: c.large_person_groups.get_person(i, PERSON),
        "container_id",
    ),
    "fl.create": (lambda c, i: c.face_lists.create(i, name="n"), "container_id"),
    "fl.add_face": (
        lambda c, i: c.face_lists.add_face(i, JPEG, consent=consent("faceList", i)),
        "container_id",
    ),
    "lfl.delete_face": (lambda c, i: c.large_face_lists.delete_face(i, FACE), "container_id"),
    "lfl.get_training_status": (
        lambda c, i: c.large_face_lists.get_training_status(i),
        "container_id",
    ),
    "identify.pg": (
        lambda c, i: c.recognition.identify_from_person_group(
            [FACE], person_group_id=i, consent=consent("personGroup", i)
        ),
        "person_group_id",
    ),
    "identify.lpg": (
        lambda c, i: c.recognition.identify_from_large_person_group(
            [FACE], large_person_group_id=i, consent=consent("largePersonGroup", i)
        ),
        "large_person_group_id",
    ),
    "identify.dpg": (
        lambda c, i: c.recognition.identify_from_dynamic_person_group(
            [FACE], dynamic_person_group_id=i, consent=consent("dynamicPersonGroup", i)
        ),
        "dynamic_person_group_id",
    ),
    "verify.pg": (
        lambda c, i: c.recognition.verify_from_person_group(
            FACE, person_group_id=i, person_id=PERSON, consent=consent("personGroup", i, PERSON)
        ),
        "person_group_id",
    ),
    "verify.lpg": (
        lambda c, i: c.recognition.verify_from_large_person_group(
            FACE,
            large_person_group_id=i,
            person_id=PERSON,
            consent=consent("largePersonGroup", i, PERSON),
        ),
        "large_person_group_id",
    ),
    "similar.fl": (
        lambda c, i: c.recognition.find_similar_from_face_list(
            FACE, face_list_id=i, consent=consent("faceList", i)
        ),
        "face_list_id",
    ),
    "similar.lfl": (
        lambda c, i: c.recognition.find_similar_from_large_face_list(
            FACE, large_face_list_id=i, consent=consent("largeFaceList", i)
        ),
        "large_face_list_id",
    ),
}


@pytest.mark.parametrize("op", sorted(COLLECTION_OPS))
@pytest.mark.parametrize("case", sorted(BAD_COLLECTION_IDS))
def test_bad_collection_ids_are_refused(face, service, op, case):
    call, parameter = COLLECTION_OPS[op]
    value, rule = BAD_COLLECTION_IDS[case]
    refused(service, InvalidInputError, lambda: call(face, value), parameter=parameter, rule=rule)


@pytest.mark.parametrize("op", sorted(COLLECTION_OPS))
@pytest.mark.parametrize("value", ["a", "a" * 64, "my-group_01", "0-_-0"])
def test_valid_collection_ids_are_accepted(face, service, op, value):
    call, _ = COLLECTION_OPS[op]
    result = call(face, value)
    if type(result).__name__ == "SyncPager":
        list(result)
    assert len(service.requests) == 1
    sent = service.last.url.path + service.last.content.decode("latin-1")
    assert value in sent


_COLLECTION_ID = re.compile(r"^[a-z0-9\-_]+$")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(r"[a-z0-9\-_]{1,64}", fullmatch=True))
def test_property_valid_collection_ids_are_sent_verbatim(value):
    service = Service()
    with FaceClient(
        ENDPOINT, api_key="k", transport=httpx.MockTransport(service), guard=policy()
    ) as client:
        client.person_groups.get(value)
        client.recognition.identify_from_person_group(
            [FACE], person_group_id=value, consent=consent("personGroup", value)
        )
    get, identify = service.requests
    assert get.url.raw_path.split(b"?")[0] == f"/face/v1.2/persongroups/{value}".encode()
    assert json.loads(identify.content)["personGroupId"] == value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.text(alphabet="abcAB-_ /.\n0\u00e9", max_size=70)))
def test_property_arbitrary_collection_ids_are_accepted_only_when_valid(value):
    service = Service()
    with FaceClient(ENDPOINT, api_key="k", transport=httpx.MockTransport(service)) as client:
        try:
            client.person_groups.get(value)
        except InvalidInputError as err:
            assert err.parameter == "container_id"
            assert not (_COLLECTION_ID.fullmatch(value) and len(value) <= 64)
            assert service.requests == []
        else:
            assert _COLLECTION_ID.fullmatch(value)
            assert 1 <= len(value) <= 64
            assert len(service.requests) == 1


BAD_UUIDS = {
    "word": "not-a-uuid",
    "empty": "",
    "short": "6f2b5c1e-3a4d-4e5f-8a9b-0c1d2e3f4a5",
    "urn": f"urn:uuid:{PERSON}",
    "braces": "{" + PERSON + "}",
    "bare-hex": PERSON.replace("-", ""),
    "plus-sign": "+" + PERSON.replace("-", "")[1:],
    "underscore": PERSON.replace("-", "")[:7] + "_" + PERSON.replace("-", "")[8:],
    "path-like": f"{PERSON}/../x",
}

UUID_OPS: dict[str, tuple[Callable[[FaceClient, str], object], str]] = {
    "pg.get_person": (lambda c, v: c.person_groups.get_person("g", v), "person_id"),
    "pg.update_person": (
        lambda c, v: c.person_groups.update_person("g", v, name="n"),
        "person_id",
    ),
    "pg.delete_person": (lambda c, v: c.person_groups.delete_person("g", v), "person_id"),
    "pg.add_face": (
        lambda c, v: c.person_groups.add_face("g", v, JPEG, consent=consent("personGroup", "g", v)),
        "person_id",
    ),
    "lpg.get_face.person": (
        lambda c, v: c.large_person_groups.get_face("g", v, FACE),
        "person_id",
    ),
    "lpg.get_face.face": (
        lambda c, v: c.large_person_groups.get_face("g", PERSON, v),
        "persisted_face_id",
    ),
    "fl.delete_face": (lambda c, v: c.face_lists.delete_face("l", v), "persisted_face_id"),
    "lfl.update_face": (
        lambda c, v: c.large_face_lists.update_face("l", v, user_data="u"),
        "persisted_face_id",
    ),
    "verify.face_id1": (
        lambda c, v: c.recognition.verify_face_to_face(v, FACE, consent=TOKEN),
        "face_id1",
    ),
    "verify.face_id2": (
        lambda c, v: c.recognition.verify_face_to_face(FACE, v, consent=TOKEN),
        "face_id2",
    ),
    "verify.pd": (
        lambda c, v: c.recognition.verify_from_person_directory(
            FACE, person_id=v, consent=consent("personDirectory", "default", v)
        ),
        "person_id",
    ),
    "similar.face_id": (
        lambda c, v: c.recognition.find_similar(v, face_ids=[FACE], consent=TOKEN),
        "face_id",
    ),
    "similar.face_ids": (
        lambda c, v: c.recognition.find_similar(FACE, face_ids=[FACE, v], consent=TOKEN),
        "face_ids[1]",
    ),
    "identify.face_ids": (
        lambda c, v: c.recognition.identify_from_person_group(
            [v], person_group_id="g", consent=consent("personGroup", "g")
        ),
        "face_ids[0]",
    ),
    "group.face_ids": (
        lambda c, v: c.recognition.group([FACE, FACE2, v], consent=TOKEN),
        "face_ids[2]",
    ),
    "identify.pd.person_ids": (
        lambda c, v: c.recognition.identify_from_person_directory(
            [FACE], person_ids=[PERSON, v], consent=consent("personDirectory", "default")
        ),
        "person_ids[1]",
    ),
}


@pytest.mark.parametrize("op", sorted(UUID_OPS))
@pytest.mark.parametrize("case", sorted(BAD_UUIDS))
def test_ids_must_be_uuids(face, service, op, case):
    call, parameter = UUID_OPS[op]
    refused(
        service,
        InvalidInputError,
        lambda: call(face, BAD_UUIDS[case]),
        parameter=parameter,
        rule="uuid",
    )


@pytest.mark.parametrize("op", sorted(UUID_OPS))
@pytest.mark.parametrize("value", [FACE2, FACE2.upper()])
def test_canonical_uuids_are_accepted_and_sent_verbatim(face, service, op, value):
    call, _ = UUID_OPS[op]
    call(face, value)
    assert len(service.requests) == 1
    assert value in service.last.url.path + service.last.content.decode("latin-1")


def test_uuid_given_as_non_string_is_refused(face, service):
    refused(
        service,
        InvalidInputError,
        lambda: face.person_groups.get_person("g", uuid.UUID(PERSON)),
        parameter="person_id",
        rule="type",
    )


NAME_OPS: dict[str, Callable[[FaceClient, Any], object]] = {
    "pg.create": lambda c, n: c.person_groups.create("g", name=n),
    "lpg.update": lambda c, n: c.large_person_groups.update("g", name=n),
    "fl.create": lambda c, n: c.face_lists.create("l", name=n),
    "lfl.update": lambda c, n: c.large_face_lists.update("l", name=n),
    "pg.create_person": lambda c, n: c.person_groups.create_person("g", name=n),
    "lpg.update_person": lambda c, n: c.large_person_groups.update_person("g", PERSON, name=n),
}


@pytest.mark.parametrize("op", sorted(NAME_OPS))
@pytest.mark.parametrize(("value", "rule"), [("", "length"), ("n" * 129, "length"), (7, "type")])
def test_names_must_be_1_to_128_characters(face, service, op, value, rule):
    refused(
        service, InvalidInputError, lambda: NAME_OPS[op](face, value), parameter="name", rule=rule
    )


@pytest.mark.parametrize("op", sorted(NAME_OPS))
@pytest.mark.parametrize("value", ["n", "n" * 128, "\U0001f600" * 128])
def test_names_of_1_to_128_characters_are_accepted(face, service, op, value):
    NAME_OPS[op](face, value)
    assert service.last_json()["name"] == value


def test_update_needs_name_or_user_data(face, service):
    refused(
        service,
        InvalidInputError,
        lambda: face.person_groups.update("g"),
        parameter="name",
        rule="required",
    )


COLLECTION_USER_DATA_OPS: dict[str, Callable[[FaceClient, str], object]] = {
    "pg.create": lambda c, u: c.person_groups.create("g", name="n", user_data=u),
    "lpg.update": lambda c, u: c.large_person_groups.update("g", user_data=u),
    "fl.create": lambda c, u: c.face_lists.create("l", name="n", user_data=u),
    "lfl.update": lambda c, u: c.large_face_lists.update("l", user_data=u),
    "pg.create_person": lambda c, u: c.person_groups.create_person("g", name="n", user_data=u),
    "lpg.update_person": lambda c, u: c.large_person_groups.update_person("g", PERSON, user_data=u),
}


@pytest.mark.parametrize("op", sorted(COLLECTION_USER_DATA_OPS))
def test_collection_and_person_user_data_up_to_16_kb(face, service, op):
    call = COLLECTION_USER_DATA_OPS[op]
    refused(
        service,
        InvalidInputError,
        lambda: call(face, "u" * (16 * KB + 1)),
        parameter="user_data",
        rule="length",
    )
    call(face, "u" * (16 * KB))
    assert service.last_json()["userData"] == "u" * (16 * KB)


FACE_USER_DATA_OPS: dict[str, Callable[[FaceClient, str], object]] = {
    "pg.update_face": lambda c, u: c.person_groups.update_face("g", PERSON, FACE, user_data=u),
    "lpg.update_face": lambda c, u: c.large_person_groups.update_face(
        "g", PERSON, FACE, user_data=u
    ),
    "lfl.update_face": lambda c, u: c.large_face_lists.update_face("l", FACE, user_data=u),
}

ADD_FACE_OPS: dict[str, Callable[[FaceClient, str], object]] = {
    "pg.add_face": lambda c, u: c.person_groups.add_face(
        "g", PERSON, JPEG, user_data=u, consent=consent("personGroup", "g", PERSON)
    ),
    "lpg.add_face": lambda c, u: c.large_person_groups.add_face(
        "g", PERSON, JPEG, user_data=u, consent=consent("largePersonGroup", "g", PERSON)
    ),
    "fl.add_face": lambda c, u: c.face_lists.add_face(
        "l", JPEG, user_data=u, consent=consent("faceList", "l")
    ),
    "lfl.add_face": lambda c, u: c.large_face_lists.add_face(
        "l", JPEG, user_data=u, consent=consent("largeFaceList", "l")
    ),
    "lfl.add_face_url": lambda c, u: c.large_face_lists.add_face(
        "l",
        "https://images.example.com/f.jpg",
        user_data=u,
        consent=consent("largeFaceList", "l"),
    ),
}


@pytest.mark.parametrize("op", sorted(FACE_USER_DATA_OPS))
def test_face_user_data_up_to_1_kb_in_body(face, service, op):
    call = FACE_USER_DATA_OPS[op]
    refused(
        service,
        InvalidInputError,
        lambda: call(face, "u" * (KB + 1)),
        parameter="user_data",
        rule="length",
    )
    call(face, "u" * KB)
    assert service.last_json() == {"userData": "u" * KB}


@pytest.mark.parametrize("op", sorted(ADD_FACE_OPS))
def test_add_face_user_data_up_to_1_kb_in_query(face, service, op):
    call = ADD_FACE_OPS[op]
    refused(
        service,
        InvalidInputError,
        lambda: call(face, "u" * (KB + 1)),
        parameter="user_data",
        rule="length",
    )
    call(face, "u" * KB)
    assert service.last.url.params["userData"] == "u" * KB


# =============================================================================================
# Numbers and counts
# =============================================================================================

IDENTIFY_OPS: dict[str, Callable[..., object]] = {
    "pg": lambda c, ids, **kw: c.recognition.identify_from_person_group(
        ids, person_group_id="g", consent=consent("personGroup", "g"), **kw
    ),
    "lpg": lambda c, ids, **kw: c.recognition.identify_from_large_person_group(
        ids, large_person_group_id="g", consent=consent("largePersonGroup", "g"), **kw
    ),
    "pd": lambda c, ids, **kw: c.recognition.identify_from_person_directory(
        ids, person_ids=["*"], consent=consent("personDirectory", "default"), **kw
    ),
    "dpg": lambda c, ids, **kw: c.recognition.identify_from_dynamic_person_group(
        ids, dynamic_person_group_id="g", consent=consent("dynamicPersonGroup", "g"), **kw
    ),
}

SIMILAR_OPS: dict[str, Callable[..., object]] = {
    "ids": lambda c, **kw: c.recognition.find_similar(FACE, face_ids=[FACE2], consent=TOKEN, **kw),
    "fl": lambda c, **kw: c.recognition.find_similar_from_face_list(
        FACE, face_list_id="l", consent=consent("faceList", "l"), **kw
    ),
    "lfl": lambda c, **kw: c.recognition.find_similar_from_large_face_list(
        FACE, large_face_list_id="l", consent=consent("largeFaceList", "l"), **kw
    ),
}


@pytest.mark.parametrize("op", sorted(IDENTIFY_OPS))
@pytest.mark.parametrize(
    ("value", "rule"), [(0, "range"), (101, "range"), (-1, "range"), (True, "type"), (5.0, "type")]
)
def test_identify_candidates_1_to_100(face, service, op, value, rule):
    refused(
        service,
        InvalidInputError,
        lambda: IDENTIFY_OPS[op](face, [FACE], max_num_of_candidates_returned=value),
        parameter="max_num_of_candidates_returned",
        rule=rule,
    )


@pytest.mark.parametrize("op", sorted(IDENTIFY_OPS))
@pytest.mark.parametrize("value", [1, 100])
def test_identify_candidates_boundaries_accepted(face, service, op, value):
    IDENTIFY_OPS[op](face, [FACE], max_num_of_candidates_returned=value)
    assert service.last_json()["maxNumOfCandidatesReturned"] == value


@pytest.mark.parametrize("op", sorted(SIMILAR_OPS))
@pytest.mark.parametrize(("value", "rule"), [(0, "range"), (1001, "range"), (False, "type")])
def test_find_similar_candidates_1_to_1000(face, service, op, value, rule):
    refused(
        service,
        InvalidInputError,
        lambda: SIMILAR_OPS[op](face, max_num_of_candidates_returned=value),
        parameter="max_num_of_candidates_returned",
        rule=rule,
    )


@pytest.mark.parametrize("op", sorted(SIMILAR_OPS))
@pytest.mark.parametrize("value", [1, 101, 1000])
def test_find_similar_candidates_boundaries_accepted(face, service, op, value):
    SIMILAR_OPS[op](face, max_num_of_candidates_returned=value)
    assert service.last_json()["maxNumOfCandidatesReturned"] == value


@pytest.mark.parametrize("op", sorted(IDENTIFY_OPS))
@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (math.nan, "type"),
        (math.inf, "type"),
        (-0.1, "range"),
        (1.1, "range"),
        (True, "type"),
        (False, "type"),
        ("0.5", "type"),
    ],
)
def test_confidence_threshold_0_to_1(face, service, op, value, rule):
    refused(
        service,
        InvalidInputError,
        lambda: IDENTIFY_OPS[op](face, [FACE], confidence_threshold=value),
        parameter="confidence_threshold",
        rule=rule,
    )


@pytest.mark.parametrize("op", sorted(IDENTIFY_OPS))
@pytest.mark.parametrize("value", [0, 0.0, 0.5, 1, 1.0])
def test_confidence_threshold_boundaries_accepted(face, service, op, value):
    IDENTIFY_OPS[op](face, [FACE], confidence_threshold=value)
    assert service.last_json()["confidenceThreshold"] == float(value)


def test_liveness_verify_confidence_threshold_0_to_1(face, service):
    refused(
        service,
        InvalidInputError,
        lambda: face.liveness.create_with_verify_session(
            verify_image=JPEG, liveness_operation_mode="Passive", verify_confidence_threshold=1.5
        ),
        parameter="verify_confidence_threshold",
        rule="range",
    )


@pytest.mark.parametrize("session_image", [False, True])
@pytest.mark.parametrize(
    ("value", "rule"),
    [(59, "range"), (86401, "range"), (0, "range"), (True, "type"), (600.0, "type")],
)
def test_face_id_time_to_live_60_to_86400(face, service, session_image, value, rule):
    def call() -> object:
        if session_image:
            return face.detection.detect_from_session_image(
                "img-1", return_face_id=True, face_id_time_to_live=value
            )
        return face.detection.detect(JPEG, return_face_id=True, face_id_time_to_live=value)

    refused(service, InvalidInputError, call, parameter="face_id_time_to_live", rule=rule)


@pytest.mark.parametrize("value", [60, 86400])
def test_face_id_time_to_live_boundaries_accepted(face, service, value):
    face.detection.detect(JPEG, return_face_id=True, face_id_time_to_live=value, consent=TOKEN)
    assert service.last.url.params["faceIdTimeToLive"] == str(value)


@pytest.mark.parametrize("op", sorted(IDENTIFY_OPS))
@pytest.mark.parametrize("count", [0, 11])
def test_identify_takes_1_to_10_face_ids(face, service, op, count):
    refused(
        service,
        InvalidInputError,
        lambda: IDENTIFY_OPS[op](face, uuids(count)),
        parameter="face_ids",
        rule="count",
    )


@pytest.mark.parametrize("op", sorted(IDENTIFY_OPS))
@pytest.mark.parametrize("count", [1, 10])
def test_identify_face_id_counts_accepted(face, service, op, count):
    IDENTIFY_OPS[op](face, uuids(count))
    assert service.last_json()["faceIds"] == uuids(count)


@pytest.mark.parametrize("op", sorted(IDENTIFY_OPS))
def test_identify_face_ids_must_be_a_list_not_a_string(face, service, op):
    refused(
        service,
        InvalidInputError,
        lambda: IDENTIFY_OPS[op](face, FACE),
        parameter="face_ids",
        rule="type",
    )


@pytest.mark.parametrize("count", [0, 1, 1001])
def test_group_takes_2_to_1000_face_ids(face, service, count):
    refused(
        service,
        InvalidInputError,
        lambda: face.recognition.group(uuids(count)),
        parameter="face_ids",
        rule="count",
    )


@pytest.mark.parametrize("count", [2, 1000])
def test_group_face_id_counts_accepted(face, service, count):
    face.recognition.group(uuids(count), consent=TOKEN)
    assert service.last_json()["faceIds"] == uuids(count)


@pytest.mark.parametrize("count", [0, 1001])
def test_find_similar_takes_at_most_1000_candidate_face_ids(face, service, count):
    refused(
        service,
        InvalidInputError,
        lambda: face.recognition.find_similar(FACE, face_ids=uuids(count)),
        parameter="face_ids",
        rule="count",
    )


def test_find_similar_1000_candidate_face_ids_accepted(face, service):
    face.recognition.find_similar(FACE, face_ids=uuids(1000), consent=TOKEN)
    assert len(service.last_json()["faceIds"]) == 1000


@pytest.mark.parametrize(
    ("person_ids", "parameter", "rule"),
    [
        ([], "person_ids", "count"),
        (uuids(31), "person_ids", "count"),
        ("*", "person_ids", "type"),
        (["*", PERSON], "person_ids[0]", "uuid"),
        ([PERSON, "*"], "person_ids[1]", "uuid"),
        (["**"], "person_ids[0]", "uuid"),
    ],
)
def test_person_directory_person_ids(face, service, person_ids, parameter, rule):
    refused(
        service,
        InvalidInputError,
        lambda: face.recognition.identify_from_person_directory([FACE], person_ids=person_ids),
        parameter=parameter,
        rule=rule,
    )


@pytest.mark.parametrize("person_ids", [["*"], uuids(1), uuids(30)])
def test_person_directory_person_ids_accepted(face, service, person_ids):
    face.recognition.identify_from_person_directory(
        [FACE], person_ids=person_ids, consent=consent("personDirectory", "default")
    )
    assert service.last_json()["personIds"] == person_ids


@pytest.mark.parametrize(
    ("target", "parameter", "rule"),
    [
        ([1, 2, 3], "target_face", "count"),
        ([1, 2, 3, 4, 5], "target_face", "count"),
        ([], "target_face", "count"),
        ("1,2,3,4", "target_face", "count"),
        (1234, "target_face", "count"),
        ([-1, 0, 10, 10], "target_face[0]", "range"),
        ([0, -5, 10, 10], "target_face[1]", "range"),
        ([0, 0, 0, 10], "target_face", "range"),
        ([0, 0, 10, 0], "target_face", "range"),
        ([0, 0, -10, 10], "target_face[2]", "range"),
        ([0.5, 0, 10, 10], "target_face[0]", "type"),
        ([True, 0, 10, 10], "target_face[0]", "type"),
        (["0", 0, 10, 10], "target_face[0]", "type"),
    ],
)
def test_target_face_is_four_non_negative_ints_with_positive_size(
    face, service, target, parameter, rule
):
    refused(
        service,
        InvalidInputError,
        lambda: face.person_groups.add_face("g", PERSON, JPEG, target_face=target),
        parameter=parameter,
        rule=rule,
    )


@pytest.mark.parametrize(
    ("target", "wire"), [([0, 0, 1, 1], "0,0,1,1"), ((10, 20, 30, 40), "10,20,30,40")]
)
def test_target_face_accepted_as_csv(face, service, target, wire):
    face.large_face_lists.add_face(
        "l", JPEG, target_face=target, consent=consent("largeFaceList", "l")
    )
    assert service.last.url.params["targetFace"] == wire


PAGED_OPS: dict[str, Callable[..., object]] = {
    "pg.list": lambda c, **kw: c.person_groups.list(**kw),
    "lpg.list": lambda c, **kw: c.large_person_groups.list(**kw),
    "lfl.list": lambda c, **kw: c.large_face_lists.list(**kw),
    "pg.list_persons": lambda c, **kw: c.person_groups.list_persons("g", **kw),
    "lpg.list_persons": lambda c, **kw: c.large_person_groups.list_persons("g", **kw),
    "lfl.list_faces": lambda c, **kw: c.large_face_lists.list_faces("l", **kw),
}


@pytest.mark.parametrize("op", sorted(PAGED_OPS))
@pytest.mark.parametrize(
    ("kwargs", "parameter", "rule"),
    [
        ({"top": 0}, "top", "range"),
        ({"top": 1001}, "top", "range"),
        ({"top": True}, "top", "type"),
        ({"start": "s" * 65}, "start", "length"),
        ({"start": ""}, "start", "length"),
    ],
)
def test_paged_lists_check_top_and_start_when_called(face, service, op, kwargs, parameter, rule):
    # Refused when the pager is created, not later while iterating.
    refused(
        service,
        InvalidInputError,
        lambda: PAGED_OPS[op](face, **kwargs),
        parameter=parameter,
        rule=rule,
    )


@pytest.mark.parametrize("op", sorted(PAGED_OPS))
def test_paged_lists_accept_top_and_start_boundaries(face, service, op):
    list(PAGED_OPS[op](face, top=1000, start="s" * 64))
    list(PAGED_OPS[op](face, top=1, start="s"))
    sent = [(r.url.params["top"], r.url.params["start"]) for r in service.requests]
    assert sent == [("1000", "s" * 64), ("1", "s")]


# =============================================================================================
# Content Safety
# =============================================================================================

BLOCKLIST_OPS: dict[str, Callable[[ContentSafetyClient, Any], object]] = {
    "create_or_update": lambda c, n: c.blocklists.create_or_update(n, description="d"),
    "get": lambda c, n: c.blocklists.get(n),
    "delete": lambda c, n: c.blocklists.delete(n),
    "add_or_update_items": lambda c, n: c.blocklists.add_or_update_items(n, ["x"]),
    "remove_items": lambda c, n: c.blocklists.remove_items(n, ["i"]),
    "list_items": lambda c, n: c.blocklists.list_items(n),
    "get_item": lambda c, n: c.blocklists.get_item(n, "i"),
}


@pytest.mark.parametrize("op", sorted(BLOCKLIST_OPS))
@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("bad name", "pattern"),
        ("bad/name", "pattern"),
        ("bad:name", "pattern"),
        ("na\u00efve", "pattern"),
        ("x" * 65, "length"),
        ("", "length"),
        (None, "type"),
    ],
)
def test_blocklist_name_pattern_and_length(safety, service, op, name, rule):
    refused(
        service,
        InvalidInputError,
        lambda: BLOCKLIST_OPS[op](safety, name),
        parameter="blocklist_name",
        rule=rule,
    )


@pytest.mark.parametrize("op", sorted(BLOCKLIST_OPS))
@pytest.mark.parametrize("name", ["Aa0._~-", "x" * 64, "blocklist"])
def test_blocklist_names_accepted(safety, service, op, name):
    result = BLOCKLIST_OPS[op](safety, name)
    if type(result).__name__ == "SyncPager":
        list(result)
    assert len(service.requests) == 1
    assert service.last.url.path.startswith(f"/contentsafety/text/blocklists/{name}")
    assert service.last.url.params["api-version"] == "2024-09-01"


def test_analyze_text_blocklist_names_follow_the_pattern(safety, service):
    refused(
        service,
        InvalidInputError,
        lambda: safety.analyze_text("hello", blocklist_names=["ok", "not ok"]),
        parameter="blocklist_names",
        rule="pattern",
    )
    refused(
        service,
        InvalidInputError,
        lambda: safety.analyze_text("hello", blocklist_names="ok"),
        parameter="blocklist_names",
        rule="type",
    )


def test_100_items_are_added_in_one_request_and_none_dropped(safety, service):
    items = [f"term-{i}" for i in range(100)]
    safety.blocklists.add_or_update_items("list", items)
    assert len(service.requests) == 1
    assert [item["text"] for item in service.last_json()["blocklistItems"]] == items


@pytest.mark.parametrize("count", [0, 101, 250])
def test_add_items_refuses_more_than_100_instead_of_dropping(safety, service, count):
    refused(
        service,
        InvalidInputError,
        lambda: safety.blocklists.add_or_update_items("list", [f"t{i}" for i in range(count)]),
        parameter="items",
        rule="count",
    )


def test_add_items_refuses_a_bare_string(safety, service):
    refused(
        service,
        InvalidInputError,
        lambda: safety.blocklists.add_or_update_items("list", "term"),
        parameter="items",
        rule="type",
    )


@pytest.mark.parametrize("count", [0, 101])
def test_remove_items_takes_1_to_100_ids(safety, service, count):
    refused(
        service,
        InvalidInputError,
        lambda: safety.blocklists.remove_items("list", [f"id-{i}" for i in range(count)]),
        parameter="item_ids",
        rule="count",
    )


def test_remove_100_items_accepted(safety, service):
    ids = [f"id-{i}" for i in range(100)]
    safety.blocklists.remove_items("list", ids)
    assert service.last_json() == {"blocklistItemIds": ids}


def test_remove_items_ids_up_to_64_characters(safety, service):
    refused(
        service,
        InvalidInputError,
        lambda: safety.blocklists.remove_items("list", ["ok", "i" * 65]),
        parameter="item_ids[1]",
        rule="length",
    )


GRIN = "\U0001f600"  # outside the BMP: one code point, two UTF-16 units


@pytest.mark.parametrize("as_model", [False, True])
def test_item_text_up_to_128_code_points_counts_non_bmp_as_one(safety, service, as_model):
    text = GRIN * 128
    assert len(text.encode("utf-16-le")) // 2 == 256  # would fail a UTF-16 length check
    item = TextBlocklistItemInput(text=text) if as_model else text
    safety.blocklists.add_or_update_items("list", [item])
    assert service.last_json()["blocklistItems"][0]["text"] == text


def test_item_text_over_128_code_points_is_refused(safety, service):
    refused(
        service,
        InvalidInputError,
        lambda: safety.blocklists.add_or_update_items("list", ["ok", GRIN * 129]),
        parameter="blocklist_items[1].text",
        rule="length",
    )


def test_empty_item_text_is_refused(safety, service):
    refused(
        service,
        InvalidInputError,
        lambda: safety.blocklists.add_or_update_items("list", [""]),
        parameter="blocklist_items[0].text",
        rule="length",
    )


def test_item_of_another_type_is_refused(safety, service):
    refused(
        service,
        InvalidInputError,
        lambda: safety.blocklists.add_or_update_items("list", [{"text": "x"}]),
        parameter="blocklist_items[0]",
        rule="type",
    )


def test_item_description_up_to_1024(safety, service):
    long = TextBlocklistItemInput.model_construct(text="t", description="d" * 1025, is_regex=None)
    refused(
        service,
        InvalidInputError,
        lambda: safety.blocklists.add_or_update_items("list", [long]),
        parameter="blocklist_items[0].description",
        rule="length",
    )
    ok = TextBlocklistItemInput(text="t", description="d" * 1024)
    safety.blocklists.add_or_update_items("list", [ok])
    assert service.last_json()["blocklistItems"] == [{"text": "t", "description": "d" * 1024}]


@pytest.mark.parametrize("pattern", ["(unclosed", "a{2,1}", "[z-a]", "*start"])
def test_invalid_regex_item_is_refused(safety, service, pattern):
    item = TextBlocklistItemInput(text=pattern, is_regex=True)
    refused(
        service,
        InvalidInputError,
        lambda: safety.blocklists.add_or_update_items("list", [item]),
        parameter="blocklist_items[0].text",
        rule="regex",
    )


def test_valid_regex_and_literal_brackets_are_accepted(safety, service):
    items = [
        TextBlocklistItemInput(text=r"b[a@]d\s*word", is_regex=True),
        TextBlocklistItemInput(text="(unclosed", is_regex=False),  # not a regex: any text
    ]
    safety.blocklists.add_or_update_items("list", items)
    assert service.last_json()["blocklistItems"] == [
        {"text": r"b[a@]d\s*word", "isRegex": True},
        {"text": "(unclosed", "isRegex": False},
    ]


def test_analyze_text_up_to_10000_code_points(safety, service):
    refused(
        service,
        InvalidInputError,
        lambda: safety.analyze_text(GRIN * 10_001),
        parameter="text",
        rule="length",
    )
    refused(service, InvalidInputError, lambda: safety.analyze_text(""), parameter="text")
    safety.analyze_text(GRIN * 10_000)
    assert service.last_json()["text"] == GRIN * 10_000


def test_blocklist_description_up_to_1024(safety, service):
    refused(
        service,
        InvalidInputError,
        lambda: safety.blocklists.create_or_update("list", description="d" * 1025),
        parameter="description",
        rule="length",
    )
    safety.blocklists.create_or_update("list", description="d" * 1024)
    assert service.last_json() == {"description": "d" * 1024}
    assert service.last.headers["content-type"] == "application/merge-patch+json"


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [({"top": 0}, "top"), ({"skip": -1}, "skip"), ({"max_page_size": 0}, "max_page_size")],
)
def test_list_items_paging_arguments(safety, service, kwargs, parameter):
    refused(
        service,
        InvalidInputError,
        lambda: safety.blocklists.list_items("list", **kwargs),
        parameter=parameter,
        rule="range",
    )


# =============================================================================================
# Liveness
# =============================================================================================

LIVENESS_OPS: dict[str, Callable[..., object]] = {
    "session": lambda c, **kw: c.liveness.create_session(liveness_operation_mode="Passive", **kw),
    "verify": lambda c, **kw: c.liveness.create_with_verify_session(
        verify_image=JPEG, liveness_operation_mode="Passive", consent=TOKEN, **kw
    ),
}


@pytest.mark.parametrize("op", sorted(LIVENESS_OPS))
@pytest.mark.parametrize(("value", "rule"), [(59, "range"), (86401, "range"), (True, "type")])
def test_auth_token_time_to_live_60_to_86400(face, service, op, value, rule):
    refused(
        service,
        InvalidInputError,
        lambda: LIVENESS_OPS[op](face, auth_token_time_to_live_in_seconds=value),
        parameter="auth_token_time_to_live_in_seconds",
        rule=rule,
    )


@pytest.mark.parametrize("value", [60, 86400])
def test_auth_token_time_to_live_boundaries_accepted(face, service, value):
    face.liveness.create_session(
        liveness_operation_mode="Passive", auth_token_time_to_live_in_seconds=value
    )
    assert service.last_json()["authTokenTimeToLiveInSeconds"] == value


@pytest.mark.parametrize("op", sorted(LIVENESS_OPS))
def test_device_correlation_id_with_set_in_client_is_refused(face, service, op):
    refused(
        service,
        InvalidInputError,
        lambda: LIVENESS_OPS[op](
            face, device_correlation_id=DEVICE, device_correlation_id_set_in_client=True
        ),
        parameter="device_correlation_id",
        rule="exclusive",
    )


def test_device_correlation_id_alone_or_with_false_is_accepted(face, service):
    face.liveness.create_session(
        liveness_operation_mode="Passive",
        device_correlation_id=DEVICE,
        device_correlation_id_set_in_client=False,
    )
    body = service.last_json()
    assert body["deviceCorrelationId"] == DEVICE
    assert body["deviceCorrelationIdSetInClient"] is False


# =============================================================================================
# Enums
# =============================================================================================

ENUM_CASES: dict[str, tuple[Callable[[FaceClient, ContentSafetyClient, Any], object], str]] = {
    "detection_model": (
        lambda f, s, v: f.detection.detect(JPEG, detection_model=v),
        "detection_model",
    ),
    "recognition_model": (
        lambda f, s, v: f.detection.detect(JPEG, recognition_model=v),
        "recognition_model",
    ),
    "create.recognition_model": (
        lambda f, s, v: f.person_groups.create("g", name="n", recognition_model=v),
        "recognition_model",
    ),
    "add_face.detection_model": (
        lambda f, s, v: f.face_lists.add_face("l", JPEG, detection_model=v),
        "detection_model",
    ),
    "mode": (
        lambda f, s, v: f.recognition.find_similar(FACE, face_ids=[FACE2], mode=v, consent=TOKEN),
        "mode",
    ),
    "liveness_operation_mode": (
        lambda f, s, v: f.liveness.create_session(liveness_operation_mode=v),
        "liveness_operation_mode",
    ),
    "liveness_model_version": (
        lambda f, s, v: f.liveness.create_session(
            liveness_operation_mode="Passive", liveness_model_version=v
        ),
        "liveness_model_version",
    ),
    "output_type": (lambda f, s, v: s.analyze_text("hi", output_type=v), "output_type"),
    "categories": (lambda f, s, v: s.analyze_text("hi", categories=[v]), "categories"),
}


@pytest.mark.parametrize("case", sorted(ENUM_CASES))
@pytest.mark.parametrize("value", ["unknown_value", "DETECTION_01", ""])
def test_enums_refuse_unknown_strings(face, safety, service, case, value):
    call, parameter = ENUM_CASES[case]
    err = refused(
        service,
        InvalidInputError,
        lambda: call(face, safety, value),
        parameter=parameter,
        rule="enum",
    )
    assert "must be one of" in str(err)


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (DetectionModel.DETECTION_01, "detection_01"),
        ("detection_01", "detection_01"),
        (DetectionModel.DETECTION_03, "detection_03"),
        ("detection_02", "detection_02"),
    ],
)
def test_detection_model_accepts_members_and_values(face, service, value, wire):
    face.detection.detect(JPEG, detection_model=value)
    assert service.last.url.params["detectionModel"] == wire


@pytest.mark.parametrize("value", [RecognitionModel.RECOGNITION_02, "recognition_02"])
def test_recognition_model_accepts_members_and_values(face, service, value):
    face.person_groups.create("g", name="n", recognition_model=value)
    assert service.last_json()["recognitionModel"] == "recognition_02"


@pytest.mark.parametrize("value", [FindSimilarMatchMode.MATCH_FACE, "matchFace"])
def test_match_mode_accepts_members_and_values(face, service, value):
    face.recognition.find_similar(FACE, face_ids=[FACE2], mode=value, consent=TOKEN)
    assert service.last_json()["mode"] == "matchFace"


@pytest.mark.parametrize("value", [LivenessOperationMode.PASSIVE_ACTIVE, "PassiveActive"])
def test_liveness_mode_accepts_members_and_values(face, service, value):
    face.liveness.create_session(liveness_operation_mode=value)
    assert service.last_json()["livenessOperationMode"] == "PassiveActive"


def test_categories_and_output_type_accept_values(safety, service):
    safety.analyze_text("hi", categories=["Hate", "SelfHarm"], output_type="EightSeverityLevels")
    body = service.last_json()
    assert body["categories"] == ["Hate", "SelfHarm"]
    assert body["outputType"] == "EightSeverityLevels"


def test_categories_must_be_a_list(safety, service):
    refused(
        service,
        InvalidInputError,
        lambda: safety.analyze_text("hi", categories="Hate"),
        parameter="categories",
        rule="type",
    )


# =============================================================================================
# Face attributes
# =============================================================================================

D03_OFFERS = ("blur", "headPose", "mask", "qualityForRecognition")


@pytest.mark.parametrize(
    "name",
    [
        "age",
        "emotion",
        "gender",
        "smile",
        "facialHair",
        "hair",
        "makeup",
        "Facial Hair",
        "facial_hair",
        "facial-hair",
        "FACIALHAIR",
        "EMOTION",
        "Gender",
        " age ",
        "Make Up",
    ],
)
def test_retired_attributes_are_refused_naming_what_is_available(face, service, name):
    err = refused(
        service,
        RetiredAttributeError,
        lambda: face.detection.detect(JPEG, return_face_attributes=["headPose", name]),
    )
    assert err.attribute == name
    assert err.allowed == D03_OFFERS
    message = str(err)
    assert "detection_03 still offers" in message
    for offered in D03_OFFERS:
        assert offered in message


def test_retired_attribute_refused_on_session_image_detection(face, service):
    refused(
        service,
        RetiredAttributeError,
        lambda: face.detection.detect_from_session_image(
            "img-1", return_face_attributes=["emotion"]
        ),
    )


async def test_retired_attribute_refused_by_async_client(service):
    async with AsyncFaceClient(
        ENDPOINT, api_key="k", transport=httpx.MockTransport(service)
    ) as client:
        with pytest.raises(RetiredAttributeError):
            await client.detection.detect(JPEG, return_face_attributes=["age"])
    assert service.requests == []


@pytest.mark.parametrize("name", ["beauty", "headpose2", "", "landmarks"])
def test_unknown_attributes_are_refused(face, service, name):
    err = refused(
        service,
        RetiredAttributeError,
        lambda: face.detection.detect(JPEG, return_face_attributes=[name]),
    )
    assert "unknown" in str(err)
    assert err.allowed == D03_OFFERS


def test_mask_is_refused_with_detection_01(face, service):
    err = refused(
        service,
        RetiredAttributeError,
        lambda: face.detection.detect(
            JPEG, detection_model="detection_01", return_face_attributes=[FaceAttributeType.MASK]
        ),
    )
    assert "detection_01" in str(err)
    assert "mask" not in err.allowed


@pytest.mark.parametrize("attribute", list(FaceAttributeType))
def test_detection_02_offers_no_attributes(face, service, attribute):
    err = refused(
        service,
        RetiredAttributeError,
        lambda: face.detection.detect(
            JPEG, detection_model=DetectionModel.DETECTION_02, return_face_attributes=[attribute]
        ),
    )
    assert err.allowed == ()
    assert "nothing" in str(err)


@pytest.mark.parametrize("model", ["recognition_01", "recognition_02"])
def test_quality_for_recognition_needs_recognition_03_or_04(face, service, model):
    err = refused(
        service,
        RetiredAttributeError,
        lambda: face.detection.detect(
            JPEG, recognition_model=model, return_face_attributes=["qualityForRecognition"]
        ),
    )
    assert "recognition_03 or recognition_04" in str(err)


@pytest.mark.parametrize("model", ["recognition_03", "recognition_04"])
def test_quality_for_recognition_accepted_with_recognition_03_and_04(face, service, model):
    face.detection.detect(
        JPEG, recognition_model=model, return_face_attributes=["qualityForRecognition"]
    )
    assert service.last.url.params["returnFaceAttributes"] == "qualityForRecognition"


def test_allowed_attributes_are_sent_once_each_in_wire_spelling(face, service):
    face.detection.detect(
        JPEG,
        return_face_attributes=[FaceAttributeType.HEAD_POSE, "blur", "Head Pose", "MASK"],
    )
    assert service.last.url.params["returnFaceAttributes"] == "headPose,blur,mask"


def test_detection_01_attributes_accepted(face, service):
    face.detection.detect(
        JPEG,
        detection_model="detection_01",
        return_face_attributes=["accessories", "exposure", "glasses", "noise", "occlusion"],
    )
    assert (
        service.last.url.params["returnFaceAttributes"]
        == "accessories,exposure,glasses,noise,occlusion"
    )


@pytest.mark.parametrize("value", ["headPose", FaceAttributeType.BLUR, "age"])
def test_attributes_given_as_a_bare_string_are_refused(face, service, value):
    refused(
        service,
        InvalidInputError,
        lambda: face.detection.detect(JPEG, return_face_attributes=value),
        parameter="return_face_attributes",
        rule="type",
    )


def test_landmarks_refused_with_detection_02(face, service):
    refused(
        service,
        InvalidInputError,
        lambda: face.detection.detect(
            JPEG, detection_model="detection_02", return_face_landmarks=True
        ),
        parameter="return_face_landmarks",
        rule="model",
    )
    face.detection.detect(JPEG, detection_model="detection_03", return_face_landmarks=True)
    assert service.last.url.params["returnFaceLandmarks"] == "true"


def test_return_recognition_model_needs_return_face_id(face, service):
    refused(
        service,
        InvalidInputError,
        lambda: face.detection.detect(JPEG, return_recognition_model=True),
        parameter="return_recognition_model",
        rule="dependency",
    )
    face.detection.detect(JPEG, return_face_id=True, return_recognition_model=True, consent=TOKEN)
    assert service.last.url.params["returnRecognitionModel"] == "true"


# =============================================================================================
# Retry-After parsing
# =============================================================================================

_NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("0", 0.0),
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Wed, 01 Jan 2025 12:00:30 GMT", 30.0),
        ("Wed, 01 Jan 2025 11:59:00 GMT", 0.0),
    ],
)
def test_parse_retry_after_examples(value, expected):
    assert parse_retry_after(value, now=_NOW) == expected


_HTTP_DATES = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(9999, 12, 31),
    timezones=st.just(timezone.utc),
).map(lambda d: format_datetime(d, usegmt=True))


@settings(max_examples=500, deadline=None)
@given(
    value=st.one_of(
        st.none(),
        st.text(),
        st.text(alphabet="0123456789.-+eE naifINF:,GMTWedJan", max_size=40),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers().map(str),
        _HTTP_DATES,
    ),
    now=st.one_of(
        st.none(),
        st.datetimes(
            min_value=datetime(1900, 1, 1),
            max_value=datetime(9999, 12, 31),
            timezones=st.just(timezone.utc),
        ),
    ),
)
def test_property_parse_retry_after_never_raises_and_is_never_negative(value, now):
    seconds = parse_retry_after(value, now=now)
    assert seconds is None or (isinstance(seconds, float) and seconds >= 0.0)
    assert seconds is None or not math.isnan(seconds)


def test_device_correlation_id_is_at_most_64_characters(face, service):
    with pytest.raises(InvalidInputError) as info:
        face.liveness.create_session(
            liveness_operation_mode="Passive", device_correlation_id="a1" * 32 + "b"
        )
    assert (info.value.parameter, info.value.rule) == ("device_correlation_id", "length")
    assert service.requests == []
