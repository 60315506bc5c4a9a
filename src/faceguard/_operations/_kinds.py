"""The four container kinds of the Face API, each one instance of a shared builder class."""

from __future__ import annotations

from ..models.collections import (
    FaceList,
    FaceListFace,
    FaceListItem,
    LargeFaceList,
    LargeFaceListFace,
    LargePersonGroup,
    LargePersonGroupPerson,
    LargePersonGroupPersonFace,
    PersonGroup,
    PersonGroupPerson,
    PersonGroupPersonFace,
)
from ._collections import FaceListKind, LargeFaceListKind, PersonContainerKind

__all__ = ["FACE_LISTS", "LARGE_FACE_LISTS", "LARGE_PERSON_GROUPS", "PERSON_GROUPS"]

PERSON_GROUPS = PersonContainerKind(
    "PersonGroup",
    "/persongroups/{personGroupId}",
    "personGroupId",
    PersonGroup,
    PersonGroupPerson,
    PersonGroupPersonFace,
)
LARGE_PERSON_GROUPS = PersonContainerKind(
    "LargePersonGroup",
    "/largepersongroups/{largePersonGroupId}",
    "largePersonGroupId",
    LargePersonGroup,
    LargePersonGroupPerson,
    LargePersonGroupPersonFace,
)
FACE_LISTS = FaceListKind(
    "FaceList", "/facelists/{faceListId}", "faceListId", FaceList, FaceListFace, FaceListItem
)
LARGE_FACE_LISTS = LargeFaceListKind(
    "LargeFaceList",
    "/largefacelists/{largeFaceListId}",
    "largeFaceListId",
    LargeFaceList,
    LargeFaceListFace,
)
