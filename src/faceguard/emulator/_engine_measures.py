"""The numbers the emulator's face engine derives: face size rules, confidence, quality.

Pure functions over boxes, pixels and embeddings, with the constants ENGINE.md measured: the
smallest detectable face, the confidence curve (section 5), blur from the Laplacian variance,
exposure, ``quality_for_recognition`` (section 8), the least-squares similarity that fits the
landmark template, and the embedding's byte layout. Kept apart from ``_engine`` (which runs
the models and calls these) so each rule can be read and tested on plain numbers. OpenCV and
numpy are imported inside the functions that need them, never at import.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "MIN_FACE_TOLERANCE",
    "blur_from_laplacian_variance",
    "confidence_from_distance",
    "min_face_size",
]

_MIN_FACE: Final = 36
MIN_FACE_TOLERANCE: Final = 0.875
"""A face is kept when its measured size is at least this fraction of :func:`min_face_size`.
YuNet's box of a face of known size measures 0.90-1.10 of it (1st-99th percentile over the
composited faces of ``tests/_small_faces.py``), so a hard cut at 36 px dropped a third of
the 36 px faces the service promises to find; at 0.875 (31.5 px) a 36 px face is kept and a
30 px one is still dropped."""
_REFERENCE_LONG: Final = 1920
_REFERENCE_SHORT: Final = 1080

# ENGINE.md section 5: confidence = 1 / (1 + exp(k (d - t))), d = 1 - cos.
_CONFIDENCE_T: Final = 0.55
_CONFIDENCE_K: Final = 6.8

_EMBEDDING_DIM: Final = 128

# Blur: v = variance of the Laplacian of the 112x112 grey face; log-linear, v = 50 -> 0.25,
# v = 10 -> 0.75 (the thresholds of ENGINE.md section 8 become the blurLevel boundaries).
_BLUR_V_LOW: Final = 50.0
_BLUR_V_HIGH: Final = 10.0
_QUALITY_SIZE: Final = 112


def min_face_size(width: int, height: int) -> float:
    """The smallest face (pixels) the service detects in an image of this size.

    36 px in images no larger than 1920x1080 (either orientation); above that, proportionally
    larger: ``36 * max(1, long / 1920, short / 1080)``. A face's size is the geometric mean of
    its box's width and height (YuNet boxes are taller than wide; the service's are square-ish).
    """
    long_side, short_side = max(width, height), min(width, height)
    return _MIN_FACE * max(1.0, long_side / _REFERENCE_LONG, short_side / _REFERENCE_SHORT)


def confidence_from_distance(distance: float) -> float:
    """ENGINE.md section 5: ``1 / (1 + exp(6.8 (d - 0.55)))`` with ``d = 1 - cos``.

    0.5 at the decision threshold d = 0.55; about 0.98 for identical embeddings (d = 0) and
    about 0.0001 for opposite ones (d = 2).
    """
    return 1.0 / (1.0 + math.exp(_CONFIDENCE_K * (distance - _CONFIDENCE_T)))


def blur_from_laplacian_variance(variance: float) -> float:
    """Blur in 0 (sharp) .. 1 (very blurred) from ``v``, the variance of ``cv2.Laplacian``
    (3x3, float64) on the grey face box resized to 112x112 with INTER_AREA.

    ``blur = clip(0.25 + 0.5 * ln(50 / v) / ln(5), 0, 1)``: log-linear in v, so that the
    service's blurLevel boundaries fall on ENGINE.md's quality thresholds: v >= 50 gives
    blur <= 0.25 ("low"), v <= 10 gives blur >= 0.75 ("high"). Sharp photos have v around
    300-600 (blur 0); v >= 250 gives 0 and v <= 2 gives 1.
    """
    if variance <= 0.0:
        return 1.0
    span = math.log(_BLUR_V_LOW / _BLUR_V_HIGH)
    value = 0.25 + 0.5 * math.log(_BLUR_V_LOW / variance) / span
    return min(1.0, max(0.0, value))


def _quality(
    short_side: float, variance: float, yaw: float, pitch: float, score: float
) -> Literal["low", "medium", "high"]:
    """ENGINE.md section 8, verbatim."""
    if short_side < 40 or variance < 10 or abs(yaw) > 45 or abs(pitch) > 35 or score < 0.8:
        return "low"
    if short_side >= 100 and variance >= 50 and abs(yaw) <= 25 and abs(pitch) <= 20:
        return "high"
    return "medium"


def _clip_box(
    row: NDArray[np.float64], width: int, height: int
) -> tuple[int, int, int, int] | None:
    """(left, top, width, height) in whole pixels, clipped to the image; None if empty."""
    x0 = max(0, round(float(row[0])))
    y0 = max(0, round(float(row[1])))
    x1 = min(width, round(float(row[0] + row[2])))
    y1 = min(height, round(float(row[1] + row[3])))
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def _laplacian_variance(crop: NDArray[np.uint8]) -> float:
    """Variance of the 3x3 Laplacian (float64) of the grey face resized to 112x112
    (INTER_AREA): ENGINE.md section 8's ``v``. Sharp faces: hundreds; blurred: under 10."""
    import cv2
    import numpy as np

    face = cv2.resize(crop, (_QUALITY_SIZE, _QUALITY_SIZE), interpolation=cv2.INTER_AREA)
    return float(np.asarray(cv2.Laplacian(face, cv2.CV_64F), dtype=np.float64).var())


def _exposure(crop: NDArray[np.uint8]) -> float:
    """Exposure in 0 (under) .. 1 (over): the mean grey level of the face box divided by 255.
    The service calls 0.25..0.75 good; a well-lit face is around 0.35..0.6."""
    import numpy as np

    return float(np.mean(crop, dtype=np.float64)) / 255.0


def _umeyama(
    source: NDArray[np.float64], target: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Least-squares similarity (scale, rotation, translation; no reflection) taking
    ``source`` to ``target``: returns (A, t) with ``target ~ source @ A.T + t``."""
    import numpy as np

    mean_s = source.mean(axis=0)
    mean_t = target.mean(axis=0)
    s = source - mean_s
    t = target - mean_t
    covariance = t.T @ s / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1.0
    rotation = u @ sign @ vt
    variance = float((s**2).sum()) / len(source)
    scale = float((singular * np.diag(sign)).sum()) / variance if variance > 0 else 1.0
    a = scale * rotation
    return a, mean_t - mean_s @ a.T


def _as_vector(embedding: bytes) -> NDArray[np.float64]:
    import numpy as np

    if len(embedding) != _EMBEDDING_DIM * 4:
        raise ValueError(
            f"an embedding is {_EMBEDDING_DIM} float32 values ({_EMBEDDING_DIM * 4} bytes), "
            f"not {len(embedding)} bytes"
        )
    return np.frombuffer(embedding, dtype="<f4").astype(np.float64)
