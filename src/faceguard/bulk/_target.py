"""Which container a bulk add goes to, and how to find a face it may already have added.

``bulk_add_faces`` takes an operation group of a client (``client.large_person_groups`` and
the like, sync or async). This module maps the group to its container kind (the pure
builders of ``_operations._kinds``) and holds the pure half of the in-doubt check: the
marker test on a face's userData, and a per-run cache of userData by persisted face id, so
a person's faces are fetched once however many of their adds are in doubt.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

from .._operations._groups import (
    AsyncDetection,
    AsyncFaceLists,
    AsyncLargeFaceLists,
    AsyncLargePersonGroups,
    AsyncPersonGroups,
    Detection,
    FaceLists,
    LargeFaceLists,
    LargePersonGroups,
    PersonGroups,
)
from .._operations._kinds import FACE_LISTS, LARGE_FACE_LISTS, LARGE_PERSON_GROUPS, PERSON_GROUPS

__all__ = [
    "AsyncEnrollmentGroup",
    "EnrollmentGroup",
    "FaceCache",
    "Target",
    "detection_group",
    "has_marker",
    "resolve_target",
]

EnrollmentGroup = LargePersonGroups | PersonGroups | LargeFaceLists | FaceLists
"""The sync groups ``bulk_add_faces`` enrolls into."""
AsyncEnrollmentGroup = (
    AsyncLargePersonGroups | AsyncPersonGroups | AsyncLargeFaceLists | AsyncFaceLists
)
"""The async groups ``async_bulk_add_faces`` enrolls into."""

Listing = Literal["person", "face_list", "large_face_list"]


@dataclass(frozen=True)
class Target:
    """A container kind as bulk enrollment sees it."""

    kind: Any
    """The kind's pure builders (``LARGE_PERSON_GROUPS``...): ``kind.add_face`` builds the add."""
    name: str
    """As consent tokens and the default batch id name it: ``largePersonGroup``..."""
    listing: Listing
    """How to look for an in-doubt face: a person's faces, a face list's ``get``, or a
    large face list's paged ``list_faces``."""

    @property
    def has_persons(self) -> bool:
        """Person groups take a ``person_id`` per face; face lists must not."""
        return self.listing == "person"


_TARGETS: dict[type[Any], Target] = {}
for _sync, _async, _kind, _listing in (
    (LargePersonGroups, AsyncLargePersonGroups, LARGE_PERSON_GROUPS, "person"),
    (PersonGroups, AsyncPersonGroups, PERSON_GROUPS, "person"),
    (LargeFaceLists, AsyncLargeFaceLists, LARGE_FACE_LISTS, "large_face_list"),
    (FaceLists, AsyncFaceLists, FACE_LISTS, "face_list"),
):
    _target = Target(kind=_kind, name=_kind.consent_kind, listing=_listing)  # type: ignore[arg-type]
    _TARGETS[_sync] = _TARGETS[_async] = _target

_ASYNC_GROUPS = (AsyncLargePersonGroups, AsyncPersonGroups, AsyncLargeFaceLists, AsyncFaceLists)


def resolve_target(group: object, *, asynchronous: bool) -> Target:
    """The container kind of ``group``; ``TypeError`` for anything else, or for an async
    group given to the sync function (and the reverse)."""
    target = _TARGETS.get(type(group))
    if target is None:
        raise TypeError(
            "group must be client.large_person_groups, client.person_groups, "
            f"client.large_face_lists or client.face_lists, not {type(group).__name__}"
        )
    if isinstance(group, _ASYNC_GROUPS) != asynchronous:
        wanted = "async_bulk_add_faces" if not asynchronous else "bulk_add_faces"
        raise TypeError(f"{type(group).__name__} is a group of the other client: use {wanted}")
    return target


def detection_group(source: object, *, asynchronous: bool) -> Any:
    """``client.detection`` from a client or the group itself; ``TypeError`` otherwise."""
    group = getattr(source, "detection", source)
    wanted = AsyncDetection if asynchronous else Detection
    if not isinstance(group, wanted):
        other = "async_bulk_detect" if not asynchronous else "bulk_detect"
        hint = f" (use {other})" if isinstance(group, Detection | AsyncDetection) else ""
        raise TypeError(
            f"bulk detection needs a {'AsyncFaceClient' if asynchronous else 'FaceClient'} or "
            f"its .detection group, not {type(source).__name__}{hint}"
        )
    return group


def has_marker(user_data: str | None, marker: str) -> bool:
    """Whether a face's userData ends with this item's marker (alone, or after a space)."""
    if not user_data:
        return False
    return user_data == marker or user_data.endswith(" " + marker)


class FaceCache:
    """userData by persisted face id, for one run: a face's userData is fetched once.

    Holds the faces seen on the service, and those whose marker is known without asking:
    added by this run, or recorded ``added`` in the journal (their userData is then the
    marker alone, which is all a look-up tests). A person's list of face ids is always
    fetched afresh, so faces added later in the run are found too. Thread-safe.
    """

    def __init__(self) -> None:
        self._user_data: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def missing(self, face_ids: list[str]) -> list[str]:
        """The ids whose userData is not cached yet."""
        with self._lock:
            return [face_id for face_id in face_ids if face_id not in self._user_data]

    def add(self, face_id: str, user_data: str | None) -> None:
        """Remember a face's userData."""
        with self._lock:
            self._user_data[face_id] = user_data

    def find(self, face_ids: list[str], marker: str) -> str | None:
        """The first of ``face_ids`` whose cached userData carries ``marker``."""
        with self._lock:
            for face_id in face_ids:
                if has_marker(self._user_data.get(face_id), marker):
                    return face_id
        return None
