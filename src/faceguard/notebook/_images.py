"""Images for the renderings: faces boxed and landmarked on a copy, thumbnails, data URIs.

Pillow is imported inside each function, never at module import. The caller's image is
never modified: it is opened from bytes or a path (or copied, when a Pillow image is given)
and drawn on as RGB, then embedded as a base64 PNG, which is lossless, so what is drawn is
exactly what is shown.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Collection, Sequence
from typing import IO, TYPE_CHECKING, Any, Literal, Union

from .._exceptions import InvalidImageError
from ..models.detection import FaceDetectionResult, FaceLandmarks
from ._deps import missing
from ._html import esc

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "BOX_COLOR",
    "LANDMARK_COLOR",
    "MEASURED_COLOR",
    "DisplayImage",
    "ImageFormat",
    "annotated_png",
    "img_tag",
    "open_image",
    "thumbnail_tag",
]

DisplayImage = Union[
    bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes], "Image.Image"
]
"""An image to draw on: raw bytes, a local path, a binary file object, or a Pillow image."""

BOX_COLOR: tuple[int, int, int] = (255, 0, 255)
"""Outline colour of face boxes (magenta: rare in photos of faces)."""
LANDMARK_COLOR: tuple[int, int, int] = (0, 255, 255)
"""Fill colour of landmark dots."""
MEASURED_COLOR: tuple[int, int, int] = (255, 214, 0)
"""Fill colour of the landmarks a caller marks as measured (the rest were estimated)."""
ImageFormat = Literal["PNG", "JPEG"]
"""PNG is lossless (what is drawn is exactly what is shown); JPEG is a tenth of the size,
for pages that carry many photos."""
_LABEL_BG: tuple[int, int, int] = (255, 0, 255)
_LABEL_FG: tuple[int, int, int] = (255, 255, 255)

# (attribute name, wire name) of each of the 27 landmarks.
_LANDMARK_NAMES: tuple[tuple[str, str], ...] = tuple(
    (name, field.alias or name) for name, field in FaceLandmarks.model_fields.items()
)
_THUMB = 64


def open_image(image: DisplayImage, parameter: str = "image") -> Image.Image:
    """A fresh RGB copy of ``image``; the caller's object or file is left as it was.

    Raises:
        ConfigurationError: Pillow is not installed.
        InvalidImageError: ``image`` is a URL, of an unsupported type, or unreadable.
    """
    try:
        from PIL import Image
    except ImportError as exc:
        raise missing("Pillow", "showing an image") from exc
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, bytes | bytearray | memoryview):
        source: Any = io.BytesIO(bytes(image))
    elif isinstance(image, str | os.PathLike):
        text = os.fspath(image)
        if text.startswith(("http://", "https://")):
            raise InvalidImageError(
                parameter,
                "local",
                "is a URL; the notebook helpers draw on local images only: pass the image's "
                "bytes or a path",
            )
        source = text
    elif hasattr(image, "read"):
        source = io.BytesIO(image.read())
    else:
        raise InvalidImageError(
            parameter,
            "type",
            f"is a {type(image).__name__}; pass bytes, a path, a binary file or a Pillow image",
        )
    try:
        opened = Image.open(source)
        try:
            opened.load()
            return opened.convert("RGB")
        finally:
            opened.close()
    except (OSError, ValueError) as exc:
        raise InvalidImageError(parameter, "format", "cannot be read as an image") from exc


def _data_uri(image: Image.Image, image_format: ImageFormat) -> str:
    buffer = io.BytesIO()
    if image_format == "JPEG":
        image.save(buffer, format="JPEG", quality=85)
    else:
        image.save(buffer, format="PNG")
    mime = f"image/{image_format.lower()}"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def img_tag(
    image: Image.Image, *, alt: str, style: str = "", image_format: ImageFormat = "PNG"
) -> str:
    """An ``<img>`` embedding ``image`` as a base64 PNG (or JPEG)."""
    width, height = image.size
    return (
        f'<img src="{_data_uri(image, image_format)}" width="{width}" height="{height}" '
        f'alt="{esc(alt)}" style="max-width:100%;height:auto;{style}"/>'
    )


def annotated_png(
    image: DisplayImage,
    faces: Sequence[FaceDetectionResult],
    *,
    max_side: int | None = 1024,
    measured: Collection[str] | None = None,
    image_format: ImageFormat = "PNG",
) -> str:
    """An ``<img>`` of ``image`` with each face's box, number and landmarks drawn on a copy.

    Images larger than ``max_side`` pixels on their longer side are scaled down first (and
    the coordinates with them), so a notebook does not carry a 12-megapixel PNG. Landmarks
    named in ``measured`` (wire names, ``pupilLeft``...) are drawn larger in
    ``MEASURED_COLOR``, so a reader sees which points were measured and which estimated.
    """
    canvas = open_image(image)
    from PIL import Image, ImageDraw

    scale = 1.0
    if max_side is not None and max(canvas.size) > max_side:
        scale = max_side / max(canvas.size)
        size = (max(1, round(canvas.width * scale)), max(1, round(canvas.height * scale)))
        canvas = canvas.resize(size, Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(canvas)
    line = max(2, round(max(canvas.size) / 250))
    dot = max(1, line // 2 + 1)
    for face in faces:
        marks = face.face_landmarks
        if marks is None:
            continue
        for name, wire_name in _LANDMARK_NAMES:
            point = getattr(marks, name, None)
            if point is None:
                continue
            x, y = point.x * scale, point.y * scale
            if measured is not None and wire_name in measured:
                big = dot + 1
                draw.ellipse((x - big, y - big, x + big, y + big), fill=MEASURED_COLOR)
            else:
                draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=LANDMARK_COLOR)
    for number, face in enumerate(faces, start=1):
        box = face.face_rectangle
        x0, y0 = round(box.left * scale), round(box.top * scale)
        x1 = max(x0, round((box.left + box.width) * scale) - 1)
        y1 = max(y0, round((box.top + box.height) * scale) - 1)
        draw.rectangle((x0, y0, x1, y1), outline=BOX_COLOR, width=line)
        label = str(number)
        left, top, right, bottom = draw.textbbox((0, 0), label)
        tx, ty = x0 + line, y0 + line
        draw.rectangle((tx, ty, tx + right - left + 3, ty + bottom - top + 3), fill=_LABEL_BG)
        draw.text((tx + 2 - left, ty + 2 - top), label, fill=_LABEL_FG)
    count = len(faces)
    alt = f"image with {count} detected face{'s' if count != 1 else ''} outlined"
    return img_tag(canvas, alt=alt, image_format=image_format)


def thumbnail_tag(
    image: DisplayImage, *, alt: str, size: int = _THUMB, image_format: ImageFormat = "PNG"
) -> str:
    """A small ``<img>`` of ``image`` (at most ``size`` pixels on its longer side)."""
    small = open_image(image, "thumbnails")
    small.thumbnail((size, size))
    return img_tag(small, alt=alt, style="border-radius:4px", image_format=image_format)
