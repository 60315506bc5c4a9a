"""Disputes (R22) and ``faceguard audit show --decision``.

A person disputes a decision by its id (``result.decision_id``): ``client.dispute`` records a
``dispute`` event linked to the decision in the audit chain (sync and async), and refuses an id
that is malformed, made up, of a record that is not a decision, or of another log. A second
process cannot write the log while the first holds it (refused clearly, ``locked``); once the
first has closed it, the second's dispute is recorded in the same chain. ``faceguard audit
show`` verifies the log and prints the decision with its reviews and disputes, with no subject,
reviewer, faceId, personId or token in clear; a tampered log is not shown.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import _oversight_kit as kit
from faceguard import (
    AsyncFaceClient,
    AuditError,
    AuditLog,
    FaceClient,
    GuardPolicy,
    InvalidInputError,
    OversightError,
)
from faceguard.__main__ import main

REVIEWER = "Reviewer-Jane.Doe@example.com"


def _decided(log_path: Path, **options: Any) -> tuple[kit.Rig, Any, dict[str, str]]:
    """A confirmed verify decision of an access-control client writing ``log_path``."""
    rig = kit.Rig(log_path, **options)
    token = rig.token()
    a, b = rig.face(kit.OBAMA, token), rig.face(kit.OBAMA_PROBE, token)
    result = rig.client.oversight.verify_face_to_face(a, b, consent=token)
    result.confirm(REVIEWER, True)
    return rig, result, {"token": token, "a": a, "b": b}


def test_a_dispute_is_linked_to_the_decision(tmp_path: Path) -> None:
    rig, result, _ = _decided(tmp_path / "audit.jsonl")
    dispute_id = rig.client.dispute(result.decision_id, "the person says they were not there")
    last = rig.records()[-1]
    assert last["hash"] == dispute_id
    assert last["event"] == "dispute" and last["decision"] == "disputed"
    assert last["details"] == {"decision": result.decision_id}
    assert last["rule"] == "R22 feedback"
    decision = next(r for r in rig.records() if r["hash"] == result.decision_id)
    assert last["subject"] == decision["subject"]  # the same person, pseudonymised
    # A second dispute of the same decision is a second record, not a refusal.
    assert rig.client.dispute(result.decision_id, "and again, by letter") != dispute_id


@pytest.mark.parametrize(
    "decision_id",
    [
        "",
        "sha256:",
        "sha256:" + "A" * 64,  # upper case is not how ids are written
        "sha256:" + "a" * 63,
        " sha256:" + "a" * 64,
        "sha256:" + "a" * 64 + "\n",
        "md5:" + "a" * 32,
        None,
        b"sha256:" + b"a" * 64,
        7,
    ],
)
def test_a_malformed_decision_id_is_refused(tmp_path: Path, decision_id: object) -> None:
    rig, _, _ = _decided(tmp_path / "audit.jsonl")
    count = len(rig.records())
    with pytest.raises(InvalidInputError) as info:
        rig.client.dispute(decision_id, "reason")  # type: ignore[arg-type]
    assert "sha256:" + "a" * 10 not in str(info.value)  # the value is not repeated
    assert len(rig.records()) == count


def test_an_unknown_or_forged_decision_id_is_refused(tmp_path: Path) -> None:
    rig, result, _ = _decided(tmp_path / "audit.jsonl")
    records = rig.records()
    review = next(r for r in records if r["event"] == "review")
    before_call = next(r for r in records if r["event"] == "decision")
    forged = "sha256:" + ("0" if result.decision_id[-1] != "0" else "1") * 64
    flipped = result.decision_id[:-1] + ("0" if result.decision_id[-1] != "0" else "1")
    # Not decisions: a review record, the guard's before-the-call record, made-up ids.
    for wrong in (forged, flipped, review["hash"], before_call["hash"], records[0]["prev"]):
        with pytest.raises(OversightError) as info:
            rig.client.dispute(wrong, "reason")
        assert info.value.reason == "unknown_decision"
    assert len(rig.records()) == len(records)


def test_a_decision_of_another_log_is_refused(tmp_path: Path) -> None:
    _, elsewhere, _ = _decided(tmp_path / "other.jsonl")
    rig, _, _ = _decided(tmp_path / "audit.jsonl")
    with pytest.raises(OversightError) as info:
        rig.client.dispute(elsewhere.decision_id, "reason")
    assert info.value.reason == "unknown_decision"


@pytest.mark.parametrize(
    "reason",
    [
        "",
        "   ",
        None,
        "it matched face 0f0e0d0c-0b0a-4909-8807-060504030201",  # an id: content rules
        "token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJwIn0.c2lnbmF0dXJlLXZhbHVl",
        "x" * 501,
    ],
)
def test_a_dispute_reason_follows_the_logs_content_rules(tmp_path: Path, reason: object) -> None:
    rig, result, _ = _decided(tmp_path / "audit.jsonl")
    count = len(rig.records())
    with pytest.raises(InvalidInputError):
        rig.client.dispute(result.decision_id, reason)  # type: ignore[arg-type]
    assert len(rig.records()) == count


def test_a_client_without_an_audit_log_cannot_take_disputes() -> None:
    rig = kit.Rig(None)
    with pytest.raises(OversightError) as info:
        rig.client.dispute("sha256:" + "a" * 64, "reason")
    assert info.value.reason == "audit_required"


def test_async_dispute(tmp_path: Path) -> None:
    rig, result, _ = _decided(tmp_path / "audit.jsonl")
    assert rig.log is not None
    rig.log.close()

    async def scenario() -> str:
        log = AuditLog(tmp_path / "audit.jsonl", subject_key=kit.SUBJECT_KEY)
        async with AsyncFaceClient(
            kit.ENDPOINT,
            api_key="k" * 32,
            transport=rig.emulator.transport(),
            guard=GuardPolicy(audit=log),
        ) as client:
            with pytest.raises(OversightError):
                await client.dispute("sha256:" + "b" * 64, "reason")
            return await client.dispute(result.decision_id, "disputed from the async app")

    dispute_id = asyncio.run(scenario())
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["hash"] == dispute_id


_SECOND_PROCESS = r"""
import json, sys
from faceguard import AuditError, AuditLog, FaceClient, GuardPolicy, OversightError
from faceguard.emulator import Emulator

path, decision_id, other_id, key = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
out = {}
try:
    log = AuditLog(path, subject_key=key.encode())
except AuditError as refused:
    out["open"] = refused.reason
    print(json.dumps(out))
    sys.exit(0)
out["open"] = "ok"
with FaceClient("https://second.invalid", api_key="k" * 32, transport=Emulator().transport(),
                guard=GuardPolicy(audit=log)) as client:
    out["dispute"] = client.dispute(decision_id, "disputed from the second process")
    try:
        client.dispute(other_id, "a decision of another log")
    except OversightError as refused:
        out["other"] = refused.reason
log.close()
print(json.dumps(out))
"""


def _second_process(path: Path, decision_id: str, other_id: str) -> dict[str, str]:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _SECOND_PROCESS,
            str(path),
            decision_id,
            other_id,
            kit.SUBJECT_KEY.decode(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_second_process_is_refused_while_the_log_is_held_then_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.jsonl"
    _, elsewhere, _ = _decided(tmp_path / "other.jsonl")
    rig, result, _ = _decided(path)
    held = _second_process(path, result.decision_id, elsewhere.decision_id)
    assert held == {"open": "locked"}  # one writer: refused clearly, nothing written
    count = len(rig.records())
    assert rig.log is not None
    rig.log.close()
    after = _second_process(path, result.decision_id, elsewhere.decision_id)
    assert after["open"] == "ok" and after["other"] == "unknown_decision"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(records) == count + 1 and records[-1]["hash"] == after["dispute"]
    assert records[-1]["details"]["decision"] == result.decision_id
    # The chain the two processes wrote is one chain, and show finds both sides' records.
    assert main(["audit", "show", str(path), "--decision", result.decision_id]) == 0
    out = capsys.readouterr().out
    assert "disputes: 1" in out and "disputed from the second process" in out
    assert "reviews: 1" in out and "confirmed" in out


def test_show_prints_the_decision_without_anything_in_clear(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.jsonl"
    rig, result, secrets = _decided(path)
    rig.client.dispute(result.decision_id, "the person disputes the match")
    assert main(["audit", "show", str(path), "--decision", result.decision_id]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert f"decision {result.decision_id}" in out
    assert "FaceRecognitionOperations_VerifyFaceToFace" in out
    assert "1 reviewer(s) required; confirmed" in out
    assert "reviewed: the same person" in out
    assert "the person disputes the match" in out
    for secret in (
        kit.SUBJECT,
        REVIEWER,
        REVIEWER.lower(),
        secrets["token"],
        secrets["a"],
        secrets["b"],
        "k" * 32,
    ):
        assert secret not in out
    assert "hmac:" in out  # pseudonyms only


def test_show_verifies_a_signed_log_and_refuses_a_tampered_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "keygen", "--out", str(tmp_path / "audit")]) == 0
    capsys.readouterr()
    path = tmp_path / "audit.jsonl"
    rig = kit.Rig(None)
    rig.log = AuditLog(
        path, subject_key=kit.SUBJECT_KEY, audit_key=(tmp_path / "audit.key").read_bytes()
    )
    client = FaceClient(
        kit.ENDPOINT,
        api_key="k" * 32,
        transport=rig.emulator.transport(),
        guard=GuardPolicy(
            use_case=rig.use_case, verifier=rig.policy.verifier, store=rig.store, audit=rig.log
        ),
    )
    token = rig.token()
    faces = [
        client.detection.detect(p, return_face_id=True, consent=token)[0].face_id or ""
        for p in (kit.OBAMA, kit.OBAMA_PROBE)
    ]
    result = client.oversight.verify_face_to_face(*faces, consent=token)
    result.confirm("alice", True)
    rig.log.close()  # a clean close seals the tail
    key = str(tmp_path / "audit.pub")
    assert main(["audit", "show", str(path), "--decision", result.decision_id, "--key", key]) == 0
    assert "checkpoint(s)" in capsys.readouterr().out
    # Rewrite the review's outcome: the chain breaks, and nothing is shown.
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if '"event":"review"' in line)
    lines[index] = lines[index].replace("reviewed: the same person", "reviewed: not the same")
    path.write_text("\n".join(lines) + "\n")
    code = main(["audit", "show", str(path), "--decision", result.decision_id])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and "not shown" in err
    assert main(["audit", "show", str(path), "--decision", result.decision_id, "--key", key]) != 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--decision", "sha256:" + "c" * 64], "no recognition decision"),
        (["--decision", "not-an-id"], "decision_id"),
    ],
)
def test_show_refuses_what_it_cannot_find(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    path = tmp_path / "audit.jsonl"
    _decided(path)
    assert main(["audit", "show", str(path), *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err
    assert (
        main(["audit", "show", str(tmp_path / "missing.jsonl"), *argv[:1], "sha256:" + "c" * 64])
        == 2
    )
    assert "missing.jsonl" in capsys.readouterr().err


def test_show_is_listed_next_to_verify(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["audit", "--help"])
    assert "show" in capsys.readouterr().out
    done = subprocess.run(
        [sys.executable, "-m", "faceguard", "audit", "show", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "--decision" in done.stdout


def test_a_tampered_decision_is_not_disputed(tmp_path: Path) -> None:
    rig, result, _ = _decided(tmp_path / "audit.jsonl")
    assert rig.log is not None
    rig.log.close()
    path = rig.log.path
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if result.decision_id in line)
    lines[index] = lines[index].replace('"decision":"allowed"', '"decision":"refused"')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AuditError) as info:
        # read-only use of the log's history: what `review` and `dispute` rely on
        from faceguard._guard._review import history

        history(path, result.decision_id)
    assert info.value.reason == "damaged"


def test_show_checks_the_stored_head(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from faceguard import SQLiteStore

    db = tmp_path / "guard.sqlite3"
    path = tmp_path / "audit.jsonl"
    store = SQLiteStore(db)
    rig = kit.Rig(None)
    rig.log = AuditLog(path, subject_key=kit.SUBJECT_KEY, head_store=store)
    client = FaceClient(
        kit.ENDPOINT,
        api_key="k" * 32,
        transport=rig.emulator.transport(),
        guard=GuardPolicy(
            use_case=rig.use_case, verifier=rig.policy.verifier, store=rig.store, audit=rig.log
        ),
    )
    token = rig.token()
    faces = [
        client.detection.detect(p, return_face_id=True, consent=token)[0].face_id or ""
        for p in (kit.OBAMA, kit.OBAMA_PROBE)
    ]
    result = client.oversight.verify_face_to_face(*faces, consent=token)
    result.confirm("alice", True)
    client.dispute(result.decision_id, "disputed")
    rig.log.close()
    store.close()
    argv = ["audit", "show", str(path), "--decision", result.decision_id, "--store", str(db)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "records verified" in out and "disputes: 1" in out
    # The last record (the dispute) cut off: the stored head says the file is short.
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))
    assert main(argv) == 5
    out, err = capsys.readouterr()
    assert out == "" and "TRUNCATED" in err
