"""The vcrpy configuration for faceguard cassettes: scrubbed, image-free, matched on digests.

A cassette recorded with this configuration holds no subscription key, no bearer token, no
liveness ``authToken``, no image and no id in clear: request images (octet-stream uploads, the
image parts of multipart uploads, base64 images inside JSON) become ``sha256:<hex>``
placeholders, and so do image responses; every UUID (faceIds, personIds, persistedFaceIds,
session ids, in any spelling, in URLs, headers and bodies) becomes a stable placeholder UUID
(``_ids``). Requests are matched on method, path, query and the digest of the scrubbed body,
so a replay still fails when a test sends a different image, or names another id, than the
one recorded.

vcrpy is imported only by the functions that build a ``vcr.VCR``; importing this module (or
``faceguard``) never loads it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import json
import os
import re
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from .._exceptions import ConfigurationError
from ._ids import IdPlaceholders

__all__ = [
    "CassetteScrubber",
    "MATCH_ON",
    "PLACEHOLDER",
    "RECORD_MODE_ENV",
    "body_digest",
    "image_kind",
    "image_placeholder",
    "make_vcr",
    "record_mode",
    "register_matchers",
    "request_body_digest",
    "scrub_request",
    "scrub_response",
    "use_cassette",
    "vcr_config",
]

PLACEHOLDER = "<redacted>"
"""What a scrubbed credential or token is replaced with."""

RECORD_MODE_ENV = "FACEGUARD_RECORD_MODE"
"""The environment variable holding the vcrpy record mode; ``none`` when unset."""

MATCH_ON = ("method", "path", "query", "body_digest")
"""How a request finds its recorded interaction: scheme, host and port are left out, so a
cassette recorded against one endpoint replays against another."""

RECORD_MODES = ("all", "any", "new_episodes", "none", "once")
"""vcrpy's record modes."""

_INSTALL_HINT = 'pip install "faceguard[testing]"'
_BOUNDARY = "faceguard-cassette-boundary"
"""Multipart bodies are rewritten with this boundary: faceguard picks a random one per call."""

_DIGEST_PREFIX = "sha256:"
_PLACEHOLDER_RE = re.compile(rb"sha256:[0-9a-f]{64}")

_SECRET_REQUEST_HEADERS = frozenset(
    {"ocp-apim-subscription-key", "authorization", "proxy-authorization", "cookie"}
)
_DROPPED_REQUEST_HEADERS = frozenset({"x-ms-client-request-id"})
_DROPPED_RESPONSE_HEADERS = frozenset(
    {
        "apim-request-id",
        "date",
        "request-context",
        "server",
        "set-cookie",
        "x-ms-client-request-id",
        "x-ms-correlation-request-id",
        "x-ms-request-id",
        "x-ms-routing-request-id",
        "x-request-id",
    }
)
_DROPPED_RESPONSE_PREFIXES = ("x-envoy-", "x-ratelimit-", "x-ms-ratelimit-")
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
_DIGEST_IDS = IdPlaceholders(numbered=False)
"""The plain hooks' ids: each becomes the placeholder derived from it (no per-cassette state)."""


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


# --- vcrpy hooks -----------------------------------------------------------------------------


def _scrub_authorization(value: str) -> str:
    scheme, space, _ = value.strip().partition(" ")
    return f"{scheme} {PLACEHOLDER}" if space else PLACEHOLDER


def scrub_request(request: Any) -> Any:
    """vcrpy's ``before_record_request``: the request as a cassette may hold it.

    ``Ocp-Apim-Subscription-Key``, ``Authorization`` (its scheme kept), ``Proxy-Authorization``
    and ``Cookie`` values become ``<redacted>``; ``x-ms-client-request-id`` (new on every call)
    is dropped. Image bodies become ``sha256:<hex>``; in a multipart body each image part does
    and the text parts stay (the random boundary is replaced by a fixed one); in a JSON body
    each base64 image string does and token values (``authToken`` and the like) become
    ``<redacted>``. Every UUID in the URL, the headers and the body becomes the placeholder
    derived from it (a ``CassetteScrubber``, which ``use_cassette`` and ``vcr_config`` use,
    numbers the ids the service issued instead, so re-recording changes no line). vcrpy hands
    this hook a copy, which is changed in place and returned.
    """
    return _scrub_request(request, _DIGEST_IDS)


def _scrub_request(request: Any, ids: IdPlaceholders) -> Any:
    headers = request.headers
    for name in list(headers.keys()):
        lowered = str(name).lower()
        if lowered in _DROPPED_REQUEST_HEADERS:
            del headers[name]
        elif lowered == "authorization" or lowered == "proxy-authorization":
            headers[name] = _scrub_authorization(str(headers[name]))
        elif lowered in _SECRET_REQUEST_HEADERS:
            headers[name] = PLACEHOLDER
        else:
            value = str(headers[name])
            if ids.scrub(value, issued=False) != value:
                headers[name] = ids.scrub(value, issued=False)
    uri = ids.scrub(request.uri, issued=False)
    if uri != request.uri:
        request.uri = uri
    body = _request_body(request)
    scrubbed, content_type = _scrub_body(_content_type(headers), body)
    scrubbed = ids.scrub_bytes(scrubbed, issued=False)
    if scrubbed != body:
        request.body = scrubbed
        for name in list(headers.keys()):
            lowered = str(name).lower()
            if lowered == "content-length":
                headers[name] = str(len(scrubbed))
            elif lowered == "content-type" and content_type is not None:
                headers[name] = content_type
    return request


def scrub_response(response: Any) -> Any:
    """vcrpy's ``before_record_response``: the response as a cassette may hold it.

    Headers that change on every call (``apim-request-id``, ``date``, ``x-envoy-*``,
    ``set-cookie`` ...) are dropped; ``content-type``, ``x-ms-error-code``, ``retry-after``
    and ``operation-location`` are kept. Token values in a JSON body (the liveness
    ``authToken``) become ``<redacted>`` and base64 images ``sha256:<hex>``; an image body
    (a session image) becomes ``sha256:<hex>`` as a whole, so a replay returns those bytes.
    Every UUID in the kept headers and the body becomes a placeholder, as in
    ``scrub_request``.
    """
    return _scrub_response(response, _DIGEST_IDS)


def _scrub_response(response: Any, ids: IdPlaceholders) -> Any:
    if not isinstance(response, dict):
        return response
    headers = response.get("headers")
    if isinstance(headers, dict):
        for name in list(headers):
            lowered = str(name).lower()
            if lowered in _DROPPED_RESPONSE_HEADERS or lowered.startswith(
                _DROPPED_RESPONSE_PREFIXES
            ):
                del headers[name]
                continue
            values = headers[name]
            if isinstance(values, list):
                headers[name] = [
                    ids.scrub(v, issued=True) if isinstance(v, str) else v for v in values
                ]
            elif isinstance(values, str):
                headers[name] = ids.scrub(values, issued=True)
    body_holder = response.get("body")
    if not isinstance(body_holder, dict) or "string" not in body_holder:
        return response
    original = body_holder["string"]
    if not isinstance(original, (str, bytes)):
        return response
    body = _body_bytes(original)
    scrubbed, _ = _scrub_body(_content_type(headers), body)
    scrubbed = ids.scrub_bytes(scrubbed, issued=True)
    if scrubbed != body:
        body_holder["string"] = scrubbed.decode("utf-8") if isinstance(original, str) else scrubbed
        if isinstance(headers, dict):
            for name in list(headers):
                if str(name).lower() == "content-length":
                    headers[name] = [str(len(scrubbed))]
    return response


def _canonical(content_type: str, body: bytes) -> bytes:
    scrubbed, new_type = _scrub_body(content_type, body)
    media_type = _media_type(new_type or content_type)
    if not media_type.startswith("multipart/") and _looks_like_json(media_type, scrubbed):
        ok, value = _parse_json(scrubbed)
        if ok:
            return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return scrubbed


def request_body_digest(request: Any) -> str:
    """``sha256:<hex>`` of a request's scrubbed, canonical body.

    Images count through their placeholders, a multipart body regardless of its boundary, a
    JSON body regardless of key order and spacing. The same for a live request and for its
    recording.
    """
    canonical = _canonical(_content_type(request.headers), _request_body(request))
    return image_placeholder(canonical)


def _images(request: Any) -> list[str]:
    scrubbed, _ = _scrub_body(_content_type(request.headers), _request_body(request))
    return sorted({match.decode() for match in _PLACEHOLDER_RE.findall(scrubbed)})


def body_digest(r1: Any, r2: Any) -> None:
    """The vcrpy matcher ``body_digest``: the scrubbed bodies of both requests are the same.

    Raises ``AssertionError`` naming both digests (and the image placeholders, which tell
    which image was sent and which was recorded); never the bodies themselves.
    """
    first, second = request_body_digest(r1), request_body_digest(r2)
    if first == second:
        return
    detail = f"body digest {first} != {second}"
    images_1, images_2 = _images(r1), _images(r2)
    if images_1 != images_2:
        shown_1 = ", ".join(images_1) or "none"
        shown_2 = ", ".join(images_2) or "none"
        detail += f"; images: [{shown_1}] != [{shown_2}] (a different image was sent)"
    raise AssertionError(detail)


class CassetteScrubber:
    """The vcrpy hooks of one cassette: ``scrub_request`` and ``scrub_response`` sharing one
    id mapping, so an id the service issued gets the same numbered placeholder in every
    request and response of the cassette (see ``_ids``). ``seed=False`` for a cassette
    recorded afresh (its old interactions dropped), so numbering starts again at 1."""

    def __init__(self, *, seed: bool = True) -> None:
        self.ids = IdPlaceholders(seed=seed)

    def request(self, request: Any) -> Any:
        """``before_record_request``."""
        return _scrub_request(request, self.ids)

    def response(self, response: Any) -> Any:
        """``before_record_response``."""
        return _scrub_response(response, self.ids)


# --- configuration ---------------------------------------------------------------------------


def record_mode(environ: Mapping[str, str] | None = None) -> str:
    """The record mode named by ``FACEGUARD_RECORD_MODE``; ``none`` when it is unset or empty.

    ``none`` never records: a request missing from the cassette fails, as it should in CI.
    Set ``FACEGUARD_RECORD_MODE=once`` (or ``new_episodes``, ``all``) on a developer machine
    to record.
    """
    env = os.environ if environ is None else environ
    value = env.get(RECORD_MODE_ENV, "").strip().lower() or "none"
    if value not in RECORD_MODES:
        raise ConfigurationError(
            f"{RECORD_MODE_ENV}={value!r} is not a vcrpy record mode; "
            f"use one of {', '.join(RECORD_MODES)}"
        )
    return value


def vcr_config(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of a faceguard ``vcr.VCR``, with ``overrides`` applied.

    For pytest-recording's ``vcr_config`` fixture, and for ``vcr.VCR(**vcr_config())``. Both
    need the ``body_digest`` matcher registered on the VCR object: ``make_vcr()`` and
    ``use_cassette()`` do it, ``register_matchers(vcr)`` does it for a VCR built elsewhere
    (with pytest-recording, from its ``pytest_recording_configure`` hook).

    Each call makes a new ``CassetteScrubber``: give each cassette its own configuration (a
    function-scoped ``vcr_config`` fixture) so its ids are numbered from 1.
    """
    scrubber = CassetteScrubber()
    config: dict[str, Any] = {
        "record_mode": record_mode(),
        "match_on": MATCH_ON,
        "before_record_request": scrubber.request,
        "before_record_response": scrubber.response,
        "decode_compressed_response": True,
    }
    config.update(overrides)
    return config


def _vcr_module() -> ModuleType:
    try:
        return importlib.import_module("vcr")
    except ImportError as exc:
        raise ConfigurationError(f"faceguard.testing needs vcrpy: {_INSTALL_HINT}") from exc


def register_matchers(vcr: Any) -> Any:
    """Register the ``body_digest`` matcher on a ``vcr.VCR`` object; returns it."""
    vcr.register_matcher("body_digest", body_digest)
    return vcr


def make_vcr(**overrides: Any) -> Any:
    """A ``vcr.VCR`` with faceguard's configuration and its ``body_digest`` matcher.

    Raises ``ConfigurationError`` when vcrpy is not installed (``pip install
    "faceguard[testing]"``).
    """
    module = _vcr_module()
    return register_matchers(module.VCR(**vcr_config(**overrides)))


def use_cassette(path: str | os.PathLike[str], **overrides: Any) -> Any:
    """``with use_cassette("tests/cassettes/detect.yaml"): ...``, with faceguard's configuration.

    ``overrides`` are vcrpy's ``use_cassette`` options (``record_mode``,
    ``allow_playback_repeats`` ...). Usable as a context manager or a decorator.

    The cassette gets its own ``CassetteScrubber``. Recorded afresh (record mode ``all`` with
    ``drop_unused_requests=True``, as ``faceguard_cassette`` does), its ids are numbered from
    1 again, so re-recording an unchanged flow changes no line; otherwise new ids are numbered
    after the placeholders the cassette already holds.
    """
    mode = overrides.get("record_mode", record_mode())
    fresh = str(mode) in ("all", "RecordMode.ALL") and bool(overrides.get("drop_unused_requests"))
    scrubber = CassetteScrubber(seed=not fresh)
    hooks = {"before_record_request": scrubber.request, "before_record_response": scrubber.response}
    return make_vcr(**hooks).use_cassette(os.fspath(path), **{**hooks, **overrides})
