"""Person groups, large person groups, face lists and large face lists, written once.

The four container kinds share their REST shape (``PUT/GET/PATCH/DELETE /<kind>s/{id}``, add
face from bytes or URL, train) and differ only in route, operation ids and models. Each kind is
one instance of the classes below; its builders become methods of the matching sync and async
groups. Docstrings are templates (``$route``, ``$kind``) filled in per kind.

Every ``name`` and ``userData`` (of a container, a person or a face) is screened for primary
identifiers before it is sent (R31): the service stores these fields next to facial templates,
and GUARD.md's design keeps people's identifiers on the application's side, linked by the
service's ids. A hit raises ``PersonalDataError`` unless the call carries
``override=Override("primary_identifier", reason)``, which the guard then audits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .._constants import (
    COLLECTION_USER_DATA_MAX,
    FACE_USER_DATA_MAX,
    LIST_START_MAX,
    PAGE_TOP_MAX,
)
from .._exceptions import InvalidInputError, PersonalDataError
from .._guard._identifiers import primary_identifier_kinds
from .._guard._override import Override
from .._transport._spec import (
    GuardCheck,
    GuardInfo,
    PageSpec,
    RawResponse,
    RequestSpec,
    TrainSpec,
)
from ..models.enums import DetectionModel, RecognitionModel
from . import _parsers
from ._images import ImageInput, read_image
from ._inputs import (
    check_choice,
    check_collection_id,
    check_int_range,
    check_length,
    check_name,
    check_target_face,
    check_uuid,
    wire_bool,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..models._results import ResultList
    from ..models.collections import AddFaceResult, CreatePersonResult, TrainingResult

__all__ = ["FaceListKind", "LargeFaceListKind", "PersonContainerKind"]

C = TypeVar("C", bound="BaseModel")  # the container model
P = TypeVar("P", bound="BaseModel")  # the person model
F = TypeVar("F", bound="BaseModel")  # the persisted face model
T = TypeVar("T")

_ERASURE = frozenset({GuardCheck.ERASURE})
_ENROLLMENT = frozenset({GuardCheck.ENROLLMENT})


def _user_data(value: str | None, maximum: int, parameter: str = "user_data") -> str | None:
    return None if value is None else check_length(parameter, value, maximum=maximum)


def _screen(override: Override | None, **fields: str | None) -> dict[str, Any]:
    """R31: refuse primary identifiers in ``fields``, or let them pass under ``override``.

    Returns the guard keywords of the call: ``{"override": override}`` when the override was
    needed (the guard audits it), else nothing, so an override that set nothing aside leaves
    no record claiming it did.
    """
    if override is not None and not isinstance(override, Override):
        raise InvalidInputError("override", "type", "must be an Override or None")
    needed = False
    for field, value in fields.items():
        kinds = () if value is None else primary_identifier_kinds(value)
        if not kinds:
            continue
        if override is None or override.rule != "primary_identifier":
            raise PersonalDataError(field, kinds)
        needed = True
    return {"override": override} if needed else {}


def _fields(
    name: str | None, user_data: str | None, *, name_required: bool, override: Override | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body of a create or update, and the guard keywords of its R31 screening."""
    body: dict[str, Any] = {}
    if name is not None or name_required:
        body["name"] = check_name("name", name)  # type: ignore[arg-type]
    if user_data is not None:
        body["userData"] = _user_data(user_data, COLLECTION_USER_DATA_MAX)
    if not body:
        raise InvalidInputError("name", "required", "give name and/or user_data to update")
    return body, _screen(override, name=body.get("name"), user_data=body.get("userData"))


def _face_data(
    user_data: str | None, override: Override | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body of a face update (up to 1 KB of user data) and its R31 screening."""
    value = _user_data(user_data, FACE_USER_DATA_MAX)
    body = {} if value is None else {"userData": value}
    return body, _screen(override, user_data=value)


def _paging(start: str | None, top: int | None) -> dict[str, str]:
    query: dict[str, str] = {}
    if start is not None:
        query["start"] = check_length("start", start, minimum=1, maximum=LIST_START_MAX)
    if top is not None:
        query["top"] = str(check_int_range("top", top, minimum=1, maximum=PAGE_TOP_MAX))
    return query


def _next_after(id_of: Callable[[Any], str]) -> Callable[..., Any]:
    """Face ``start``/``top`` paging: a full page means there may be more after its last id."""

    def next_request(
        previous: RequestSpec[tuple[list[Any], str | None]], items: list[Any], _marker: str | None
    ) -> RequestSpec[tuple[list[Any], str | None]] | None:
        top = int(previous.query.get("top", PAGE_TOP_MAX))
        if len(items) < top or not items:
            return None
        return previous.with_query(start=id_of(items[-1]))

    return next_request


class _Kind(Generic[C]):
    """What distinguishes one container kind from another, and the builders all kinds share."""

    def __init__(self, kind: str, family: str, route: str, id_param: str, model: str) -> None:
        self.kind = kind
        """``PersonGroup``, ``LargePersonGroup``, ``FaceList`` or ``LargeFaceList``."""
        self.family = family
        """Operation-id prefix: ``PersonGroupOperations`` or ``FaceListOperations``."""
        self.route = route
        """``/persongroups/{personGroupId}`` and the like."""
        self.id_param = id_param
        self.model = model
        self.list_model: str = model
        """The model of one entry of the container list (face lists list a lighter one)."""

    @property
    def doc_fields(self) -> dict[str, str]:
        words = "".join(f" {c.lower()}" if c.isupper() else c for c in self.kind).strip()
        return {
            "kind": self.kind,
            "kind_text": words,
            "family": self.family,
            "route": self.route,
            "collection": self.route.rsplit("/", 1)[0],
            "trained_for": "find-similar" if self.family == "FaceListOperations" else "identify",
            "consent_kind": self.consent_kind,
        }

    @property
    def consent_kind(self) -> str:
        """The container kind as consent tokens name it: ``personGroup``, ``faceList``..."""
        return self.kind[0].lower() + self.kind[1:]

    def _op(self, verb: str, suffix: str = "") -> str:
        return f"{self.family}_{verb}{self.kind}{suffix}"

    def _spec(
        self,
        verb: str,
        method: str,
        container_id: str,
        parse: Callable[[RawResponse], T],
        *,
        suffix: str = "",
        route: str = "",
        params: dict[str, str] | None = None,
        guard: dict[str, Any] | None = None,
        **extra: Any,
    ) -> RequestSpec[T]:
        path = {self.id_param: check_collection_id("container_id", container_id), **(params or {})}
        # Every container call tells the guard which container (and person) it touches:
        # consent binds to them, erasure is audited by them, models are remembered by them.
        info = GuardInfo(
            container_kind=self.consent_kind,
            container_id=container_id,
            person_id=path.get("personId"),
            **(guard or {}),
        )
        return RequestSpec(
            operation=self._op(verb, suffix),
            method=method,
            route=self.route + route,
            parse=parse,
            path_params=path,
            guard=info,
            **extra,
        )

    # -- the container itself --------------------------------------------------------------

    def create(
        self,
        container_id: str,
        *,
        name: str,
        user_data: str | None = None,
        recognition_model: RecognitionModel | str = RecognitionModel.RECOGNITION_04,
        override: Override | None = None,
    ) -> RequestSpec[None]:
        """Create an empty $kind_text with a fixed recognition model.

        REST: ``PUT $route`` (``${family}_Create${kind}``).
        Guard checks: ``name`` and ``user_data`` must hold no email address, phone number or
        national id (R31; ``override=Override("primary_identifier", reason)``, audited, lets
        one through). ``recognition_model`` defaults to ``recognition_04`` (the service's own
        default is ``recognition_01``) and cannot be changed later.
        """
        body, screened = _fields(name, user_data, name_required=True, override=override)
        body["recognitionModel"] = check_choice(
            "recognition_model", recognition_model, RecognitionModel
        ).value
        return self._spec(
            "Create",
            "PUT",
            container_id,
            _parsers.empty,
            json=body,
            guard={"recognition_model": body["recognitionModel"], **screened},
        )

    def get(self, container_id: str, *, return_recognition_model: bool = False) -> RequestSpec[C]:
        """Get a $kind_text's name, user data and (optionally) recognition model.

        REST: ``GET $route`` (``${family}_Get${kind}``).
        Guard checks: none.
        """
        query = {
            "returnRecognitionModel": wire_bool(
                return_recognition_model, "return_recognition_model"
            )
        }
        return self._spec("Get", "GET", container_id, _parsers.model(self.model), query=query)

    def update(
        self,
        container_id: str,
        *,
        name: str | None = None,
        user_data: str | None = None,
        override: Override | None = None,
    ) -> RequestSpec[None]:
        """Update a $kind_text's name and/or user data.

        REST: ``PATCH $route`` (``${family}_Update${kind}``).
        Guard checks: no primary identifier in ``name`` or ``user_data`` (R31), as ``create``.
        """
        body, screened = _fields(name, user_data, name_required=False, override=override)
        return self._spec(
            "Update", "PATCH", container_id, _parsers.empty, json=body, guard=screened
        )

    def delete(self, container_id: str) -> RequestSpec[None]:
        """Delete a $kind_text and every face (and person) in it.

        REST: ``DELETE $route`` (``${family}_Delete${kind}``).
        Guard checks: erasure is always allowed, and audited.
        """
        return self._spec("Delete", "DELETE", container_id, _parsers.empty, guard_checks=_ERASURE)

    # -- shared pieces for subclasses ----------------------------------------------------------

    def _list_pages(
        self, start: str | None, top: int | None, return_recognition_model: bool
    ) -> PageSpec[C]:
        query = _paging(start, top)
        query["returnRecognitionModel"] = wire_bool(
            return_recognition_model, "return_recognition_model"
        )
        first: RequestSpec[tuple[list[C], str | None]] = RequestSpec(
            operation=self._op("Get", "s"),
            method="GET",
            route=self.route.rsplit("/", 1)[0],
            parse=_parsers.face_page(self.model),
            query=query,
        )
        id_field = self.id_param[0].lower() + "".join(
            f"_{c.lower()}" if c.isupper() else c for c in self.id_param[1:]
        )
        return PageSpec(first=first, next_request=_next_after(lambda m: getattr(m, id_field)))

    def _train(self, container_id: str) -> TrainSpec[TrainingResult]:
        return TrainSpec(
            start=self._spec(
                "Train",
                "POST",
                container_id,
                _parsers.empty,
                route="/train",
                success_status=frozenset({202}),
                idempotent=False,
            ),
            status=self._training_status(container_id, _parsers.training_status),
        )

    def _training_status(
        self, container_id: str, parse: Callable[[RawResponse], T]
    ) -> RequestSpec[T]:
        return self._spec(
            "Get", "GET", container_id, parse, suffix="TrainingStatus", route="/training"
        )

    def _add_face(
        self,
        verb_suffix: str,
        container_id: str,
        route: str,
        params: dict[str, str],
        image: ImageInput,
        target_face: Sequence[int] | None,
        detection_model: DetectionModel | str,
        user_data: str | None,
        consent: str | None,
        override: Override | None,
    ) -> RequestSpec[AddFaceResult]:
        query = {
            "detectionModel": check_choice("detection_model", detection_model, DetectionModel).value
        }
        if target_face is not None:
            query["targetFace"] = check_target_face("target_face", target_face)
        if user_data is not None:
            query["userData"] = check_length("user_data", user_data, maximum=FACE_USER_DATA_MAX)
        screened = _screen(override, user_data=user_data)
        source = read_image(image)
        common: dict[str, Any] = {
            "route": route,
            "params": params,
            "query": query,
            "idempotent": False,
            "guard_checks": _ENROLLMENT,
            "guard": {"consent_operation": "enroll", "consent": consent, **screened},
        }
        parse = _parsers.model("collections.AddFaceResult")
        if source.url is not None:
            return self._spec(
                "Add",
                "POST",
                container_id,
                parse,
                suffix=f"{verb_suffix}FromUrl",
                json={"url": source.url},
                **common,
            )
        return self._spec(
            "Add",
            "POST",
            container_id,
            parse,
            suffix=verb_suffix,
            content=source.content,
            content_type="application/octet-stream",
            **common,
        )


class _TrainableKind(_Kind[C]):
    """Kinds that must be trained before recognition: the two person group kinds and large
    face lists."""

    def train(self, container_id: str) -> TrainSpec[TrainingResult]:
        """Start training; $trained_for needs a trained $kind_text. Returns a poller.

        REST: ``POST ${route}/train`` (``${family}_Train${kind}``, 202), polled with
        ``GET ${route}/training``. Guard checks: none.
        """
        return self._train(container_id)

    def get_training_status(self, container_id: str) -> RequestSpec[TrainingResult]:
        """Get the status of the last training.

        REST: ``GET ${route}/training`` (``${family}_Get${kind}TrainingStatus``).
        Guard checks: none.
        """
        return self._training_status(container_id, _parsers.model("collections.TrainingResult"))


class PersonContainerKind(_TrainableKind[C], Generic[C, P, F]):
    """Person groups and large person groups: persons, their faces, training."""

    def __init__(
        self, kind: str, route: str, id_param: str, model: str, person: str, face: str
    ) -> None:
        super().__init__(kind, "PersonGroupOperations", route, id_param, model)
        self.person_model = person
        self.face_model = face

    def list_containers(
        self,
        *,
        start: str | None = None,
        top: int | None = None,
        return_recognition_model: bool = False,
    ) -> PageSpec[C]:
        """Iterate every $kind_text, in id order, fetching ``top`` (1..1000) per page.

        REST: ``GET ${collection}`` (``${family}_Get${kind}s``), paged by ``start``/``top``.
        Guard checks: none.
        """
        return self._list_pages(start, top, return_recognition_model)

    def create_person(
        self,
        container_id: str,
        *,
        name: str,
        user_data: str | None = None,
        consent: str | None = None,
        override: Override | None = None,
    ) -> RequestSpec[CreatePersonResult]:
        """Create a person in a $kind_text; the service assigns its ``person_id``.

        REST: ``POST ${route}/persons`` (``${family}_Create${kind}Person``).
        Guard checks: no email address, phone number or national id in ``name`` or
        ``user_data`` (R31: keep the person's identifiers on your side, linked by
        ``person_id``; ``override=Override("primary_identifier", reason)`` is audited).
        Not retried after the request may have reached the service, so a retry can never
        create a duplicate person.

        Enrolling faces needs consent. With ``consent``, an ``enroll`` token bound to this
        $kind_text (``bindings=[("${consent_kind}", container_id, None)]``, issued before the
        person exists) is verified here and the new ``person_id`` is recorded as that
        token's subject: ``add_face`` then accepts the same token for this person (issue it
        with ``use="session"`` to cover both calls). Without it, the person is created with
        no consent on file, and ``add_face`` needs a token that names the person.
        """
        body, screened = _fields(name, user_data, name_required=True, override=override)
        guard: dict[str, Any] = dict(screened)
        checks: frozenset[GuardCheck] = frozenset()
        if consent is not None:
            guard.update(consent_operation="enroll", consent=consent)
            checks = _ENROLLMENT
        return self._spec(
            "Create",
            "POST",
            container_id,
            _parsers.model("collections.CreatePersonResult"),
            suffix="Person",
            route="/persons",
            json=body,
            idempotent=False,
            guard_checks=checks,
            guard=guard,
        )

    def get_person(self, container_id: str, person_id: str) -> RequestSpec[P]:
        """Get a person's name, user data and persisted face ids.

        REST: ``GET ${route}/persons/{personId}`` (``${family}_Get${kind}Person``).
        Guard checks: none.
        """
        return self._spec(
            "Get",
            "GET",
            container_id,
            _parsers.model(self.person_model),
            suffix="Person",
            route="/persons/{personId}",
            params={"personId": check_uuid("person_id", person_id)},
        )

    def update_person(
        self,
        container_id: str,
        person_id: str,
        *,
        name: str | None = None,
        user_data: str | None = None,
        override: Override | None = None,
    ) -> RequestSpec[None]:
        """Update a person's name and/or user data.

        REST: ``PATCH ${route}/persons/{personId}`` (``${family}_Update${kind}Person``).
        Guard checks: no primary identifier in ``name`` or ``user_data`` (R31), as
        ``create_person``.
        """
        body, screened = _fields(name, user_data, name_required=False, override=override)
        return self._spec(
            "Update",
            "PATCH",
            container_id,
            _parsers.empty,
            suffix="Person",
            route="/persons/{personId}",
            params={"personId": check_uuid("person_id", person_id)},
            json=body,
            guard=screened,
        )

    def delete_person(self, container_id: str, person_id: str) -> RequestSpec[None]:
        """Delete a person and all of their faces.

        REST: ``DELETE ${route}/persons/{personId}`` (``${family}_Delete${kind}Person``).
        Guard checks: erasure is always allowed, and audited.
        """
        return self._spec(
            "Delete",
            "DELETE",
            container_id,
            _parsers.empty,
            suffix="Person",
            route="/persons/{personId}",
            params={"personId": check_uuid("person_id", person_id)},
            guard_checks=_ERASURE,
        )

    def list_persons(
        self, container_id: str, *, start: str | None = None, top: int | None = None
    ) -> PageSpec[P]:
        """Iterate the persons of a $kind_text, fetching ``top`` (1..1000) per page.

        REST: ``GET ${route}/persons`` (``${family}_Get${kind}Persons``), paged by
        ``start``/``top``. Guard checks: none.
        """
        first = self._spec(
            "Get",
            "GET",
            container_id,
            _parsers.face_page(self.person_model),
            suffix="Persons",
            route="/persons",
            query=_paging(start, top),
        )
        return PageSpec(first=first, next_request=_next_after(lambda p: p.person_id))

    def add_face(
        self,
        container_id: str,
        person_id: str,
        image: ImageInput,
        *,
        target_face: Sequence[int] | None = None,
        detection_model: DetectionModel | str = DetectionModel.DETECTION_03,
        user_data: str | None = None,
        consent: str | None = None,
        override: Override | None = None,
    ) -> RequestSpec[AddFaceResult]:
        """Enroll a face of a person (at most 248 faces per person) from bytes, a file or a URL.

        REST: ``POST ${route}/persons/{personId}/persistedfaces``
        (``${family}_Add${kind}PersonFace``, or ``...FromUrl`` for a URL).
        Guard checks: enrollment needs the person's consent; ``user_data`` must hold no
        primary identifier (R31; ``override=Override("primary_identifier", reason)``). Not
        retried once the request may have reached the service, so a face is never added twice
        by a retry.

        Args:
            target_face: ``[left, top, width, height]`` of the face to add when the image
                holds several.
        """
        params = {"personId": check_uuid("person_id", person_id)}
        return self._add_face(
            "PersonFace",
            container_id,
            "/persons/{personId}/persistedfaces",
            params,
            image,
            target_face,
            detection_model,
            user_data,
            consent,
            override,
        )

    def _face_params(self, person_id: str, persisted_face_id: str) -> dict[str, str]:
        return {
            "personId": check_uuid("person_id", person_id),
            "persistedFaceId": check_uuid("persisted_face_id", persisted_face_id),
        }

    def get_face(self, container_id: str, person_id: str, persisted_face_id: str) -> RequestSpec[F]:
        """Get a persisted face's user data.

        REST: ``GET ${route}/persons/{personId}/persistedfaces/{persistedFaceId}``
        (``${family}_Get${kind}PersonFace``). Guard checks: none.
        """
        return self._spec(
            "Get",
            "GET",
            container_id,
            _parsers.model(self.face_model),
            suffix="PersonFace",
            route="/persons/{personId}/persistedfaces/{persistedFaceId}",
            params=self._face_params(person_id, persisted_face_id),
        )

    def update_face(
        self,
        container_id: str,
        person_id: str,
        persisted_face_id: str,
        *,
        user_data: str | None = None,
        override: Override | None = None,
    ) -> RequestSpec[None]:
        """Update a persisted face's user data (up to 1 KB).

        REST: ``PATCH ${route}/persons/{personId}/persistedfaces/{persistedFaceId}``
        (``${family}_Update${kind}PersonFace``). Guard checks: no primary identifier in
        ``user_data`` (R31; ``override=Override("primary_identifier", reason)``).
        """
        body, screened = _face_data(user_data, override)
        return self._spec(
            "Update",
            "PATCH",
            container_id,
            _parsers.empty,
            suffix="PersonFace",
            route="/persons/{personId}/persistedfaces/{persistedFaceId}",
            params=self._face_params(person_id, persisted_face_id),
            json=body,
            guard=screened,
        )

    def delete_face(
        self, container_id: str, person_id: str, persisted_face_id: str
    ) -> RequestSpec[None]:
        """Delete a persisted face of a person.

        REST: ``DELETE ${route}/persons/{personId}/persistedfaces/{persistedFaceId}``
        (``${family}_Delete${kind}PersonFace``). Guard checks: erasure, always allowed.
        """
        return self._spec(
            "Delete",
            "DELETE",
            container_id,
            _parsers.empty,
            suffix="PersonFace",
            route="/persons/{personId}/persistedfaces/{persistedFaceId}",
            params=self._face_params(person_id, persisted_face_id),
            guard_checks=_ERASURE,
        )


class FaceListKind(_Kind[C], Generic[C, F]):
    """Face lists (up to 1,000 faces, no training) and the face operations of large ones."""

    def __init__(
        self,
        kind: str,
        route: str,
        id_param: str,
        model: str,
        face: str,
        list_model: str | None = None,
    ) -> None:
        super().__init__(kind, "FaceListOperations", route, id_param, model)
        self.face_model = face
        self.list_model = list_model or model

    def add_face(
        self,
        container_id: str,
        image: ImageInput,
        *,
        target_face: Sequence[int] | None = None,
        detection_model: DetectionModel | str = DetectionModel.DETECTION_03,
        user_data: str | None = None,
        consent: str | None = None,
        override: Override | None = None,
    ) -> RequestSpec[AddFaceResult]:
        """Add a face to a $kind_text from bytes, a file or a URL.

        REST: ``POST ${route}/persistedfaces`` (``${family}_Add${kind}Face``, or
        ``...FromUrl`` for a URL). Guard checks: enrollment needs consent; ``user_data`` must
        hold no primary identifier (R31; ``override=Override("primary_identifier", reason)``);
        never retried once the request may have reached the service.
        """
        return self._add_face(
            "Face",
            container_id,
            "/persistedfaces",
            {},
            image,
            target_face,
            detection_model,
            user_data,
            consent,
            override,
        )

    def delete_face(self, container_id: str, persisted_face_id: str) -> RequestSpec[None]:
        """Delete a face from a $kind_text.

        REST: ``DELETE ${route}/persistedfaces/{persistedFaceId}``
        (``${family}_Delete${kind}Face``). Guard checks: erasure, always allowed.
        """
        return self._spec(
            "Delete",
            "DELETE",
            container_id,
            _parsers.empty,
            suffix="Face",
            route="/persistedfaces/{persistedFaceId}",
            params={"persistedFaceId": check_uuid("persisted_face_id", persisted_face_id)},
            guard_checks=_ERASURE,
        )

    def list_containers(
        self, *, return_recognition_model: bool = False
    ) -> RequestSpec[ResultList[Any]]:
        """List every face list (the service does not page this one).

        REST: ``GET /facelists`` (``${family}_Get${kind}s``). Guard checks: none.
        """
        return RequestSpec(
            operation=self._op("Get", "s"),
            method="GET",
            route=self.route.rsplit("/", 1)[0],
            parse=_parsers.model_list(self.list_model),
            query={
                "returnRecognitionModel": wire_bool(
                    return_recognition_model, "return_recognition_model"
                )
            },
        )


class LargeFaceListKind(FaceListKind[C, F], _TrainableKind[C]):
    """Large face lists: up to 1,000,000 faces, paged listing, training."""

    def list_containers(  # type: ignore[override]  # paged here, a plain list for face lists
        self,
        *,
        start: str | None = None,
        top: int | None = None,
        return_recognition_model: bool = False,
    ) -> PageSpec[C]:
        """Iterate every $kind_text, fetching ``top`` (1..1000) per page.

        REST: ``GET /largefacelists`` (``${family}_Get${kind}s``), paged by ``start``/``top``.
        Guard checks: none.
        """
        return self._list_pages(start, top, return_recognition_model)

    def list_faces(
        self, container_id: str, *, start: str | None = None, top: int | None = None
    ) -> PageSpec[F]:
        """Iterate the faces of a $kind_text, fetching ``top`` (1..1000) per page.

        REST: ``GET ${route}/persistedfaces`` (``${family}_Get${kind}Faces``).
        Guard checks: none.
        """
        first = self._spec(
            "Get",
            "GET",
            container_id,
            _parsers.face_page(self.face_model),
            suffix="Faces",
            route="/persistedfaces",
            query=_paging(start, top),
        )
        return PageSpec(first=first, next_request=_next_after(lambda f: f.persisted_face_id))

    def get_face(self, container_id: str, persisted_face_id: str) -> RequestSpec[F]:
        """Get a face's user data.

        REST: ``GET ${route}/persistedfaces/{persistedFaceId}`` (``${family}_Get${kind}Face``).
        Guard checks: none.
        """
        return self._spec(
            "Get",
            "GET",
            container_id,
            _parsers.model(self.face_model),
            suffix="Face",
            route="/persistedfaces/{persistedFaceId}",
            params={"persistedFaceId": check_uuid("persisted_face_id", persisted_face_id)},
        )

    def update_face(
        self,
        container_id: str,
        persisted_face_id: str,
        *,
        user_data: str | None = None,
        override: Override | None = None,
    ) -> RequestSpec[None]:
        """Update a face's user data (up to 1 KB).

        REST: ``PATCH ${route}/persistedfaces/{persistedFaceId}``
        (``${family}_Update${kind}Face``). Guard checks: no primary identifier in
        ``user_data`` (R31; ``override=Override("primary_identifier", reason)``).
        """
        body, screened = _face_data(user_data, override)
        return self._spec(
            "Update",
            "PATCH",
            container_id,
            _parsers.empty,
            suffix="Face",
            route="/persistedfaces/{persistedFaceId}",
            params={"persistedFaceId": check_uuid("persisted_face_id", persisted_face_id)},
            json=body,
            guard=screened,
        )
