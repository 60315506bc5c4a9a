"""Checking an audit log against its signed checkpoints and stored head (GUARD.md §5.3).

``verify_chain`` answers "is this file one intact chain?". ``verify_log`` answers the question
an auditor has: "is this the chain the deployment wrote, all of it, and nothing more?". It
tells apart, by the evidence each leaves:

- ``rewritten``: something the audit key vouched for is not in the file. A checkpoint signed by
  the key (in the file, or its copy in the store), or the signed stored head, names a ``seq``
  whose record in the file has another hash. This is what deleting a record and rechaining
  everything after it leaves (or altering one and rechaining): the chain is intact again, but
  the seals are not. A stored head or seal that is not signed by the key counts too.
- ``truncated``: the file ends before a ``seq`` that the stored head or a stored checkpoint
  names, or in the middle of a record.
- ``forged_append``: records that no genuine seal covers: after the last checkpoint signed by
  the key (and, with a store, after the stored head). Checkpoints that are not signed by the
  key, or that re-use a genuine signature of an older position, cover nothing.

What each input can prove, honestly:

- **The file alone** proves only that it is one chain (``ok`` or ``broken``).
- **With the public key** it also proves that everything up to the last genuine checkpoint is
  what was sealed. After that point it cannot tell records a forger appended from records the
  writer wrote after its last checkpoint and then crashed (a clean ``close`` always seals, so
  an unsealed tail is reported as ``forged_append`` and the message says so). A cut made
  exactly after a checkpoint leaves a file that looks cleanly closed: the file cannot show
  it. Nor can it show a deletion and rechaining done *after* the last genuine checkpoint.
- **With the store** (the head is kept after every record) the tail is pinned too: a file
  shorter than the stored head is ``truncated``, longer is ``forged_append`` (or, for exactly
  one record, a crash between writing the record and storing the head). This holds only as
  long as whoever tampers with the file cannot also write the store with the audit key's
  signatures: keep the audit key away from the application host, or export the heads to a
  write-once store, for that.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from .._exceptions import AuditError, GuardStoreError, InvalidInputError
from ._audit_chain import _check_link, open_log
from ._audit_record import GENESIS
from ._audit_seal import (
    check_log_id,
    checkpoint_holds,
    get_head,
    get_seals,
    head_holds,
    load_audit_public_key,
    parse_checkpoint,
)
from ._private_files import check_path

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from ._store import GuardStore

__all__ = ["EXIT_CODES", "AuditVerdict", "verify_log"]

AuditStatus = Literal["ok", "broken", "forged_append", "rewritten", "truncated"]

EXIT_CODES: Final[dict[str, int]] = {
    "ok": 0,
    "broken": 1,
    "forged_append": 3,
    "rewritten": 4,
    "truncated": 5,
}
"""``faceguard audit verify`` exit status per verdict (2 is bad usage or an unreadable input)."""

_INCOMPLETE: Final = "incomplete last line"


@dataclass(frozen=True)
class AuditVerdict:
    """What ``verify_log`` found.

    - ``status``: ``ok``, ``broken`` (the chain itself), ``rewritten``, ``truncated`` or
      ``forged_append`` (see the module docstring). When several apply, the most serious is
      reported, in that order after ``broken``: rewritten, truncated, forged append.
    - ``records``: whole records that chain correctly.
    - ``sealed``: how many of them a genuine checkpoint or the stored head covers (0 without a
      key or store).
    - ``checkpoints``: genuine checkpoints found (signed by the key, sealing their position).
    - ``at``: the ``seq`` (0-based position) the problem starts at; ``None`` when ``ok``.
    - ``problem``: what is wrong, in words; ``None`` when ``ok``.
    """

    status: AuditStatus
    records: int
    sealed: int = 0
    checkpoints: int = 0
    at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the verdict is ``ok``."""
        return self.status == "ok"


class _Hashes:
    """Every record's hash, 32 bytes each (a 10-million-record log needs 320 MB)."""

    def __init__(self) -> None:
        self._data = bytearray()

    def add(self, digest: str) -> None:
        self._data += bytes.fromhex(digest.removeprefix("sha256:"))

    def __len__(self) -> int:
        return len(self._data) // 32

    def __getitem__(self, seq: int) -> str:
        return "sha256:" + self._data[32 * seq : 32 * seq + 32].hex()


def _public_key_object(key: object) -> Ed25519PublicKey:
    """An ``Ed25519PublicKey`` given as an object, checked now: anything else would fail
    later, untyped, when the first checkpoint is verified."""
    from ._consent import _ed25519

    if not isinstance(key, _ed25519().Ed25519PublicKey):
        raise InvalidInputError(
            "public_key", "type", "must be a public key PEM (bytes or str) or an Ed25519PublicKey"
        )
    return cast("Ed25519PublicKey", key)


def verify_log(
    path: str | os.PathLike[str],
    *,
    public_key: bytes | str | Ed25519PublicKey | None = None,
    store: GuardStore | None = None,
    log_id: str | None = None,
) -> AuditVerdict:
    """Verify the chain of ``path``, then its checkpoints against ``public_key`` (the audit
    key's public PEM) and its tail against the head kept in ``store`` under ``log_id``
    (default: the file name). Raises ``AuditError(reason="unreadable")`` when the file cannot
    be read, ``InvalidInputError`` (a ``ValueError``) for a path that is not one or a key that
    is not an Ed25519 public key, and ``AuditError(reason="head_store")`` when
    the store cannot be read or holds no head for a log that has records.
    """
    public = None
    if public_key is not None:
        public = (
            load_audit_public_key(public_key)
            if isinstance(public_key, (bytes, str))
            else _public_key_object(public_key)
        )
    path = check_path(path)
    log_id = check_log_id(log_id if log_id is not None else os.path.basename(path))
    hashes = _Hashes()
    seals: list[tuple[int, dict[str, Any]]] = []  # (position, details)
    prev = GENESIS
    with open_log(path) as handle:
        for raw in handle:
            position = len(hashes)
            checked = _check_link(raw, position, prev)
            if isinstance(checked, str):
                status: AuditStatus = "truncated" if _INCOMPLETE in checked else "broken"
                problem = f"{checked}; line {position + 1}"
                return AuditVerdict(status, position, at=position, problem=problem)
            if checked.event == "checkpoint":
                seals.append((position, checked.details))
            hashes.add(checked.hash)
            prev = checked.hash
    return _judge(hashes, seals, public, store, log_id)


def _judge(
    hashes: _Hashes,
    seals: list[tuple[int, dict[str, Any]]],
    public: Ed25519PublicKey | None,
    store: GuardStore | None,
    log_id: str,
) -> AuditVerdict:
    n = len(hashes)
    found: dict[AuditStatus, tuple[int, str]] = {}

    def note(status: AuditStatus, at: int, problem: str) -> None:
        found.setdefault(status, (at, problem))

    covered = 0  # records 0 .. covered-1 are vouched for by the key or the store
    genuine = 0
    forged: str | None = None
    if public is not None:
        for position, details in seals:
            parsed = parse_checkpoint(details)
            if parsed is None:
                forged = forged or f"the checkpoint at seq {position} is malformed"
                continue
            if not checkpoint_holds(public, parsed):
                forged = forged or f"the checkpoint at seq {position} is not signed by the key"
                continue
            seq = parsed["seq"]
            if seq >= n or hashes[seq] != parsed["head_hash"] or parsed["count"] != seq + 1:
                note(
                    "rewritten",
                    min(seq, n),
                    f"the checkpoint at seq {position} is signed by the audit key for seq {seq}"
                    ", but the file holds another record there: records before it were "
                    "deleted, inserted or altered and the chain recomputed",
                )
            elif seq != position - 1:
                forged = forged or (
                    f"the checkpoint at seq {position} re-uses the signature of seq {seq}"
                )
            else:
                genuine += 1
                covered = position + 1
    if store is not None:
        covered = max(covered, _check_store(hashes, public, store, log_id, note))
    if (public is not None or store is not None) and n > covered and "rewritten" not in found:
        why = forged or (
            "no checkpoint at all: was the log written with audit_key?"
            if not seals
            else "a cleanly closed log ends with a checkpoint; without --store this may "
            "also be a writer that crashed, or a tail cut off after them"
        )
        note(
            "forged_append",
            covered,
            f"{n - covered} record(s) from seq {covered} on are not covered by a genuine "
            f"checkpoint{' or the stored head' if store is not None else ''} ({why})",
        )
    for status in ("rewritten", "truncated", "forged_append"):
        if status in found:
            at, problem = found[status]
            return AuditVerdict(status, n, min(covered, n), genuine, at, problem)
    return AuditVerdict("ok", n, min(covered, n), genuine)


def _check_store(
    hashes: _Hashes,
    public: Ed25519PublicKey | None,
    store: GuardStore,
    log_id: str,
    note: Callable[[AuditStatus, int, str], None],
) -> int:
    """Check the file against the stored head and seals; return how many records the stored
    head covers (0 if it cannot be trusted)."""
    n = len(hashes)
    try:
        head = get_head(store, log_id)
        seals = get_seals(store, log_id, head["seals"]) if isinstance(head, dict) else []
    except GuardStoreError as exc:
        raise AuditError(
            f"cannot read the log head from the store ({exc})", reason="head_store"
        ) from None
    if head is None:
        if n == 0:
            return 0
        try:
            orphan = get_seals(store, log_id, 1)[0]
        except GuardStoreError as exc:
            raise AuditError(f"cannot read the store ({exc})", reason="head_store") from None
        if orphan != "missing":
            note("rewritten", 0, f"the store holds checkpoints of log {log_id!r} but no head")
            return 0
        raise AuditError(
            f"the store holds no head for log {log_id!r}: wrong store or log id (--log-id), or "
            "the log was written without head_store",
            reason="head_store",
        )
    if isinstance(head, str):
        note("rewritten", 0, f"the stored head of log {log_id!r} is {head}")
        return 0
    if public is not None and not head_holds(public, head):
        note("rewritten", 0, "the stored head is not signed by the audit key")
        return 0
    covered = 0
    seq = head["seq"]
    if seq >= n:
        note(
            "truncated",
            n,
            f"the file ends at seq {n - 1}, before the stored head at seq {seq}: "
            f"{seq + 1 - n} record(s) were cut off the end",
        )
    elif hashes[seq] != head["hash"]:
        note(
            "rewritten",
            seq,
            f"the stored head names seq {seq} with another hash than the file's: the log "
            "was rewritten",
        )
    else:
        covered = int(seq) + 1
    for index, seal in enumerate(seals):
        if isinstance(seal, str) or (public is not None and not checkpoint_holds(public, seal)):
            problem = seal if isinstance(seal, str) else "not signed by the audit key"
            note("rewritten", 0, f"stored checkpoint {index} is {problem}")
            continue
        seq = seal["seq"]
        if seq >= n:
            note(
                "truncated",
                n,
                f"the file ends at seq {n - 1}, before seq {seq} that stored checkpoint "
                f"{index} seals: the tail was cut off",
            )
        elif hashes[seq] != seal["head_hash"]:
            note(
                "rewritten",
                seq,
                f"stored checkpoint {index} seals seq {seq} with another hash than the file's: "
                "records up to it were deleted, inserted or altered and the chain recomputed",
            )
    return covered
