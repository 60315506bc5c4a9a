"""The Face v1.2 GA operations of the emulator (70 of the contract's 77; the 7 liveness ones
are ``_liveness_routes``'s): request parsing, the service's rules, and wire-shaped answers.

Every handler takes an ``httpx.Request`` and its path parameters and returns an
``httpx.Response``; the router adds ``apim-request-id`` and the auth check. Bodies follow the
contract's schemas exactly (no field outside them); errors are ``{"error": {"code",
"message"}}`` with an ``x-ms-error-code`` header, with the codes, statuses and messages of the
Face error reference (https://aka.ms/face-error-codes-and-messages). Where that reference is
silent the choice is marked ``Code chosen:`` below.

What the emulator measures comes from the face engine (boxes, landmarks, head pose, blur,
exposure, noise, quality for recognition, similarity). What it cannot measure (glasses,
occlusion, accessories, mask) it refuses with 501 ``NotSupportedByEmulator`` unless a test
scripted a value (``Emulator.script_attribute``): it never invents a measurement.
"""

from __future__ import annotations

import heapq
import ipaddress
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

import httpx

from ._engine_api import EngineFace, EngineImageError, FaceEngine
from ._state import (
    KIND_TEXT,
    PERSON_KINDS,
    ContainerKind,
    DetectedFace,
    FaceApiError,
    FaceStore,
    PersistedFace,
    Person,
    TrainedEntry,
    Training,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "ATTRIBUTES",
    "FACE_BASE",
    "LANDMARK_NAMES",
    "LIVENESS_ROUTES",
    "OPERATION_EXTENSION",
    "FaceRoutes",
    "Handler",
    "check_image",
    "empty_response",
    "error_response",
    "fetch_image",
    "json_response",
    "validate_scripted_attribute",
]

Handler = Callable[[httpx.Request, Mapping[str, str]], httpx.Response]

FACE_BASE = "/face/v1.2"
OPERATION_EXTENSION = "faceguard.emulator.operation"
"""Response extension naming the contract operation that answered (for tests and logs)."""

LIVENESS_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/detectLiveness-sessions", "LivenessSessionOperations_CreateLivenessSession"),
    (
        "GET",
        "/detectLiveness-sessions/{sessionId}",
        "LivenessSessionOperations_GetLivenessSessionResult",
    ),
    (
        "DELETE",
        "/detectLiveness-sessions/{sessionId}",
        "LivenessSessionOperations_DeleteLivenessSession",
    ),
    (
        "POST",
        "/detectLivenessWithVerify-sessions",
        "LivenessSessionOperations_CreateLivenessWithVerifySession",
    ),
    (
        "GET",
        "/detectLivenessWithVerify-sessions/{sessionId}",
        "LivenessSessionOperations_GetLivenessWithVerifySessionResult",
    ),
    (
        "DELETE",
        "/detectLivenessWithVerify-sessions/{sessionId}",
        "LivenessSessionOperations_DeleteLivenessWithVerifySession",
    ),
    ("GET", "/sessionImages/{sessionImageId}", "LivenessSessionOperations_GetSessionImage"),
)
"""The liveness operations, which another module implements (method, route, operationId)."""

LANDMARK_NAMES: tuple[str, ...] = (
    "pupilLeft",
    "pupilRight",
    "noseTip",
    "mouthLeft",
    "mouthRight",
    "eyebrowLeftOuter",
    "eyebrowLeftInner",
    "eyeLeftOuter",
    "eyeLeftTop",
    "eyeLeftBottom",
    "eyeLeftInner",
    "eyebrowRightInner",
    "eyebrowRightOuter",
    "eyeRightInner",
    "eyeRightTop",
    "eyeRightBottom",
    "eyeRightOuter",
    "noseRootLeft",
    "noseRootRight",
    "noseLeftAlarTop",
    "noseRightAlarTop",
    "noseLeftAlarOutTip",
    "noseRightAlarOutTip",
    "upperLipTop",
    "upperLipBottom",
    "underLipTop",
    "underLipBottom",
)
"""The 27 ``FaceLandmarks`` of the contract, in its order (all required)."""

DETECTION_MODELS = ("detection_01", "detection_02", "detection_03")
RECOGNITION_MODELS = ("recognition_01", "recognition_02", "recognition_03", "recognition_04")
MEASURED = frozenset({"headPose", "blur", "exposure", "noise", "qualityForRecognition"})
UNMEASURABLE = frozenset({"glasses", "occlusion", "accessories", "mask"})
LIMITED = frozenset({"age", "smile", "facialHair", "hair"})
ATTRIBUTES = MEASURED | UNMEASURABLE | LIMITED
"""The 13 values of the contract's ``FaceAttributeType``."""
RETIRED = frozenset({"emotion", "gender", "makeup"})
_BY_LOWER = {name.lower(): name for name in ATTRIBUTES | RETIRED}
# Per detection model: the Azure SDK reference (FaceAttributeType.Detection01 / Detection03,
# generated from the same TypeSpec); detection_02 returns none. qualityForRecognition depends on
# the recognition model instead.
_BY_DETECTION: dict[str, frozenset[str]] = {
    "detection_01": frozenset(
        {"accessories", "blur", "exposure", "glasses", "headPose", "noise", "occlusion"}
    ),
    "detection_02": frozenset(),
    "detection_03": frozenset({"blur", "headPose", "mask"}),
}
_QUALITY_MODELS = frozenset({"recognition_03", "recognition_04"})

IMAGE_MIN_BYTES = 1024
IMAGE_MAX_BYTES = 6 * 1024 * 1024
MAX_FACES = 100
FACE_ID_TTL = (60, 86400)
SAME_PERSON = 0.5
"""Confidence at or above which two faces are the same person (verify's documented default;
the engine maps its own threshold onto it)."""

_COLLECTION_ID = re.compile(r"^[a-z0-9\-_]{1,64}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NAME_MAX = 128
_USER_DATA_MAX = 16 * 1024
_FACE_USER_DATA_MAX = 1024
_START_MAX = 64
_TOP_MAX = 1000

_ROUTE: dict[ContainerKind, tuple[str, str]] = {
    "faceList": ("/facelists", "faceListId"),
    "largeFaceList": ("/largefacelists", "largeFaceListId"),
    "personGroup": ("/persongroups", "personGroupId"),
    "largePersonGroup": ("/largepersongroups", "largePersonGroupId"),
}
_UNAPPROVED = (
    "Feature is not supported, missing approval for one or more of the following features: "
    "Identification, Verification. Register for access by submitting a request: "
    "https://aka.ms/facerecognition"
)


# -- responses ----------------------------------------------------------------------------------


def json_response(
    status: int,
    body: object,
    *,
    operation: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """A JSON answer (compact, UTF-8)."""
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    response = httpx.Response(
        status,
        content=content,
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )
    if operation is not None:
        response.extensions[OPERATION_EXTENSION] = operation
    return response


def empty_response(
    status: int, *, operation: str | None = None, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """An answer without a body (creates, updates, deletes, train)."""
    response = httpx.Response(status, headers=dict(headers or {}))
    if operation is not None:
        response.extensions[OPERATION_EXTENSION] = operation
    return response


def error_response(
    status: int, code: str, message: str, *, operation: str | None = None
) -> httpx.Response:
    """The Face error shape, with ``x-ms-error-code``."""
    return json_response(
        status,
        {"error": {"code": code, "message": message}},
        operation=operation,
        headers={"x-ms-error-code": code},
    )


def _bad(message: str) -> FaceApiError:
    return FaceApiError(400, "BadArgument", message)


def _invalid_body(detail: str = "") -> FaceApiError:
    return _bad("Request body is invalid." + (f" {detail}" if detail else ""))


def _date_time(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- request parsing ----------------------------------------------------------------------------


def _media_type(request: httpx.Request) -> str:
    value: str = request.headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _json_body(request: httpx.Request) -> dict[str, Any]:
    if not _is_json(_media_type(request)):
        raise FaceApiError(415, "BadArgument", "Invalid Media Type.")
    try:
        body = json.loads(request.content)
    except (ValueError, UnicodeDecodeError):
        raise _bad("JSON parsing error.") from None
    if not isinstance(body, dict):
        raise _invalid_body("The body must be a JSON object.")
    return {str(k): v for k, v in body.items()}


def _query_bool(request: httpx.Request, name: str, default: bool) -> bool:
    raw = request.url.params.get(name)
    if raw is None:
        return default
    if raw.lower() in ("true", "false"):
        return bool(raw.lower() == "true")
    raise _bad(f"Argument {name} is invalid: {raw!r} is not true or false.")


def _query_choice(request: httpx.Request, name: str, choices: Sequence[str], default: str) -> str:
    raw = request.url.params.get(name)
    if raw is None:
        return default
    if raw not in choices:
        raise _bad(f"'{name}' is invalid.")
    return str(raw)


def _text(
    body: Mapping[str, Any], name: str, *, maximum: int, required: bool = False
) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _bad(f"'{name}' is empty.")
        return None
    if not isinstance(value, str):
        raise _invalid_body(f"'{name}' must be a string.")
    if name == "name" and not value:
        raise _bad("'name' is empty.")
    if len(value) > maximum:
        raise _bad(f"'{name}' is too long.")
    return value


def _paging(request: httpx.Request) -> tuple[str | None, int]:
    start = request.url.params.get("start")
    if start is not None and len(start) > _START_MAX:
        raise _bad("'start' is too long.")
    raw_top = request.url.params.get("top")
    top = _TOP_MAX
    if raw_top is not None:
        if not re.fullmatch(r"\d{1,7}", raw_top) or not 1 <= int(raw_top) <= _TOP_MAX:
            raise _bad("'top' is invalid.")
        top = int(raw_top)
    return start or None, top


def _uuid(value: object, message: str) -> str:
    if not isinstance(value, str) or not _UUID.match(value):
        raise _bad(message)
    return value


def _face_id_list(value: object, *, minimum: int, maximum: int) -> list[str]:
    if not isinstance(value, list):
        raise _invalid_body("'faceIds' must be an array.")
    if not minimum <= len(value) <= maximum:
        raise _bad(
            "The length of faceIds is not in a valid range. "
            f"The valid range is between [{minimum}, {maximum}]."
        )
    return [_uuid(item, "Face ID is invalid.") for item in value]


def _int_field(body: Mapping[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(f"The argument {name} is not valid. The valid range is between [{low}, {high}].")
    return value


def _number_field(body: Mapping[str, Any], name: str, default: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    valid = isinstance(value, int | float) and not isinstance(value, bool)
    if not valid or not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise _bad(f"The argument {name} is not valid. The valid range is between [0, 1].")
    return float(value)


def _collection_id(kind: ContainerKind, value: str, *, creating: bool = False) -> str:
    if _COLLECTION_ID.match(value):
        return value
    message = f"{KIND_TEXT[kind]} ID is invalid."
    if creating:
        raise _bad(
            f"{message} Valid character is English letter in lower case, digit, '-' or '_'. "
            "Maximum length is 64."
        )
    raise FaceApiError(404, f"{kind[0].upper()}{kind[1:]}NotFound", message)


def _person_id(value: str) -> str:
    if not _UUID.match(value):
        raise FaceApiError(404, "PersonNotFound", "Person ID is invalid.")
    return value


def _persisted_face_id(value: str) -> str:
    if not _UUID.match(value):
        raise FaceApiError(404, "PersistedFaceNotFound", "Persisted face ID is invalid.")
    return value


# -- images -------------------------------------------------------------------------------------


def _sniff(data: bytes) -> bool:
    return data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM"))


def check_image(data: bytes) -> None:
    """The service's size (1 KB..6 MB) and format (JPEG, PNG, GIF, BMP) rules."""
    if len(data) < IMAGE_MIN_BYTES:
        raise FaceApiError(
            400,
            "InvalidImageSize",
            "Image size is too small. The valid image file size should be larger than or "
            "equal to 1 KB.",
        )
    if len(data) > IMAGE_MAX_BYTES:
        raise FaceApiError(
            400,
            "InvalidImageSize",
            "Image size is too big. The valid image file size should be no larger than 6 MB.",
        )
    if not _sniff(data):
        raise FaceApiError(400, "InvalidImage", "Decoding error, image format unsupported.")


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def fetch_image(url: str, *, timeout: float = 10.0) -> bytes:
    """Download an image the way the service does for ``{"url": ...}`` bodies.

    At most 6 MB + 1 byte is read. Loopback URLs are fetched without proxies, so a test's
    local HTTP server works whatever the environment says.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise FaceApiError(400, "InvalidURL", "Invalid image URL.") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FaceApiError(400, "InvalidURL", "Invalid image URL.")
    data = bytearray()
    try:
        with (
            httpx.Client(
                timeout=timeout, follow_redirects=True, trust_env=not _is_loopback(parsed.host)
            ) as client,
            client.stream("GET", parsed) as response,
        ):
            if response.status_code >= 400:
                raise FaceApiError(
                    400,
                    "InvalidURL",
                    "Invalid image URL or error downloading from target server. Remote server "
                    f'error returned: "{response.status_code} {response.reason_phrase}"',
                )
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > IMAGE_MAX_BYTES:
                    break
    except httpx.HTTPError:
        raise FaceApiError(
            400,
            "InvalidURL",
            "Invalid image URL or error downloading from target server. Remote server error "
            'returned: "An error occurred while sending the request."',
        ) from None
    return bytes(data)


# -- face attributes ----------------------------------------------------------------------------

_ENUMS: dict[str, frozenset[str]] = {
    "glasses": frozenset({"noGlasses", "readingGlasses", "sunglasses", "swimmingGoggles"}),
    "qualityForRecognition": frozenset({"low", "medium", "high"}),
    "accessory": frozenset({"headwear", "glasses", "mask"}),
    "mask": frozenset({"faceMask", "noMask", "otherMaskOrOcclusion", "uncertain"}),
    "blurLevel": frozenset({"low", "medium", "high"}),
    "exposureLevel": frozenset({"underExposure", "goodExposure", "overExposure"}),
    "noiseLevel": frozenset({"low", "medium", "high"}),
}


def _is_number(value: object, low: float | None = None, high: float | None = None) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def _object(value: object, keys: set[str]) -> dict[str, object] | None:
    """``value`` when it is a JSON object with exactly ``keys``, else ``None``."""
    if isinstance(value, dict) and set(value) == keys:
        return {str(k): v for k, v in value.items()}
    return None


def _valid_scripted(name: str, value: object) -> bool:
    if name in ("glasses", "qualityForRecognition"):
        return isinstance(value, str) and value in _ENUMS[name]
    if name == "occlusion":
        found = _object(value, {"foreheadOccluded", "eyeOccluded", "mouthOccluded"})
        return found is not None and all(isinstance(v, bool) for v in found.values())
    if name == "accessories":
        if not isinstance(value, list):
            return False
        items = [_object(item, {"type", "confidence"}) for item in value]
        return all(
            item is not None
            and item["type"] in _ENUMS["accessory"]
            and _is_number(item["confidence"], 0, 1)
            for item in items
        )
    if name == "mask":
        found = _object(value, {"noseAndMouthCovered", "type"})
        return (
            found is not None
            and isinstance(found["noseAndMouthCovered"], bool)
            and found["type"] in _ENUMS["mask"]
        )
    if name == "headPose":
        found = _object(value, {"pitch", "roll", "yaw"})
        return found is not None and all(_is_number(v) for v in found.values())
    if name in ("blur", "exposure", "noise"):
        level = f"{name}Level"
        found = _object(value, {level, "value"})
        return (
            found is not None and found[level] in _ENUMS[level] and _is_number(found["value"], 0, 1)
        )
    raise ValueError(f"{name!r} cannot be scripted: only {sorted(MEASURED | UNMEASURABLE)} can")


def validate_scripted_attribute(name: str, value: object) -> None:
    """Raise ``ValueError`` unless ``value`` is a wire value of attribute ``name`` that the
    contract's ``FaceAttributes`` schema accepts."""
    if not _valid_scripted(name, value):
        raise ValueError(f"{value!r} is not a valid wire value of the {name!r} attribute")


def _level(value: float, bounds: tuple[float, float], names: tuple[str, str, str]) -> str:
    if value < bounds[0]:
        return names[0]
    return names[1] if value < bounds[1] else names[2]


def _unit(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 2)


def _measured(name: str, face: EngineFace) -> object:
    if name == "headPose":
        pitch, roll, yaw = face.head_pose
        return {"pitch": round(pitch, 1), "roll": round(roll, 1), "yaw": round(yaw, 1)}
    if name == "blur":
        # Azure's documented bands: low [0, 0.25), medium [0.25, 0.75), high [0.75, 1].
        value = _unit(face.blur)
        return {"blurLevel": _level(value, (0.25, 0.75), ("low", "medium", "high")), "value": value}
    if name == "exposure":
        value = _unit(face.exposure)
        level = _level(value, (0.25, 0.75), ("underExposure", "goodExposure", "overExposure"))
        return {"exposureLevel": level, "value": value}
    if name == "noise":
        value = _unit(face.noise)
        return {"noiseLevel": _level(value, (0.3, 0.7), ("low", "medium", "high")), "value": value}
    return face.quality_for_recognition  # qualityForRecognition


# -- detection options --------------------------------------------------------------------------


@dataclass(frozen=True)
class DetectOptions:
    detection_model: str
    recognition_model: str
    return_face_id: bool
    return_landmarks: bool
    attributes: tuple[str, ...]
    return_recognition_model: bool
    ttl: int


def _attribute_names(
    raw: str | None, detection_model: str, recognition_model: str, scripted: Mapping[str, object]
) -> tuple[str, ...]:
    if raw is None or raw == "":
        return ()
    names: list[str] = []
    for item in raw.split(","):
        token = item.strip()
        name = _BY_LOWER.get(token.lower())
        if name is None or name in RETIRED:
            raise _bad(
                f"Invalid argument returnFaceAttributes: {token!r} is not a supported attribute"
                + (" (emotion and gender recognition are retired)." if name else ".")
            )
        if name in LIMITED:
            # Code chosen: the reference's 403 UnsupportedFeature ("missing approval"), as
            # these limited-access capabilities need an approval the emulator never has.
            raise FaceApiError(
                403,
                "UnsupportedFeature",
                "Feature is not supported, missing approval for one or more of the following "
                f"features: {name}. Age, smile, facial hair and hair are limited-access "
                "capabilities.",
            )
        if name not in names:
            names.append(name)
    if detection_model == "detection_02":
        raise _bad("'returnFaceAttributes' is not supported by detection_02.")
    for name in names:
        if name == "qualityForRecognition":
            if recognition_model not in _QUALITY_MODELS:
                raise _bad(
                    "Invalid argument returnFaceAttributes: qualityForRecognition is only "
                    "available with recognition_03 or recognition_04."
                )
        elif name not in _BY_DETECTION[detection_model]:
            raise _bad(
                f"Invalid argument returnFaceAttributes: {name!r} is not supported by "
                f"{detection_model}."
            )
    for name in names:
        if name in UNMEASURABLE and name not in scripted:
            # Code chosen: not a service situation. 501 (never retried by clients) with a
            # code of its own, so a test sees at once that the emulator, not the call, is
            # the limit.
            raise FaceApiError(
                501,
                "NotSupportedByEmulator",
                f"The faceguard emulator does not invent measurements: its face engine cannot "
                f"measure {name!r}. Script the value your test needs with "
                f"Emulator.script_attribute({name!r}, ...).",
            )
    return tuple(names)


def _detect_options(request: httpx.Request, scripted: Mapping[str, object]) -> DetectOptions:
    detection = _query_choice(request, "detectionModel", DETECTION_MODELS, "detection_01")
    recognition = _query_choice(request, "recognitionModel", RECOGNITION_MODELS, "recognition_01")
    return_face_id = _query_bool(request, "returnFaceId", True)
    landmarks = _query_bool(request, "returnFaceLandmarks", False)
    if landmarks and detection == "detection_02":
        raise _bad("'returnLandmarks' is not supported by detection_02.")
    raw_ttl = request.url.params.get("faceIdTimeToLive")
    ttl = FACE_ID_TTL[1]
    if raw_ttl is not None:
        low, high = FACE_ID_TTL
        if not re.fullmatch(r"\d{1,6}", raw_ttl) or not low <= int(raw_ttl) <= high:
            raise _bad(
                f"Argument faceIdTimeToLive is invalid. The valid range is between [{low}, {high}]."
            )
        ttl = int(raw_ttl)
    attributes = _attribute_names(
        request.url.params.get("returnFaceAttributes"), detection, recognition, scripted
    )
    return DetectOptions(
        detection_model=detection,
        recognition_model=recognition,
        return_face_id=return_face_id,
        return_landmarks=landmarks,
        attributes=attributes,
        return_recognition_model=_query_bool(request, "returnRecognitionModel", False),
        ttl=ttl,
    )


def _target_face(request: httpx.Request) -> tuple[int, int, int, int] | None:
    raw = request.url.params.get("targetFace")
    if raw is None:
        return None
    parts = raw.split(",")
    if len(parts) != 4 or not all(re.fullmatch(r"\d{1,9}", p.strip()) for p in parts):
        raise _bad("Invalid argument targetFace.")
    left, top, width, height = (int(p) for p in parts)
    if width == 0 or height == 0:
        raise _bad("Invalid argument targetFace.")
    return left, top, width, height


# -- the handlers -------------------------------------------------------------------------------


def _family(kind: ContainerKind) -> str:
    return "PersonGroupOperations" if kind in PERSON_KINDS else "FaceListOperations"


def _op(kind: ContainerKind, verb: str, suffix: str = "") -> str:
    return f"{_family(kind)}_{verb}{kind[0].upper()}{kind[1:]}{suffix}"


_GALLERY_MIN = 64
"""Identify scores snapshots of fewer entries the reference way (``FaceRoutes._ranked``)."""
_GALLERIES_KEPT = 4
"""Embedding matrices kept (one per container, most recently used)."""
_COSINE_MARGIN = 1e-3
_EMBEDDING_BYTES = 128 * 4


@dataclass(frozen=True)
class _Gallery:
    """A trained snapshot's embeddings as one float32 matrix of unit rows."""

    entries: tuple[TrainedEntry, ...]
    matrix: NDArray[np.float32]
    rows: list[int]
    """For each scored entry (those with embeddings), its index in ``entries``."""
    starts: NDArray[np.intp] | None
    """Each scored entry's first row in ``matrix``; ``None`` when every entry has one."""

    @classmethod
    def build(cls, entries: tuple[TrainedEntry, ...]) -> _Gallery | None:
        """``None`` when an embedding is not 128 float32 values (scored the reference way)."""
        import numpy as np

        rows = [i for i, entry in enumerate(entries) if entry.embeddings]
        blobs = [blob for i in rows for blob in entries[i].embeddings]
        if not rows or set(map(len, blobs)) != {_EMBEDDING_BYTES}:
            return None
        matrix = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1)
        wide = matrix.astype(np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", wide, wide))
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0.0)
        unit = (wide * inverse[:, None]).astype(np.float32)
        starts = None
        if len(blobs) != len(rows):  # some entry has several faces
            counts = [len(entries[i].embeddings) for i in rows]
            starts = np.cumsum([0, *counts[:-1]]).astype(np.intp)
        return cls(entries, unit, rows, starts)


class FaceRoutes:
    """The Face handlers of one emulator.

    Args:
        store: the service state.
        engine: returns the face engine (built lazily by the emulator).
        fetch: downloads an image URL (``fetch_image`` by default).
        session_image: the bytes of a liveness session image, or ``None``.
        scripted: attribute values scripted by tests, by wire name (read on every detect).
        stale_training: what identify / find-similar do with a container changed since its
            last training: ``"snapshot"`` (the service's behaviour: search what was trained)
            or ``"error"`` (answer ``XNotTrained``).
        approved: whether the resource is approved for identification and verification.
    """

    def __init__(
        self,
        *,
        store: FaceStore,
        engine: Callable[[], FaceEngine],
        fetch: Callable[[str], bytes],
        session_image: Callable[[str], bytes | None],
        scripted: Mapping[str, object],
        stale_training: Literal["snapshot", "error"] = "snapshot",
        approved: Callable[[], bool] = lambda: True,
    ) -> None:
        self.store = store
        self._engine = engine
        self._fetch = fetch
        self._session_image = session_image
        self._scripted = scripted
        self._stale = stale_training
        self._approved = approved
        self._galleries: OrderedDict[tuple[ContainerKind, str], _Gallery] = OrderedDict()
        self._galleries_lock = threading.Lock()

    # -- the table ---------------------------------------------------------------------------

    def routes(self) -> list[tuple[str, str, Handler]]:
        """Every Face route (method, template under ``/face/v1.2``, handler)."""
        table: list[tuple[str, str, Handler]] = [
            ("POST", "/detect", self.detect),
            ("POST", "/verify", self.verify),
            ("POST", "/identify", self.identify),
            ("POST", "/findsimilars", self.find_similar),
            ("POST", "/group", self.group),
        ]
        for kind, (collection, id_param) in _ROUTE.items():
            item = f"{collection}/{{{id_param}}}"
            table += [
                ("GET", collection, self._bind(self.list_containers, kind)),
                ("PUT", item, self._bind(self.create_container, kind)),
                ("GET", item, self._bind(self.get_container, kind)),
                ("PATCH", item, self._bind(self.update_container, kind)),
                ("DELETE", item, self._bind(self.delete_container, kind)),
            ]
            if kind in PERSON_KINDS:
                person = f"{item}/persons/{{personId}}"
                face = f"{person}/persistedfaces/{{persistedFaceId}}"
                table += [
                    ("POST", f"{item}/persons", self._bind(self.create_person, kind)),
                    ("GET", f"{item}/persons", self._bind(self.list_persons, kind)),
                    ("GET", person, self._bind(self.get_person, kind)),
                    ("PATCH", person, self._bind(self.update_person, kind)),
                    ("DELETE", person, self._bind(self.delete_person, kind)),
                    ("POST", f"{person}/persistedfaces", self._bind(self.add_face, kind)),
                    ("GET", face, self._bind(self.get_face, kind)),
                    ("PATCH", face, self._bind(self.update_face, kind)),
                    ("DELETE", face, self._bind(self.delete_face, kind)),
                ]
            else:
                face = f"{item}/persistedfaces/{{persistedFaceId}}"
                table += [
                    ("POST", f"{item}/persistedfaces", self._bind(self.add_face, kind)),
                    ("DELETE", face, self._bind(self.delete_face, kind)),
                ]
                if kind == "largeFaceList":
                    table += [
                        ("GET", f"{item}/persistedfaces", self._bind(self.list_faces, kind)),
                        ("GET", face, self._bind(self.get_face, kind)),
                        ("PATCH", face, self._bind(self.update_face, kind)),
                    ]
            if kind != "faceList":
                table += [
                    ("POST", f"{item}/train", self._bind(self.train, kind)),
                    ("GET", f"{item}/training", self._bind(self.training_status, kind)),
                ]
        return [(method, FACE_BASE + route, handler) for method, route, handler in table]

    @staticmethod
    def _bind(
        method: Callable[[ContainerKind, httpx.Request, Mapping[str, str]], httpx.Response],
        kind: ContainerKind,
    ) -> Handler:
        def handler(request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
            return method(kind, request, params)

        return handler

    # -- shared pieces -----------------------------------------------------------------------

    def _require_approval(self) -> None:
        if not self._approved():
            raise FaceApiError(403, "UnsupportedFeature", _UNAPPROVED)

    def _faces_in(self, image: bytes) -> list[EngineFace]:
        check_image(image)
        engine = self._engine()
        try:
            faces = engine.detect(image)
        except EngineImageError as exc:
            raise FaceApiError(400, exc.code, str(exc)) from None
        return list(faces[:MAX_FACES])

    def _image_of(self, request: httpx.Request, operation: str) -> tuple[bytes, str]:
        """The image of a detect / add-face call and the overload it selects: bytes, or a
        JSON body with ``url`` (``...FromUrl``)."""
        media = _media_type(request)
        if media == "application/octet-stream":
            return request.content, operation
        if not _is_json(media):
            raise FaceApiError(415, "BadArgument", "Invalid Media Type.")
        body = _json_body(request)
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise _invalid_body("'url' is required.")
        image = self._fetch(url)
        return image, operation + "FromUrl"

    def _live_faces(self, face_ids: Sequence[str], status: int) -> list[DetectedFace]:
        faces: list[DetectedFace] = []
        for face_id in face_ids:
            found = self.store.face(face_id)
            if found is None:
                raise FaceApiError(
                    status,
                    "FaceNotFound",
                    f"Face is not found: faceId {face_id} is unknown or has expired "
                    "(faceIds live for the faceIdTimeToLive given at detection).",
                )
            faces.append(found)
        return faces

    @staticmethod
    def _one_model(faces: Sequence[DetectedFace], target: str | None = None) -> str:
        models = sorted({f.recognition_model for f in faces})
        if len(models) > 1:
            raise _bad(
                "'recognitionModel' is incompatible: the faceIds were detected with different "
                f"recognition models ({', '.join(models)}); compare faces of one model."
            )
        if target is not None and models and models[0] != target:
            raise _bad(
                f"'recognitionModel' is incompatible: the faceIds were detected with "
                f"{models[0]} but the target uses {target}; detect with "
                f"recognitionModel={target}."
            )
        return models[0] if models else (target or "")

    def _confidence(self, a: bytes, b: bytes) -> float:
        value = float(self._engine().confidence(a, b))
        return round(min(1.0, max(0.0, value)), 5)

    def _best(self, probe: bytes, embeddings: Sequence[bytes]) -> float:
        return max((self._confidence(probe, e) for e in embeddings), default=0.0)

    def _ranked(
        self, probe: bytes, entries: Sequence[TrainedEntry], threshold: float, top: int
    ) -> list[tuple[float, str]]:
        """Identify's candidates, the reference way: every entry scored by the engine, those
        at or above ``threshold`` ranked by (confidence desc, id), the first ``top``."""
        scored = [(self._best(probe, e.embeddings), e.owner_id) for e in entries if e.embeddings]
        return sorted((s for s in scored if s[0] >= threshold), key=lambda s: (-s[0], s[1]))[:top]

    def _gallery(
        self, kind: ContainerKind, container_id: str, entries: tuple[TrainedEntry, ...]
    ) -> _Gallery | None:
        """The snapshot as one matrix, for ``_ranked_by_cosine``; ``None`` to score the
        reference way (small snapshots, or an engine whose confidence is not known to rise
        with the cosine of the embeddings: only ``OpenCVEngine``'s is, ENGINE.md section 5).
        Cached per container while ``FaceStore.trained`` hands out the same snapshot."""
        if len(entries) < _GALLERY_MIN:
            return None
        key = (kind, container_id)
        with self._galleries_lock:
            cached = self._galleries.get(key)
            if cached is not None and cached.entries is entries:
                self._galleries.move_to_end(key)
                return cached
        from ._engine import OpenCVEngine  # no OpenCV import: only the module's classes

        try:
            engine = self._engine()
        except ImportError:  # EngineUnavailable: the reference way reports it if it must
            return None
        if not isinstance(engine, OpenCVEngine):
            return None
        gallery = _Gallery.build(entries)
        if gallery is None:
            return None
        with self._galleries_lock:
            self._galleries[key] = gallery
            self._galleries.move_to_end(key)
            while len(self._galleries) > _GALLERIES_KEPT:
                self._galleries.popitem(last=False)
        return gallery

    def _ranked_by_cosine(
        self, probe: bytes, gallery: _Gallery, threshold: float, top: int
    ) -> list[tuple[float, str]]:
        """The same answer as ``_ranked``, scoring only the entries that can be in it.

        One matrix-vector product gives every entry's best cosine with the probe (float32).
        The engine's confidence rises with the cosine (and its rounding keeps the order), so
        entries are walked from the highest cosine down and scored exactly as ``_ranked``
        does. The walk stops below an entry that proved nothing further can qualify: its
        confidence is under ``threshold``, or under the ``top``-th best found so far; entries
        within ``_COSINE_MARGIN`` of its cosine (far above float32 error) are still scored.
        """
        import numpy as np

        if len(probe) != _EMBEDDING_BYTES:
            return self._ranked(probe, gallery.entries, threshold, top)
        vector = np.frombuffer(probe, dtype="<f4").astype(np.float64)
        norm = float(np.linalg.norm(vector))
        unit = (vector / norm if norm > 0.0 else vector).astype(np.float32)
        cosines = gallery.matrix @ unit
        if gallery.starts is not None:
            cosines = np.maximum.reduceat(cosines, gallery.starts)
        first = min(len(cosines), max(4 * top, 64))
        head = np.argpartition(-cosines, first - 1)[:first] if first < len(cosines) else None
        if head is None:
            orders = [np.argsort(-cosines, kind="stable")]
        else:
            orders = [head[np.argsort(-cosines[head], kind="stable")]]
        accepted: list[tuple[float, str]] = []
        best: list[float] = []  # a min-heap of the ``top`` best confidences found
        walked = np.zeros(len(cosines), dtype=bool)
        stop_below: float | None = None
        while orders:
            for index in orders.pop().tolist():
                if walked[index]:
                    continue
                cosine = float(cosines[index])
                if stop_below is not None and cosine < stop_below:
                    return sorted(accepted, key=lambda s: (-s[0], s[1]))[:top]
                walked[index] = True
                entry = gallery.entries[gallery.rows[index]]
                score = self._best(probe, entry.embeddings)
                full = len(best) >= top
                if stop_below is None and (score < threshold or (full and score < best[0])):
                    stop_below = cosine - _COSINE_MARGIN
                if score >= threshold:
                    accepted.append((score, entry.owner_id))
                    if not full:
                        heapq.heappush(best, score)
                    elif score > best[0]:
                        heapq.heapreplace(best, score)
            if head is not None:
                orders.append(np.argsort(-cosines, kind="stable"))
                head = None
        return sorted(accepted, key=lambda s: (-s[0], s[1]))[:top]

    # -- detection ---------------------------------------------------------------------------

    def detect(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        """``FaceDetectionOperations_Detect`` / ``...DetectFromUrl`` /
        ``...DetectFromSessionImageId`` (one URL, told apart by the body)."""
        operation = "FaceDetectionOperations_Detect"
        try:
            body: dict[str, Any] = {}
            if _is_json(_media_type(request)):
                body = _json_body(request)
                if "sessionImageId" in body:
                    operation = "FaceDetectionOperations_DetectFromSessionImageId"
                elif "url" in body:
                    operation = "FaceDetectionOperations_DetectFromUrl"
                else:
                    raise _invalid_body("Give 'url' or 'sessionImageId'.")
            options = _detect_options(request, self._scripted)
            if options.return_face_id:
                self._require_approval()
            if operation.endswith("SessionImageId"):
                image_id = body.get("sessionImageId")
                if not isinstance(image_id, str) or not image_id:
                    raise _invalid_body("'sessionImageId' must be a non-empty string.")
                found = self._session_image(image_id)
                if found is None:
                    # Code chosen: the reference lists none; the liveness module's code.
                    raise FaceApiError(404, "SessionImageNotFound", "Session image is not found.")
                image = found
            else:
                image, operation = self._image_of(request, "FaceDetectionOperations_Detect")
            faces = self._faces_in(image)
            result = [self._detected(face, options) for face in faces]
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(200, result, operation=operation)

    def _detected(self, face: EngineFace, options: DetectOptions) -> dict[str, object]:
        item: dict[str, object] = {}
        if options.return_face_id:
            issued = self.store.issue_face_id(
                face.embedding,
                detection_model=options.detection_model,
                recognition_model=options.recognition_model,
                ttl=options.ttl,
            )
            item["faceId"] = issued.face_id
            if options.return_recognition_model:
                item["recognitionModel"] = options.recognition_model
        item["faceRectangle"] = {
            "top": int(face.top),
            "left": int(face.left),
            "width": int(face.width),
            "height": int(face.height),
        }
        if options.return_landmarks:
            item["faceLandmarks"] = {
                name: {
                    "x": round(float(face.landmarks27[name][0]), 1),
                    "y": round(float(face.landmarks27[name][1]), 1),
                }
                for name in LANDMARK_NAMES
            }
        if options.attributes:
            scripted = dict(self._scripted)
            item["faceAttributes"] = {
                name: scripted[name] if name in scripted else _measured(name, face)
                for name in options.attributes
            }
        return item

    # -- recognition -------------------------------------------------------------------------

    def verify(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        """``FaceRecognitionOperations_Verify*`` (face to face, or to a person)."""
        operation = "FaceRecognitionOperations_VerifyFaceToFace"
        try:
            body = _json_body(request)
            if "faceId1" in body or "faceId2" in body:
                ids = [
                    _uuid(body.get("faceId1"), "Face ID is invalid."),
                    _uuid(body.get("faceId2"), "Face ID is invalid."),
                ]
                self._require_approval()
                first, second = self._live_faces(ids, 404)
                self._one_model([first, second])
                confidence = self._confidence(first.embedding, second.embedding)
            else:
                kind: ContainerKind | None = None
                if "personGroupId" in body:
                    kind, operation = (
                        "personGroup",
                        "FaceRecognitionOperations_VerifyFromPersonGroup",
                    )
                elif "largePersonGroupId" in body:
                    kind = "largePersonGroup"
                    operation = "FaceRecognitionOperations_VerifyFromLargePersonGroup"
                else:
                    operation = "FaceRecognitionOperations_VerifyFromPersonDirectory"
                face_id = _uuid(body.get("faceId"), "Face ID is invalid.")
                person_id = _uuid(body.get("personId"), "Person ID is invalid.")
                self._require_approval()
                (face,) = self._live_faces([face_id], 404)
                if kind is None:
                    # Person Directory persons cannot be created in v1.2 GA: none exists.
                    raise FaceApiError(404, "PersonNotFound", "Person is not found.")
                container_id = body.get(_ROUTE[kind][1])
                if not isinstance(container_id, str) or not _COLLECTION_ID.match(container_id):
                    raise _bad(f"{KIND_TEXT[kind]} ID is invalid.")
                container = self.store.container(kind, container_id, status=400)
                self._one_model([face], container.recognition_model)
                person = self.store.person(kind, container_id, person_id)
                embeddings = [f.embedding for f in person.faces.values()]
                if not embeddings:
                    raise FaceApiError(
                        404, "PersistedFaceNotFound", "No persisted face of the person is found."
                    )
                confidence = self._best(face.embedding, embeddings)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(
            200,
            {"isIdentical": confidence >= SAME_PERSON, "confidence": confidence},
            operation=operation,
        )

    def identify(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        """``FaceRecognitionOperations_Identify*``: ranked candidates per face."""
        operation = "FaceRecognitionOperations_IdentifyFromPersonGroup"
        try:
            body = _json_body(request)
            scopes = [
                name
                for name in (
                    "personGroupId",
                    "largePersonGroupId",
                    "personIds",
                    "dynamicPersonGroupId",
                )
                if body.get(name) is not None
            ]
            operation = {
                "largePersonGroupId": "FaceRecognitionOperations_IdentifyFromLargePersonGroup",
                "personIds": "FaceRecognitionOperations_IdentifyFromPersonDirectory",
                "dynamicPersonGroupId": "FaceRecognitionOperations_IdentifyFromDynamicPersonGroup",
            }.get(scopes[0] if scopes else "", operation)
            if scopes[:2] == ["personGroupId", "largePersonGroupId"] and len(scopes) == 2:
                raise FaceApiError(
                    400,
                    "PersonGroupIdAndLargePersonGroupIdBothNotNull",
                    "Large person group ID and person group ID are both not null.",
                )
            if not scopes:
                raise FaceApiError(
                    400,
                    "MissingIdentificationScopeParameters",
                    "No identification scope parameter is present in the request.",
                )
            if len(scopes) > 1:
                raise FaceApiError(
                    400,
                    "IncompatibleIdentificationScopeParametersCombination",
                    "Incompatible identification scope parameters are present in the request.",
                )
            face_ids = _face_id_list(body.get("faceIds"), minimum=1, maximum=10)
            top = _int_field(body, "maxNumOfCandidatesReturned", 1, 100, 10)
            threshold = _number_field(body, "confidenceThreshold", SAME_PERSON)
            self._require_approval()
            faces = self._live_faces(face_ids, 400)
            self._one_model(faces)
            scope = scopes[0]
            if scope == "dynamicPersonGroupId":
                # Dynamic person groups cannot be created in v1.2 GA: none exists.
                raise FaceApiError(
                    400, "DynamicPersonGroupNotFound", "Dynamic person group is not found."
                )
            if scope == "personIds":
                person_ids = body["personIds"]
                if person_ids != ["*"]:
                    # Person Directory persons cannot be created in v1.2 GA: none exists.
                    raise FaceApiError(404, "PersonNotFound", "Person is not found.")
                unmatched = [{"faceId": fid, "candidates": []} for fid in face_ids]
                return json_response(200, unmatched, operation=operation)
            kind: ContainerKind = "personGroup" if scope == "personGroupId" else "largePersonGroup"
            container_id = body[scope]
            if not isinstance(container_id, str) or not _COLLECTION_ID.match(container_id):
                raise _bad(f"{KIND_TEXT[kind]} ID is invalid.")
            model, entries = self.store.trained(kind, container_id, stale=self._stale)
            self._one_model(faces, model)
            gallery = self._gallery(kind, container_id, entries)
            results: list[dict[str, object]] = []
            for face_id, face in zip(face_ids, faces, strict=True):
                if gallery is None:
                    ranked = self._ranked(face.embedding, entries, threshold, top)
                else:
                    ranked = self._ranked_by_cosine(face.embedding, gallery, threshold, top)
                results.append(
                    {
                        "faceId": face_id,
                        "candidates": [{"personId": pid, "confidence": c} for c, pid in ranked],
                    }
                )
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(200, results, operation=operation)

    def find_similar(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        """``FaceRecognitionOperations_FindSimilar*``: ``matchPerson`` keeps the candidates
        that pass the same-person threshold, ``matchFace`` ranks all by similarity."""
        operation = "FaceRecognitionOperations_FindSimilar"
        try:
            body = _json_body(request)
            targets = [
                n for n in ("faceIds", "faceListId", "largeFaceListId") if body.get(n) is not None
            ]
            if len(targets) == 1 and targets[0] != "faceIds":
                operation += "From" + (
                    "FaceList" if targets[0] == "faceListId" else "LargeFaceList"
                )
            if not targets:
                raise _bad("LargeFaceListId, faceListId and faceIds are all null.")
            if len(targets) > 1:
                raise _bad("2 or more of largeFaceListId, faceListId and faceIds are not null.")
            face_id = _uuid(body.get("faceId"), "Face ID is invalid.")
            top = _int_field(body, "maxNumOfCandidatesReturned", 1, 1000, 20)
            mode = body.get("mode", "matchPerson")
            if mode not in ("matchPerson", "matchFace"):
                raise _bad("Mode is invalid.")
            self._require_approval()
            (probe,) = self._live_faces([face_id], 400)
            key = "persistedFaceId"
            pool: list[tuple[str, bytes]]
            if targets[0] == "faceIds":
                ids = _face_id_list(body["faceIds"], minimum=1, maximum=1000)
                candidates = self._live_faces(ids, 400)
                self._one_model([probe, *candidates])
                pool = [(c.face_id, c.embedding) for c in candidates]
                key = "faceId"
            elif targets[0] == "faceListId":
                container_id = body["faceListId"]
                if not isinstance(container_id, str) or not _COLLECTION_ID.match(container_id):
                    raise _bad("Face list ID is invalid.")
                model, faces = self.store.live_faces("faceList", container_id)
                self._one_model([probe], model)
                if not faces:
                    raise FaceApiError(400, "FaceListNotReady", "Face list is empty.")
                pool = [(f.persisted_face_id, f.embedding) for f in faces]
            else:
                container_id = body["largeFaceListId"]
                if not isinstance(container_id, str) or not _COLLECTION_ID.match(container_id):
                    raise _bad("Large face list ID is invalid.")
                model, entries = self.store.trained(
                    "largeFaceList", container_id, stale=self._stale
                )
                self._one_model([probe], model)
                pool = [(e.owner_id, e.embeddings[0]) for e in entries if e.embeddings]
            scored = [(self._confidence(probe.embedding, emb), cid) for cid, emb in pool]
            if mode == "matchPerson":
                scored = [s for s in scored if s[0] >= SAME_PERSON]
            ranked = sorted(scored, key=lambda s: (-s[0], s[1]))[:top]
            result = [{key: cid, "confidence": c} for c, cid in ranked]
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(200, result, operation=operation)

    def group(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        """``FaceRecognitionOperations_Group``: connected components of the same-person graph
        (confidence >= 0.5); faces with no match go to ``messyGroup``."""
        operation = "FaceRecognitionOperations_Group"
        try:
            body = _json_body(request)
            face_ids = list(
                dict.fromkeys(_face_id_list(body.get("faceIds"), minimum=2, maximum=1000))
            )
            self._require_approval()
            faces = self._live_faces(face_ids, 400)
            self._one_model(faces)
            parent = list(range(len(faces)))

            def root(i: int) -> int:
                while parent[i] != i:
                    parent[i] = parent[parent[i]]
                    i = parent[i]
                return i

            for i in range(len(faces)):
                for j in range(i + 1, len(faces)):
                    if (
                        root(i) != root(j)
                        and self._confidence(faces[i].embedding, faces[j].embedding) >= SAME_PERSON
                    ):
                        parent[root(j)] = root(i)
            members: dict[int, list[str]] = {}
            for index, face_id in enumerate(face_ids):
                members.setdefault(root(index), []).append(face_id)
            groups = sorted((m for m in members.values() if len(m) > 1), key=len, reverse=True)
            messy = [m[0] for m in members.values() if len(m) == 1]
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(200, {"groups": groups, "messyGroup": messy}, operation=operation)

    # -- containers --------------------------------------------------------------------------

    @staticmethod
    def _container_json(
        kind: ContainerKind, container_id: str, name: str, user_data: str | None, model: str | None
    ) -> dict[str, object]:
        item: dict[str, object] = {_ROUTE[kind][1]: container_id, "name": name}
        if user_data is not None:
            item["userData"] = user_data
        if model is not None:
            item["recognitionModel"] = model
        return item

    def create_container(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Create")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]], creating=True)
            body = _json_body(request)
            name = _text(body, "name", maximum=_NAME_MAX, required=True)
            user_data = _text(body, "userData", maximum=_USER_DATA_MAX)
            model = body.get("recognitionModel", "recognition_01")
            if model not in RECOGNITION_MODELS:
                raise _bad("'recognitionModel' is invalid.")
            assert name is not None
            self.store.create_container(
                kind, container_id, name=name, user_data=user_data, recognition_model=model
            )
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return empty_response(200, operation=operation)

    def get_container(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Get")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            with_model = _query_bool(request, "returnRecognitionModel", False)
            found = self.store.container(kind, container_id)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        item = self._container_json(
            kind,
            found.container_id,
            found.name,
            found.user_data,
            found.recognition_model if with_model else None,
        )
        if kind == "faceList":
            item["persistedFaces"] = [self._face_json(f) for f in found.faces.values()]
        return json_response(200, item, operation=operation)

    def list_containers(
        self, kind: ContainerKind, request: httpx.Request, _params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Get", "s")
        try:
            with_model = _query_bool(request, "returnRecognitionModel", False)
            # Face lists are not paged (the contract declares no start/top for them).
            start, top = (None, 10**9) if kind == "faceList" else _paging(request)
            found = self.store.containers(kind, start=start, top=top)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        items = [
            self._container_json(
                kind,
                c.container_id,
                c.name,
                c.user_data,
                c.recognition_model if with_model else None,
            )
            for c in found
        ]
        return json_response(200, items, operation=operation)

    def update_container(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Update")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            name, user_data = self._update_fields(request)
            self.store.update_container(kind, container_id, name=name, user_data=user_data)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return empty_response(200, operation=operation)

    @staticmethod
    def _update_fields(request: httpx.Request) -> tuple[str | None, str | None]:
        body = _json_body(request)
        name = _text(body, "name", maximum=_NAME_MAX)
        user_data = _text(body, "userData", maximum=_USER_DATA_MAX)
        if name is None and user_data is None:
            raise _bad("Both 'name' and 'userData' are empty.")
        return name, user_data

    def delete_container(
        self, kind: ContainerKind, _request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Delete")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            self.store.delete_container(kind, container_id)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return empty_response(200, operation=operation)

    # -- training ----------------------------------------------------------------------------

    def train(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Train")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            self.store.start_training(kind, container_id)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        location = f"{origin}{FACE_BASE}{_ROUTE[kind][0]}/{container_id}/training"
        return empty_response(202, operation=operation, headers={"operation-Location": location})

    def training_status(
        self, kind: ContainerKind, _request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Get", "TrainingStatus")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            container, training = self.store.training(kind, container_id)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(
            200, self._training_json(container.created_at, training), operation=operation
        )

    @staticmethod
    def _training_json(created_at: float, training: Training) -> dict[str, object]:
        result: dict[str, object] = {
            "status": training.status,
            "createdDateTime": _date_time(created_at),
            "lastActionDateTime": _date_time(training.last_action_at),
            # Required by the contract, yet there is no such time before a first success;
            # null then, as the contract documents for lastActionDateTime ("could be null
            # value when the group is not successfully trained").
            "lastSuccessfulTrainingDateTime": (
                None if training.last_success_at is None else _date_time(training.last_success_at)
            ),
        }
        if training.status == "failed" and training.message:
            result["message"] = training.message
        return result

    # -- persons -----------------------------------------------------------------------------

    @staticmethod
    def _person_json(person: Person) -> dict[str, object]:
        item: dict[str, object] = {"personId": person.person_id, "name": person.name}
        if person.user_data is not None:
            item["userData"] = person.user_data
        item["persistedFaceIds"] = list(person.faces)
        return item

    def create_person(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Create", "Person")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            body = _json_body(request)
            name = _text(body, "name", maximum=_NAME_MAX, required=True)
            user_data = _text(body, "userData", maximum=_USER_DATA_MAX)
            assert name is not None
            person_id = self.store.create_person(kind, container_id, name=name, user_data=user_data)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(200, {"personId": person_id}, operation=operation)

    def get_person(
        self, kind: ContainerKind, _request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Get", "Person")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            person = self.store.person(kind, container_id, _person_id(params["personId"]))
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(200, self._person_json(person), operation=operation)

    def list_persons(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Get", "Persons")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            start, top = _paging(request)
            persons = self.store.persons(kind, container_id, start=start, top=top)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(200, [self._person_json(p) for p in persons], operation=operation)

    def update_person(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Update", "Person")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            person_id = _person_id(params["personId"])
            name, user_data = self._update_fields(request)
            self.store.update_person(kind, container_id, person_id, name=name, user_data=user_data)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return empty_response(200, operation=operation)

    def delete_person(
        self, kind: ContainerKind, _request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Delete", "Person")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            self.store.delete_person(kind, container_id, _person_id(params["personId"]))
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return empty_response(200, operation=operation)

    # -- persisted faces ---------------------------------------------------------------------

    @staticmethod
    def _face_json(face: PersistedFace) -> dict[str, object]:
        item: dict[str, object] = {"persistedFaceId": face.persisted_face_id}
        if face.user_data is not None:
            item["userData"] = face.user_data
        return item

    @staticmethod
    def _face_suffix(kind: ContainerKind) -> str:
        return "PersonFace" if kind in PERSON_KINDS else "Face"

    def add_face(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        """Add a face from bytes or ``{"url"}``: exactly one face in the image (or in
        ``targetFace``), else ``InvalidImage``."""
        operation = _op(kind, "Add", self._face_suffix(kind))
        if _is_json(_media_type(request)):
            operation += "FromUrl"
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            person_id = _person_id(params["personId"]) if kind in PERSON_KINDS else None
            target = _target_face(request)
            detection = _query_choice(request, "detectionModel", DETECTION_MODELS, "detection_01")
            user_data = request.url.params.get("userData")
            if user_data is not None and len(user_data) > _FACE_USER_DATA_MAX:
                raise _bad("'userData' is too long.")
            # The container (and person) must exist before the image is even looked at.
            if person_id is not None:
                self.store.person(kind, container_id, person_id)
            else:
                self.store.container(kind, container_id)
            image, operation = self._image_of(request, _op(kind, "Add", self._face_suffix(kind)))
            face = self._single_face(self._faces_in(image), target)
            persisted = self.store.add_face(
                kind,
                container_id,
                person_id,
                embedding=face.embedding,
                detection_model=detection,
                user_data=user_data,
            )
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(200, {"persistedFaceId": persisted}, operation=operation)

    @staticmethod
    def _single_face(
        faces: Sequence[EngineFace], target: tuple[int, int, int, int] | None
    ) -> EngineFace:
        if target is not None:
            left, top, width, height = target
            faces = [
                f
                for f in faces
                if left <= f.left + f.width / 2 <= left + width
                and top <= f.top + f.height / 2 <= top + height
            ]
            where = " within targetFace"
        else:
            where = ""
        if not faces:
            raise FaceApiError(400, "InvalidImage", f"No face detected in the image{where}.")
        if len(faces) > 1:
            raise FaceApiError(
                400, "InvalidImage", f"There is more than 1 face in the image{where}."
            )
        return faces[0]

    def _face_target(
        self, kind: ContainerKind, params: Mapping[str, str]
    ) -> tuple[str, str | None, str]:
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        person_id = _person_id(params["personId"]) if kind in PERSON_KINDS else None
        return container_id, person_id, _persisted_face_id(params["persistedFaceId"])

    def get_face(
        self, kind: ContainerKind, _request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Get", self._face_suffix(kind))
        try:
            container_id, person_id, face_id = self._face_target(kind, params)
            face = self.store.persisted_face(kind, container_id, person_id, face_id)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(200, self._face_json(face), operation=operation)

    def list_faces(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Get", "Faces")
        try:
            container_id = _collection_id(kind, params[_ROUTE[kind][1]])
            start, top = _paging(request)
            faces = self.store.persisted_faces(kind, container_id, start=start, top=top)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return json_response(200, [self._face_json(f) for f in faces], operation=operation)

    def update_face(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Update", self._face_suffix(kind))
        try:
            container_id, person_id, face_id = self._face_target(kind, params)
            body = _json_body(request)
            user_data = _text(body, "userData", maximum=_FACE_USER_DATA_MAX)
            self.store.update_face(kind, container_id, person_id, face_id, user_data=user_data)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return empty_response(200, operation=operation)

    def delete_face(
        self, kind: ContainerKind, _request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = _op(kind, "Delete", self._face_suffix(kind))
        try:
            container_id, person_id, face_id = self._face_target(kind, params)
            self.store.delete_face(kind, container_id, person_id, face_id)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message, operation=operation)
        return empty_response(200, operation=operation)
