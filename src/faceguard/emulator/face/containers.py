"""The Face containers of the emulator: face lists, large face lists, person groups and large
person groups (create, get, list, update, delete), their persons, their persisted faces
(add from an image, get, list, update, delete) and training. It exists so the CRUD of the
stored collections, their naming of operations and their wire shapes are apart from
detecting and comparing faces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

import httpx

from .._engine_api import EngineFace
from .common import (
    _ROUTE,
    DETECTION_MODELS,
    FACE_BASE,
    RECOGNITION_MODELS,
    FaceHandlersBase,
    _bad,
    _collection_id,
    _is_json,
    _json_body,
    _media_type,
    _paging,
    _persisted_face_id,
    _person_id,
    _query_bool,
    _query_choice,
    _text,
    empty_response,
    json_response,
    serves,
)
from .models import (
    PERSON_KINDS,
    ContainerKind,
    FaceApiError,
    PersistedFace,
    Person,
    Training,
)

__all__ = ["ContainerHandlers"]

_NAME_MAX = 128
_USER_DATA_MAX = 16 * 1024
_FACE_USER_DATA_MAX = 1024


NEVER_TRAINED = "0001-01-01T00:00:00.000Z"
"""``lastSuccessfulTrainingDateTime`` before a first successful training: a valid RFC 3339
date-time (the contract requires one), earlier than any real time, so "trained since"
comparisons say no; ``faceguard``'s ``TrainingResult`` reads it as ``None``."""


def _date_time(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _target_face(request: httpx.Request) -> tuple[int, int, int, int] | None:
    raw = request.url.params.get("targetFace")
    if raw is None:
        return None
    parts = raw.split(",")
    if len(parts) != 4 or not all(re.fullmatch(r"\d{1,9}", p.strip()) for p in parts):
        raise _bad("Invalid argument targetFace.")
    left, top, width, height = (int(p) for p in parts)
    if width == 0 or height == 0:
        raise _bad("Invalid argument targetFace.")
    return left, top, width, height


def _family(kind: ContainerKind) -> str:
    return "PersonGroupOperations" if kind in PERSON_KINDS else "FaceListOperations"


def _op(kind: ContainerKind, verb: str, suffix: str = "") -> str:
    return f"{_family(kind)}_{verb}{kind[0].upper()}{kind[1:]}{suffix}"


class ContainerHandlers(FaceHandlersBase):
    """The container, person, persisted-face and training handlers (``FaceRoutes`` mixes
    them in)."""

    # -- containers --------------------------------------------------------------------------

    @staticmethod
    def _container_json(
        kind: ContainerKind, container_id: str, name: str, user_data: str | None, model: str | None
    ) -> dict[str, object]:
        item: dict[str, object] = {_ROUTE[kind][1]: container_id, "name": name}
        if user_data is not None:
            item["userData"] = user_data
        if model is not None:
            item["recognitionModel"] = model
        return item

    def create_container(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Create"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]], creating=True)
        body = _json_body(request)
        name = _text(body, "name", maximum=_NAME_MAX, required=True)
        user_data = _text(body, "userData", maximum=_USER_DATA_MAX)
        model = body.get("recognitionModel", "recognition_01")
        if model not in RECOGNITION_MODELS:
            raise _bad("'recognitionModel' is invalid.")
        assert name is not None
        self.store.create_container(
            kind, container_id, name=name, user_data=user_data, recognition_model=model
        )
        return empty_response(200, operation=operation)

    def get_container(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Get"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        with_model = _query_bool(request, "returnRecognitionModel", False)
        found = self.store.container(kind, container_id)
        item = self._container_json(
            kind,
            found.container_id,
            found.name,
            found.user_data,
            found.recognition_model if with_model else None,
        )
        if kind == "faceList":
            item["persistedFaces"] = [self._face_json(f) for f in found.faces.values()]
        return json_response(200, item, operation=operation)

    def list_containers(
        self, kind: ContainerKind, request: httpx.Request, _params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Get", "s"))
        with_model = _query_bool(request, "returnRecognitionModel", False)
        # Face lists are not paged (the contract declares no start/top for them).
        start, top = (None, 10**9) if kind == "faceList" else _paging(request)
        found = self.store.containers(kind, start=start, top=top)
        items = [
            self._container_json(
                kind,
                c.container_id,
                c.name,
                c.user_data,
                c.recognition_model if with_model else None,
            )
            for c in found
        ]
        return json_response(200, items, operation=operation)

    def update_container(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Update"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        name, user_data = self._update_fields(request)
        self.store.update_container(kind, container_id, name=name, user_data=user_data)
        return empty_response(200, operation=operation)

    @staticmethod
    def _update_fields(request: httpx.Request) -> tuple[str | None, str | None]:
        body = _json_body(request)
        name = _text(body, "name", maximum=_NAME_MAX)
        user_data = _text(body, "userData", maximum=_USER_DATA_MAX)
        if name is None and user_data is None:
            raise _bad("Both 'name' and 'userData' are empty.")
        return name, user_data

    def delete_container(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Delete"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        self.store.delete_container(kind, container_id)
        return empty_response(200, operation=operation)

    # -- training ----------------------------------------------------------------------------

    def train(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Train"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        self.store.start_training(kind, container_id)
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        location = f"{origin}{FACE_BASE}{_ROUTE[kind][0]}/{container_id}/training"
        return empty_response(202, operation=operation, headers={"operation-Location": location})

    def training_status(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Get", "TrainingStatus"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        container, training = self.store.training(kind, container_id)
        return json_response(
            200, self._training_json(container.created_at, training), operation=operation
        )

    @staticmethod
    def _training_json(created_at: float, training: Training) -> dict[str, object]:
        result: dict[str, object] = {
            "status": training.status,
            "createdDateTime": _date_time(created_at),
            "lastActionDateTime": _date_time(training.last_action_at),
            # Required by the contract as a date-time string, yet there is no such time before
            # a first success: the emulator then answers NEVER_TRAINED (the unset value of a
            # .NET DateTime, which is what the service is built on), never null.
            "lastSuccessfulTrainingDateTime": (
                NEVER_TRAINED
                if training.last_success_at is None
                else _date_time(training.last_success_at)
            ),
        }
        if training.status == "failed" and training.message:
            result["message"] = training.message
        return result

    # -- persons -----------------------------------------------------------------------------

    @staticmethod
    def _person_json(person: Person) -> dict[str, object]:
        item: dict[str, object] = {"personId": person.person_id, "name": person.name}
        if person.user_data is not None:
            item["userData"] = person.user_data
        item["persistedFaceIds"] = list(person.faces)
        return item

    def create_person(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Create", "Person"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        body = _json_body(request)
        name = _text(body, "name", maximum=_NAME_MAX, required=True)
        user_data = _text(body, "userData", maximum=_USER_DATA_MAX)
        assert name is not None
        person_id = self.store.create_person(kind, container_id, name=name, user_data=user_data)
        return json_response(200, {"personId": person_id}, operation=operation)

    def get_person(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Get", "Person"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        person = self.store.person(kind, container_id, _person_id(params["personId"]))
        return json_response(200, self._person_json(person), operation=operation)

    def list_persons(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Get", "Persons"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        start, top = _paging(request)
        persons = self.store.persons(kind, container_id, start=start, top=top)
        return json_response(200, [self._person_json(p) for p in persons], operation=operation)

    def update_person(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Update", "Person"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        person_id = _person_id(params["personId"])
        name, user_data = self._update_fields(request)
        self.store.update_person(kind, container_id, person_id, name=name, user_data=user_data)
        return empty_response(200, operation=operation)

    def delete_person(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Delete", "Person"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        self.store.delete_person(kind, container_id, _person_id(params["personId"]))
        return empty_response(200, operation=operation)

    # -- persisted faces ---------------------------------------------------------------------

    @staticmethod
    def _face_json(face: PersistedFace) -> dict[str, object]:
        item: dict[str, object] = {"persistedFaceId": face.persisted_face_id}
        if face.user_data is not None:
            item["userData"] = face.user_data
        return item

    @staticmethod
    def _face_suffix(kind: ContainerKind) -> str:
        return "PersonFace" if kind in PERSON_KINDS else "Face"

    def add_face(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        """Add a face from bytes or ``{"url"}``: exactly one face in the image (or in
        ``targetFace``), else ``InvalidImage``."""
        operation = _op(kind, "Add", self._face_suffix(kind))
        serves(request, operation + ("FromUrl" if _is_json(_media_type(request)) else ""))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        person_id = _person_id(params["personId"]) if kind in PERSON_KINDS else None
        target = _target_face(request)
        detection = _query_choice(request, "detectionModel", DETECTION_MODELS, "detection_01")
        user_data = request.url.params.get("userData")
        if user_data is not None and len(user_data) > _FACE_USER_DATA_MAX:
            raise _bad("'userData' is too long.")
        # The container (and person) must exist before the image is even looked at.
        if person_id is not None:
            self.store.person(kind, container_id, person_id)
        else:
            self.store.container(kind, container_id)
        image, operation = self._image_of(request, operation)
        face = self._single_face(self._faces_in(image), target)
        persisted = self.store.add_face(
            kind,
            container_id,
            person_id,
            embedding=face.embedding,
            detection_model=detection,
            user_data=user_data,
        )
        return json_response(200, {"persistedFaceId": persisted}, operation=operation)

    @staticmethod
    def _single_face(
        faces: Sequence[EngineFace], target: tuple[int, int, int, int] | None
    ) -> EngineFace:
        if target is not None:
            left, top, width, height = target
            faces = [
                f
                for f in faces
                if left <= f.left + f.width / 2 <= left + width
                and top <= f.top + f.height / 2 <= top + height
            ]
            where = " within targetFace"
        else:
            where = ""
        if not faces:
            raise FaceApiError(400, "InvalidImage", f"No face detected in the image{where}.")
        if len(faces) > 1:
            raise FaceApiError(
                400, "InvalidImage", f"There is more than 1 face in the image{where}."
            )
        return faces[0]

    def _face_target(
        self, kind: ContainerKind, params: Mapping[str, str]
    ) -> tuple[str, str | None, str]:
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        person_id = _person_id(params["personId"]) if kind in PERSON_KINDS else None
        return container_id, person_id, _persisted_face_id(params["persistedFaceId"])

    def get_face(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Get", self._face_suffix(kind)))
        container_id, person_id, face_id = self._face_target(kind, params)
        face = self.store.persisted_face(kind, container_id, person_id, face_id)
        return json_response(200, self._face_json(face), operation=operation)

    def list_faces(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Get", "Faces"))
        container_id = _collection_id(kind, params[_ROUTE[kind][1]])
        start, top = _paging(request)
        faces = self.store.persisted_faces(kind, container_id, start=start, top=top)
        return json_response(200, [self._face_json(f) for f in faces], operation=operation)

    def update_face(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Update", self._face_suffix(kind)))
        container_id, person_id, face_id = self._face_target(kind, params)
        body = _json_body(request)
        user_data = _text(body, "userData", maximum=_FACE_USER_DATA_MAX)
        self.store.update_face(kind, container_id, person_id, face_id, user_data=user_data)
        return empty_response(200, operation=operation)

    def delete_face(
        self, kind: ContainerKind, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        operation = serves(request, _op(kind, "Delete", self._face_suffix(kind)))
        container_id, person_id, face_id = self._face_target(kind, params)
        self.store.delete_face(kind, container_id, person_id, face_id)
        return empty_response(200, operation=operation)
