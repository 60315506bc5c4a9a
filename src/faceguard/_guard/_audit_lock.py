"""The audit log as a file: one writer (an OS lock taken at open), still the same file, and
repairing the torn last line a crash leaves (GUARD.md §5.3).

Two writers appending to one file would fork the hash chain: each continues from the head it
last saw, so the file would hold two records with the same ``seq`` and ``prev``. The lock makes
the second writer fail at once instead, with ``AuditError(reason="locked")``.

POSIX: ``fcntl.flock(LOCK_EX | LOCK_NB)`` on the log's own file descriptor. ``flock`` locks
belong to the open file description, not to the process, so a second ``AuditLog`` on the same
file *in the same process* is refused as well as one in another process, whatever path spells
the file (relative, through a symlink, a hard link). The lock ends when the descriptor closes,
including when the process dies, so a crash never leaves a stale lock behind. A child made by
``fork`` shares the parent's descriptor (and so its lock): ``AuditLog`` refuses to write from a
process other than the one that opened it (``reason="forked"``). ``flock`` on NFS is emulated
with byte-range locks by Linux and may not be enforced across clients: keep the log on a local
disk.

Windows (and any platform without ``fcntl.flock``): not built. ``AuditLog`` raises
``AuditError(reason="unsupported")`` rather than run without the one-writer guarantee; a
``msvcrt.locking`` version would lock a byte range and is left for when it can be tested there.

"Lock lost": the lock protects the *file*, not the path. If the file is removed, renamed or
replaced, a new writer can open and lock a new file at the same path while this one still
appends to the old one. ``file_state`` is checked before every record, so that case is caught
(``reason="lock_lost"``) before the record is written. ``flock`` is advisory: a process that
does not take it (a plain ``>>`` append) is not stopped, so ``AuditLog`` also compares the
file's size with the end of its own last record before every write and treats any difference
as the same loss.
"""

from __future__ import annotations

import errno
import os
from typing import Final

from .._exceptions import AuditError
from ._audit_chain import _Broken, _parse_line

__all__ = ["file_state", "lock_exclusive", "repair_tail"]

_WOULD_BLOCK: Final = frozenset({errno.EWOULDBLOCK, errno.EAGAIN})


def lock_exclusive(fd: int, path: os.PathLike[str] | str) -> None:
    """Take the exclusive, non-blocking lock on ``fd`` or raise ``AuditError`` at once."""
    try:
        import fcntl
    except ImportError:
        raise AuditError(
            f"audit log {os.fspath(path)}: the one-writer file lock is built on POSIX "
            "fcntl.flock only and is not available on this platform (not built for Windows "
            "yet); faceguard does not write an audit log without it",
            reason="unsupported",
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in _WOULD_BLOCK:
            raise AuditError(
                f"audit log {os.fspath(path)} is already open for writing (by this or another "
                "process): one writer per log, or the chain would fork. Close the other "
                "AuditLog, or give this one its own file",
                reason="locked",
            ) from None
        raise AuditError(
            f"audit log {os.fspath(path)}: cannot lock it ({exc.strerror or exc})",
            reason="locked",
        ) from None


def file_state(fd: int, path: os.PathLike[str] | str) -> os.stat_result | None:
    """The state of the file open on ``fd`` if ``path`` still names it (not removed, renamed
    or replaced), else ``None``. A failure to look the path up counts as "no"."""
    try:
        held = os.fstat(fd)
        named = os.stat(path)
    except OSError:
        return None
    if (held.st_dev, held.st_ino) != (named.st_dev, named.st_ino) or held.st_nlink == 0:
        return None
    return held


def repair_tail(path: str | os.PathLike[str]) -> int:
    """Cut an incomplete last line, the trace of a write that a crash or power loss cut short,
    so the log can be opened again; returns the number of bytes cut (0: nothing to do).

    Never cuts a whole line: the line before the cut must be a complete record that hashes to
    itself, or ``AuditError(reason="damaged")`` is raised and nothing is cut (that is
    tampering or corruption for ``faceguard audit verify`` to report, not a torn write). Takes
    the writer lock, so it refuses (``locked``) while an ``AuditLog`` has the file open; a live
    log repairs itself with ``AuditLog.recover()``.
    """
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise AuditError(
            f"cannot open {os.fspath(path)} ({exc.strerror or exc})", reason="damaged"
        ) from None
    try:
        lock_exclusive(fd, path)
        size = os.fstat(fd).st_size
        data = os.pread(fd, min(size, 1 << 20), max(0, size - (1 << 20)))  # a line is < 1 MiB
        if not data or data.endswith(b"\n"):
            return 0
        cut = data.rfind(b"\n") + 1  # 0: the only line is the partial one
        if cut > 0:
            try:
                _parse_line(data[: cut - 1].rsplit(b"\n", 1)[-1])
            except _Broken as exc:
                raise AuditError(
                    f"audit log {os.fspath(path)}: the record before the incomplete line is "
                    f"damaged too ({exc.problem}); not cutting anything: run 'faceguard audit "
                    "verify'",
                    reason="damaged",
                ) from None
        keep = size - len(data) + cut
        os.ftruncate(fd, keep)
        os.fsync(fd)
        return size - keep
    finally:
        os.close(fd)
