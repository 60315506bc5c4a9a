"""What every Face handler of the emulator shares: the wire answers (re-exported from
``_wire``), request parsing and validation (JSON bodies through ``_wire.read_json``, query
parameters, ids, paging), taking in images (the service's size and format rules,
``fetch_image``), and ``FaceHandlersBase``, the state and shared steps (approval,
detecting the faces of an image, looking up live faceIds) that the detection, recognition
and container handlers all build on. It exists so those three modules depend on one small
foundation instead of on each other.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import httpx

from .._engine_api import EngineFace, EngineImageError, FaceEngine
from .._wire import (
    OPERATION_EXTENSION,
    FaceApiError,
    Handler,
    empty_response,
    error_response,
    json_response,
    media_type,
    read_json,
    serves,
)
from .models import KIND_TEXT, ContainerKind, DetectedFace
from .store import FaceStore

__all__ = [
    "DETECTION_MODELS",
    "FACE_BASE",
    "IMAGE_MAX_BYTES",
    "IMAGE_MIN_BYTES",
    "MAX_FACES",
    "OPERATION_EXTENSION",
    "RECOGNITION_MODELS",
    "FaceHandlersBase",
    "Handler",
    "serves",
    "check_image",
    "empty_response",
    "error_response",
    "fetch_image",
    "json_response",
]

FACE_BASE = "/face/v1.2"

DETECTION_MODELS = ("detection_01", "detection_02", "detection_03")
RECOGNITION_MODELS = ("recognition_01", "recognition_02", "recognition_03", "recognition_04")
IMAGE_MIN_BYTES = 1024
IMAGE_MAX_BYTES = 6 * 1024 * 1024
MAX_FACES = 100

_COLLECTION_ID = re.compile(r"^[a-z0-9\-_]{1,64}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
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


def _bad(message: str) -> FaceApiError:
    return FaceApiError(400, "BadArgument", message)


def _invalid_body(detail: str = "") -> FaceApiError:
    return _bad("Request body is invalid." + (f" {detail}" if detail else ""))


# -- request parsing ----------------------------------------------------------------------------


_media_type = media_type


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _json_body(request: httpx.Request) -> dict[str, Any]:
    if not _is_json(_media_type(request)):
        raise FaceApiError(415, "BadArgument", "Invalid Media Type.")
    body = read_json(request.content, code="BadArgument", message="JSON parsing error.")
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


class FaceHandlersBase:
    """The state of one emulator's Face handlers and the steps several of them share (see
    ``FaceRoutes`` for the arguments)."""

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
            return request.content, serves(request, operation)
        if not _is_json(media):
            raise FaceApiError(415, "BadArgument", "Invalid Media Type.")
        serves(request, operation + "FromUrl")
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
