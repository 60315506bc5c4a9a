"""Results of find-similar, group, identify and verify.

These mirror the recognition result ``definitions`` of the Face v1.2 contract. Request bodies
of these operations are inline in the contract and are built by the operations layer.
"""

from pydantic import Field

from ._base import FaceModel, FaceResult

__all__ = [
    "FindSimilarResult",
    "GroupingResult",
    "IdentificationCandidate",
    "IdentificationResult",
    "VerificationResult",
]


class FindSimilarResult(FaceModel):
    """A face similar to the query face.

    Exactly one of ``face_id`` (search by faceIds) or ``persisted_face_id`` (search in a face
    list or large face list) is set.
    """

    confidence: float
    """Similarity confidence from 0 to 1; higher is more similar."""
    face_id: str | None = Field(default=None, repr=False)
    """Transient faceId of the candidate, when searching by faceIds. Hidden from ``repr()``."""
    persisted_face_id: str | None = None
    """persistedFaceId of the candidate, when searching a face list or large face list."""


class GroupingResult(FaceResult):
    """A partition of faces by similarity."""

    groups: list[list[str]] = Field(repr=False)
    """Groups of similar faceIds, largest group first. Hidden from ``repr()``."""
    messy_group: list[str] = Field(repr=False)
    """faceIds that are not similar to any other face. Hidden from ``repr()``."""


class IdentificationCandidate(FaceModel):
    """A person a query face may belong to."""

    person_id: str
    """personId of the candidate person."""
    confidence: float
    """Confidence from 0 to 1; higher is more similar."""


class IdentificationResult(FaceModel):
    """Identification candidates of one query face."""

    face_id: str = Field(repr=False)
    """faceId of the query face. Hidden from ``repr()``."""
    candidates: list[IdentificationCandidate]
    """Candidates ranked by confidence; empty if no person was identified."""


class VerificationResult(FaceResult):
    """Whether two faces, or a face and a person, belong to the same person."""

    is_identical: bool
    """True if they belong to the same person (by default: ``confidence >= 0.5``)."""
    confidence: float
    """Similarity confidence from 0 to 1; compare against your own threshold to override
    ``is_identical``."""
