"""Retention bookkeeping (GUARD.md §4.6): when each enrolled person's template must be gone.

Persisted faces never expire on the service (R27): the deployer deletes them. For every
person (or face-list face) enrolled through the guard, the guard store keeps what the
deadline is computed from:

- at enrollment, the enrollment token's ``consent.ret.until`` and ``ret.purpose_end`` and the
  enrollment time (``retention`` namespace);
- on each successful match, the *last interaction* (``retention-last``): an identify that
  returns the person as a candidate, a verify against the person that says identical.

``destroy_by`` is the earliest of: ``ret.until``; the subject's withdrawal (the ledger keeps
when it happened); and the rule of each jurisdiction the deployment declares, e.g. Illinois
BIPA §15(a): the purpose's end or three years after the last interaction, whichever comes
first. The jurisdictions' rules are the profiles' (``_jurisdictions.PROFILES``), applied to
what the store kept rather than to a token (the sweeper runs long after any token expired).

Cost on the hot path: the last interaction needs day-scale precision against a three-year
rule, so a guard writes it at most once per ``TOUCH_EVERY`` seconds per person (an in-process
memo): in steady state a match costs no store operation. The value written is always the
time of a real match, so the recorded last interaction is never later than the true one and
a deadline computed from it is never later than the law's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ._jurisdictions import PROFILES, Jurisdiction
from ._ledger import _WITHDRAWN, _person_key
from ._store import GuardStore

__all__ = ["TOUCH_EVERY", "RetentionDue", "RetentionBook", "profile_deadline"]

_NS = "retention"
_NS_LAST = "retention-last"
_PERSONS = "consent-person"  # the ledger's namespace: person key -> subject pseudonym
TOUCH_EVERY = 3600.0
"""Seconds between two writes of one person's last interaction by one guard."""
_REMEMBERED = 4096


def profile_deadline(
    jurisdictions: Iterable[Jurisdiction], *, purpose_end: float | None, last_interaction: float
) -> tuple[float, str] | None:
    """The earliest deadline the declared jurisdictions' retention rules set, with the rule
    that set it; None if none gives a date (pure). The rules are the profiles' own
    (``_jurisdictions.PROFILES``): BIPA's three years after the last interaction, Texas's
    year after the purpose's end, the purpose's end elsewhere."""
    found: list[tuple[float, str]] = []
    for jurisdiction in jurisdictions:
        profile = PROFILES[jurisdiction]
        deadline = profile.retention(purpose_end, last_interaction)
        if deadline is not None:
            found.append((deadline, f"{jurisdiction.value}: {profile.retention_rule}"))
    return min(found) if found else None


@dataclass(frozen=True)
class RetentionDue:
    """A person or face-list face whose retention deadline has passed.

    ``kind`` and ``container_id`` name the container (``largePersonGroup``, ``faceList``...),
    ``item_id`` the personId (or persistedFaceId in a face list); ``destroy_by`` is the
    deadline (seconds since the epoch) and ``basis`` which rule set it (``ret.until``,
    ``withdrawal``, or a jurisdiction's rule).
    """

    kind: str
    container_id: str
    item_id: str
    destroy_by: float
    basis: str

    def __repr__(self) -> str:
        # The ids are the service's handles on a biometric template: not in a repr.
        return (
            f"RetentionDue(kind={self.kind!r}, destroy_by={self.destroy_by:.0f}, "
            f"basis={self.basis!r})"
        )


class RetentionBook:
    """The retention facts of one guard's store."""

    def __init__(
        self,
        store: GuardStore,
        *,
        clock: Callable[[], float],
        jurisdictions: Sequence[Jurisdiction],
    ) -> None:
        self._store = store
        self._clock = clock
        self._jurisdictions = jurisdictions
        self._touched: dict[str, float] = {}

    # -- bookkeeping (the guard calls these) ----------------------------------------------

    def record_enrollment(
        self,
        kind: str,
        container_id: str | None,
        item_id: str,
        *,
        until: float | None,
        purpose_end: float | None,
    ) -> None:
        """Remember an enrollment's retention claims and time (the first interaction)."""
        key = _person_key(kind, container_id, item_id)
        now = self._clock()
        old = self._read(key)
        # A later enrollment (another face of the same person) keeps the earliest deadline:
        # the subject was promised the shortest of the retentions they were told.
        if old is not None:
            until = _earliest(until, old.get("u"))
            purpose_end = _earliest(purpose_end, old.get("p"))
            now = min(now, float(old.get("e", now)))
        record = {"e": now, "u": until, "p": purpose_end}
        self._store.put(_NS, key, json.dumps(record, separators=(",", ":")).encode())

    def touch(self, kind: str, container_id: str | None, item_ids: Iterable[str]) -> None:
        """A successful match of these persons now: their last interaction, written at most
        once per ``TOUCH_EVERY`` per person by this guard (usually no store operation)."""
        now = self._clock()
        touched = self._touched
        prefix = f"{kind}:{container_id or ''}:"
        for item_id in item_ids:
            last = touched.get(prefix + item_id)
            if last is not None and now - last < TOUCH_EVERY:
                continue
            if len(touched) >= _REMEMBERED:
                touched.clear()
            key = _person_key(kind, container_id, item_id)  # checked where it is written
            self._store.put(_NS_LAST, key, f"{now:.3f}".encode())
            touched[prefix + item_id] = now

    def forget(self, kind: str, container_id: str | None, item_id: str) -> None:
        """Drop a deleted person's retention facts."""
        key = _person_key(kind, container_id, item_id)
        self._store.delete(_NS, key)
        self._store.delete(_NS_LAST, key)
        self._touched.pop(f"{kind}:{container_id or ''}:{item_id}", None)

    def forget_container(self, kind: str, container_id: str) -> None:
        """Drop every retention fact of a deleted container's persons."""
        prefix = _person_key(kind, container_id, "x")[:-1]
        for namespace in (_NS, _NS_LAST):
            for key in self._store.keys(namespace):
                if key.startswith(prefix):
                    self._store.delete(namespace, key)

    # -- the sweeper's question ------------------------------------------------------------

    def due(self, *, at: float | None = None) -> list[RetentionDue]:
        """Every person or face enrolled through the guard whose ``destroy_by`` is at or
        before ``at`` (default: now), earliest first. Four store reads whatever the size:
        the ledger's persons, their subjects' withdrawals, retention records, last
        interactions."""
        now = self._clock() if at is None else at
        keys = self._store.keys(_PERSONS)
        if not keys:
            return []
        subjects = self._store.get_many(_PERSONS, keys)
        records = self._store.get_many(_NS, keys)
        lasts = self._store.get_many(_NS_LAST, keys)
        pseudonyms = sorted({raw.decode() for raw in subjects if raw is not None})
        marks = dict(zip(pseudonyms, self._store.get_many(_WITHDRAWN, pseudonyms), strict=True))
        jurisdictions = tuple(self._jurisdictions)
        found = []
        for key, subject, raw, last in zip(keys, subjects, records, lasts, strict=True):
            withdrawn = marks.get(subject.decode()) if subject is not None else None
            deadline = self._deadline(raw, last, withdrawn, jurisdictions)
            if deadline is not None and deadline[0] <= now:
                kind, container_id, item_id = key.split(":", 2)
                found.append(RetentionDue(kind, container_id, item_id, deadline[0], deadline[1]))
        found.sort(key=lambda due: due.destroy_by)
        return found

    def _deadline(
        self,
        raw: bytes | None,
        last: bytes | None,
        withdrawn: bytes | None,
        jurisdictions: Sequence[Jurisdiction],
    ) -> tuple[float, str] | None:
        options: list[tuple[float, str]] = []
        if withdrawn is not None:
            options.append((_seconds(withdrawn), "withdrawal"))
        record = _decode(raw)
        if record is not None:
            until, purpose_end = record.get("u"), record.get("p")
            if isinstance(until, (int, float)):
                options.append((float(until), "ret.until"))
            enrolled = float(record.get("e", 0.0))
            last_seen = max(enrolled, _seconds(last)) if last is not None else enrolled
            rule = profile_deadline(
                jurisdictions,
                purpose_end=float(purpose_end) if isinstance(purpose_end, (int, float)) else None,
                last_interaction=last_seen,
            )
            if rule is not None:
                options.append(rule)
        return min(options) if options else None

    def _read(self, key: str) -> dict[str, float] | None:
        return _decode(self._store.get(_NS, key))


def _earliest(a: object, b: object) -> float | None:
    values = [float(v) for v in (a, b) if isinstance(v, (int, float))]
    return min(values) if values else None


def _seconds(raw: bytes) -> float:
    try:
        return float(raw.decode())
    except (UnicodeDecodeError, ValueError):
        return 0.0  # unreadable: treated as long past, so the item is swept, not kept


def _decode(raw: bytes | None) -> dict[str, float] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return {"u": 0.0, "e": 0.0}  # unreadable: due at once rather than kept forever
    return value if isinstance(value, dict) else {"u": 0.0, "e": 0.0}
