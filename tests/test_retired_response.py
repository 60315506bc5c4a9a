"""Retired attributes never come out of a response (GUARD §1a R01-R03, issue 11 §2).

A service, a proxy or a cassette may send emotion, gender, age, smile, facial hair, hair or
makeup in any face object: at its top level, in ``faceAttributes``, at any depth, under keys
in any letter case, with separators or whitespace, JSON-escaped or in compatibility forms.
Whatever the spelling, the parsed result must not carry them in a field, in ``model_extra``,
in ``model_dump()``, in its JSON, its ``repr()`` or a notebook rendering.

Every attack goes through the public client over an ``httpx.MockTransport`` answering crafted
raw JSON (raw, so that escapes like ``\\u0061ge`` reach the parser as the service sent them).
"""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import _guard_kit
from _samples import LARGE_PERSON_GROUP_ID, PERSON_ID
from faceguard import AsyncFaceClient, FaceClient
from faceguard.models import (
    FaceAttributes,
    FaceDetectionResult,
    FaceModel,
    LivenessWithVerifySession,
)

ENDPOINT = "https://retired.cognitiveservices.azure.com"
JPEG = b"\xff\xd8\xff\xe0" + bytes(2000)
FACE_ID = "c5c24a82-6845-4031-9d5d-978df9175426"
LEAK = "LEAKED-RETIRED-VALUE"

# Keys as they appear in the raw JSON text (JSON string contents, escapes and all).
SPELLINGS = [
    "age",
    " age ",
    "Emotion",
    "FACIALHAIR",
    "facial_hair",
    "Facial-Hair",
    "Facial Hair",
    "hair\\t",
    "GENDER",
    "make_up",
    "SMILE",
    "\\u0061ge",  # "age", escaped
    "\\u0045motion",  # "Emotion", escaped
    "\\uff47\\uff45\\uff4e\\uff44\\uff45\\uff52",  # fullwidth "gender"
    "ma\\u200bkeup",  # a zero-width space inside
    "smi\\u00adle",  # a soft hyphen inside
    "A_G_E",
]
RETIRED = {"age", "smile", "facialhair", "hair", "emotion", "gender", "makeup"}


def _norm(key: str) -> str:
    """How this test reads a key: compatibility forms folded, separators dropped, no case."""
    folded = unicodedata.normalize("NFKD", key)
    return re.sub(r"[\W_]+", "", folded).casefold()


def _members(spelling: str) -> str:
    """One JSON object member: the leak marker under one spelling of a retired key."""
    return f'"{spelling}": "{LEAK}"'


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in a dumped structure, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key), item
            yield from _walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item)


def _extras(model: Any) -> Iterator[dict[str, Any]]:
    """``model_extra`` of a model and of every model inside it."""
    if isinstance(model, FaceModel):
        yield model.model_extra or {}
        for name in type(model).model_fields:
            yield from _extras(getattr(model, name))
    elif isinstance(model, list | tuple):
        for item in model:
            yield from _extras(item)


def assert_clean(result: Any) -> None:
    """No retired key or value anywhere in the result, however it is read."""
    items = list(result) if isinstance(result, list) else [result]
    for item in items:
        assert isinstance(item, FaceModel)
        for extra in _extras(item):
            for key, _ in _walk(extra):  # its own keys and every key below them
                assert _norm(key) not in RETIRED, f"model_extra carries {key!r}"
        for dumped in (item.model_dump(), item.model_dump(by_alias=True)):
            for key, _ in _walk(dumped):
                assert _norm(key) not in RETIRED, f"model_dump() carries {key!r}"
        assert LEAK not in item.model_dump_json()
        assert LEAK not in repr(item)
        assert LEAK not in str(item)


def _client(body: str | bytes, **kwargs: Any) -> FaceClient:
    content = body if isinstance(body, bytes) else body.encode()

    def service(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content, headers={"content-type": "application/json"})

    return FaceClient(ENDPOINT, api_key="k", transport=httpx.MockTransport(service), **kwargs)


RECT = '{"top": 10, "left": 12, "width": 100, "height": 100}'
HEAD = '"headPose": {"pitch": 1.0, "roll": 2.0, "yaw": 3.0}'


def _detect(body: str | bytes) -> list[FaceDetectionResult]:
    faces = _client(body).detection.detect(JPEG, return_face_attributes=["headPose"])
    return list(faces)


# -- detect: top level, faceAttributes, any depth -------------------------------------------


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_top_level_of_a_detected_face(spelling: str) -> None:
    body = f'[{{"faceRectangle": {RECT}, {_members(spelling)}}}]'
    faces = _detect(body)
    assert faces[0].face_rectangle.width == 100
    assert_clean(faces)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_in_face_attributes(spelling: str) -> None:
    body = f'[{{"faceRectangle": {RECT}, "faceAttributes": {{{HEAD}, {_members(spelling)}}}}}]'
    (face,) = _detect(body)
    assert face.face_attributes is not None and face.face_attributes.head_pose is not None
    assert_clean([face])


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_at_depth_under_known_and_unknown_keys(spelling: str) -> None:
    member = _members(spelling)
    body = (
        f'[{{"faceRectangle": {{"top": 1, "left": 2, "width": 3, "height": 4, {member}}}, '
        f'"extensions": [{{"inner": {{{member}, "keep": 1}}}}, [[{{{member}}}]]], '
        f'"faceAttributes": {{{HEAD}, "occlusion": {{"foreheadOccluded": false, '
        f'"eyeOccluded": false, "mouthOccluded": false, {member}}}}}}}]'
    )
    (face,) = _detect(body)
    assert_clean([face])
    # What is not retired is kept: unknown fields survive the strip.
    assert face.model_extra is not None
    assert face.model_extra["extensions"][0]["inner"] == {"keep": 1}


def test_every_retired_name_and_its_whole_value_at_once() -> None:
    values = {
        "age": 31.0,
        "smile": 0.9,
        "facialHair": {"moustache": 0.1, "beard": 0.2, "sideburns": 0.3},
        "hair": {"bald": 0.0, "hairColor": [{"color": "brown", "confidence": 1.0}]},
        "emotion": {"happiness": 1.0, "anger": 0.0},
        "gender": "female",
        "makeup": {"eyeMakeup": True, "lipMakeup": False},
    }
    face = {"faceRectangle": json.loads(RECT), **values, "faceAttributes": values}
    (parsed,) = _detect(json.dumps([face]))
    assert_clean([parsed])
    text = parsed.model_dump_json()
    for marker in ("female", "happiness", "moustache", "hairColor", "eyeMakeup", "31.0"):
        assert marker not in text


def test_renamed_attributes_the_allowlist_does_not_know_are_dropped() -> None:
    """faceguard requests only allowlisted attributes: any other key in faceAttributes (a
    renamed retired one like ``perceivedAge``) is dropped, not kept as an unknown field."""
    body = (
        f'[{{"faceRectangle": {RECT}, "faceAttributes": {{{HEAD}, '
        f'"perceivedAge": "{LEAK}", "emotions": {{"x": "{LEAK}"}}, "genderScore": "{LEAK}"}}}}]'
    )
    (face,) = _detect(body)
    assert face.face_attributes is not None
    assert face.face_attributes.model_extra == {}  # allowlist: nothing unknown kept
    assert LEAK not in face.model_dump_json()


@pytest.mark.parametrize("spelling", ["Age", "hair\\t", "\\u0067ender"])
def test_async_client_strips_too(spelling: str) -> None:
    member = _members(spelling)
    body = f'[{{"faceRectangle": {RECT}, {member}, "faceAttributes": {{{member}}}}}]'

    async def service(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=body.encode(), headers={"content-type": "application/json"}
        )

    async def main() -> list[FaceDetectionResult]:
        async with AsyncFaceClient(
            ENDPOINT, api_key="k", transport=httpx.MockTransport(service)
        ) as client:
            return list(await client.detection.detect(JPEG, return_face_attributes=["blur"]))

    assert_clean(asyncio.run(main()))


# -- other results that can carry a face object ---------------------------------------------


PLACEHOLDER = "__retired_key__"


def _crafted(structure: Any, spelling: str) -> str:
    """``structure`` as JSON text, with every ``PLACEHOLDER`` key spelled ``spelling`` (raw
    JSON string contents: escapes reach the client as written)."""
    return json.dumps(structure).replace(f'"{PLACEHOLDER}"', f'"{spelling}"')


def _verify_session(spelling: str) -> str:
    rect = json.loads(RECT)
    attempt_result = {
        "targets": {"color": {"faceRectangle": rect}},
        "digest": "d",
        "livenessDecision": "realface",
        "verifyResult": {"matchConfidence": 0.9, "isIdentical": True, PLACEHOLDER: LEAK},
        "face": {PLACEHOLDER: LEAK, "faceAttributes": {PLACEHOLDER: LEAK}},
        PLACEHOLDER: LEAK,
    }
    session = {
        "sessionId": "s-1",
        "authToken": "t",
        "status": "Succeeded",
        PLACEHOLDER: LEAK,
        "results": {
            "verifyReferences": [
                {
                    "referenceType": "image",
                    "faceRectangle": rect,
                    "qualityForRecognition": "high",
                    PLACEHOLDER: LEAK,
                }
            ],
            "attempts": [{"attemptId": 1, "attemptStatus": "Succeeded", "result": attempt_result}],
        },
    }
    return _crafted(session, spelling)


@pytest.mark.parametrize("spelling", ["emotion", " Gender ", "\\u0061ge", "FACIAL_HAIR"])
def test_liveness_with_verify_session_results(spelling: str) -> None:
    body = _verify_session(spelling)
    session = _client(body).liveness.get_with_verify_session_result("s-1")
    assert isinstance(session, LivenessWithVerifySession)
    assert session.results.attempts[0].result is not None
    assert_clean(session)


@pytest.mark.parametrize("spelling", ["smile", "Hair", "\\u006dakeup", "E M O T I O N"])
def test_identify_results_and_candidates(spelling: str) -> None:
    member = _members(spelling)
    body = (
        f'[{{"faceId": "{FACE_ID}", {member}, "candidates": '
        f'[{{"personId": "{PERSON_ID}", "confidence": 0.9, {member}}}]}}]'
    )
    policy = _guard_kit.policy()
    _guard_kit.consent_person(policy, "largePersonGroup", LARGE_PERSON_GROUP_ID, PERSON_ID)
    client = _client(body, guard=policy)
    results = client.recognition.identify_from_large_person_group(
        [FACE_ID],
        large_person_group_id=LARGE_PERSON_GROUP_ID,
        consent=_guard_kit.token(endpoints=[ENDPOINT]),
    )
    assert results[0].candidates[0].person_id == PERSON_ID  # consented: kept
    assert_clean(list(results))


@pytest.mark.parametrize("spelling", ["age", "FacialHair", "\\u0068air"])
def test_collection_reads(spelling: str) -> None:
    member = _members(spelling)
    body = f'[{{"personId": "{PERSON_ID}", "name": "n", {member}, "extra": [{{{member}}}]}}]'
    client = _client(body)
    persons = list(client.large_person_groups.list_persons(LARGE_PERSON_GROUP_ID))
    assert persons[0].person_id == PERSON_ID
    assert_clean(persons)


# -- models validated directly, and the notebook ---------------------------------------------


VALIDATORS: list[Callable[[dict[str, Any]], FaceDetectionResult]] = [
    FaceDetectionResult.model_validate,
    lambda data: FaceDetectionResult.model_validate_json(json.dumps(data)),
    lambda data: FaceDetectionResult(**data),
]


@pytest.mark.parametrize("validate", VALIDATORS, ids=["model_validate", "json", "init"])
@pytest.mark.parametrize("key", ["Age", " emotion", "facial_hair", "\uff41\uff47\uff45"])
def test_models_validated_directly(
    validate: Callable[[dict[str, Any]], FaceDetectionResult], key: str
) -> None:
    data = {
        "faceRectangle": json.loads(RECT),
        key: LEAK,
        "faceAttributes": {key: LEAK, "blur": {"blurLevel": "low", "value": 0.1}},
        "unknown": [{"deeper": {key: LEAK}}],
    }
    assert_clean(validate(data))


def test_face_attributes_built_directly() -> None:
    attributes = FaceAttributes(glasses="noGlasses", Age=40, perceived_gender=LEAK)  # type: ignore[call-arg, arg-type]
    assert attributes.model_extra == {}
    assert LEAK not in repr(attributes)


@pytest.mark.parametrize("spelling", ["age", "\\u0065motion", "Facial Hair"])
def test_notebook_rendering_cannot_show_them(spelling: str) -> None:
    pytest.importorskip("PIL")
    from faceguard import notebook

    member = _members(spelling)
    body = f'[{{"faceRectangle": {RECT}, {member}, "faceAttributes": {{{HEAD}, {member}}}}}]'
    faces = _detect(body)
    html = notebook.to_html(faces)
    assert LEAK not in html
    raw = json.loads(body.replace("\\t", "\t"))
    assert LEAK not in notebook.to_html(raw)


def test_request_and_response_rails_name_the_same_attributes() -> None:
    """What the request guard refuses by name is what the response rail strips."""
    from faceguard._guard._attributes import RETIRED_ATTRIBUTES
    from faceguard.models import RETIRED_ATTRIBUTE_FIELDS

    assert set(RETIRED_ATTRIBUTES) == RETIRED_ATTRIBUTE_FIELDS == RETIRED


@pytest.mark.parametrize("spelling", ["\uff41\uff47\uff45", "Smi\u200ble", " Facial Hair "])
def test_such_spellings_are_refused_in_requests_too(spelling: str) -> None:
    from faceguard import RetiredAttributeError

    with pytest.raises(RetiredAttributeError, match="never requests it"):
        _client("[]").detection.detect(JPEG, return_face_attributes=[spelling])


def test_keyword_construction_strips_without_slowing_parsing() -> None:
    """Keyword construction strips too, yet pydantic must not route nested validation
    through that ``__init__`` (a Python call per nested model while parsing)."""
    face = FaceDetectionResult(faceRectangle=json.loads(RECT), Age=LEAK, x=[{"gender": LEAK}])
    assert_clean(face)
    for model in (FaceDetectionResult, FaceAttributes, LivenessWithVerifySession):
        assert model.__pydantic_custom_init__ is False


@pytest.mark.parametrize(
    "body",
    [
        b'[{"faceRectangle": {"top": 1, "left": 1, "width": 1, "height": 1}, "age": "\xff"}]',
        b'[{"faceRectangle": {"top": 1, "left": 1, "width": 1, "height": 1}, "\\u0061ge": 1',
        b'[{"x": ' + b"[" * 5000 + b"]" * 5000 + b', "age": 1}]',
    ],
    ids=["not-utf8", "truncated", "too-deep"],
)
def test_a_body_the_rail_cannot_read_is_refused_not_passed_on(body: bytes) -> None:
    """Fail closed: a body that may hold a retired key and that the rail cannot decode is
    refused as a contract violation, never handed to the validator unstripped."""
    from faceguard import APIResponseValidationError

    with pytest.raises(APIResponseValidationError):
        _detect(body)
    with pytest.raises(ValueError, match="cannot be read as JSON to strip retired"):
        FaceDetectionResult.model_validate_json(body)
