"""The liveness route table: the 7 Face v1.2 liveness operations and the control route.

``LIVENESS_ROUTES`` lists the operations (method, route under ``/face/v1.2``, operationId);
``routes(control)`` binds them to a ``LivenessControl``'s handlers. An emulator built with
``liveness=False`` serves the same routes with a 501 ``NotImplemented`` answer instead.
"""

from __future__ import annotations

from .._wire import Handler
from .handlers import LivenessControl

__all__ = ["CONTROL_ROUTE", "LIVENESS_ROUTES", "routes"]

FACE_BASE = "/face/v1.2"
CONTROL_ROUTE = "/_emulator/liveness/sessions/{sessionId}/attempts"
_SESSIONS = "/detectLiveness-sessions"
_VERIFY_SESSIONS = "/detectLivenessWithVerify-sessions"

LIVENESS_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", _SESSIONS, "LivenessSessionOperations_CreateLivenessSession"),
    ("GET", _SESSIONS + "/{sessionId}", "LivenessSessionOperations_GetLivenessSessionResult"),
    ("DELETE", _SESSIONS + "/{sessionId}", "LivenessSessionOperations_DeleteLivenessSession"),
    ("POST", _VERIFY_SESSIONS, "LivenessSessionOperations_CreateLivenessWithVerifySession"),
    (
        "GET",
        _VERIFY_SESSIONS + "/{sessionId}",
        "LivenessSessionOperations_GetLivenessWithVerifySessionResult",
    ),
    (
        "DELETE",
        _VERIFY_SESSIONS + "/{sessionId}",
        "LivenessSessionOperations_DeleteLivenessWithVerifySession",
    ),
    ("GET", "/sessionImages/{sessionImageId}", "LivenessSessionOperations_GetSessionImage"),
)
"""The liveness operations (method, route under ``/face/v1.2``, operationId)."""


def routes(control: LivenessControl) -> list[tuple[str, str, Handler, str | None]]:
    """Every liveness route (method, full template, handler, operationId)."""
    handlers: list[Handler] = [
        control.create_session,
        control.get_session,
        control.delete_session,
        control.create_with_verify_session,
        control.get_with_verify_session,
        control.delete_with_verify_session,
        control.get_session_image,
    ]
    table: list[tuple[str, str, Handler, str | None]] = [
        (method, FACE_BASE + route, handler, operation)
        for (method, route, operation), handler in zip(LIVENESS_ROUTES, handlers, strict=True)
    ]
    table.append(("POST", CONTROL_ROUTE, control.control_attempt, None))
    return table
