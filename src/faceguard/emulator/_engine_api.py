"""What the emulator needs from a face engine, as plain data.

The REST handler depends only on this interface; ``_engine.py`` implements it with OpenCV
(YuNet detection, SFace embeddings). Everything here is measured from pixels, except the 22
landmarks derived from the 5 measured ones (documented as derived), and nothing is invented:
what the engine cannot measure (glasses, mask, occlusion, accessories) is absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

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
"""The 27 ``FaceLandmarks`` of the contract, in its order (all required): the first 5 are
the points a detector measures (YuNet's), the rest are placed from them."""

__all__ = ["LANDMARK_NAMES", "EngineFace", "EngineImageError", "FaceEngine", "Point"]

Point = tuple[float, float]


class EngineImageError(ValueError):
    """The image cannot be decoded, or is outside the sizes the service accepts.

    ``code`` is the Face API error code the emulator answers with (``InvalidImage``,
    ``InvalidImageSize``).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class EngineFace:
    """One detected face, largest first in a detection result."""

    left: int
    top: int
    width: int
    height: int
    score: float
    """Detector confidence, 0..1."""
    landmarks5: tuple[Point, Point, Point, Point, Point]
    """Measured: right eye, left eye, nose tip, right mouth corner, left mouth corner (YuNet
    order, image coordinates; "right" is the subject's right)."""
    landmarks27: dict[str, Point]
    """The Face API's 27 landmarks by wire name (``pupilLeft``...); which of them were
    estimated rather than measured is ``estimated_landmarks``."""
    head_pose: tuple[float, float, float]
    """(pitch, roll, yaw) in degrees, from solvePnP on the measured landmarks."""
    blur: float
    """0 (sharp) .. 1 (very blurred), from the variance of the Laplacian in the face box."""
    exposure: float
    """0 (under) .. 1 (over), 0.25..0.75 is good exposure."""
    noise: float
    """0 (clean) .. 1 (very noisy)."""
    quality_for_recognition: Literal["low", "medium", "high"]
    embedding: bytes = field(repr=False)
    """128 float32 SFace features (little endian), L2-normalised."""
    estimated_landmarks: frozenset[str] | None = None
    """The names in ``landmarks27`` that the engine estimated instead of measuring (for
    ``OpenCVEngine``: the 22 placed from a template), so a report or notebook can mark
    them; ``None`` when the engine does not say."""


class FaceEngine(Protocol):
    """A local face engine."""

    def detect(self, image: bytes) -> list[EngineFace]:
        """Faces in a JPEG / PNG / GIF (first frame) / BMP image, largest first (at most 100).

        Raises:
            EngineImageError: undecodable image, or dimensions outside what the service takes.
        """
        ...

    def confidence(self, a: bytes, b: bytes) -> float:
        """The Face API's similarity confidence (0..1) of two embeddings; ``>= 0.5`` means
        the same person (ENGINE.md §5)."""
        ...
