"""Image arguments: bytes, binary file objects, paths and URLs, checked before sending.

The Face API takes "JPEG, PNG, GIF (the first frame), and BMP format ... from 1KB to 6MB".
Bytes are sniffed by their magic numbers (the file name or extension is never trusted), and a
file is read at most once and never beyond the limit.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union
from urllib.parse import urlsplit

from .._constants import IMAGE_MAX_BYTES, IMAGE_MIN_BYTES
from .._exceptions import InvalidImageError

__all__ = ["ImageInput", "ImageSource", "read_image", "sniff_format"]

ImageInput = Union[bytes, bytearray, memoryview, BinaryIO, "os.PathLike[str]", str]
"""An image: raw bytes, a binary file object, a path, or an ``http(s)://`` URL string."""

_URL_MAX = 2048
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class ImageSource:
    """Either the bytes of an image or a URL the service fetches itself."""

    content: bytes | None = None
    url: str | None = None

    def __repr__(self) -> str:
        # Never the bytes: a repr may end up in a log or a test report.
        if self.url is not None:
            return "ImageSource(url=...)"
        return f"ImageSource(content=<{len(self.content or b'')} bytes>)"


def sniff_format(data: bytes) -> str | None:
    """The image format named by the magic number, or ``None`` if not a supported one."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith(b"BM"):
        return "bmp"
    return None


def _check_bytes(parameter: str, data: bytes) -> bytes:
    size = len(data)
    if size < IMAGE_MIN_BYTES:
        raise InvalidImageError(parameter, "size", f"is {size} bytes; images must be at least 1 KB")
    if size > IMAGE_MAX_BYTES:
        raise InvalidImageError(parameter, "size", f"is {size} bytes; images must be at most 6 MB")
    if sniff_format(data) is None:
        raise InvalidImageError(
            parameter, "format", "is not a JPEG, PNG, GIF or BMP image (checked by its content)"
        )
    return data


def _check_url(parameter: str, url: str) -> str:
    if not url.isascii():
        try:
            url.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidImageError(parameter, "url", "holds a lone surrogate") from None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(url) > _URL_MAX:
        raise InvalidImageError(parameter, "url", "must be an absolute http(s) URL")
    return url


def _read_file(parameter: str, path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except (OSError, ValueError):  # ValueError: a NUL or a lone surrogate in the path
        raise InvalidImageError(
            parameter, "file", "is neither an http(s) URL nor a readable file"
        ) from None
    if size > IMAGE_MAX_BYTES:
        raise InvalidImageError(parameter, "size", f"is {size} bytes; images must be at most 6 MB")
    try:
        return path.read_bytes()
    except OSError:
        raise InvalidImageError(parameter, "file", "could not be read") from None


def read_image(image: ImageInput, *, parameter: str = "image") -> ImageSource:
    """Normalise an image argument and check it against the contract's image rules."""
    if isinstance(image, bytes | bytearray | memoryview):
        return ImageSource(content=_check_bytes(parameter, bytes(image)))
    if isinstance(image, str):
        if _SCHEME.match(image):
            # Any scheme:// string is a URL; only http(s) ones pass (ftp:// is refused as a URL).
            return ImageSource(url=_check_url(parameter, image))
        return ImageSource(content=_check_bytes(parameter, _read_file(parameter, Path(image))))
    if isinstance(image, os.PathLike):
        return ImageSource(content=_check_bytes(parameter, _read_file(parameter, Path(image))))
    stream: object = image  # typed as BinaryIO, but callers pass text-mode files too
    if isinstance(stream, io.TextIOBase):
        # Checked before reading: reading image bytes in text mode raises UnicodeDecodeError.
        raise InvalidImageError(parameter, "type", "file object must be opened in binary mode")
    read = getattr(image, "read", None)
    if callable(read):
        # Read one byte past the limit so an oversized stream is caught without reading it all.
        try:
            data = read(IMAGE_MAX_BYTES + 1)
        except (OSError, ValueError):  # a closed file, or text that cannot be decoded
            raise InvalidImageError(parameter, "file", "could not be read") from None
        if not isinstance(data, bytes | bytearray):
            raise InvalidImageError(parameter, "type", "file object must be opened in binary mode")
        return ImageSource(content=_check_bytes(parameter, bytes(data)))
    raise InvalidImageError(
        parameter, "type", "must be bytes, a binary file object, a path or an http(s) URL"
    )
