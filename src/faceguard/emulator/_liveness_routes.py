"""Liveness sessions (Face v1.2 GA) in the emulator: the 7 REST operations and a control API.

REST (under ``/face/v1.2``): create / get / delete for ``/detectLiveness-sessions`` and
``/detectLivenessWithVerify-sessions`` (the latter created from ``multipart/form-data`` with a
``verifyImage`` part), and ``GET /sessionImages/{sessionImageId}``. Deletes answer 204.

What happens on the client device (the Vision SDK running a liveness check) cannot be emulated,
so nothing about an attempt is ever guessed: its outcome is set only through the control API,
``Emulator.liveness.script_attempt(session_id, decision=...)`` in process, or
``POST /_emulator/liveness/sessions/{sessionId}/attempts`` in server mode. The rest is measured
or derived:

- the verify image of a with-verify session is detected with the face engine (exactly one
  face, else the service's ``InvalidImage`` error); its rectangle and quality for recognition
  are the session's ``verifyReferences``. Only its embedding is kept, never the image;
- an attempt's target rectangle comes from the attempt's frame (``image=``, detected with the
  engine) or from the script (``face_rectangle=``); the contract requires it, so an attempt
  with neither is refused rather than given an invented rectangle;
- ``matchConfidence`` is scripted, or measured by the engine between the verify image and the
  attempt's frame; ``isIdentical`` is ``matchConfidence >= verifyConfidenceThreshold``
  (default 0.5, the Verify operation's documented default: the liveness default is not stated);
- ``digest`` is a SHA-256 over the session id, the attempt id and the frame (if any): an
  integrity value, not a measurement, unless the script gives one;
- a session image exists only when the session enabled it and the script supplied a frame.

Auth token: random (``secrets``), never logged, returned by create and get as the contract
requires. Its TTL (``authTokenTimeToLiveInSeconds``, default 600) runs on the emulator's clock:
once it has passed, or once the session is deleted, no attempt can be scripted (the device's
token would be refused). The session and its results stay readable after the token expires,
until deleted: when the service drops expired sessions is not documented.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING, Any, Literal

import httpx

from ._engine_api import EngineFace, FaceEngine
from ._face_routes import (
    FACE_BASE,
    OPERATION_EXTENSION,
    Handler,
    empty_response,
    error_response,
    json_response,
)

if TYPE_CHECKING:
    from ._router import Emulator

__all__ = [
    "LIVENESS_MODEL_VERSION",
    "LivenessAttempt",
    "LivenessControl",
    "LivenessScriptError",
    "LivenessSessionState",
    "register",
]

LIVENESS_MODEL_VERSION = "2024-11-15"
_MODES = frozenset({"Passive", "PassiveActive"})
_DECISIONS = frozenset({"realface", "spoofface", "uncertain"})
_TOKEN_TTL_DEFAULT = 600
_TOKEN_TTL_MIN = 60
_TOKEN_TTL_MAX = 86400
# The Face error reference: "Must not be null or empty, and be no more than 64 characters."
_DEVICE_ID_MAX = 64
# isIdentical threshold when the session sets none (Verify's documented default).
_DEFAULT_VERIFY_THRESHOLD = 0.5

SessionKind = Literal["liveness", "livenessWithVerify"]
Rectangle = tuple[int, int, int, int]
"""(left, top, width, height) in pixels."""

_SESSIONS = "/detectLiveness-sessions"
_VERIFY_SESSIONS = "/detectLivenessWithVerify-sessions"
_CONTROL = "/_emulator/liveness/sessions/{sessionId}/attempts"


class LivenessScriptError(ValueError):
    """A control call that cannot be applied: unknown session, expired token, bad values.

    ``code`` is what the HTTP control route answers with.
    """

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass
class LivenessAttempt:
    """One scripted attempt, as stored (wire shape built on read)."""

    attempt_id: int
    status: Literal["Succeeded", "Failed"]
    face_rectangle: Rectangle
    digest: str
    decision: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    session_image_id: str | None = None
    match_confidence: float | None = None
    is_identical: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt_id": self.attempt_id,
            "status": self.status,
            "face_rectangle": list(self.face_rectangle),
            "digest": self.digest,
            "decision": self.decision,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "session_image_id": self.session_image_id,
            "match_confidence": self.match_confidence,
            "is_identical": self.is_identical,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LivenessAttempt:
        left, top, width, height = (int(v) for v in data["face_rectangle"])
        return cls(
            attempt_id=int(data["attempt_id"]),
            status=data["status"],
            face_rectangle=(left, top, width, height),
            digest=str(data["digest"]),
            decision=data.get("decision"),
            error_code=data.get("error_code"),
            error_message=data.get("error_message"),
            session_image_id=data.get("session_image_id"),
            match_confidence=data.get("match_confidence"),
            is_identical=data.get("is_identical"),
        )


@dataclass
class LivenessSessionState:
    """A session as the emulator keeps it. The auth token never appears in a repr."""

    session_id: str
    kind: SessionKind
    auth_token: str = field(repr=False)
    created_at: float
    token_ttl: int
    mode: str
    model_version: str
    enable_session_image: bool = False
    device_correlation_id: str | None = field(default=None, repr=False)
    device_correlation_id_set_in_client: bool = False
    attempts: list[LivenessAttempt] = field(default_factory=list)
    # with-verify only
    verify_reference: dict[str, Any] | None = None
    verify_embedding: bytes | None = field(default=None, repr=False)
    verify_image_hash: str | None = None
    verify_threshold: float | None = None

    def token_valid(self, now: float) -> bool:
        return now < self.created_at + self.token_ttl

    def status(self) -> str:
        return self.attempts[-1].status if self.attempts else "NotStarted"

    def to_wire(self) -> dict[str, Any]:
        attempts = [self._attempt_wire(a) for a in self.attempts]
        results: dict[str, Any] = {"attempts": attempts}
        if self.kind == "livenessWithVerify":
            results["verifyReferences"] = (
                [self.verify_reference] if self.verify_reference is not None else []
            )
        return {
            "sessionId": self.session_id,
            "authToken": self.auth_token,
            "status": self.status(),
            "modelVersion": self.model_version,
            "results": results,
        }

    def _attempt_wire(self, attempt: LivenessAttempt) -> dict[str, Any]:
        left, top, width, height = attempt.face_rectangle
        targets = {
            "color": {"faceRectangle": {"top": top, "left": left, "width": width, "height": height}}
        }
        wire: dict[str, Any] = {"attemptId": attempt.attempt_id, "attemptStatus": attempt.status}
        if attempt.status == "Failed":
            wire["error"] = {
                "code": attempt.error_code,
                "message": attempt.error_message,
                "targets": targets,
            }
            return wire
        result: dict[str, Any] = {"targets": targets, "digest": attempt.digest}
        if attempt.decision is not None:
            result["livenessDecision"] = attempt.decision
        if attempt.session_image_id is not None:
            result["sessionImageId"] = attempt.session_image_id
        if self.kind == "livenessWithVerify":
            if attempt.match_confidence is not None:
                result["verifyResult"] = {
                    "matchConfidence": attempt.match_confidence,
                    "isIdentical": bool(attempt.is_identical),
                }
            if self.verify_image_hash is not None:
                result["verifyImageHash"] = self.verify_image_hash
        wire["result"] = result
        return wire

    def to_dict(self) -> dict[str, Any]:
        """Plain data for persistence (the embedding as base64; no image is ever kept)."""
        return {
            "session_id": self.session_id,
            "kind": self.kind,
            "auth_token": self.auth_token,
            "created_at": self.created_at,
            "token_ttl": self.token_ttl,
            "mode": self.mode,
            "model_version": self.model_version,
            "enable_session_image": self.enable_session_image,
            "device_correlation_id": self.device_correlation_id,
            "device_correlation_id_set_in_client": self.device_correlation_id_set_in_client,
            "attempts": [a.to_dict() for a in self.attempts],
            "verify_reference": self.verify_reference,
            "verify_embedding": (
                base64.b64encode(self.verify_embedding).decode()
                if self.verify_embedding is not None
                else None
            ),
            "verify_image_hash": self.verify_image_hash,
            "verify_threshold": self.verify_threshold,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LivenessSessionState:
        embedding = data.get("verify_embedding")
        return cls(
            session_id=str(data["session_id"]),
            kind=data["kind"],
            auth_token=str(data["auth_token"]),
            created_at=float(data["created_at"]),
            token_ttl=int(data["token_ttl"]),
            mode=str(data["mode"]),
            model_version=str(data["model_version"]),
            enable_session_image=bool(data.get("enable_session_image")),
            device_correlation_id=data.get("device_correlation_id"),
            device_correlation_id_set_in_client=bool(
                data.get("device_correlation_id_set_in_client")
            ),
            attempts=[LivenessAttempt.from_dict(a) for a in data.get("attempts", [])],
            verify_reference=data.get("verify_reference"),
            verify_embedding=base64.b64decode(embedding) if embedding else None,
            verify_image_hash=data.get("verify_image_hash"),
            verify_threshold=data.get("verify_threshold"),
        )


# -- responses ---------------------------------------------------------------------------------

_OPERATIONS = {
    "create": "LivenessSessionOperations_CreateLivenessSession",
    "get": "LivenessSessionOperations_GetLivenessSessionResult",
    "delete": "LivenessSessionOperations_DeleteLivenessSession",
    "create_verify": "LivenessSessionOperations_CreateLivenessWithVerifySession",
    "get_verify": "LivenessSessionOperations_GetLivenessWithVerifySessionResult",
    "delete_verify": "LivenessSessionOperations_DeleteLivenessWithVerifySession",
    "image": "LivenessSessionOperations_GetSessionImage",
}


def _not_found(operation: str) -> httpx.Response:
    return error_response(
        404,
        "SessionNotFound",
        "Session ID is not found. The session ID is expired or does not exist.",
        operation=operation,
    )


class _BadRequest(Exception):
    """A refused request: rendered as the Face error of the operation that refused it."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def response(self, operation: str) -> httpx.Response:
        return error_response(self.status, self.code, self.message, operation=operation)


def _invalid_body(detail: str) -> _BadRequest:
    return _BadRequest(
        "InvalidRequestBody",
        "Incorrect request body provided. Please check the operation schema and try again. "
        f"({detail})",
    )


def _json_object(request: httpx.Request) -> dict[str, Any]:
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        raise _BadRequest("BadArgument", "JSON parsing error.") from None
    if not isinstance(body, dict):
        raise _invalid_body("the body must be a JSON object")
    return body


# -- the control object ------------------------------------------------------------------------


class LivenessControl:
    """Liveness state of one emulator, and the control calls that script device outcomes.

    Available as ``Emulator.liveness``. Thread-safe: the loopback server handles requests on
    several threads.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        engine: Callable[[], FaceEngine | None] | None = None,
    ) -> None:
        self._clock = clock
        self._engine = engine or (lambda: None)
        self._lock = threading.RLock()
        self.sessions: dict[str, LivenessSessionState] = {}
        self._images: dict[str, tuple[str, bytes]] = {}  # sessionImageId -> (sessionId, bytes)

    # -- control API ----------------------------------------------------------------------------

    def script_attempt(
        self,
        session_id: str,
        *,
        decision: Literal["realface", "spoofface", "uncertain"] | None = None,
        error: tuple[str, str] | None = None,
        image: bytes | None = None,
        face_rectangle: Rectangle | None = None,
        match_confidence: float | None = None,
        digest: str | None = None,
    ) -> LivenessAttempt:
        """Record what the device's next attempt produced; returns the stored attempt.

        Args:
            decision: the liveness decision of a successful attempt.
            error: ``(code, message)`` of a failed attempt instead (e.g.
                ``("FaceWithMaskDetected", "Mask detected on face image.")``).
            image: the attempt's frame: its face rectangle is measured with the engine, it
                becomes the session image when the session enabled them, and for a
                with-verify session the match confidence is measured against the verify
                image unless ``match_confidence`` is given.
            face_rectangle: ``(left, top, width, height)`` of the target face when no
                ``image`` is given (the contract requires a rectangle).
            match_confidence: with-verify only: the verification confidence, 0..1.
            digest: the server digest to report; by default a SHA-256 over the session id,
                attempt id and frame.

        Raises:
            LivenessScriptError: unknown or deleted session, expired auth token, or values
                the contract cannot carry.
        """
        if (decision is None) == (error is None):
            raise LivenessScriptError(
                "InvalidScript", "give exactly one of decision= (a result) or error= (a failure)"
            )
        if decision is not None and decision not in _DECISIONS:
            raise LivenessScriptError(
                "InvalidScript", f"decision must be one of {sorted(_DECISIONS)}"
            )
        if error is not None and not (
            isinstance(error, tuple)
            and len(error) == 2
            and all(isinstance(e, str) and e for e in error)
        ):
            raise LivenessScriptError("InvalidScript", "error must be (code, message) strings")
        if match_confidence is not None and not (
            isinstance(match_confidence, int | float) and 0.0 <= float(match_confidence) <= 1.0
        ):
            raise LivenessScriptError("InvalidScript", "match_confidence must be within [0, 1]")
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise LivenessScriptError(
                    "SessionNotFound",
                    "no such liveness session (deleted or never created)",
                    status=404,
                )
            if not session.token_valid(self._clock()):
                raise LivenessScriptError(
                    "TokenExpired",
                    "the session's auth token has expired (authTokenTimeToLiveInSeconds), so "
                    "the device could not have run an attempt",
                    status=401,
                )
            if match_confidence is not None and session.kind != "livenessWithVerify":
                raise LivenessScriptError(
                    "InvalidScript", "match_confidence applies only to with-verify sessions"
                )
            attempt_id = len(session.attempts) + 1
        rectangle, embedding = self._frame(image, face_rectangle, session.kind)
        confidence: float | None = None
        if session.kind == "livenessWithVerify" and decision is not None:
            if match_confidence is not None:
                confidence = float(match_confidence)
            elif embedding is not None and session.verify_embedding is not None:
                engine = self._engine()
                assert engine is not None  # _frame measured the embedding with it
                confidence = float(engine.confidence(session.verify_embedding, embedding))
            else:
                raise LivenessScriptError(
                    "InvalidScript",
                    "a successful with-verify attempt needs match_confidence= or an image= to "
                    "measure it against the verify image",
                )
        if digest is None:
            hasher = hashlib.sha256(f"{session_id}:{attempt_id}".encode())
            if image is not None:
                hasher.update(image)
            digest = hasher.hexdigest()
        with self._lock:
            if self.sessions.get(session_id) is not session:
                raise LivenessScriptError(
                    "SessionNotFound", "the session was deleted meanwhile", status=404
                )
            image_id: str | None = None
            if decision is not None and image is not None and session.enable_session_image:
                image_id = str(uuid.uuid4())
                self._images[image_id] = (session_id, image)
            threshold = (
                session.verify_threshold
                if session.verify_threshold is not None
                else _DEFAULT_VERIFY_THRESHOLD
            )
            attempt = LivenessAttempt(
                attempt_id=len(session.attempts) + 1,
                status="Succeeded" if decision is not None else "Failed",
                face_rectangle=rectangle,
                digest=digest,
                decision=decision,
                error_code=error[0] if error is not None else None,
                error_message=error[1] if error is not None else None,
                session_image_id=image_id,
                match_confidence=confidence,
                is_identical=None if confidence is None else confidence >= threshold,
            )
            session.attempts.append(attempt)
            return attempt

    def session(self, session_id: str) -> LivenessSessionState | None:
        """The stored session (for tests and persistence), or None."""
        with self._lock:
            return self.sessions.get(session_id)

    def clear(self) -> None:
        """Forget every session and session image."""
        with self._lock:
            self.sessions.clear()
            self._images.clear()

    # -- persistence ----------------------------------------------------------------------------

    def export_sessions(self) -> list[dict[str, Any]]:
        """Every session as plain data (session images are not exported: they are biometric
        data the emulator keeps in memory only)."""
        with self._lock:
            return [s.to_dict() for s in self.sessions.values()]

    def import_sessions(self, sessions: list[dict[str, Any]]) -> None:
        with self._lock:
            for data in sessions:
                state = LivenessSessionState.from_dict(data)
                self.sessions[state.session_id] = state

    # -- engine ---------------------------------------------------------------------------------

    def _frame(
        self, image: bytes | None, face_rectangle: Rectangle | None, kind: SessionKind
    ) -> tuple[Rectangle, bytes | None]:
        if image is None:
            if face_rectangle is None:
                raise LivenessScriptError(
                    "InvalidScript",
                    "the contract requires the target's faceRectangle: pass image= (measured "
                    "by the engine) or face_rectangle=(left, top, width, height)",
                )
            if len(face_rectangle) != 4 or any(
                not isinstance(v, int) or v < 0 for v in face_rectangle
            ):
                raise LivenessScriptError(
                    "InvalidScript", "face_rectangle must be 4 non-negative ints"
                )
            return (
                (face_rectangle[0], face_rectangle[1], face_rectangle[2], face_rectangle[3]),
                None,
            )
        engine = self._engine()
        if engine is None:
            raise LivenessScriptError(
                "EngineUnavailable",
                "image= needs the emulator's face engine (pip install 'faceguard[emulator]')",
                status=501,
            )
        try:
            faces = engine.detect(image)
        except ValueError as exc:
            raise LivenessScriptError(
                getattr(exc, "code", "InvalidImage"), f"the attempt image: {exc}"
            ) from None
        if len(faces) != 1:
            raise LivenessScriptError(
                "InvalidImage", f"the attempt image must hold exactly one face, not {len(faces)}"
            )
        face = faces[0]
        rectangle = (int(face.left), int(face.top), int(face.width), int(face.height))
        if face_rectangle is not None and tuple(face_rectangle) != rectangle:
            raise LivenessScriptError(
                "InvalidScript", "face_rectangle contradicts the face measured in image="
            )
        embedding: bytes | None = face.embedding if kind == "livenessWithVerify" else None
        return rectangle, embedding

    # -- REST handlers --------------------------------------------------------------------------

    def create_session(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        operation = _OPERATIONS["create"]
        try:
            fields = _session_fields(_json_object(request))
        except _BadRequest as bad:
            return bad.response(operation)
        state = self._new_session("liveness", fields)
        return json_response(200, state.to_wire(), operation=operation)

    def create_with_verify_session(
        self, request: httpx.Request, _params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _OPERATIONS["create_verify"]
        try:
            form, files = _parse_multipart(request)
            if "verifyImage" not in files:
                raise _invalid_body("the 'verifyImage' part (with a filename) is required")
            image = files["verifyImage"]
            fields = _session_fields(_form_values(form))
            return_hash = _form_bool(form, "returnVerifyImageHash")
            threshold = _form_threshold(form)
            face = self._verify_face(image)
        except _BadRequest as bad:
            return bad.response(operation)
        reference = {
            "referenceType": "Color",
            "faceRectangle": {
                "top": int(face.top),
                "left": int(face.left),
                "width": int(face.width),
                "height": int(face.height),
            },
            "qualityForRecognition": str(face.quality_for_recognition),
        }
        state = self._new_session(
            "livenessWithVerify",
            fields,
            verify_reference=reference,
            verify_embedding=bytes(face.embedding),
            verify_image_hash=hashlib.sha256(image).hexdigest() if return_hash else None,
            verify_threshold=threshold,
        )
        return json_response(200, state.to_wire(), operation=operation)

    def _verify_face(self, image: bytes) -> EngineFace:
        """The one face of a verify image, detected by the engine."""
        engine = self._engine()
        if engine is None:
            raise _BadRequest(
                "EngineUnavailable",
                "faceguard emulator: the verify image must be detected by the local face "
                "engine, which is not installed (pip install 'faceguard[emulator]').",
                status=501,
            )
        try:
            faces = engine.detect(image)
        except ValueError as exc:  # EngineImageError carries the service's code
            raise _BadRequest(getattr(exc, "code", "InvalidImage"), str(exc)) from None
        if not faces:
            raise _BadRequest("InvalidImage", "No face detected in the image.")
        if len(faces) > 1:
            raise _BadRequest("InvalidImage", "There is more than 1 face in the image.")
        return faces[0]

    def _new_session(
        self, kind: SessionKind, fields: Mapping[str, Any], **verify: Any
    ) -> LivenessSessionState:
        state = LivenessSessionState(
            session_id=str(uuid.uuid4()),
            kind=kind,
            auth_token=secrets.token_urlsafe(48),
            created_at=self._clock(),
            token_ttl=fields["ttl"],
            mode=fields["mode"],
            model_version=fields["model"],
            enable_session_image=fields["session_image"],
            device_correlation_id=fields["device"],
            device_correlation_id_set_in_client=fields["set_in_client"],
            **verify,
        )
        with self._lock:
            self.sessions[state.session_id] = state
        return state

    def _get(self, kind: SessionKind, params: Mapping[str, str], operation: str) -> httpx.Response:
        with self._lock:
            session = self.sessions.get(params.get("sessionId", ""))
            if session is None or session.kind != kind:
                return _not_found(operation)
            return json_response(200, session.to_wire(), operation=operation)

    def _delete(
        self, kind: SessionKind, params: Mapping[str, str], operation: str
    ) -> httpx.Response:
        with self._lock:
            session_id = params.get("sessionId", "")
            session = self.sessions.get(session_id)
            if session is None or session.kind != kind:
                return _not_found(operation)
            del self.sessions[session_id]
            for image_id in [k for k, (sid, _) in self._images.items() if sid == session_id]:
                del self._images[image_id]
        return empty_response(204, operation=operation)

    def get_session(self, _request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        return self._get("liveness", params, _OPERATIONS["get"])

    def get_with_verify_session(
        self, _request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        return self._get("livenessWithVerify", params, _OPERATIONS["get_verify"])

    def delete_session(self, _request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        return self._delete("liveness", params, _OPERATIONS["delete"])

    def delete_with_verify_session(
        self, _request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        return self._delete("livenessWithVerify", params, _OPERATIONS["delete_verify"])

    def get_session_image(
        self, _request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _OPERATIONS["image"]
        with self._lock:
            found = self._images.get(params.get("sessionImageId", ""))
        if found is None:
            # Code inferred: the error reference lists none for this operation.
            return error_response(
                404, "SessionImageNotFound", "Session image is not found.", operation=operation
            )
        response = httpx.Response(
            200, content=found[1], headers={"Content-Type": "application/octet-stream"}
        )
        response.extensions[OPERATION_EXTENSION] = operation
        return response

    def control_attempt(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        """``POST /_emulator/liveness/sessions/{sessionId}/attempts`` (server mode).

        JSON body: ``decision`` or ``error`` {``code``, ``message``}; ``image`` (base64),
        ``faceRectangle`` {``left``, ``top``, ``width``, ``height``}, ``matchConfidence``,
        ``digest``. Answers 200 with ``{"attemptId": N, "attemptStatus": ...}``.
        """
        try:
            kwargs = _control_kwargs(_json_object(request))
            attempt = self.script_attempt(params.get("sessionId", ""), **kwargs)
        except _BadRequest as bad:
            return error_response(bad.status, bad.code, bad.message)
        except LivenessScriptError as exc:
            return error_response(exc.status, exc.code, str(exc))
        return json_response(
            200, {"attemptId": attempt.attempt_id, "attemptStatus": attempt.status}
        )


# -- request parsing ---------------------------------------------------------------------------


def _session_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    mode = body.get("livenessOperationMode")
    if mode is None:
        raise _invalid_body("'livenessOperationMode' is required")
    if mode not in _MODES:
        raise _BadRequest(
            "InvalidLivenessOperationMode",
            f"Invalid livenessOperationMode specified. Must be one of {', '.join(sorted(_MODES))}.",
        )
    set_in_client = body.get("deviceCorrelationIdSetInClient", False)
    session_image = body.get("enableSessionImage", False)
    for name, value in (
        ("deviceCorrelationIdSetInClient", set_in_client),
        ("enableSessionImage", session_image),
    ):
        if value is not None and not isinstance(value, bool):
            raise _invalid_body(f"'{name}' must be a boolean")
    model = body.get("livenessModelVersion", LIVENESS_MODEL_VERSION)
    if model != LIVENESS_MODEL_VERSION:
        raise _invalid_body(f"'livenessModelVersion' must be '{LIVENESS_MODEL_VERSION}'")
    ttl = body.get("authTokenTimeToLiveInSeconds", _TOKEN_TTL_DEFAULT)
    if (
        isinstance(ttl, bool)
        or not isinstance(ttl, int)
        or not _TOKEN_TTL_MIN <= ttl <= _TOKEN_TTL_MAX
    ):
        raise _BadRequest(
            "InvalidTokenLifetime",
            "Invalid authTokenTimeToLiveInSeconds specified. Must be within 60 to 86400.",
        )
    device = body.get("deviceCorrelationId")
    if set_in_client:
        if device is not None:
            raise _invalid_body(
                "'deviceCorrelationId' must be null when 'deviceCorrelationIdSetInClient' is true"
            )
    elif not isinstance(device, str) or not device or len(device) > _DEVICE_ID_MAX:
        raise _BadRequest(
            "InvalidDeviceCorrelationId",
            "A device correlation ID is required in the request body during session create or "
            "session start. Must not be null or empty, and be no more than 64 characters.",
        )
    return {
        "mode": mode,
        "set_in_client": bool(set_in_client),
        "session_image": bool(session_image),
        "model": model,
        "ttl": ttl,
        "device": device,
    }


def _parse_multipart(request: httpx.Request) -> tuple[dict[str, str], dict[str, bytes]]:
    """The form fields and file parts (those whose Content-Disposition has a filename) of a
    ``multipart/form-data`` body (RFC 7578)."""
    header = Message()
    header["content-type"] = request.headers.get("content-type", "")
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise _invalid_body("the body must be multipart/form-data with a boundary")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    chunks = (b"\r\n" + request.content).split(delimiter)
    form: dict[str, str] = {}
    files: dict[str, bytes] = {}
    closed = False
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            closed = True
            break
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise _invalid_body("a multipart part has no header block")
        part = Message()
        for line in head.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                part[name.strip()] = value.strip()
        if part.get_content_disposition() != "form-data":
            continue
        field_name = part.get_param("name", header="content-disposition")
        if not isinstance(field_name, str):
            continue
        if part.get_param("filename", header="content-disposition") is not None:
            files[field_name] = data
        else:
            form[field_name] = data.decode("utf-8", errors="replace")
    if not closed:
        raise _invalid_body("the multipart body is not terminated")
    return form, files


def _form_bool(form: Mapping[str, str], name: str) -> bool | None:
    value = form.get(name)
    if value is None:
        return None
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _invalid_body(f"'{name}' must be true or false")


def _form_values(form: Mapping[str, str]) -> dict[str, Any]:
    """The JSON-typed session fields of a form (multipart carries only strings)."""
    values: dict[str, Any] = {}
    for name in ("livenessOperationMode", "livenessModelVersion", "deviceCorrelationId"):
        if name in form:
            values[name] = form[name]
    for name in ("deviceCorrelationIdSetInClient", "enableSessionImage"):
        flag = _form_bool(form, name)
        if flag is not None:
            values[name] = flag
    if "authTokenTimeToLiveInSeconds" in form:
        try:
            values["authTokenTimeToLiveInSeconds"] = int(form["authTokenTimeToLiveInSeconds"])
        except ValueError:
            values["authTokenTimeToLiveInSeconds"] = None
    return values


def _form_threshold(form: Mapping[str, str]) -> float | None:
    raw = form.get("verifyConfidenceThreshold")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise _invalid_body("'verifyConfidenceThreshold' must be within [0, 1]")
    return value


def _control_kwargs(body: Mapping[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if "decision" in body:
        kwargs["decision"] = body["decision"]
    if "error" in body:
        error = body["error"]
        if not isinstance(error, dict):
            raise LivenessScriptError("InvalidScript", "error must be {code, message}")
        kwargs["error"] = (error.get("code"), error.get("message"))
    if "image" in body:
        try:
            kwargs["image"] = base64.b64decode(str(body["image"]), validate=True)
        except (binascii.Error, ValueError):
            raise LivenessScriptError("InvalidScript", "image must be base64") from None
    if "faceRectangle" in body:
        rect = body["faceRectangle"]
        if not isinstance(rect, dict):
            raise LivenessScriptError("InvalidScript", "faceRectangle must be an object")
        kwargs["face_rectangle"] = tuple(
            rect.get(key) for key in ("left", "top", "width", "height")
        )
    if "matchConfidence" in body:
        kwargs["match_confidence"] = body["matchConfidence"]
    if "digest" in body:
        kwargs["digest"] = body["digest"]
    return kwargs


# -- wiring ------------------------------------------------------------------------------------


def register(emulator: Emulator) -> LivenessControl:
    """Serve the 7 liveness operations and the control route from ``emulator``.

    Sets ``emulator.liveness`` to the ``LivenessControl`` holding the sessions; the routes
    replace the emulator's "not implemented" placeholders.
    """
    clock = emulator.clock

    def engine() -> FaceEngine | None:
        try:
            return emulator.engine
        except ImportError:  # EngineUnavailable: OpenCV or the models are not installed
            return None

    control = LivenessControl(clock=lambda: float(clock()), engine=engine)
    emulator.liveness = control
    routes: list[tuple[str, str, Handler]] = [
        ("POST", _SESSIONS, control.create_session),
        ("GET", _SESSIONS + "/{sessionId}", control.get_session),
        ("DELETE", _SESSIONS + "/{sessionId}", control.delete_session),
        ("POST", _VERIFY_SESSIONS, control.create_with_verify_session),
        ("GET", _VERIFY_SESSIONS + "/{sessionId}", control.get_with_verify_session),
        ("DELETE", _VERIFY_SESSIONS + "/{sessionId}", control.delete_with_verify_session),
        ("GET", "/sessionImages/{sessionImageId}", control.get_session_image),
    ]
    for method, template, handler in routes:
        emulator.register(method, FACE_BASE + template, handler)
    emulator.register("POST", _CONTROL, control.control_attempt)
    return control
