"""Liveness sessions as the emulator stores them: the records, their wire shape, the limits.

``LivenessSessionState`` and ``LivenessAttempt`` are plain records with the conversions they
need (``to_wire`` for the REST answers, ``to_dict`` / ``from_dict`` for persistence), and the
contract's constants (modes, decisions, token lifetimes). They are separate from
``handlers`` (the REST handlers and the control API that change them) and from
``forms`` (request parsing): the stored shape, which ``_persist`` saves through
``to_dict``, reads without the HTTP side. ``LivenessScriptError`` lives here because both the
control API and the control route's parsing raise it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "LIVENESS_MODEL_VERSION",
    "LivenessAttempt",
    "LivenessScriptError",
    "LivenessSessionState",
    "Rectangle",
    "SessionKind",
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
