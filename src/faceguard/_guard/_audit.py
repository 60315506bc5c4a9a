"""The audit trail: an append-only, hash-chained JSON Lines file (GUARD.md §5).

Every guard decision, Azure call, suppressed candidate, deletion, override, withdrawal and
stripped attribute becomes one line of the log. Each line is one ``AuditRecord`` written as
canonical JSON, and each record carries ``hash`` (the SHA-256 of its own canonical JSON without
``hash``) and ``prev`` (the ``hash`` of the record before it), so altering, deleting or
reordering any record breaks the chain that ``verify_chain`` (and ``faceguard audit verify``)
recomputes.

The record format (canonical JSON, the hash, the content rules that ``record`` enforces) is
defined in ``_audit_record``; reading a log back and ``verify_chain`` are in ``_audit_chain``.
Both are re-exported here, where the rest of the package imports them.

One process owns a log file: ``AuditLog`` is thread-safe, but two processes appending to the
same file would fork the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Final, TypeAlias

from ._audit_chain import ChainReport, _Broken, _parse_line, _to_record, verify_chain
from ._audit_record import (
    _MAX_REASON,
    _MAX_ROUTE,
    _MAX_SHORT,
    _OPERATION_RE,
    _ROUTE_RE,
    _SUBJECT_RE,
    DECISIONS,
    EVENTS,
    GENESIS,
    VERSION,
    AuditDecision,
    AuditEvent,
    AuditRecord,
    JSONValue,
    _check_details,
    _check_id,
    _check_text,
    _check_unicode,
    _digest,
    _refuse_raw_subject,
    _strings,
    canonical_json,
    find_sensitive,
)

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

_MIN_KEY_BYTES: Final = 16
_TAIL_CHUNK = 8192  # bytes read back per step when finding the last line

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
