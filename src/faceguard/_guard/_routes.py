"""The route table the wire check decides by: every (method, route template) faceguard sends.

One table serves both paths. A typed call's spec must name a route of this table (the wire
check compares them), and a raw request is matched against it; an unknown route is denied.
The container routes are derived from the four container builders (``_operations/_kinds``),
the others from the builder modules' own route constants, so a route template is written in
the builder that sends it and read here.

Each route says what the wire check needs to know of it:

- ``decision``: the route creates, compares or enrolls templates, or opens a liveness session;
  only a request the guard decided on (the typed path's pass) may carry it. Detect is the one
  route whose need depends on its query (``returnFaceId``, which defaults to true).
- ``body``: how the body is read: JSON (parsed strictly), an image or JSON (detect and add
  face), multipart (liveness with verify), or nothing.
- ``consent``: the consent operation the typed path must have checked for it.

Matching is by path segments, case-insensitively for the literal ones (the service's routes
are), with ``{param}`` matching one non-empty segment (or the part before ``:verb``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["FACE_QUERY", "CONTENT_SAFETY_QUERY", "Route", "match_route", "routes"]

Body = Literal["none", "json", "image_or_json", "multipart"]

FACE_QUERY: Mapping[str, str] = {
    name.lower(): name
    for name in (
        "detectionModel",
        "faceIdTimeToLive",
        "recognitionModel",
        "returnFaceAttributes",
        "returnFaceId",
        "returnFaceLandmarks",
        "returnRecognitionModel",
        "start",
        "targetFace",
        "top",
        "userData",
    )
}
"""Every query parameter of the Face v1.2 contract, by its lower-case spelling."""

CONTENT_SAFETY_QUERY: Mapping[str, str] = {
    name.lower(): name for name in ("api-version", "maxpagesize", "skip", "top")
}
"""Every query parameter of the Content Safety contract faceguard covers."""


@dataclass(frozen=True)
class Route:
    """One (method, route template) of a service, with what the wire check needs of it."""

    service: Literal["face", "contentsafety"]
    method: str
    template: str
    decision: bool = False
    body: Body = "none"
    consent: str | None = None
    """The consent operation (``verify``, ``enroll``...), or the use-case operation of a
    liveness session (``liveness``)."""

    @functools.cached_property
    def stores_text(self) -> bool:
        """Whether the service keeps a ``name`` or ``userData`` from this request next to
        templates (creates and updates of containers, persons and faces; add face)."""
        if self.service != "face":
            return False
        if self.method in ("PUT", "PATCH"):
            return True
        return self.method == "POST" and self.template.endswith(("/persons", "/persistedfaces"))

    @functools.cached_property
    def segments(self) -> tuple[tuple[str, str | None, str], ...]:
        """(literal, param name, ``:verb`` suffix) per path segment; literals lower-cased."""
        parts: list[tuple[str, str | None, str]] = []
        for segment in self.template.strip("/").split("/"):
            if segment.startswith("{"):
                name, _, rest = segment[1:].partition("}")
                parts.append(("", name, rest.lower()))
            else:
                parts.append((segment.lower(), None, ""))
        return tuple(parts)


def _face_routes() -> list[Route]:
    from .._operations import _kinds, detection, liveness
    from .._operations import recognition as rec

    detect = detection.DETECT_ROUTE
    face: list[Route] = [
        Route("face", "POST", detect, body="image_or_json", consent="detect_template"),
        Route("face", "POST", rec.VERIFY_ROUTE, decision=True, body="json", consent="verify"),
        Route("face", "POST", rec.IDENTIFY_ROUTE, decision=True, body="json", consent="identify"),
        Route("face", "POST", rec.FIND_SIMILAR_ROUTE, True, "json", consent="find_similar"),
        Route("face", "POST", rec.GROUP_ROUTE, decision=True, body="json", consent="group"),
        Route("face", "GET", liveness.SESSION_IMAGE_ROUTE),
    ]
    for base, mode, consent in (
        (liveness.SESSIONS_ROUTE, "json", "liveness"),
        (liveness.VERIFY_SESSIONS_ROUTE, "multipart", "liveness_verify"),
    ):
        body: Body = "json" if mode == "json" else "multipart"
        face.append(Route("face", "POST", base, decision=True, body=body, consent=consent))
        face += [Route("face", m, base + "/{sessionId}") for m in ("GET", "DELETE")]
    for kind in (
        _kinds.PERSON_GROUPS,
        _kinds.LARGE_PERSON_GROUPS,
        _kinds.FACE_LISTS,
        _kinds.LARGE_FACE_LISTS,
    ):
        base = kind.route
        face.append(Route("face", "GET", base.rsplit("/", 1)[0]))
        face += [Route("face", m, base, body="json") for m in ("PUT", "PATCH")]
        face += [Route("face", m, base) for m in ("GET", "DELETE")]
        if kind is not _kinds.FACE_LISTS:
            face += [
                Route("face", "POST", base + "/train"),
                Route("face", "GET", base + "/training"),
            ]
        enroll = Route("face", "POST", "", decision=True, body="image_or_json", consent="enroll")
        if kind in (_kinds.PERSON_GROUPS, _kinds.LARGE_PERSON_GROUPS):
            person = base + "/persons/{personId}"
            face_route = person + "/persistedfaces/{persistedFaceId}"
            face += [
                Route("face", "GET", base + "/persons"),
                Route("face", "POST", base + "/persons", body="json"),
            ]
            face += [Route("face", "GET", person), Route("face", "DELETE", person)]
            face.append(Route("face", "PATCH", person, body="json"))
            face.append(_with_template(enroll, person + "/persistedfaces"))
            face += [Route("face", m, face_route) for m in ("GET", "DELETE")]
            face.append(Route("face", "PATCH", face_route, body="json"))
        else:
            face_route = base + "/persistedfaces/{persistedFaceId}"
            face.append(_with_template(enroll, base + "/persistedfaces"))
            face.append(Route("face", "DELETE", face_route))
            if kind is _kinds.LARGE_FACE_LISTS:
                face += [
                    Route("face", "GET", base + "/persistedfaces"),
                    Route("face", "GET", face_route),
                ]
                face.append(Route("face", "PATCH", face_route, body="json"))
    return face


def _with_template(route: Route, template: str) -> Route:
    return Route(route.service, route.method, template, route.decision, route.body, route.consent)


def _content_safety_routes() -> list[Route]:
    from .._operations import content_safety

    blocklist = content_safety.BLOCKLIST_ROUTE
    return [
        Route("contentsafety", "GET", content_safety.BLOCKLISTS_ROUTE),
        Route("contentsafety", "GET", blocklist),
        Route("contentsafety", "PATCH", blocklist, body="json"),
        Route("contentsafety", "DELETE", blocklist),
        Route("contentsafety", "POST", blocklist + ":addOrUpdateBlocklistItems", body="json"),
        Route("contentsafety", "POST", blocklist + ":removeBlocklistItems", body="json"),
        Route("contentsafety", "GET", blocklist + "/blocklistItems"),
        Route("contentsafety", "GET", blocklist + "/blocklistItems/{blocklistItemId}"),
        Route("contentsafety", "POST", content_safety.ANALYZE_ROUTE, body="json"),
    ]


@functools.lru_cache(maxsize=1)
def routes() -> dict[tuple[str, str, int], tuple[Route, ...]]:
    """Every route, indexed by (service, method, number of segments)."""
    table: dict[tuple[str, str, int], list[Route]] = {}
    for route in _face_routes() + _content_safety_routes():
        table.setdefault((route.service, route.method, len(route.segments)), []).append(route)
    return {key: tuple(value) for key, value in table.items()}


@functools.lru_cache(maxsize=1)
def _literal_routes() -> dict[tuple[str, str, tuple[str, ...]], Route]:
    """The routes without parameters, by (service, method, lower-case segments)."""
    return {
        (route.service, route.method, tuple(literal for literal, _, _ in route.segments)): route
        for group in routes().values()
        for route in group
        if all(name is None for _, name, _ in route.segments)
    }


_NO_PARAMS: Mapping[str, str] = {}


def match_route(
    service: str, method: str, segments: list[str]
) -> tuple[Route, Mapping[str, str]] | None:
    """The route a request's decoded path segments name, with its path parameters."""
    literal = _literal_routes().get((service, method, tuple(s.lower() for s in segments)))
    if literal is not None:
        return literal, _NO_PARAMS
    for route in routes().get((service, method, len(segments)), ()):
        params: dict[str, str] = {}
        for (text, name, suffix), segment in zip(route.segments, segments, strict=True):
            if name is None:
                if segment.lower() != text:
                    break
                continue
            value = segment
            if suffix:
                if not segment.lower().endswith(suffix):
                    break
                value = segment[: -len(suffix)]
            if not value or ":" in value:
                break
            params[name] = value
        else:
            return route, params
    return None
