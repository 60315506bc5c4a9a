"""One writer per audit log (GUARD.md §5.3): a second AuditLog on the same file, however the
path is spelled and whichever process opens it, gets AuditError(reason="locked") at once; the
lock goes with the file descriptor, so closing or dying releases it."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from faceguard import AuditError, AuditLog
from faceguard._guard._audit import verify_chain

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the one-writer lock is POSIX-only")


def kwargs(i: int) -> dict[str, Any]:
    return {
        "operation": "PersonGroupOperations_DeleteLargePersonGroup",
        "route": "DELETE /largepersongroups/{largePersonGroupId}",
        "decision": "allowed",
        "rule": "allowed",
        "reason": f"call {i}",
    }


def assert_locked(open_second: Any) -> None:
    started = time.monotonic()
    with pytest.raises(AuditError, match="already open for writing") as refused:
        open_second()
    assert refused.value.reason == "locked"
    assert time.monotonic() - started < 1.0  # at once, not after a wait


@pytest.mark.parametrize("spelling", ["same", "relative", "symlink", "hardlink", "dotdot"])
def test_a_second_writer_in_this_process_is_refused_however_the_path_is_spelled(
    tmp_path: Path, spelling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, fsync=False) as first:
        first.record("decision", **kwargs(0))
        other: Path
        if spelling == "same":
            other = path
        elif spelling == "relative":
            monkeypatch.chdir(tmp_path)
            other = Path("audit.jsonl")
        elif spelling == "symlink":
            other = tmp_path / "link.jsonl"
            other.symlink_to(path)
        elif spelling == "hardlink":
            other = tmp_path / "hard.jsonl"
            os.link(path, other)
        else:
            (tmp_path / "sub").mkdir()
            other = tmp_path / "sub" / ".." / "audit.jsonl"
        assert_locked(lambda: AuditLog(other, fsync=False))
        first.record("decision", **kwargs(1))  # the first writer is unaffected
    assert verify_chain(path).ok and verify_chain(path).records == 2
    with AuditLog(path, fsync=False) as again:  # closing released the lock
        again.record("decision", **kwargs(2))


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from faceguard import AuditLog
    log = AuditLog(sys.argv[1], fsync=False)
    log.record("decision", operation="X", route="DELETE /x", decision="allowed",
               rule="allowed", reason="held by the other process")
    print("holding", flush=True)
    time.sleep(120)
    """
)

_OPENER = textwrap.dedent(
    """
    import sys
    from faceguard import AuditError, AuditLog
    try:
        AuditLog(sys.argv[1], fsync=False).close()
    except AuditError as exc:
        print("refused", exc.reason)
    else:
        print("opened")
    """
)


def _spawned_opener(path: str, queue: Any) -> None:
    try:
        AuditLog(path, fsync=False).close()
    except AuditError as exc:
        queue.put(("refused", exc.reason))
    else:
        queue.put(("opened", None))


def test_a_writer_in_another_process_holds_the_lock_until_it_dies(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        assert_locked(lambda: AuditLog(path, fsync=False))
        opener = subprocess.run(
            [sys.executable, "-c", _OPENER, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert opener.stdout.strip() == "refused locked"
    finally:
        holder.kill()  # SIGKILL: no cleanup, the kernel drops the lock with the descriptor
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    with AuditLog(path, fsync=False) as log:
        assert log.next_seq == 1
        log.record("decision", **kwargs(1))
    assert verify_chain(path).records == 2


def test_a_spawned_process_is_refused_while_this_one_writes(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    with AuditLog(path, fsync=False) as log:
        log.record("decision", **kwargs(0))
        child = context.Process(target=_spawned_opener, args=(str(path), queue))
        child.start()
        child.join(60)
        assert queue.get(timeout=5) == ("refused", "locked")
    child = context.Process(target=_spawned_opener, args=(str(path), queue))
    child.start()
    child.join(60)
    assert queue.get(timeout=5) == ("opened", None)


def _forked_writer(log: AuditLog, queue: Any) -> None:
    try:
        log.record("decision", **kwargs(9))
    except AuditError as exc:
        queue.put(exc.reason)
    else:
        queue.put("wrote")


@pytest.mark.skipif(sys.platform == "darwin", reason="fork is unsafe on macOS")
def test_a_forked_child_cannot_write_through_the_parents_log(tmp_path: Path) -> None:
    """A fork shares the parent's descriptor and so its lock: the log refuses to write from
    any process but the one that opened it."""
    path = tmp_path / "audit.jsonl"
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    with AuditLog(path, fsync=False) as log:
        log.record("decision", **kwargs(0))
        child = context.Process(target=_forked_writer, args=(log, queue))
        child.start()
        child.join(60)
        assert queue.get(timeout=5) == "forked"
        log.record("decision", **kwargs(1))
    assert verify_chain(path).records == 2


def test_a_log_that_is_not_a_regular_file_is_refused() -> None:
    with pytest.raises(AuditError, match="not a regular file"):
        AuditLog("/dev/null")
    with pytest.raises(AuditError) as refused:
        AuditLog(Path("/dev/full"))
    assert refused.value.reason == "damaged"


@pytest.mark.parametrize("where", ["missing-dir/audit.jsonl", "a-directory"])
def test_a_log_that_cannot_be_opened_is_a_typed_error(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-directory").mkdir()
    with pytest.raises(AuditError, match="cannot open the audit log") as refused:
        AuditLog(tmp_path / where)
    assert refused.value.reason == "write_failed"


# -- after a crash: repairing a torn last line ---------------------------------------------------


@pytest.mark.parametrize("torn", [b"{", b'{"v":1,"seq":3,"ts":"2026', b"\xff\xfe garbage"])
def test_a_torn_last_line_is_cut_by_repair_and_the_log_reopens(
    tmp_path: Path, torn: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    from faceguard.__main__ import main

    path = tmp_path / "audit.jsonl"
    with AuditLog(path, fsync=False) as log:
        for i in range(3):
            log.record("decision", **kwargs(i))
    whole = path.read_bytes()
    path.write_bytes(whole + torn)  # what a crash in the middle of a write leaves
    with pytest.raises(AuditError, match="incomplete line"):
        AuditLog(path)
    assert main(["audit", "repair", str(path)]) == 0
    assert capsys.readouterr().out == f"cut {len(torn)} byte(s) of an incomplete last line\n"
    assert path.read_bytes() == whole
    assert main(["audit", "repair", str(path)]) == 0
    assert capsys.readouterr().out == "nothing to repair\n"
    with AuditLog(path, fsync=False) as log:
        assert log.next_seq == 3


def test_repair_never_cuts_a_whole_record_nor_under_a_writer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from faceguard.__main__ import main

    path = tmp_path / "audit.jsonl"
    with AuditLog(path, fsync=False) as log:
        for i in range(3):
            log.record("decision", **kwargs(i))
    lines = path.read_bytes().splitlines(keepends=True)
    damaged = b"".join([*lines[:2], lines[2].replace(b"call 2", b"call 9"), b'{"v":'])
    path.write_bytes(damaged)  # the record before the torn line was altered: not a crash
    assert main(["audit", "repair", str(path)]) == 2
    assert "damaged too" in capsys.readouterr().err
    assert path.read_bytes() == damaged
    path.write_bytes(b"".join(lines))
    with AuditLog(path, fsync=False):
        assert main(["audit", "repair", str(path)]) == 2
        assert "already open for writing" in capsys.readouterr().err
