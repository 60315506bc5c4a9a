"""Closed sets of the Face and Content Safety contracts.

The service declares every enum ``modelAsString``: response models accept unknown values as
plain strings (see ``OpenEnum``), request arguments accept the enum or its string value.
"""

from __future__ import annotations

from .._wire_enum import WireEnum

__all__ = [
    "AccessoryType",
    "BlurLevel",
    "DetectionModel",
    "ExposureLevel",
    "FaceAttributeType",
    "FindSimilarMatchMode",
    "GlassesType",
    "ImageType",
    "LivenessDecision",
    "LivenessModel",
    "LivenessOperationMode",
    "MaskType",
    "NoiseLevel",
    "OperationState",
    "QualityForRecognition",
    "RecognitionModel",
    "TextAnalysisOutputType",
    "TextCategory",
    "TrainingStatus",
]


class DetectionModel(WireEnum):
    """Face detection models. ``detection_03`` is the service's recommendation."""

    DETECTION_01 = "detection_01"
    DETECTION_02 = "detection_02"
    DETECTION_03 = "detection_03"


class RecognitionModel(WireEnum):
    """Face recognition models. ``recognition_04`` is the service's recommendation."""

    RECOGNITION_01 = "recognition_01"
    RECOGNITION_02 = "recognition_02"
    RECOGNITION_03 = "recognition_03"
    RECOGNITION_04 = "recognition_04"


class FaceAttributeType(WireEnum):
    """Face attributes that may still be requested.

    The spec's enum also lists ``age``, ``smile``, ``facialHair`` and ``hair``; they are limited
    or retired capabilities (with ``emotion``, ``gender`` and ``makeup``) and deliberately absent
    here, so they cannot be requested by accident.
    """

    HEAD_POSE = "headPose"
    GLASSES = "glasses"
    OCCLUSION = "occlusion"
    ACCESSORIES = "accessories"
    BLUR = "blur"
    EXPOSURE = "exposure"
    NOISE = "noise"
    MASK = "mask"
    QUALITY_FOR_RECOGNITION = "qualityForRecognition"


class FindSimilarMatchMode(WireEnum):
    """How find-similar ranks candidates."""

    MATCH_PERSON = "matchPerson"
    MATCH_FACE = "matchFace"


class TrainingStatus(WireEnum):
    """Status of a training operation (``OperationStatus`` in the spec)."""

    NOT_STARTED = "notStarted"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class OperationState(WireEnum):
    """State of a liveness session or attempt (``Azure.Core.Foundations.OperationState``)."""

    NOT_STARTED = "NotStarted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"


class LivenessOperationMode(WireEnum):
    """Liveness detection mode."""

    PASSIVE = "Passive"
    PASSIVE_ACTIVE = "PassiveActive"


class LivenessModel(WireEnum):
    """Liveness model versions in v1.2 GA."""

    V2024_11_15 = "2024-11-15"


class LivenessDecision(WireEnum):
    """Outcome of a liveness attempt."""

    UNCERTAIN = "uncertain"
    REAL_FACE = "realface"
    SPOOF_FACE = "spoofface"


class ImageType(WireEnum):
    """Kind of image a liveness decision target refers to."""

    COLOR = "Color"
    INFRARED = "Infrared"
    DEPTH = "Depth"


class QualityForRecognition(WireEnum):
    """Whether a face image is good enough for recognition."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class BlurLevel(WireEnum):
    """Blur level of a face."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ExposureLevel(WireEnum):
    """Exposure level of a face."""

    UNDER_EXPOSURE = "underExposure"
    GOOD_EXPOSURE = "goodExposure"
    OVER_EXPOSURE = "overExposure"


class NoiseLevel(WireEnum):
    """Noise level of a face image."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class MaskType(WireEnum):
    """Kind of mask, where one is detected."""

    FACE_MASK = "faceMask"
    NO_MASK = "noMask"
    OTHER_MASK_OR_OCCLUSION = "otherMaskOrOcclusion"
    UNCERTAIN = "uncertain"


class GlassesType(WireEnum):
    """Kind of glasses."""

    NO_GLASSES = "noGlasses"
    READING_GLASSES = "readingGlasses"
    SUNGLASSES = "sunglasses"
    SWIMMING_GOGGLES = "swimmingGoggles"


class AccessoryType(WireEnum):
    """Kind of accessory."""

    HEADWEAR = "headwear"
    GLASSES = "glasses"
    MASK = "mask"


class TextCategory(WireEnum):
    """Content Safety harm categories."""

    HATE = "Hate"
    SELF_HARM = "SelfHarm"
    SEXUAL = "Sexual"
    VIOLENCE = "Violence"


class TextAnalysisOutputType(WireEnum):
    """Granularity of text severities."""

    FOUR_SEVERITY_LEVELS = "FourSeverityLevels"
    EIGHT_SEVERITY_LEVELS = "EightSeverityLevels"
