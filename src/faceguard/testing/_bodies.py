"""What a cassette may hold of a body: images as ``sha256:`` placeholders, tokens redacted.

The pure half of the cassette scrubbing (``_cassettes`` holds the vcrpy hooks around it):
``image_kind`` sniffs an image by its magic bytes, ``image_placeholder`` names one by its
SHA-256, and ``_scrub_body`` rewrites a request or response body so that no image and no
token is left in it: an image body as a whole, the image parts of a multipart body (under a
fixed boundary), base64 images and token values inside JSON. It is idempotent: scrubbing a
scrubbed body changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

__all__ = ["PLACEHOLDER", "image_kind", "image_placeholder"]

PLACEHOLDER = "<redacted>"
"""What a scrubbed credential or token is replaced with."""
_BOUNDARY = "faceguard-cassette-boundary"
"""Multipart bodies are rewritten with this boundary: faceguard picks a random one per call."""
_DIGEST_PREFIX = "sha256:"
_PLACEHOLDER_RE = re.compile(rb"sha256:[0-9a-f]{64}")
_TOKEN_KEYS = frozenset(
    {
        "accesstoken",
        "access_token",
        "authtoken",
        "auth_token",
        "idtoken",
        "id_token",
        "refreshtoken",
        "refresh_token",
    }
)
_DATA_URI = re.compile(r"^data:[\w.+-]+/[\w.+-]+;base64,", re.IGNORECASE)
_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_MIN_BASE64_IMAGE = 16
"""Shorter strings are never taken for base64 images."""


# --- images ----------------------------------------------------------------------------------


def image_kind(data: bytes) -> str | None:
    """``jpeg``, ``png``, ``gif`` or ``bmp`` when ``data`` starts like one, else ``None``.

    A BMP is recognised by its whole file header (the ``BM`` magic, zero reserved bytes and a
    known DIB header size), not by the two letters alone.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if (
        len(data) >= 18
        and data.startswith(b"BM")
        and data[6:10] == b"\0\0\0\0"
        and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES
    ):
        return "bmp"
    return None


def image_placeholder(data: bytes) -> str:
    """The placeholder a cassette holds instead of an image: ``sha256:<hex>`` of its bytes."""
    return _DIGEST_PREFIX + hashlib.sha256(data).hexdigest()


def _is_placeholder(data: bytes) -> bool:
    return _PLACEHOLDER_RE.fullmatch(data.strip()) is not None


def _b64decode(text: str, limit: int | None = None) -> bytes | None:
    """The bytes of a base64 (or base64url) string, or ``None`` when it is not one.

    With ``limit``, only about that many leading characters are decoded (enough to sniff).
    """
    text = _DATA_URI.sub("", text.strip(), count=1)
    text = "".join(text.split())
    if limit is not None:
        text = text[: limit - limit % 4]
    else:
        text = text.rstrip("=")
        text += "=" * (-len(text) % 4)
    urlsafe = "-" in text or "_" in text
    try:
        if urlsafe:
            return base64.b64decode(text, altchars=b"-_", validate=True)
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _base64_image(text: str) -> bytes | None:
    """The decoded image when ``text`` is a base64 image (sniffed by its magic), else None."""
    if len(text) < _MIN_BASE64_IMAGE:
        return None
    head = _b64decode(text, limit=32)
    if head is None or image_kind(head) is None:
        return None
    return _b64decode(text)


# --- bodies ----------------------------------------------------------------------------------


def _content_type(headers: Any) -> str:
    """The Content-Type of a vcrpy request (HeadersDict) or response (dict of lists)."""
    if headers is None:
        return ""
    for name, value in headers.items():
        if str(name).lower() == "content-type":
            if isinstance(value, (list, tuple)):
                value = value[0] if value else ""
            return str(value)
    return ""


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _boundary(content_type: str, body: bytes) -> bytes | None:
    match = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
    if match:
        return match.group(1).strip().encode("latin-1", "replace")
    first = re.match(rb"--([^\r\n]{1,200})\r\n", body)  # a multipart body without its header
    return first.group(1) if first else None


def _split_multipart(body: bytes, boundary: bytes) -> list[tuple[bytes, bytes]] | None:
    """(headers, content) of each part, or ``None`` when ``body`` is not well-formed."""
    chunks = body.split(b"--" + boundary)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        return None
    parts = []
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n"):
            return None
        chunk = chunk[2:]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            return None
        parts.append((head, content))
    return parts


def _is_image_part(head: bytes, content: bytes) -> bool:
    lowered = head.lower()
    return (
        b"filename=" in lowered
        or b"content-type: image/" in lowered
        or b"content-type: application/octet-stream" in lowered
        or image_kind(content) is not None
    )


def _scrub_multipart(body: bytes, boundary: bytes) -> bytes | None:
    parts = _split_multipart(body, boundary)
    if parts is None:
        return None
    out = []
    for head, content in parts:
        if _is_image_part(head, content) and not _is_placeholder(content):
            content = image_placeholder(content).encode()
        out.append(b"--" + _BOUNDARY.encode() + b"\r\n" + head + b"\r\n\r\n" + content + b"\r\n")
    out.append(b"--" + _BOUNDARY.encode() + b"--\r\n")
    return b"".join(out)


def _scrub_json_value(value: Any) -> tuple[Any, bool]:
    """``value`` with tokens redacted and base64 images replaced; and whether it changed."""
    if isinstance(value, dict):
        changed = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            if str(key).lower() in _TOKEN_KEYS and isinstance(item, str) and item != PLACEHOLDER:
                out[key] = PLACEHOLDER
                changed = True
                continue
            out[key], item_changed = _scrub_json_value(item)
            changed = changed or item_changed
        return out, changed
    if isinstance(value, list):
        items = [_scrub_json_value(item) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if isinstance(value, str):
        image = _base64_image(value)
        if image is not None:
            return image_placeholder(image), True
    return value, False


def _parse_json(body: bytes) -> tuple[bool, Any]:
    try:
        return True, json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False, None


def _looks_like_json(media_type: str, body: bytes) -> bool:
    return "json" in media_type or body.lstrip()[:1] in (b"{", b"[")


def _scrub_body(content_type: str, body: bytes) -> tuple[bytes, str | None]:
    """The scrubbed body, and the new Content-Type when it had to change (multipart).

    Pure and idempotent: scrubbing a scrubbed body changes nothing.
    """
    if not body:
        return body, None
    media_type = _media_type(content_type)
    if media_type.startswith("multipart/") or body.startswith(b"--"):
        boundary = _boundary(content_type, body)
        scrubbed = _scrub_multipart(body, boundary) if boundary else None
        if scrubbed is not None:
            new_type = f"{media_type or 'multipart/form-data'}; boundary={_BOUNDARY}"
            return scrubbed, new_type
    if _is_placeholder(body):
        return body, None
    if (
        media_type.startswith("image/")
        or media_type == "application/octet-stream"
        or image_kind(body) is not None
    ):
        return image_placeholder(body).encode(), None
    if _looks_like_json(media_type, body):
        ok, value = _parse_json(body)
        if ok:
            value, changed = _scrub_json_value(value)
            if changed:
                return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(), None
    return body, None


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(part.encode() if isinstance(part, str) else bytes(part) for part in body)


def _request_body(request: Any) -> bytes:
    body = getattr(request, "body_bytes", None)
    if body is None:
        body = request.body
    return _body_bytes(body)
