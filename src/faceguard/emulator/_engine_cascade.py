"""Finding small faces: YuNet passes with a low candidate score, then a zoomed second look at
small candidates.

The service detects faces down to 36 x 36 px in images up to 1920 x 1080. The engine used to
run YuNet once, on the image downscaled to 1280 px, and keep rows scoring 0.8 (ENGINE.md
section 4.1). On the composited scenes of ``tests/_small_faces.py`` that found 71 % of the
36-43 px faces and 91 % of the 44-51 px ones, for three reasons, measured there:

- small faces do come out of the network, but often with scores of 0.3-0.8, beside a few
  textures that score as high;
- in a 1920 x 1080 image the 1280 px downscale shrinks a 36 px face to 24 px, where YuNet
  finds few at any score;
- a face of 36 px gets a box of 32-40 px, and a hard 36 px rule dropped a third of them
  (``MIN_FACE_TOLERANCE`` in ``_engine_measures``).

Running the whole image at 1.5x finds them but costs 2.5x the time, more than the 60 ms a
640 x 480 detect may take. So detection is a cascade:

1. YuNet runs on the image (downscaled to ``working_size`` on its longer side if larger)
   with a candidate score of 0.3. An image larger than ``working_size`` gets a second pass
   at up to ``fine_size`` (1600) px, from which only faces under ``2 * SMALL_FACE`` are
   taken: large faces are boxed best at the working size, small ones are found only near
   their own resolution.
2. A row whose score reaches the accepted score is a face, as before.
3. A row below it whose face is small (under 64 px in the original image) is a candidate:
   the original pixels around it (2.5 times the face's size, so the head and some context)
   are cut out and scaled so that the face measures about 80 px, where YuNet is at its best,
   and YuNet runs again on that patch alone. If the patch holds a face at the accepted score
   near the candidate's centre, that face is kept, with its box, landmarks and score from the
   zoomed look mapped back to the image. Otherwise the candidate is dropped.
4. Faces found twice (by both passes, or two candidates zooming to the same face) are
   merged: the higher score is kept when two boxes overlap by more than a third.

Larger faces below the accepted score stay rejected, as ENGINE.md measured. A patch is at
most 200 x 200 px (a few ms), and at most ``MAX_ZOOMS`` candidates, the highest scores
first, get a second look, so the cost is bounded on any image; on the repository's photos
at 640 x 480 no candidate needs one. The fine pass makes a 1920 x 1080 detect about 2.9
times as costly as before (the price of the service's 36 px promise at that size). The result
depends only on the pixels, and rows come out in a fixed order.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["CANDIDATE_SCORE", "MAX_ZOOMS", "SMALL_FACE", "detect_rows"]

CANDIDATE_SCORE: Final = 0.3
"""YuNet's threshold for candidates. The faces of 36-64 px that the accepted score misses
score 0.3-0.8 at their own resolution (``tests/_small_faces.py``)."""
SMALL_FACE: Final = 64.0
"""Candidates below this size (geometric mean of the box's sides, original pixels) get a
zoomed second look; at and above it every composited face already scores 0.8 or more."""
ZOOM_FACE: Final = 80.0
"""The size a candidate's face is scaled to for its second look."""
ZOOM_CONTEXT: Final = 2.5
"""The zoomed patch's side, in face sizes: the whole head and some background, which YuNet
needs to score a face as high as in a photo."""
MAX_ZOOMS: Final = 24
"""At most this many candidates per image get a second look (highest scores first)."""
_CENTRE_TOLERANCE: Final = 0.5
"""A zoomed face confirms a candidate when its centre is within half a face size of it."""
_MERGE_IOU: Final = 1.0 / 3.0
_X: Final = [0, 4, 6, 8, 10, 12]
_Y: Final = [1, 5, 7, 9, 11, 13]
"""The columns of a row that are positions (box corner, 5 landmarks), not sizes."""


class _Detector(Protocol):
    """The part of ``cv2.FaceDetectorYN`` the cascade uses."""

    def setInputSize(self, input_size: tuple[int, int]) -> None: ...

    def setScoreThreshold(self, score_threshold: float) -> None: ...

    def detect(self, image: NDArray[np.uint8]) -> tuple[int, object]: ...


def _run(detector: _Detector, image: NDArray[np.uint8]) -> NDArray[np.float64]:
    """YuNet's rows (x, y, w, h, 5 x (x, y), score) on ``image``; shape (n, 15)."""
    import numpy as np

    detector.setInputSize((image.shape[1], image.shape[0]))
    _count, found = detector.detect(image)
    if not isinstance(found, np.ndarray):  # None when there is no face
        return np.zeros((0, 15), dtype=np.float64)
    return np.array(found, dtype=np.float64).reshape(-1, 15)


def _size(row: NDArray[np.float64]) -> float:
    return math.sqrt(max(0.0, float(row[2])) * max(0.0, float(row[3])))


def _zoom(
    detector: _Detector,
    pixels: NDArray[np.uint8],
    row: NDArray[np.float64],
    accepted: float,
) -> NDArray[np.float64] | None:
    """The face near ``row`` seen again at about ``ZOOM_FACE`` px, in image coordinates, if
    it scores ``accepted`` or more there; else None."""
    import cv2
    import numpy as np

    height, width = pixels.shape[:2]
    size = _size(row)
    if size <= 0.0:
        return None
    cx, cy = float(row[0] + row[2] / 2), float(row[1] + row[3] / 2)
    half = ZOOM_CONTEXT * size / 2
    x0, y0 = max(0, math.floor(cx - half)), max(0, math.floor(cy - half))
    x1, y1 = min(width, math.ceil(cx + half)), min(height, math.ceil(cy + half))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    factor = ZOOM_FACE / size
    patch_size = (max(1, round((x1 - x0) * factor)), max(1, round((y1 - y0) * factor)))
    interpolation = cv2.INTER_LINEAR if factor > 1.0 else cv2.INTER_AREA
    patch = np.asarray(
        cv2.resize(pixels[y0:y1, x0:x1], patch_size, interpolation=interpolation), np.uint8
    )
    sx, sy = (x1 - x0) / patch_size[0], (y1 - y0) / patch_size[1]
    best: NDArray[np.float64] | None = None
    for found in _run(detector, patch):
        if float(found[14]) < accepted:
            continue
        mapped = found.copy()
        mapped[0:14:2] *= sx
        mapped[1:14:2] *= sy
        mapped[_X] += x0  # positions move with the patch; width and height do not
        mapped[_Y] += y0
        fx, fy = float(mapped[0] + mapped[2] / 2), float(mapped[1] + mapped[3] / 2)
        if math.hypot(fx - cx, fy - cy) > _CENTRE_TOLERANCE * size:
            continue
        if best is None or float(mapped[14]) > float(best[14]):
            best = mapped
    return best


def _iou(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    ax1, ay1 = float(a[0] + a[2]), float(a[1] + a[3])
    bx1, by1 = float(b[0] + b[2]), float(b[1] + b[3])
    w = min(ax1, bx1) - max(float(a[0]), float(b[0]))
    h = min(ay1, by1) - max(float(a[1]), float(b[1]))
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (float(a[2] * a[3]) + float(b[2] * b[3]) - inter)


def _pass(detector: _Detector, pixels: NDArray[np.uint8], longest: int) -> NDArray[np.float64]:
    """YuNet's rows on ``pixels`` downscaled to ``longest`` px on the longer side (if larger),
    mapped back to the original pixels."""
    import cv2
    import numpy as np

    height, width = pixels.shape[:2]
    scale = min(1.0, longest / max(width, height))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        work = np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), np.uint8)
        sx, sy = width / size[0], height / size[1]
    else:
        work, sx, sy = pixels, 1.0, 1.0
    rows = _run(detector, work)
    rows[:, 0:14:2] *= sx
    rows[:, 1:14:2] *= sy
    return rows


def detect_rows(
    detector: _Detector,
    pixels: NDArray[np.uint8],
    *,
    accepted: float,
    working_size: int,
    fine_size: int,
) -> list[NDArray[np.float64]]:
    """Faces as YuNet rows in original-image coordinates: the cascade of the module docstring.

    Images larger than ``working_size`` get a second, finer pass at up to ``fine_size`` px
    from which only small faces are taken (under ``2 * SMALL_FACE``): YuNet boxes large faces
    best at the working size, and finds small ones only near their own resolution.

    The caller holds the detector's lock (its input size and threshold are per-call state).
    Rows come out by descending score, then position, so the order depends only on the pixels.
    """
    import numpy as np

    detector.setScoreThreshold(min(CANDIDATE_SCORE, accepted))
    rows = _pass(detector, pixels, working_size)
    if max(pixels.shape[:2]) > working_size:
        fine = _pass(detector, pixels, fine_size)
        small = [row for row in fine if _size(row) < 2 * SMALL_FACE]
        rows = np.concatenate([rows, np.asarray(small).reshape(-1, 15)])
    kept: list[NDArray[np.float64]] = []
    candidates: list[NDArray[np.float64]] = []
    for row in rows:
        if float(row[14]) >= accepted:
            kept.append(row)
        elif _size(row) < SMALL_FACE:
            candidates.append(row)
    candidates.sort(key=lambda r: (-float(r[14]), float(r[1]), float(r[0])))
    for row in candidates[:MAX_ZOOMS]:
        if any(_iou(row, other) > _MERGE_IOU for other in kept):
            continue  # already found (by the other pass, or zoomed from a twin candidate)
        confirmed = _zoom(detector, pixels, row, accepted)
        if confirmed is not None:
            kept.append(confirmed)
    kept.sort(key=lambda r: (-float(r[14]), float(r[1]), float(r[0])))
    merged: list[NDArray[np.float64]] = []
    for row in kept:
        if all(_iou(row, other) <= _MERGE_IOU for other in merged):
            merged.append(row)
    return merged
