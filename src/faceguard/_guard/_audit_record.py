"""What an audit record is and may hold: its fields, canonical JSON, hash and content rules.

Canonical JSON is ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` over str, int, bool, None, list and dict only. Within that subset it is
byte-for-byte RFC 8785 (JCS): there are no floats (they are refused with ``ValueError``, so no
number formatting is involved), integers stay within +/-(2**53 - 1), strings must be valid
Unicode (no lone surrogates), and ``details`` keys are ASCII, so Python's code-point key order is
JCS's UTF-16 order. Every line must be exactly the canonical form of the record it holds, so a
re-escaped character or an added space counts as tampering too.

Content rules (GUARD.md §5.4, OWASP "don't include sensitive information in logs"): a record
never holds images, face templates, raw tokens or keys. ``AuditLog.record`` enforces this in
code, with the checks below, and raises ``ValueError`` before anything is written when
``reason``, ``details`` (keys and values), ``operation``, ``route``, ``rule`` or
``model_version`` contains bytes, base64 of a JPEG, PNG or GIF, an image data URI, raw image
magic, a JWT, a UUID (a faceId, personId or persistedFaceId), a run of 32 to 63 hex digits (an
Azure key is 32; SHA-1 and SHA-256 digests of 40 and 64 digits are allowed, since §5.4 logs
faceIds as SHA-256 hashes), or a base64 run of 64 or more characters that mixes letters and
digits (encoded binary, or an 84-character Azure key). The consent ``sub`` is logged only as
``pseudonym(sub)``, an HMAC-SHA256 under a per-log key, and ``record`` refuses free text that
contains the raw ``sub``.

This module is the record format alone: ``_audit`` writes records with it and
``_audit_chain`` reads and verifies them, so both sides share one definition of a valid line.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Final, Literal, TypeAlias

from .._exceptions import InvalidInputError

__all__ = [
    "DECISIONS",
    "EVENTS",
    "GENESIS",
    "AuditDecision",
    "AuditEvent",
    "AuditRecord",
    "JSONValue",
    "canonical_json",
    "find_sensitive",
]


def _invalid(message: str) -> InvalidInputError:
    """A record that breaks a content rule: ``InvalidInputError`` (a ``ValueError``, as these
    checks always raised), so a caller's bad record is a ``FaceGuardError``."""
    return InvalidInputError("record", "value", message)


JSONValue: TypeAlias = str | int | bool | list["JSONValue"] | dict[str, "JSONValue"] | None
"""The JSON values a record may hold: no floats, so canonicalisation is exact."""

AuditEvent = Literal[
    "decision",
    "api_call",
    "candidate_suppressed",
    "deletion",
    "override",
    "consent_withdrawn",
    "stripped",
    "checkpoint",
    "review",
    "dispute",
]
AuditDecision = Literal[
    "allowed", "refused", "stripped", "suppressed", "pending", "confirmed", "disputed"
]

EVENTS: Final[frozenset[str]] = frozenset(
    {
        "decision",
        "api_call",
        "candidate_suppressed",
        "deletion",
        "override",
        "consent_withdrawn",
        "stripped",
        "checkpoint",
        "review",
        "dispute",
    }
)
# "review" records (R11) are "pending" until enough reviewers agree, then "confirmed", or
# "refused" when a reviewer disagrees; "dispute" records (R22) are "disputed".
DECISIONS: Final[frozenset[str]] = frozenset(
    {"allowed", "refused", "stripped", "suppressed", "pending", "confirmed", "disputed"}
)

GENESIS: Final = "sha256:" + "0" * 64
"""The ``prev`` of the first record of a log."""

VERSION: Final = 1

_FIELDS: Final = (
    "v",
    "seq",
    "ts",
    "event",
    "operation",
    "route",
    "decision",
    "rule",
    "reason",
    "subject",
    "request_id",
    "client_request_id",
    "model_version",
    "details",
    "prev",
    "hash",
)

_MAX_SAFE_INT: Final = 2**53 - 1  # JCS numbers are IEEE doubles: larger ints would round
_MAX_REASON: Final = 500
_MAX_SHORT: Final = 128
_MAX_ROUTE: Final = 256
_MAX_DETAILS_BYTES: Final = 4096
_MAX_DETAILS_DEPTH: Final = 4

_HASH_RE: Final = re.compile(r"sha256:[0-9a-f]{64}")
_SUBJECT_RE: Final = re.compile(r"hmac:[0-9a-f]{64}")
_TS_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_DETAILS_KEY_RE: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_OPERATION_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_./-]{0,127}")
_ROUTE_RE: Final = re.compile(r"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /[^\s?#]{0,200}")

_UUID: Final = "a UUID (a faceId or person id)"
_HEX_KEY: Final = "a key-like run of hex digits"
_B64_RUN: Final = "a long base64 run (encoded binary or a key)"

_SENSITIVE: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"/9j/|_9j_"), "base64 of a JPEG image"),
    (re.compile(r"iVBOR"), "base64 of a PNG image"),
    (re.compile(r"R0lGOD"), "base64 of a GIF image"),
    (re.compile(r"data:image/", re.IGNORECASE), "an image data URI"),
    (re.compile("\xff\xd8\xff|\x89PNG"), "raw image bytes"),
    (
        re.compile(
            r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
            r"|[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"
        ),
        "a JWT",
    ),
    (
        re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
        _UUID,
    ),
)
_HEX_RUN_RE: Final = re.compile(r"[0-9a-fA-F]{32,}")
_B64_RUN_RE: Final = re.compile(r"[A-Za-z0-9+/_=-]{64,}")
_ALLOWED_HEX_LENGTHS: Final = frozenset({40})  # SHA-1; 64 and longer are digests too


def _findings(text: str) -> Iterator[str]:
    for pattern, what in _SENSITIVE:
        if pattern.search(text):
            yield what
    for match in _HEX_RUN_RE.finditer(text):
        length = len(match.group())
        if length < 64 and length not in _ALLOWED_HEX_LENGTHS:
            yield _HEX_KEY
            break
    for match in _B64_RUN_RE.finditer(text):
        run = match.group()
        if _HEX_RUN_RE.fullmatch(run):
            continue  # a long hex digest, not base64
        if any(c.isdigit() for c in run) and any(c.isalpha() for c in run):
            yield _B64_RUN
            break


def find_sensitive(text: str) -> str | None:
    """What ``text`` looks like that a record must never hold, or ``None`` if it looks clean.

    The checks are deliberately broad: a false refusal is a bug report, while a key or an image
    leaked into an append-only log cannot be taken back.
    """
    return next(_findings(text), None)


def canonical_json(value: object) -> bytes:
    """The canonical UTF-8 JSON of ``value`` (see the module docstring).

    Raises ``ValueError`` for floats, bytes, non-string keys, integers beyond +/-(2**53 - 1),
    strings that are not valid Unicode, and any other type.
    """
    _check_json(value, "$")
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _check_json(value: object, where: str) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise _invalid(f"{where}: integer outside +/-(2**53 - 1) cannot be canonical JSON")
        return
    if isinstance(value, str):
        _check_unicode(value, where)
        return
    if isinstance(value, float):
        raise _invalid(f"{where}: floats are not allowed in audit records (inexact JSON)")
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise _invalid(f"{where}: bytes are not allowed in audit records (images never are)")
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _invalid(f"{where}: keys must be strings")
            _check_unicode(key, where)
            _check_json(item, f"{where}.{key}")
        return
    raise _invalid(f"{where}: {type(value).__name__} is not allowed in audit records")


def _check_unicode(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid(f"{where}: string is not valid Unicode (lone surrogate)") from None


def _digest(body: Mapping[str, JSONValue]) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(dict(body))).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log, as written.

    A frozen dataclass: attributes cannot be reassigned, and ``details`` is the log's own deep
    copy of what the caller passed. ``as_dict()`` gives the JSON object of the line.

    - ``v``: record format version, 1.
    - ``seq``: 0, 1, 2, ... in file order.
    - ``ts``: UTC time, ISO 8601 with milliseconds (``2026-01-01T08:00:01.123Z``).
    - ``event``: what happened (``EVENTS``).
    - ``operation``: the REST operation id.
    - ``route``: the route *template*, e.g. ``POST /identify``; never a concrete path with ids.
    - ``decision``: ``allowed``, ``refused``, ``stripped`` or ``suppressed``.
    - ``rule``: the rule that decided, e.g. ``R05 consent``.
    - ``reason``: short text (at most 500 characters).
    - ``subject``: ``hmac:`` + HMAC-SHA256 of the consent ``sub`` under the log's key, or None.
    - ``request_id``: the response's ``apim-request-id``; ``client_request_id``: ours.
    - ``model_version``: the service's model version, when it reports one.
    - ``details``: a small dict of non-sensitive extras such as counts (at most 4 KiB).
    - ``prev``: the previous record's ``hash``, or ``GENESIS`` for the first record.
    - ``hash``: ``sha256:`` + SHA-256 of the canonical JSON of the record without ``hash``.
    """

    v: int
    seq: int
    ts: str
    event: AuditEvent
    operation: str
    route: str
    decision: AuditDecision
    rule: str
    reason: str
    subject: str | None
    request_id: str | None
    client_request_id: str | None
    model_version: str | None
    details: dict[str, JSONValue] = field(repr=False)
    prev: str
    hash: str

    def as_dict(self) -> dict[str, JSONValue]:
        """The record as the JSON object written to the log (``details`` copied)."""
        out: dict[str, JSONValue] = {name: getattr(self, name) for name in _FIELDS}
        out["details"] = _copy_json(self.details)
        return out

    def __hash__(self) -> int:
        return hash(self.hash)


def _copy_json(value: JSONValue) -> JSONValue:
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    return value


def _check_text(name: str, value: object, limit: int) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise _invalid(f"{name}: bytes are not allowed in audit records (images never are)")
    if not isinstance(value, str):
        raise _invalid(f"{name} must be a string")
    text = str.__str__(value)
    _check_unicode(text, name)
    if len(text) > limit:
        raise _invalid(f"{name} is longer than {limit} characters")
    found = find_sensitive(text)
    if found is not None:
        raise _invalid(f"{name} looks like it contains {found}; audit records never hold it")
    return text


def _check_id(name: str, value: object) -> str | None:
    """Request ids are UUID-like by nature, so the UUID and hex rules do not apply to them."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > _MAX_SHORT:
        raise _invalid(f"{name} must be a non-empty string of at most {_MAX_SHORT} characters")
    text = str.__str__(value)
    _check_unicode(text, name)
    if any(c.isspace() for c in text):
        raise _invalid(f"{name} must not contain whitespace")
    for found in _findings(text):
        if found not in {_UUID, _HEX_KEY}:
            raise _invalid(f"{name} looks like it contains {found}; audit records never hold it")
    return text


def _check_details(details: Mapping[str, object] | None) -> dict[str, JSONValue]:
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise _invalid("details must be a mapping")
    clean = _clean_json(details, "details", 0)
    assert isinstance(clean, dict)
    if len(canonical_json(clean)) > _MAX_DETAILS_BYTES:
        raise _invalid(f"details are larger than {_MAX_DETAILS_BYTES} bytes of JSON")
    return clean


def _clean_json(value: object, where: str, depth: int) -> JSONValue:
    """A validated deep copy with exact builtin types (str/int subclasses such as enums become
    their plain values)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        number = int(value)
        if abs(number) > _MAX_SAFE_INT:
            raise _invalid(f"{where}: integer outside +/-(2**53 - 1) cannot be canonical JSON")
        return number
    if isinstance(value, str):
        return _check_text(where, value, _MAX_REASON)
    if isinstance(value, float):
        raise _invalid(f"{where}: floats are not allowed in audit records (inexact JSON)")
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise _invalid(f"{where}: bytes are not allowed in audit records (images never are)")
    if depth >= _MAX_DETAILS_DEPTH:
        raise _invalid(f"{where}: details nest deeper than {_MAX_DETAILS_DEPTH} levels")
    if isinstance(value, (list, tuple)):
        return [_clean_json(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        out: dict[str, JSONValue] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not _DETAILS_KEY_RE.fullmatch(key):
                raise _invalid(f"{where}: keys must be 1-64 characters of A-Z a-z 0-9 _ . -")
            name = _check_text(f"{where} key", key, 64)
            out[name] = _clean_json(item, f"{where}.{name}", depth + 1)
        return out
    raise _invalid(f"{where}: {type(value).__name__} is not allowed in audit records")


def _strings(value: JSONValue) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def _refuse_raw_subject(subject: str, texts: list[str]) -> None:
    if len(subject) < 3:
        return  # too short to tell apart from ordinary text
    if any(subject in text for text in texts):
        raise _invalid("the raw subject appears in the record's text; log only the pseudonym")


def format_ts(now: float | datetime) -> str:
    """``now`` (epoch seconds or an aware datetime) as the record's UTC ``ts``."""
    if isinstance(now, datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise _invalid("the audit clock returned a naive datetime; give it a timezone")
        moment = now.astimezone(timezone.utc)
    else:
        moment = datetime.fromtimestamp(now, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def build_body(
    event: str,
    *,
    operation: str,
    route: str,
    decision: str,
    rule: str,
    reason: str,
    subject: str | None,
    request_id: str | None,
    client_request_id: str | None,
    model_version: str | None,
    details: Mapping[str, object] | None,
    pseudonym: Callable[[str], str],
) -> dict[str, JSONValue]:
    """A record's fields checked against the types and content rules (``ValueError``), with
    ``subject`` made a pseudonym; ``seq``, ``ts``, ``prev`` and ``hash`` are the writer's."""
    if not isinstance(event, str) or event not in EVENTS:
        raise _invalid(f"unknown audit event {event!r}")
    if not isinstance(decision, str) or decision not in DECISIONS:
        raise _invalid(f"unknown audit decision {decision!r}")
    event, decision = str.__str__(event), str.__str__(decision)  # str enums: plain values
    texts: dict[str, str] = {
        "operation": _check_text("operation", operation, _MAX_SHORT),
        "route": _check_text("route", route, _MAX_ROUTE),
        "rule": _check_text("rule", rule, _MAX_SHORT),
        "reason": _check_text("reason", reason, _MAX_REASON),
    }
    if not _OPERATION_RE.fullmatch(texts["operation"]):
        raise _invalid("operation must be a REST operation id (letters, digits, _ . / -)")
    if not _ROUTE_RE.fullmatch(texts["route"]):
        raise _invalid("route must be a route template such as 'POST /identify'")
    if model_version is not None:
        texts["model_version"] = _check_text("model_version", model_version, _MAX_SHORT)
    ids = {
        "request_id": _check_id("request_id", request_id),
        "client_request_id": _check_id("client_request_id", client_request_id),
    }
    clean_details = _check_details(details)
    alias: str | None = None
    if isinstance(subject, str) and _SUBJECT_RE.fullmatch(subject):
        alias = subject
    elif subject is not None:
        alias = pseudonym(subject)
        _refuse_raw_subject(subject, [*texts.values(), *_strings(clean_details)])
    return {
        "v": VERSION,
        "event": event,
        "operation": texts["operation"],
        "route": texts["route"],
        "decision": decision,
        "rule": texts["rule"],
        "reason": texts["reason"],
        "subject": alias,
        "request_id": ids["request_id"],
        "client_request_id": ids["client_request_id"],
        "model_version": texts.get("model_version"),
        "details": clean_details,
    }
