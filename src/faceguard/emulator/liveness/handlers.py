"""Liveness sessions (Face v1.2 GA) in the emulator: the 7 REST operations and a control API.

REST (under ``/face/v1.2``): create / get / delete for ``/detectLiveness-sessions`` and
``/detectLivenessWithVerify-sessions`` (the latter created from ``multipart/form-data`` with a
``verifyImage`` part), and ``GET /sessionImages/{sessionImageId}``. Deletes answer 204. The
stored records are in ``models``; request parsing is in ``forms``; the table in ``routes``.

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

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx

from .._engine_api import EngineFace, FaceEngine
from .._wire import (
    OPERATION_EXTENSION,
    FaceApiError,
    empty_response,
    error_response,
    json_response,
)
from .forms import (
    _control_kwargs,
    _form_bool,
    _form_threshold,
    _form_values,
    _invalid_body,
    _json_object,
    _parse_multipart,
    _refused,
    _session_fields,
)
from .models import (
    _DECISIONS,
    _DEFAULT_VERIFY_THRESHOLD,
    LIVENESS_MODEL_VERSION,
    LivenessAttempt,
    LivenessScriptError,
    LivenessSessionState,
    Rectangle,
    SessionKind,
)

__all__ = [
    "LIVENESS_MODEL_VERSION",
    "LivenessAttempt",
    "LivenessControl",
    "LivenessScriptError",
    "LivenessSessionState",
]


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
        if decision is not None and (not isinstance(decision, str) or decision not in _DECISIONS):
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
            isinstance(match_confidence, int | float)
            and not isinstance(match_confidence, bool)
            and 0.0 <= float(match_confidence) <= 1.0
        ):
            raise LivenessScriptError("InvalidScript", "match_confidence must be within [0, 1]")
        if digest is not None and not (isinstance(digest, str) and digest):
            raise LivenessScriptError("InvalidScript", "digest must be a non-empty string")
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

    def export_state(self) -> dict[str, list[tuple[str, Any]]]:
        """The sessions and their attempts, as JSON rows by table (for ``_persist``)."""
        return {"liveness_sessions": [(s["session_id"], s) for s in self.export_sessions()]}

    def import_state(self, tables: Mapping[str, list[tuple[str, Any]]]) -> None:
        """Add the ``(key, data)`` rows ``export_state`` wrote."""
        self.import_sessions([data for _key, data in tables.get("liveness_sessions", [])])

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
        fields = _session_fields(_json_object(request))
        state = self._new_session("liveness", fields)
        return json_response(200, state.to_wire(), operation=operation)

    def create_with_verify_session(
        self, request: httpx.Request, _params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _OPERATIONS["create_verify"]
        form, files = _parse_multipart(request)
        if "verifyImage" not in files:
            raise _invalid_body("the 'verifyImage' part (with a filename) is required")
        image = files["verifyImage"]
        fields = _session_fields(_form_values(form))
        return_hash = _form_bool(form, "returnVerifyImageHash")
        threshold = _form_threshold(form)
        face = self._verify_face(image)
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
            raise _refused(
                "EngineUnavailable",
                "faceguard emulator: the verify image must be detected by the local face "
                "engine, which is not installed (pip install 'faceguard[emulator]').",
                status=501,
            )
        try:
            faces = engine.detect(image)
        except ValueError as exc:  # EngineImageError carries the service's code
            raise _refused(getattr(exc, "code", "InvalidImage"), str(exc)) from None
        if not faces:
            raise _refused("InvalidImage", "No face detected in the image.")
        if len(faces) > 1:
            raise _refused("InvalidImage", "There is more than 1 face in the image.")
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
        except LivenessScriptError as exc:  # the in-process API's error, answered as such
            raise FaceApiError(exc.status, exc.code, str(exc)) from None
        return json_response(
            200, {"attemptId": attempt.attempt_id, "attemptStatus": attempt.status}
        )
