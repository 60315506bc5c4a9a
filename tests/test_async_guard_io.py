"""The async client keeps the guard's blocking I/O off the event loop.

A SQLite or Redis store, a network replay store or an audit log written with fsync make the
guard's ``before``/``after`` wait on I/O: the async transport runs them in a worker thread.
With memory only, they stay on the loop (a thread hop would cost more than the work). Checked
by the thread each store call runs on, not by timing.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from _bulk_kit import SINGLE
from faceguard import AsyncFaceClient, AuditLog, GuardPolicy, MemoryStore, SQLiteStore
from faceguard.testing._plugin import API_KEY, ENDPOINT


def _recording(base: type[Any]) -> type[Any]:
    class Recording(base):  # type: ignore[misc, valid-type]
        """Notes the thread of every read and write the guard makes."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.threads: set[int] = set()

        def get(self, *args: Any, **kwargs: Any) -> Any:
            self.threads.add(threading.get_ident())
            return super().get(*args, **kwargs)

        def get_many(self, *args: Any, **kwargs: Any) -> Any:
            self.threads.add(threading.get_ident())
            return super().get_many(*args, **kwargs)

        def put(self, *args: Any, **kwargs: Any) -> Any:
            self.threads.add(threading.get_ident())
            return super().put(*args, **kwargs)

    return Recording


@pytest.mark.parametrize("setup", ["memory", "sqlite", "memory+audit"])
def test_guard_io_leaves_the_event_loop_only_when_it_can_block(
    setup: str,
    tmp_path: Path,
    faceguard_emulator: Any,
    faceguard_consent: Any,
    faceguard_clock: Any,
) -> None:
    if setup == "sqlite":
        store = _recording(SQLiteStore)(tmp_path / "guard.sqlite3", clock=faceguard_clock)
    else:
        store = _recording(MemoryStore)(clock=faceguard_clock)
    audit = AuditLog(tmp_path / "audit.jsonl", clock=faceguard_clock) if "audit" in setup else None
    policy = GuardPolicy(
        use_case=faceguard_consent.use_case,
        verifier=faceguard_consent.verifier,
        store=store,
        clock=faceguard_clock,
        audit=audit,
    )
    token = faceguard_consent.token(operations=["detect_template"])

    async def main() -> tuple[int, int]:
        async with AsyncFaceClient(
            ENDPOINT,
            api_key=API_KEY,
            transport=faceguard_emulator.transport(),
            guard=policy,
            clock=faceguard_clock,
        ) as client:
            faces = await client.detection.detect(SINGLE[0], return_face_id=True, consent=token)
        return threading.get_ident(), len(faces)

    try:
        loop_thread, detected = asyncio.run(main())
    finally:
        if audit is not None:
            audit.close()
    assert detected == 1
    assert store.threads, "the guard recorded nothing in its store"
    if setup == "memory":
        assert store.threads == {loop_thread}
    else:
        assert loop_thread not in store.threads
    if audit is not None:
        assert (tmp_path / "audit.jsonl").read_text(encoding="utf-8").count("\n") >= 1
