"""render_detection(measured=..., image_format=...): measured landmarks drawn apart from the
estimated ones, and JPEG pictures for pages that carry many photos."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest

pytest.importorskip("PIL")
from PIL import Image

from faceguard import notebook
from faceguard.models.detection import FaceLandmarks
from faceguard.notebook._images import LANDMARK_COLOR, MEASURED_COLOR

WIRE_NAMES = [field.alias or name for name, field in FaceLandmarks.model_fields.items()]
MEASURED = frozenset({"pupilLeft", "pupilRight", "noseTip", "mouthLeft", "mouthRight"})


def _face() -> dict[str, Any]:
    box = {"left": 40, "top": 40, "width": 240, "height": 240}
    points = {
        name: {"x": 60.0 + 40 * (index % 6), "y": 60.0 + 40 * (index // 6)}
        for index, name in enumerate(WIRE_NAMES)
    }
    return {"faceRectangle": box, "faceLandmarks": points}


def _image(markup: str, mime: str) -> Image.Image:
    match = re.search(rf'<img src="data:{mime};base64,([A-Za-z0-9+/=]+)"', markup)
    assert match, f"no {mime} <img> in the HTML"
    return Image.open(io.BytesIO(base64.b64decode(match.group(1)))).convert("RGB")


def _canvas() -> Image.Image:
    return Image.new("RGB", (320, 320), (40, 40, 40))


def test_measured_landmarks_are_drawn_in_their_own_colour() -> None:
    face = _face()
    drawn = _image(notebook.render_detection([face], _canvas(), measured=MEASURED), "image/png")
    for name, point in face["faceLandmarks"].items():
        pixel = drawn.getpixel((round(point["x"]), round(point["y"])))
        expected = MEASURED_COLOR if name in MEASURED else LANDMARK_COLOR
        assert pixel == expected, name


def test_without_measured_every_landmark_is_drawn_alike() -> None:
    face = _face()
    drawn = _image(notebook.render_detection([face], _canvas()), "image/png")
    for point in face["faceLandmarks"].values():
        assert drawn.getpixel((round(point["x"]), round(point["y"]))) == LANDMARK_COLOR


@pytest.mark.parametrize(("count", "estimated"), [(5, 22), (27, 0), (0, 27)])
def test_the_table_says_how_many_were_measured(count: int, estimated: int) -> None:
    measured = frozenset(WIRE_NAMES[:count])
    markup = notebook.render_detection([_face()], measured=measured)
    assert f"27 points: {count} measured" in markup
    assert f"{estimated} estimated" in markup


def test_jpeg_pictures_are_jpeg_and_smaller() -> None:
    photo = Image.effect_noise((480, 480), 60).convert("RGB")
    png = notebook.render_detection([_face()], photo)
    jpeg = notebook.render_detection([_face()], photo, image_format="JPEG")
    assert _image(jpeg, "image/jpeg").size == (480, 480)
    assert "data:image/png" not in jpeg
    assert len(jpeg) < len(png) / 2
