"""Face detection in the emulator: ``FaceDetectionOperations_Detect`` and its ``FromUrl`` /
``FromSessionImageId`` overloads, with everything only detection needs: the contract's
landmark names and attribute types, which attributes each detection / recognition model
allows, the options of a detect call, measuring attributes from the face engine, and
validating the values tests script for what the engine cannot measure. It exists so the
rules of "what a detected face looks like on the wire" live in one place.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .._engine_api import LANDMARK_NAMES, EngineFace
from .common import (
    DETECTION_MODELS,
    RECOGNITION_MODELS,
    FaceHandlersBase,
    _bad,
    _invalid_body,
    _is_json,
    _json_body,
    _media_type,
    _query_bool,
    _query_choice,
    json_response,
    serves,
)
from .models import FaceApiError

__all__ = [
    "ATTRIBUTES",
    "LANDMARK_NAMES",
    "DetectHandlers",
    "DetectOptions",
    "validate_scripted_attribute",
]


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

FACE_ID_TTL = (60, 86400)


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


class DetectHandlers(FaceHandlersBase):
    """The detect handler (``FaceRoutes`` mixes it in)."""

    def detect(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        """``FaceDetectionOperations_Detect`` / ``...DetectFromUrl`` /
        ``...DetectFromSessionImageId`` (one URL, told apart by the body)."""
        operation = serves(request, "FaceDetectionOperations_Detect")
        body: dict[str, Any] = {}
        if _is_json(_media_type(request)):
            body = _json_body(request)
            if "sessionImageId" in body:
                operation = serves(request, "FaceDetectionOperations_DetectFromSessionImageId")
            elif "url" in body:
                operation = serves(request, "FaceDetectionOperations_DetectFromUrl")
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
