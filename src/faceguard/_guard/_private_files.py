"""Files that hold guard state are readable by their owner only (mode 0600).

A SQLite guard store or bulk journal links pseudonymous identifiers to templates and persons;
its key sidecar is the secret that makes those pseudonyms unguessable. So:

- a new file is created with mode 0600 whatever the umask (``os.open`` with 0600, then
  ``fchmod``, since a umask can only remove bits but a pre-set ACL default could add some);
  SQLite creates the ``-wal`` / ``-shm`` / ``-journal`` side files with the database's mode;
- an existing file with wider permissions is TIGHTENED to 0600, with a warning on the
  ``faceguard`` logger naming the file and its old mode. A deployment that shares the file
  with a group on purpose loses that access: it is the safe side of a choice between
  privacy and convenience. A file we may not chmod (another owner) is refused with the
  caller's error type rather than used as it is.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat

from .._exceptions import FaceGuardError, InvalidInputError
from .._logging import logger
from ._pseudonym import as_key

__all__ = ["SIDE_SUFFIXES", "check_path", "make_private", "sidecar_key", "sqlite_file"]

SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
"""SQLite's side files of a database, which hold the same data."""

_MODE = 0o600


def check_path(path: object, parameter: str = "path") -> str:
    """A file path the OS can open, as text: a ``str`` or ``os.PathLike[str]``, non-empty,
    without NUL or a lone surrogate the file system encoding cannot carry.

    Checked before any file is touched, so a bad path is ``InvalidInputError`` rather than a
    ``TypeError``, ``ValueError`` or ``UnicodeEncodeError`` from ``os.open`` or SQLite. The
    path is never echoed: a file name can hold a person's name.
    """
    if not isinstance(path, str | os.PathLike):
        raise InvalidInputError(parameter, "type", "must be a str or os.PathLike path")
    text = os.fspath(path)
    if not isinstance(text, str) or not text or "\x00" in text:
        raise InvalidInputError(parameter, "pattern", "must be a non-empty text path without NUL")
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        raise InvalidInputError(parameter, "unicode", "holds a lone surrogate") from None
    return text


def _tighten(path: str, error: type[FaceGuardError]) -> None:
    # By path (stat and chmod), never by opening the file: closing any descriptor of a file
    # drops every POSIX lock this process holds on it, and SQLite locks the database and its
    # -shm file that way. Opening and closing them under a live connection (this store's, or
    # another store's on the same file in this process) corrupts SQLite's WAL locking
    # ("locking protocol" errors, or worse).
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path} is not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    fresh = info.st_size == 0  # just created (or never written): set exactly 0600
    if mode == _MODE or (mode & 0o077 == 0 and not fresh):
        return
    try:
        os.chmod(path, _MODE)
    except OSError as exc:
        raise error(
            f"{path} is readable by others (mode {mode:04o}) and cannot be made private "
            f"({type(exc).__name__}): chmod 600 it, or use a file this process owns"
        ) from None
    if mode & 0o077 and not fresh:
        logger.warning("faceguard: %s had mode %04o (readable by others); set to 0600", path, mode)


def sqlite_file(path: str) -> str:
    """The name to hand SQLite for ``path``: absolute, so that a name beginning ``file:`` is
    the file it says (a SQLite built with URI names on would otherwise open another one,
    which nothing here would have made private). ``""`` and ``":memory:"`` stay as they are.
    """
    return path if path in {"", ":memory:"} else os.path.abspath(path)


def make_private(path: str, error: type[FaceGuardError], *, create: bool = True) -> None:
    """Create ``path`` (if ``create``) or take it as it is, and leave it mode 0600; the same
    for its SQLite side files that exist. Errors are raised as ``error``."""
    if path in {"", ":memory:"}:
        return  # no file (":memory:"), or a temporary one SQLite makes and deletes ("")
    for name, must in [(path, create), *((path + s, False) for s in SIDE_SUFFIXES)]:
        if must:
            # O_EXCL: only a file this call creates is opened (it holds no lock yet); an
            # existing one is handled by path below.
            flags = os.O_RDONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            try:
                os.close(os.open(name, flags, _MODE))
            except FileExistsError:
                pass
            except FileNotFoundError:
                raise error(f"cannot create {name}: its directory does not exist") from None
            except OSError as exc:
                raise error(f"cannot open {name} ({type(exc).__name__}: {exc.strerror})") from None
        try:
            _tighten(name, error)
        except FileNotFoundError:
            if must:
                raise error(f"cannot create {name}: it disappeared") from None
        except OSError as exc:
            raise error(f"cannot open {name} ({type(exc).__name__}: {exc.strerror})") from None


def sidecar_key(db_path: str, error: type[FaceGuardError]) -> bytes:
    """The key in ``<db_path>.key``, made (random, mode 0600) if the file does not exist.

    Processes that open the same database at once race here; ``os.link`` of a complete
    temporary file makes exactly one of them create the sidecar, and all read its content.
    """
    key_path = db_path + ".key"
    if not os.path.exists(key_path):
        tmp = f"{key_path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _MODE)
            try:
                os.fchmod(fd, _MODE)
                os.write(fd, (secrets.token_urlsafe(32) + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(tmp, key_path)
        except OSError as exc:
            raise error(
                f"cannot create the store key file {key_path} ({type(exc).__name__}); pass "
                "key=... or set FACEGUARD_STORE_KEY instead"
            ) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    try:
        fd = os.open(key_path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise error(f"cannot read the store key file {key_path} ({type(exc).__name__})") from None
    try:
        _tighten(key_path, error)
        text = os.read(fd, 4096).decode("utf-8", "replace").strip()
    finally:
        os.close(fd)
    return as_key(text, key_path)
