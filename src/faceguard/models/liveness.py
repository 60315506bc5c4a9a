"""Liveness and liveness-with-verify sessions (Face v1.2 GA).

A session is created by the app server, its ``auth_token`` is handed to the client device
running the Vision SDK, and the server later reads the result. The token is a bearer
credential: it stays a plain ``str`` because callers must pass it on, but it is hidden from
``repr()`` and ``str()`` so it does not end up in logs.
"""

from pydantic import Field, model_validator
from typing_extensions import Self

from ._base import FaceModel, FaceResult, OpenEnum, RequestModel
from .detection import FaceRectangle
from .enums import (
    ImageType,
    LivenessDecision,
    LivenessModel,
    LivenessOperationMode,
    OperationState,
    QualityForRecognition,
)

__all__ = [
    "CreateLivenessSessionContent",
    "LivenessColorDecisionTarget",
    "LivenessDecisionTargets",
    "LivenessError",
    "LivenessResult",
    "LivenessSession",
    "LivenessSessionAttempt",
    "LivenessSessionResults",
    "LivenessWithVerifyOutputs",
    "LivenessWithVerifyReference",
    "LivenessWithVerifyResult",
    "LivenessWithVerifySession",
    "LivenessWithVerifySessionAttempt",
    "LivenessWithVerifySessionResults",
]


# --- request ---------------------------------------------------------------------------------


class CreateLivenessSessionContent(RequestModel):
    """Body of "create liveness session" (and the form fields of the with-verify variant)."""

    liveness_operation_mode: LivenessOperationMode
    """Liveness mode the client should follow."""
    device_correlation_id_set_in_client: bool | None = None
    """Let the client set its own ``deviceCorrelationId`` via the Vision SDK. Defaults to
    false, in which case ``device_correlation_id`` should be set here."""
    enable_session_image: bool | None = None
    """Whether to store the session image."""
    liveness_model_version: LivenessModel | None = None
    """Liveness model version; the latest supported one when omitted."""
    device_correlation_id: str | None = None
    """Unique GUID per end-user device, for rate limiting and anti-hammering. Must be unset
    when ``device_correlation_id_set_in_client`` is true."""
    auth_token_time_to_live_in_seconds: int | None = Field(default=None, ge=60, le=86400)
    """Lifetime of the session's auth token, 60 to 86400 seconds (service default 600)."""

    @model_validator(mode="after")
    def _check_device_correlation_id(self) -> Self:
        """Enforce the contract's rule that the two device-correlation options exclude each
        other."""
        if self.device_correlation_id_set_in_client and self.device_correlation_id is not None:
            msg = "device_correlation_id must be unset when device_correlation_id_set_in_client"
            raise ValueError(msg)
        return self


# --- shared parts ----------------------------------------------------------------------------


class LivenessColorDecisionTarget(FaceModel):
    """The target in the color image used for liveness classification."""

    face_rectangle: FaceRectangle
    """Face region the classification was made on."""


class LivenessDecisionTargets(FaceModel):
    """The targets used for liveness classification."""

    color: LivenessColorDecisionTarget
    """Target in the color image."""


class LivenessError(FaceModel):
    """Why a liveness attempt produced no result (for example ``FaceWithMaskDetected``)."""

    code: str
    """Error code."""
    message: str
    """Error message."""
    targets: LivenessDecisionTargets
    """Targets used for liveness classification."""


# --- liveness --------------------------------------------------------------------------------


class LivenessResult(FaceModel):
    """Result of one liveness classification."""

    targets: LivenessDecisionTargets
    """Targets used for liveness classification."""
    digest: str
    """Server-calculated digest; if it differs from the digest the client reports, message
    integrity was compromised and the result must not be trusted."""
    liveness_decision: OpenEnum[LivenessDecision] | None = None
    """Liveness decision for the target face."""
    session_image_id: str | None = None
    """ID of the session image, when session images are enabled."""


class LivenessSessionAttempt(FaceModel):
    """One attempt within a liveness session."""

    attempt_id: int
    """Attempt number, starting at 1."""
    attempt_status: OpenEnum[OperationState]
    """Status of the attempt."""
    result: LivenessResult | None = None
    """Result of the attempt; null when there is an error."""
    error: LivenessError | None = None
    """Error of the attempt; null when there is a result."""


class LivenessSessionResults(FaceModel):
    """Results of a liveness session."""

    attempts: list[LivenessSessionAttempt]
    """Attempts made within the session."""


class LivenessSession(FaceResult):
    """A liveness session."""

    session_id: str
    """Unique ID of the session."""
    auth_token: str = Field(repr=False)
    """Bearer token for the Vision SDK on the client device: limited to this session,
    expires after its TTL, auditable. Hidden from ``repr()``."""
    status: OpenEnum[OperationState]
    """Current status of the session."""
    results: LivenessSessionResults
    """Results of the session."""
    model_version: OpenEnum[LivenessModel] | None = None
    """Liveness model version used for classification."""


# --- liveness with verify --------------------------------------------------------------------


class LivenessWithVerifyOutputs(FaceModel):
    """Face verification output of a liveness-with-verify attempt."""

    match_confidence: float
    """Verification confidence between the liveness face and the verify-image face, 0 to
    1."""
    is_identical: bool
    """Whether the liveness face and the verify-image face match."""


class LivenessWithVerifyReference(FaceModel):
    """The face in the verify image used for verification."""

    reference_type: OpenEnum[ImageType]
    """Kind of image containing the face."""
    face_rectangle: FaceRectangle
    """Face region in the verify image."""
    quality_for_recognition: OpenEnum[QualityForRecognition]
    """Recognition quality of the verify-image face."""


class LivenessWithVerifyResult(FaceModel):
    """Result of one liveness-with-verify classification."""

    targets: LivenessDecisionTargets
    """Targets used for liveness classification."""
    digest: str
    """Server-calculated digest; if it differs from the digest the client reports, message
    integrity was compromised and the result must not be trusted."""
    liveness_decision: OpenEnum[LivenessDecision] | None = None
    """Liveness decision for the target face."""
    session_image_id: str | None = None
    """ID of the session image, when session images are enabled."""
    verify_result: LivenessWithVerifyOutputs | None = None
    """Face verification output."""
    verify_image_hash: str | None = None
    """SHA-256 hash of the verify image, when ``returnVerifyImageHash`` was requested."""


class LivenessWithVerifySessionAttempt(FaceModel):
    """One attempt within a liveness-with-verify session."""

    attempt_id: int
    """Attempt number, starting at 1."""
    attempt_status: OpenEnum[OperationState]
    """Status of the attempt."""
    result: LivenessWithVerifyResult | None = None
    """Result of the attempt; null when there is an error."""
    error: LivenessError | None = None
    """Error of the attempt; null when there is a result."""


class LivenessWithVerifySessionResults(FaceModel):
    """Results of a liveness-with-verify session."""

    verify_references: list[LivenessWithVerifyReference]
    """References used for face verification."""
    attempts: list[LivenessWithVerifySessionAttempt]
    """Attempts made within the session."""


class LivenessWithVerifySession(FaceResult):
    """A liveness-with-verify session."""

    session_id: str
    """Unique ID of the session."""
    auth_token: str = Field(repr=False)
    """Bearer token for the Vision SDK on the client device: limited to this session,
    expires after its TTL, auditable. Hidden from ``repr()``."""
    status: OpenEnum[OperationState]
    """Current status of the session."""
    results: LivenessWithVerifySessionResults
    """Results of the session."""
    model_version: OpenEnum[LivenessModel] | None = None
    """Liveness model version used for classification."""
