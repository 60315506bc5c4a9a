"""Signed checkpoints and the stored head (GUARD.md §5.3): `faceguard audit verify --key
--store` tells a forged append, a deleted-and-rechained record and a truncated tail apart, and
says which (exit 3, 4, 5). Every attack here produces a file whose hash chain is intact again:
only the seals can show it. Each one runs through the public API and the command line."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from faceguard import AuditError, AuditLog, MemoryStore, SQLiteStore, generate_keypair
from faceguard.__main__ import main
from faceguard._guard._audit import canonical_json, verify_chain
from faceguard._guard._audit_verify import verify_log

PRIVATE, PUBLIC = generate_keypair()
ATTACKER_PRIVATE, ATTACKER_PUBLIC = generate_keypair()
EVERY = 5
N = 23  # records written; checkpoints after 5, 10, 15, 20 and at close


class Clock:
    def __init__(self) -> None:
        self.now = 1767254400.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def kwargs(i: int) -> dict[str, Any]:
    return {
        "operation": "FaceRecognitionOperations_VerifyFaceToFace",
        "route": "POST /verify",
        "decision": "allowed",
        "rule": "R05 consent",
        "reason": f"call number {i}",
        "subject": f"user-{i % 3}",
        "details": {"n": i},
    }


def write(path: Path, n: int = N, *, store: Any = None, key: bytes = PRIVATE) -> None:
    with AuditLog(
        path,
        clock=Clock(),
        fsync=False,
        audit_key=key,
        checkpoint_every=EVERY,
        head_store=store,
    ) as log:
        for i in range(n):
            log.record("decision", **kwargs(i))


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def rechain(records: list[dict[str, Any]], start: int = 0) -> list[dict[str, Any]]:
    """Renumber and relink every record from ``start`` on and recompute its hash: what an
    attacker who can write the file does to hide an edit from the chain."""
    for seq in range(start, len(records)):
        record = records[seq]
        record["seq"] = seq
        record["prev"] = records[seq - 1]["hash"] if seq else "sha256:" + "0" * 64
        body = {k: v for k, v in record.items() if k != "hash"}
        record["hash"] = "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()
    return records


def save(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(canonical_json(r) + b"\n" for r in records))
    assert verify_chain(path).ok  # the chain alone sees nothing


def forged_record(records: list[dict[str, Any]], i: int) -> dict[str, Any]:
    return {**records[1], "reason": f"forged call {i}", "details": {"n": 1000 + i}}


def attacker_seal(records: list[dict[str, Any]], position: int) -> dict[str, Any]:
    """A checkpoint at ``position`` sealing the record before it, signed by another key."""
    from faceguard._guard._audit_seal import SealKey, checkpoint_details

    before = records[position - 1]
    template = next(r for r in records if r["event"] == "checkpoint")
    details = checkpoint_details(SealKey(ATTACKER_PRIVATE), before["seq"], before["hash"], position)
    return {**template, "details": details}


def positions_of_checkpoints(records: list[dict[str, Any]]) -> list[int]:
    return [i for i, r in enumerate(records) if r["event"] == "checkpoint"]


@pytest.fixture
def pub(tmp_path: Path) -> Path:
    path = tmp_path / "audit.pub"
    path.write_bytes(PUBLIC)
    return path


def cli(path: Path, pub: Path, store: Path | None = None) -> int:
    argv = ["audit", "verify", str(path), "--key", str(pub)]
    if store is not None:
        argv += ["--store", str(store)]
    return main(argv)


# -- an honest log -----------------------------------------------------------------------------


def test_an_honest_log_verifies_with_key_and_store(
    tmp_path: Path, pub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, db = tmp_path / "a.jsonl", tmp_path / "guard.db"
    store = SQLiteStore(db)
    write(path, store=store)
    store.close()
    records = read(path)
    assert positions_of_checkpoints(records) == [5, 11, 17, 23, 27]  # every 5, and at close
    assert records[-1]["event"] == "checkpoint"
    seal = records[5]["details"]
    assert (seal["seq"], seal["head_hash"], seal["count"]) == (4, records[4]["hash"], 5)
    verdict = verify_log(path, public_key=PUBLIC)
    assert (verdict.status, verdict.records, verdict.checkpoints) == ("ok", 28, 5)
    assert verdict.sealed == 28
    assert cli(path, pub, db) == 0
    assert capsys.readouterr().out.startswith("OK: 28 records, chain intact, 5 checkpoint(s)")
    # continuing the log later keeps the store and the file in step
    store = SQLiteStore(db)
    write(path, 3, store=store)
    store.close()
    assert cli(path, pub, db) == 0


def test_checkpoints_need_an_ed25519_private_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="audit_key"):
        AuditLog(tmp_path / "a.jsonl", audit_key=PUBLIC)
    with pytest.raises(ValueError, match="checkpoint_every needs audit_key"):
        AuditLog(tmp_path / "a.jsonl", checkpoint_every=5)
    with pytest.raises(ValueError, match="public key"):
        verify_log(tmp_path / "a.jsonl", public_key=PRIVATE)
    log = AuditLog(tmp_path / "a.jsonl", audit_key=PRIVATE)
    assert "PRIVATE" not in repr(log) and log.key_id is not None
    log.close()


# -- forged append -----------------------------------------------------------------------------


def _append_plain(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return rechain([*records, forged_record(records, 0)], len(records))


def _append_with_attacker_seal(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = rechain([*records, forged_record(records, 0), forged_record(records, 1)], len(records))
    return rechain([*out, attacker_seal(out, len(out))], len(out))


def _append_with_replayed_seal(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last genuine checkpoint copied after the forged records: a valid signature, but of
    another position."""
    out = rechain([*records, forged_record(records, 0)], len(records))
    return rechain([*out, dict(records[-1])], len(out))


def _append_then_strip_the_closing_seal(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept = records[:-1]  # drop the closing checkpoint, then add records where it was
    return rechain([*kept, forged_record(kept, 0), forged_record(kept, 1)], len(kept))


FORGERIES = [
    _append_plain,
    _append_with_attacker_seal,
    _append_with_replayed_seal,
    _append_then_strip_the_closing_seal,
]


@pytest.mark.parametrize("forge", FORGERIES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("with_store", [False, True])
def test_a_forged_append_is_reported_as_such(
    tmp_path: Path, pub: Path, forge: Any, with_store: bool
) -> None:
    path, db = tmp_path / "a.jsonl", tmp_path / "guard.db"
    store = SQLiteStore(db)
    write(path, store=store)
    store.close()
    honest = len(read(path))
    save(path, forge(read(path)))
    verdict = verify_log(path, public_key=PUBLIC, store=SQLiteStore(db) if with_store else None)
    if with_store and forge is _append_then_strip_the_closing_seal:
        # The signed stored head names the closing checkpoint the forger replaced: with the
        # store this is (rightly) more than an append.
        assert verdict.status == "rewritten", verdict
        assert cli(path, pub, db) == 4
        return
    assert verdict.status == "forged_append", verdict
    assert verdict.problem is not None and "not covered by a genuine checkpoint" in verdict.problem
    assert verdict.sealed <= honest
    assert cli(path, pub, db if with_store else None) == 3


def test_a_second_writer_with_another_key_is_a_forged_append(tmp_path: Path, pub: Path) -> None:
    """Through the public API only: the attacker opens the file with their own audit key after
    the deployment closed it (it refuses, unless told to accept the tail it cannot vouch
    for); their closing checkpoint is not the deployment's."""
    path = tmp_path / "a.jsonl"
    write(path)
    with pytest.raises(AuditError, match="unsealed"):
        AuditLog(path, audit_key=ATTACKER_PRIVATE)
    with AuditLog(path, audit_key=ATTACKER_PRIVATE, accept_unsealed_tail=True) as log:
        log.record("decision", **kwargs(99))
    assert verify_chain(path).ok
    assert verify_log(path, public_key=PUBLIC).status == "forged_append"
    assert cli(path, pub) == 3


@pytest.mark.parametrize("forge", FORGERIES, ids=lambda f: f.__name__)
def test_the_next_run_does_not_seal_a_forged_append(tmp_path: Path, pub: Path, forge: Any) -> None:
    """Records appended while the application was stopped: the next run's first checkpoint
    would vouch for them, so opening refuses until someone has looked."""
    path = tmp_path / "a.jsonl"
    write(path)
    save(path, forge(read(path)))
    forged = path.read_bytes()
    with pytest.raises(AuditError, match="unsealed") as refused:
        AuditLog(path, audit_key=PRIVATE)
    assert refused.value.reason == "damaged"
    assert path.read_bytes() == forged
    assert cli(path, pub) == 3


def test_a_crashed_writer_without_a_store_needs_an_explicit_accept(tmp_path: Path) -> None:
    """Honest limit: without a store a crash looks exactly like a forged append. With the
    store the head pins the tail, so the log reopens by itself."""
    path, db = tmp_path / "a.jsonl", tmp_path / "guard.db"
    for store_path in (None, db):
        path.unlink(missing_ok=True)
        crash = textwrap.dedent(
            f"""
            import os
            from faceguard import AuditLog, SQLiteStore
            store = SQLiteStore({str(store_path)!r}) if {store_path is not None} else None
            log = AuditLog({str(path)!r}, audit_key={PRIVATE!r}, head_store=store)
            log.record("decision", operation="X", route="POST /x", decision="allowed",
                       rule="r", reason="before the crash")
            os._exit(0)  # no close: no closing checkpoint
            """
        )
        subprocess.run([sys.executable, "-c", crash], check=True, timeout=60)
        if store_path is None:
            with pytest.raises(AuditError, match="unsealed"):
                AuditLog(path, audit_key=PRIVATE)
            with AuditLog(path, audit_key=PRIVATE, accept_unsealed_tail=True) as log:
                assert log.next_seq == 2  # the record, and the checkpoint sealing it as found
            assert read(path)[1]["reason"] == "sealing records found unsealed at open"
        else:
            store = SQLiteStore(store_path)
            with AuditLog(path, audit_key=PRIVATE, head_store=store) as log:
                log.record("decision", **kwargs(1))
            assert verify_log(path, public_key=PUBLIC, store=store).status == "ok"
            store.close()


def test_with_a_store_the_attackers_writer_cannot_even_open(tmp_path: Path) -> None:
    path, store = tmp_path / "a.jsonl", MemoryStore()
    write(path, store=store)
    with pytest.raises(AuditError, match="not signed by this log's audit key") as refused:
        AuditLog(path, audit_key=ATTACKER_PRIVATE, head_store=store)
    assert refused.value.reason == "damaged"


# -- deleted and rechained ---------------------------------------------------------------------


def _delete_middle_keep_seals(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    del records[8]
    return rechain(records, 8)


def _delete_first(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    del records[0]
    return rechain(records, 0)


def _delete_a_checkpoint(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    del records[11]
    return rechain(records, 11)


def _alter_and_rechain(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    records[3]["decision"] = "refused"
    return rechain(records, 3)


def _delete_and_reseal_with_attacker_key(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    del records[8]
    out = rechain(records, 8)
    for position in positions_of_checkpoints(out):
        if position > 8:
            out[position] = attacker_seal(out, position)
            rechain(out, position)
    return out


def _delete_drop_seals_and_pad(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Delete a record, drop every later checkpoint, pad with forged records to the old
    length: no signature left to contradict the file, only the store's copies."""
    length = len(records)
    kept = [
        r for i, r in enumerate(records) if i != 8 and not (i > 8 and r["event"] == "checkpoint")
    ]
    while len(kept) < length:
        kept.append(forged_record(kept, len(kept)))
    return rechain(kept, 8)


WITHOUT_STORE = [
    _delete_middle_keep_seals,
    _delete_first,
    _delete_a_checkpoint,
    _alter_and_rechain,
]
NEEDS_STORE = [_delete_and_reseal_with_attacker_key, _delete_drop_seals_and_pad]


@pytest.mark.parametrize("rewrite", WITHOUT_STORE + NEEDS_STORE, ids=lambda f: f.__name__)
def test_a_deleted_and_rechained_record_is_reported_as_rewritten(
    tmp_path: Path, pub: Path, rewrite: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path, db = tmp_path / "a.jsonl", tmp_path / "guard.db"
    store = SQLiteStore(db)
    write(path, store=store)
    store.close()
    save(path, rewrite(read(path)))
    verdict = verify_log(path, public_key=PUBLIC, store=SQLiteStore(db))
    assert verdict.status == "rewritten", verdict
    assert cli(path, pub, db) == 4
    assert capsys.readouterr().out.startswith("REWRITTEN at record ")
    if rewrite in WITHOUT_STORE:  # the key alone is enough for these
        assert verify_log(path, public_key=PUBLIC).status == "rewritten"
        assert cli(path, pub) == 4
    else:  # honest limit: without the store, the file alone cannot show what was removed
        assert verify_log(path, public_key=PUBLIC).status == "forged_append"


def test_a_forged_stored_head_is_reported(tmp_path: Path, pub: Path) -> None:
    """The store is evidence too: a head the attacker rewrote is not signed by the key."""
    path, store = tmp_path / "a.jsonl", MemoryStore()
    write(path, store=store)
    from faceguard._guard._audit_seal import head_value, put_head

    records = read(path)
    put_head(store, head_value(None, "a.jsonl", len(records) - 1, records[-1]["hash"], 0))
    verdict = verify_log(path, public_key=PUBLIC, store=store)
    assert verdict.status == "rewritten"
    assert verdict.problem == "the stored head is not signed by the audit key"


# -- truncated tail ----------------------------------------------------------------------------


def _cut_the_closing_seal(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return records[:-1]


def _cut_between_seals(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return records[:20]


def _cut_at_a_seal(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ends with a genuine checkpoint: looks like a cleanly closed log."""
    return records[: positions_of_checkpoints(records)[-2] + 1]


def _cut_to_one_record(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return records[:1]


TRUNCATIONS = [_cut_the_closing_seal, _cut_between_seals, _cut_at_a_seal, _cut_to_one_record]


@pytest.mark.parametrize("cut", TRUNCATIONS, ids=lambda f: f.__name__)
def test_a_truncated_tail_is_reported_as_such(
    tmp_path: Path, pub: Path, cut: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path, db = tmp_path / "a.jsonl", tmp_path / "guard.db"
    store = SQLiteStore(db)
    write(path, store=store)
    store.close()
    total = len(read(path))
    save(path, cut(read(path)))
    kept = len(read(path))
    verdict = verify_log(path, public_key=PUBLIC, store=SQLiteStore(db))
    assert verdict.status == "truncated", verdict
    assert verdict.problem is not None and f"stored head at seq {total - 1}" in verdict.problem
    assert verdict.at == kept
    assert cli(path, pub, db) == 5
    assert capsys.readouterr().out.startswith(f"TRUNCATED at record {kept}: ")
    # Without the store: a cut inside an unsealed stretch shows as an unsealed tail, a cut
    # right after a checkpoint cannot be seen at all (the honest limit of the file alone).
    alone = verify_log(path, public_key=PUBLIC).status
    assert alone == ("ok" if cut is _cut_at_a_seal else "forged_append")


def test_an_emptied_file_is_truncated_against_the_store(tmp_path: Path, pub: Path) -> None:
    path, db = tmp_path / "a.jsonl", tmp_path / "guard.db"
    store = SQLiteStore(db)
    write(path, store=store)
    store.close()
    path.write_bytes(b"")
    assert verify_log(path, public_key=PUBLIC, store=SQLiteStore(db)).status == "truncated"
    assert cli(path, pub, db) == 5


@pytest.mark.parametrize("keep", [1, 50, -1])
def test_a_cut_inside_the_last_line_is_truncated_even_without_key_or_store(
    tmp_path: Path, keep: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.jsonl"
    write(path)
    data = path.read_bytes()
    last = data[:-1].rfind(b"\n") + 1
    path.write_bytes(data[: last + keep] if keep > 0 else data[:keep])
    assert main(["audit", "verify", str(path)]) == 5
    assert capsys.readouterr().out.startswith("TRUNCATED at record 27: incomplete last line")
    assert verify_log(path, public_key=PUBLIC).status == "truncated"


def test_reopening_a_truncated_log_against_its_store_is_refused(tmp_path: Path) -> None:
    path, store = tmp_path / "a.jsonl", MemoryStore()
    write(path, store=store)
    save(path, read(path)[:-3])
    with pytest.raises(AuditError, match="stored head") as refused:
        AuditLog(path, audit_key=PRIVATE, head_store=store)
    assert refused.value.reason == "damaged"


# -- the command line --------------------------------------------------------------------------


def test_audit_keygen_makes_a_key_pair_that_seals_and_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = tmp_path / "audit"
    assert main(["audit", "keygen", "--out", str(prefix)]) == 0
    key, pub = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    assert key.stat().st_mode & 0o777 == 0o600
    path = tmp_path / "a.jsonl"
    write(path, 7, key=key.read_bytes())
    capsys.readouterr()
    assert cli(path, pub) == 0
    assert cli(path, tmp_path / "missing.pub") == 2
    assert main(["audit", "keygen", "--out", str(prefix)]) == 2  # never overwrites


def test_verify_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["audit", "verify", "--help"])
    text = capsys.readouterr().out
    for line in ("0  OK", "1  BROKEN", "2  bad usage", "3  FORGED APPEND", "4  REWRITTEN"):
        assert line in text
    assert "5  TRUNCATED" in text


def test_a_store_without_this_logs_head_is_a_usage_error(
    tmp_path: Path, pub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, db = tmp_path / "a.jsonl", tmp_path / "guard.db"
    write(path)
    SQLiteStore(db).close()
    assert cli(path, pub, db) == 2
    assert "no head for log 'a.jsonl'" in capsys.readouterr().err
    assert cli(path, pub, tmp_path / "nope.db") == 2


@pytest.mark.parametrize(
    ("tamper", "status", "code"),
    [
        (_cut_between_seals, "truncated", 5),
        (_append_plain, "forged_append", 3),
        (_delete_drop_seals_and_pad, "rewritten", 4),
    ],
    ids=["truncated", "appended", "rewritten"],
)
def test_the_store_alone_pins_the_tail_without_the_key(
    tmp_path: Path, tamper: Any, status: str, code: int
) -> None:
    """An auditor without the public key still tells the three apart by the stored head (it
    cannot check the signatures, so a forger who can write the store defeats this)."""
    path, db = tmp_path / "a.jsonl", tmp_path / "guard.db"
    store = SQLiteStore(db)
    write(path, store=store)
    store.close()
    assert main(["audit", "verify", str(path), "--store", str(db)]) == 0
    save(path, tamper(read(path)))
    assert verify_log(path, store=SQLiteStore(db)).status == status
    assert main(["audit", "verify", str(path), "--store", str(db)]) == code


def test_a_checkpoint_interval_seals_a_slow_log(tmp_path: Path, pub: Path) -> None:
    """GUARD.md §5.3: every N records *or T minutes*; the first record after T seals first."""
    path, now = tmp_path / "a.jsonl", [1767254400.0]
    with pytest.raises(ValueError, match="needs audit_key"):
        AuditLog(path, checkpoint_interval=60)
    with pytest.raises(ValueError, match="positive"):
        AuditLog(path, audit_key=PRIVATE, checkpoint_interval=0)
    log = AuditLog(
        path, clock=lambda: now[0], fsync=False, audit_key=PRIVATE, checkpoint_interval=60
    )
    for step in (0, 10, 59, 61, 30, 100):
        now[0] += step
        log.record("decision", **kwargs(step))
    log.close()
    events = [r["event"] for r in read(path)]
    # 0 s, +10, +59 (69 s since open: sealed first), +61, +30, +100 (sealed first), close
    assert events == [
        "decision",
        "decision",
        "checkpoint",
        "decision",
        "checkpoint",
        "decision",
        "decision",
        "checkpoint",
        "decision",
        "checkpoint",
    ]
    assert cli(path, pub) == 0


def test_a_deleted_stored_head_is_not_mistaken_for_a_store_without_one(
    tmp_path: Path, pub: Path
) -> None:
    path, store = tmp_path / "a.jsonl", MemoryStore()
    write(path, store=store)
    save(path, read(path)[:-4])
    store.delete("audit", "a.jsonl:head")  # the forger hides the head that would show the cut
    verdict = verify_log(path, public_key=PUBLIC, store=store)
    assert verdict.status == "rewritten"
    assert verdict.problem == "the store holds checkpoints of log 'a.jsonl' but no head"
