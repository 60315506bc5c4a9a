"""Every change to the emulated Face service's state, behind one lock: ``FaceStore``.

``FaceStore`` owns one ``ServiceState`` (``models``), a lock, the clock and the id factory, and
performs each state transition of the Face API: faceIds that expire on the clock, the four
container kinds with their persons and persisted faces, and training. Callers get copies; the
live objects stay behind the lock. Separate from ``models`` so the data can be loaded, saved
and inspected without the rules that change it.

Training runs on the clock, asynchronously: a training started at ``t`` is ``running`` until
``t + training_delay`` and then ``succeeded`` (or ``failed``, when a test scripted it). It
works on a snapshot of the container taken when it started; identify and find-similar use
the snapshot of the last successful training, never the live container, as the service does.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Literal

from .._codec import decode, encode
from .models import (
    KIND_TEXT,
    PERSON_KINDS,
    Container,
    ContainerKind,
    DetectedFace,
    FaceApiError,
    Limits,
    PersistedFace,
    Person,
    ServiceState,
    TrainedEntry,
    Training,
)

__all__ = ["FaceStore"]

_FRESH_ID_ATTEMPTS = 100
"""Draws from the ids source before a repeating one is reported (uuid4 never needs two)."""


def _code(kind: ContainerKind) -> str:
    """``personGroup`` -> ``PersonGroup``: the prefix of the kind's error codes."""
    return kind[0].upper() + kind[1:]


# -- copies handed out (the live objects stay behind the lock) ---------------------------------


def _copy_person(person: Person) -> Person:
    return replace(person, faces=dict(person.faces))


def _copy_container(container: Container) -> Container:
    return replace(
        container,
        faces=dict(container.faces),
        persons={pid: _copy_person(p) for pid, p in container.persons.items()},
        training=None if container.training is None else replace(container.training),
    )


_TABLE_ORDER = {"containers": 0, "trainings": 1, "persons": 2, "faces": 3, "face_ids": 4}


def _key(*parts: str) -> str:
    """A row's key: kind, container id, then person id ("" for a list's face) and face id.
    Neither ids nor kinds can hold ``/``."""
    return "/".join(parts)


def _page(ids: list[str], start: str | None, top: int) -> list[str]:
    """Face ``start``/``top`` paging: ids greater than ``start``, in id order."""
    ordered = sorted(ids)
    if start:
        ordered = [item for item in ordered if item > start]
    return ordered[:top]


# -- the store ----------------------------------------------------------------------------------


class FaceStore:
    """The state of one emulated Face resource and its transitions, thread-safe.

    Args:
        clock: wall-clock seconds (``time.time`` by default; a ``ManualClock`` in tests).
        training_delay: seconds a training stays ``running`` on the clock.
        ids: makes faceIds, personIds and persistedFaceIds (uuid4 by default).
        limits: the resource's quotas.
        state: an existing state to serve (for example one loaded from disk).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        training_delay: float = 0.5,
        ids: Callable[[], str] | None = None,
        limits: Limits | None = None,
        state: ServiceState | None = None,
    ) -> None:
        if training_delay < 0:
            raise ValueError("training_delay must not be negative")
        self.clock = clock
        self.training_delay = training_delay
        self.limits = limits or Limits()
        self.state = state or ServiceState()
        self._ids = ids or (lambda: str(uuid.uuid4()))
        self._lock = threading.RLock()
        self._dirty: dict[tuple[str, str], None] = {}
        """Rows changed since the last ``export_changes``: (table, key), in the order of the
        changes (a new row's place in the file keeps the order of the dicts it is read into)."""

    @contextmanager
    def locked(self) -> Iterator[ServiceState]:
        """The raw state under the lock (for serialisation and inspection)."""
        with self._lock:
            yield self.state

    def now(self) -> float:
        return float(self.clock())

    def new_id(self) -> str:
        return self._ids().lower()

    # -- faceIds -----------------------------------------------------------------------------

    def issue_face_id(
        self, embedding: bytes, *, detection_model: str, recognition_model: str, ttl: int
    ) -> DetectedFace:
        with self._lock:
            # Every detection is a new template with a new faceId, as on the service, even
            # for the same image twice. An injected ``ids`` may repeat itself (a counter
            # reset between tests): a faceId the state still holds is never handed out
            # again, since that would silently replace the earlier template.
            face_id = self.new_id()
            for _ in range(_FRESH_ID_ATTEMPTS):
                if face_id not in self.state.face_ids:
                    break
                face_id = self.new_id()
            else:
                raise RuntimeError(
                    f"the emulator's ids source repeated a faceId it already issued "
                    f"{_FRESH_ID_ATTEMPTS} times in a row: it must make unique ids"
                )
            face = DetectedFace(
                face_id=face_id,
                embedding=embedding,
                detection_model=detection_model,
                recognition_model=recognition_model,
                created_at=self.now(),
                ttl=ttl,
            )
            self.state.face_ids[face_id] = face
            self._dirty[("face_ids", face_id)] = None
        return face

    def face(self, face_id: str) -> DetectedFace | None:
        """A live faceId, or ``None`` when unknown or expired (expired ones are dropped)."""
        key = face_id.lower()
        now = self.now()
        with self._lock:
            found = self.state.face_ids.get(key)
            if found is not None and now >= found.expires_at:
                del self.state.face_ids[key]
                self._dirty[("face_ids", key)] = None
                return None
            return found

    def purge_expired(self) -> int:
        """Forget every expired faceId; returns how many."""
        now = self.now()
        with self._lock:
            expired = [k for k, f in self.state.face_ids.items() if now >= f.expires_at]
            for key in expired:
                del self.state.face_ids[key]
                self._dirty[("face_ids", key)] = None
        return len(expired)

    # -- containers --------------------------------------------------------------------------

    def _get(self, kind: ContainerKind, container_id: str, *, status: int = 404) -> Container:
        found = self.state.containers[kind].get(container_id)
        if found is None:
            raise FaceApiError(status, f"{_code(kind)}NotFound", f"{KIND_TEXT[kind]} is not found.")
        return found

    def create_container(
        self,
        kind: ContainerKind,
        container_id: str,
        *,
        name: str,
        user_data: str | None,
        recognition_model: str,
    ) -> None:
        with self._lock:
            existing = self.state.containers[kind]
            if container_id in existing:
                raise FaceApiError(
                    409, f"{_code(kind)}Exists", f"{KIND_TEXT[kind]} already exists."
                )
            if len(existing) >= self.limits.containers(kind):
                raise FaceApiError(
                    403,
                    "QuotaExceeded",
                    f"{KIND_TEXT[kind]} number reached subscription level limit.",
                )
            existing[container_id] = Container(
                kind=kind,
                container_id=container_id,
                name=name,
                user_data=user_data,
                recognition_model=recognition_model,
                created_at=self.now(),
            )
            self._dirty[("containers", _key(kind, container_id))] = None

    def container(self, kind: ContainerKind, container_id: str, *, status: int = 404) -> Container:
        """A copy of a container (``XNotFound`` with ``status`` when there is none)."""
        with self._lock:
            return _copy_container(self._get(kind, container_id, status=status))

    def containers(self, kind: ContainerKind, *, start: str | None, top: int) -> list[Container]:
        """Containers of a kind with ids greater than ``start``, in id order."""
        with self._lock:
            found = self.state.containers[kind]
            return [_copy_container(found[i]) for i in _page(list(found), start, top)]

    def update_container(
        self,
        kind: ContainerKind,
        container_id: str,
        *,
        name: str | None,
        user_data: str | None,
    ) -> None:
        with self._lock:
            container = self._get(kind, container_id)
            if name is not None:
                container.name = name
            if user_data is not None:
                container.user_data = user_data
            self._dirty[("containers", _key(kind, container_id))] = None

    def delete_container(self, kind: ContainerKind, container_id: str) -> None:
        """Delete a container with every person, face and training in it."""
        with self._lock:
            container = self._get(kind, container_id)
            self._mark_all(container)
            del self.state.containers[kind][container_id]

    # -- persons -----------------------------------------------------------------------------

    def _person(self, container: Container, person_id: str, *, status: int = 404) -> Person:
        found = container.persons.get(person_id.lower())
        if found is None:
            raise FaceApiError(status, "PersonNotFound", f"Person {person_id} is not found.")
        return found

    def create_person(
        self, kind: ContainerKind, container_id: str, *, name: str, user_data: str | None
    ) -> str:
        with self._lock:
            container = self._get(kind, container_id)
            if len(container.persons) >= self.limits.persons(kind):
                raise FaceApiError(
                    403,
                    "QuotaExceeded",
                    f"Person number reached {KIND_TEXT[kind].lower()} level limit.",
                )
            person = Person(
                person_id=self.new_id(), name=name, user_data=user_data, created_at=self.now()
            )
            container.persons[person.person_id] = person
            container.version += 1
            self._dirty[("persons", _key(kind, container_id, person.person_id))] = None
            self._dirty[("containers", _key(kind, container_id))] = None
            return person.person_id

    def person(
        self, kind: ContainerKind, container_id: str, person_id: str, *, status: int = 404
    ) -> Person:
        """A copy of a person (``PersonNotFound`` with ``status`` when there is none)."""
        with self._lock:
            container = self._get(kind, container_id, status=status)
            return _copy_person(self._person(container, person_id, status=status))

    def persons(
        self, kind: ContainerKind, container_id: str, *, start: str | None, top: int
    ) -> list[Person]:
        with self._lock:
            container = self._get(kind, container_id)
            found = container.persons
            return [_copy_person(found[i]) for i in _page(list(found), start, top)]

    def update_person(
        self,
        kind: ContainerKind,
        container_id: str,
        person_id: str,
        *,
        name: str | None,
        user_data: str | None,
    ) -> None:
        with self._lock:
            person = self._person(self._get(kind, container_id), person_id)
            if name is not None:
                person.name = name
            if user_data is not None:
                person.user_data = user_data
            self._dirty[("persons", _key(kind, container_id, person.person_id))] = None

    def delete_person(self, kind: ContainerKind, container_id: str, person_id: str) -> None:
        """Delete a person and all of their faces."""
        with self._lock:
            container = self._get(kind, container_id)
            person = self._person(container, person_id)
            del container.persons[person.person_id]
            container.version += 1
            self._dirty[("persons", _key(kind, container_id, person.person_id))] = None
            self._dirty.update(
                dict.fromkeys(
                    ("faces", _key(kind, container_id, person.person_id, f)) for f in person.faces
                )
            )
            self._dirty[("containers", _key(kind, container_id))] = None

    # -- persisted faces ---------------------------------------------------------------------

    def add_face(
        self,
        kind: ContainerKind,
        container_id: str,
        person_id: str | None,
        *,
        embedding: bytes,
        detection_model: str,
        user_data: str | None,
    ) -> str:
        """Persist a face in a face list (``person_id`` None) or of a person."""
        with self._lock:
            container = self._get(kind, container_id)
            if person_id is not None:
                faces = self._person(container, person_id).faces
                limit = self.limits.faces_per_person
            else:
                faces = container.faces
                limit = self.limits.faces_in_list(kind)
            if len(faces) >= limit:
                raise FaceApiError(403, "QuotaExceeded", "Persisted face number reached limit.")
            face = PersistedFace(
                persisted_face_id=self.new_id(),
                embedding=embedding,
                detection_model=detection_model,
                user_data=user_data,
                created_at=self.now(),
            )
            faces[face.persisted_face_id] = face
            container.version += 1
            owner = self._person(container, person_id).person_id if person_id else ""
            self._dirty[("faces", _key(kind, container_id, owner, face.persisted_face_id))] = None
            self._dirty[("containers", _key(kind, container_id))] = None
            return face.persisted_face_id

    def _faces(
        self, kind: ContainerKind, container_id: str, person_id: str | None
    ) -> tuple[Container, dict[str, PersistedFace]]:
        container = self._get(kind, container_id)
        if person_id is None:
            return container, container.faces
        return container, self._person(container, person_id).faces

    def _face(self, faces: dict[str, PersistedFace], persisted_face_id: str) -> PersistedFace:
        found = faces.get(persisted_face_id.lower())
        if found is None:
            raise FaceApiError(
                404, "PersistedFaceNotFound", f"Persisted face {persisted_face_id} is not found."
            )
        return found

    def persisted_face(
        self,
        kind: ContainerKind,
        container_id: str,
        person_id: str | None,
        persisted_face_id: str,
    ) -> PersistedFace:
        with self._lock:
            _, faces = self._faces(kind, container_id, person_id)
            return replace(self._face(faces, persisted_face_id))

    def persisted_faces(
        self, kind: ContainerKind, container_id: str, *, start: str | None, top: int
    ) -> list[PersistedFace]:
        """A list's faces with ids greater than ``start``, in id order."""
        with self._lock:
            found = self._get(kind, container_id).faces
            return [replace(found[i]) for i in _page(list(found), start, top)]

    def update_face(
        self,
        kind: ContainerKind,
        container_id: str,
        person_id: str | None,
        persisted_face_id: str,
        *,
        user_data: str | None,
    ) -> None:
        with self._lock:
            _, faces = self._faces(kind, container_id, person_id)
            face = self._face(faces, persisted_face_id)
            if user_data is not None:
                face.user_data = user_data
            owner = self._owner(kind, container_id, person_id)
            self._dirty[("faces", _key(kind, container_id, owner, face.persisted_face_id))] = None

    def delete_face(
        self,
        kind: ContainerKind,
        container_id: str,
        person_id: str | None,
        persisted_face_id: str,
    ) -> None:
        with self._lock:
            container, faces = self._faces(kind, container_id, person_id)
            face = self._face(faces, persisted_face_id)
            del faces[face.persisted_face_id]
            container.version += 1
            owner = self._owner(kind, container_id, person_id)
            self._dirty[("faces", _key(kind, container_id, owner, face.persisted_face_id))] = None
            self._dirty[("containers", _key(kind, container_id))] = None

    # -- training ----------------------------------------------------------------------------

    def fail_next_training(self, message: str) -> None:
        """Make the next training that starts end in ``failed`` with ``message``."""
        with self._lock:
            self.state.next_training_failure = message

    @staticmethod
    def _learn(container: Container) -> tuple[TrainedEntry, ...]:
        if container.kind in PERSON_KINDS:
            return tuple(
                TrainedEntry(p.person_id, tuple(f.embedding for f in p.faces.values()))
                for p in container.persons.values()
            )
        return tuple(
            TrainedEntry(f.persisted_face_id, (f.embedding,)) for f in container.faces.values()
        )

    def _advance(self, container: Container, now: float) -> Training | None:
        """Finish a running training whose time has come."""
        training = container.training
        if training is None or training.status != "running" or now < training.finishes_at:
            return training
        self._dirty[("trainings", _key(container.kind, container.container_id))] = None
        training.last_action_at = training.finishes_at
        if training.pending_failure is not None:
            training.status = "failed"
            training.message = training.pending_failure
        else:
            training.status = "succeeded"
            training.message = None
            training.snapshot = training.pending
            training.trained_version = training.pending_version
            training.last_success_at = training.finishes_at
        training.pending = ()
        training.pending_failure = None
        return training

    def start_training(self, kind: ContainerKind, container_id: str) -> None:
        """Start training (a no-op while one is running)."""
        now = self.now()
        with self._lock:
            container = self._get(kind, container_id)
            current = self._advance(container, now)
            if current is not None and current.status == "running":
                return
            failure, self.state.next_training_failure = self.state.next_training_failure, None
            pending = self._learn(container)
            self._dirty[("trainings", _key(kind, container_id))] = None
            if current is None:
                container.training = Training(
                    status="running",
                    started_at=now,
                    finishes_at=now + self.training_delay,
                    last_action_at=now,
                    pending=pending,
                    pending_version=container.version,
                    pending_failure=failure,
                )
                return
            current.status = "running"
            current.started_at = now
            current.finishes_at = now + self.training_delay
            current.last_action_at = now
            current.pending = pending
            current.pending_version = container.version
            current.pending_failure = failure
            current.message = None

    def training(self, kind: ContainerKind, container_id: str) -> tuple[Container, Training]:
        """A container and its training status (``XNotTrained``, 404, if never trained)."""
        now = self.now()
        with self._lock:
            container = self._get(kind, container_id)
            training = self._advance(container, now)
            if training is None:
                raise FaceApiError(
                    404, f"{_code(kind)}NotTrained", f"{KIND_TEXT[kind]} not trained."
                )
            return _copy_container(container), replace(training)

    def trained(
        self, kind: ContainerKind, container_id: str, *, stale: Literal["snapshot", "error"]
    ) -> tuple[str, tuple[TrainedEntry, ...]]:
        """What identify / find-similar may search: the container's recognition model and the
        last successful training's snapshot.

        Raises ``XNotFound`` (400), ``XNotTrained`` (400) when no training ever succeeded,
        ``XTrainingNotFinished`` (409) while the first training runs, and, with
        ``stale="error"``, ``XNotTrained`` when the container changed since its training.
        The snapshot's entries whose person or face was deleted since are dropped.
        """
        now = self.now()
        with self._lock:
            container = self._get(kind, container_id, status=400)
            training = self._advance(container, now)
            text = KIND_TEXT[kind]
            if training is None or training.snapshot is None:
                if training is not None and training.status == "running":
                    raise FaceApiError(
                        409, f"{_code(kind)}TrainingNotFinished", f"{text} is under training."
                    )
                raise FaceApiError(400, f"{_code(kind)}NotTrained", f"{text} not trained.")
            if stale == "error" and training.trained_version != container.version:
                raise FaceApiError(
                    400,
                    f"{_code(kind)}NotTrained",
                    f"{text} not trained: it changed (persons or faces were added or removed) "
                    "after its last successful training; train it again.",
                )
            if training.trained_version == container.version:
                # Nothing was added or removed since: the snapshot itself, the same object on
                # every call (identify caches its embedding matrix by it).
                return container.recognition_model, training.snapshot
            alive = container.persons if kind in PERSON_KINDS else container.faces
            entries = tuple(e for e in training.snapshot if e.owner_id in alive)
            return container.recognition_model, entries

    def live_faces(self, kind: ContainerKind, container_id: str) -> tuple[str, list[PersistedFace]]:
        """A face list's recognition model and current faces (face lists need no training)."""
        with self._lock:
            container = self._get(kind, container_id, status=400)
            return container.recognition_model, list(container.faces.values())

    # -- persistence ---------------------------------------------------------------------------
    #
    # Rows, so that a change costs the same whatever the state's size: a container (without
    # its persons, faces and training), a person (without faces), a persisted face, a
    # training, a faceId, each under a key naming where it lives. Embeddings only, never
    # an image.

    def _owner(self, kind: ContainerKind, container_id: str, person_id: str | None) -> str:
        if person_id is None:
            return ""
        return self._person(self._get(kind, container_id), person_id).person_id

    def _mark_all(self, container: Container) -> None:
        """Every row of ``container`` changed (it is being deleted)."""
        kind, cid = container.kind, container.container_id
        self._dirty[("containers", _key(kind, cid))] = None
        self._dirty[("trainings", _key(kind, cid))] = None
        self._dirty.update(
            dict.fromkeys(("faces", _key(kind, cid, "", f)) for f in container.faces)
        )
        for pid, person in container.persons.items():
            self._dirty[("persons", _key(kind, cid, pid))] = None
            self._dirty.update(
                dict.fromkeys(("faces", _key(kind, cid, pid, f)) for f in person.faces)
            )

    def _row(self, table: str, key: str) -> Any | None:
        """The JSON data of one row as the state holds it now; ``None`` when it is gone."""
        parts = key.split("/")
        if table == "face_ids":
            detected = self.state.face_ids.get(key)
            return None if detected is None else encode(detected)
        container = self.state.containers.get(parts[0], {}).get(parts[1])
        if container is None:
            return None
        if table == "containers":
            return encode(replace(container, faces={}, persons={}, training=None))
        if table == "trainings":
            return None if container.training is None else encode(container.training)
        if table == "persons":
            person = container.persons.get(parts[2])
            return None if person is None else encode(replace(person, faces={}))
        owner = container.persons.get(parts[2]) if parts[2] else container
        face = None if owner is None else owner.faces.get(parts[3])
        return None if face is None else encode(face)

    def export_changes(self) -> tuple[dict[str, list[tuple[str, Any]]], dict[str, list[str]]]:
        """The rows written and deleted since the last call (for ``_persist``): what one
        request changed, whatever the size of the rest."""
        with self._lock:
            dirty, self._dirty = self._dirty, {}
            upserts: dict[str, list[tuple[str, Any]]] = {}
            deletes: dict[str, list[str]] = {}
            # containers before persons before faces, each in the order of the changes: a new
            # row's position keeps the order its dict had (sorted is stable)
            for table, key in sorted(dirty, key=lambda item: _TABLE_ORDER[item[0]]):
                data = self._row(table, key)
                if data is None:
                    deletes.setdefault(table, []).append(key)
                else:
                    upserts.setdefault(table, []).append((key, data))
            return upserts, deletes

    def export_state(self) -> dict[str, list[tuple[str, Any]]]:
        """Every row (for ``_persist``'s first or migrating save)."""
        now = self.now()
        with self._lock:
            self._dirty.clear()
            tables: dict[str, list[tuple[str, Any]]] = {t: [] for t in _TABLE_ORDER}
            for kind, by_id in self.state.containers.items():
                for cid, container in by_id.items():
                    tables["containers"].append(
                        (_key(kind, cid), self._row("containers", _key(kind, cid)))
                    )
                    if container.training is not None:
                        tables["trainings"].append((_key(kind, cid), encode(container.training)))
                    for fid, face in container.faces.items():
                        tables["faces"].append((_key(kind, cid, "", fid), encode(face)))
                    for pid, person in container.persons.items():
                        tables["persons"].append(
                            (_key(kind, cid, pid), encode(replace(person, faces={})))
                        )
                        for fid, face in person.faces.items():
                            tables["faces"].append((_key(kind, cid, pid, fid), encode(face)))
            tables["face_ids"] = [
                (face_id, encode(face))
                for face_id, face in self.state.face_ids.items()
                if now < face.expires_at
            ]
            return tables

    def import_state(self, tables: Mapping[str, list[tuple[str, Any]]]) -> None:
        """Add the ``(key, data)`` rows ``export_state`` / ``export_changes`` wrote (a
        container row written by schema 1 holds its persons, faces and training itself);
        faceIds that expired meanwhile are left out."""
        now = self.now()
        with self._lock:
            state = self.state
            for _, data in tables.get("containers", []):
                container = decode(Container, data)
                state.containers.setdefault(container.kind, {})[container.container_id] = container
            for key, data in tables.get("persons", []):
                kind, cid, _pid = key.split("/")
                person = decode(Person, data)
                state.containers[kind][cid].persons[person.person_id] = person
            for key, data in tables.get("faces", []):
                kind, cid, pid, _fid = key.split("/")
                face = decode(PersistedFace, data)
                found = state.containers[kind][cid]
                owner = found.persons[pid] if pid else found
                owner.faces[face.persisted_face_id] = face
            for key, data in tables.get("trainings", []):
                kind, cid = key.split("/")
                state.containers[kind][cid].training = decode(Training, data)
            for _, data in tables.get("face_ids", []):
                face_id = decode(DetectedFace, data)
                if now < face_id.expires_at:
                    state.face_ids[face_id.face_id] = face_id
            self._dirty.clear()
