"""Signed checkpoints and the stored head of an audit log (GUARD.md §5.3).

A hash chain alone proves little against whoever can rewrite the file: they can delete a
record and recompute every hash after it, append records that chain correctly, or cut the
tail off. Two things close those gaps:

- **Checkpoints.** Every N records, and when the log closes, ``AuditLog`` writes a
  ``checkpoint`` record whose ``details`` hold ``{seq, head_hash, count, kid, sig}``: the
  record just before it (its ``seq`` and ``hash``), how many records precede it, and an
  Ed25519 signature over those by the deployment's *audit* key, which is separate from the
  consent keys (a consent issuer must not be able to seal logs, nor an auditor mint consent).
  Rewriting anything a checkpoint covers breaks either its signature or its ``head_hash``.
- **The stored head.** With ``head_store`` (a ``GuardStore``: SQLite file, Redis), the log
  also keeps, after every record, its head ``{log, seq, hash, count, seals}`` (signed when there
  is an audit key) and a copy of every checkpoint's signed ``details``. The file's tail can
  then be checked against something the file's owner does not hold in the same place: a file
  that ends before the stored head was truncated; records after it were appended.

Signatures cover a domain-separated canonical JSON (``faceguard-audit-checkpoint/v1`` or
``faceguard-audit-head/v1``), so a checkpoint signature is never a valid head signature or
the other way round, and neither is ever a valid consent token signature. ``kid`` is the
SHA-256 of the raw public key, so a verifier can say *which* key signed without trusting it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, cast

from .._exceptions import InvalidInputError
from ._audit_record import _HASH_RE, VERSION, AuditRecord, JSONValue, canonical_json
from ._consent import _ed25519, _serialization
from ._jws import _pem_bytes

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from ._store import GuardStore

__all__ = ["SealKey", "key_id", "load_audit_public_key"]

CHECKPOINT_DOMAIN: Final = b"faceguard-audit-checkpoint/v1\n"
HEAD_DOMAIN: Final = b"faceguard-audit-head/v1\n"
NAMESPACE: Final = "audit"
CHECKPOINT_FIELDS: Final = frozenset({"seq", "head_hash", "count", "kid", "sig"})
HEAD_FIELDS: Final = frozenset({"v", "log", "seq", "hash", "count", "seals", "kid", "sig"})
_SIG_RE: Final = re.compile(r"[0-9a-f]{128}")
_LOG_ID_RE: Final = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def _raw_public(public: Ed25519PublicKey) -> bytes:
    ser = _serialization()
    return public.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """``sha256:`` + hex SHA-256 of the raw 32-byte public key."""
    return "sha256:" + hashlib.sha256(_raw_public(public)).hexdigest()


def load_audit_public_key(pem: bytes | str) -> Ed25519PublicKey:
    """The Ed25519 public key in ``pem``; ``InvalidInputError`` (a ``ValueError``) for
    anything else (a private key included: verifying never needs it). Never echoes the PEM."""
    data = _pem_bytes(pem, "public_key")
    try:
        loaded = _serialization().load_pem_public_key(data)
    except (ValueError, TypeError):
        raise InvalidInputError(
            "public_key",
            "pem",
            "not a PEM public key (verifying an audit log takes the public key)",
        ) from None
    if not isinstance(loaded, _ed25519().Ed25519PublicKey):
        raise InvalidInputError("public_key", "pem", "the audit key must be Ed25519")
    return cast("Ed25519PublicKey", loaded)


class SealKey:
    """The deployment's audit signing key (an Ed25519 private key, PKCS#8 PEM).

    Its ``repr`` shows only the key id; the key itself never reaches a record or a message.
    """

    def __init__(self, pem: bytes | str) -> None:
        data = _pem_bytes(pem, "audit_key")
        try:
            key = _serialization().load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise InvalidInputError(
                "audit_key", "pem", "audit_key is not an unencrypted PEM private key"
            ) from None
        if not isinstance(key, _ed25519().Ed25519PrivateKey):
            raise InvalidInputError("audit_key", "pem", "audit_key must be an Ed25519 private key")
        self._key = cast("Ed25519PrivateKey", key)
        self.public = self._key.public_key()
        self.kid = key_id(self.public)

    def sign(self, domain: bytes, payload: Mapping[str, JSONValue]) -> str:
        """Hex Ed25519 signature of ``domain`` + canonical JSON of ``payload``."""
        return self._key.sign(domain + canonical_json(dict(payload))).hex()

    def __repr__(self) -> str:
        return f"SealKey(kid={self.kid!r})"


def signature_holds(
    public: Ed25519PublicKey, domain: bytes, payload: Mapping[str, Any], sig: object
) -> bool:
    """Whether ``sig`` (hex) is ``public``'s signature of ``domain`` + canonical ``payload``."""
    if not isinstance(sig, str) or not _SIG_RE.fullmatch(sig):
        return False
    try:
        message = domain + canonical_json(dict(payload))
        public.verify(bytes.fromhex(sig), message)
    except Exception:  # noqa: BLE001 - InvalidSignature, or a payload that is not JSON
        return False
    return True


def checkpoint_details(key: SealKey, seq: int, head_hash: str, count: int) -> dict[str, JSONValue]:
    """The signed ``details`` of a checkpoint sealing record ``seq`` (hash ``head_hash``)."""
    payload: dict[str, JSONValue] = {
        "seq": seq,
        "head_hash": head_hash,
        "count": count,
        "kid": key.kid,
    }
    return {**payload, "sig": key.sign(CHECKPOINT_DOMAIN, payload)}


def parse_checkpoint(details: Mapping[str, Any]) -> dict[str, Any] | None:
    """The checkpoint fields when ``details`` has exactly their shape, else ``None``."""
    if set(details) != CHECKPOINT_FIELDS:
        return None
    seq, head, count = details["seq"], details["head_hash"], details["count"]
    if not (type(seq) is int and type(count) is int and seq >= 0 and count >= 0):
        return None
    if not (isinstance(head, str) and _HASH_RE.fullmatch(head)):
        return None
    if not isinstance(details["kid"], str) or not isinstance(details["sig"], str):
        return None
    return dict(details)


def checkpoint_holds(public: Ed25519PublicKey, details: Mapping[str, Any]) -> bool:
    payload = {k: details[k] for k in ("seq", "head_hash", "count", "kid")}
    return signature_holds(public, CHECKPOINT_DOMAIN, payload, details["sig"])


def seals_its_position(public: Ed25519PublicKey, record: AuditRecord) -> bool:
    """Whether ``record`` is a checkpoint signed by ``public`` sealing the record just before
    it (not a copy of an older checkpoint, not a forgery)."""
    details = parse_checkpoint(record.details) if record.event == "checkpoint" else None
    return (
        details is not None
        and checkpoint_holds(public, details)
        and (details["seq"], details["head_hash"], details["count"])
        == (record.seq - 1, record.prev, record.seq)
    )


def checkpoint_body(details: dict[str, JSONValue], why: str) -> dict[str, JSONValue]:
    """The fields of a ``checkpoint`` record holding ``details`` (the writer adds ``seq``,
    ``ts``, ``prev`` and ``hash``)."""
    return {
        "v": VERSION,
        "event": "checkpoint",
        "operation": "AuditCheckpoint",
        "route": "POST /audit/checkpoint",
        "decision": "allowed",
        "rule": "audit integrity",
        "reason": why,
        "subject": None,
        "request_id": None,
        "client_request_id": None,
        "model_version": None,
        "details": details,
    }


def check_log_id(log_id: str) -> str:
    if not isinstance(log_id, str) or not _LOG_ID_RE.fullmatch(log_id):
        raise InvalidInputError(
            "log_id",
            "pattern",
            "log_id must be 1-128 characters of A-Z a-z 0-9 _ . - (it names the log's head in "
            "the store); pass log_id=... when the file name is not one",
        )
    return log_id


# -- the stored head ------------------------------------------------------------------------


def head_value(
    key: SealKey | None, log_id: str, seq: int, digest: str, seals: int
) -> dict[str, JSONValue]:
    payload: dict[str, JSONValue] = {
        "v": 1,
        "log": log_id,
        "seq": seq,
        "hash": digest,
        "count": seq + 1,
        "seals": seals,
        "kid": key.kid if key is not None else None,
    }
    return {**payload, "sig": key.sign(HEAD_DOMAIN, payload) if key is not None else None}


def head_holds(public: Ed25519PublicKey, head: Mapping[str, Any]) -> bool:
    payload = {k: v for k, v in head.items() if k != "sig"}
    return signature_holds(public, HEAD_DOMAIN, payload, head.get("sig"))


def stored_head_problem(
    head: dict[str, Any] | str, key: SealKey | None, last_seq: int, last_hash: str
) -> str | None:
    """What is wrong with ``head`` for a file whose last record is ``last_seq``/``last_hash``
    (as the writer about to continue it sees it), or ``None``."""
    if isinstance(head, str):
        return f"the stored head is {head}"
    if key is not None and not head_holds(key.public, head):
        return "the stored head is not signed by this log's audit key"
    if head["seq"] != last_seq or head["hash"] != last_hash:
        return f"the file ends at seq {last_seq} but the stored head is seq {head['seq']}"
    return None


def _head_key(log_id: str) -> str:
    return f"{log_id}:head"


def _seal_key(log_id: str, index: int) -> str:
    return f"{log_id}:seal:{index}"


def put_head(store: GuardStore, head: Mapping[str, JSONValue]) -> None:
    store.put(NAMESPACE, _head_key(str(head["log"])), canonical_json(dict(head)))


def put_seal(store: GuardStore, log_id: str, index: int, details: Mapping[str, JSONValue]) -> None:
    store.put(NAMESPACE, _seal_key(log_id, index), canonical_json(dict(details)))


def _loads(raw: bytes | None) -> dict[str, Any] | str | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return "not JSON"
    return value if isinstance(value, dict) else "not a JSON object"


def get_head(store: GuardStore, log_id: str) -> dict[str, Any] | str | None:
    """The stored head of ``log_id``, ``None`` if there is none, or what is wrong with it."""
    head = _loads(store.get(NAMESPACE, _head_key(log_id)))
    if not isinstance(head, dict):
        return head
    seq, count, seals = head.get("seq"), head.get("count"), head.get("seals")
    if (
        set(head) != HEAD_FIELDS
        or head.get("log") != log_id
        or not (type(seq) is int and seq >= 0 and count == seq + 1)
        or not (type(seals) is int and seals >= 0)
        or not (isinstance(head.get("hash"), str) and _HASH_RE.fullmatch(head["hash"]))
    ):
        return "malformed head"
    return head


def get_seals(store: GuardStore, log_id: str, count: int) -> list[dict[str, Any] | str]:
    """The stored checkpoint details ``0 .. count-1`` (a problem string where one is bad)."""
    if count == 0:
        return []
    raws = store.get_many(NAMESPACE, [_seal_key(log_id, i) for i in range(count)])
    out: list[dict[str, Any] | str] = []
    for raw in raws:
        value = _loads(raw)
        if value is None:
            out.append("missing")
        elif isinstance(value, str):
            out.append(value)
        else:
            out.append(parse_checkpoint(value) or "malformed")
    return out
