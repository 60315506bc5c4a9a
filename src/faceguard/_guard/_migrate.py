"""A persistent store's first use by this version: check its key, and pseudonymise old data.

Run once per store object, before its first pseudonym is handed out (``prepare``):

1. The store's *check value* (``store-meta``/``key-check``) says which key its pseudonyms
   were made with. The same value: ready. Another value: ``StoreKeyError`` (two processes
   with different keys would disagree about every faceId, and one would not see the other's
   withdrawals: that must not happen silently).
2. No check value: the store is new, or was written by a faceguard version that stored
   faceIds and subjects in clear. Under a lock entry (so that processes starting together
   migrate once, and none writes a pseudonymised entry before the old ones are converted),
   every clear entry is rewritten under its pseudonym and deleted, then the check value is
   recorded. Entries already pseudonymised (``p1.`` + 64 hex) are left alone, so a migration
   that died half-way is simply run again.

What is migrated: faceId records (filed under the faceId's pseudonym, their subject replaced
by its pseudonym, their remaining lifetime kept), withdrawals (filed under the subject's
pseudonym), enrolled persons (their subject replaced by its pseudonym). Not migrated: the
liveness per-device counters, which old versions kept under an unkeyed SHA-256 of the device
id and which cannot be re-keyed without the id; they expire with the liveness window (the
caps count afresh from the upgrade).

Every process that shares a store must run this version before any of them writes again: an
old process would keep writing clear entries that the new ones do not read.

Deleted is not yet erased: a SQLite store zeroes what it deletes (``secure_delete``) and
empties its write-ahead log after a migration; a Redis server with append-only persistence
keeps the old commands in its AOF until it is rewritten (``BGREWRITEAOF``), and old RDB
snapshots keep what they held: rewrite and rotate them after upgrading.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from .._exceptions import GuardStoreError, StoreKeyError
from ._ledger import _PERSONS, _WITHDRAWN
from ._pseudonym import FACE_ID, SUBJECT, Pseudonymiser, is_pseudonym
from ._registry import _NS as _FACE_IDS
from ._store import GuardStore

__all__ = ["META_NAMESPACE", "prepare"]

META_NAMESPACE = "store-meta"
_CHECK = "key-check"
_LOCK = "migration-lock"
_LOCK_TTL = 60.0
"""Seconds a migration may hold the lock; a process that dies holding it frees it then. A
migration that outlasts it lets a second process convert alongside: harmless, since every
conversion gives the same result and skips what is already converted."""


def prepare(
    store: GuardStore,
    pseudonymiser: Pseudonymiser,
    *,
    what: str,
    timeout: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Check ``store``'s key and migrate clear entries; see the module docstring. True when
    clear entries were converted (the caller may then scrub what its backend keeps of them).

    Raises:
        StoreKeyError: the store was written with another key.
        GuardStoreError: the store failed, or another process held the migration lock
            longer than ``timeout`` seconds.
    """
    check = pseudonymiser.check_value().encode()
    deadline = time.monotonic() + timeout
    while True:
        found = store.get(META_NAMESPACE, _CHECK)
        if found is not None:
            _compare(found, check, what)
            return False
        if store.add_if_absent(META_NAMESPACE, _LOCK, b"1", ttl=_LOCK_TTL):
            break
        if time.monotonic() >= deadline:
            raise GuardStoreError(
                f"{what}: another process is preparing the store (migrating identifiers to "
                f"pseudonyms) and did not finish within {timeout:g} s"
            )
        sleep(0.05)
    try:
        converted = _migrate(store, pseudonymiser)
        store.add_if_absent(META_NAMESPACE, _CHECK, check)
        found = store.get(META_NAMESPACE, _CHECK)
        _compare(found if found is not None else b"", check, what)
    finally:
        store.delete(META_NAMESPACE, _LOCK)
    return converted


def _compare(found: bytes, check: bytes, what: str) -> None:
    if found != check:
        raise StoreKeyError(
            f"{what} was written with another pseudonymisation key than the one configured "
            "here; every process sharing a store must use the same key (key=... or "
            "FACEGUARD_STORE_KEY). If the key was lost, the pseudonymised entries cannot be "
            "read: start a new store"
        )


def _migrate(store: GuardStore, pseudonymiser: Pseudonymiser) -> bool:
    now = time.time()
    converted = False
    for key in store.keys(_FACE_IDS):
        if is_pseudonym(key):
            continue
        converted = True
        raw = store.get(_FACE_IDS, key)
        if raw is not None:
            try:
                fields = json.loads(raw)
                subject = fields.get("subject")
                if isinstance(subject, str) and not is_pseudonym(subject):
                    fields["subject"] = pseudonymiser(SUBJECT, subject)
                left = float(fields["issued_at"]) + float(fields["ttl"]) - now
            except (ValueError, TypeError, KeyError, AttributeError):
                left = 0.0  # unreadable: dropped (the registry would refuse it anyway)
            if left > 0:
                data = json.dumps(fields, separators=(",", ":")).encode()
                store.put(_FACE_IDS, pseudonymiser(FACE_ID, key.lower()), data, ttl=left)
        store.delete(_FACE_IDS, key)
    for key in store.keys(_WITHDRAWN):
        if is_pseudonym(key):
            continue
        converted = True
        raw = store.get(_WITHDRAWN, key)
        # Written before the clear entry goes: a crash in between loses no withdrawal.
        store.put(_WITHDRAWN, pseudonymiser(SUBJECT, key), raw if raw is not None else b"0")
        store.delete(_WITHDRAWN, key)
    for key in store.keys(_PERSONS):
        raw = store.get(_PERSONS, key)
        if raw is None:
            continue
        subject = raw.decode("utf-8", "surrogateescape")
        if not is_pseudonym(subject):
            converted = True
            store.put(_PERSONS, key, pseudonymiser(SUBJECT, subject).encode())
    return converted
