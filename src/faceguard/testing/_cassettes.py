"""The vcrpy configuration for faceguard cassettes: scrubbed, image-free, matched on digests.

A cassette recorded with this configuration holds no subscription key, no bearer token, no
liveness ``authToken``, no image, no id and no host in clear: request headers are reduced to
``Content-Type``; request images (octet-stream uploads, the image parts of multipart uploads,
base64 images inside JSON) become ``sha256:<hex>`` placeholders, and so do image responses;
every UUID (faceIds, personIds, persistedFaceIds, session ids, in any spelling, in URLs,
headers and bodies) becomes a stable placeholder UUID (``_ids``); the resource's origin and
the timestamps in responses become stable placeholders too (``_stable``). Requests are matched
on method, path, query and the digest of the scrubbed body, so a replay still fails when a
test sends a different image, or names another id, than the one recorded; the matcher's
message says which JSON fields differ (``_diff``).

The bodies are scrubbed by ``_bodies``, the ids by ``_ids``, origins and times by
``_stable``; this module holds the vcrpy hooks around them, the ``body_digest`` matcher and
the configuration. vcrpy is imported only by the functions that build a ``vcr.VCR``;
importing this module (or ``faceguard``) never loads it.
"""

from __future__ import annotations

import importlib
import json
import os
from types import ModuleType
from typing import Any

from .._exceptions import ConfigurationError
from ._bodies import (
    PLACEHOLDER,
    _body_bytes,
    _content_type,
    _looks_like_json,
    _media_type,
    _parse_json,
    _request_body,
    _scrub_body,
    image_kind,
    image_placeholder,
)
from ._diff import describe_body_difference, describe_query_difference
from ._ids import IdPlaceholders
from ._modes import RECORD_MODE_ENV, current, record_mode
from ._stable import StablePlaceholders

__all__ = [
    "CassetteScrubber",
    "MATCH_ON",
    "PLACEHOLDER",
    "RECORD_MODE_ENV",
    "body_digest",
    "image_kind",
    "image_placeholder",
    "make_vcr",
    "query_params",
    "record_mode",
    "register_matchers",
    "request_body_digest",
    "scrub_request",
    "scrub_response",
    "use_cassette",
    "vcr_config",
]


MATCH_ON = ("method", "path", "query_params", "body_digest")
"""How a request finds its recorded interaction: scheme, host and port are left out, so a
cassette recorded against one endpoint replays against another. ``query_params`` is vcrpy's
``query`` (the same sorted pairs) with a message naming the parameters that differ."""

_INSTALL_HINT = 'pip install "faceguard[testing]"'

_KEPT_REQUEST_HEADERS = frozenset({"content-type"})
"""The request headers a cassette keeps: the only one matching reads (``body_digest`` parses
the body by its type). Keys, tokens, cookies, the user agent and request ids never reach it."""
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
_DIGEST_IDS = IdPlaceholders(numbered=False)
"""The plain hooks' ids: each becomes the placeholder derived from it (no per-cassette state)."""


# --- vcrpy hooks -----------------------------------------------------------------------------


def scrub_request(request: Any) -> Any:
    """vcrpy's ``before_record_request``: the request as a cassette may hold it.

    Only the headers that matter for matching are kept: ``Content-Type`` (how the body is
    read). Everything else goes, the subscription key, ``Authorization``, cookies, the user
    agent (faceguard's and Python's versions), ``x-ms-client-request-id``, so a cassette holds
    no credential and re-recording on another machine changes no header line. The URI's
    origin becomes ``https://resource.faceguard.invalid`` (``_stable``). Image bodies become
    ``sha256:<hex>``; in a multipart body each image part does and the text parts stay (the
    random boundary is replaced by a fixed one); in a JSON body each base64 image string does
    and token values (``authToken`` and the like) become ``<redacted>``. Every UUID in the URL
    and the body becomes the placeholder derived from it (a ``CassetteScrubber``, which
    ``use_cassette`` and ``vcr_config`` use, numbers the ids the service issued instead, so
    re-recording changes no line). vcrpy hands this hook a copy, which is changed in place
    and returned.
    """
    return _scrub_request(request, _DIGEST_IDS, StablePlaceholders())


def _scrub_request(request: Any, ids: IdPlaceholders, stable: StablePlaceholders) -> Any:
    headers = request.headers
    for name in list(headers.keys()):
        if str(name).lower() not in _KEPT_REQUEST_HEADERS:
            del headers[name]
    uri = ids.scrub(stable.uri(request.uri), issued=False)
    if uri != request.uri:
        request.uri = uri
    body = _request_body(request)
    scrubbed, content_type = _scrub_body(_content_type(headers), body)
    scrubbed = ids.scrub_bytes(scrubbed, issued=False)
    scrubbed = stable.text(scrubbed.decode("latin-1")).encode("latin-1")
    if scrubbed != body:
        request.body = scrubbed
        for name in list(headers.keys()):
            if str(name).lower() == "content-type" and content_type is not None:
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
    ``scrub_request``; the origin an ``Operation-Location`` names becomes
    ``https://resource.faceguard.invalid`` (a ``CassetteScrubber`` also replaces, in headers
    and bodies, every origin its requests named), and timestamps in headers and bodies become
    numbered placeholders from ``2000-01-01T00:00:00`` (``_stable``).
    """
    return _scrub_response(response, _DIGEST_IDS, StablePlaceholders())


def _scrub_response(response: Any, ids: IdPlaceholders, stable: StablePlaceholders) -> Any:
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
            location = lowered == "operation-location"
            if isinstance(values, list):
                headers[name] = [
                    _scrub_header_value(v, ids, stable, location) if isinstance(v, str) else v
                    for v in values
                ]
            elif isinstance(values, str):
                headers[name] = _scrub_header_value(values, ids, stable, location)
    body_holder = response.get("body")
    if not isinstance(body_holder, dict) or "string" not in body_holder:
        return response
    original = body_holder["string"]
    if not isinstance(original, (str, bytes)):
        return response
    body = _body_bytes(original)
    scrubbed, _ = _scrub_body(_content_type(headers), body)
    scrubbed = ids.scrub_bytes(scrubbed, issued=True)
    scrubbed = stable.times(stable.text(scrubbed.decode("latin-1"))).encode("latin-1")
    if scrubbed != body:
        body_holder["string"] = scrubbed.decode("utf-8") if isinstance(original, str) else scrubbed
        if isinstance(headers, dict):
            for name in list(headers):
                if str(name).lower() == "content-length":
                    headers[name] = [str(len(scrubbed))]
    return response


def _scrub_header_value(
    value: str, ids: IdPlaceholders, stable: StablePlaceholders, location: bool
) -> str:
    """A kept response header's value: ids, origins (an ``Operation-Location`` always points
    at the resource, whatever origin it names) and timestamps as placeholders."""
    if location:
        value = stable.uri(value)
    return stable.times(stable.text(ids.scrub(value, issued=True)))


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


def body_digest(r1: Any, r2: Any) -> None:
    """The vcrpy matcher ``body_digest``: the scrubbed bodies of both requests are the same.

    Raises ``AssertionError`` saying what differs (``_diff``): the JSON fields, one per line
    (``maxNumOfCandidatesReturned: 1 != 2``), the multipart parts, an image by its ``sha256:``
    digest; never a body, an image or an id in clear.
    """
    if request_body_digest(r1) == request_body_digest(r2):
        return
    raise AssertionError("\n".join(describe_body_difference(r1, r2)))


def query_params(r1: Any, r2: Any) -> None:
    """The vcrpy matcher ``query_params``: vcrpy's ``query`` (the same parameters and values,
    in any order), whose ``AssertionError`` names the parameters that differ, one per line
    (``returnFaceId: "true" != "false"``)."""
    lines = describe_query_difference(r1, r2)
    if lines:
        raise AssertionError("\n".join(lines))


class CassetteScrubber:
    """The vcrpy hooks of one cassette: ``scrub_request`` and ``scrub_response`` sharing one
    id mapping, so an id the service issued gets the same numbered placeholder in every
    request and response of the cassette (see ``_ids``), and one origin and timestamp mapping
    (``_stable``). ``seed=False`` for a cassette
    recorded afresh (its old interactions dropped), so numbering starts again at 1."""

    def __init__(self, *, seed: bool = True) -> None:
        self.ids = IdPlaceholders(seed=seed)
        self.stable = StablePlaceholders()

    def reset(self) -> None:
        """Forget every id and origin met so far (numbering starts again at 1)."""
        self.ids = IdPlaceholders(seed=False)
        self.stable = StablePlaceholders()

    def __deepcopy__(self, memo: dict[int, Any]) -> CassetteScrubber:
        # pytest-recording deep-copies its configuration (the hooks bound to this object):
        # the copy must share the one mapping of the cassette, and a lock cannot be copied.
        return self

    def request(self, request: Any) -> Any:
        """``before_record_request``."""
        return _scrub_request(request, self.ids, self.stable)

    def response(self, response: Any) -> Any:
        """``before_record_response``."""
        return _scrub_response(response, self.ids, self.stable)


# --- configuration ---------------------------------------------------------------------------


def _effective_mode() -> str:
    """The record mode of this pytest run (``--faceguard-record-mode``, pytest-recording's
    ``--record-mode``, ``FACEGUARD_RECORD_MODE``), or ``FACEGUARD_RECORD_MODE``'s outside
    pytest."""
    settings = current()
    return record_mode() if settings is None else settings.current_mode()


def _pinned_mode() -> str | None:
    """The record mode ``vcr_config()`` names; ``None`` when pytest-recording's
    ``--record-mode`` was given in this pytest run (it decides then)."""
    settings = current()
    if settings is not None and settings.pytest_recording_mode is not None:
        return None
    return _effective_mode()


def vcr_config(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of a faceguard ``vcr.VCR``, with ``overrides`` applied.

    For pytest-recording's ``vcr_config`` fixture, and for ``vcr.VCR(**vcr_config())``. Both
    need the ``query_params`` and ``body_digest`` matchers registered on the VCR object:
    ``make_vcr()`` and ``use_cassette()`` do it, ``register_matchers(vcr)`` does it for a VCR
    built elsewhere (faceguard's pytest plugin does it for pytest-recording's, from its
    ``pytest_recording_configure`` hook).

    Each call makes a new ``CassetteScrubber``: give each cassette its own configuration (a
    function-scoped ``vcr_config`` fixture) so its ids are numbered from 1.

    The record mode is faceguard's (``--faceguard-record-mode``, ``FACEGUARD_RECORD_MODE``,
    ``none`` by default), except in a pytest run given pytest-recording's ``--record-mode``:
    then it is left out, so that option decides (pytest-recording lets a ``record_mode`` in
    ``vcr_config`` override its command line).
    """
    scrubber = CassetteScrubber()
    config: dict[str, Any] = {
        "match_on": MATCH_ON,
        "before_record_request": scrubber.request,
        "before_record_response": scrubber.response,
        "decode_compressed_response": True,
    }
    mode = _pinned_mode()
    if mode is not None:
        config["record_mode"] = mode
    config.update(overrides)
    return config


def _vcr_module() -> ModuleType:
    try:
        return importlib.import_module("vcr")
    except ImportError as exc:
        raise ConfigurationError(f"faceguard.testing needs vcrpy: {_INSTALL_HINT}") from exc


def register_matchers(vcr: Any) -> Any:
    """Register the ``query_params`` and ``body_digest`` matchers on a ``vcr.VCR`` object;
    returns it."""
    vcr.register_matcher("query_params", query_params)
    vcr.register_matcher("body_digest", body_digest)
    return vcr


def make_vcr(**overrides: Any) -> Any:
    """A ``vcr.VCR`` with faceguard's configuration and its ``body_digest`` matcher.

    Raises ``ConfigurationError`` when vcrpy is not installed (``pip install
    "faceguard[testing]"``).
    """
    module = _vcr_module()
    config = vcr_config(**overrides)
    config.setdefault("record_mode", _effective_mode())  # vcrpy's own default would be "all"
    return register_matchers(module.VCR(**config))


def use_cassette(path: str | os.PathLike[str], **overrides: Any) -> Any:
    """``with use_cassette("tests/cassettes/detect.yaml"): ...``, with faceguard's configuration.

    ``overrides`` are vcrpy's ``use_cassette`` options (``record_mode``,
    ``allow_playback_repeats`` ...). Usable as a context manager or a decorator.

    The cassette gets its own ``CassetteScrubber``. Recorded afresh (record mode ``all`` with
    ``drop_unused_requests=True``, as ``faceguard_cassette`` does), its ids are numbered from
    1 again, so re-recording an unchanged flow changes no line; otherwise new ids are numbered
    after the placeholders the cassette already holds.
    """
    mode = overrides.get("record_mode", _effective_mode())
    fresh = str(mode) in ("all", "RecordMode.ALL") and bool(overrides.get("drop_unused_requests"))
    scrubber = CassetteScrubber(seed=not fresh)
    hooks = {"before_record_request": scrubber.request, "before_record_response": scrubber.response}
    options = {"record_mode": mode, **hooks, **overrides}
    return make_vcr(**hooks).use_cassette(os.fspath(path), **options)
