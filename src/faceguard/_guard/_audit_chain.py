"""Reading an audit log back: parsing each line and verifying the hash chain (GUARD.md §5).

``verify_chain`` (and ``faceguard audit verify``) recomputes the chain: every line must be
complete, canonical JSON that hashes to its own ``hash`` and links to the record before it.
``_parse_line`` and ``_to_record`` are also what ``AuditLog`` uses to check the last record of
a log it continues, and to build the record it returns. Separate from the writer (``_audit``)
because verifying runs on its own, on logs written by other processes.

``read_tail`` reads only the last line, which is how a writer continues a log without reading
all of it.

What a bare hash chain cannot show: someone who can rewrite the whole file can recompute every
hash, and dropping whole records from the *end* leaves a valid shorter chain. Signed
checkpoints and the stored head (``_audit_seal``) close those gaps, and ``verify_log``
(``_audit_verify``) checks them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from .._exceptions import AuditError
from ._audit_record import (
    _FIELDS,
    _HASH_RE,
    _SUBJECT_RE,
    _TS_RE,
    DECISIONS,
    EVENTS,
    GENESIS,
    VERSION,
    AuditDecision,
    AuditEvent,
    AuditRecord,
    JSONValue,
    _copy_json,
    _digest,
    canonical_json,
)
from ._private_files import check_path

__all__ = ["ChainReport", "open_log", "verify_chain"]


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


def open_log(path: object) -> BinaryIO:
    """The audit log at ``path``, open for reading; what a reader does before anything else.

    A bad path is ``InvalidInputError`` (``check_path``); a file that cannot be opened is
    ``AuditError(reason="unreadable")`` naming the file and the cause, never its content.
    """
    text = check_path(path)
    try:
        return open(text, "rb")
    except FileNotFoundError:
        raise AuditError(f"no such audit log: {text}", reason="unreadable") from None
    except IsADirectoryError:
        raise AuditError(f"not a file: {text}", reason="unreadable") from None
    except OSError as exc:
        raise AuditError(
            f"cannot read the audit log {text} ({exc.strerror or type(exc).__name__})",
            reason="unreadable",
        ) from None


def verify_chain(path: str | os.PathLike[str]) -> ChainReport:
    """Recompute the chain of the log at ``path`` and report the first broken record.

    Every line must be complete, valid JSON in canonical form, hash to its own ``hash``, link
    to the previous record's ``hash`` by ``prev`` (``GENESIS`` first), and carry ``seq`` equal
    to its position. Reads line by line, so large logs need little memory. Raises
    ``InvalidInputError`` for a path that is not one and ``AuditError(reason="unreadable")``
    when the file cannot be opened (missing, a directory, no access).
    """
    prev = GENESIS
    count = 0
    with open_log(path) as handle:
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


_TAIL_CHUNK = 8192  # bytes read back per step when finding the last line


def read_tail(path: Path) -> AuditRecord | None:
    """The last record of an existing log (``None`` when empty), from its last line only."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        position = handle.tell()
        if position == 0:
            return None
        tail = b""
        while position > 0 and b"\n" not in tail[:-1]:
            step = min(_TAIL_CHUNK, position)
            position -= step
            handle.seek(position)
            tail = handle.read(step) + tail
    if not tail.endswith(b"\n"):
        raise AuditError(
            f"audit log {path} ends with an incomplete line (a truncated write?); "
            "run 'faceguard audit verify' and repair it before appending",
            reason="damaged",
        )
    last = tail[:-1].rsplit(b"\n", 1)[-1]
    try:
        record = _parse_line(last)
    except _Broken as exc:
        raise AuditError(
            f"audit log {path} ends with a damaged record ({exc.problem}); "
            "run 'faceguard audit verify' before appending",
            reason="damaged",
        ) from None
    return record
