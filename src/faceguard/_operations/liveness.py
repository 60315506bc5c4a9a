"""Liveness sessions (v1.2 GA): create, read and delete, with and without verification.

The server side of the liveness flow: the app backend creates a session and hands its
``auth_token`` to the client device, which runs the liveness check with the Vision SDK; the
backend then reads the result. The token is a bearer secret: it is never logged or shown in a
repr, and faceguard does not keep it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .._constants import LIVENESS_TOKEN_TTL_MAX, LIVENESS_TOKEN_TTL_MIN
from .._exceptions import InvalidInputError
from .._guard._override import Override
from .._transport._spec import GuardCheck, GuardInfo, RequestSpec
from ..models.enums import LivenessModel, LivenessOperationMode
from . import _parsers
from ._images import ImageInput, read_image, sniff_format
from ._inputs import (
    check_bool,
    check_choice,
    check_float_range,
    check_int_range,
    check_length,
    check_text_id,
    wire_bool,
)

if TYPE_CHECKING:
    from ..models.liveness import LivenessSession, LivenessWithVerifySession

__all__ = [
    "create_session",
    "create_with_verify_session",
    "delete_session",
    "delete_with_verify_session",
    "get_session_image",
    "get_session_result",
    "get_with_verify_session_result",
]

_LIVENESS = frozenset({GuardCheck.LIVENESS})
SESSIONS_ROUTE = "/detectLiveness-sessions"
VERIFY_SESSIONS_ROUTE = "/detectLivenessWithVerify-sessions"
SESSION_IMAGE_ROUTE = "/sessionImages/{sessionImageId}"


def _session_fields(
    liveness_operation_mode: LivenessOperationMode | str,
    device_correlation_id: str | None,
    device_correlation_id_set_in_client: bool | None,
    enable_session_image: bool | None,
    liveness_model_version: LivenessModel | str | None,
    auth_token_time_to_live_in_seconds: int | None,
) -> dict[str, Any]:
    if device_correlation_id is not None and device_correlation_id_set_in_client:
        # "If 'deviceCorrelationIdSetInClient' is true ... this 'deviceCorrelationId' must be null."
        raise InvalidInputError(
            "device_correlation_id",
            "exclusive",
            "must be omitted when device_correlation_id_set_in_client=True",
        )
    fields: dict[str, Any] = {
        "livenessOperationMode": check_choice(
            "liveness_operation_mode", liveness_operation_mode, LivenessOperationMode
        ).value
    }
    if device_correlation_id_set_in_client is not None:
        fields["deviceCorrelationIdSetInClient"] = check_bool(
            "device_correlation_id_set_in_client", device_correlation_id_set_in_client
        )
    if enable_session_image is not None:
        fields["enableSessionImage"] = check_bool("enable_session_image", enable_session_image)
    if liveness_model_version is not None:
        fields["livenessModelVersion"] = check_choice(
            "liveness_model_version", liveness_model_version, LivenessModel
        ).value
    if device_correlation_id is not None:
        # Only its length here (the service's error reference: at most 64 characters);
        # whether it looks like personal data is the guard's call.
        fields["deviceCorrelationId"] = check_length(
            "device_correlation_id", device_correlation_id, minimum=1, maximum=64
        )
    if auth_token_time_to_live_in_seconds is not None:
        fields["authTokenTimeToLiveInSeconds"] = check_int_range(
            "auth_token_time_to_live_in_seconds",
            auth_token_time_to_live_in_seconds,
            minimum=LIVENESS_TOKEN_TTL_MIN,
            maximum=LIVENESS_TOKEN_TTL_MAX,
        )
    return fields


def create_session(
    *,
    liveness_operation_mode: LivenessOperationMode | str,
    device_correlation_id: str | None = None,
    device_correlation_id_set_in_client: bool | None = None,
    enable_session_image: bool | None = None,
    liveness_model_version: LivenessModel | str | None = None,
    auth_token_time_to_live_in_seconds: int | None = None,
    override: Override | None = None,
) -> RequestSpec[LivenessSession]:
    """Create a liveness session; hand its ``auth_token`` to the client device.

    REST: ``POST /detectLiveness-sessions`` (``LivenessSessionOperations_CreateLivenessSession``).
    Guard checks: the device correlation id must not look like personal data, and sessions per
    device are capped. Not retried once the request may have reached the service.

    Args:
        auth_token_time_to_live_in_seconds: 60..86400; the service default is 600.
        override: an ``Override("liveness_session_cap", reason)`` to exceed the per-device
            session cap for this one call (audited).
    """
    body = _session_fields(
        liveness_operation_mode,
        device_correlation_id,
        device_correlation_id_set_in_client,
        enable_session_image,
        liveness_model_version,
        auth_token_time_to_live_in_seconds,
    )
    return RequestSpec(
        operation="LivenessSessionOperations_CreateLivenessSession",
        method="POST",
        route=SESSIONS_ROUTE,
        parse=_parsers.model("liveness.LivenessSession"),
        json=body,
        idempotent=False,
        guard_checks=_LIVENESS,
        guard=GuardInfo(
            use_case_operation="liveness",
            device_correlation_id=device_correlation_id,
            override=override,
        ),
    )


def get_session_result(session_id: str) -> RequestSpec[LivenessSession]:
    """Get a liveness session's status and attempts.

    REST: ``GET /detectLiveness-sessions/{sessionId}``
    (``LivenessSessionOperations_GetLivenessSessionResult``). Guard checks: none.
    """
    return RequestSpec(
        operation="LivenessSessionOperations_GetLivenessSessionResult",
        method="GET",
        route=SESSIONS_ROUTE + "/{sessionId}",
        parse=_parsers.model("liveness.LivenessSession"),
        path_params={"sessionId": check_text_id("session_id", session_id)},
        session_id=session_id,
    )


def delete_session(session_id: str) -> RequestSpec[None]:
    """Delete a liveness session and its data; its auth token stops working.

    REST: ``DELETE /detectLiveness-sessions/{sessionId}``
    (``LivenessSessionOperations_DeleteLivenessSession``, 204). Guard checks: erasure, allowed.
    """
    return RequestSpec(
        operation="LivenessSessionOperations_DeleteLivenessSession",
        method="DELETE",
        route=SESSIONS_ROUTE + "/{sessionId}",
        parse=_parsers.empty,
        path_params={"sessionId": check_text_id("session_id", session_id)},
        success_status=frozenset({204}),
        guard_checks=frozenset({GuardCheck.ERASURE}),
        session_id=session_id,
    )


def _multipart(fields: dict[str, Any], image: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body: the session fields, then ``verifyImage`` with a filename.

    The spec requires the image part's Content-Disposition to carry a filename.
    """
    boundary = f"faceguard-{os.urandom(12).hex()}"
    parts: list[bytes] = []
    for name, value in fields.items():
        text = wire_bool(value) if isinstance(value, bool) else str(value)
        parts.append(
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="{name}"\r\n\r\n{text}\r\n'.encode()
        )
    kind = sniff_format(image) or "octet-stream"
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="verifyImage"; '
            f'filename="verify.{kind}"\r\nContent-Type: image/{kind}\r\n\r\n'
        ).encode()
        + image
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def create_with_verify_session(
    *,
    verify_image: ImageInput,
    liveness_operation_mode: LivenessOperationMode | str,
    device_correlation_id: str | None = None,
    device_correlation_id_set_in_client: bool | None = None,
    enable_session_image: bool | None = None,
    liveness_model_version: LivenessModel | str | None = None,
    return_verify_image_hash: bool | None = None,
    verify_confidence_threshold: float | None = None,
    auth_token_time_to_live_in_seconds: int | None = None,
    consent: str | None = None,
    override: Override | None = None,
) -> RequestSpec[LivenessWithVerifySession]:
    """Create a liveness session that also verifies the live face against ``verify_image``.

    REST: ``POST /detectLivenessWithVerify-sessions`` as multipart/form-data
    (``LivenessSessionOperations_CreateLivenessWithVerifySession``).
    Guard checks: as ``create_session``, and the verify image becomes a template, so a
    ``consent`` token covering ``liveness_verify`` is required. The verify image must be a
    local image (bytes, file or path), not a URL.
    """
    source = read_image(verify_image, parameter="verify_image")
    if source.content is None:
        raise InvalidInputError("verify_image", "type", "must be image bytes, a file or a path")
    fields = _session_fields(
        liveness_operation_mode,
        device_correlation_id,
        device_correlation_id_set_in_client,
        enable_session_image,
        liveness_model_version,
        auth_token_time_to_live_in_seconds,
    )
    if return_verify_image_hash is not None:
        fields["returnVerifyImageHash"] = check_bool(
            "return_verify_image_hash", return_verify_image_hash
        )
    if verify_confidence_threshold is not None:
        fields["verifyConfidenceThreshold"] = check_float_range(
            "verify_confidence_threshold", verify_confidence_threshold, minimum=0.0, maximum=1.0
        )
    content, content_type = _multipart(fields, source.content)
    return RequestSpec(
        operation="LivenessSessionOperations_CreateLivenessWithVerifySession",
        method="POST",
        route=VERIFY_SESSIONS_ROUTE,
        parse=_parsers.model("liveness.LivenessWithVerifySession"),
        content=content,
        content_type=content_type,
        idempotent=False,
        guard_checks=_LIVENESS,
        guard=GuardInfo(
            consent_operation="liveness_verify",
            consent=consent,
            device_correlation_id=device_correlation_id,
            override=override,
        ),
    )


def get_with_verify_session_result(session_id: str) -> RequestSpec[LivenessWithVerifySession]:
    """Get a liveness-with-verify session's status, attempts and verification result.

    REST: ``GET /detectLivenessWithVerify-sessions/{sessionId}``
    (``LivenessSessionOperations_GetLivenessWithVerifySessionResult``). Guard checks: none.
    """
    return RequestSpec(
        operation="LivenessSessionOperations_GetLivenessWithVerifySessionResult",
        method="GET",
        route=VERIFY_SESSIONS_ROUTE + "/{sessionId}",
        parse=_parsers.model("liveness.LivenessWithVerifySession"),
        path_params={"sessionId": check_text_id("session_id", session_id)},
        session_id=session_id,
    )


def delete_with_verify_session(session_id: str) -> RequestSpec[None]:
    """Delete a liveness-with-verify session and its data.

    REST: ``DELETE /detectLivenessWithVerify-sessions/{sessionId}``
    (``LivenessSessionOperations_DeleteLivenessWithVerifySession``, 204).
    Guard checks: erasure, always allowed.
    """
    return RequestSpec(
        operation="LivenessSessionOperations_DeleteLivenessWithVerifySession",
        method="DELETE",
        route=VERIFY_SESSIONS_ROUTE + "/{sessionId}",
        parse=_parsers.empty,
        path_params={"sessionId": check_text_id("session_id", session_id)},
        success_status=frozenset({204}),
        guard_checks=frozenset({GuardCheck.ERASURE}),
        session_id=session_id,
    )


def get_session_image(session_image_id: str) -> RequestSpec[bytes]:
    """Download the image a session kept (``enable_session_image=True``), as bytes.

    REST: ``GET /sessionImages/{sessionImageId}`` (``LivenessSessionOperations_GetSessionImage``).
    Guard checks: none; the bytes are biometric data: do not log or persist them needlessly.
    """
    return RequestSpec(
        operation="LivenessSessionOperations_GetSessionImage",
        method="GET",
        route=SESSION_IMAGE_ROUTE,
        parse=_parsers.binary,
        accept="application/octet-stream, application/json",
        path_params={"sessionImageId": check_text_id("session_image_id", session_image_id)},
    )
