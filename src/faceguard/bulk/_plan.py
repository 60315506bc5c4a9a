"""A bulk run, planned before anything is sent: checked arguments, batch id, items, and
the step machine of each item. Pure; shared by the sync and async shells, which only run it.

The default batch id names the target, so a rerun finds the journal records of the first
run: ``<kind>:<container id>`` for enrollment (``largePersonGroup:employees``), and
``detect:<16 hex of the detect options>`` for detection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import InvalidInputError
from ._items import (
    BulkFace,
    BulkImage,
    check_batch_id,
    detect_batch_id,
    face_marker,
    prepare_detect,
    prepare_faces,
)
from ._journal import Journal, JournalRecord, MemoryJournal
from ._outcome import Backoff
from ._steps import ItemSteps, Rules, add_face_steps, detect_steps
from ._target import resolve_target

__all__ = ["Plan", "plan_add", "plan_detect"]

_CONCURRENCY_MAX = 256


@dataclass(frozen=True)
class Plan:
    """Everything a shell needs to run a batch."""

    batch_id: str
    keys: list[str]
    journal: Journal
    concurrency: int
    steps: Callable[[int, JournalRecord | None], ItemSteps]
    """The step machine of item ``index``, given its journal record."""
    desc: str
    opened: Callable[[Mapping[str, JournalRecord]], None] = lambda _priors: None
    """Called with the journal's records of the batch before any item runs."""


def _check_common(concurrency: int, max_attempts: int, journal: object) -> None:
    if not isinstance(concurrency, int) or not 1 <= concurrency <= _CONCURRENCY_MAX:
        raise InvalidInputError("concurrency", "range", f"must be 1..{_CONCURRENCY_MAX}")
    if not isinstance(max_attempts, int) or max_attempts < 1:
        raise InvalidInputError("max_attempts", "range", "must be at least 1")
    if journal is not None and not isinstance(journal, Journal):
        raise InvalidInputError(
            "journal", "type", "must be a Journal (MemoryJournal, SQLiteJournal, RedisJournal)"
        )


def plan_add(
    group: object,
    container_id: str,
    items: Iterable[BulkFace],
    *,
    asynchronous: bool,
    journal: Journal | None,
    concurrency: int,
    max_attempts: int,
    batch_id: str | None,
    backoff: Backoff | None,
) -> Plan:
    """Check everything about a bulk add (nothing is sent, no image is read)."""
    target = resolve_target(group, asynchronous=asynchronous)
    _check_common(concurrency, max_attempts, journal)
    batch = check_batch_id(batch_id if batch_id is not None else f"{target.name}:{container_id}")
    faces = prepare_faces(items, target, container_id, batch)
    rules = Rules(max_attempts=max_attempts, backoff=backoff or Backoff())

    def steps(index: int, prior: JournalRecord | None) -> ItemSteps:
        return add_face_steps(faces[index], prior, target, container_id, rules)

    def opened(priors: Mapping[str, JournalRecord]) -> None:
        # The faces this batch added in earlier runs carry known markers: an in-doubt
        # look-up need not fetch them (one GET per face of the person otherwise).
        for record in priors.values():
            if record.state == "added" and record.persisted_face_id:
                rules.cache.add(record.persisted_face_id, face_marker(batch, record.key))

    return Plan(
        batch_id=batch,
        keys=[face.key for face in faces],
        journal=journal if journal is not None else MemoryJournal(),
        concurrency=concurrency,
        steps=steps,
        desc=f"enrolling into {target.name} {container_id}",
        opened=opened,
    )


def plan_detect(
    items: Iterable[BulkImage],
    *,
    journal: Journal | None,
    concurrency: int,
    max_attempts: int,
    batch_id: str | None,
    backoff: Backoff | None,
    min_face_size: int | None,
    options: dict[str, Any],
) -> Plan:
    """Check everything about a bulk detection (options once, through the client's builder)."""
    _check_common(concurrency, max_attempts, journal)
    if min_face_size is not None and (not isinstance(min_face_size, int) or min_face_size < 1):
        raise InvalidInputError("min_face_size", "range", "must be a positive number of pixels")
    if options.get("return_face_id") and journal is not None:
        raise InvalidInputError(
            "journal",
            "face_id",
            "cannot be used with return_face_id=True: faceIds expire (24 h at most) and are "
            "never journaled, so a resumed run could not report them; detect without a "
            "journal, or journal results without faceIds",
        )
    images = prepare_detect(items, options)
    batch = check_batch_id(batch_id if batch_id is not None else detect_batch_id(options))
    rules = Rules(max_attempts=max_attempts, backoff=backoff or Backoff())

    def steps(index: int, prior: JournalRecord | None) -> ItemSteps:
        return detect_steps(images[index], prior, min_face_size, rules)

    return Plan(
        batch_id=batch,
        keys=[image.key for image in images],
        journal=journal if journal is not None else MemoryJournal(),
        concurrency=concurrency,
        steps=steps,
        desc="detecting",
    )
