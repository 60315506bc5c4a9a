"""The audit trail: an append-only, hash-chained JSON Lines file (GUARD.md §5).

Every guard decision, Azure call, suppressed candidate, deletion, override, withdrawal and
stripped attribute becomes one line of the log. Each line is one ``AuditRecord`` written as
canonical JSON, and each record carries ``hash`` (the SHA-256 of its own canonical JSON without
``hash``) and ``prev`` (the ``hash`` of the record before it), so altering, deleting or
reordering any record breaks the chain that ``verify_chain`` (and ``faceguard audit verify``)
recomputes.

The record format (canonical JSON, the hash, the content rules that ``record`` enforces,
building a record's fields) is defined in ``_audit_record``; reading a log back and
``verify_chain`` are in ``_audit_chain``; signed checkpoints and the stored head in
``_audit_seal``; the one-writer lock in ``_audit_lock``; checking a log against its seals in
``_audit_verify``. This module is the writer.

The log is evidence, so it fails closed (GUARD.md §5.3):

- **One writer.** Opening takes an exclusive OS lock on the file; a second ``AuditLog`` on the
  same file, in this process or another, gets ``AuditError(reason="locked")`` at once.
- **Whole records or nothing.** A record is one unbuffered ``write`` of one line. If it fails
  (disk full, I/O error, file-size limit) the file is cut back to the last whole record, so no
  half-written line is left behind or flushed later, and ``AuditError(reason="write_failed")``
  is raised. The guard writes the record that must precede a call *before* sending it, so the
  call is then not sent.
- **Unhealthy until recovered.** After a failed write every further record is refused
  (``reason="unhealthy"``), and so every guarded call, until ``recover()`` succeeds: it cuts
  off anything after the last whole record, re-reads that record and checks it is the head
  this log wrote, and re-stores the head. Re-opening the file (a new ``AuditLog``) is the
  other way back; it refuses a file that does not end in a whole, valid record.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final, TypeAlias

from .._exceptions import AuditError, GuardStoreError, InvalidInputError
from ._audit_chain import ChainReport, _to_record, read_tail, verify_chain
from ._audit_lock import file_state, lock_exclusive, repair_tail
from ._audit_record import (
    DECISIONS,
    EVENTS,
    GENESIS,
    AuditDecision,
    AuditEvent,
    AuditRecord,
    JSONValue,
    _check_unicode,
    _digest,
    build_body,
    canonical_json,
    find_sensitive,
    format_ts,
)
from ._audit_seal import (
    SealKey,
    check_log_id,
    checkpoint_body,
    checkpoint_details,
    get_head,
    head_value,
    put_head,
    put_seal,
    seals_its_position,
    stored_head_problem,
)
from ._private_files import check_path
from ._store import check_clock, check_store

if TYPE_CHECKING:
    from ._store import GuardStore

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
    "repair_tail",
    "verify_chain",
]

_MIN_KEY_BYTES: Final = 16
_DEFAULT_CHECKPOINT_EVERY: Final = 1000

Clock: TypeAlias = Callable[[], float | datetime]


class AuditLog:
    """An append-only, hash-chained JSONL audit log with one writer.

    ``path`` is created if missing (mode 0600); an existing log is continued from its last
    record's ``seq`` and ``hash``. Opening raises ``AuditError``: ``locked`` when another
    ``AuditLog`` (in any process) has the file open, ``damaged`` when the file does not end in
    a whole record that hashes to itself (appending would hide the damage: run ``faceguard
    audit verify`` first) or when it disagrees with the head kept in ``head_store``.

    ``clock`` returns the time (epoch seconds, or an aware ``datetime``); it is injectable for
    tests. ``subject_key`` is the HMAC key for subject pseudonyms (at least 16 bytes); without
    one, a random key is drawn for this instance, so pseudonyms link records of one process
    run only. Give a stable key (and keep it out of the log) to link a subject across runs;
    destroying the key makes its pseudonyms unlinkable ("crypto-shredding", §5.4).
    ``fsync`` (default True) forces each record to disk before ``record`` returns.

    ``audit_key`` (an Ed25519 private key PEM, separate from the consent keys) makes the log
    write a signed ``checkpoint`` record after every ``checkpoint_every`` records (default
    1000), before the first record written ``checkpoint_interval`` seconds (by ``clock``) or
    more after the last checkpoint, and when it closes. There is no timer thread: an idle log
    is sealed by its next record or by ``close``.

    ``head_store`` (a ``GuardStore``, e.g. the guard's SQLite or Redis store) keeps the log's
    head and a copy of every checkpoint under ``log_id`` (default: the file name), so
    ``faceguard audit verify --store`` can tell a truncated file from a forged append. See
    ``_audit_seal`` for what each of them proves. With an audit key, opening a log whose last
    record is not this key's checkpoint (and that no signed stored head pins) is refused
    (``damaged``): the next checkpoint would vouch for records nobody vouched for. Pass
    ``accept_unsealed_tail=True`` after checking it to seal them as found.

    Thread-safe: records are written whole, one at a time, under a lock.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock = time.time,
        subject_key: bytes | None = None,
        fsync: bool = True,
        audit_key: bytes | str | None = None,
        checkpoint_every: int | None = None,
        checkpoint_interval: float | None = None,
        head_store: GuardStore | None = None,
        log_id: str | None = None,
        accept_unsealed_tail: bool = False,
    ) -> None:
        if subject_key is None:
            subject_key = secrets.token_bytes(32)
        elif not isinstance(subject_key, bytes) or len(subject_key) < _MIN_KEY_BYTES:
            raise InvalidInputError(
                "subject_key", "value", f"must be at least {_MIN_KEY_BYTES} bytes"
            )
        if checkpoint_every is not None:
            if audit_key is None:
                raise InvalidInputError(
                    "checkpoint_every",
                    "value",
                    "checkpoint_every needs audit_key: checkpoints are signed",
                )
            if type(checkpoint_every) is not int or checkpoint_every < 1:
                raise InvalidInputError(
                    "checkpoint_every", "value", "checkpoint_every must be a positive integer"
                )
        if checkpoint_interval is not None:
            if audit_key is None:
                raise InvalidInputError(
                    "checkpoint_interval",
                    "value",
                    "checkpoint_interval needs audit_key: checkpoints are signed",
                )
            if (
                isinstance(checkpoint_interval, bool)
                or not isinstance(checkpoint_interval, (int, float))
                or not (0 < checkpoint_interval < float("inf"))
            ):
                raise InvalidInputError(
                    "checkpoint_interval",
                    "value",
                    "checkpoint_interval must be a positive number of seconds",
                )
        self._path = Path(check_path(path))
        self._seal_key = SealKey(audit_key) if audit_key is not None else None
        self._every = checkpoint_every or _DEFAULT_CHECKPOINT_EVERY
        self._store = check_store(head_store, "head_store")
        self._log_id = check_log_id(log_id if log_id is not None else self._path.name)
        self._clock = check_clock(clock)
        self._key = subject_key
        self._fsync = fsync
        self._lock = threading.Lock()
        self._problem: str | None = None  # why the log is unhealthy, None when healthy
        self._dirty = False  # a failed write left bytes after self._size that it could not cut
        self._since_seal = 0
        self._seals = 0
        self._interval = checkpoint_interval
        self._sealed_at = _epoch(clock()) if checkpoint_interval is not None else 0.0
        self._pid = os.getpid()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self._path, flags, 0o600)
        except OSError as exc:
            raise AuditError(
                f"cannot open the audit log {self._path} for appending ({_cause(exc)})",
                reason="write_failed",
            ) from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise AuditError(f"audit log {self._path} is not a regular file", reason="damaged")
            lock_exclusive(fd, self._path)
            self._size = os.fstat(fd).st_size
            try:
                last = read_tail(self._path)
            except OSError as exc:
                raise AuditError(
                    f"cannot read the audit log {self._path} back ({_cause(exc)})",
                    reason="damaged",
                ) from None
            self._next_seq, self._head = (0, GENESIS) if last is None else (last.seq + 1, last.hash)
            pinned = self._store is not None and self._check_stored_head()
            unsealed = (
                last is not None
                and not pinned
                and self._seal_key is not None
                and not seals_its_position(self._seal_key.public, last)
            )
            if unsealed and not accept_unsealed_tail:
                raise AuditError(
                    f"audit log {self._path} ends with records no checkpoint of this audit key "
                    "seals (unsealed: a writer that crashed, or records someone appended): the "
                    "next checkpoint would vouch for them. Check it with 'faceguard audit "
                    "verify --key', then open it with accept_unsealed_tail=True to seal them "
                    "as found (a head_store lets a crashed log reopen by itself)",
                    reason="damaged",
                )
        except BaseException:
            os.close(fd)
            raise
        self._fd: int | None = fd
        if unsealed:
            try:
                with self._lock:
                    self._seal(self._usable(), "sealing records found unsealed at open")
            except BaseException:
                self._fd = None
                os.close(fd)
                raise

    # -- properties --------------------------------------------------------------------------

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

    @property
    def healthy(self) -> bool:
        """False after a failed write, until ``recover()`` succeeds; False once closed."""
        with self._lock:
            return self._problem is None and self._fd is not None

    @property
    def key_id(self) -> str | None:
        """The audit key's id (``sha256:`` of the public key), or None without a key."""
        return self._seal_key.kid if self._seal_key is not None else None

    def pseudonym(self, sub: str) -> str:
        """``hmac:`` + hex HMAC-SHA256 of ``sub`` under this log's subject key."""
        if not isinstance(sub, str) or not sub:
            raise InvalidInputError("subject", "value", "subject must be a non-empty string")
        _check_unicode(sub, "subject")
        mac = hmac.new(self._key, sub.encode("utf-8"), hashlib.sha256)
        return "hmac:" + mac.hexdigest()

    # -- writing -----------------------------------------------------------------------------

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

        ``event`` must be one of ``EVENTS`` (``checkpoint`` excepted: only the log seals
        itself) and ``decision`` one of ``DECISIONS``. ``subject`` is the raw consent ``sub``
        (only ``pseudonym(sub)`` is written, and the raw value may not appear in any text of
        the record) or a pseudonym already made by ``pseudonym()`` (``hmac:`` + 64 hex
        digits), which is written as given. Raises ``ValueError``, writing nothing, when a
        field breaks the types or the content rules (see ``_audit_record``), and
        ``AuditError`` when the record cannot be written (see the module docstring).
        """
        if event == "checkpoint":
            raise InvalidInputError(
                "event", "value", "unknown audit event 'checkpoint' (only the log seals itself)"
            )
        body = build_body(
            event,
            operation=operation,
            route=route,
            decision=decision,
            rule=rule,
            reason=reason,
            subject=subject,
            request_id=request_id,
            client_request_id=client_request_id,
            model_version=model_version,
            details=details,
            pseudonym=self.pseudonym,
        )
        with self._lock:
            fd = self._usable()
            # before the record: a failed seal leaves the record unwritten
            if self._seal_key is not None and self._since_seal >= self._every:
                self._seal(fd, f"checkpoint after {self._every} records")
            elif (
                self._interval is not None
                and self._since_seal > 0
                and _epoch(self._clock()) - self._sealed_at >= self._interval
            ):
                self._seal(fd, f"checkpoint after {self._interval:g} s")
            written = self._append(fd, body)
            self._since_seal += 1
        return written

    def checkpoint(self) -> AuditRecord:
        """Write a signed checkpoint now (``close`` writes one too). Needs ``audit_key``."""
        if self._seal_key is None:
            raise InvalidInputError("audit_key", "value", "checkpoints need an audit_key")
        with self._lock:
            return self._seal(self._usable(), "checkpoint on request")

    def recover(self) -> None:
        """Make the log usable again after a failed write, or raise ``AuditError``.

        Cuts the file back to the end of the last whole record this log wrote (dropping any
        partial line a failed write left), re-reads that record and checks it is this log's
        head, and stores the head again. Raises ``AuditError`` and stays unhealthy when the
        file was replaced or removed (``lock_lost``: open a new ``AuditLog``), when the last
        record is not the head (``damaged``), or when the head cannot be stored.
        """
        with self._lock:
            fd = self._check_open()
            state = file_state(fd, self._path)
            if state is None:
                raise self._fail("lock_lost", "the file was removed or replaced")
            if state.st_size != self._size and not (self._dirty and state.st_size > self._size):
                # Not bytes this log left: someone else wrote. Keep them as evidence.
                raise self._fail("lock_lost", _CHANGED + "; verify it and open a new AuditLog")
            try:
                if state.st_size != self._size:
                    os.ftruncate(fd, self._size)
                    os.fsync(fd)
                    self._dirty = False
                last = read_tail(self._path)
            except (OSError, AuditError) as exc:
                raise self._fail("damaged", f"cannot restore the tail ({_cause(exc)})") from None
            found = (0, GENESIS) if last is None else (last.seq + 1, last.hash)
            if found != (self._next_seq, self._head):
                raise self._fail("damaged", "the last record is not the one this log wrote")
            if self._store is not None and self._next_seq > 0:
                self._put_head(self._next_seq - 1, self._head)
            self._problem = None

    def close(self) -> None:
        """Seal (with an audit key), flush and close; later ``record`` calls raise
        ``AuditError(reason="closed")``. Raises ``AuditError`` if the closing checkpoint
        cannot be written; the file is closed either way."""
        with self._lock:
            fd = self._fd
            if fd is None:
                return
            try:
                if (
                    self._seal_key is not None
                    and self._since_seal > 0
                    and self._problem is None
                    and os.getpid() == self._pid
                ):
                    self._seal(self._usable(), "closing checkpoint")
            finally:
                self._fd = None
                os.close(fd)

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

    # -- internals (called with self._lock held) ---------------------------------------------

    def _check_open(self) -> int:
        if self._fd is None:
            raise AuditError(f"the audit log {self._path} is closed", reason="closed")
        if os.getpid() != self._pid:
            raise AuditError(
                f"the audit log {self._path} was opened by another process (fork); open a new "
                "AuditLog in this one (one writer per file)",
                reason="forked",
            )
        return self._fd

    def _usable(self) -> int:
        fd = self._check_open()
        if self._problem is not None:
            raise AuditError(
                f"the audit log {self._path} is unusable after a failed write "
                f"({self._problem}); guarded calls are refused until AuditLog.recover() "
                "succeeds",
                reason="unhealthy",
            )
        state = file_state(fd, self._path)
        if state is None:
            raise self._fail(
                "lock_lost",
                "the file was removed or replaced: another writer may own the path now",
            )
        if state.st_size != self._size:
            raise self._fail("lock_lost", _CHANGED)
        return fd

    def _fail(self, reason: str, why: str) -> AuditError:
        self._problem = why
        return AuditError(
            f"audit log {self._path}: {why}; the record was not written", reason=reason
        )

    def _append(self, fd: int, body: dict[str, JSONValue]) -> AuditRecord:
        """Write one record (``fd`` from ``_usable``): all of it, or nothing in the file."""
        body["seq"] = self._next_seq
        body["ts"] = format_ts(self._clock())
        body["prev"] = self._head
        digest = _digest(body)
        line = canonical_json({**body, "hash": digest}) + b"\n"
        try:
            view = memoryview(line)
            while view:  # unbuffered: nothing of a failed record is left to flush later
                view = view[os.write(fd, view) :]
            if self._fsync:
                os.fsync(fd)
        except OSError as exc:
            self._cut_back(fd)
            raise self._fail("write_failed", f"writing a record failed ({_cause(exc)})") from None
        if self._store is not None:
            try:
                self._put_head(self._next_seq, digest)
            except AuditError:
                self._cut_back(fd)  # file and store agree on the head, or neither moves
                raise
        self._size += len(line)
        self._next_seq += 1
        self._head = digest
        return _to_record({**body, "hash": digest})

    def _cut_back(self, fd: int) -> None:
        # If even this fails the log is still marked failed: recover() or re-opening deals
        # with the partial line (re-opening refuses it).
        self._dirty = True
        with contextlib.suppress(OSError):
            os.ftruncate(fd, self._size)
            self._dirty = False

    def _seal(self, fd: int, why: str) -> AuditRecord:
        assert self._seal_key is not None
        if self._next_seq == 0:
            raise InvalidInputError("checkpoint", "state", "an empty log has nothing to seal")
        details = checkpoint_details(self._seal_key, self._next_seq - 1, self._head, self._next_seq)
        body = checkpoint_body(details, why)
        if self._store is not None:
            try:
                put_seal(self._store, self._log_id, self._seals, details)
            except GuardStoreError as exc:
                raise self._fail("head_store", f"storing a checkpoint failed ({exc})") from None
            self._seals += 1
        written = self._append(fd, body)
        self._since_seal = 0
        if self._interval is not None:
            self._sealed_at = _epoch(self._clock())
        return written

    def _put_head(self, seq: int, digest: str) -> None:
        assert self._store is not None
        head = head_value(self._seal_key, self._log_id, seq, digest, self._seals)
        try:
            put_head(self._store, head)
        except GuardStoreError as exc:
            raise self._fail("head_store", f"storing the log head failed ({exc})") from None

    def _check_stored_head(self) -> bool:
        """At open: the file's tail must be the head kept in the store, if there is one.
        True when a signed stored head vouches for the tail."""
        assert self._store is not None
        try:
            head = get_head(self._store, self._log_id)
        except GuardStoreError as exc:
            raise AuditError(
                f"audit log {self._path}: cannot read its head from the store ({exc})",
                reason="head_store",
            ) from None
        if head is None:
            if self._next_seq > 0:
                self._put_head(self._next_seq - 1, self._head)
            return False  # the store starts vouching now, not for what came before
        problem = stored_head_problem(head, self._seal_key, self._next_seq - 1, self._head)
        if problem is not None:
            raise AuditError(
                f"audit log {self._path} does not match its stored head ({problem}); run "
                "'faceguard audit verify --store' before appending",
                reason="damaged",
            )
        assert isinstance(head, dict)
        self._seals = head["seals"]
        # A signed head pins the tail, so an unsealed tail is this key's own (a crash);
        # an unsigned one proves nothing about who wrote it.
        return self._seal_key is not None


_CHANGED: Final = (
    "the file changed under the log: something else appended to it or cut it (one writer per log)"
)


def _epoch(now: float | datetime) -> float:
    return now.timestamp() if isinstance(now, datetime) else float(now)


def _cause(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
