"""The image files the emulator's face engine accepts, and their decoding to pixels.

The service takes JPEG, PNG, GIF and BMP files from 1 KB to 6 MB; anything else is an
``EngineImageError`` with the service's code (``InvalidImageSize`` or ``InvalidImage``) before
a model runs. Pillow (in the emulator extra) is imported only to read a GIF when OpenCV's
``imdecode`` has no GIF decoder (4.11 has none; 4.14 has one). Kept apart from
``_engine`` (the models) because what counts as a valid upload is the service's rule, not the
detector's. OpenCV and numpy are imported inside the functions, as in ``_engine``.
``INSTALL_HINT`` is defined here, the lowest engine module, because the GIF fallback names
it too; ``_engine`` re-exports it with its other names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ._engine_api import EngineImageError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["INSTALL_HINT", "MAX_IMAGE_BYTES", "MIN_IMAGE_BYTES"]

INSTALL_HINT: Final = 'pip install "faceguard[emulator]"'

MIN_IMAGE_BYTES: Final = 1024
MAX_IMAGE_BYTES: Final = 6 * 1024 * 1024
"""The service takes image files from 1 KB to 6 MB (``InvalidImageSize`` outside)."""


def _sniff(image: bytes) -> str | None:
    """The format by its signature: the service takes JPEG, PNG, GIF and BMP only."""
    if image.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if image.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if image.startswith(b"BM"):
        return "bmp"
    return None


def _decode(image: bytes) -> NDArray[np.uint8]:
    """BGR uint8 pixels of a JPEG / PNG / GIF (first frame) / BMP file.

    OpenCV's ``imdecode`` applies the EXIF orientation and drops an alpha channel. GIF: recent
    OpenCV (4.14) decodes the first frame; builds without a GIF decoder (4.11) fall back to
    Pillow.
    """
    import cv2
    import numpy as np

    if not isinstance(image, (bytes, bytearray, memoryview)):
        raise TypeError(f"image must be bytes, not {type(image).__name__}")
    data = bytes(image)
    if not MIN_IMAGE_BYTES <= len(data) <= MAX_IMAGE_BYTES:
        raise EngineImageError(
            "InvalidImageSize",
            f"Image size is too small or too big: {len(data)} bytes; the service takes "
            "files from 1 KB to 6 MB.",
        )
    kind = _sniff(data)
    if kind is None:
        raise EngineImageError(
            "InvalidImage",
            "Decoding error, image format unsupported: JPEG, PNG, GIF and BMP are supported.",
        )
    try:
        pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        pixels = None
    if pixels is None and kind == "gif":
        return _decode_gif_with_pillow(data)
    if pixels is None or pixels.ndim != 3 or pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise EngineImageError(
            "InvalidImage", f"Decoding error: the {kind.upper()} data is corrupt or truncated."
        )
    return np.ascontiguousarray(pixels, dtype=np.uint8)


def _decode_gif_with_pillow(data: bytes) -> NDArray[np.uint8]:
    """The first frame of a GIF through Pillow (for OpenCV builds without a GIF decoder)."""
    import io

    import numpy as np

    try:
        from PIL import Image
    except ImportError:
        raise EngineImageError(
            "InvalidImage",
            "This OpenCV build cannot decode GIF and Pillow is not installed: "
            f"{INSTALL_HINT} installs it.",
        ) from None
    try:
        with Image.open(io.BytesIO(data)) as frames:
            frames.seek(0)
            rgb = np.asarray(frames.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise EngineImageError(
            "InvalidImage", "Decoding error: the GIF data is corrupt or truncated."
        ) from None
    return np.ascontiguousarray(rgb[:, :, ::-1])
