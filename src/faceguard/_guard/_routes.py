"""The route allowlist: the backstop for requests that did not come through a typed method.

faceguard installs a request hook on the httpx client it sends through (its own, or the one
the caller passed as ``http_client``). Requests from the typed methods carry the guard's
decision and pass. Any other request to the service's endpoint is checked here:

- a ``returnFaceAttributes`` naming a retired or unknown attribute → ``RetiredAttributeError``;
- a route faceguard does not know (a new API version included) → ``UnknownRouteError``;
- a known route that creates, compares or enrolls templates, or opens a liveness session,
  needs the guard's consent, faceId and liveness checks → refused (``GuardError``); use the
  typed method. Reads, updates and deletions may pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._constants import CONTENT_SAFETY_API_PATH, FACE_API_PATH
from .._exceptions import GuardError, UnknownRouteError
from ..models.enums import DetectionModel, RecognitionModel
from ._attributes import check_attributes

if TYPE_CHECKING:
    import httpx

__all__ = ["CONTENT_SAFETY_ROUTES", "FACE_ROUTES", "GUARDED_MARK", "request_hooks"]

GUARDED_MARK = "faceguard.guarded"
"""``httpx.Request.extensions`` key set on requests built by the typed methods."""


def _containers() -> list[tuple[str, str]]:
    routes: list[tuple[str, str]] = []
    kinds = {
        "persongroups": "personGroupId",
        "largepersongroups": "largePersonGroupId",
        "facelists": "faceListId",
        "largefacelists": "largeFaceListId",
    }
    for name, id_param in kinds.items():
        base = f"/{name}/{{{id_param}}}"
        routes += [("GET", f"/{name}")] + [(m, base) for m in ("PUT", "GET", "PATCH", "DELETE")]
        if name != "facelists":
            routes += [("POST", f"{base}/train"), ("GET", f"{base}/training")]
        if name.endswith("persongroups"):
            person = f"{base}/persons/{{personId}}"
            face = f"{person}/persistedfaces/{{persistedFaceId}}"
            routes += [("GET", f"{base}/persons"), ("POST", f"{base}/persons")]
            routes += [(m, person) for m in ("GET", "PATCH", "DELETE")]
            routes += [("POST", f"{person}/persistedfaces")]
            routes += [(m, face) for m in ("GET", "PATCH", "DELETE")]
        else:
            face = f"{base}/persistedfaces/{{persistedFaceId}}"
            routes += [("POST", f"{base}/persistedfaces"), ("DELETE", face)]
            if name == "largefacelists":
                routes += [("GET", f"{base}/persistedfaces"), ("GET", face), ("PATCH", face)]
    return routes


FACE_ROUTES: frozenset[tuple[str, str]] = frozenset(
    [
        ("POST", "/detect"),
        ("POST", "/verify"),
        ("POST", "/identify"),
        ("POST", "/findsimilars"),
        ("POST", "/group"),
        ("POST", "/detectLiveness-sessions"),
        ("GET", "/detectLiveness-sessions/{sessionId}"),
        ("DELETE", "/detectLiveness-sessions/{sessionId}"),
        ("POST", "/detectLivenessWithVerify-sessions"),
        ("GET", "/detectLivenessWithVerify-sessions/{sessionId}"),
        ("DELETE", "/detectLivenessWithVerify-sessions/{sessionId}"),
        ("GET", "/sessionImages/{sessionImageId}"),
        *_containers(),
    ]
)
"""Every (method, route template) of Face v1.2 GA."""

CONTENT_SAFETY_ROUTES: frozenset[tuple[str, str]] = frozenset(
    [
        ("GET", "/text/blocklists"),
        ("GET", "/text/blocklists/{blocklistName}"),
        ("PATCH", "/text/blocklists/{blocklistName}"),
        ("DELETE", "/text/blocklists/{blocklistName}"),
        ("POST", "/text/blocklists/{blocklistName}:addOrUpdateBlocklistItems"),
        ("POST", "/text/blocklists/{blocklistName}:removeBlocklistItems"),
        ("GET", "/text/blocklists/{blocklistName}/blocklistItems"),
        ("GET", "/text/blocklists/{blocklistName}/blocklistItems/{blocklistItemId}"),
        ("POST", "/text:analyze"),
    ]
)
"""Every (method, route template) of the Content Safety operations faceguard covers."""

# Routes whose guard checks (consent, faceIds, liveness caps) a raw request cannot satisfy.
_NEEDS_DECISION = re.compile(
    r"^POST (/verify|/identify|/findsimilars|/group|/detectLiveness(WithVerify)?-sessions|"
    r"/.*/persistedfaces)$"
)


def _matcher(routes: frozenset[tuple[str, str]]) -> list[tuple[str, re.Pattern[str], str]]:
    compiled = []
    for method, template in routes:
        pattern = re.escape(template)
        pattern = re.sub(r"\\\{\w+\\\}", r"[^/:]+", pattern)
        compiled.append((method, re.compile(f"^{pattern}$"), template))
    return compiled


_FACE = _matcher(FACE_ROUTES)
_CONTENT_SAFETY = _matcher(CONTENT_SAFETY_ROUTES)


def _check_attributes(request: httpx.Request) -> None:
    requested = request.url.params.get("returnFaceAttributes")
    if requested is None:
        return
    detection = request.url.params.get("detectionModel", DetectionModel.DETECTION_01.value)
    recognition = request.url.params.get("recognitionModel", RecognitionModel.RECOGNITION_01.value)
    try:
        detection_model = DetectionModel(detection)
        recognition_model = RecognitionModel(recognition)
    except ValueError:
        raise UnknownRouteError("unknown detection or recognition model in a raw request") from None
    names = [name.strip() for name in requested.split(",") if name.strip()]
    check_attributes(names, detection_model=detection_model, recognition_model=recognition_model)


def check_request(request: httpx.Request, *, endpoint: str, service: str) -> None:
    """Police one request about to leave through the client's httpx client."""
    if request.extensions.get(GUARDED_MARK) is True:
        return
    target, url = urlsplit(endpoint), request.url
    if url.host != target.hostname or (target.port and url.port != target.port):
        return  # not for this service: a shared http_client may talk to others too
    base = target.path + (FACE_API_PATH if service == "face" else CONTENT_SAFETY_API_PATH)
    path = url.path
    if service == "face":
        _check_attributes(request)
    if not path.startswith(base):
        raise UnknownRouteError(
            f"raw request to an unknown route: {request.method} (path withheld)"
        )
    route = path[len(base) :]
    table = _FACE if service == "face" else _CONTENT_SAFETY
    template = next(
        (t for m, pattern, t in table if m == request.method and pattern.match(route)), None
    )
    if template is None:
        raise UnknownRouteError(
            f"raw request to a route faceguard does not know: {request.method} "
            "(unknown routes are denied; a new API version needs an allowlist update)"
        )
    creates_face_ids = template == "/detect" and url.params.get("returnFaceId", "true") != "false"
    if creates_face_ids or _NEEDS_DECISION.match(f"{request.method} {template}"):
        raise GuardError(
            f"{request.method} {template} needs the guard's consent, faceId and liveness checks: "
            "call the typed method instead of sending a raw request"
        )


def request_hooks(
    *, endpoint: str, service: str
) -> tuple[Callable[[httpx.Request], None], Callable[[httpx.Request], Coroutine[Any, Any, None]]]:
    """The sync and async httpx request hooks enforcing ``check_request``."""

    def hook(request: httpx.Request) -> None:
        check_request(request, endpoint=endpoint, service=service)

    async def async_hook(request: httpx.Request) -> None:
        check_request(request, endpoint=endpoint, service=service)

    return hook, async_hook
