"""Reading liveness requests: JSON bodies, ``multipart/form-data`` and the control body.

The session fields of a create call (JSON for ``/detectLiveness-sessions``, a multipart form
with a ``verifyImage`` part for ``/detectLivenessWithVerify-sessions``), checked against the
contract's limits, and the arguments of the control route. A refusal is a ``FaceApiError``,
which the router answers as the Face error of the operation. Kept apart from the handlers:
this is wire parsing (RFC 7578 included) with no session state.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from email.message import Message
from typing import Any

import httpx

from .._wire import FaceApiError, read_json
from .models import (
    _DEVICE_ID_MAX,
    _MODES,
    _TOKEN_TTL_DEFAULT,
    _TOKEN_TTL_MAX,
    _TOKEN_TTL_MIN,
    LIVENESS_MODEL_VERSION,
    LivenessScriptError,
)

__all__: list[str] = []


def _refused(code: str, message: str, *, status: int = 400) -> FaceApiError:
    """A refused request, in the one error class the router answers."""
    return FaceApiError(status, code, message)


def _invalid_body(detail: str) -> FaceApiError:
    return _refused(
        "InvalidRequestBody",
        "Incorrect request body provided. Please check the operation schema and try again. "
        f"({detail})",
    )


def _json_object(request: httpx.Request) -> dict[str, Any]:
    body = read_json(request.content, code="BadArgument", message="JSON parsing error.", empty=None)
    if not isinstance(body, dict):
        raise _invalid_body("the body must be a JSON object")
    return body


def _session_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    mode = body.get("livenessOperationMode")
    if mode is None:
        raise _invalid_body("'livenessOperationMode' is required")
    if not isinstance(mode, str) or mode not in _MODES:
        raise _refused(
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
        raise _refused(
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
        raise _refused(
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
