"""Read a request as it will go on the wire, in one canonical form the guard can decide on.

The service is lenient in ways an attacker can use: its route and parameter names are
case-insensitive, it reads percent-encoded paths, and a JSON reader may take the first or the
last of two equal keys. So before any decision the request is canonicalised, and anything
that could be read two ways is refused (fail closed):

- the host is ignored (any alias, IP literal or ``Host`` header reaches some Face resource);
  the path is percent-decoded once and must then be plain: no ``%``, ``\\``, ``;``, empty or
  dot segments; it must be a route of the table (``_routes``) under the service's prefix;
- method-override headers and request ``Content-Encoding`` are refused;
- every query parameter must be one of the contract's names, spelled exactly, and appear once;
- a JSON body must parse strictly, with no key twice at any depth (letter case ignored).

What comes out (``WireRequest``) is what the decision in ``_wire_check`` reads.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import unquote, unquote_to_bytes

from .._constants import CONTENT_SAFETY_API_PATH, FACE_API_PATH
from .._exceptions import GuardError, UnknownRouteError
from ._routes import CONTENT_SAFETY_QUERY, FACE_QUERY, Route, match_route

__all__ = ["WireRequest", "read_request"]

_OVERRIDE_HEADERS = frozenset((b"x-http-method-override", b"x-http-method", b"x-method-override"))
_SINGLE_HEADERS = (b"content-type", b"content-encoding", b"transfer-encoding")
_FACE_PREFIX = FACE_API_PATH.lower()
_SAFETY_PREFIX = CONTENT_SAFETY_API_PATH.lower()


class WireRequest(NamedTuple):
    """One request in canonical form (a named tuple: one is built per request)."""

    route: Route
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    """Parameter name (the contract's spelling) → decoded value."""
    content: bytes
    body: Any
    """The parsed JSON body, when the body is JSON."""
    form: Mapping[str, str]
    """The text fields of a multipart body."""
    content_type: str

    def __repr__(self) -> str:  # bodies hold faceIds and images: never in a repr
        return f"WireRequest({self.route.method} {self.route.template})"


def _refuse(message: str) -> GuardError:
    return GuardError(f"ambiguous request refused: {message}")


_NO_QUERY: Mapping[str, str] = MappingProxyType({})
_UNPLAIN = re.compile(r"[%\\;\x00-\x20\x7f]")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@functools.lru_cache(maxsize=1024)
def _plain_path(raw_path: bytes) -> str:
    """The decoded path (only successful decodings are remembered: a refusal raises again)."""
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8", "strict")
    except UnicodeDecodeError:
        raise UnknownRouteError("a request path that is not UTF-8 is denied") from None
    if _UNPLAIN.search(path):
        raise UnknownRouteError("a request path with encoded, control or ';' characters is denied")
    return path


@functools.lru_cache(maxsize=64)
def _heads(prefixes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(lower-case path head, service) pairs to look for, longest prefix first."""
    return tuple(
        (prefix + api + "/", service)
        for prefix in prefixes
        for service, api in (("face", _FACE_PREFIX), ("contentsafety", _SAFETY_PREFIX))
    )


def _locate(path: str, prefixes: tuple[str, ...]) -> tuple[str, list[str]]:
    """(service, route segments) of a decoded path; UnknownRouteError for anything else.

    ``prefixes`` longest first."""
    lowered = path.lower()
    for head, service in _heads(prefixes):
        if lowered.startswith(head):
            segments = path[len(head) :].split("/")
            if "" in segments or "." in segments or ".." in segments:
                raise UnknownRouteError("a request path with empty or dot segments is denied")
            return service, segments
    raise UnknownRouteError(
        "a request to a path that is not a Face or Content Safety route is denied: a client's "
        "http_client carries only the service's traffic (use another httpx client for the rest)"
    )


@functools.lru_cache(maxsize=1024)
def _route_of(
    method: str, raw_path: bytes, prefixes: tuple[str, ...]
) -> tuple[Route, Mapping[str, str]]:
    """The route and path parameters of a request line; remembered per (method, raw path),
    since an application repeats a few (verify, identify and detect have no ids in their
    path), and only when accepted: a refusal raises every time. The parameters are shared
    between calls, so they are read-only."""
    service, segments = _locate(_plain_path(raw_path), prefixes)
    matched = match_route(service, method.upper(), segments)
    if matched is None:
        raise UnknownRouteError(
            f"a route faceguard does not know: {method.upper()} (unknown routes are denied; a "
            "new API version needs an allowlist update)"
        )
    route, params = matched
    return route, MappingProxyType(dict(params))


def _canonical_name(name: str) -> str:
    """What a lenient server could read a parameter name as."""
    if _PLAIN_NAME.fullmatch(name):
        return name.lower()
    name = unicodedata.normalize("NFKC", name)
    return "".join(c for c in name if unicodedata.category(c)[0] not in "CZ").lower()


@functools.lru_cache(maxsize=512)
def _read_query(raw_query: bytes, service: str) -> Mapping[str, str]:
    """The query's names and values; remembered per raw query (an application repeats a
    few), only when accepted: a refusal raises every time. Shared between calls: read-only."""
    known = FACE_QUERY if service == "face" else CONTENT_SAFETY_QUERY
    query: dict[str, str] = {}
    if not raw_query:
        return _NO_QUERY
    for pair in raw_query.split(b"&"):
        if not pair:
            raise _refuse("an empty query parameter")
        raw_name, _, raw_value = pair.partition(b"=")
        try:
            name = unquote(raw_name.decode("ascii").replace("+", " "), errors="strict")
            value = unquote(raw_value.decode("ascii").replace("+", " "), errors="strict")
        except UnicodeError:
            raise _refuse("a query parameter that is not ASCII/UTF-8") from None
        canonical = known.get(_canonical_name(name))
        if canonical is None:
            raise _refuse("a query parameter the contract does not define (name withheld)")
        if name != canonical:
            raise _refuse(f"query parameter {canonical!r} spelled another way")
        if canonical in query:
            raise _refuse(f"query parameter {canonical!r} given twice")
        query[canonical] = value
    return MappingProxyType(query)


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        folded = _canonical_name(key)
        if folded in seen:
            raise _refuse("a JSON body with the same key twice")
        seen.add(folded)
    return dict(pairs)


def _check_known(value: Any, depth: int = 0) -> None:
    """What ``_parse_json`` refuses, checked on a value already in hand (the typed path's
    body, whose bytes on the wire are exactly its encoding): no key twice in any letter case,
    no NaN or infinity, not absurdly deep. Strings, the bulk of any body, are skipped without
    a call; key names are folded by a remembered function, in C."""
    if depth > 64:
        raise _refuse("a JSON body nested too deeply")
    kind = type(value)
    if kind is dict:
        if len(set(map(_folded_key, map(str, value)))) != len(value):
            raise _refuse("a JSON body with the same key twice")
        for item in value.values():
            if type(item) is not str:
                _check_known(item, depth + 1)
    elif kind is list or kind is tuple:
        for item in value:
            if type(item) is not str:
                _check_known(item, depth + 1)
    elif kind is str or kind is int or kind is bool or value is None:
        return
    elif isinstance(value, dict):
        _check_known(dict(value), depth)  # a subclass: what json would write
    elif isinstance(value, list | tuple):
        _check_known(list(value), depth)
    elif isinstance(value, float) and not math.isfinite(value):
        raise _refuse("a JSON body with a non-finite number")


@functools.lru_cache(maxsize=1024)
def _folded_key(name: str) -> str:
    """``_canonical_name``, remembered: a body's keys are the contract's few names."""
    return _canonical_name(name)


def _bad_constant(name: str) -> Any:
    raise _refuse(f"a JSON body with {name}")


def _parse_json(content: bytes) -> Any:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse("a JSON body that is not UTF-8") from None
    try:
        return json.loads(text, object_pairs_hook=_strict_object, parse_constant=_bad_constant)
    except (ValueError, RecursionError):
        raise _refuse("a body that is not exactly one JSON value") from None


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_FIELD_NAME = re.compile(rb'name="([^"]*)"', re.IGNORECASE)


def _parse_form(content: bytes, content_type: str) -> dict[str, str]:
    """The text fields of a multipart/form-data body (files are skipped)."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise _refuse("a multipart body without a boundary")
    delimiter = b"--" + found.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    for part in content.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        disposition = next(
            (line for line in lines if line.lower().startswith(b"content-disposition")), b""
        )
        name_match = _FIELD_NAME.search(disposition)
        if name_match is None:
            raise _refuse("a multipart part without a name")
        if b"filename=" in disposition.lower():
            continue
        name = _canonical_name(name_match.group(1).decode("utf-8", "replace"))
        if name in fields:
            raise _refuse("a multipart body with the same field twice")
        fields[name] = value.removesuffix(b"\r\n").decode("utf-8", "replace")
    return fields


def read_request(
    method: str,
    raw_path: bytes,
    raw_query: bytes,
    headers: list[tuple[bytes, bytes]],
    content: bytes,
    *,
    prefixes: tuple[str, ...] = ("",),
    known_json: Any = None,
) -> WireRequest:
    """The canonical form of a request; a ``GuardError`` for anything ambiguous or unknown.

    ``headers`` are the raw (name, value) pairs as sent; ``prefixes`` the (lower-case) path
    prefixes of the endpoints this HTTP client serves (usually just ``""``), longest first.
    ``known_json`` is the value whose exact encoding ``content`` is, when the caller holds it
    (the typed path): it is checked as strictly as parsed bytes would be, without parsing.
    """
    seen = {raw_name.lower(): value for raw_name, value in headers}
    if len(seen) != len(headers):  # a name repeated (in any case): allowed but for a few
        names = [raw_name.lower() for raw_name, _ in headers]
        for name in _SINGLE_HEADERS:
            if names.count(name) > 1:
                raise _refuse(f"a request with two {name.decode()} headers")
    if not _OVERRIDE_HEADERS.isdisjoint(seen):
        raise _refuse("a method-override header")
    encoding = seen.get(b"content-encoding", b"identity").strip().lower()
    if encoding not in (b"", b"identity"):
        raise _refuse("a compressed request body")
    route, params = _route_of(method, raw_path, prefixes)
    query = _read_query(raw_query, route.service)
    content_type = seen.get(b"content-type", b"").decode("latin-1").lower()
    body: Any = None
    form: dict[str, str] = {}
    if content:
        media = content_type.split(";", 1)[0].strip()
        if route.body == "none":
            raise _refuse("a body on a route that takes none")
        if route.body == "multipart":
            if media != "multipart/form-data":
                raise _refuse("a liveness-with-verify body that is not multipart/form-data")
            form = _parse_form(content, content_type)
        elif route.body == "json" or media not in ("application/octet-stream", ""):
            # Image routes take raw bytes (octet-stream, or undeclared: the service then
            # refuses it); every other body is read as JSON whatever its declared type, since
            # a lenient server may read it so.
            if known_json is not None:
                _check_known(known_json)
                body = known_json
            else:
                body = _parse_json(content)
    return WireRequest(route, params, query, content, body, form, content_type)
