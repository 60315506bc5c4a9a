"""The four container kinds of the Face API, each one instance of a shared builder class.

Models are named (``"collections.PersonGroup"``) and load on first use; the annotations give
the type checker the model types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._collections import FaceListKind, LargeFaceListKind, PersonContainerKind

if TYPE_CHECKING:
    from ..models.collections import (
        FaceList,
        FaceListFace,
        LargeFaceList,
        LargeFaceListFace,
        LargePersonGroup,
        LargePersonGroupPerson,
        LargePersonGroupPersonFace,
        PersonGroup,
        PersonGroupPerson,
        PersonGroupPersonFace,
    )

__all__ = ["FACE_LISTS", "LARGE_FACE_LISTS", "LARGE_PERSON_GROUPS", "PERSON_GROUPS"]

PERSON_GROUPS: PersonContainerKind[PersonGroup, PersonGroupPerson, PersonGroupPersonFace] = (
    PersonContainerKind(
        "PersonGroup",
        "/persongroups/{personGroupId}",
        "personGroupId",
        "collections.PersonGroup",
        "collections.PersonGroupPerson",
        "collections.PersonGroupPersonFace",
    )
)
LARGE_PERSON_GROUPS: PersonContainerKind[
    LargePersonGroup, LargePersonGroupPerson, LargePersonGroupPersonFace
] = PersonContainerKind(
    "LargePersonGroup",
    "/largepersongroups/{largePersonGroupId}",
    "largePersonGroupId",
    "collections.LargePersonGroup",
    "collections.LargePersonGroupPerson",
    "collections.LargePersonGroupPersonFace",
)
FACE_LISTS: FaceListKind[FaceList, FaceListFace] = FaceListKind(
    "FaceList",
    "/facelists/{faceListId}",
    "faceListId",
    "collections.FaceList",
    "collections.FaceListFace",
    "collections.FaceListItem",
)
LARGE_FACE_LISTS: LargeFaceListKind[LargeFaceList, LargeFaceListFace] = LargeFaceListKind(
    "LargeFaceList",
    "/largefacelists/{largeFaceListId}",
    "largeFaceListId",
    "collections.LargeFaceList",
    "collections.LargeFaceListFace",
)
