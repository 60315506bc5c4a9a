"""The audit trail: an append-only, hash-chained JSON Lines file (GUARD.md §5).

Every guard decision, Azure call, suppressed candidate, deletion, override, withdrawal and
stripped attribute becomes one line of the log. Each line is one ``AuditRecord`` written as
canonical JSON, and each record carries ``hash`` (the SHA-256 of its own canonical JSON without
``hash``) and ``prev`` (the ``hash`` of the record before it), so altering, deleting or
reordering any record breaks the chain that ``verify_chain`` (and ``faceguard audit verify``)
recomputes.

Canonical JSON is ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` over str, int, bool, None, list and dict only. Within that subset it is
byte-for-byte RFC 8785 (JCS): there are no floats (they are refused with ``ValueError``, so no
number formatting is involved), integers stay within +/-(2**53 - 1), strings must be valid
Unicode (no lone surrogates), and ``details`` keys are ASCII, so Python's code-point key order is
JCS's UTF-16 order. Every line must be exactly the canonical form of the record it holds, so a
re-escaped character or an added space counts as tampering too.

Content rules (GUARD.md §5.4, OWASP "don't include sensitive information in logs"): a record
never holds images, face templates, raw tokens or keys. ``record`` enforces this in code and
raises ``ValueError`` before anything is written when ``reason``, ``details`` (keys and values),
``operation``, ``route``, ``rule`` or ``model_version`` contains bytes, base64 of a JPEG, PNG or
GIF, an image data URI, raw image magic, a JWT, a UUID (a faceId, personId or persistedFaceId),
a run of 32 to 63 hex digits (an Azure key is 32; SHA-1 and SHA-256 digests of 40 and 64 digits
are allowed, since §5.4 logs faceIds as SHA-256 hashes), or a base64 run of 64 or more
characters that mixes letters and digits (encoded binary, or an 84-character Azure key). The
consent ``sub`` is logged only as ``pseudonym(sub)``, an HMAC-SHA256 under a per-log key, and
``record`` refuses free text that contains the raw ``sub``.

What a bare hash chain cannot show, and what is left to later work: someone who can rewrite the
whole file can recompute every hash, and dropping whole records from the *end* leaves a valid
shorter chain. Signed checkpoints exported to a write-once store (§5.3) close both gaps; they
are not built yet. One process owns a log file: ``AuditLog`` is thread-safe, but two processes
appending to the same file would fork the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, TypeAlias, cast

__all__ = [
    "DECISIONS",
    "EVENTS",
    "GENESIS",
    "AuditDecision",
    "AuditEvent",
    "AuditLog",
    "AuditRecord",
    "ChainReport",
    "JSONValue",
    "canonical_json",
    "find_sensitive",
    "verify_chain",
]

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
]
AuditDecision = Literal["allowed", "refused", "stripped", "suppressed"]

EVENTS: Final[frozenset[str]] = frozenset(
    {
        "decision",
        "api_call",
        "candidate_suppressed",
        "deletion",
        "override",
        "consent_withdrawn",
        "stripped",
    }
)
DECISIONS: Final[frozenset[str]] = frozenset({"allowed", "refused", "stripped", "suppressed"})

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
_MIN_KEY_BYTES: Final = 16
_TAIL_CHUNK = 8192  # bytes read back per step when finding the last line

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
            raise ValueError(f"{where}: integer outside +/-(2**53 - 1) cannot be canonical JSON")
        return
    if isinstance(value, str):
        _check_unicode(value, where)
        return
    if isinstance(value, float):
        raise ValueError(f"{where}: floats are not allowed in audit records (inexact JSON)")
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise ValueError(f"{where}: bytes are not allowed in audit records (images never are)")
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: keys must be strings")
            _check_unicode(key, where)
            _check_json(item, f"{where}.{key}")
        return
    raise ValueError(f"{where}: {type(value).__name__} is not allowed in audit records")


def _check_unicode(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{where}: string is not valid Unicode (lone surrogate)") from None


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


@dataclass(frozen=True)
class ChainReport:
    """What ``verify_chain`` found.

    - ``ok``: the whole file is an intact chain.
    - ``records``: how many records verified (all of them when ``ok``; otherwise the count
      before the first broken one, which equals ``first_broken``).
    - ``first_broken``: the 0-based position of the first bad line. In an intact log a
      record's position is its ``seq``, so this names the record that should have had that
      ``seq``; the file line number is ``first_broken + 1``. ``None`` when ``ok``.
    - ``problem``: why that record is broken: bad JSON, hash mismatch, broken link, seq gap,
      a truncated last line, ... ``None`` when ``ok``.
    """

    ok: bool
    records: int
    first_broken: int | None = None
    problem: str | None = None


Clock: TypeAlias = Callable[[], float | datetime]


def _format_ts(now: float | datetime) -> str:
    if isinstance(now, datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the audit clock returned a naive datetime; give it a timezone")
        moment = now.astimezone(timezone.utc)
    else:
        moment = datetime.fromtimestamp(now, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class AuditLog:
    """An append-only, hash-chained JSONL audit log.

    ``path`` is created if missing (mode 0600); an existing log is continued from its last
    record's ``seq`` and ``hash``. Opening refuses (``ValueError``) a file whose last line is
    incomplete or whose last record does not hash to itself: appending to a damaged log would
    hide the damage. Run ``faceguard audit verify`` on it first.

    ``clock`` returns the time (epoch seconds, or an aware ``datetime``); it is injectable for
    tests. ``subject_key`` is the HMAC key for subject pseudonyms (at least 16 bytes); without
    one, a random key is drawn for this instance, so pseudonyms link records of one process
    run only. Give a stable key (and keep it out of the log) to link a subject across runs;
    destroying the key makes its pseudonyms unlinkable ("crypto-shredding", §5.4).
    ``fsync`` (default True) forces each record to disk before ``record`` returns.

    Thread-safe: records are written whole, one at a time, under a lock. After a failed write
    the log refuses further records (the file may end in a partial line).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock = time.time,
        subject_key: bytes | None = None,
        fsync: bool = True,
    ) -> None:
        if subject_key is None:
            subject_key = secrets.token_bytes(32)
        elif not isinstance(subject_key, bytes) or len(subject_key) < _MIN_KEY_BYTES:
            raise ValueError(f"subject_key must be at least {_MIN_KEY_BYTES} bytes")
        self._path = Path(path)
        self._clock = clock
        self._key = subject_key
        self._fsync = fsync
        self._lock = threading.Lock()
        self._failed = False
        self._file = open(  # noqa: SIM115 - held open for the log's lifetime; see close()
            self._path, "ab", opener=_open_private
        )
        try:
            self._next_seq, self._head = _read_tail(self._path)
        except BaseException:
            self._file.close()
            raise

    @property
    def path(self) -> Path:
        """The log file."""
        return self._path

    @property
    def next_seq(self) -> int:
        """The ``seq`` the next record will get (the number of records in the file)."""
        with self._lock:
            return self._next_seq

    @property
    def head(self) -> str:
        """The ``hash`` of the last record, or ``GENESIS`` for an empty log."""
        with self._lock:
            return self._head

    def pseudonym(self, sub: str) -> str:
        """``hmac:`` + hex HMAC-SHA256 of ``sub`` under this log's subject key."""
        if not isinstance(sub, str) or not sub:
            raise ValueError("subject must be a non-empty string")
        _check_unicode(sub, "subject")
        mac = hmac.new(self._key, sub.encode("utf-8"), hashlib.sha256)
        return "hmac:" + mac.hexdigest()

    def record(
        self,
        event: AuditEvent | str,
        *,
        operation: str,
        route: str,
        decision: AuditDecision | str,
        rule: str,
        reason: str,
        subject: str | None = None,
        request_id: str | None = None,
        client_request_id: str | None = None,
        model_version: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> AuditRecord:
        """Append one record and return it as written.

        ``event`` must be one of ``EVENTS`` and ``decision`` one of ``DECISIONS``. ``subject``
        is the raw consent ``sub`` (only ``pseudonym(sub)`` is written, and the raw value may
        not appear in any text of the record) or a pseudonym already made by ``pseudonym()``
        (a value of the form ``hmac:`` + 64 hex digits), which is written as given. Raises
        ``ValueError``, writing nothing, when a field breaks the types or the content rules
        (see the module docstring).
        """
        if not isinstance(event, str) or event not in EVENTS:
            raise ValueError(f"unknown audit event {event!r}")
        if not isinstance(decision, str) or decision not in DECISIONS:
            raise ValueError(f"unknown audit decision {decision!r}")
        event, decision = str.__str__(event), str.__str__(decision)  # str enums: plain values
        texts: dict[str, str] = {
            "operation": _check_text("operation", operation, _MAX_SHORT),
            "route": _check_text("route", route, _MAX_ROUTE),
            "rule": _check_text("rule", rule, _MAX_SHORT),
            "reason": _check_text("reason", reason, _MAX_REASON),
        }
        if not _OPERATION_RE.fullmatch(texts["operation"]):
            raise ValueError("operation must be a REST operation id (letters, digits, _ . / -)")
        if not _ROUTE_RE.fullmatch(texts["route"]):
            raise ValueError("route must be a route template such as 'POST /identify'")
        if model_version is not None:
            texts["model_version"] = _check_text("model_version", model_version, _MAX_SHORT)
        ids = {
            "request_id": _check_id("request_id", request_id),
            "client_request_id": _check_id("client_request_id", client_request_id),
        }
        clean_details = _check_details(details)
        pseudonym: str | None = None
        if isinstance(subject, str) and _SUBJECT_RE.fullmatch(subject):
            pseudonym = subject
        elif subject is not None:
            pseudonym = self.pseudonym(subject)
            _refuse_raw_subject(subject, [*texts.values(), *_strings(clean_details)])

        body: dict[str, JSONValue] = {
            "v": VERSION,
            "event": event,
            "operation": texts["operation"],
            "route": texts["route"],
            "decision": decision,
            "rule": texts["rule"],
            "reason": texts["reason"],
            "subject": pseudonym,
            "request_id": ids["request_id"],
            "client_request_id": ids["client_request_id"],
            "model_version": texts.get("model_version"),
            "details": clean_details,
        }
        with self._lock:
            if self._file.closed:
                raise ValueError("the audit log is closed")
            if self._failed:
                raise OSError(f"audit log {self._path} is unusable after a failed write")
            body["seq"] = self._next_seq
            body["ts"] = _format_ts(self._clock())
            body["prev"] = self._head
            digest = _digest(body)
            line = canonical_json({**body, "hash": digest}) + b"\n"
            try:
                self._file.write(line)
                self._file.flush()
                if self._fsync:
                    os.fsync(self._file.fileno())
            except BaseException:
                self._failed = True
                raise
            self._next_seq += 1
            self._head = digest
        return _to_record({**body, "hash": digest})

    def close(self) -> None:
        """Flush and close the file; further ``record`` calls raise ``ValueError``."""
        with self._lock:
            if not self._file.closed:
                self._file.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AuditLog({str(self._path)!r})"


def _open_private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _check_text(name: str, value: object, limit: int) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise ValueError(f"{name}: bytes are not allowed in audit records (images never are)")
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    text = str.__str__(value)
    _check_unicode(text, name)
    if len(text) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    found = find_sensitive(text)
    if found is not None:
        raise ValueError(f"{name} looks like it contains {found}; audit records never hold it")
    return text


def _check_id(name: str, value: object) -> str | None:
    """Request ids are UUID-like by nature, so the UUID and hex rules do not apply to them."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > _MAX_SHORT:
        raise ValueError(f"{name} must be a non-empty string of at most {_MAX_SHORT} characters")
    text = str.__str__(value)
    _check_unicode(text, name)
    if any(c.isspace() for c in text):
        raise ValueError(f"{name} must not contain whitespace")
    for found in _findings(text):
        if found not in {_UUID, _HEX_KEY}:
            raise ValueError(f"{name} looks like it contains {found}; audit records never hold it")
    return text


def _check_details(details: Mapping[str, object] | None) -> dict[str, JSONValue]:
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise ValueError("details must be a mapping")
    clean = _clean_json(details, "details", 0)
    assert isinstance(clean, dict)
    if len(canonical_json(clean)) > _MAX_DETAILS_BYTES:
        raise ValueError(f"details are larger than {_MAX_DETAILS_BYTES} bytes of JSON")
    return clean


def _clean_json(value: object, where: str, depth: int) -> JSONValue:
    """A validated deep copy with exact builtin types (str/int subclasses such as enums become
    their plain values)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        number = int(value)
        if abs(number) > _MAX_SAFE_INT:
            raise ValueError(f"{where}: integer outside +/-(2**53 - 1) cannot be canonical JSON")
        return number
    if isinstance(value, str):
        return _check_text(where, value, _MAX_REASON)
    if isinstance(value, float):
        raise ValueError(f"{where}: floats are not allowed in audit records (inexact JSON)")
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise ValueError(f"{where}: bytes are not allowed in audit records (images never are)")
    if depth >= _MAX_DETAILS_DEPTH:
        raise ValueError(f"{where}: details nest deeper than {_MAX_DETAILS_DEPTH} levels")
    if isinstance(value, (list, tuple)):
        return [_clean_json(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        out: dict[str, JSONValue] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not _DETAILS_KEY_RE.fullmatch(key):
                raise ValueError(f"{where}: keys must be 1-64 characters of A-Z a-z 0-9 _ . -")
            name = _check_text(f"{where} key", key, 64)
            out[name] = _clean_json(item, f"{where}.{name}", depth + 1)
        return out
    raise ValueError(f"{where}: {type(value).__name__} is not allowed in audit records")


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
        raise ValueError("the raw subject appears in the record's text; log only the pseudonym")


# --- reading -----------------------------------------------------------------------------


class _Broken(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _no_floats(text: str) -> Any:
    raise _Broken(f"contains a non-integer number {text!r}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Broken(f"duplicate key {key!r}")
        out[key] = value
    return out


def _parse_line(raw: bytes) -> AuditRecord:
    """Parse one line (without its newline) and check it against itself: JSON, hash,
    canonical form, fields. Raises ``_Broken``. Chain links are the caller's job."""
    if not raw:
        raise _Broken("blank line")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Broken("not valid UTF-8") from None
    try:
        obj = json.loads(
            text,
            parse_float=_no_floats,
            parse_constant=_no_floats,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise _Broken(f"bad JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise _Broken("bad JSON (nested too deeply)") from None
    if not isinstance(obj, dict):
        raise _Broken("not a JSON object")
    stored = obj.get("hash")
    if not isinstance(stored, str):
        raise _Broken("no hash field")
    body = {key: value for key, value in obj.items() if key != "hash"}
    try:
        expected = _digest(body)
        canonical = canonical_json(obj)
    except ValueError as exc:
        raise _Broken(f"not canonical JSON ({exc})") from None
    if stored != expected:  # public values: no constant-time comparison needed
        raise _Broken("hash mismatch (the record was altered)")
    if canonical != raw:
        raise _Broken("not in canonical form (the line was reformatted or altered)")
    return _to_record(obj)


def _to_record(obj: dict[str, Any]) -> AuditRecord:
    for name in _FIELDS:
        if name not in obj:
            raise _Broken(f"malformed record: missing field {name!r}")
    extra = sorted(set(obj) - set(_FIELDS))
    if extra:
        raise _Broken(f"malformed record: unexpected field {extra[0]!r}")
    checks = {
        "v": obj["v"] == VERSION and type(obj["v"]) is int,
        "seq": type(obj["seq"]) is int and obj["seq"] >= 0,
        "ts": isinstance(obj["ts"], str) and _TS_RE.fullmatch(obj["ts"]) is not None,
        "event": obj["event"] in EVENTS,
        "decision": obj["decision"] in DECISIONS,
        "operation": isinstance(obj["operation"], str),
        "route": isinstance(obj["route"], str),
        "rule": isinstance(obj["rule"], str),
        "reason": isinstance(obj["reason"], str),
        "subject": obj["subject"] is None
        or (isinstance(obj["subject"], str) and _SUBJECT_RE.fullmatch(obj["subject"]) is not None),
        "request_id": obj["request_id"] is None or isinstance(obj["request_id"], str),
        "client_request_id": obj["client_request_id"] is None
        or isinstance(obj["client_request_id"], str),
        "model_version": obj["model_version"] is None or isinstance(obj["model_version"], str),
        "details": isinstance(obj["details"], dict),
        "prev": isinstance(obj["prev"], str) and _HASH_RE.fullmatch(obj["prev"]) is not None,
        "hash": isinstance(obj["hash"], str) and _HASH_RE.fullmatch(obj["hash"]) is not None,
    }
    for name, good in checks.items():
        if not good:
            raise _Broken(f"malformed record: bad {name!r} field")
    return AuditRecord(
        v=obj["v"],
        seq=obj["seq"],
        ts=obj["ts"],
        event=cast(AuditEvent, obj["event"]),
        operation=obj["operation"],
        route=obj["route"],
        decision=cast(AuditDecision, obj["decision"]),
        rule=obj["rule"],
        reason=obj["reason"],
        subject=obj["subject"],
        request_id=obj["request_id"],
        client_request_id=obj["client_request_id"],
        model_version=obj["model_version"],
        details=cast(dict[str, JSONValue], _copy_json(obj["details"])),
        prev=obj["prev"],
        hash=obj["hash"],
    )


def _read_tail(path: Path) -> tuple[int, str]:
    """The next ``seq`` and the head hash of an existing log, from its last line only."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        position = handle.tell()
        if position == 0:
            return 0, GENESIS
        tail = b""
        while position > 0 and b"\n" not in tail[:-1]:
            step = min(_TAIL_CHUNK, position)
            position -= step
            handle.seek(position)
            tail = handle.read(step) + tail
    if not tail.endswith(b"\n"):
        raise ValueError(
            f"audit log {path} ends with an incomplete line (a truncated write?); "
            "run 'faceguard audit verify' and repair it before appending"
        )
    last = tail[:-1].rsplit(b"\n", 1)[-1]
    try:
        record = _parse_line(last)
    except _Broken as exc:
        raise ValueError(
            f"audit log {path} ends with a damaged record ({exc.problem}); "
            "run 'faceguard audit verify' before appending"
        ) from None
    return record.seq + 1, record.hash


def verify_chain(path: str | os.PathLike[str]) -> ChainReport:
    """Recompute the chain of the log at ``path`` and report the first broken record.

    Every line must be complete, valid JSON in canonical form, hash to its own ``hash``, link
    to the previous record's ``hash`` by ``prev`` (``GENESIS`` first), and carry ``seq`` equal
    to its position. Reads line by line, so large logs need little memory. Raises ``OSError``
    (``FileNotFoundError`` and so on) when the file cannot be read.
    """
    prev = GENESIS
    count = 0
    with open(path, "rb") as handle:
        for raw in handle:
            problem = _check_link(raw, count, prev)
            if isinstance(problem, str):
                return ChainReport(False, count, count, f"{problem}; line {count + 1}")
            prev = problem.hash
            count += 1
    return ChainReport(True, count)


def _check_link(raw: bytes, position: int, prev: str) -> AuditRecord | str:
    """The record on line ``raw`` at ``position`` after a record hashed ``prev``, or what is
    wrong with it."""
    if not raw.endswith(b"\n"):
        return "incomplete last line, no newline (a truncated write?)"
    try:
        record = _parse_line(raw[:-1])
    except _Broken as exc:
        return exc.problem
    if record.seq != position:
        return (
            f"seq gap: expected seq {position}, found {record.seq} "
            "(records missing, duplicated or out of order)"
        )
    if record.prev != prev:
        if position == 0:
            return "broken link: the first record's prev is not the genesis hash"
        return f"broken link: prev does not match the hash of record {position - 1}"
    return record
