"""What differs between a request and its recording, said so that a person can act on it.

Two bodies that do not match are described by their differences, never by their content:

- JSON bodies by the fields that differ, one per line, ``maxNumOfCandidatesReturned: 1 != 2``
  (the sent value first, the recorded second), nested fields by their path
  (``faceIds[1]``, ``properties.name``), a field only one side has as ``<missing>``;
- multipart bodies by the parts that differ, named by their ``name=``;
- query strings by the parameters that differ, ``returnFaceId: "true" != "false"``;
- an image (a whole body, a multipart part or a base64 string inside JSON) only by the
  ``sha256:`` digest the cassette holds, and anything else that is not JSON by its digest.

Both sides are scrubbed first (the same scrubbing the cassette got), so ids read as their
placeholders and keys, tokens and images never appear. A value is shown as compact JSON and
cut at ``_WIDTH`` characters; at most ``_MAX_LINES`` differences are listed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._bodies import (
    _boundary,
    _content_type,
    _looks_like_json,
    _media_type,
    _parse_json,
    _request_body,
    _scrub_body,
    _split_multipart,
    image_placeholder,
)

__all__ = ["describe_body_difference", "describe_query_difference"]

_WIDTH = 60
_MAX_LINES = 12
_MISSING = object()
_PART_NAME = re.compile(rb'name="([^"]*)"', re.IGNORECASE)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _shown(value: Any) -> str:
    if value is _MISSING:
        return "<missing>"
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True, sort_keys=True)
    if isinstance(value, str) and _DIGEST.fullmatch(value):
        return text  # an image's digest is its name: never cut
    return text if len(text) <= _WIDTH else text[: _WIDTH - 3] + "..."


def _json_differences(sent: Any, recorded: Any, path: str, out: list[str]) -> None:
    if isinstance(sent, dict) and isinstance(recorded, dict):
        for key in sorted(set(sent) | set(recorded), key=str):
            child = f"{path}.{key}" if path else str(key)
            _json_differences(sent.get(key, _MISSING), recorded.get(key, _MISSING), child, out)
        return
    if isinstance(sent, list) and isinstance(recorded, list):
        for index in range(max(len(sent), len(recorded))):
            left = sent[index] if index < len(sent) else _MISSING
            right = recorded[index] if index < len(recorded) else _MISSING
            _json_differences(left, right, f"{path}[{index}]", out)
        return
    if sent is _MISSING and recorded is _MISSING:
        return
    if type(sent) is not type(recorded) or sent != recorded:
        out.append(f"{path or '<body>'}: {_shown(sent)} != {_shown(recorded)}")


def _scrubbed(request: Any) -> tuple[str, bytes]:
    content_type = _content_type(request.headers)
    body, new_type = _scrub_body(content_type, _request_body(request))
    return _media_type(new_type or content_type), body


def _parts(content_type: str, body: bytes) -> dict[str, bytes] | None:
    boundary = _boundary(content_type, body)
    parts = _split_multipart(body, boundary) if boundary else None
    if parts is None:
        return None
    named: dict[str, bytes] = {}
    for index, (head, content) in enumerate(parts):
        match = _PART_NAME.search(head)
        name = match.group(1).decode("latin-1") if match else f"part {index + 1}"
        named[name] = content
    return named


def _part_shown(content: bytes | None) -> str:
    if content is None:
        return "<missing>"
    text = content.decode("latin-1")
    if text.startswith("sha256:") or not text.isprintable():
        return text if text.startswith("sha256:") else image_placeholder(content)
    return _shown(text)


def describe_body_difference(sent: Any, recorded: Any) -> list[str]:
    """The lines describing how the body of ``sent`` (the live request) differs from the body
    of ``recorded``; empty when the scrubbed bodies are the same."""
    sent_type, sent_body = _scrubbed(sent)
    recorded_type, recorded_body = _scrubbed(recorded)
    if sent_body == recorded_body:
        return []
    if _looks_like_json(sent_type, sent_body) and _looks_like_json(recorded_type, recorded_body):
        ok_sent, sent_value = _parse_json(sent_body)
        ok_recorded, recorded_value = _parse_json(recorded_body)
        if ok_sent and ok_recorded:
            lines: list[str] = []
            _json_differences(sent_value, recorded_value, "", lines)
            if not lines:
                return []  # the same JSON, spelled otherwise (key order, spacing)
            extra = len(lines) - _MAX_LINES
            return lines[:_MAX_LINES] + ([f"... and {extra} more"] if extra > 0 else [])
    if sent_type.startswith("multipart/") and recorded_type.startswith("multipart/"):
        sent_parts = _parts(sent_type, sent_body) or {}
        recorded_parts = _parts(recorded_type, recorded_body) or {}
        lines = [
            f"part {name!r}: {_part_shown(sent_parts.get(name))} != "
            f"{_part_shown(recorded_parts.get(name))}"
            for name in sorted(set(sent_parts) | set(recorded_parts))
            if sent_parts.get(name) != recorded_parts.get(name)
        ]
        if lines:
            return lines[:_MAX_LINES]
    return [f"body: {_digest_of(sent_body)} != {_digest_of(recorded_body)}"]


def _digest_of(body: bytes) -> str:
    """A scrubbed body that is a single image placeholder is shown as it is, any other body
    by the digest of its bytes (never the bytes)."""
    text = body.strip().decode("latin-1")
    if _DIGEST.fullmatch(text):
        return text
    return f"{image_placeholder(body)} ({len(body)} bytes)" if body else "<empty>"


def describe_query_difference(sent: Any, recorded: Any) -> list[str]:
    """The lines saying which query parameters of ``sent`` differ from ``recorded``'s (vcrpy
    requests: ``.query`` is the sorted list of name/value pairs); empty when they match."""
    if sent.query == recorded.query:
        return []
    sent_values: dict[str, list[str]] = {}
    recorded_values: dict[str, list[str]] = {}
    for pairs, values in ((sent.query, sent_values), (recorded.query, recorded_values)):
        for name, value in pairs:
            values.setdefault(name, []).append(value)
    lines = []
    for name in sorted(set(sent_values) | set(recorded_values)):
        left, right = sent_values.get(name), recorded_values.get(name)
        if left != right:
            shown = [
                _shown(_MISSING if v is None else v[0] if len(v) == 1 else v) for v in (left, right)
            ]
            lines.append(f"{name}: {shown[0]} != {shown[1]}")
    return lines[:_MAX_LINES]
