"""The emulator's Face v1.2 operations, driven through the real ``FaceClient`` and
``AsyncFaceClient`` (with a real guard) over ``Emulator.transport()``.

Most tests use ``ScriptedEngine``, a small deterministic ``FaceEngine`` whose faces are written
into the image bytes (``photo("alice", "bob")``); the end-to-end tests at the bottom use the
real ``OpenCVEngine`` on the photos in ``tests/data/faces``. Time never passes for real: the
emulator runs on a ``ManualClock`` and the clients' ``sleep`` advances it.

Every answer the emulator gives in these tests goes through ``ContractChecker``: the JSON of a
success must match the contract's schema for its operation with no undeclared field, an error
must be ``{"error": {"code", "message"}}`` with a matching ``x-ms-error-code``, and every
response carries an ``apim-request-id``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import http.server
import json
import math
import random
import struct
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from _guard_kit import TOKEN, policy, token
from _optable import OPERATIONS, first_request
from _samples import (
    DYNAMIC_PERSON_GROUP_ID,
    FACE_LIST_ID,
    LARGE_FACE_LIST_ID,
    LARGE_PERSON_GROUP_ID,
    PERSON_GROUP_ID,
    PERSON_ID,
)
from faceguard import AsyncFaceClient, FaceClient, RetryPolicy
from faceguard._exceptions import APIStatusError, FaceIdError, TrainingFailedError
from faceguard._guard._policy import GuardPolicy
from faceguard.emulator import (
    Emulator,
    EngineFace,
    EngineImageError,
    FaceApiError,
    Limits,
    ManualClock,
)
from faceguard.emulator._emulator import EmulatorTransport
from faceguard.emulator.face.detect import LANDMARK_NAMES
from faceguard.emulator.liveness.routes import LIVENESS_ROUTES
from faceguard.models import TrainingResult
from test_spec_conformance import SPEC, check_instance

ENDPOINT = "https://emulator.invalid"
API_KEY = "emulator-test-key"
FACE_SPEC = next(spec for spec in SPEC.values() if spec.service == "face")
FACE_DOC = FACE_SPEC.doc
FACE_OPERATIONS = {
    op_id for op_id, spec in SPEC.items() if spec.service == "face" and "Liveness" not in op_id
}
JSON = dict[str, Any]


# -- a scripted engine ---------------------------------------------------------------------------

_MARK = b"FAKEFACES:"
_JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def photo(*faces: str, size: int = 2048) -> bytes:
    """A JPEG-looking image whose faces the ``ScriptedEngine`` reads from its bytes.

    Each face is ``name`` or a weighted mix such as ``"alice*0.9+bob*0.45"``; ``"alice#2"`` is
    another photo of alice (a slightly different embedding). Faces come largest first.
    """
    body = _JPEG_HEAD + _MARK + ";".join(faces).encode() + b"\n"
    return body + bytes(max(0, size - len(body) - 2)) + b"\xff\xd9"


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector]


def _seeded(text: str) -> list[float]:
    rng = random.Random(hashlib.sha256(text.encode()).digest())
    return _unit([rng.gauss(0.0, 1.0) for _ in range(128)])


def _embedding(face: str) -> bytes:
    """An identity vector (or a weighted mix), plus a little noise per distinct face text."""
    vector = [0.0] * 128
    for term in face.split("+"):
        name, _, weight = term.partition("*")
        identity = _seeded("identity:" + name.split("#", 1)[0])
        for index, value in enumerate(identity):
            vector[index] += float(weight or 1.0) * value
    noise = _seeded("photo:" + face)
    vector = _unit([v + 0.12 * n for v, n in zip(vector, noise, strict=True)])
    return struct.pack("<128f", *vector)


class ScriptedEngine:
    """A deterministic ``FaceEngine``: faces are written into the image (see ``photo``).

    Confidence is the cosine of the embeddings, clipped to [0, 1]: photos of one identity
    score about 0.98, different identities below 0.3.
    """

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, image: bytes) -> list[EngineFace]:
        self.calls += 1
        start = image.find(_MARK)
        if start < 0:
            raise EngineImageError("InvalidImage", "Decoding error, image format unsupported.")
        text = image[start + len(_MARK) : image.index(b"\n", start)].decode()
        faces = []
        for index, face in enumerate(text.split(";") if text else []):
            left, top, width = 10 + 210 * index, 40, 200 - index
            landmarks = {
                name: (float(left + k % 5 * 30 + 20), float(top + k // 5 * 30 + 20))
                for k, name in enumerate(LANDMARK_NAMES)
            }
            faces.append(
                EngineFace(
                    left=left,
                    top=top,
                    width=width,
                    height=width,
                    score=0.95,
                    landmarks5=(
                        landmarks["pupilLeft"],
                        landmarks["pupilRight"],
                        landmarks["noseTip"],
                        landmarks["mouthLeft"],
                        landmarks["mouthRight"],
                    ),
                    landmarks27=landmarks,
                    head_pose=(4.25, -1.5, 12.04),
                    blur=0.1,
                    exposure=0.5,
                    noise=0.8,
                    quality_for_recognition="high",
                    embedding=_embedding(face),
                )
            )
        return faces

    def confidence(self, a: bytes, b: bytes) -> float:
        u, v = struct.unpack("<128f", a), struct.unpack("<128f", b)
        cosine = float(sum(x * y for x, y in zip(u, v, strict=True)))
        return max(0.0, min(1.0, cosine))


# -- the contract check --------------------------------------------------------------------------


def contract_problems(response: httpx.Response) -> list[str]:
    """What in an emulator answer departs from its contract (Face, or Content Safety for an
    answer of a Content Safety operation; empty when it conforms)."""
    problems: list[str] = []
    if not response.headers.get("apim-request-id"):
        problems.append("no apim-request-id header")
    operation = Emulator.operation_of(response)
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            return [*problems, f"error {response.status_code} without a JSON body"]
        service = SPEC[operation].service if operation in SPEC else "face"
        doc, error = (
            (FACE_DOC, "FaceErrorResponse")
            if service == "face"
            else (SPEC[operation].doc, "Azure.Core.Foundations.ErrorResponse")
        )
        problems += check_instance(
            doc,
            {"$ref": f"#/definitions/{error}"},
            body,
            f"{operation or 'error'}",
            request=False,
        )
        if response.headers.get("x-ms-error-code") != body.get("error", {}).get("code"):
            problems.append("x-ms-error-code differs from error.code")
        return problems
    if operation is None:
        return [*problems, f"success {response.status_code} without an operation"]
    spec = SPEC[operation]
    if response.status_code not in spec.success:
        return [*problems, f"{operation}: status {response.status_code} not in the contract"]
    declared = spec.success[response.status_code]
    for name in declared.get("headers", {}):
        if name not in response.headers:
            problems.append(f"{operation}: header {name} missing")
    schema = declared.get("schema")
    if schema is None:
        if response.content:
            problems.append(f"{operation}: a body where the contract declares none")
        return problems
    data = response.json()
    problems += check_instance(spec.doc, schema, data, operation, request=False)
    return problems


def test_the_contract_check_catches_departures() -> None:
    """The checker itself: hand-made answers that break the contract are each reported."""

    def answer(
        status: int, body: object = None, operation: str | None = None, **headers: str
    ) -> httpx.Response:
        response = httpx.Response(
            status,
            headers={"apim-request-id": "r", **headers},
            content=b"" if body is None else json.dumps(body).encode(),
        )
        if operation is not None:
            response.extensions["faceguard.emulator.operation"] = operation
        return response

    verify = "FaceRecognitionOperations_VerifyFaceToFace"
    good = answer(200, {"isIdentical": True, "confidence": 0.9}, verify)
    assert contract_problems(good) == []
    bad = {
        "extra field": answer(200, {"isIdentical": True, "confidence": 0.9, "x": 1}, verify),
        "missing field": answer(200, {"isIdentical": True}, verify),
        "out of range": answer(200, {"isIdentical": True, "confidence": 1.5}, verify),
        "no request id": httpx.Response(200, json={"isIdentical": True, "confidence": 0.9}),
        "no operation": answer(200, {"isIdentical": True, "confidence": 0.9}),
        "undeclared status": answer(201, {"isIdentical": True, "confidence": 0.9}, verify),
        "body on a delete": answer(200, {}, "PersonGroupOperations_DeletePersonGroup"),
        "no operation-Location": answer(202, None, "PersonGroupOperations_TrainPersonGroup"),
        "error shape": answer(400, {"code": "BadArgument"}, verify, **{"x-ms-error-code": "B"}),
        "error extra": answer(
            400,
            {"error": {"code": "B", "message": "m", "details": []}},
            verify,
            **{"x-ms-error-code": "B"},
        ),
        "error header": answer(400, {"error": {"code": "B", "message": "m"}}, verify),
    }
    assert [label for label, response in bad.items() if not contract_problems(response)] == []


class ContractChecker:
    """A transport handler: answers from the emulator and checks every answer."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.problems: list[str] = []
        self.succeeded: set[str] = set()
        self.answered: list[tuple[str | None, int]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.emulator.handle(request)
        operation = Emulator.operation_of(response)
        self.answered.append((operation, response.status_code))
        if request.url.path.startswith("/face/v1.2") and operation not in _LIVENESS_IDS:
            self.problems += contract_problems(response)
        if response.status_code < 400 and operation is not None:
            self.succeeded.add(operation)
        return response


_LIVENESS_IDS = {operation for _, _, operation in LIVENESS_ROUTES}


# -- the world of one test -----------------------------------------------------------------------


@dataclass
class World:
    clock: ManualClock
    engine: Any
    emulator: Emulator
    checker: ContractChecker
    guard: GuardPolicy
    images: dict[str, bytes] = field(default_factory=dict)
    """What ``{"url": ...}`` bodies download (the emulator's injected fetcher)."""

    def fetch(self, url: str) -> bytes:
        if url not in self.images:
            raise FaceApiError(400, "InvalidURL", "Invalid image URL.")
        return self.images[url]

    def transport(self) -> httpx.MockTransport:
        # The emulator's own transport class (async requests run in a worker thread),
        # around the checker.
        return EmulatorTransport(self.checker)

    def client(self, guard: GuardPolicy | None = None) -> FaceClient:
        """The real sync client; ``guard=policy()`` for one that saw nothing before."""
        return FaceClient(
            ENDPOINT,
            api_key=API_KEY,
            transport=self.transport(),
            guard=guard or self.guard,
            sleep=self.clock.advance,
            retry=RetryPolicy(max_attempts=1),
        )

    def async_client(self, guard: GuardPolicy | None = None) -> AsyncFaceClient:
        return AsyncFaceClient(
            ENDPOINT,
            api_key=API_KEY,
            transport=self.transport(),
            guard=guard or self.guard,
            sleep=self.clock.async_advance,
            retry=RetryPolicy(max_attempts=1),
        )

    def raw(self) -> httpx.Client:
        """Plain HTTP to the emulator, for what the client refuses to send."""
        return httpx.Client(
            transport=self.transport(),
            base_url=ENDPOINT + "/face/v1.2",
            headers={"Ocp-Apim-Subscription-Key": API_KEY},
        )


def make_world(engine: Any = None, **options: Any) -> World:
    clock = ManualClock()
    world = World(
        clock=clock,
        engine=engine or ScriptedEngine(),
        emulator=None,  # type: ignore[arg-type]
        checker=None,  # type: ignore[arg-type]
        guard=policy(),
    )
    options.setdefault("fetch_url", world.fetch)
    world.emulator = Emulator(engine=world.engine, clock=clock, **options)
    world.checker = ContractChecker(world.emulator)
    return world


@pytest.fixture
def world() -> Iterator[World]:
    made = make_world()
    yield made
    assert made.checker.problems == []


def consent(*bindings: tuple[str, str, str | None]) -> str:
    """A consent token for the kit's subject, bound to these containers (and persons)."""
    return token(bindings=list(bindings))


def face_id(client: FaceClient, image: bytes, **options: Any) -> str:
    options.setdefault("consent", TOKEN)
    (face,) = client.detection.detect(image, return_face_id=True, **options)
    assert face.face_id is not None
    return str(face.face_id)


def status_of(call: Callable[[], object]) -> tuple[int, str | None]:
    """The status and error code a client call fails with."""
    with pytest.raises(APIStatusError) as info:
        call()
    return info.value.status_code, info.value.error_code


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


# -- routing -------------------------------------------------------------------------------------


def test_every_face_operation_has_a_handler_that_names_it(world: World) -> None:
    """Each of the 70 Face (non-liveness) rows of the operation table reaches the handler of
    its own operation, whatever the outcome (most sample containers do not exist)."""
    rows = [r for r in OPERATIONS if r.client == "face" and r.operation_id in FACE_OPERATIONS]
    assert {r.operation_id for r in rows} == FACE_OPERATIONS
    assert len(FACE_OPERATIONS) == 70
    seen = {}
    with world.raw() as raw:
        for row in rows:
            spec = first_request(row)
            path = spec.route.format_map(
                {k: quote(v, safe="") for k, v in spec.path_params.items()}
            )
            headers = {}
            content = spec.content
            if spec.json is not None:
                content = json.dumps(spec.json).encode()
                headers["Content-Type"] = "application/json"
            elif content is not None:
                headers["Content-Type"] = spec.content_type or "application/octet-stream"
            response = raw.request(
                spec.method, path, params=dict(spec.query), content=content, headers=headers
            )
            seen[row.operation_id] = Emulator.operation_of(response)
    assert seen == {op: op for op in FACE_OPERATIONS}


def test_liveness_routes_are_known_to_the_router(world: World) -> None:
    for method, route, _operation in LIVENESS_ROUTES:
        template = "/face/v1.2" + route
        assert (method, template) in world.emulator.router.routes()


def test_liveness_routes_answer_501_when_their_module_is_off() -> None:
    emulator = Emulator(engine=ScriptedEngine(), liveness=False)
    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as raw:
        response = raw.get(
            "/face/v1.2/detectLiveness-sessions/abc", headers={"Ocp-Apim-Subscription-Key": "k"}
        )
    assert error_of(response) == (501, "NotImplemented")
    assert Emulator.operation_of(response) == "LivenessSessionOperations_GetLivenessSessionResult"


def test_an_unknown_route_is_404_not_found(world: World) -> None:
    with world.raw() as raw:
        for method, path in [("GET", "/nothing-here"), ("DELETE", "/detect"), ("GET", "/verify")]:
            response = raw.request(method, path)
            assert error_of(response) == (404, "NotFound")
            assert response.headers["apim-request-id"]


def test_any_key_is_accepted_unless_one_is_configured() -> None:
    open_emulator = Emulator(engine=ScriptedEngine())
    locked = Emulator(engine=ScriptedEngine(), key="right-key", bearer_token="right-token")
    url = ENDPOINT + "/face/v1.2/persongroups"
    cases = [
        (open_emulator, {"Ocp-Apim-Subscription-Key": "anything"}, 200),
        (open_emulator, {"Authorization": "Bearer some-token"}, 200),
        (open_emulator, {}, 401),
        (locked, {"Ocp-Apim-Subscription-Key": "right-key"}, 200),
        (locked, {"Ocp-Apim-Subscription-Key": "wrong-key"}, 401),
        (locked, {"Authorization": "Bearer right-token"}, 200),
        (locked, {"Authorization": "Bearer wrong-token"}, 401),
    ]
    for emulator, headers, expected in cases:
        response = emulator.handle(httpx.Request("GET", url, headers=headers))
        assert response.status_code == expected, headers
        assert response.headers["apim-request-id"]
        if expected == 401:
            assert response.json()["error"]["code"] == "401"
            assert response.headers["x-ms-error-code"] == "401"
            assert "Access denied" in response.json()["error"]["message"]


def test_the_client_reports_a_wrong_key_as_an_authentication_error() -> None:
    emulator = Emulator(engine=ScriptedEngine(), key="right-key")
    with FaceClient(
        ENDPOINT, api_key="wrong-key", transport=emulator.transport(), guard=policy()
    ) as client:
        assert status_of(lambda: client.person_groups.list().to_list()) == (401, "401")


def test_hooks_answer_before_auth_and_routing(world: World) -> None:
    def throttle(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/group"):
            return httpx.Response(429, json={"error": {"code": "429", "message": "slow down"}})
        return None

    world.emulator.add_hook(throttle)
    response = world.emulator.handle(httpx.Request("POST", ENDPOINT + "/face/v1.2/group"))
    assert response.status_code == 429
    assert response.headers["apim-request-id"]
    world.emulator.remove_hook(throttle)
    response = world.emulator.handle(httpx.Request("POST", ENDPOINT + "/face/v1.2/group"))
    assert response.status_code == 401  # no key: the hook is gone


def test_other_modules_can_register_routes(world: World) -> None:
    def hello(_request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        return httpx.Response(200, json={"hello": params["name"]})

    world.emulator.register("GET", "/contentsafety/hello/{name}", hello)
    response = world.emulator.handle(
        httpx.Request(
            "GET",
            ENDPOINT + "/contentsafety/hello/w%C3%B6rld",
            headers={"Authorization": "Bearer t"},
        )
    )
    assert response.json() == {"hello": "wörld"}


async def test_the_transport_serves_the_sync_and_async_clients(world: World) -> None:
    transport = world.emulator.transport()
    assert isinstance(transport, httpx.MockTransport)
    with FaceClient(ENDPOINT, api_key=API_KEY, transport=transport) as client:
        client.person_groups.create("sync-made", name="S")
    async with AsyncFaceClient(ENDPOINT, api_key=API_KEY, transport=transport) as aclient:
        await aclient.person_groups.create("async-made", name="A")
        listed = [g.person_group_id async for g in aclient.person_groups.list()]
    assert listed == ["async-made", "sync-made"]


# -- detection -----------------------------------------------------------------------------------


def test_detect_measures_faces_largest_first(world: World) -> None:
    with world.client() as client:
        faces = client.detection.detect(
            photo("alice", "bob"),
            detection_model="detection_03",
            recognition_model="recognition_04",
            return_face_id=True,
            return_face_landmarks=True,
            return_recognition_model=True,
            return_face_attributes=["headPose", "blur", "qualityForRecognition"],
            face_id_time_to_live=120,
            consent=TOKEN,
        )
    assert [f.face_rectangle.width for f in faces] == [200, 199]
    first = faces[0]
    assert first.face_rectangle.model_dump() == {"top": 40, "left": 10, "width": 200, "height": 200}
    assert first.recognition_model == "recognition_04"
    assert first.face_landmarks is not None
    assert first.face_landmarks.pupil_left.x == 30.0
    attributes = first.face_attributes
    assert attributes is not None
    assert attributes.head_pose is not None
    assert (attributes.head_pose.pitch, attributes.head_pose.roll, attributes.head_pose.yaw) == (
        4.2,
        -1.5,
        12.0,
    )
    assert attributes.blur is not None
    assert (attributes.blur.blur_level, attributes.blur.value) == ("low", 0.1)
    assert attributes.quality_for_recognition == "high"
    stored = world.emulator.store.face(str(first.face_id))
    assert stored is not None
    assert (stored.detection_model, stored.recognition_model, stored.ttl) == (
        "detection_03",
        "recognition_04",
        120,
    )


def test_detection_01_attributes_and_their_levels(world: World) -> None:
    with world.client() as client:
        (face,) = client.detection.detect(
            photo("alice"),
            detection_model="detection_01",
            return_face_attributes=["exposure", "noise", "headPose"],
        )
    attributes = face.face_attributes
    assert attributes is not None and attributes.exposure is not None
    assert attributes.noise is not None
    assert (attributes.exposure.exposure_level, attributes.exposure.value) == ("goodExposure", 0.5)
    assert (attributes.noise.noise_level, attributes.noise.value) == ("high", 0.8)
    assert face.face_id is None  # the client asks for no faceId by default


def test_service_defaults_apply_when_a_raw_call_omits_the_query(world: World) -> None:
    with world.raw() as raw:
        response = raw.post(
            "/detect",
            content=photo("alice"),
            headers={"Content-Type": "application/octet-stream"},
        )
    (face,) = response.json()
    assert set(face) == {"faceId", "faceRectangle"}  # returnFaceId defaults to true
    stored = world.emulator.store.face(face["faceId"])
    assert stored is not None
    assert (stored.detection_model, stored.recognition_model, stored.ttl) == (
        "detection_01",
        "recognition_01",
        86400,
    )


def test_no_faces_is_an_empty_list_and_at_most_100_are_returned(world: World) -> None:
    with world.client() as client:
        assert list(client.detection.detect(photo())) == []
        many = client.detection.detect(photo(*(f"p{i}" for i in range(130)), size=8192))
    assert len(many) == 100


def test_detection_02_has_no_landmarks_and_no_attributes(world: World) -> None:
    with world.client() as client:
        (face,) = client.detection.detect(photo("alice"), detection_model="detection_02")
    assert face.face_landmarks is None and face.face_attributes is None
    with world.raw() as raw:
        landmarks = raw.post(
            "/detect",
            params={"detectionModel": "detection_02", "returnFaceLandmarks": "true"},
            content=photo("alice"),
            headers={"Content-Type": "application/octet-stream"},
        )
        attributes = raw.post(
            "/detect",
            params={"detectionModel": "detection_02", "returnFaceAttributes": "headPose"},
            content=photo("alice"),
            headers={"Content-Type": "application/octet-stream"},
        )
    assert error_of(landmarks) == (400, "BadArgument")
    assert (
        landmarks.json()["error"]["message"]
        == "'returnLandmarks' is not supported by detection_02."
    )
    assert error_of(attributes) == (400, "BadArgument")
    assert "detection_02" in attributes.json()["error"]["message"]


def test_what_the_engine_cannot_measure_is_refused_unless_scripted(world: World) -> None:
    with world.client() as client:
        detect = functools.partial(
            client.detection.detect,
            photo("alice"),
            detection_model="detection_03",
            return_face_attributes=["mask"],
        )
        assert status_of(detect) == (501, "NotSupportedByEmulator")
        world.emulator.script_attribute("mask", {"noseAndMouthCovered": False, "type": "noMask"})
        (face,) = detect()
        assert face.face_attributes is not None and face.face_attributes.mask is not None
        assert face.face_attributes.mask.type == "noMask"
        world.emulator.script_attribute("glasses", "readingGlasses")
        world.emulator.script_attribute(
            "occlusion", {"foreheadOccluded": False, "eyeOccluded": True, "mouthOccluded": False}
        )
        world.emulator.script_attribute("accessories", [{"type": "headwear", "confidence": 0.9}])
        (face,) = client.detection.detect(
            photo("alice"),
            detection_model="detection_01",
            return_face_attributes=["glasses", "occlusion", "accessories", "headPose"],
        )
        attributes = face.face_attributes
        assert attributes is not None and attributes.occlusion is not None
        assert attributes.glasses == "readingGlasses"
        assert attributes.occlusion.eye_occluded is True
        assert attributes.accessories is not None and attributes.accessories[0].confidence == 0.9
        world.emulator.clear_scripted_attributes()
        assert status_of(detect) == (501, "NotSupportedByEmulator")
    with world.raw() as raw:  # the refusal says how to script the value
        response = raw.post(
            "/detect",
            params={"detectionModel": "detection_01", "returnFaceAttributes": "glasses"},
            content=photo("alice"),
            headers={"Content-Type": "application/octet-stream"},
        )
    assert "does not invent measurements" in response.json()["error"]["message"]
    assert "script_attribute('glasses'" in response.json()["error"]["message"]


def test_scripted_values_must_be_valid_wire_values() -> None:
    emulator = Emulator(engine=ScriptedEngine())
    for name, value in [
        ("mask", {"type": "noMask"}),
        ("glasses", "monocle"),
        ("accessories", [{"type": "headwear", "confidence": 2}]),
        ("age", 30),
        ("emotion", "happy"),
        ("blur", {"blurLevel": "low", "value": 0.1, "extra": 1}),
    ]:
        with pytest.raises(ValueError):
            emulator.script_attribute(name, value)
    emulator.script_attribute("qualityForRecognition", "low")  # a measured one may be overridden


def test_retired_limited_and_misplaced_attributes_are_refused_like_the_service(
    world: World,
) -> None:
    cases = [
        ({"returnFaceAttributes": "emotion"}, 400, "BadArgument"),
        ({"returnFaceAttributes": "gender,headPose"}, 400, "BadArgument"),
        ({"returnFaceAttributes": "sparkle"}, 400, "BadArgument"),
        ({"returnFaceAttributes": "age"}, 403, "UnsupportedFeature"),
        ({"returnFaceAttributes": "facialHair"}, 403, "UnsupportedFeature"),
        (
            {"detectionModel": "detection_03", "returnFaceAttributes": "exposure"},
            400,
            "BadArgument",
        ),
        (
            {"detectionModel": "detection_01", "returnFaceAttributes": "mask"},
            400,
            "BadArgument",
        ),
        ({"returnFaceAttributes": "qualityForRecognition"}, 400, "BadArgument"),  # recognition_01
        ({"detectionModel": "detection_04"}, 400, "BadArgument"),
        ({"recognitionModel": "recognition_09"}, 400, "BadArgument"),
        ({"returnFaceId": "yes"}, 400, "BadArgument"),
        ({"faceIdTimeToLive": "59"}, 400, "BadArgument"),
        ({"faceIdTimeToLive": "86401"}, 400, "BadArgument"),
    ]
    with world.raw() as raw:
        for params, status, code in cases:
            response = raw.post(
                "/detect",
                params=params,
                content=photo("alice"),
                headers={"Content-Type": "application/octet-stream"},
            )
            assert error_of(response) == (status, code), params
    assert world.engine.calls == 0  # refused before any detection


def test_image_limits_answer_the_service_codes(world: World) -> None:
    head = b"\xff\xd8\xff"
    cases = [
        (photo("alice", size=1023), "InvalidImageSize", "too small"),
        (b"", "InvalidImageSize", "too small"),
        (photo("alice", size=6 * 1024 * 1024 + 1), "InvalidImageSize", "too big"),
        (b"RIFF" + bytes(4000), "InvalidImage", "format unsupported"),
        (head + bytes(4000), "InvalidImage", "format unsupported"),  # the engine cannot decode
    ]
    with world.raw() as raw:
        for image, code, words in cases:
            response = raw.post(
                "/detect", content=image, headers={"Content-Type": "application/octet-stream"}
            )
            assert error_of(response) == (400, code)
            assert words in response.json()["error"]["message"]
        fine = raw.post(
            "/detect",
            content=photo("a", size=1024),
            headers={"Content-Type": "application/octet-stream"},
        )
        wrong_type = raw.post("/detect", content=photo("a"), headers={"Content-Type": "text/plain"})
    assert fine.status_code == 200
    assert error_of(wrong_type) == (415, "BadArgument")


def test_detect_and_add_face_from_a_url_use_the_downloaded_bytes(world: World) -> None:
    world.images["https://img.example/alice.jpg"] = photo("alice")
    world.images["https://img.example/tiny.jpg"] = photo("alice", size=100)
    with world.client() as client:
        (face,) = client.detection.detect("https://img.example/alice.jpg")
        assert face.face_rectangle.width == 200
        assert status_of(lambda: client.detection.detect("https://img.example/tiny.jpg")) == (
            400,
            "InvalidImageSize",
        )
        assert status_of(lambda: client.detection.detect("https://img.example/none.jpg")) == (
            400,
            "InvalidURL",
        )
        client.face_lists.create(FACE_LIST_ID, name="From URLs")
        added = client.face_lists.add_face(
            FACE_LIST_ID, "https://img.example/alice.jpg", consent=TOKEN
        )
    assert world.checker.succeeded >= {
        "FaceDetectionOperations_DetectFromUrl",
        "FaceListOperations_AddFaceListFaceFromUrl",
    }
    assert added.persisted_face_id in world.emulator.store.container("faceList", FACE_LIST_ID).faces


class _ImageServer:
    """A loopback HTTP server serving a few paths (no sleeping: it answers at once)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __enter__(self) -> _ImageServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def test_detect_from_url_downloads_over_loopback_with_httpx() -> None:
    world = make_world(fetch_url=None)
    files = {
        "/alice.jpg": photo("alice", "bob"),
        "/big.jpg": photo("alice", size=6 * 1024 * 1024 + 10),
        "/text.txt": b"hello" * 400,
    }
    with _ImageServer(files) as server, world.client() as client:
        faces = client.detection.detect(server.url("/alice.jpg"))
        assert len(faces) == 2
        assert status_of(lambda: client.detection.detect(server.url("/big.jpg"))) == (
            400,
            "InvalidImageSize",
        )
        assert status_of(lambda: client.detection.detect(server.url("/text.txt"))) == (
            400,
            "InvalidImage",
        )
        assert status_of(lambda: client.detection.detect(server.url("/missing.jpg"))) == (
            400,
            "InvalidURL",
        )
    assert world.checker.problems == []


async def test_async_detect_downloads_from_a_server_on_the_same_event_loop() -> None:
    """The async side of the transport runs the emulator in a worker thread: the event loop
    stays free to serve the image the emulator downloads."""
    world = make_world(fetch_url=None)
    image = photo("alice", "bob")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"
            f"Content-Length: {len(image)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + image)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, world.async_client() as client:
        faces = await client.detection.detect(f"http://127.0.0.1:{port}/photo.jpg")
    assert len(faces) == 2
    assert world.checker.problems == []


def test_detect_from_a_session_image(world: World) -> None:
    world.emulator.set_session_image_source({"img-1": photo("alice")}.get)
    with world.client() as client:
        (face,) = client.detection.detect_from_session_image("img-1")
        assert face.face_rectangle.width == 200
        assert status_of(lambda: client.detection.detect_from_session_image("img-2")) == (
            404,
            "SessionImageNotFound",
        )


def test_face_ids_expire_after_their_ttl_on_the_clock(world: World) -> None:
    with world.client() as client:
        alice = face_id(client, photo("alice#1"), face_id_time_to_live=60)
        alice2 = face_id(client, photo("alice#2"), face_id_time_to_live=600)
        verify = functools.partial(
            client.recognition.verify_face_to_face, alice, alice2, consent=TOKEN
        )
        assert verify().is_identical is True
        world.clock.advance(59.9)
        assert verify().is_identical is True
        world.clock.advance(0.1)  # the guard's own clock is the real one: it lets this through
        assert status_of(verify) == (404, "FaceNotFound")
    with world.emulator.store.locked() as state:
        assert list(state.face_ids) == [alice2]  # dropped, not only hidden
    world.clock.advance(600)
    with world.raw() as raw:
        raw.get("/persongroups")  # every request purges what has expired
    with world.emulator.store.locked() as state:
        assert state.face_ids == {}


# -- containers ----------------------------------------------------------------------------------


def test_person_group_crud_and_paging_in_id_order(world: World) -> None:
    with world.client() as client:
        for group_id in ["pg-c", "pg-a", "pg-b"]:
            client.person_groups.create(
                group_id, name=f"Group {group_id}", recognition_model="recognition_03"
            )
        groups = client.person_groups.list(top=2).to_list()
        assert [g.person_group_id for g in groups] == ["pg-a", "pg-b", "pg-c"]
        assert all(g.recognition_model is None for g in groups)
        after = client.person_groups.list(start="pg-a", return_recognition_model=True).to_list()
        assert [(g.person_group_id, g.recognition_model) for g in after] == [
            ("pg-b", "recognition_03"),
            ("pg-c", "recognition_03"),
        ]
        client.person_groups.update("pg-a", user_data="new data")
        got = client.person_groups.get("pg-a", return_recognition_model=True)
        assert (got.name, got.user_data, got.recognition_model) == (
            "Group pg-a",
            "new data",
            "recognition_03",
        )
        assert status_of(lambda: client.person_groups.create("pg-a", name="again")) == (
            409,
            "PersonGroupExists",
        )
        assert status_of(lambda: client.person_groups.get("pg-z")) == (404, "PersonGroupNotFound")
        persons = [
            client.person_groups.create_person("pg-a", name=f"P{i}").person_id for i in range(5)
        ]
        listed = client.person_groups.list_persons("pg-a", top=2).to_list()
        assert [p.person_id for p in listed] == sorted(persons)
        assert listed[0].persisted_face_ids == []
    calls = [
        op
        for op, _ in world.checker.answered
        if op == "PersonGroupOperations_GetPersonGroupPersons"
    ]
    assert len(calls) == 3  # pages of 2, 2 and 1


def test_raw_paging_start_and_top(world: World) -> None:
    with world.client() as client:
        for list_id in ["lfl-1", "lfl-2", "lfl-3"]:
            client.large_face_lists.create(list_id, name=list_id)
    with world.raw() as raw:
        page = raw.get("/largefacelists", params={"start": "lfl-1", "top": "1"}).json()
        assert page == [{"largeFaceListId": "lfl-2", "name": "lfl-2"}]
        assert error_of(raw.get("/largefacelists", params={"top": "0"})) == (400, "BadArgument")
        assert error_of(raw.get("/largefacelists", params={"top": "1001"})) == (400, "BadArgument")
        assert error_of(raw.get("/largefacelists", params={"start": "x" * 65})) == (
            400,
            "BadArgument",
        )


def test_ids_names_and_user_data_limits(world: World) -> None:
    with world.raw() as raw:

        def put(path: str, body: JSON) -> httpx.Response:
            return raw.put(path, json=body)

        assert error_of(put("/persongroups/Upper", {"name": "n"})) == (400, "BadArgument")
        assert error_of(put("/persongroups/" + "a" * 65, {"name": "n"})) == (400, "BadArgument")
        assert put("/persongroups/" + "a" * 64, {"name": "n"}).status_code == 200
        assert put("/persongroups/ok-_1", {"name": "x" * 128}).status_code == 200
        assert error_of(put("/persongroups/p2", {"name": "x" * 129})) == (400, "BadArgument")
        assert error_of(put("/persongroups/p2", {"name": ""})) == (400, "BadArgument")
        assert error_of(put("/persongroups/p2", {})) == (400, "BadArgument")
        assert error_of(put("/persongroups/p2", {"name": "n", "userData": "u" * 16385})) == (
            400,
            "BadArgument",
        )
        assert error_of(put("/persongroups/p2", {"name": "n", "recognitionModel": "r9"})) == (
            400,
            "BadArgument",
        )
        assert error_of(raw.get("/persongroups/Upper")) == (404, "PersonGroupNotFound")
        assert error_of(raw.patch("/persongroups/ok-_1", json={})) == (400, "BadArgument")
        assert error_of(raw.get("/persongroups/ok-_1/persons/not-a-uuid")) == (
            404,
            "PersonNotFound",
        )
        response = raw.put(
            "/persongroups/p3", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        assert error_of(response) == (400, "BadArgument")
        assert response.json()["error"]["message"] == "JSON parsing error."
        person = raw.post("/persongroups/ok-_1/persons", json={"name": "P"}).json()["personId"]
        add = raw.post(
            f"/persongroups/ok-_1/persons/{person}/persistedfaces",
            params={"userData": "u" * 1025},
            content=photo("alice"),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert error_of(add) == (400, "BadArgument")
        assert raw.get("/persongroups/ok-_1").json() == {
            "personGroupId": "ok-_1",
            "name": "x" * 128,
        }


def test_face_lists_keep_faces_and_are_not_paged(world: World) -> None:
    with world.client() as client:
        client.face_lists.create(FACE_LIST_ID, name="Door", user_data="front")
        first = client.face_lists.add_face(
            FACE_LIST_ID, photo("alice"), user_data="alice", consent=TOKEN
        )
        second = client.face_lists.add_face(FACE_LIST_ID, photo("bob"), consent=TOKEN)
        got = client.face_lists.get(FACE_LIST_ID)
        assert [f.persisted_face_id for f in got.persisted_faces or []] == [
            first.persisted_face_id,
            second.persisted_face_id,
        ]
        assert [f.user_data for f in got.persisted_faces or []] == ["alice", None]
        listed = client.face_lists.list(return_recognition_model=True)
        assert [(f.face_list_id, f.recognition_model) for f in listed] == [
            (FACE_LIST_ID, "recognition_04")
        ]
        client.face_lists.delete_face(FACE_LIST_ID, first.persisted_face_id)
        assert status_of(
            lambda: client.face_lists.delete_face(FACE_LIST_ID, first.persisted_face_id)
        ) == (404, "PersistedFaceNotFound")
        client.face_lists.delete(FACE_LIST_ID)
        assert status_of(lambda: client.face_lists.get(FACE_LIST_ID)) == (404, "FaceListNotFound")


def test_large_face_list_faces_page_and_update(world: World) -> None:
    with world.client() as client:
        client.large_face_lists.create(LARGE_FACE_LIST_ID, name="Many")
        added = [
            client.large_face_lists.add_face(
                LARGE_FACE_LIST_ID, photo(f"p{i}"), user_data=f"u{i}", consent=TOKEN
            ).persisted_face_id
            for i in range(5)
        ]
        listed = client.large_face_lists.list_faces(LARGE_FACE_LIST_ID, top=3).to_list()
        assert [f.persisted_face_id for f in listed] == sorted(added)
        client.large_face_lists.update_face(LARGE_FACE_LIST_ID, added[0], user_data="changed")
        got = client.large_face_lists.get_face(LARGE_FACE_LIST_ID, added[0])
        assert got.user_data == "changed"


def test_add_face_needs_exactly_one_face_or_a_target(world: World) -> None:
    with world.client() as client:
        client.large_person_groups.create(LARGE_PERSON_GROUP_ID, name="G")
        person = client.large_person_groups.create_person(LARGE_PERSON_GROUP_ID, name="A").person_id
        grant = consent(("largePersonGroup", LARGE_PERSON_GROUP_ID, person))
        add = functools.partial(
            client.large_person_groups.add_face, LARGE_PERSON_GROUP_ID, person, consent=grant
        )
        assert status_of(lambda: add(photo("alice", "bob"))) == (400, "InvalidImage")
        assert status_of(lambda: add(photo())) == (400, "InvalidImage")
        # The second face's box is at left 220, 199 px wide.
        chosen = add(photo("alice", "bob"), target_face=[215, 30, 220, 220])
        assert status_of(lambda: add(photo("alice", "bob"), target_face=[0, 0, 5, 5])) == (
            400,
            "InvalidImage",
        )
        face = client.large_person_groups.get_face(
            LARGE_PERSON_GROUP_ID, person, chosen.persisted_face_id
        )
        assert face.user_data is None
    stored = world.emulator.store.person("largePersonGroup", LARGE_PERSON_GROUP_ID, person)
    (only,) = stored.faces.values()
    assert only.embedding == world.engine.detect(photo("alice", "bob"))[1].embedding
    with world.raw() as raw:
        response = raw.post(
            f"/largepersongroups/{LARGE_PERSON_GROUP_ID}/persons/{person}/persistedfaces",
            params={"targetFace": "1,2,3"},
            content=photo("alice"),
            headers={"Content-Type": "application/octet-stream"},
        )
    assert error_of(response) == (400, "BadArgument")


def test_a_person_holds_at_most_248_faces(world: World) -> None:
    with world.raw() as raw:
        raw.put("/persongroups/full", json={"name": "Full"})
        person = raw.post("/persongroups/full/persons", json={"name": "P"}).json()["personId"]
        path = f"/persongroups/full/persons/{person}/persistedfaces"
        headers = {"Content-Type": "application/octet-stream"}
        for i in range(248):
            response = raw.post(path, content=photo(f"alice#{i}"), headers=headers)
            assert response.status_code == 200
        over = raw.post(path, content=photo("alice#248"), headers=headers)
        assert error_of(over) == (403, "QuotaExceeded")
        got = raw.get(f"/persongroups/full/persons/{person}").json()
        assert len(got["persistedFaceIds"]) == 248


def test_quotas_are_configurable() -> None:
    world = make_world(limits=Limits(face_lists=1, faces_per_face_list=1))
    with world.raw() as raw:
        assert raw.put("/facelists/one", json={"name": "1"}).status_code == 200
        assert error_of(raw.put("/facelists/two", json={"name": "2"})) == (403, "QuotaExceeded")
        headers = {"Content-Type": "application/octet-stream"}
        assert raw.post(
            "/facelists/one/persistedfaces", content=photo("a"), headers=headers
        ).is_success
        over = raw.post("/facelists/one/persistedfaces", content=photo("b"), headers=headers)
        assert error_of(over) == (403, "QuotaExceeded")
    assert world.checker.problems == []


def test_deletes_cascade(world: World) -> None:
    with world.client() as client:
        groups = client.person_groups
        groups.create(PERSON_GROUP_ID, name="G")
        keep = groups.create_person(PERSON_GROUP_ID, name="Keep").person_id
        gone = groups.create_person(PERSON_GROUP_ID, name="Gone").person_id
        grant = consent(
            ("personGroup", PERSON_GROUP_ID, keep), ("personGroup", PERSON_GROUP_ID, gone)
        )
        kept_face = groups.add_face(PERSON_GROUP_ID, keep, photo("k"), consent=grant)
        gone_face = groups.add_face(PERSON_GROUP_ID, gone, photo("g"), consent=grant)
        groups.train(PERSON_GROUP_ID).wait()
        groups.delete_person(PERSON_GROUP_ID, gone)
        assert status_of(lambda: groups.get_person(PERSON_GROUP_ID, gone)) == (
            404,
            "PersonNotFound",
        )
        assert status_of(
            lambda: groups.get_face(PERSON_GROUP_ID, gone, gone_face.persisted_face_id)
        ) == (404, "PersonNotFound")
        groups.delete_face(PERSON_GROUP_ID, keep, kept_face.persisted_face_id)
        assert groups.get_person(PERSON_GROUP_ID, keep).persisted_face_ids == []
        groups.delete(PERSON_GROUP_ID)
        assert status_of(lambda: groups.get_person(PERSON_GROUP_ID, keep)) == (
            404,
            "PersonGroupNotFound",
        )
        groups.create(PERSON_GROUP_ID, name="Again")  # the id is free again, and empty
        assert groups.list_persons(PERSON_GROUP_ID).to_list() == []
        assert status_of(lambda: groups.get_training_status(PERSON_GROUP_ID)) == (
            404,
            "PersonGroupNotTrained",
        )


# -- training ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["persongroups", "largepersongroups", "largefacelists"])
def test_a_first_training_answers_a_date_time_never_null(world: World, kind: str) -> None:
    """The contract requires ``lastSuccessfulTrainingDateTime`` as a date-time string: before
    a first success (running, or failed) it is the year-1 sentinel, which the client reads
    as None; after a success, the real time."""
    with world.raw() as raw:
        assert raw.put(f"/{kind}/g", json={"name": "G"}).status_code == 200
        world.emulator.fail_next_training("scripted")
        for expected in ("running", "failed"):
            if expected == "running":
                assert raw.post(f"/{kind}/g/train").status_code == 202
            else:
                world.clock.advance(5)
            body = raw.get(f"/{kind}/g/training").json()
            assert body["status"] == expected
            assert body["lastSuccessfulTrainingDateTime"] == "0001-01-01T00:00:00.000Z"
            parsed = TrainingResult.model_validate(body)
            assert parsed.last_successful_training_date_time is None
        assert raw.post(f"/{kind}/g/train").status_code == 202
        world.clock.advance(5)
        body = raw.get(f"/{kind}/g/training").json()
    assert body["status"] == "succeeded"
    trained = TrainingResult.model_validate(body).last_successful_training_date_time
    assert trained is not None and trained.year > 2000


def test_training_runs_asynchronously_on_the_clock(world: World) -> None:
    start = world.clock()
    with world.client() as client:
        groups = client.large_person_groups
        groups.create(LARGE_PERSON_GROUP_ID, name="G")
        assert status_of(lambda: groups.get_training_status(LARGE_PERSON_GROUP_ID)) == (
            404,
            "LargePersonGroupNotTrained",
        )
        world.clock.advance(10)
        poller = groups.train(LARGE_PERSON_GROUP_ID)
        running = poller.status()
        assert running.status == "running"
        assert running.last_successful_training_date_time is None
        assert running.created_date_time.timestamp() == start
        assert running.last_action_date_time is not None
        assert running.last_action_date_time.timestamp() == start + 10
        done = poller.wait()
        assert done.status == "succeeded"
        assert done.last_successful_training_date_time is not None
        assert done.last_successful_training_date_time.timestamp() == start + 10.5
    train = next(
        r for r in world.checker.answered if r[0] and r[0].startswith("PersonGroupOperations_Train")
    )
    assert train == ("PersonGroupOperations_TrainLargePersonGroup", 202)


def test_train_answers_202_with_an_operation_location(world: World) -> None:
    with world.raw() as raw:
        raw.put("/largefacelists/lfl-a", json={"name": "A"})
        response = raw.post("/largefacelists/lfl-a/train")
        assert response.status_code == 202
        assert response.content == b""
        location = response.headers["operation-Location"]
        assert location == ENDPOINT + "/face/v1.2/largefacelists/lfl-a/training"
        assert raw.get(location).json()["status"] == "running"
        assert raw.post("/largefacelists/lfl-a/train").status_code == 202  # while running: no-op
        assert error_of(raw.post("/largefacelists/nope/train")) == (404, "LargeFaceListNotFound")


def test_a_scripted_training_failure(world: World) -> None:
    world.emulator.fail_next_training("no faces to learn")
    with world.client() as client:
        client.person_groups.create(PERSON_GROUP_ID, name="G")
        with pytest.raises(TrainingFailedError, match="no faces to learn"):
            client.person_groups.train(PERSON_GROUP_ID).wait()
        status = client.person_groups.get_training_status(PERSON_GROUP_ID)
        assert (status.status, status.message) == ("failed", "no faces to learn")
        assert client.person_groups.train(PERSON_GROUP_ID).wait().status == "succeeded"


def _enrolled_group(
    world: World, client: FaceClient, people: dict[str, list[str]], *, large: bool = True
) -> tuple[Any, str, str, dict[str, str]]:
    """A (large) person group with a person per name, enrolled from the given faces."""
    groups = client.large_person_groups if large else client.person_groups
    kind = "largePersonGroup" if large else "personGroup"
    group_id = LARGE_PERSON_GROUP_ID if large else PERSON_GROUP_ID
    groups.create(group_id, name="Staff", recognition_model="recognition_04")
    persons = {name: groups.create_person(group_id, name=name).person_id for name in people}
    grant = consent(*[(kind, group_id, pid) for pid in persons.values()])
    for name, faces in people.items():
        for face in faces:
            groups.add_face(group_id, persons[name], photo(face), consent=grant)
    return groups, kind, group_id, persons


def test_identify_needs_a_trained_group_and_searches_its_snapshot(world: World) -> None:
    with world.client() as client:
        groups, _kind, group_id, persons = _enrolled_group(
            world, client, {"alice": ["alice#1", "alice#2"], "bob": ["bob#1"]}
        )
        probe = face_id(client, photo("alice#3"))
        identify = functools.partial(
            client.recognition.identify_from_large_person_group,
            [probe],
            large_person_group_id=group_id,
            consent=TOKEN,
        )
        assert status_of(identify) == (400, "LargePersonGroupNotTrained")
        poller = groups.train(group_id)
        assert status_of(identify) == (409, "LargePersonGroupTrainingNotFinished")
        poller.wait()
        (result,) = identify()
        assert [c.person_id for c in result.candidates] == [persons["alice"]]
        assert result.candidates[0].confidence > 0.9
        # Carol joins after training: not searched until the group is trained again.
        carol = groups.create_person(group_id, name="carol").person_id
        groups.add_face(
            group_id,
            carol,
            photo("carol#1"),
            consent=consent(("largePersonGroup", group_id, carol)),
        )
        carol_probe = face_id(client, photo("carol#2"))
        search = functools.partial(
            client.recognition.identify_from_large_person_group,
            [carol_probe],
            large_person_group_id=group_id,
            consent=TOKEN,
        )
        assert search()[0].candidates == []
        groups.train(group_id).wait()
        assert [c.person_id for c in search()[0].candidates] == [carol]
        # A person deleted after training is never a candidate.
        groups.delete_person(group_id, persons["alice"])
        assert identify()[0].candidates == []


def test_identify_of_a_group_changed_since_training_can_be_an_error() -> None:
    world = make_world(stale_training="error")
    with world.client() as client:
        groups, _kind, group_id, persons = _enrolled_group(
            world, client, {"alice": ["alice#1"]}, large=False
        )
        groups.train(group_id).wait()
        probe = face_id(client, photo("alice#2"))
        identify = functools.partial(
            client.recognition.identify_from_person_group,
            [probe],
            person_group_id=group_id,
            consent=TOKEN,
        )
        assert identify()[0].candidates[0].person_id == persons["alice"]
        groups.create_person(group_id, name="bob")
        assert status_of(identify) == (400, "PersonGroupNotTrained")
        groups.train(group_id).wait()
        assert identify()[0].candidates[0].person_id == persons["alice"]
    assert world.checker.problems == []


def test_identify_ranks_candidates_with_threshold_and_count(world: World) -> None:
    with world.client() as client:
        groups, _kind, group_id, persons = _enrolled_group(
            world,
            client,
            {"alice": ["alice#1"], "bob": ["bob#1"], "carol": ["carol#1"], "dave": ["dave#1"]},
            large=False,
        )
        groups.train(group_id).wait()
        probe = face_id(client, photo("alice*0.9+bob*0.45+carol*0.3"))

        def identify(**kw: Any) -> list[Any]:
            (result,) = client.recognition.identify_from_person_group(
                [probe], person_group_id=group_id, consent=TOKEN, **kw
            )
            return list(result.candidates)

        assert [c.person_id for c in identify()] == [persons["alice"]]  # default threshold 0.5
        low = identify(confidence_threshold=0.2)
        assert [c.person_id for c in low] == [persons[n] for n in ("alice", "bob", "carol")]
        assert low[0].confidence > low[1].confidence > low[2].confidence >= 0.2
        top = identify(confidence_threshold=0.2, max_num_of_candidates_returned=2)
        assert [c.person_id for c in top] == [persons["alice"], persons["bob"]]
        assert identify(confidence_threshold=1.0) == []


def test_identify_validates_its_body_like_the_service(world: World) -> None:
    with world.client() as client:
        probe = face_id(client, photo("alice"))
    cases = [
        ({"faceIds": [probe]}, 400, "MissingIdentificationScopeParameters"),
        (
            {"faceIds": [probe], "personGroupId": "a", "largePersonGroupId": "b"},
            400,
            "PersonGroupIdAndLargePersonGroupIdBothNotNull",
        ),
        (
            {"faceIds": [probe], "personGroupId": "a", "personIds": ["*"]},
            400,
            "IncompatibleIdentificationScopeParametersCombination",
        ),
        ({"faceIds": [], "personGroupId": "a"}, 400, "BadArgument"),
        ({"faceIds": [probe] * 11, "personGroupId": "a"}, 400, "BadArgument"),
        ({"faceIds": ["nope"], "personGroupId": "a"}, 400, "BadArgument"),
        (
            {"faceIds": [probe], "personGroupId": "a", "maxNumOfCandidatesReturned": 101},
            400,
            "BadArgument",
        ),
        (
            {"faceIds": [probe], "personGroupId": "a", "confidenceThreshold": 1.5},
            400,
            "BadArgument",
        ),
        ({"faceIds": [probe], "personGroupId": "missing"}, 400, "PersonGroupNotFound"),
        (
            {"faceIds": ["00000000-0000-4000-8000-000000000000"], "personGroupId": "a"},
            400,
            "FaceNotFound",
        ),
        ({"faceIds": [probe], "dynamicPersonGroupId": "d"}, 400, "DynamicPersonGroupNotFound"),
        ({"faceIds": [probe], "personIds": [PERSON_ID]}, 404, "PersonNotFound"),
    ]
    with world.raw() as raw:
        for body, status, code in cases:
            assert error_of(raw.post("/identify", json=body)) == (status, code), body
        everyone = raw.post("/identify", json={"faceIds": [probe], "personIds": ["*"]})
    assert everyone.json() == [{"faceId": probe, "candidates": []}]


def test_verify_same_and_different_people(world: World) -> None:
    with world.client() as client:
        alice1 = face_id(client, photo("alice#1"))
        alice2 = face_id(client, photo("alice#2"))
        bob = face_id(client, photo("bob#1"))
        same = client.recognition.verify_face_to_face(alice1, alice2, consent=TOKEN)
        different = client.recognition.verify_face_to_face(alice1, bob, consent=TOKEN)
        assert same.is_identical is True and same.confidence > 0.9
        assert different.is_identical is False and different.confidence < 0.5
        _groups, kind, group_id, persons = _enrolled_group(
            world, client, {"alice": ["alice#3", "alice#4"]}
        )
        to_person = functools.partial(
            client.recognition.verify_from_large_person_group,
            large_person_group_id=group_id,
            person_id=persons["alice"],
            consent=consent((kind, group_id, persons["alice"])),
        )
        assert to_person(alice1).is_identical is True  # no training needed
        assert to_person(bob).is_identical is False
        client.person_groups.create(PERSON_GROUP_ID, name="PG")
        pg_person = client.person_groups.create_person(PERSON_GROUP_ID, name="x").person_id
        assert status_of(
            lambda: client.recognition.verify_from_person_group(
                alice1,
                person_group_id=PERSON_GROUP_ID,
                person_id=pg_person,
                consent=consent(("personGroup", PERSON_GROUP_ID, pg_person)),
            )
        ) == (404, "PersistedFaceNotFound")


def test_find_similar_match_person_and_match_face(world: World) -> None:
    with world.client() as client:
        probe = face_id(client, photo("alice#1"))
        others = {
            name: face_id(client, photo(name))
            for name in ["alice#2", "alice#3", "alice*0.4+bob*0.9", "bob", "carol"]
        }
        person = client.recognition.find_similar(
            probe, face_ids=list(others.values()), consent=TOKEN
        )
        assert {r.face_id for r in person} == {others["alice#2"], others["alice#3"]}
        face = client.recognition.find_similar(
            probe, face_ids=list(others.values()), mode="matchFace", consent=TOKEN
        )
        assert len(face) == 5
        assert [r.face_id for r in face][2] == others["alice*0.4+bob*0.9"]
        assert [r.confidence for r in face] == sorted((r.confidence for r in face), reverse=True)
        limited = client.recognition.find_similar(
            probe,
            face_ids=list(others.values()),
            mode="matchFace",
            max_num_of_candidates_returned=3,
            consent=TOKEN,
        )
        assert [r.face_id for r in limited] == [r.face_id for r in face][:3]


def test_find_similar_in_face_lists(world: World) -> None:
    with world.client() as client:
        probe = face_id(client, photo("alice#1"))
        client.face_lists.create(FACE_LIST_ID, name="FL")
        similar = functools.partial(
            client.recognition.find_similar_from_face_list,
            probe,
            face_list_id=FACE_LIST_ID,
            consent=TOKEN,
        )
        assert status_of(similar) == (400, "FaceListNotReady")
        alice = client.face_lists.add_face(FACE_LIST_ID, photo("alice#2"), consent=TOKEN)
        client.face_lists.add_face(FACE_LIST_ID, photo("bob"), consent=TOKEN)
        assert [r.persisted_face_id for r in similar()] == [alice.persisted_face_id]
        client.large_face_lists.create(LARGE_FACE_LIST_ID, name="LFL")
        large_alice = client.large_face_lists.add_face(
            LARGE_FACE_LIST_ID, photo("alice#3"), consent=TOKEN
        )
        large = functools.partial(
            client.recognition.find_similar_from_large_face_list,
            probe,
            large_face_list_id=LARGE_FACE_LIST_ID,
            consent=TOKEN,
        )
        assert status_of(large) == (400, "LargeFaceListNotTrained")
        client.large_face_lists.train(LARGE_FACE_LIST_ID).wait()
        assert [r.persisted_face_id for r in large()] == [large_alice.persisted_face_id]
        assert len(large(mode="matchFace")) == 1


def test_find_similar_validates_its_target(world: World) -> None:
    with world.client() as client:
        probe = face_id(client, photo("alice"))
    with world.raw() as raw:
        for body in [
            {"faceId": probe},
            {"faceId": probe, "faceIds": [probe], "faceListId": "x"},
            {"faceId": probe, "faceIds": [probe], "mode": "matchAnything"},
            {"faceId": probe, "faceIds": [probe], "maxNumOfCandidatesReturned": 0},
        ]:
            assert error_of(raw.post("/findsimilars", json=body)) == (400, "BadArgument"), body
        assert error_of(raw.post("/findsimilars", json={"faceId": probe, "faceListId": "x"})) == (
            400,
            "FaceListNotFound",
        )


def test_group_is_connected_components_with_a_messy_group(world: World) -> None:
    with world.client() as client:
        faces = {
            name: face_id(client, photo(name))
            for name in ["alice#1", "bob#1", "alice#2", "carol", "bob#2", "alice#3"]
        }
        result = client.recognition.group(list(faces.values()), consent=TOKEN)
    assert result.groups == [
        [faces["alice#1"], faces["alice#2"], faces["alice#3"]],
        [faces["bob#1"], faces["bob#2"]],
    ]
    assert result.messy_group == [faces["carol"]]
    with world.raw() as raw:
        alone = raw.post("/group", json={"faceIds": [faces["carol"], faces["alice#1"]]}).json()
        assert alone == {"groups": [], "messyGroup": [faces["carol"], faces["alice#1"]]}
        assert error_of(raw.post("/group", json={"faceIds": [faces["carol"]]})) == (
            400,
            "BadArgument",
        )


def test_recognition_models_must_match(world: World) -> None:
    """The guard of a client that saw the detection refuses a mismatch itself; a client that
    did not (a fresh guard) lets the call reach the emulator, which refuses it too."""
    with world.client() as client:
        face3 = face_id(client, photo("alice#1"), recognition_model="recognition_03")
        face4 = face_id(client, photo("alice#2"), recognition_model="recognition_04")
        client.large_person_groups.create(LARGE_PERSON_GROUP_ID, name="G")  # recognition_04
        client.large_person_groups.train(LARGE_PERSON_GROUP_ID).wait()
    with world.client(guard=policy()) as fresh:
        mismatch = status_of(
            lambda: fresh.recognition.verify_face_to_face(face3, face4, consent=TOKEN)
        )
        assert mismatch == (400, "BadArgument")
        assert status_of(lambda: fresh.recognition.group([face3, face4], consent=TOKEN)) == (
            400,
            "BadArgument",
        )
        against_group = status_of(
            lambda: fresh.recognition.identify_from_large_person_group(
                [face3], large_person_group_id=LARGE_PERSON_GROUP_ID, consent=TOKEN
            )
        )
        assert against_group == (400, "BadArgument")
        assert (
            fresh.recognition.identify_from_large_person_group(
                [face4], large_person_group_id=LARGE_PERSON_GROUP_ID, consent=TOKEN
            )[0].candidates
            == []
        )
    with world.raw() as raw:
        message = raw.post("/verify", json={"faceId1": face3, "faceId2": face4}).json()
    assert "'recognitionModel' is incompatible" in message["error"]["message"]
    assert "recognition_03" in message["error"]["message"]


def test_an_unapproved_resource_cannot_recognise() -> None:
    world = make_world(limited_access_approved=False)
    with world.client() as client:
        (face,) = client.detection.detect(photo("alice"))  # detection alone is fine
        assert face.face_id is None
        assert status_of(lambda: face_id(client, photo("alice"))) == (403, "UnsupportedFeature")
    assert world.checker.problems == []


def test_a_tour_of_every_face_operation(world: World) -> None:
    """Every Face operation once through the real client, each answer checked against the
    contract; all but the two whose targets cannot exist in v1.2 GA succeed."""
    world.images["https://img.example/p.jpg"] = photo("pat")
    world.emulator.set_session_image_source({"img-1": photo("alice#9")}.get)
    with world.client() as client:
        detection, recognition = client.detection, client.recognition
        alice = face_id(client, photo("alice#1"))
        alice2 = face_id(client, photo("alice#2"))
        detection.detect("https://img.example/p.jpg")
        detection.detect_from_session_image("img-1")
        recognition.verify_face_to_face(alice, alice2, consent=TOKEN)
        recognition.find_similar(alice, face_ids=[alice2], consent=TOKEN)
        recognition.group([alice, alice2], consent=TOKEN)
        recognition.identify_from_person_directory([alice], person_ids=["*"], consent=TOKEN)
        assert status_of(
            lambda: recognition.verify_from_person_directory(
                alice, person_id=PERSON_ID, consent=TOKEN
            )
        ) == (404, "PersonNotFound")
        assert status_of(
            lambda: recognition.identify_from_dynamic_person_group(
                [alice], dynamic_person_group_id=DYNAMIC_PERSON_GROUP_ID, consent=TOKEN
            )
        ) == (400, "DynamicPersonGroupNotFound")

        lists = client.face_lists
        lists.create(FACE_LIST_ID, name="FL")
        lists.update(FACE_LIST_ID, name="FL2")
        lists.get(FACE_LIST_ID)
        lists.list()
        fl_face = lists.add_face(FACE_LIST_ID, photo("alice#3"), consent=TOKEN)
        lists.add_face(FACE_LIST_ID, "https://img.example/p.jpg", consent=TOKEN)
        recognition.find_similar_from_face_list(alice, face_list_id=FACE_LIST_ID, consent=TOKEN)
        lists.delete_face(FACE_LIST_ID, fl_face.persisted_face_id)
        lists.delete(FACE_LIST_ID)

        large = client.large_face_lists
        large.create(LARGE_FACE_LIST_ID, name="LFL")
        large.update(LARGE_FACE_LIST_ID, user_data="data")
        large.get(LARGE_FACE_LIST_ID, return_recognition_model=True)
        large.list().to_list()
        lfl_face = large.add_face(LARGE_FACE_LIST_ID, photo("alice#4"), consent=TOKEN)
        large.add_face(LARGE_FACE_LIST_ID, "https://img.example/p.jpg", consent=TOKEN)
        large.list_faces(LARGE_FACE_LIST_ID).to_list()
        large.get_face(LARGE_FACE_LIST_ID, lfl_face.persisted_face_id)
        large.update_face(LARGE_FACE_LIST_ID, lfl_face.persisted_face_id, user_data="u")
        large.train(LARGE_FACE_LIST_ID).wait()
        large.get_training_status(LARGE_FACE_LIST_ID)
        recognition.find_similar_from_large_face_list(
            alice, large_face_list_id=LARGE_FACE_LIST_ID, consent=TOKEN
        )
        large.delete_face(LARGE_FACE_LIST_ID, lfl_face.persisted_face_id)
        large.delete(LARGE_FACE_LIST_ID)

        containers: list[tuple[Any, str, str]] = [
            (client.person_groups, "personGroup", PERSON_GROUP_ID),
            (client.large_person_groups, "largePersonGroup", LARGE_PERSON_GROUP_ID),
        ]
        for groups, kind, group_id in containers:
            groups.create(group_id, name="G")
            groups.update(group_id, name="G2")
            groups.get(group_id)
            groups.list().to_list()
            person = groups.create_person(group_id, name="Alice").person_id
            grant = consent((kind, group_id, person))
            groups.update_person(group_id, person, user_data="employee")
            groups.get_person(group_id, person)
            groups.list_persons(group_id).to_list()
            face = groups.add_face(group_id, person, photo("alice#5"), consent=grant)
            groups.add_face(group_id, person, "https://img.example/p.jpg", consent=grant)
            groups.get_face(group_id, person, face.persisted_face_id)
            groups.update_face(group_id, person, face.persisted_face_id, user_data="u")
            groups.train(group_id).wait()
            groups.get_training_status(group_id)
            if kind == "personGroup":
                (found,) = recognition.identify_from_person_group(
                    [alice], person_group_id=group_id, consent=grant
                )
                recognition.verify_from_person_group(
                    alice, person_group_id=group_id, person_id=person, consent=grant
                )
            else:
                (found,) = recognition.identify_from_large_person_group(
                    [alice], large_person_group_id=group_id, consent=grant
                )
                recognition.verify_from_large_person_group(
                    alice, large_person_group_id=group_id, person_id=person, consent=grant
                )
            assert [c.person_id for c in found.candidates] == [person]
            groups.delete_face(group_id, person, face.persisted_face_id)
            groups.delete_person(group_id, person)
            groups.delete(group_id)
    unreachable = {
        "FaceRecognitionOperations_VerifyFromPersonDirectory",
        "FaceRecognitionOperations_IdentifyFromDynamicPersonGroup",
    }
    assert world.checker.succeeded & FACE_OPERATIONS == FACE_OPERATIONS - unreachable


def test_the_state_is_plain_data_with_embeddings_only(world: World) -> None:
    with world.client() as client:
        client.face_lists.create(FACE_LIST_ID, name="FL")
        client.face_lists.add_face(FACE_LIST_ID, photo("alice"), consent=TOKEN)
        face_id(client, photo("bob"))
    with world.emulator.store.locked() as state:
        blobs = [v for v in _leaves(dataclasses.asdict(state)) if isinstance(v, bytes)]
        assert len(state.face_ids) == 1
    assert len(blobs) == 2  # one persisted face and one faceId: 128 float32 each, no image
    assert all(len(blob) == 512 for blob in blobs)


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


# -- the async client ----------------------------------------------------------------------------


async def test_the_async_client_enrolls_trains_and_identifies(world: World) -> None:
    async with world.async_client() as client:
        groups = client.large_person_groups
        await groups.create(LARGE_PERSON_GROUP_ID, name="Async", recognition_model="recognition_04")
        alice = (await groups.create_person(LARGE_PERSON_GROUP_ID, name="alice")).person_id
        bob = (await groups.create_person(LARGE_PERSON_GROUP_ID, name="bob")).person_id
        grant = consent(
            ("largePersonGroup", LARGE_PERSON_GROUP_ID, alice),
            ("largePersonGroup", LARGE_PERSON_GROUP_ID, bob),
        )
        await groups.add_face(LARGE_PERSON_GROUP_ID, alice, photo("alice#1"), consent=grant)
        await groups.add_face(LARGE_PERSON_GROUP_ID, bob, photo("bob#1"), consent=grant)
        poller = await groups.train(LARGE_PERSON_GROUP_ID)
        assert (await poller.status()).status == "running"
        assert (await poller.wait()).status == "succeeded"
        faces = await client.detection.detect(
            photo("bob#2"), return_face_id=True, face_id_time_to_live=60, consent=TOKEN
        )
        probe = str(faces[0].face_id)
        (result,) = await client.recognition.identify_from_large_person_group(
            [probe], large_person_group_id=LARGE_PERSON_GROUP_ID, consent=grant
        )
        assert [c.person_id for c in result.candidates] == [bob]
        persons = [p.person_id async for p in groups.list_persons(LARGE_PERSON_GROUP_ID, top=1)]
        assert persons == sorted([alice, bob])
        world.clock.advance(60)
        with pytest.raises(APIStatusError) as info:
            await client.recognition.identify_from_large_person_group(
                [probe], large_person_group_id=LARGE_PERSON_GROUP_ID, consent=grant
            )
        assert (info.value.status_code, info.value.error_code) == (400, "FaceNotFound")


# -- the real engine on real photos --------------------------------------------------------------

FACES = Path(__file__).parent / "data" / "faces"
MANIFEST = json.loads((FACES / "manifest.json").read_text(encoding="utf-8"))["images"]


def _labelled() -> dict[str, list[str]]:
    """Single-face photos by identity, in file order."""
    found: dict[str, list[str]] = {}
    for entry in MANIFEST:
        if entry["faces"] == 1 and entry.get("identity") and not entry.get("background_faces"):
            found.setdefault(entry["identity"], []).append(entry["file"])
    return {name: sorted(files) for name, files in found.items() if len(files) >= 2}


def _read(file: str) -> bytes:
    return (FACES / file).read_bytes()


@pytest.fixture(scope="module")
def opencv_engine() -> Any:
    from faceguard.emulator._engine import OpenCVEngine

    return OpenCVEngine()


@pytest.fixture
def real(opencv_engine: Any) -> Iterator[World]:
    made = make_world(engine=opencv_engine)
    yield made
    assert made.checker.problems == []


def test_real_photos_enroll_train_and_identify(real: World) -> None:
    labelled = _labelled()
    assert len(labelled) >= 3, "tests/data/faces needs 3 people with 2 photos each"
    with real.client() as client:
        groups = client.large_person_groups
        groups.create(LARGE_PERSON_GROUP_ID, name="Real", recognition_model="recognition_04")
        persons = {
            name: groups.create_person(LARGE_PERSON_GROUP_ID, name=name).person_id
            for name in labelled
        }
        grant = consent(*[("largePersonGroup", LARGE_PERSON_GROUP_ID, p) for p in persons.values()])
        for name, files in labelled.items():
            groups.add_face(
                LARGE_PERSON_GROUP_ID,
                persons[name],
                _read(files[0]),
                detection_model="detection_03",
                consent=grant,
            )
        probes = {name: face_id(client, _read(files[-1])) for name, files in labelled.items()}
        identify = functools.partial(
            client.recognition.identify_from_large_person_group,
            large_person_group_id=LARGE_PERSON_GROUP_ID,
            consent=grant,
        )
        assert status_of(lambda: identify([probes[next(iter(probes))]])) == (
            400,
            "LargePersonGroupNotTrained",
        )
        assert groups.train(LARGE_PERSON_GROUP_ID).wait().status == "succeeded"
        listed = groups.list_persons(LARGE_PERSON_GROUP_ID, top=2).to_list()
        assert [p.person_id for p in listed] == sorted(persons.values())
        assert all(len(p.persisted_face_ids or []) == 1 for p in listed)
        for name, probe in probes.items():
            (result,) = identify([probe])
            assert result.candidates, name
            assert result.candidates[0].person_id == persons[name], name
            assert result.candidates[0].confidence >= 0.5
        # Both faces of a group photo, identified in one raw call (the guard binds only the
        # largest face of an image to the consent subject).
        two = next(e for e in MANIFEST if e.get("identities") and e["faces"] == 2)
        with real.raw() as raw:
            detected = raw.post(
                "/detect",
                params={"recognitionModel": "recognition_04", "detectionModel": "detection_03"},
                content=_read(two["file"]),
                headers={"Content-Type": "application/octet-stream"},
            ).json()
            assert len(detected) == 2
            left_to_right = sorted(detected, key=lambda f: f["faceRectangle"]["left"])
            results = raw.post(
                "/identify",
                json={
                    "faceIds": [f["faceId"] for f in left_to_right],
                    "largePersonGroupId": LARGE_PERSON_GROUP_ID,
                },
            ).json()
        for expected, result in zip(two["identities"], results, strict=True):
            if expected in persons:
                assert result["candidates"][0]["personId"] == persons[expected], expected
        # Deleting a person removes them from identification at once.
        victim = next(iter(persons))
        groups.delete_person(LARGE_PERSON_GROUP_ID, persons[victim])
        assert all(c.person_id != persons[victim] for c in identify([probes[victim]])[0].candidates)


def test_real_photos_verify_group_and_find_similar(real: World) -> None:
    labelled = _labelled()
    with real.client() as client:
        ids = {
            (name, index): face_id(client, _read(file))
            for name, files in labelled.items()
            for index, file in enumerate(files)
        }
        names = list(labelled)
        first, second = names[0], names[1]
        same = client.recognition.verify_face_to_face(ids[first, 0], ids[first, 1], consent=TOKEN)
        different = client.recognition.verify_face_to_face(
            ids[first, 0], ids[second, 0], consent=TOKEN
        )
        assert same.is_identical is True and same.confidence >= 0.5
        assert different.is_identical is False and different.confidence < 0.5
        grouping = client.recognition.group(list(ids.values()), consent=TOKEN)
        owner: dict[str | None, str] = {fid: name for (name, _), fid in ids.items()}
        assert sorted(sorted(owner[f] for f in group) for group in grouping.groups) == sorted(
            [name] * len(files) for name, files in labelled.items()
        )
        assert grouping.messy_group == []
        others = [fid for key, fid in ids.items() if key != (first, 0)]
        similar = client.recognition.find_similar(ids[first, 0], face_ids=others, consent=TOKEN)
        assert {owner[r.face_id] for r in similar} == {first}
        ranked = client.recognition.find_similar(
            ids[first, 0], face_ids=others, mode="matchFace", consent=TOKEN
        )
        assert len(ranked) == len(others)
        assert owner[ranked[0].face_id] == first
        # A face list of everyone's first photo finds the probe's owner.
        client.face_lists.create(FACE_LIST_ID, name="Real")
        enrolled: dict[str | None, str] = {
            client.face_lists.add_face(
                FACE_LIST_ID, _read(files[0]), consent=TOKEN
            ).persisted_face_id: name
            for name, files in labelled.items()
        }
        found = client.recognition.find_similar_from_face_list(
            ids[second, 1], face_list_id=FACE_LIST_ID, consent=TOKEN
        )
        assert [enrolled[r.persisted_face_id] for r in found] == [second]


def test_real_photos_detect_measures_and_expires(real: World) -> None:
    two = next(e for e in MANIFEST if e.get("identities") and e["faces"] == 2)
    with real.client() as client:
        faces = client.detection.detect(
            _read(two["file"]),
            return_face_id=True,
            return_face_landmarks=True,
            return_face_attributes=["headPose", "blur", "qualityForRecognition"],
            face_id_time_to_live=60,
            consent=TOKEN,
        )
        assert len(faces) == 2
        assert faces[0].face_rectangle.width * faces[0].face_rectangle.height >= (
            faces[1].face_rectangle.width * faces[1].face_rectangle.height
        )
        for face in faces:
            attributes = face.face_attributes
            assert attributes is not None and attributes.head_pose is not None
            assert abs(attributes.head_pose.yaw) < 60
            assert attributes.quality_for_recognition in ("low", "medium", "high")
            assert face.face_landmarks is not None
            box = face.face_rectangle
            assert box.left <= face.face_landmarks.nose_tip.x <= box.left + box.width
        first = str(faces[0].face_id)
        labelled = _labelled()
        name = next(iter(labelled))
        other = face_id(client, _read(labelled[name][0]), face_id_time_to_live=600)
        assert client.recognition.verify_face_to_face(first, other, consent=TOKEN) is not None
        real.clock.advance(60)
        assert status_of(
            lambda: client.recognition.verify_face_to_face(first, other, consent=TOKEN)
        ) == (404, "FaceNotFound")


async def test_real_photos_through_the_async_client(real: World) -> None:
    labelled = _labelled()
    name, files = next(iter(labelled.items()))
    async with real.async_client() as client:
        await client.person_groups.create(PERSON_GROUP_ID, name="Async real")
        person = (await client.person_groups.create_person(PERSON_GROUP_ID, name=name)).person_id
        grant = consent(("personGroup", PERSON_GROUP_ID, person))
        await client.person_groups.add_face(PERSON_GROUP_ID, person, _read(files[0]), consent=grant)
        await (await client.person_groups.train(PERSON_GROUP_ID)).wait()
        faces = await client.detection.detect(
            _read(files[1]), return_face_id=True, recognition_model="recognition_03", consent=TOKEN
        )
        probe = str(faces[0].face_id)
        # recognition_03 faces against a recognition_04 group: refused (by the guard here,
        # which remembers the group's model; by the emulator for a client that does not).
        with pytest.raises(FaceIdError, match="recognition"):
            await client.recognition.identify_from_person_group(
                [probe], person_group_id=PERSON_GROUP_ID, consent=grant
            )
        async with real.async_client(guard=policy()) as fresh:
            with pytest.raises(APIStatusError) as info:
                await fresh.recognition.identify_from_person_group(
                    [probe], person_group_id=PERSON_GROUP_ID, consent=grant
                )
        assert (info.value.status_code, info.value.error_code) == (400, "BadArgument")
        good = await client.detection.detect(_read(files[1]), return_face_id=True, consent=TOKEN)
        (result,) = await client.recognition.identify_from_person_group(
            [str(good[0].face_id)], person_group_id=PERSON_GROUP_ID, consent=grant
        )
        assert [c.person_id for c in result.candidates] == [person]
