"""The emulated Face service's data: what one resource remembers, as plain dataclasses.

Plain dataclasses hold the data (``ServiceState``) so it can be serialised as it is; embeddings
are the engine's bytes, never an image. Also here: the container kinds and their wording, the
resource's quotas (``Limits``), the injectable ``ManualClock``, and ``FaceApiError``. Every
change to the data is made by ``FaceStore`` (``store``), behind its lock.

Errors are ``FaceApiError`` with the HTTP status, the Face error code and message of the Face
error reference (https://aka.ms/face-error-codes-and-messages).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

from .._wire import FaceApiError

__all__ = [
    "KIND_TEXT",
    "PERSON_KINDS",
    "TRAINABLE_KINDS",
    "ContainerKind",
    "Container",
    "DetectedFace",
    "FaceApiError",
    "Limits",
    "ManualClock",
    "PersistedFace",
    "Person",
    "ServiceState",
    "TrainedEntry",
    "Training",
    "TrainingStatus",
]

ContainerKind = Literal["faceList", "largeFaceList", "personGroup", "largePersonGroup"]
TrainingStatus = Literal["notStarted", "running", "succeeded", "failed"]

PERSON_KINDS: frozenset[ContainerKind] = frozenset({"personGroup", "largePersonGroup"})
TRAINABLE_KINDS: frozenset[ContainerKind] = frozenset(
    {"largeFaceList", "personGroup", "largePersonGroup"}
)
KIND_TEXT: dict[ContainerKind, str] = {
    "faceList": "Face list",
    "largeFaceList": "Large face list",
    "personGroup": "Person group",
    "largePersonGroup": "Large person group",
}
"""How the error reference words each kind in its messages ("Person group is not found.")."""


class ManualClock:
    """A clock that moves only when told to: inject it into an ``Emulator`` (and pass
    ``advance`` as a client's ``sleep``) so that TTLs and training run without real waits."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never backward)."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._now += seconds

    async def async_advance(self, seconds: float) -> None:
        """``advance`` as an awaitable, for an async client's ``sleep``."""
        self.advance(seconds)


@dataclass(frozen=True)
class Limits:
    """Quotas of the emulated resource (S0 tier by default; the Face v1.2 descriptions)."""

    face_lists: int = 64
    faces_per_face_list: int = 1_000
    large_face_lists: int = 1_000_000
    faces_per_large_face_list: int = 1_000_000
    person_groups: int = 1_000_000
    persons_per_person_group: int = 10_000
    large_person_groups: int = 1_000_000
    persons_per_large_person_group: int = 1_000_000
    faces_per_person: int = 248

    def containers(self, kind: ContainerKind) -> int:
        return {
            "faceList": self.face_lists,
            "largeFaceList": self.large_face_lists,
            "personGroup": self.person_groups,
            "largePersonGroup": self.large_person_groups,
        }[kind]

    def faces_in_list(self, kind: ContainerKind) -> int:
        return self.faces_per_face_list if kind == "faceList" else self.faces_per_large_face_list

    def persons(self, kind: ContainerKind) -> int:
        if kind == "personGroup":
            return self.persons_per_person_group
        return self.persons_per_large_person_group


# -- the data ---------------------------------------------------------------------------------


@dataclass
class DetectedFace:
    """A faceId: the features of one detected face, kept for ``ttl`` seconds."""

    face_id: str
    embedding: bytes = field(repr=False)
    detection_model: str
    recognition_model: str
    created_at: float
    ttl: int

    @property
    def expires_at(self) -> float:
        return self.created_at + self.ttl


@dataclass
class PersistedFace:
    """A face added to a face list or a person: features only, never expires."""

    persisted_face_id: str
    embedding: bytes = field(repr=False)
    detection_model: str
    user_data: str | None
    created_at: float


@dataclass
class Person:
    person_id: str
    name: str
    user_data: str | None
    created_at: float
    faces: dict[str, PersistedFace] = field(default_factory=dict)
    """By persistedFaceId, in the order they were added."""


@dataclass(frozen=True)
class TrainedEntry:
    """One unit of a trained snapshot: a person (all of their faces) or a list's face."""

    owner_id: str
    """personId in person groups, persistedFaceId in large face lists."""
    embeddings: tuple[bytes, ...] = field(repr=False)


@dataclass
class Training:
    """Training state of a trainable container, once a training has been started."""

    status: TrainingStatus
    started_at: float
    finishes_at: float
    last_action_at: float
    pending: tuple[TrainedEntry, ...] = field(repr=False)
    """What the running training learns: the container as it was when training started."""
    pending_version: int
    pending_failure: str | None = None
    """A scripted failure message for the running training."""
    message: str | None = None
    snapshot: tuple[TrainedEntry, ...] | None = field(default=None, repr=False)
    """What the last successful training learned; identify and find-similar use this."""
    trained_version: int | None = None
    last_success_at: float | None = None


@dataclass
class Container:
    """A face list, large face list, person group or large person group."""

    kind: ContainerKind
    container_id: str
    name: str
    user_data: str | None
    recognition_model: str
    created_at: float
    faces: dict[str, PersistedFace] = field(default_factory=dict)
    """Face lists' faces, by persistedFaceId (empty for person groups)."""
    persons: dict[str, Person] = field(default_factory=dict)
    """Person groups' persons, by personId (empty for face lists)."""
    version: int = 0
    """Bumped by every change that training would see (faces and persons added or removed)."""
    training: Training | None = None
    """``None`` until the first training starts."""


@dataclass
class ServiceState:
    """Everything the emulated Face resource remembers."""

    face_ids: dict[str, DetectedFace] = field(default_factory=dict)
    containers: dict[str, dict[str, Container]] = field(
        default_factory=lambda: {kind: {} for kind in KIND_TEXT}
    )
    """By kind, then by container id."""
    next_training_failure: str | None = None
    """A scripted failure for the next training started, in any container."""
