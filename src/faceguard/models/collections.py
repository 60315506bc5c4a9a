"""Face lists, large face lists, person groups, large person groups and their training.

Response models mirror the collection ``definitions`` of the Face v1.2 contract; the request
bodies (``CreateCollectionRequest``, ``UserDefinedFields``, ``UserDefinedFieldsForUpdate``,
``FaceUserData``) check the contract's length limits on construction.
"""

from datetime import datetime

from pydantic import Field, field_validator

from ._base import FaceModel, FaceResult, OpenEnum, RequestModel
from .enums import RecognitionModel, TrainingStatus

__all__ = [
    "AddFaceResult",
    "CreateCollectionRequest",
    "CreatePersonResult",
    "FaceList",
    "FaceListFace",
    "FaceListItem",
    "FaceUserData",
    "LargeFaceList",
    "LargeFaceListFace",
    "LargePersonGroup",
    "LargePersonGroupPerson",
    "LargePersonGroupPersonFace",
    "PersonGroup",
    "PersonGroupPerson",
    "PersonGroupPersonFace",
    "TrainingResult",
    "UserDefinedFields",
    "UserDefinedFieldsForUpdate",
]


# --- faces -----------------------------------------------------------------------------------


class FaceListFace(FaceModel):
    """A persisted face in a face list."""

    persisted_face_id: str
    """ID of the face; persisted until deleted, unlike a detection faceId."""
    user_data: str | None = None
    """User-provided data attached to the face (up to 1K)."""


class LargeFaceListFace(FaceResult):
    """A persisted face in a large face list."""

    persisted_face_id: str
    """ID of the face; persisted until deleted, unlike a detection faceId."""
    user_data: str | None = None
    """User-provided data attached to the face (up to 1K)."""


class PersonGroupPersonFace(FaceResult):
    """A persisted face of a person in a person group."""

    persisted_face_id: str
    """ID of the face; persisted until deleted, unlike a detection faceId."""
    user_data: str | None = None
    """User-provided data attached to the face (up to 1K)."""


class LargePersonGroupPersonFace(FaceResult):
    """A persisted face of a person in a large person group."""

    persisted_face_id: str
    """ID of the face; persisted until deleted, unlike a detection faceId."""
    user_data: str | None = None
    """User-provided data attached to the face (up to 1K)."""


class AddFaceResult(FaceResult):
    """Result of adding a face to a collection or person."""

    persisted_face_id: str
    """ID of the added face; persisted and does not expire, unlike a detection faceId."""


# --- face lists ------------------------------------------------------------------------------


class FaceListItem(FaceModel):
    """A face list as returned by "list face lists" (without its faces)."""

    face_list_id: str
    """ID of the face list: lower-case letters, digits, ``-`` or ``_``, up to 64 characters."""
    name: str
    """User-defined name (up to 128 characters)."""
    user_data: str | None = None
    """User-defined data (up to 16K)."""
    recognition_model: OpenEnum[RecognitionModel] | None = None
    """Recognition model of the list; returned when ``returnRecognitionModel`` is true."""


class FaceList(FaceResult):
    """A face list (up to 1,000 faces), with its faces."""

    face_list_id: str
    """ID of the face list: lower-case letters, digits, ``-`` or ``_``, up to 64 characters."""
    name: str
    """User-defined name (up to 128 characters)."""
    user_data: str | None = None
    """User-defined data (up to 16K)."""
    recognition_model: OpenEnum[RecognitionModel] | None = None
    """Recognition model of the list; returned when ``returnRecognitionModel`` is true."""
    persisted_faces: list[FaceListFace] | None = None
    """Faces registered in the face list."""


class LargeFaceList(FaceResult):
    """A large face list (up to 1,000,000 faces)."""

    large_face_list_id: str
    """ID of the large face list: lower-case letters, digits, ``-`` or ``_``, up to 64
    characters."""
    name: str
    """User-defined name (up to 128 characters)."""
    user_data: str | None = None
    """User-defined data (up to 16K)."""
    recognition_model: OpenEnum[RecognitionModel] | None = None
    """Recognition model of the list; returned when ``returnRecognitionModel`` is true."""


# --- person groups ---------------------------------------------------------------------------


class PersonGroup(FaceResult):
    """A person group (up to 10,000 persons per group on S0)."""

    person_group_id: str
    """ID of the person group."""
    name: str
    """User-defined name (up to 128 characters)."""
    user_data: str | None = None
    """User-defined data (up to 16K)."""
    recognition_model: OpenEnum[RecognitionModel] | None = None
    """Recognition model of the group; returned when ``returnRecognitionModel`` is true."""


class LargePersonGroup(FaceResult):
    """A large person group (up to 1,000,000 persons)."""

    large_person_group_id: str
    """ID of the large person group."""
    name: str
    """User-defined name (up to 128 characters)."""
    user_data: str | None = None
    """User-defined data (up to 16K)."""
    recognition_model: OpenEnum[RecognitionModel] | None = None
    """Recognition model of the group; returned when ``returnRecognitionModel`` is true."""


class PersonGroupPerson(FaceResult):
    """A person in a person group."""

    person_id: str
    """ID of the person."""
    name: str
    """User-defined name (up to 128 characters)."""
    user_data: str | None = None
    """User-defined data (up to 16K)."""
    persisted_face_ids: list[str] | None = None
    """IDs of the faces registered for the person (at most 248)."""


class LargePersonGroupPerson(FaceResult):
    """A person in a large person group."""

    person_id: str
    """ID of the person."""
    name: str
    """User-defined name (up to 128 characters)."""
    user_data: str | None = None
    """User-defined data (up to 16K)."""
    persisted_face_ids: list[str] | None = None
    """IDs of the faces registered for the person (at most 248)."""


class CreatePersonResult(FaceResult):
    """Result of creating a person."""

    person_id: str
    """ID of the new person."""


# --- training --------------------------------------------------------------------------------


class TrainingResult(FaceResult):
    """Training status of a large face list, person group or large person group.

    The contract marks all three timestamps as required, yet documents that
    ``lastActionDateTime`` "could be null value when the group is not successfully trained";
    the two ``last_*`` timestamps are therefore optional here so that polling a first
    training does not fail to parse.
    """

    status: OpenEnum[TrainingStatus]
    """Training status: ``notStarted``, ``running``, ``succeeded`` or ``failed``."""
    created_date_time: datetime
    """When the collection was created (UTC)."""
    last_action_date_time: datetime | None = None
    """When the collection was last modified (UTC); may be null if never trained
    successfully."""
    last_successful_training_date_time: datetime | None = None
    """When the collection was last trained successfully (UTC); ``None`` before a first
    success (the wire's year-1 sentinel, ``0001-01-01T00:00:00Z``, is read as ``None``)."""

    @field_validator("last_successful_training_date_time", "last_action_date_time", mode="after")
    @classmethod
    def _never(cls, value: datetime | None) -> datetime | None:
        # The contract requires these timestamps, so a container never trained has to carry
        # some date-time: the unset .NET DateTime (year 1) means "never", not a real moment.
        return None if value is not None and value.year == 1 else value

    message: str | None = None
    """Failure message when training failed (omitted on success)."""


# --- request bodies --------------------------------------------------------------------------


class CreateCollectionRequest(RequestModel):
    """Body of "create" for face lists, large face lists, person groups and large person
    groups."""

    name: str = Field(min_length=1, max_length=128)
    """User-defined name (1 to 128 characters)."""
    user_data: str | None = Field(default=None, max_length=16384)
    """Optional user-defined data (up to 16K)."""
    recognition_model: RecognitionModel | None = None
    """Recognition model of the collection, fixed for its lifetime. The service defaults to
    ``recognition_01``; ``recognition_04`` is recommended."""


class UserDefinedFields(RequestModel):
    """Body of "create person"."""

    name: str = Field(min_length=1, max_length=128)
    """User-defined name (1 to 128 characters)."""
    user_data: str | None = Field(default=None, max_length=16384)
    """Optional user-defined data (up to 16K)."""


class UserDefinedFieldsForUpdate(RequestModel):
    """Body of "update" for collections and persons; omitted fields are left unchanged."""

    name: str | None = Field(default=None, min_length=1, max_length=128)
    """New user-defined name (1 to 128 characters)."""
    user_data: str | None = Field(default=None, max_length=16384)
    """New user-defined data (up to 16K)."""


class FaceUserData(RequestModel):
    """Body of "update face" for large face lists and persons."""

    user_data: str | None = Field(default=None, max_length=1024)
    """User-provided data attached to the face (up to 1K)."""
