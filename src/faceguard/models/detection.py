"""Results of face detection (``FaceDetectionResult`` and the parts it is made of).

These mirror the ``definitions`` of the Face v1.2 contract. ``FaceAttributes`` deliberately
has no fields for the retired (emotion, gender) and limited-access (age, smile, facial hair,
hair, makeup) capabilities, and keeps no unknown attribute either (an allowlist). Retired
names are also stripped everywhere else in a response, at any depth (``_retired``), so they
reach neither a field nor ``model_extra``.
"""

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from ._base import FaceModel, OpenEnum
from ._retired import RETIRED_ATTRIBUTE_FIELDS
from .enums import (
    AccessoryType,
    BlurLevel,
    ExposureLevel,
    GlassesType,
    MaskType,
    NoiseLevel,
    QualityForRecognition,
    RecognitionModel,
)

__all__ = [
    "AccessoryItem",
    "BlurProperties",
    "ExposureProperties",
    "FaceAttributes",
    "FaceDetectionResult",
    "FaceLandmarks",
    "FaceRectangle",
    "HeadPose",
    "LandmarkCoordinate",
    "MaskProperties",
    "NoiseProperties",
    "OcclusionProperties",
    "RETIRED_ATTRIBUTE_FIELDS",
]


class FaceRectangle(FaceModel):
    """A rectangle within which a face can be found, in pixels."""

    top: int
    """Distance from the top edge of the image to the top edge of the rectangle."""
    left: int
    """Distance from the left edge of the image to the left edge of the rectangle."""
    width: int
    """Width of the rectangle."""
    height: int
    """Height of the rectangle."""


class LandmarkCoordinate(FaceModel):
    """Landmark coordinates within an image, in pixels."""

    x: float
    """The horizontal component."""
    y: float
    """The vertical component."""


class FaceLandmarks(FaceModel):
    """The 27-point face landmarks (all required when landmarks are returned)."""

    pupil_left: LandmarkCoordinate
    """Left eye pupil."""
    pupil_right: LandmarkCoordinate
    """Right eye pupil."""
    nose_tip: LandmarkCoordinate
    """Nose tip."""
    mouth_left: LandmarkCoordinate
    """Left corner of the mouth."""
    mouth_right: LandmarkCoordinate
    """Right corner of the mouth."""
    eyebrow_left_outer: LandmarkCoordinate
    """Outer end of the left eyebrow."""
    eyebrow_left_inner: LandmarkCoordinate
    """Inner end of the left eyebrow."""
    eye_left_outer: LandmarkCoordinate
    """Outer corner of the left eye."""
    eye_left_top: LandmarkCoordinate
    """Top of the left eye."""
    eye_left_bottom: LandmarkCoordinate
    """Bottom of the left eye."""
    eye_left_inner: LandmarkCoordinate
    """Inner corner of the left eye."""
    eyebrow_right_inner: LandmarkCoordinate
    """Inner end of the right eyebrow."""
    eyebrow_right_outer: LandmarkCoordinate
    """Outer end of the right eyebrow."""
    eye_right_inner: LandmarkCoordinate
    """Inner corner of the right eye."""
    eye_right_top: LandmarkCoordinate
    """Top of the right eye."""
    eye_right_bottom: LandmarkCoordinate
    """Bottom of the right eye."""
    eye_right_outer: LandmarkCoordinate
    """Outer corner of the right eye."""
    nose_root_left: LandmarkCoordinate
    """Left side of the nose root."""
    nose_root_right: LandmarkCoordinate
    """Right side of the nose root."""
    nose_left_alar_top: LandmarkCoordinate
    """Top of the left nose wing."""
    nose_right_alar_top: LandmarkCoordinate
    """Top of the right nose wing."""
    nose_left_alar_out_tip: LandmarkCoordinate
    """Outer tip of the left nose wing."""
    nose_right_alar_out_tip: LandmarkCoordinate
    """Outer tip of the right nose wing."""
    upper_lip_top: LandmarkCoordinate
    """Top of the upper lip."""
    upper_lip_bottom: LandmarkCoordinate
    """Bottom of the upper lip."""
    under_lip_top: LandmarkCoordinate
    """Top of the lower lip."""
    under_lip_bottom: LandmarkCoordinate
    """Bottom of the lower lip."""


class HeadPose(FaceModel):
    """3-D roll/yaw/pitch angles of the face direction, in degrees."""

    pitch: float
    """Pitch angle."""
    roll: float
    """Roll angle."""
    yaw: float
    """Yaw angle."""


class BlurProperties(FaceModel):
    """How blurred the face is."""

    blur_level: OpenEnum[BlurLevel]
    """Level of blurriness."""
    value: float
    """Blurriness from 0 to 1."""


class ExposureProperties(FaceModel):
    """Exposure of the face image."""

    exposure_level: OpenEnum[ExposureLevel]
    """Level of exposure."""
    value: float
    """Exposure from 0 to 1: [0, 0.25) under, [0.25, 0.75) good, [0.75, 1] over exposure."""


class NoiseProperties(FaceModel):
    """Noise of the face image."""

    noise_level: OpenEnum[NoiseLevel]
    """Level of noise."""
    value: float
    """Noise from 0 to 1: [0, 0.3) low, [0.3, 0.7) medium, [0.7, 1] high."""


class OcclusionProperties(FaceModel):
    """Occlusions on the face."""

    forehead_occluded: bool
    """Whether the forehead is occluded."""
    eye_occluded: bool
    """Whether the eyes are occluded."""
    mouth_occluded: bool
    """Whether the mouth is occluded."""


class AccessoryItem(FaceModel):
    """An accessory on the face and how confident the service is about it."""

    type: OpenEnum[AccessoryType]
    """Kind of accessory."""
    confidence: float
    """Confidence of the accessory type, from 0 to 1."""


class MaskProperties(FaceModel):
    """Presence of a mask on the face."""

    nose_and_mouth_covered: bool
    """Whether nose and mouth are covered."""
    type: OpenEnum[MaskType]
    """Kind of mask."""


class FaceAttributes(FaceModel):
    """Face attributes of a detected face.

    Only attributes that may still be requested are modelled, and nothing else is kept:
    unlike other models, unknown keys are dropped before validation (``model_extra`` stays
    empty). faceguard requests only allowlisted attributes, so an unknown key here is one it
    never asked for, possibly a retired capability under a new name (``perceivedAge``) that
    no denylist would catch.
    """

    glasses: OpenEnum[GlassesType] | None = None
    """Glasses type, if any."""
    head_pose: HeadPose | None = None
    """3-D roll/yaw/pitch angles of the face direction."""
    occlusion: OcclusionProperties | None = None
    """Occlusions on the face."""
    accessories: list[AccessoryItem] | None = None
    """Accessories on the face."""
    blur: BlurProperties | None = None
    """Blur of the face."""
    exposure: ExposureProperties | None = None
    """Exposure of the face image."""
    noise: NoiseProperties | None = None
    """Noise of the face image."""
    mask: MaskProperties | None = None
    """Presence of a mask on the face."""
    quality_for_recognition: OpenEnum[QualityForRecognition] | None = None
    """Whether the image is good enough to attempt face recognition on (recognition_03/04
    only). ``high`` is recommended for enrollment, ``medium`` or better for identification."""

    @model_validator(mode="before")
    @classmethod
    def _keep_allowlisted_attributes(cls, data: Any) -> Any:
        """Drop every key that is not a modelled attribute (its wire or Python name)."""
        if isinstance(data, Mapping):
            return {key: value for key, value in data.items() if key in _FACE_ATTRIBUTE_KEYS}
        return data


_FACE_ATTRIBUTE_KEYS = frozenset(FaceAttributes.model_fields) | frozenset(
    field.alias for field in FaceAttributes.model_fields.values() if field.alias
)


class FaceDetectionResult(FaceModel):
    """One detected face."""

    face_rectangle: FaceRectangle
    """Location of the face in the image."""
    face_id: str | None = Field(default=None, repr=False)
    """Transient faceId (expires ``faceIdTimeToLive`` seconds after detection, 24 h by
    default); only returned when ``returnFaceId`` is true. Hidden from ``repr()``: a faceId
    refers to a biometric template and must not reach a log."""
    recognition_model: OpenEnum[RecognitionModel] | None = None
    """Recognition model bound to the faceId; only returned when ``returnRecognitionModel``
    is true."""
    face_landmarks: FaceLandmarks | None = None
    """27-point face landmarks; only returned when ``returnFaceLandmarks`` is true."""
    face_attributes: FaceAttributes | None = None
    """Requested face attributes."""
