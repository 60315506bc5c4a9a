"""The one decision on the wire: what every request through a faceguard client's HTTP client
must satisfy, typed or raw (GUARD.md §2.2).

``check_wire`` reads a canonical ``WireRequest`` and applies the hard rules that can be read off
the request itself: the route allowlist (already, by parsing), the attribute allowlist, and
the rule that a request creating, comparing or enrolling templates, or opening a liveness
session, needs the guard's decision. The typed path's decision is the ``RequestSpec`` the
guard checked, handed over as an unforgeable pass (``_transport/_guarded.py``); it may only add
restrictions. So the request on the wire must be exactly that spec's request (route, path,
query, body bytes), and what the guard read from the spec's own guard info (faceIds,
container, person, models, TTL, device id, consent operation) must be what the request says:
a spec cannot vouch for a request it does not describe.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from .._exceptions import GuardError, PersonalDataError, UnknownRouteError
from ..models.enums import DetectionModel, RecognitionModel
from ._attributes import check_attributes
from ._identifiers import primary_identifier_kinds
from ._override import Override
from ._wire import WireRequest

if TYPE_CHECKING:
    from .._transport._spec import RequestSpec

__all__ = ["check_wire"]

_CONTAINER_KEYS = ("personGroupId", "largePersonGroupId", "faceListId", "largeFaceListId")
_BODY_CONTAINER_KEYS = {k.lower(): k for k in (*_CONTAINER_KEYS, "dynamicPersonGroupId")}
_FACE_ID_KEYS = frozenset(("faceid", "faceids", "faceid1", "faceid2"))
_DETECT = "/detect"  # the one route whose need for a decision depends on its query


def _needs_decision(wire: WireRequest) -> bool:
    route = wire.route
    if route.template == _DETECT and route.service == "face":
        value = wire.query.get("returnFaceId", "true").lower()  # the service's default: true
        if value not in ("true", "false"):
            raise GuardError("ambiguous request refused: returnFaceId must be true or false")
        return value == "true"
    return route.decision


def _check_attributes(wire: WireRequest) -> None:
    requested = wire.query.get("returnFaceAttributes")
    if requested is not None:
        _allowed_attributes(
            requested,
            wire.query.get("detectionModel", "detection_01"),
            wire.query.get("recognitionModel", "recognition_01"),
        )


@functools.lru_cache(maxsize=256)
def _allowed_attributes(requested: str, detection_model: str, recognition_model: str) -> None:
    """Refuse a retired or unknown attribute; remembered only when allowed (a refusal is an
    exception, which the cache does not keep)."""
    try:
        detection = DetectionModel(detection_model)
        recognition = RecognitionModel(recognition_model)
    except ValueError:
        raise UnknownRouteError("unknown detection or recognition model in a request") from None
    names = [name.strip() for name in requested.split(",")]
    check_attributes(names, detection_model=detection, recognition_model=recognition)


def _strings(value: object) -> list[str]:
    """The text values of a field: itself if it is one, the texts of a list, else none."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _body_keys(wire: WireRequest) -> dict[str, Any]:
    body = wire.body
    if isinstance(body, dict):
        return {k.lower(): v for k, v in body.items()}
    return dict(wire.form)


def _mismatch(wire: WireRequest, spec: RequestSpec[Any], content: bytes) -> str | None:
    """Why the wire request is not the one the guard decided on, or None."""
    route = wire.route
    if spec.method != route.method or spec.route != route.template:
        return "another route"
    if spec.path_params != wire.path_params:
        return "another path"
    sent_query = wire.query
    if "api-version" in sent_query:  # Content Safety's, added by the transport
        sent_query = {k: v for k, v in sent_query.items() if k != "api-version"}
    if spec.query != sent_query:
        return "another query"
    if wire.content != content:
        return "another body"
    info = spec.guard
    face_ids, containers, persons = _facts(wire)
    if face_ids != {face_id.lower() for face_id in info.face_ids}:
        return "other faceIds than the guard checked"
    if containers and containers != {info.container_id}:
        return "another container than the guard checked"
    if persons and persons != {info.person_id}:
        return "another person than the guard checked"
    return None


def _facts(wire: WireRequest) -> tuple[set[str], set[str], set[str]]:
    """The faceIds (lower case), containers and persons a request names, in its path and
    its body's top level, read in one pass over the body."""
    params = wire.path_params
    face_ids: set[str] = set()
    containers = {params[k] for k in _CONTAINER_KEYS if k in params}
    persons = {params["personId"]} if "personId" in params else set()
    body = wire.body if isinstance(wire.body, dict) else wire.form
    for key, value in body.items():
        name = key.lower()
        if name in _FACE_ID_KEYS:
            face_ids.update(map(str.lower, _strings(value)))
        elif name in _BODY_CONTAINER_KEYS:
            if isinstance(value, str):
                containers.add(value)
        elif name == "personid":
            persons.update(_strings(value))
    return face_ids, containers, persons


def _decided_facts(wire: WireRequest, spec: RequestSpec[Any]) -> str | None:
    """For a request that needs a decision: was the decision about this kind of call?"""
    info = spec.guard
    route = wire.route
    operation = info.consent_operation or info.use_case_operation
    if route.consent is not None and operation != route.consent:
        return "a decision for another operation"
    if route.template == _DETECT:  # only reached when it creates faceIds
        query = wire.query
        if (
            query.get("faceIdTimeToLive") != str(info.face_id_ttl)
            or query.get("detectionModel") != info.detection_model
            or query.get("recognitionModel") != info.recognition_model
        ):
            return "faceId facts (models, time to live) other than the guard recorded"
    if route.consent in ("liveness", "liveness_verify"):
        device = _body_keys(wire).get("devicecorrelationid")
        if device != info.device_correlation_id:
            return "another device correlation id than the guard checked"
    return None


def _check_personal_data(wire: WireRequest, decided: RequestSpec[Any] | None) -> None:
    """R31: no primary identifier in the ``name`` or ``userData`` the service keeps next to
    templates, unless the typed call carried an ``Override("primary_identifier", ...)``."""
    override = decided.guard.override if decided is not None else None
    if isinstance(override, Override) and override.rule == "primary_identifier":
        return
    body = wire.body if isinstance(wire.body, dict) else {}
    fields = [(k, v) for k, v in body.items() if k.lower() in ("name", "userdata")]
    if "userData" in wire.query:
        fields.append(("userData", wire.query["userData"]))
    for field, value in fields:
        kinds = primary_identifier_kinds(value) if isinstance(value, str) else ()
        if kinds:
            raise PersonalDataError("name" if field.lower() == "name" else "user_data", kinds)


def check_wire(wire: WireRequest, decided: tuple[RequestSpec[Any], bytes] | None) -> None:
    """Refuse (``GuardError``) a request the guard must not let through.

    ``decided`` is the typed path's pass: the spec the guard decided on and the exact body
    bytes built from it; ``None`` for a raw request.
    """
    if wire.route.service == "face":
        _check_attributes(wire)
        if wire.route.stores_text:
            _check_personal_data(wire, decided[0] if decided is not None else None)
    needs = _needs_decision(wire) if wire.route.service == "face" else False
    route = wire.route
    if decided is None:
        if needs:
            raise GuardError(
                f"{route.method} {route.template} needs the guard's consent, faceId and "
                "liveness checks: call the typed method instead of sending a raw request"
            )
        return
    spec, content = decided
    reason = _mismatch(wire, spec, content)
    if reason is None and needs:
        reason = _decided_facts(wire, spec)
    if reason is not None:
        raise GuardError(
            f"the request about to be sent is not the one the guard decided on ({reason}): "
            "something between the typed call and the wire (a request hook, a caller's "
            "client parameters) changed it"
        )
