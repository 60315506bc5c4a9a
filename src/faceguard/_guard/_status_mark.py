"""The newest status list version seen, shared by every process on one ``GuardStore``.

``StatusLists`` keeps its lists in memory and refuses, in one process, a list that is not
newer by ``(iat, seq)`` than the one it holds. A process that starts afresh holds nothing,
so without shared state it would accept an old, still unexpired list of a consent service
(one signed before a revocation) and undo the revocation for as long as that list looks
fresh. With ``StatusLists(store=...)`` every accepted version is marked in the store first,
and a version older than a mark is refused in every process (``rollback``).

The order is kept with the store's only atomic primitive, ``add_if_absent``: each version
claims its own key, ``<iat>:<seq>`` zero-padded so that keys sort in version order; a claim
is accepted only if no newer key exists after it was written, and the accepted version then
deletes the older keys. Two processes loading two versions at once therefore agree: whichever
scans last sees both, and the older one is refused wherever the newer was seen first.
"""

from __future__ import annotations

import hashlib

from ._store import GuardStore

__all__ = ["claim_version"]

_NAMESPACE = "status-list-version"


def _namespace(uri: str) -> str:
    # One namespace per list, so a scan reads that list's few keys only; the URI is hashed to
    # keep the store's key alphabet simple (it is not personal data).
    return f"{_NAMESPACE}-{hashlib.sha256(uri.encode('utf-8')).hexdigest()[:32]}"


def _key(issued_at: float, sequence: int) -> str:
    return f"{int(issued_at):012d}:{sequence:016d}"


def claim_version(
    store: GuardStore, uri: str, issued_at: float, sequence: int, digest: bytes
) -> str | None:
    """Mark version ``(issued_at, sequence)`` of list ``uri`` (content ``digest``) as seen.

    Returns None when it may be loaded, else why not: a newer version was marked (by this
    process or another), or another list was marked under the same version.
    """
    namespace, key = _namespace(uri), _key(issued_at, sequence)
    if not store.add_if_absent(namespace, key, digest):
        held = store.get(namespace, key)
        if held is not None and held != digest:
            return "another list with the same iat and seq was loaded"
    keys = store.keys(namespace)
    if any(other > key for other in keys):
        return "a newer version of this status list was loaded (in this or another process)"
    for other in keys:
        if other < key:
            store.delete(namespace, other)  # superseded: only the newest mark is needed
    return None
