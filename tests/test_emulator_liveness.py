"""Liveness sessions against the emulator, driven by the real sync and async Face clients.

Every outcome of an attempt comes from ``Emulator.liveness.script_attempt`` (or its HTTP
control route): nothing is guessed. The verify image of a with-verify session is detected by
the real local engine on photos from ``tests/data/faces``. Time is a ``ManualClock``.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from _guard_kit import TOKEN, policy
from faceguard import AsyncFaceClient, BadRequestError, FaceClient, NotFoundError
from faceguard.emulator import Emulator, ManualClock
from faceguard.emulator.liveness.models import LivenessScriptError

FACES = Path(__file__).parent / "data" / "faces" / "face_recognition"
OBAMA_1 = (FACES / "obama" / "obama1.jpg").read_bytes()
OBAMA_2 = (FACES / "obama" / "obama2.jpg").read_bytes()
BIDEN = (FACES / "biden" / "biden.jpg").read_bytes()
TWO_PEOPLE = (FACES / "multi" / "two_people.jpg").read_bytes()
ENDPOINT = "http://127.0.0.1:5000"
DEVICE = "0f7b2a5e-3c1d-4e8f-9a6b-2d4c8e1f3a5b"


def _blank_png() -> bytes:
    """A noisy 64x64 PNG with no face in it, over the service's 1 KB minimum."""
    import cv2
    import numpy as np

    pixels = np.random.default_rng(7).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(".png", pixels)
    assert ok
    return bytes(encoded)


@pytest.fixture(scope="module")
def engine() -> Any:
    """One real engine for the module (model load is the slow part)."""
    pytest.importorskip("cv2")
    from faceguard.emulator._engine import OpenCVEngine

    return OpenCVEngine()


@pytest.fixture
def clock() -> ManualClock:
    # Starts now: the guard verifies consent tokens minted at import time on this clock.
    return ManualClock(start=time.time())


@pytest.fixture
def emulator(clock: ManualClock, engine: Any) -> Emulator:
    return Emulator(clock=clock, engine=engine)


@pytest.fixture(params=["sync", "async"])
def call(
    request: pytest.FixtureRequest, emulator: Emulator, clock: ManualClock
) -> Callable[..., Any]:
    """``call(lambda client: client.liveness...)`` on a sync or an async client."""
    import asyncio

    def run(operation: Callable[[Any], Any]) -> Any:
        if request.param == "sync":
            with FaceClient(
                ENDPOINT,
                api_key="emulator-key",
                transport=emulator.transport(),
                guard=policy(clock=clock),
                sleep=clock.advance,
            ) as client:
                return operation(client)

        async def main() -> Any:
            async with AsyncFaceClient(
                ENDPOINT,
                api_key="emulator-key",
                transport=emulator.transport(),
                guard=policy(clock=clock),
                sleep=clock.async_advance,
            ) as client:
                return await operation(client)

        return asyncio.run(main())

    return run


def create(client: Any, **kwargs: Any) -> Any:
    return client.liveness.create_session(
        liveness_operation_mode="Passive", device_correlation_id=DEVICE, **kwargs
    )


def create_verify(client: Any, image: bytes = OBAMA_1, **kwargs: Any) -> Any:
    return client.liveness.create_with_verify_session(
        verify_image=image,
        liveness_operation_mode="Passive",
        device_correlation_id=DEVICE,
        consent=TOKEN,
        **kwargs,
    )


# -- sessions ---------------------------------------------------------------------------------


def test_a_new_session_has_not_started_and_a_random_auth_token(call: Callable[..., Any]) -> None:
    first = call(create)
    second = call(create)

    assert first.status == "NotStarted"
    assert first.model_version == "2024-11-15"
    assert first.results.attempts == []
    assert uuid.UUID(first.session_id)
    assert len(first.auth_token) >= 32
    assert first.auth_token != second.auth_token
    assert first.session_id != second.session_id
    assert first.auth_token not in repr(first)


@pytest.mark.parametrize("decision", ["realface", "spoofface", "uncertain"])
def test_a_scripted_decision_is_what_the_session_reports(
    call: Callable[..., Any], emulator: Emulator, decision: str
) -> None:
    session = call(create)
    emulator.liveness.script_attempt(
        session.session_id,
        decision=decision,  # type: ignore[arg-type]
        face_rectangle=(10, 20, 120, 140),
    )

    result = call(lambda c: c.liveness.get_session_result(session.session_id))

    assert result.status == "Succeeded"
    [attempt] = result.results.attempts
    assert attempt.attempt_id == 1
    assert attempt.attempt_status == "Succeeded"
    assert attempt.result.liveness_decision == decision
    rectangle = attempt.result.targets.color.face_rectangle
    assert (rectangle.left, rectangle.top, rectangle.width, rectangle.height) == (10, 20, 120, 140)
    assert len(attempt.result.digest) == 64
    assert attempt.error is None


def test_a_scripted_failure_is_a_failed_attempt_with_its_error(
    call: Callable[..., Any], emulator: Emulator
) -> None:
    session = call(create)
    emulator.liveness.script_attempt(
        session.session_id,
        error=("FaceWithMaskDetected", "Mask detected on face image."),
        face_rectangle=(1, 2, 30, 40),
    )
    emulator.liveness.script_attempt(
        session.session_id, decision="realface", face_rectangle=(1, 2, 30, 40)
    )

    result = call(lambda c: c.liveness.get_session_result(session.session_id))

    failed, succeeded = result.results.attempts
    assert failed.attempt_status == "Failed"
    assert failed.result is None
    assert failed.error.code == "FaceWithMaskDetected"
    assert failed.error.message == "Mask detected on face image."
    assert succeeded.attempt_id == 2
    assert result.status == "Succeeded"


def test_nothing_is_guessed_an_attempt_needs_a_decision_and_a_target(
    call: Callable[..., Any], emulator: Emulator
) -> None:
    session = call(create)

    with pytest.raises(LivenessScriptError, match="exactly one of decision"):
        emulator.liveness.script_attempt(session.session_id, face_rectangle=(0, 0, 1, 1))
    with pytest.raises(LivenessScriptError, match="faceRectangle"):
        emulator.liveness.script_attempt(session.session_id, decision="realface")
    with pytest.raises(LivenessScriptError, match="decision must be one of"):
        emulator.liveness.script_attempt(
            session.session_id,
            decision="probably-real",  # type: ignore[arg-type]
            face_rectangle=(0, 0, 1, 1),
        )
    with pytest.raises(LivenessScriptError, match="only to with-verify"):
        emulator.liveness.script_attempt(
            session.session_id,
            decision="realface",
            face_rectangle=(0, 0, 1, 1),
            match_confidence=0.9,
        )

    assert call(lambda c: c.liveness.get_session_result(session.session_id)).status == (
        "NotStarted"
    )


def test_an_attempt_frame_is_measured_by_the_engine(
    call: Callable[..., Any], emulator: Emulator, engine: Any
) -> None:
    session = call(create)
    emulator.liveness.script_attempt(session.session_id, decision="realface", image=OBAMA_2)

    result = call(lambda c: c.liveness.get_session_result(session.session_id))

    [face] = engine.detect(OBAMA_2)
    rectangle = result.results.attempts[0].result.targets.color.face_rectangle
    assert (rectangle.left, rectangle.top, rectangle.width, rectangle.height) == (
        face.left,
        face.top,
        face.width,
        face.height,
    )
    assert result.results.attempts[0].result.session_image_id is None  # not enabled


def test_the_auth_token_expires_on_the_clock(
    call: Callable[..., Any], emulator: Emulator, clock: ManualClock
) -> None:
    session = call(lambda c: create(c, auth_token_time_to_live_in_seconds=60))
    clock.advance(59)
    emulator.liveness.script_attempt(
        session.session_id, decision="realface", face_rectangle=(0, 0, 9, 9)
    )
    clock.advance(1)

    with pytest.raises(LivenessScriptError, match="expired") as refused:
        emulator.liveness.script_attempt(
            session.session_id, decision="spoofface", face_rectangle=(0, 0, 9, 9)
        )

    assert refused.value.status == 401
    # The results stay readable for the app backend.
    result = call(lambda c: c.liveness.get_session_result(session.session_id))
    assert [a.result.liveness_decision for a in result.results.attempts] == ["realface"]


def test_the_default_token_ttl_is_600_seconds(
    call: Callable[..., Any], emulator: Emulator, clock: ManualClock
) -> None:
    session = call(create)
    clock.advance(600)

    with pytest.raises(LivenessScriptError, match="expired"):
        emulator.liveness.script_attempt(
            session.session_id, decision="realface", face_rectangle=(0, 0, 9, 9)
        )


def test_delete_answers_204_and_the_session_is_gone(
    call: Callable[..., Any], emulator: Emulator
) -> None:
    session = call(create)

    assert call(lambda c: c.liveness.delete_session(session.session_id)) is None

    with pytest.raises(NotFoundError) as missing:
        call(lambda c: c.liveness.get_session_result(session.session_id))
    assert missing.value.error_code == "SessionNotFound"
    assert missing.value.support.session_id == session.session_id
    with pytest.raises(LivenessScriptError, match="no such"):
        emulator.liveness.script_attempt(
            session.session_id, decision="realface", face_rectangle=(0, 0, 9, 9)
        )
    with pytest.raises(NotFoundError):
        call(lambda c: c.liveness.delete_session(session.session_id))


def test_the_two_session_kinds_do_not_mix(call: Callable[..., Any]) -> None:
    plain = call(create)
    verify = call(create_verify)

    with pytest.raises(NotFoundError):
        call(lambda c: c.liveness.get_with_verify_session_result(plain.session_id))
    with pytest.raises(NotFoundError):
        call(lambda c: c.liveness.delete_session(verify.session_id))
    assert call(lambda c: c.liveness.get_with_verify_session_result(verify.session_id))


# -- with verify ------------------------------------------------------------------------------


def test_the_verify_image_is_detected_by_the_engine(call: Callable[..., Any], engine: Any) -> None:
    session = call(create_verify)

    [face] = engine.detect(OBAMA_1)
    [reference] = session.results.verify_references
    assert reference.reference_type == "Color"
    rectangle = reference.face_rectangle
    assert (rectangle.left, rectangle.top, rectangle.width, rectangle.height) == (
        face.left,
        face.top,
        face.width,
        face.height,
    )
    assert reference.quality_for_recognition == face.quality_for_recognition
    assert session.status == "NotStarted"
    assert session.results.attempts == []


def test_a_verify_image_without_a_face_gets_the_service_error(call: Callable[..., Any]) -> None:
    with pytest.raises(BadRequestError) as refused:
        call(lambda c: create_verify(c, image=_blank_png()))

    assert refused.value.error_code == "InvalidImage"
    assert "No face detected" in str(refused.value)


def test_a_verify_image_with_two_faces_gets_the_service_error(call: Callable[..., Any]) -> None:
    with pytest.raises(BadRequestError) as refused:
        call(lambda c: create_verify(c, image=TWO_PEOPLE))

    assert refused.value.error_code == "InvalidImage"
    assert "more than 1 face" in str(refused.value)


def test_a_scripted_match_confidence_decides_is_identical_at_the_threshold(
    call: Callable[..., Any], emulator: Emulator
) -> None:
    default = call(create_verify)
    lenient = call(lambda c: create_verify(c, verify_confidence_threshold=0.4))
    for session in (default, lenient):
        emulator.liveness.script_attempt(
            session.session_id,
            decision="realface",
            face_rectangle=(5, 5, 50, 50),
            match_confidence=0.42,
        )

    results = [
        call(lambda c, s=s: c.liveness.get_with_verify_session_result(s.session_id))
        for s in (default, lenient)
    ]

    outputs = [r.results.attempts[0].result.verify_result for r in results]
    assert [o.match_confidence for o in outputs] == [0.42, 0.42]
    assert [o.is_identical for o in outputs] == [False, True]


def test_the_match_confidence_is_measured_from_an_attempt_frame(
    call: Callable[..., Any], emulator: Emulator, engine: Any
) -> None:
    same = call(create_verify)
    other = call(create_verify)
    emulator.liveness.script_attempt(same.session_id, decision="realface", image=OBAMA_2)
    emulator.liveness.script_attempt(other.session_id, decision="realface", image=BIDEN)

    same_result = call(lambda c: c.liveness.get_with_verify_session_result(same.session_id))
    other_result = call(lambda c: c.liveness.get_with_verify_session_result(other.session_id))

    measured = same_result.results.attempts[0].result.verify_result
    expected = engine.confidence(
        engine.detect(OBAMA_1)[0].embedding, engine.detect(OBAMA_2)[0].embedding
    )
    assert measured.match_confidence == pytest.approx(expected)
    assert measured.is_identical is True
    assert other_result.results.attempts[0].result.verify_result.is_identical is False


def test_a_with_verify_result_needs_a_confidence_from_script_or_frame(
    call: Callable[..., Any], emulator: Emulator
) -> None:
    session = call(create_verify)

    with pytest.raises(LivenessScriptError, match="match_confidence"):
        emulator.liveness.script_attempt(
            session.session_id, decision="realface", face_rectangle=(0, 0, 9, 9)
        )
    with pytest.raises(LivenessScriptError, match="within"):
        emulator.liveness.script_attempt(
            session.session_id,
            decision="realface",
            face_rectangle=(0, 0, 9, 9),
            match_confidence=1.5,
        )


def test_the_verify_image_hash_is_returned_only_when_asked(
    call: Callable[..., Any], emulator: Emulator
) -> None:
    hashed = call(lambda c: create_verify(c, return_verify_image_hash=True))
    plain = call(create_verify)
    for session in (hashed, plain):
        emulator.liveness.script_attempt(
            session.session_id,
            decision="realface",
            face_rectangle=(0, 0, 9, 9),
            match_confidence=0.9,
        )

    hashed_result = call(lambda c: c.liveness.get_with_verify_session_result(hashed.session_id))
    plain_result = call(lambda c: c.liveness.get_with_verify_session_result(plain.session_id))

    assert hashed_result.results.attempts[0].result.verify_image_hash == (
        hashlib.sha256(OBAMA_1).hexdigest()
    )
    assert plain_result.results.attempts[0].result.verify_image_hash is None


def test_only_the_embedding_of_the_verify_image_is_kept(
    call: Callable[..., Any], emulator: Emulator
) -> None:
    session = call(create_verify)

    stored = emulator.liveness.session(session.session_id)
    assert stored is not None
    assert stored.verify_embedding is not None
    assert len(stored.verify_embedding) == 128 * 4
    assert OBAMA_1 not in repr(stored.to_dict()).encode()


def test_delete_with_verify_answers_204(call: Callable[..., Any]) -> None:
    session = call(create_verify)

    assert call(lambda c: c.liveness.delete_with_verify_session(session.session_id)) is None
    with pytest.raises(NotFoundError):
        call(lambda c: c.liveness.get_with_verify_session_result(session.session_id))


# -- session images ---------------------------------------------------------------------------


def test_a_session_image_exists_only_when_enabled_and_scripted(
    call: Callable[..., Any], emulator: Emulator
) -> None:
    session = call(lambda c: create(c, enable_session_image=True))
    emulator.liveness.script_attempt(session.session_id, decision="realface", image=OBAMA_2)
    emulator.liveness.script_attempt(
        session.session_id, decision="realface", face_rectangle=(0, 0, 9, 9)
    )

    result = call(lambda c: c.liveness.get_session_result(session.session_id))
    with_frame, without_frame = result.results.attempts
    image_id = with_frame.result.session_image_id

    assert call(lambda c: c.liveness.get_session_image(image_id)) == OBAMA_2
    assert without_frame.result.session_image_id is None
    with pytest.raises(NotFoundError):
        call(lambda c: c.liveness.get_session_image(str(uuid.uuid4())))
    call(lambda c: c.liveness.delete_session(session.session_id))
    with pytest.raises(NotFoundError):
        call(lambda c: c.liveness.get_session_image(image_id))


# -- the service's own validation (raw HTTP: the client refuses these before sending) ------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"livenessOperationMode": "Active", "deviceCorrelationId": DEVICE},
            "InvalidLivenessOperationMode",
        ),
        ({"livenessOperationMode": "Passive"}, "InvalidDeviceCorrelationId"),
        (
            {"livenessOperationMode": "Passive", "deviceCorrelationId": "x" * 65},
            "InvalidDeviceCorrelationId",
        ),
        (
            {
                "livenessOperationMode": "Passive",
                "deviceCorrelationId": DEVICE,
                "authTokenTimeToLiveInSeconds": 59,
            },
            "InvalidTokenLifetime",
        ),
        (
            {
                "livenessOperationMode": "Passive",
                "deviceCorrelationIdSetInClient": True,
                "deviceCorrelationId": DEVICE,
            },
            "InvalidRequestBody",
        ),
        ({"deviceCorrelationId": DEVICE}, "InvalidRequestBody"),
        (
            {
                "livenessOperationMode": "Passive",
                "deviceCorrelationId": DEVICE,
                "livenessModelVersion": "2022-10-15",
            },
            "InvalidRequestBody",
        ),
    ],
)
def test_the_emulator_checks_a_create_body_like_the_service(
    emulator: Emulator, body: dict[str, Any], code: str
) -> None:
    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as raw:
        response = raw.post(
            "/face/v1.2/detectLiveness-sessions",
            json=body,
            headers={"Ocp-Apim-Subscription-Key": "k"},
        )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.headers["x-ms-error-code"] == code


def test_a_with_verify_create_needs_the_verify_image_part(emulator: Emulator) -> None:
    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as raw:
        response = raw.post(
            "/face/v1.2/detectLivenessWithVerify-sessions",
            data={"livenessOperationMode": "Passive", "deviceCorrelationId": DEVICE},
            files={"other": ("x.jpg", OBAMA_1, "image/jpeg")},
            headers={"Ocp-Apim-Subscription-Key": "k"},
        )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidRequestBody"
    assert "verifyImage" in response.json()["error"]["message"]


# -- the HTTP control route -------------------------------------------------------------------


def test_the_control_route_scripts_an_attempt(call: Callable[..., Any], emulator: Emulator) -> None:
    import base64

    session = call(lambda c: create_verify(c, enable_session_image=True))
    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as raw:
        scripted = raw.post(
            f"/_emulator/liveness/sessions/{session.session_id}/attempts",
            json={"decision": "spoofface", "image": base64.b64encode(OBAMA_2).decode()},
            headers={"Ocp-Apim-Subscription-Key": "k"},
        )
        unknown = raw.post(
            f"/_emulator/liveness/sessions/{uuid.uuid4()}/attempts",
            json={
                "decision": "realface",
                "faceRectangle": {"left": 0, "top": 0, "width": 5, "height": 5},
            },
            headers={"Ocp-Apim-Subscription-Key": "k"},
        )

    assert scripted.status_code == 200
    assert scripted.json() == {"attemptId": 1, "attemptStatus": "Succeeded"}
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "SessionNotFound"
    result = call(lambda c: c.liveness.get_with_verify_session_result(session.session_id))
    attempt = result.results.attempts[0].result
    assert attempt.liveness_decision == "spoofface"
    assert attempt.verify_result.is_identical is True
    assert call(lambda c: c.liveness.get_session_image(attempt.session_image_id)) == OBAMA_2


def test_the_control_route_needs_the_key_of_an_emulator_that_has_one(engine: Any) -> None:
    keyed = Emulator(engine=engine, key="the-key")
    with httpx.Client(transport=keyed.transport(), base_url=ENDPOINT) as raw:
        created = raw.post(
            "/face/v1.2/detectLiveness-sessions",
            json={"livenessOperationMode": "Passive", "deviceCorrelationId": DEVICE},
            headers={"Ocp-Apim-Subscription-Key": "the-key"},
        )
        path = f"/_emulator/liveness/sessions/{created.json()['sessionId']}/attempts"
        body = {
            "decision": "realface",
            "faceRectangle": {"left": 0, "top": 0, "width": 5, "height": 5},
        }
        refused = raw.post(path, json=body, headers={"Ocp-Apim-Subscription-Key": "wrong"})
        accepted = raw.post(path, json=body, headers={"Ocp-Apim-Subscription-Key": "the-key"})

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "401"
    assert accepted.status_code == 200


# -- secrets ----------------------------------------------------------------------------------


def test_the_auth_token_is_never_logged(
    call: Callable[..., Any], emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = call(create)
    emulator.liveness.script_attempt(
        session.session_id, decision="realface", face_rectangle=(0, 0, 9, 9)
    )
    call(lambda c: c.liveness.get_session_result(session.session_id))

    assert session.auth_token not in caplog.text
    stored = emulator.liveness.session(session.session_id)
    assert stored is not None
    assert session.auth_token not in repr(stored)
