"""Which face attributes may be requested: an allowlist per detection model.

Microsoft retired emotion and gender recognition and made age, smile, facial hair, hair and
makeup limited-access capabilities (the Responsible AI notice in every Detect description of the
Face v1.2 contract). faceguard never requests any of them, and also refuses what a detection
model does not produce, so a request fails here with a clear reason instead of at the service.
An allowlist, not a denylist: a name faceguard does not know is refused too.

Requests and responses read names the same way (``normalise_key``): what this module refuses
to ask for is exactly what the response rail (``models._retired``) strips from any response.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._exceptions import RetiredAttributeError
from ..models._retired import RETIRED_ATTRIBUTE_FIELDS, normalise_key
from ..models.enums import DetectionModel, FaceAttributeType, RecognitionModel

__all__ = ["ALLOWED_ATTRIBUTES", "RETIRED_ATTRIBUTES", "check_attributes"]

# Per detection model (Azure SDK reference docs for FaceAttributeType.Detection01/Detection03;
# detection_02 returns no attributes). qualityForRecognition is model-independent here and
# checked against the recognition model below.
ALLOWED_ATTRIBUTES: dict[DetectionModel, frozenset[FaceAttributeType]] = {
    DetectionModel.DETECTION_01: frozenset(
        {
            FaceAttributeType.ACCESSORIES,
            FaceAttributeType.BLUR,
            FaceAttributeType.EXPOSURE,
            FaceAttributeType.GLASSES,
            FaceAttributeType.HEAD_POSE,
            FaceAttributeType.NOISE,
            FaceAttributeType.OCCLUSION,
            FaceAttributeType.QUALITY_FOR_RECOGNITION,
        }
    ),
    DetectionModel.DETECTION_02: frozenset(),
    DetectionModel.DETECTION_03: frozenset(
        {
            FaceAttributeType.BLUR,
            FaceAttributeType.HEAD_POSE,
            FaceAttributeType.MASK,
            FaceAttributeType.QUALITY_FOR_RECOGNITION,
        }
    ),
}

_QUALITY_MODELS = frozenset({RecognitionModel.RECOGNITION_03, RecognitionModel.RECOGNITION_04})

# Normalised name -> why it is refused; the names are RETIRED_ATTRIBUTE_FIELDS (tested).
RETIRED_ATTRIBUTES: dict[str, str] = {
    "emotion": "retired by Microsoft (emotion recognition)",
    "gender": "retired by Microsoft (gender classification)",
    "age": "a limited-access capability Microsoft withdrew from general use",
    "smile": "a limited-access capability Microsoft withdrew from general use",
    "facialhair": "a limited-access capability Microsoft withdrew from general use",
    "hair": "a limited-access capability Microsoft withdrew from general use",
    "makeup": "a limited-access capability Microsoft withdrew from general use",
}

_BY_NORMALISED = {normalise_key(m.value): m for m in FaceAttributeType}


def check_attributes(
    requested: Iterable[FaceAttributeType | str],
    *,
    detection_model: DetectionModel,
    recognition_model: RecognitionModel,
) -> list[FaceAttributeType]:
    """The requested attributes, if every one is allowed; ``RetiredAttributeError`` otherwise."""
    allowed = ALLOWED_ATTRIBUTES[detection_model]
    if qualityless := recognition_model not in _QUALITY_MODELS:
        allowed = allowed - {FaceAttributeType.QUALITY_FOR_RECOGNITION}
    offered = tuple(sorted(a.value for a in allowed))
    result: list[FaceAttributeType] = []
    for item in requested:
        name = item.value if isinstance(item, FaceAttributeType) else str(item)
        key = normalise_key(name)
        if key in RETIRED_ATTRIBUTE_FIELDS:
            raise RetiredAttributeError(
                name,
                f"face attribute {name!r} is {RETIRED_ATTRIBUTES.get(key, 'retired')}; "
                f"faceguard never requests it. {detection_model.value} still offers: "
                f"{', '.join(offered) or 'nothing'}",
                allowed=offered,
            )
        member = _BY_NORMALISED.get(key)
        if member is None:
            raise RetiredAttributeError(
                name,
                f"face attribute {name!r} is unknown; {detection_model.value} offers: "
                f"{', '.join(offered) or 'nothing'}",
                allowed=offered,
            )
        if member not in allowed:
            reason = (
                "needs recognition_03 or recognition_04"
                if member is FaceAttributeType.QUALITY_FOR_RECOGNITION and qualityless
                else f"is not produced by {detection_model.value}"
            )
            raise RetiredAttributeError(
                name,
                f"face attribute {name!r} {reason}; offered: {', '.join(offered) or 'nothing'}",
                allowed=offered,
            )
        if member not in result:
            result.append(member)
    return result
