"""The audit trail fails closed (GUARD.md §5.3): the decision record is written *before* a
guarded call is sent; if it cannot be written (disk full, file-size limit, the file removed or
replaced under the log, the head store down) the call is not sent and raises AuditError, later
guarded calls are refused until AuditLog.recover() succeeds, and no half-written record is left
in the file or flushed later. Everything runs through a real FaceClient against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import _guard_kit as kit
from _samples import LARGE_PERSON_GROUP_ID, PERSON_ID
from faceguard import (
    APIError,
    AsyncFaceClient,
    AuditError,
    AuditLog,
    ConsentRequiredError,
    FaceClient,
    MemoryStore,
    generate_keypair,
)
from faceguard._guard._audit import canonical_json, verify_chain
from faceguard.emulator import Emulator

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the audit log is POSIX-only")

ENDPOINT = "https://example.cognitiveservices.azure.com"  # one the kit's TOKEN names
API_KEY = "k" * 32
TESTS = Path(__file__).parent
PHOTO = TESTS / "data" / "faces" / "face_recognition" / "obama" / "obama1.jpg"
OTHER_FACE = "0f3c2a1e-8d7b-4c6a-9e1f-2b3c4d5e6f70"


class Rig:
    """A guarded FaceClient on the emulator, and the list of requests that reached it."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log
        self.emulator = Emulator()
        self.seen: list[str] = []
        self.emulator.add_hook(self._arrived)
        self.on_arrival: Callable[[], None] | None = None
        self.policy = dataclasses.replace(kit.policy(), audit=log)
        self.client = FaceClient(
            endpoint=ENDPOINT,
            api_key=API_KEY,
            transport=self.emulator.transport(),
            guard=self.policy,
        )
        self.client.large_person_groups.create(LARGE_PERSON_GROUP_ID, name="fail closed")

    def _arrived(self, request: Any) -> None:
        self.seen.append(f"{request.method} {request.url.path}")
        if self.on_arrival is not None:
            self.on_arrival()


def _erase(rig: Rig) -> object:
    group = f"to-erase-{uuid.uuid4().hex[:12]}"
    rig.client.large_person_groups.create(group, name="x")
    return rig.client.large_person_groups.delete(group)


def _liveness(rig: Rig) -> object:
    return rig.client.liveness.create_session(
        liveness_operation_mode="Passive", device_correlation_id=str(uuid.uuid4())
    )


def _detect(rig: Rig) -> object:
    return rig.client.detection.detect(PHOTO.read_bytes(), return_face_id=True, consent=kit.TOKEN)


def _verify(rig: Rig) -> object:
    return rig.client.recognition.verify_face_to_face(OTHER_FACE, OTHER_FACE, consent=kit.TOKEN)


def _identify(rig: Rig) -> object:
    return rig.client.recognition.identify_from_large_person_group(
        [OTHER_FACE], large_person_group_id=LARGE_PERSON_GROUP_ID, consent=kit.TOKEN
    )


def _enroll(rig: Rig) -> object:
    return rig.client.large_person_groups.add_face(
        LARGE_PERSON_GROUP_ID, PERSON_ID, PHOTO.read_bytes(), consent=kit.TOKEN
    )


CALLS: dict[str, Callable[[Rig], object]] = {
    "erasure": _erase,
    "liveness": _liveness,
    "consent_detect": _detect,
    "verify": _verify,
    "identify": _identify,
    "enrollment": _enroll,
}


def call(rig: Rig, name: str) -> str:
    """Run a guarded call; "sent" if it reached the service (whatever it answered)."""
    before = len(rig.seen)
    with contextlib.suppress(APIError):  # an unknown faceId is refused by the service only
        CALLS[name](rig)
    return "sent" if len(rig.seen) > before else "not sent"


def guarded_calls_sent(rig: Rig) -> int:
    """Requests that reached the service, the setup's group creations excepted."""
    return sum(1 for seen in rig.seen if not seen.startswith("PUT "))


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


# -- the record comes first ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_decision_record_is_written_before_the_call_is_sent(tmp_path: Path, name: str) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, fsync=False)
    rig = Rig(log)
    lengths: list[int] = []
    rig.on_arrival = lambda: lengths.append(len(records(path)))
    assert call(rig, name) == "sent"
    guarded = lengths[-1]  # the records on file when the guarded call reached the service
    decision = records(path)[guarded - 1]
    assert decision["event"] in {"decision", "override"}
    assert decision["decision"] == "allowed"
    assert decision["route"].split(" ")[0] == rig.seen[-1].split(" ")[0]
    log.close()
    assert verify_chain(path).ok


# -- lock lost: the file removed, replaced or renamed under the log ------------------------------


def _remove(path: Path) -> None:
    path.unlink()


def _replace(path: Path) -> None:
    other = path.with_name("other.jsonl")
    other.write_bytes(b"")
    os.replace(other, path)


def _rename(path: Path) -> None:
    path.rename(path.with_name("moved.jsonl"))


@pytest.mark.parametrize("lose", [_remove, _replace, _rename], ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", ["liveness", "verify", "enrollment"])
def test_a_lost_lock_fails_closed(tmp_path: Path, lose: Any, name: str) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, fsync=False)
    rig = Rig(log)
    assert call(rig, name) == "sent"
    sent = guarded_calls_sent(rig)
    lose(path)
    with pytest.raises(AuditError) as failed:
        call(rig, name)
    assert failed.value.reason == "lock_lost" and not failed.value.request_sent
    with pytest.raises(AuditError) as refused:  # and every guarded call after it
        call(rig, "verify")
    assert refused.value.reason == "unhealthy"
    assert guarded_calls_sent(rig) == sent
    with pytest.raises(AuditError) as still:  # the file is gone: recovery cannot fix that
        log.recover()
    assert still.value.reason == "lock_lost"
    assert not log.healthy
    log.close()
    if path.exists():
        assert path.read_bytes() == b""  # a replacement is never written to by the old log
    fresh = AuditLog(path, fsync=False)  # a new writer owns the path now
    assert call(Rig(fresh), name) == "sent"
    fresh.close()
    assert verify_chain(path).ok


def _foreign_line(path: Path) -> None:
    with open(path, "ab") as handle:  # flock is advisory: a plain append is not stopped
        handle.write(b'{"forged":true}\n')


def _foreign_chained_record(path: Path) -> None:
    """A record that chains correctly from the log's head: only its presence gives it away."""
    last = records(path)[-1]
    forged = {**last, "seq": last["seq"] + 1, "prev": last["hash"], "reason": "forged"}
    body = {k: v for k, v in forged.items() if k != "hash"}
    forged["hash"] = "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()
    with open(path, "ab") as handle:
        handle.write(canonical_json(forged) + b"\n")


def _foreign_cut(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size - 7)


@pytest.mark.parametrize(
    "meddle", [_foreign_line, _foreign_chained_record, _foreign_cut], ids=lambda f: f.__name__
)
def test_a_foreign_write_under_an_open_log_fails_closed_and_is_kept(
    tmp_path: Path, meddle: Any
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, fsync=False)
    rig = Rig(log)
    assert call(rig, "verify") == "sent"
    meddle(path)
    tampered = path.read_bytes()
    with pytest.raises(AuditError) as failed:
        call(rig, "liveness")
    assert failed.value.reason == "lock_lost"
    with pytest.raises(AuditError) as refused:
        call(rig, "verify")
    assert refused.value.reason == "unhealthy"
    with pytest.raises(AuditError) as still:  # recovery does not cut away the evidence
        log.recover()
    assert still.value.reason == "lock_lost"
    log.close()
    assert path.read_bytes() == tampered
    assert guarded_calls_sent(rig) == 1


def test_a_lost_lock_after_sending_raises_with_request_sent(tmp_path: Path) -> None:
    """The file disappears while the request is on the wire: the outcome record cannot be
    written; the error says the call went out."""
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, fsync=False)
    rig = Rig(log)
    rig.on_arrival = lambda: path.unlink()
    with pytest.raises(AuditError) as failed:
        _liveness(rig)
    assert failed.value.request_sent and failed.value.reason == "lock_lost"
    assert "was sent" in str(failed.value)
    rig.on_arrival = None
    with pytest.raises(AuditError):
        call(rig, "liveness")
    assert guarded_calls_sent(rig) == 1
    log.close()


@pytest.mark.parametrize("lose", [_remove, _replace, _rename], ids=lambda f: f.__name__)
def test_erasure_is_never_blocked_by_a_broken_log_but_never_silent(
    tmp_path: Path, lose: Any
) -> None:
    """GUARD.md §2.1: deleting templates is never blocked. With the log broken, the deletion is
    still sent, and AuditError(request_sent=True) says that its record is missing; every
    other guarded call stays refused."""
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, fsync=False)
    rig = Rig(log)
    assert call(rig, "erasure") == "sent"
    lose(path)
    for _ in range(2):  # the first failure and the unhealthy log after it
        sent = guarded_calls_sent(rig)
        with pytest.raises(AuditError) as unrecorded:
            call(rig, "erasure")
        assert unrecorded.value.request_sent
        assert guarded_calls_sent(rig) == sent + 1
        assert rig.seen[-1].startswith("DELETE ")
    with pytest.raises(AuditError) as refused:
        call(rig, "verify")
    assert not refused.value.request_sent and guarded_calls_sent(rig) == sent + 1
    log.close()


# -- the head store is down ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["identify", "consent_detect"])
def test_a_head_store_failure_fails_closed_and_leaves_the_file_alone(
    tmp_path: Path, name: str
) -> None:
    path, store = tmp_path / "audit.jsonl", MemoryStore()
    audit_key, _ = generate_keypair()
    log = AuditLog(path, fsync=False, audit_key=audit_key, head_store=store)
    rig = Rig(log)
    assert call(rig, name) == "sent"
    on_disk = path.read_bytes()
    store.close()
    with pytest.raises(AuditError) as failed:
        call(rig, name)
    assert failed.value.reason == "head_store"
    assert path.read_bytes() == on_disk  # file and store move together, or neither
    assert guarded_calls_sent(rig) == 1


# -- an unhealthy log also refuses refusals ------------------------------------------------------


def test_a_refusal_that_cannot_be_recorded_raises_audit_error_from_the_refusal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, fsync=False)
    rig = Rig(log)
    path.unlink()
    with pytest.raises(AuditError) as failed:
        rig.client.recognition.verify_face_to_face(OTHER_FACE, OTHER_FACE)  # no consent
    assert isinstance(failed.value.__cause__, ConsentRequiredError)
    assert guarded_calls_sent(rig) == 0
    log.close()


# -- the async client ----------------------------------------------------------------------------


def test_the_async_client_fails_closed_too(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, fsync=False)
    emulator = Emulator()
    seen: list[str] = []
    emulator.add_hook(lambda request: seen.append(request.method) or None)
    policy = dataclasses.replace(kit.policy(), audit=log)

    async def run() -> None:
        async with AsyncFaceClient(
            endpoint=ENDPOINT, api_key=API_KEY, transport=emulator.transport(), guard=policy
        ) as client:
            await client.liveness.create_session(
                liveness_operation_mode="Passive", device_correlation_id=str(uuid.uuid4())
            )
            path.unlink()
            for _ in range(2):
                with pytest.raises(AuditError):
                    await client.liveness.create_session(
                        liveness_operation_mode="Passive",
                        device_correlation_id=str(uuid.uuid4()),
                    )

    asyncio.run(run())
    assert seen == ["POST"]
    log.close()


# -- disk full: a file-size limit in a child process ---------------------------------------------

_DISK_FULL = textwrap.dedent(
    """
    import dataclasses, json, os, resource, signal, sys
    sys.path.insert(0, sys.argv[1])
    import test_audit_failclosed as t
    from faceguard import AuditError, AuditLog

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    path, headroom, names = sys.argv[2], int(sys.argv[3]), sys.argv[4].split(",")
    log = AuditLog(path)
    rig = t.Rig(log)
    out = []
    for name in names:
        first = t.call(rig, name)
        size = os.path.getsize(path)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + headroom, resource.RLIM_INFINITY))
        sent = t.guarded_calls_sent(rig)
        failures = []
        for _ in range(2):
            try:
                t.call(rig, name)
            except AuditError as exc:
                failures.append(exc.reason)
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
        after_failure = os.path.getsize(path)
        with open(path, "rb") as handle:
            whole = handle.read().endswith(b"\\n")
        unsent = t.guarded_calls_sent(rig) == sent
        healthy_before = log.healthy
        log.recover()
        again = t.call(rig, name)
        out.append(dict(name=name, first=first, failures=failures, size=size,
                        after_failure=after_failure, whole=whole, unsent=unsent,
                        healthy_before=healthy_before, healthy=log.healthy, again=again))
    resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path) + 5,) * 2)
    try:
        t.call(rig, names[0])
    except AuditError as exc:
        out.append(dict(last=exc.reason))
    size = os.path.getsize(path)
    log.close()  # nothing of the failed record may be flushed at close
    out.append(dict(closed_size=size, size_after_close=os.path.getsize(path)))
    print(json.dumps(out))
    """
)


@pytest.mark.parametrize("headroom", [0, 1, 40], ids=["no-byte", "one-byte", "part-line"])
def test_a_full_disk_fails_closed_leaves_no_partial_record_and_recovers(
    tmp_path: Path, headroom: int
) -> None:
    path = tmp_path / "audit.jsonl"
    names = ["liveness", "verify", "enrollment", "identify"]
    done = subprocess.run(
        [sys.executable, "-c", _DISK_FULL, str(TESTS), str(path), str(headroom), ",".join(names)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    *steps, last, closing = json.loads(done.stdout.splitlines()[-1])
    for step in steps:
        assert step["first"] == "sent", step
        assert step["failures"] == ["write_failed", "unhealthy"], step
        assert step["unsent"], step  # neither the failed call nor the one after it went out
        assert step["after_failure"] == step["size"], step  # cut back to the last record
        assert step["whole"] and not step["healthy_before"] and step["healthy"], step
        assert step["again"] == "sent", step
    assert last == {"last": "write_failed"}
    assert closing["closed_size"] == closing["size_after_close"]
    report = verify_chain(path)
    assert report.ok, report
    events = [r["event"] for r in records(path)]
    assert events.count("decision") >= 2 * len(names)


@pytest.mark.parametrize("client", ["sync", "async"])
def test_erase_subject_deletes_everything_even_when_the_log_breaks_midway(
    tmp_path: Path, client: str
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, fsync=False)
    rig = Rig(log)
    faces = rig.client.face_lists
    faces.create(kit.FACE_LIST_ID, name="erase me")
    for _ in range(3):
        faces.add_face(kit.FACE_LIST_ID, PHOTO.read_bytes(), consent=kit.TOKEN)
    deletes_before = sum(seen.startswith("DELETE ") for seen in rig.seen)
    path.unlink()  # the log is broken before the erasure starts
    with pytest.raises(AuditError) as unrecorded:
        if client == "sync":
            rig.client.erase_subject(kit.SUBJECT)
        else:
            async_client = AsyncFaceClient(
                endpoint=ENDPOINT,
                api_key=API_KEY,
                transport=rig.emulator.transport(),
                guard=rig.policy,
            )
            asyncio.run(async_client.erase_subject(kit.SUBJECT))
    assert unrecorded.value.request_sent
    deleted = [s for s in rig.seen if s.startswith("DELETE ")][deletes_before:]
    assert len(deleted) >= 3  # every enrolled face, not only the first
    log.close()
