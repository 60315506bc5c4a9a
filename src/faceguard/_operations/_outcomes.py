"""What a reviewer's outcome may be, per recognition operation (R11), and its digest.

An outcome is what the reviewer decided, in the result's own terms:

- verify: ``bool``, the same person or not;
- identify: one ``personId`` or ``None`` per query face, in the result's order;
- find-similar: the ids (``face_id`` or ``persisted_face_id``) confirmed as the same person;
- group: groups of faceIds, each faceId at most once.

``shape`` checks the form alone and returns the canonical value (ids in lower case, tuples);
``check`` also checks it against the result it reviews (a person among that face's
candidates, a face among those returned). The first review of a decision is checked against
its result; a later one, in another process that has only the audit log, is held to the
shape and must agree with the earlier digest. The log keeps only ``digest`` of an outcome
and a ``summary`` that names no id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from .._exceptions import InvalidInputError

__all__ = ["check", "digest", "shape"]


def _error(message: str) -> InvalidInputError:
    return InvalidInputError("outcome", "value", message)


def _sequence(value: object, what: str) -> Sequence[object]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise _error(f"must be a list of {what}")
    return value


def _ids(values: object, what: str) -> tuple[str, ...]:
    items = _sequence(values, what)
    if not all(isinstance(value, str) for value in items):
        raise _error(f"must be a list of {what} (strings)")
    folded = tuple(str(value).lower() for value in items)
    if len(set(folded)) != len(folded):
        raise _error(f"names one of the {what} twice")
    return folded


def shape(operation: str, outcome: object) -> tuple[Any, str]:
    """The canonical outcome and its summary, or ``InvalidInputError`` for a wrong form."""
    if operation == "verify":
        if not isinstance(outcome, bool):
            raise _error("a verify outcome is True (the same person) or False")
        return outcome, "reviewed: the same person" if outcome else "reviewed: not the same person"
    if operation == "identify":
        people = _sequence(outcome, "personIds or None, one per face")
        chosen: list[str | None] = []
        for index, person in enumerate(people, start=1):
            if person is not None and not isinstance(person, str):
                raise _error(f"face #{index}: a personId (string) or None")
            chosen.append(person.lower() if isinstance(person, str) else None)
        found = sum(person is not None for person in chosen)
        return tuple(chosen), f"reviewed: {found} of {len(chosen)} face(s) identified"
    if operation == "find_similar":
        faces = _ids(outcome, "returned face ids")
        return faces, f"reviewed: {len(faces)} similar face(s) confirmed"
    groups = tuple(_ids(group, "faceIds") for group in _sequence(outcome, "groups"))
    flat = [face for group in groups for face in group]
    if any(not group for group in groups):
        raise _error("holds an empty group")
    if len(set(flat)) != len(flat):
        raise _error("names a faceId twice")
    return groups, f"reviewed: {len(groups)} group(s) confirmed"


def check(operation: str, result: Any, outcome: object) -> tuple[Any, str]:
    """``shape``, and the outcome is one the ``result`` under review can have."""
    chosen, summary = shape(operation, outcome)
    if operation == "identify":
        if len(chosen) != len(result):
            raise _error(f"an identify outcome names {len(result)} face(s), in order")
        for index, (entry, person) in enumerate(zip(result, chosen, strict=True), start=1):
            offered = {candidate.person_id.lower() for candidate in entry.candidates}
            if person is not None and person not in offered:
                raise _error(f"face #{index}: the person is not among its candidates")
    elif operation == "find_similar":
        offered = {(item.face_id or item.persisted_face_id or "").lower() for item in result}
        if not set(chosen) <= offered:
            raise _error("names a face that is not among the returned ones")
        summary = f"reviewed: {len(chosen)} of {len(result)} similar face(s) confirmed"
    elif operation == "group":
        offered = {face.lower() for group in result.groups for face in group}
        offered |= {face.lower() for face in result.messy_group}
        if not {face for group in chosen for face in group} <= offered:
            raise _error("names a faceId the call did not group")
    return chosen, summary


def digest(operation: str, outcome: object) -> str:
    """``sha256:`` of the canonical outcome: what the log keeps, and reviews are compared by."""
    text = json.dumps([operation, outcome], separators=(",", ":"), sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
