"""The audit trail (GUARD.md §5, conformance vector 12): a hash-chained JSONL log whose every
alteration, deletion, reordering or truncation `faceguard audit verify` detects, and whose
records never hold images, tokens, faceIds or keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faceguard import AuditError
from faceguard.__main__ import main
from faceguard._guard import _audit_chain as audit_module
from faceguard._guard._audit import (
    DECISIONS,
    EVENTS,
    GENESIS,
    AuditLog,
    AuditRecord,
    ChainReport,
    canonical_json,
    find_sensitive,
    verify_chain,
)

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
T0 = 1767254400.0  # 2026-01-01T08:00:00Z
EVENT_CYCLE = sorted(EVENTS - {"checkpoint"})  # only the log writes checkpoints
DECISION_CYCLE = sorted(DECISIONS)

FACE_ID = "c5c24a82-6845-4031-9d5d-978df9175426"
AZURE_KEY = "0123456789abcdef0123456789ABCDEF"
JWT = (
    base64.urlsafe_b64encode(b'{"alg":"EdDSA","typ":"consent+jwt"}').rstrip(b"=").decode()
    + "."
    + base64.urlsafe_b64encode(b'{"sub":"user-42","uc":"x"}').rstrip(b"=").decode()
    + "."
    + base64.urlsafe_b64encode(b"s" * 64).rstrip(b"=").decode()
)
SHORT_JWT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"


class Clock:
    """An injected clock: each call moves one millisecond on."""

    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            self.now += 0.001
            return self.now


def record_kwargs(i: int, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "operation": "FaceRecognitionOperations_IdentifyFromLargePersonGroup",
        "route": "POST /identify",
        "decision": DECISION_CYCLE[i % len(DECISION_CYCLE)],
        "rule": "R05 consent",
        "reason": f"no consent token for call number {i}",
        "subject": f"user-{i % 7}",
        "request_id": f"3f2a1c9e-8d7b-4c6a-9e1f-{i:012d}",
        "client_request_id": None,
        "model_version": None,
        "details": {"candidates": i, "suppressed": i % 3, "mode": "largePersonGroup"},
    }
    kwargs.update(overrides)
    return kwargs


def write_log(path: Path, n: int, *, key: bytes = KEY, start: int = 0) -> list[AuditRecord]:
    with AuditLog(path, clock=Clock(), subject_key=key, fsync=False) as log:
        return [
            log.record(EVENT_CYCLE[i % len(EVENT_CYCLE)], **record_kwargs(i))
            for i in range(start, start + n)
        ]


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


@pytest.fixture
def log50(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    write_log(path, 50)
    return path


# -- the chain -----------------------------------------------------------------------------


def test_a_chain_of_50_records_verifies(log50: Path) -> None:
    assert verify_chain(log50) == ChainReport(ok=True, records=50)


def test_an_empty_log_verifies(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    AuditLog(path).close()
    assert path.read_bytes() == b""
    assert verify_chain(path) == ChainReport(ok=True, records=0)


def test_records_are_json_lines_with_an_independently_recomputable_chain(log50: Path) -> None:
    prev = "sha256:" + "0" * 64
    raw_lines = lines_of(log50)
    assert len(raw_lines) == 50
    for seq, raw in enumerate(raw_lines):
        assert raw.endswith(b"\n")
        assert b"\n" not in raw[:-1]
        record = json.loads(raw)
        assert set(record) == {
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
        }
        assert record["v"] == 1
        assert record["seq"] == seq
        assert record["prev"] == prev
        body = {k: v for k, v in record.items() if k != "hash"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert record["hash"] == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
        # the line itself is the canonical JSON of the whole record
        whole = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert raw[:-1] == whole.encode()
        prev = record["hash"]


def test_record_returns_what_was_written_with_timestamps_from_the_injected_clock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path, clock=lambda: T0 + 1.1237, subject_key=KEY, fsync=True) as log:
        written = log.record("decision", **record_kwargs(0))
        assert log.next_seq == 1
        assert log.head == written.hash
    assert written.ts == "2026-01-01T08:00:01.123Z"
    assert written.seq == 0
    assert written.prev == GENESIS
    assert json.loads(path.read_bytes()) == written.as_dict()
    assert hash(written) == hash(written.hash)


def test_an_aware_datetime_clock_is_converted_to_utc(tmp_path: Path) -> None:
    tz = timezone(timedelta(hours=2))
    moment = datetime(2026, 1, 1, 10, 0, 1, 999999, tzinfo=tz)
    with AuditLog(tmp_path / "a.jsonl", clock=lambda: moment) as log:
        assert log.record("decision", **record_kwargs(0)).ts == "2026-01-01T08:00:01.999Z"


def test_a_naive_datetime_clock_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path, clock=lambda: datetime(2026, 1, 1)) as log:
        with pytest.raises(ValueError, match="naive"):
            log.record("decision", **record_kwargs(0))
        assert log.next_seq == 0
    assert path.read_bytes() == b""


# -- tampering -----------------------------------------------------------------------------


def _offset(line: bytes, where: str) -> int:
    """A byte offset inside one record line: in a value, in a key, in hash, in prev."""
    if where == "value":
        return line.index(b"no consent token") + 3
    if where == "key":
        return line.index(b'"operation"') + 4
    if where == "hash":
        return line.index(b'"hash":"sha256:') + len(b'"hash":"sha256:') + 10
    if where == "prev":
        return line.index(b'"prev":"sha256:') + len(b'"prev":"sha256:') + 63
    if where == "seq":
        return line.index(b'"seq":') + len(b'"seq":')
    if where == "ts":
        return line.index(b'"ts":"') + len(b'"ts":"') + 20
    raise AssertionError(where)


@pytest.mark.parametrize("where", ["value", "key", "hash", "prev", "seq", "ts"])
@pytest.mark.parametrize("index", [0, 17, 49])
def test_altering_one_byte_breaks_the_chain_at_that_record(
    log50: Path, index: int, where: str
) -> None:
    lines = lines_of(log50)
    line = bytearray(lines[index])
    at = _offset(bytes(line), where)
    line[at] = ord("7") if line[at] != ord("7") else ord("8")
    lines[index] = bytes(line)
    log50.write_bytes(b"".join(lines))
    report = verify_chain(log50)
    assert not report.ok
    assert report.first_broken == index
    assert report.records == index
    assert report.problem is not None
    assert "hash mismatch" in report.problem or "bad JSON" in report.problem


def test_every_single_byte_change_of_a_record_line_is_detected(log50: Path) -> None:
    original = lines_of(log50)
    target = 20
    for at in range(len(original[target])):
        lines = list(original)
        line = bytearray(lines[target])
        line[at] ^= 0x01
        lines[target] = bytes(line)
        log50.write_bytes(b"".join(lines))
        report = verify_chain(log50)
        assert not report.ok, at
        assert report.first_broken == target, (at, report)


def test_deleting_a_record_names_the_record_after_the_gap(log50: Path) -> None:
    lines = lines_of(log50)
    del lines[10]
    log50.write_bytes(b"".join(lines))
    report = verify_chain(log50)
    assert not report.ok
    assert report.first_broken == 10
    assert report.problem is not None
    assert "seq gap: expected seq 10, found 11" in report.problem


def test_deleting_the_first_record_breaks_the_chain(log50: Path) -> None:
    log50.write_bytes(b"".join(lines_of(log50)[1:]))
    report = verify_chain(log50)
    assert (report.ok, report.first_broken) == (False, 0)


def test_a_deletion_with_renumbered_seqs_is_still_a_broken_link(log50: Path) -> None:
    """Deleting record 10, then renumbering and rehashing every record, still leaves record
    10's prev pointing at the deleted record."""
    lines = [json.loads(raw) for raw in lines_of(log50)]
    del lines[10]
    for seq, record in enumerate(lines):
        record["seq"] = seq
        body = {k: v for k, v in record.items() if k != "hash"}
        record["hash"] = "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()
    log50.write_bytes(b"".join(canonical_json(r) + b"\n" for r in lines))
    report = verify_chain(log50)
    assert report.first_broken == 10
    assert report.problem is not None
    assert "broken link: prev does not match the hash of record 9" in report.problem


GENESIS_LITERAL = "sha256:" + "0" * 64  # spelled out: a changed GENESIS constant must show


def _rehash(record: dict[str, Any]) -> bytes:
    body = {k: v for k, v in record.items() if k != "hash"}
    record["hash"] = "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()
    return canonical_json(record) + b"\n"


def test_the_first_record_links_to_the_genesis_value(tmp_path: Path) -> None:
    assert GENESIS == GENESIS_LITERAL
    for n in (1, 3):
        path = tmp_path / f"g{n}.jsonl"
        write_log(path, n)
        assert json.loads(lines_of(path)[0])["prev"] == GENESIS_LITERAL
    empty = tmp_path / "empty.jsonl"
    empty.touch()  # an existing empty file starts at the genesis value too
    with AuditLog(empty, fsync=False) as log:
        assert log.head == GENESIS_LITERAL
        assert log.record("decision", **record_kwargs(0)).prev == GENESIS_LITERAL


@pytest.mark.parametrize(
    "wrong_prev",
    [
        "sha256:" + "0" * 63 + "1",  # one digit off
        "sha256:" + "f" * 64,
        "sha256:" + hashlib.sha256(b"").hexdigest(),  # the hash of nothing, not the genesis
        "previous",  # the hash of the record that was cut off the front (filled in below)
    ],
)
def test_a_wrong_genesis_link_is_reported_at_the_first_record(
    log50: Path, wrong_prev: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every record rehashed and relinked, only the first one's prev is not the genesis: the
    chain after it is perfect, so only the genesis check can notice."""
    records = [json.loads(raw) for raw in lines_of(log50)]
    if wrong_prev == "previous":
        wrong_prev = records[0]["hash"]
        records = records[1:]  # a front truncation, renumbered and rechained
    records[0]["prev"] = wrong_prev
    out = []
    for seq, record in enumerate(records):
        record["seq"] = seq
        if seq:
            record["prev"] = records[seq - 1]["hash"]
        out.append(_rehash(record))
    log50.write_bytes(b"".join(out))
    report = verify_chain(log50)
    assert (report.ok, report.first_broken, report.records) == (False, 0, 0)
    assert report.problem is not None
    assert "the first record's prev is not the genesis hash" in report.problem
    assert main(["audit", "verify", str(log50)]) == 1
    assert capsys.readouterr().out.startswith("BROKEN at record 0: broken link: the first")


def test_reordering_two_records_breaks_the_chain(log50: Path) -> None:
    lines = lines_of(log50)
    lines[10], lines[11] = lines[11], lines[10]
    log50.write_bytes(b"".join(lines))
    report = verify_chain(log50)
    assert not report.ok
    assert report.first_broken == 10


def test_a_duplicated_record_breaks_the_chain(log50: Path) -> None:
    lines = lines_of(log50)
    lines.insert(31, lines[30])
    log50.write_bytes(b"".join(lines))
    assert verify_chain(log50).first_broken == 31


@pytest.mark.parametrize("keep", [1, 100, -1])
def test_a_truncated_last_record_is_reported(log50: Path, keep: int) -> None:
    lines = lines_of(log50)
    lines[-1] = lines[-1][:keep]  # -1 drops only the newline
    log50.write_bytes(b"".join(lines))
    report = verify_chain(log50)
    assert not report.ok
    assert report.first_broken == 49
    assert report.problem is not None
    assert "incomplete last line" in report.problem


def test_a_reformatted_line_with_the_same_content_is_detected(tmp_path: Path) -> None:
    """Re-escaping a character keeps the parsed record (and so its hash) but not its bytes."""
    path = tmp_path / "a.jsonl"
    with AuditLog(path, fsync=False) as log:
        log.record("decision", **record_kwargs(0, reason="café refused"))
        log.record("decision", **record_kwargs(1))
    lines = lines_of(path)
    record = json.loads(lines[0])
    lines[0] = json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    assert b"caf\\u00e9" in lines[0]
    path.write_bytes(b"".join(lines))
    report = verify_chain(path)
    assert report.first_broken == 0
    assert report.problem is not None
    assert "canonical" in report.problem


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"\n", "blank line"),
        (b"\xff\xfe\n", "not valid UTF-8"),
        (b"[1,2]\n", "not a JSON object"),
        (b'{"v":1.0}\n', "non-integer number"),
        (b'{"hash":"a","hash":"b"}\n', "duplicate key"),
        (b'{"v":1}\n', "no hash field"),
    ],
)
def test_garbage_lines_are_named(tmp_path: Path, line: bytes, problem: str) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, 3)
    path.write_bytes(path.read_bytes() + line)
    report = verify_chain(path)
    assert report.first_broken == 3
    assert report.problem is not None
    assert problem in report.problem
    assert report.problem.endswith("; line 4")


def test_a_rehashed_record_with_a_bad_field_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    record = {"v": 1, "seq": 0, "prev": GENESIS}
    record["hash"] = "sha256:" + hashlib.sha256(canonical_json(record)).hexdigest()
    path.write_bytes(canonical_json(record) + b"\n")
    report = verify_chain(path)
    assert report.problem is not None
    assert "malformed record: missing field" in report.problem


# -- reopening -----------------------------------------------------------------------------


def test_reopening_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    first = write_log(path, 20)
    with AuditLog(path, subject_key=KEY, fsync=False) as log:
        assert log.next_seq == 20
        assert log.head == first[-1].hash
        more = log.record("api_call", **record_kwargs(20))
    assert more.seq == 20
    assert more.prev == first[-1].hash
    write_log(path, 9, start=21)
    assert verify_chain(path) == ChainReport(ok=True, records=30)
    assert [json.loads(raw)["seq"] for raw in lines_of(path)] == list(range(30))


@pytest.mark.parametrize("damage", ["truncate", "alter"])
def test_reopening_a_log_with_a_damaged_tail_is_refused(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "a.jsonl"
    write_log(path, 5)
    data = path.read_bytes()
    damaged = (
        data[:-10] if damage == "truncate" else data.replace(b"call number 4", b"call numbr 4")
    )
    path.write_bytes(damaged)
    with pytest.raises(AuditError, match="faceguard audit verify") as refused:
        AuditLog(path)
    assert refused.value.reason == "damaged"
    assert path.read_bytes() == damaged


def test_a_long_last_record_is_found_when_reopening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_module, "_TAIL_CHUNK", 16)  # read the tail back in many steps
    path = tmp_path / "a.jsonl"
    big = {f"k{i}": "x" * 40 for i in range(60)}  # a ~3 KiB line
    with AuditLog(path, fsync=False) as log:
        for i in range(3):
            log.record("decision", **record_kwargs(i, details=big))
    with AuditLog(path, fsync=False) as log:
        assert log.next_seq == 3
        log.record("decision", **record_kwargs(3))
    assert verify_chain(path).ok


def test_str_enum_events_are_written_as_plain_strings(tmp_path: Path) -> None:
    class Event(str, Enum):
        DECISION = "decision"

    with AuditLog(tmp_path / "a.jsonl") as log:
        written = log.record(Event.DECISION, **record_kwargs(0))
    assert repr(written.event) == "'decision'"  # not <Event.DECISION: 'decision'>


def test_a_closed_log_refuses_records(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    log.close()
    log.close()
    with pytest.raises(AuditError, match="closed") as refused:
        log.record("decision", **record_kwargs(0))
    assert refused.value.reason == "closed"


# -- concurrency ---------------------------------------------------------------------------


def test_concurrent_writes_from_8_threads_make_one_valid_chain(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    per_thread = 50
    barrier = threading.Barrier(8)

    with AuditLog(path, clock=Clock(), subject_key=KEY) as log:

        def work(thread: int) -> None:
            barrier.wait()
            for i in range(per_thread):
                log.record("api_call", **record_kwargs(i, details={"thread": thread, "i": i}))

        with ThreadPoolExecutor(max_workers=8) as pool:
            for future in [pool.submit(work, t) for t in range(8)]:
                future.result()  # re-raises anything a thread raised
        assert log.next_seq == 8 * per_thread
    assert verify_chain(path) == ChainReport(ok=True, records=8 * per_thread)
    records = [json.loads(raw) for raw in lines_of(path)]
    assert [r["seq"] for r in records] == list(range(8 * per_thread))
    seen = sorted((r["details"]["thread"], r["details"]["i"]) for r in records)
    assert seen == [(t, i) for t in range(8) for i in range(per_thread)]


# -- content rules -------------------------------------------------------------------------

FORBIDDEN_VALUES: list[tuple[str, object]] = [
    ("jpeg bytes", JPEG),
    ("png bytes", PNG),
    ("bytearray", bytearray(JPEG)),
    ("jpeg base64", base64.b64encode(JPEG).decode()),
    ("png base64", base64.b64encode(PNG).decode()),
    ("jpeg base64url", base64.urlsafe_b64encode(JPEG).decode()),
    ("data uri", "data:image/jpeg;base64,AAAA"),
    ("raw jpeg text", JPEG.decode("latin-1")),
    ("jwt", JWT),
    ("jwt in text", f"token was {JWT} and it expired"),
    ("unsigned jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
    ("faceId", FACE_ID),
    ("faceId in text", f"faceId {FACE_ID} expired"),
    ("faceId upper case", FACE_ID.upper()),
    ("32-hex key", AZURE_KEY),
    ("32-hex key in text", f"key={AZURE_KEY};"),
    ("uuid without dashes", FACE_ID.replace("-", "")),
    ("84-char key", "A1b2C3d4" * 10 + "JQQJ"),
]


@pytest.mark.parametrize(("label", "value"), FORBIDDEN_VALUES, ids=[v[0] for v in FORBIDDEN_VALUES])
@pytest.mark.parametrize("field", ["details", "details-nested", "reason", "rule"])
def test_sensitive_content_is_refused_and_nothing_is_written(
    tmp_path: Path, field: str, label: str, value: object
) -> None:
    overrides: dict[str, Any]
    if field == "details":
        overrides = {"details": {"note": value}}
    elif field == "details-nested":
        overrides = {"details": {"outer": {"list": [1, value]}}}
    else:
        overrides = {field: value}
    path = tmp_path / "a.jsonl"
    with AuditLog(path, subject_key=KEY) as log:
        with pytest.raises(ValueError):
            log.record("decision", **record_kwargs(0, **overrides))
        assert log.next_seq == 0
        assert log.head == GENESIS
        # the log stays usable
        log.record("decision", **record_kwargs(0))
    assert verify_chain(path) == ChainReport(ok=True, records=1)
    assert len(lines_of(path)) == 1


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"details": {"score": 0.93}}, "floats"),
        ({"details": {"n": 2**60}}, "integer"),
        ({"details": {"when": datetime(2026, 1, 1)}}, "datetime"),
        ({"details": {1: "x"}}, "keys"),
        ({"details": {"bad key!": 1}}, "keys"),
        ({"details": {AZURE_KEY: 1}}, "hex"),
        ({"details": {"a": {"b": {"c": {"d": {"e": 1}}}}}}, "deeper"),
        ({"details": {"big": ["x" * 400] * 12}}, "larger"),
        ({"details": {"s": "\ud800"}}, "Unicode"),
        ({"reason": "x" * 501}, "longer"),
        ({"route": "POST /face/v1.2/identify?returnFaceId=true"}, "route template"),
        ({"route": "identify"}, "route template"),
        ({"route": f"DELETE /persons/{FACE_ID}"}, "UUID"),
        ({"operation": "identify this please"}, "operation"),
        ({"model_version": SHORT_JWT}, "JWT"),
        ({"request_id": SHORT_JWT}, "JWT"),
        ({"request_id": "a b"}, "whitespace"),
        ({"subject": ""}, "subject"),
        ({"reason": "refused for user-3", "subject": "user-3"}, "raw subject"),
        ({"details": {"who": "user-3"}, "subject": "user-3"}, "raw subject"),
    ],
)
def test_other_bad_fields_are_refused(
    tmp_path: Path, overrides: dict[str, Any], match: str
) -> None:
    path = tmp_path / "a.jsonl"
    with AuditLog(path, subject_key=KEY) as log, pytest.raises(ValueError, match=match):
        log.record("decision", **record_kwargs(0, **overrides))
    assert path.read_bytes() == b""


@pytest.mark.parametrize(("event", "decision"), [("sneeze", "allowed"), ("decision", "maybe")])
def test_unknown_events_and_decisions_are_refused(
    tmp_path: Path, event: str, decision: str
) -> None:
    with AuditLog(tmp_path / "a.jsonl") as log, pytest.raises(ValueError, match="unknown"):
        log.record(event, **record_kwargs(0, decision=decision))


def test_request_ids_may_be_uuids_and_digests_may_be_logged(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    face_hash = "sha256:" + hashlib.sha256(FACE_ID.encode()).hexdigest()
    with AuditLog(path) as log:
        log.record(
            "api_call",
            **record_kwargs(
                0,
                request_id=FACE_ID,
                client_request_id=AZURE_KEY.lower(),
                model_version="2024-11-15",
                details={"face_ids": [face_hash], "sha1": "a" * 40, "returned": 2},
            ),
        )
    assert verify_chain(path).ok


def test_details_are_copied_so_later_changes_do_not_reach_the_record(tmp_path: Path) -> None:
    details: dict[str, Any] = {"counts": [1, 2]}
    with AuditLog(tmp_path / "a.jsonl") as log:
        written = log.record("decision", **record_kwargs(0, details=details))
    details["counts"].append(3)
    assert written.details == {"counts": [1, 2]}
    exported = written.as_dict()
    assert isinstance(exported["details"], dict)
    exported["details"]["counts"] = []
    assert written.details == {"counts": [1, 2]}


def test_find_sensitive_lets_ordinary_text_through() -> None:
    for text in [
        "R01 retired attribute: emotion",
        "recognition_04 model v1.2.3 at consent.example.com",
        "sha256:" + "ab" * 32,
        "FaceRecognitionOperations_IdentifyFromLargePersonGroup",
        "",
    ]:
        assert find_sensitive(text) is None, text


def test_canonical_json_refuses_floats_and_matches_jcs_for_the_subset() -> None:
    with pytest.raises(ValueError, match="floats"):
        canonical_json({"a": 1.5})
    with pytest.raises(ValueError, match="bytes"):
        canonical_json([b"x"])
    # RFC 8785 examples restricted to the subset: sorted keys, no spaces, raw UTF-8, short escapes
    value = {"b": [True, None, -0, 10], "a": 'é\n\u001f"\\/', "€": {"z": 1, "A": 2}}
    assert canonical_json(value) == (
        '{"a":"é\\n\\u001f\\"\\\\/","b":[true,null,0,10],"€":{"A":2,"z":1}}'.encode()
    )


# -- subject pseudonyms --------------------------------------------------------------------


def test_pseudonyms_are_stable_for_one_key_and_differ_across_keys(tmp_path: Path) -> None:
    with (
        AuditLog(tmp_path / "a.jsonl", subject_key=KEY) as a,
        AuditLog(tmp_path / "b.jsonl", subject_key=KEY) as b,
        AuditLog(tmp_path / "c.jsonl", subject_key=OTHER_KEY) as c,
        AuditLog(tmp_path / "d.jsonl") as d,
    ):
        expected = "hmac:" + hmac.new(KEY, b"user-42", hashlib.sha256).hexdigest()
        assert a.pseudonym("user-42") == expected == b.pseudonym("user-42")
        assert a.pseudonym("user-42") != a.pseudonym("user-43")
        assert c.pseudonym("user-42") != expected
        assert d.pseudonym("user-42") not in {expected, c.pseudonym("user-42")}
        assert re.fullmatch(r"hmac:[0-9a-f]{64}", d.pseudonym("user-42"))


def test_the_raw_subject_never_reaches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    subject = "alice.example@contoso.com"
    with AuditLog(path, subject_key=KEY) as log:
        first = log.record("decision", **record_kwargs(0, subject=subject))
        # an already-made pseudonym is written as given, not hashed again
        second = log.record("decision", **record_kwargs(1, subject=log.pseudonym(subject)))
        third = log.record("decision", **record_kwargs(2, subject=None))
    assert first.subject == second.subject == log.pseudonym(subject)
    assert third.subject is None
    data = path.read_bytes()
    assert subject.encode() not in data
    assert b"alice" not in data
    assert verify_chain(path).ok


def test_a_short_subject_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="subject_key"):
        AuditLog(tmp_path / "a.jsonl", subject_key=b"short")
    assert not (tmp_path / "a.jsonl").exists()


# -- the command line ----------------------------------------------------------------------


def test_cli_verify_ok(log50: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", str(log50)]) == 0
    assert capsys.readouterr().out == "OK: 50 records, chain intact\n"


def test_cli_verify_broken(log50: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = lines_of(log50)
    del lines[7]
    log50.write_bytes(b"".join(lines))
    assert main(["audit", "verify", str(log50)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("BROKEN at record 7: seq gap: expected seq 7, found 8")
    assert out.endswith("; line 8\n")


def test_cli_verify_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", str(tmp_path / "nope.jsonl")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no such audit log" in captured.err
    assert main(["audit", "verify", str(tmp_path)]) == 2
    assert "not a file" in capsys.readouterr().err


def test_cli_version_still_works(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out.startswith("faceguard ")


def test_python_dash_m_faceguard_audit_verify_exit_codes(log50: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "faceguard", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    ok = run("audit", "verify", str(log50))
    assert (ok.returncode, ok.stdout) == (0, "OK: 50 records, chain intact\n")

    lines = lines_of(log50)
    lines[3] = lines[3].replace(b"call number 3", b"call number 4")
    log50.write_bytes(b"".join(lines))
    broken = run("audit", "verify", str(log50))
    assert broken.returncode == 1
    assert broken.stdout.startswith("BROKEN at record 3: hash mismatch")

    missing = run("audit", "verify", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 2
    assert "no such audit log" in missing.stderr

    usage = run("audit")
    assert usage.returncode == 2


# -- property: write, verify, mutate -------------------------------------------------------

_safe_text = st.text(max_size=30).filter(lambda s: find_sensitive(s) is None)
_records = st.lists(
    st.fixed_dictionaries(
        {
            "event": st.sampled_from(EVENT_CYCLE),
            "decision": st.sampled_from(sorted(DECISIONS)),
            "operation": st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True),
            "route": st.sampled_from(["POST /identify", "DELETE /persons/{personId}", "GET /"]),
            "rule": _safe_text,
            "reason": _safe_text,
            "subject": st.none() | st.text(min_size=1, max_size=12),
            "model_version": st.none() | _safe_text,
            "details": st.dictionaries(
                st.from_regex(r"[A-Za-z0-9_.-]{1,8}", fullmatch=True).filter(
                    lambda s: find_sensitive(s) is None
                ),
                st.none()
                | st.booleans()
                | st.integers(-(2**53) + 1, 2**53 - 1)
                | _safe_text
                | st.lists(_safe_text, max_size=3),
                max_size=4,
            ),
        }
    ),
    max_size=6,
)


def _texts(spec: dict[str, Any]) -> list[str]:
    out = [spec["rule"], spec["reason"], spec["operation"], spec["route"]]
    if spec["model_version"]:
        out.append(spec["model_version"])
    for key, value in spec["details"].items():
        out.append(key)
        out.extend(value if isinstance(value, list) else [value] if isinstance(value, str) else [])
    return out


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    records=_records,
    kind=st.sampled_from(["replace", "insert", "delete"]),
    position=st.integers(min_value=0),
    char=st.characters(),
)
def test_write_then_verify_and_any_one_character_mutation_is_detected(
    records: list[dict[str, Any]], kind: str, position: int, char: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.jsonl"
        with AuditLog(path, clock=Clock(), subject_key=KEY, fsync=False) as log:
            for spec in records:
                subject = spec["subject"]
                if subject is not None and any(subject in text for text in _texts(spec)):
                    subject = None  # the raw subject in free text is refused by design
                kwargs = {k: v for k, v in spec.items() if k != "event"}
                log.record(spec["event"], **{**kwargs, "subject": subject})
        assert verify_chain(path) == ChainReport(ok=True, records=len(records))

        text = path.read_text(encoding="utf-8")
        if not text:
            kind = "insert"
        at = position % (len(text) + (1 if kind == "insert" else 0))
        if kind == "replace":
            mutated = text[:at] + char + text[at + 1 :]
        elif kind == "insert":
            mutated = text[:at] + char + text[at:]
        else:
            mutated = text[:at] + text[at + 1 :]
        if mutated == text:
            return
        path.write_bytes(mutated.encode("utf-8", "surrogatepass"))
        report = verify_chain(path)
        assert not report.ok
        # the damaged line is named; a newline inserted just before a line's own newline
        # leaves that line intact and makes a blank line after it
        line = text[:at].count("\n")
        assert report.first_broken in {line, line + 1}
