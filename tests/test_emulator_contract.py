"""Contract tests: every client operation, sync and async, against the emulator.

In process, one scenario calls each of the 86 operations of ``tests/_optable.py`` (77 Face,
liveness included, and 9 Content Safety) through the real ``FaceClient`` /
``ContentSafetyClient`` or their async twins, over ``Emulator.transport()``. It sets up what
each call needs as it goes: the containers the kit's consent token binds, persons, persisted
faces, trainings (on the emulator's ``ManualClock``: the clients' ``sleep`` advances it),
faceIds from detections with consent, liveness sessions with scripted attempts, a blocklist
with items. Every call takes the sample arguments of its table row, every optional parameter
included, with the sample ids swapped for the ids the scenario made (see ``Run.real``), and
its result must be the typed model of ``RETURNS``. The only calls that must fail are the three
whose targets cannot be created in v1.2 GA (a Person Directory person, a dynamic person
group): they must raise the typed ``faceguard`` error of the emulator's documented answer.

Which operation answered is recorded on the emulator side (``Recorder`` wraps
``Emulator.handle``, which the transport and the server both call at request time, and reads
``Emulator.operation_of``): the run
must have reached exactly the table's operationIds, and every JSON answer (Face, liveness and
Content Safety; the session image is bytes) must match its contract's schema
(``contract_problems`` of ``test_emulator_face``).

Over real loopback HTTP (``_server.running``, the server behind ``faceguard emulator serve``),
a smaller scenario runs with the sync and async clients: detect, a large person group
created, trained and identified against, a liveness session scripted through the control
route, a blocklist and ``text:analyze``.

Faces come from ``ScriptedEngine`` (``test_emulator_face``): the real engine is covered in
``test_engine.py`` and the real-photo tests. The emulator makes its ids in order, each
starting with ``e``, so that the table's paged calls (``start="a"``) list what was made.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest

from _guard_kit import BINDINGS, ENDPOINTS, TOKEN, policy, token
from _optable import (
    BLOCKLIST_ITEM_ID,
    BLOCKLIST_NAME,
    FACE_ID,
    FACE_ID_2,
    FACE_LIST_ID,
    IMAGE_URL,
    JPEG,
    LARGE_FACE_LIST_ID,
    LARGE_PERSON_GROUP_ID,
    OPERATIONS,
    PERSISTED_FACE_ID,
    PERSON_GROUP_ID,
    PERSON_ID,
    SESSION_ID,
    SESSION_IMAGE_ID,
    by_operation_id,
)
from faceguard import (
    AsyncContentSafetyClient,
    AsyncFaceClient,
    AsyncPager,
    AsyncTrainingPoller,
    BadRequestError,
    ContentSafetyClient,
    FaceClient,
    NotFoundError,
    RetryPolicy,
    SyncPager,
    TrainingPoller,
)
from faceguard.emulator import Emulator, FaceApiError, ManualClock
from faceguard.emulator._server import EmulatorServer, running
from faceguard.models import (
    AddFaceResult,
    AddOrUpdateTextBlocklistItemsResult,
    AnalyzeTextResult,
    CreatePersonResult,
    FaceDetectionResult,
    FaceList,
    FaceListItem,
    FindSimilarResult,
    GroupingResult,
    IdentificationResult,
    LargeFaceList,
    LargeFaceListFace,
    LargePersonGroup,
    LargePersonGroupPerson,
    LargePersonGroupPersonFace,
    LivenessSession,
    LivenessWithVerifySession,
    PersonGroup,
    PersonGroupPerson,
    PersonGroupPersonFace,
    ResultList,
    TextBlocklist,
    TextBlocklistItem,
    TrainingResult,
    VerificationResult,
)
from test_emulator_face import ScriptedEngine, contract_problems, photo

ROWS = by_operation_id()
ENDPOINT = "https://emulator.invalid"
Flavour = Literal["sync", "async"]

# -- what each operation returns ----------------------------------------------------------------


@dataclass(frozen=True)
class Returns:
    """The typed result of an operation: ``shape`` says how it is delivered.

    ``model``: the model itself; ``list``: a ``ResultList`` of models; ``pages``: a lazy pager
    (``SyncPager`` / ``AsyncPager``) of models; ``training``: a poller whose ``wait()`` gives a
    ``TrainingResult``; ``none``: ``None`` (no body); ``bytes``: raw bytes.
    """

    shape: Literal["model", "list", "pages", "training", "none", "bytes"]
    model: type | None = None


def _model(model: type) -> Returns:
    return Returns("model", model)


def _list(model: type) -> Returns:
    return Returns("list", model)


def _pages(model: type) -> Returns:
    return Returns("pages", model)


NONE = Returns("none")
TRAINING = Returns("training", TrainingResult)


def _person_container_returns(
    kind: str, container: type, person: type, face: type
) -> dict[str, Returns]:
    p = f"PersonGroupOperations_{{}}{kind}{{}}"
    return {
        p.format("Create", ""): NONE,
        p.format("Get", ""): _model(container),
        p.format("Update", ""): NONE,
        p.format("Delete", ""): NONE,
        p.format("Get", "s"): _pages(container),
        p.format("Train", ""): TRAINING,
        p.format("Get", "TrainingStatus"): _model(TrainingResult),
        p.format("Create", "Person"): _model(CreatePersonResult),
        p.format("Get", "Person"): _model(person),
        p.format("Update", "Person"): NONE,
        p.format("Delete", "Person"): NONE,
        p.format("Get", "Persons"): _pages(person),
        p.format("Add", "PersonFace"): _model(AddFaceResult),
        p.format("Add", "PersonFaceFromUrl"): _model(AddFaceResult),
        p.format("Get", "PersonFace"): _model(face),
        p.format("Update", "PersonFace"): NONE,
        p.format("Delete", "PersonFace"): NONE,
    }


_DETECTED = _list(FaceDetectionResult)
_IDENTIFIED = _list(IdentificationResult)
_SIMILAR = _list(FindSimilarResult)
_VERIFIED = _model(VerificationResult)

RETURNS: dict[str, Returns] = {
    "FaceDetectionOperations_Detect": _DETECTED,
    "FaceDetectionOperations_DetectFromUrl": _DETECTED,
    "FaceDetectionOperations_DetectFromSessionImageId": _DETECTED,
    "FaceRecognitionOperations_VerifyFaceToFace": _VERIFIED,
    "FaceRecognitionOperations_VerifyFromPersonGroup": _VERIFIED,
    "FaceRecognitionOperations_VerifyFromLargePersonGroup": _VERIFIED,
    "FaceRecognitionOperations_VerifyFromPersonDirectory": _VERIFIED,
    "FaceRecognitionOperations_IdentifyFromPersonGroup": _IDENTIFIED,
    "FaceRecognitionOperations_IdentifyFromLargePersonGroup": _IDENTIFIED,
    "FaceRecognitionOperations_IdentifyFromPersonDirectory": _IDENTIFIED,
    "FaceRecognitionOperations_IdentifyFromDynamicPersonGroup": _IDENTIFIED,
    "FaceRecognitionOperations_FindSimilar": _SIMILAR,
    "FaceRecognitionOperations_FindSimilarFromFaceList": _SIMILAR,
    "FaceRecognitionOperations_FindSimilarFromLargeFaceList": _SIMILAR,
    "FaceRecognitionOperations_Group": _model(GroupingResult),
    "FaceListOperations_CreateFaceList": NONE,
    "FaceListOperations_GetFaceList": _model(FaceList),
    "FaceListOperations_UpdateFaceList": NONE,
    "FaceListOperations_DeleteFaceList": NONE,
    "FaceListOperations_GetFaceLists": _list(FaceListItem),  # the service does not page it
    "FaceListOperations_AddFaceListFace": _model(AddFaceResult),
    "FaceListOperations_AddFaceListFaceFromUrl": _model(AddFaceResult),
    "FaceListOperations_DeleteFaceListFace": NONE,
    "FaceListOperations_CreateLargeFaceList": NONE,
    "FaceListOperations_GetLargeFaceList": _model(LargeFaceList),
    "FaceListOperations_UpdateLargeFaceList": NONE,
    "FaceListOperations_DeleteLargeFaceList": NONE,
    "FaceListOperations_GetLargeFaceLists": _pages(LargeFaceList),
    "FaceListOperations_TrainLargeFaceList": TRAINING,
    "FaceListOperations_GetLargeFaceListTrainingStatus": _model(TrainingResult),
    "FaceListOperations_AddLargeFaceListFace": _model(AddFaceResult),
    "FaceListOperations_AddLargeFaceListFaceFromUrl": _model(AddFaceResult),
    "FaceListOperations_GetLargeFaceListFaces": _pages(LargeFaceListFace),
    "FaceListOperations_GetLargeFaceListFace": _model(LargeFaceListFace),
    "FaceListOperations_UpdateLargeFaceListFace": NONE,
    "FaceListOperations_DeleteLargeFaceListFace": NONE,
    **_person_container_returns(
        "PersonGroup", PersonGroup, PersonGroupPerson, PersonGroupPersonFace
    ),
    **_person_container_returns(
        "LargePersonGroup", LargePersonGroup, LargePersonGroupPerson, LargePersonGroupPersonFace
    ),
    "LivenessSessionOperations_CreateLivenessSession": _model(LivenessSession),
    "LivenessSessionOperations_GetLivenessSessionResult": _model(LivenessSession),
    "LivenessSessionOperations_DeleteLivenessSession": NONE,
    "LivenessSessionOperations_CreateLivenessWithVerifySession": _model(LivenessWithVerifySession),
    "LivenessSessionOperations_GetLivenessWithVerifySessionResult": _model(
        LivenessWithVerifySession
    ),
    "LivenessSessionOperations_DeleteLivenessWithVerifySession": NONE,
    "LivenessSessionOperations_GetSessionImage": Returns("bytes"),
    "TextBlocklists_CreateOrUpdateTextBlocklist": _model(TextBlocklist),
    "TextBlocklists_GetTextBlocklist": _model(TextBlocklist),
    "TextBlocklists_DeleteTextBlocklist": NONE,
    "TextBlocklists_ListTextBlocklists": _pages(TextBlocklist),
    "TextBlocklists_AddOrUpdateBlocklistItems": _model(AddOrUpdateTextBlocklistItemsResult),
    "TextBlocklists_RemoveBlocklistItems": NONE,
    "TextBlocklists_ListTextBlocklistItems": _pages(TextBlocklistItem),
    "TextBlocklists_GetTextBlocklistItem": _model(TextBlocklistItem),
    "TextOperations_AnalyzeText": _model(AnalyzeTextResult),
}

UNREACHABLE: dict[str, tuple[type[Exception], int, str]] = {
    "FaceRecognitionOperations_VerifyFromPersonDirectory": (NotFoundError, 404, "PersonNotFound"),
    "FaceRecognitionOperations_IdentifyFromPersonDirectory": (
        NotFoundError,
        404,
        "PersonNotFound",
    ),
    "FaceRecognitionOperations_IdentifyFromDynamicPersonGroup": (
        BadRequestError,
        400,
        "DynamicPersonGroupNotFound",
    ),
}
"""Targets v1.2 GA cannot create (Person Directory persons, dynamic person groups): the
emulator answers the error ``_face_routes`` documents, which the client raises typed."""


# -- recording what the emulator answered ----------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One request the emulator answered: the operation (``None`` for a control route)."""

    operation: str | None
    status: int
    method: str
    path: str


_SESSION_IMAGE = "LivenessSessionOperations_GetSessionImage"  # bytes, no schema to check


class Recorder:
    """Wraps ``emulator.handle``, so that it sees every request, in process or from the
    loopback server, with the operation that answered it (after the middleware)."""

    def __init__(self, emulator: Emulator) -> None:
        self.answers: list[Answer] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._handle = emulator.handle
        emulator.handle = self  # type: ignore[method-assign]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self._handle(request)
        operation = Emulator.operation_of(response)
        checked = (
            request.url.path.startswith(("/face/", "/contentsafety/"))
            and operation != _SESSION_IMAGE
        )
        problems = contract_problems(response) if checked else []
        with self._lock:
            self.answers.append(
                Answer(operation, response.status_code, request.method, request.url.path)
            )
            self.problems += problems
        return response

    def operations(self) -> set[str | None]:
        with self._lock:
            return {answer.operation for answer in self.answers}

    def failed(self) -> set[str | None]:
        with self._lock:
            return {answer.operation for answer in self.answers if answer.status >= 400}

    def since(self, start: int) -> list[Answer]:
        with self._lock:
            return self.answers[start:]

    def __len__(self) -> int:
        with self._lock:
            return len(self.answers)


def _ordered_ids() -> Callable[[], str]:
    """UUID-shaped ids in the order made, each starting with ``e`` (after the table's
    ``start="a"``), so that the paged calls list what the scenario made."""
    counter = itertools.count(1)
    return lambda: f"e{next(counter):07x}-0000-4000-8000-000000000000"


def _scope(operation_id: str) -> str | None:
    """Which of the scenario's objects a row's sample ids stand for."""
    for marker in ("PersonDirectory", "DynamicPersonGroup"):
        if marker in operation_id:
            return None  # nothing can be created there: the sample ids stay
    for marker in ("LargePersonGroup", "PersonGroup", "LargeFaceList", "FaceList"):
        if marker in operation_id:
            return marker
    return "LivenessWithVerify" if "LivenessWithVerify" in operation_id else None


async def settle(raw: Any) -> tuple[Any, Any]:
    """(what the method returned, awaited; the value it delivers: pages drained, training
    waited for)."""
    value = await raw if inspect.isawaitable(raw) else raw
    if isinstance(value, SyncPager):
        return value, list(value)
    if isinstance(value, AsyncPager):
        return value, [item async for item in value]
    if isinstance(value, TrainingPoller):
        return value, value.wait()
    if isinstance(value, AsyncTrainingPoller):
        return value, await value.wait()
    return value, value


# -- one run of the scenario ---------------------------------------------------------------------


class Run:
    """The clients of one flavour, the emulator and what the scenario has made so far."""

    def __init__(
        self,
        flavour: Flavour,
        emulator: Emulator,
        recorder: Recorder,
        face: FaceClient | AsyncFaceClient,
        safety: ContentSafetyClient | AsyncContentSafetyClient,
    ) -> None:
        self.flavour = flavour
        self.emulator = emulator
        self.recorder = recorder
        self.face = face
        self.safety = safety
        self.called: list[str] = []
        self._made: dict[tuple[str | None, object], object] = {}
        self._photos = itertools.count(1)
        self._persons: list[tuple[str, str, str | None]] = []
        # The token's aud must name the resource: a loopback server's free port is not among
        # the kit's endpoints.
        self._endpoints = [*ENDPOINTS, face._transport.config.endpoint]
        self.bind(TOKEN, token(endpoints=self._endpoints))

    # -- sample ids -> what the scenario made --------------------------------------------------

    def bind(self, sample: str, value: object, scope: str | None = None) -> None:
        self._made[(scope, sample)] = value

    def enrolled(self, kind: str, container_id: str, person_id: str) -> None:
        """A person exists: from now on consent is a standing token that also binds it."""
        self._persons.append((kind, container_id, person_id))
        self.bind(TOKEN, token(bindings=[*BINDINGS, *self._persons], endpoints=self._endpoints))

    def photo(self) -> bytes:
        """A new photo of alice (``ScriptedEngine`` reads the face from the bytes)."""
        return photo(f"alice#{next(self._photos)}")

    def real(self, value: Any, scope: str | None) -> Any:
        """A row's sample argument with its sample ids swapped for the scenario's objects."""
        if isinstance(value, bytes) and value == JPEG:
            return self.photo()
        if isinstance(value, list):
            return [self.real(item, scope) for item in value]
        if isinstance(value, str):
            for key in ((scope, value), (None, value)):
                if key in self._made:
                    return self._made[key]
        return value

    # -- calls ---------------------------------------------------------------------------------

    def _method(
        self, operation_id: str
    ) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
        row = ROWS[operation_id]
        client = self.face if row.client == "face" else self.safety
        owner = client if row.group is None else getattr(client, row.group)
        scope = _scope(operation_id)
        args = tuple(self.real(a, scope) for a in row.args)
        kwargs = {name: self.real(v, scope) for name, v in row.kwargs.items()}
        return getattr(owner, row.method), args, kwargs

    async def call(self, operation_id: str, *args: Any, **overrides: Any) -> Any:
        """Call the operation with its row's arguments (``args`` replace the positional
        ones, ``overrides`` single keywords); check the emulator answered it, with success,
        and that the result is the operation's typed model. Returns the delivered value."""
        method, row_args, kwargs = self._method(operation_id)
        expected = RETURNS[operation_id]
        start = len(self.recorder)
        returned = method(*(args or row_args), **{**kwargs, **overrides})
        # Async methods are coroutines, except the pagers (iterated with ``async for``).
        assert inspect.isawaitable(returned) is (
            self.flavour == "async" and expected.shape != "pages"
        ), operation_id
        raw, value = await settle(returned)
        self.called.append(operation_id)
        answered = self.recorder.since(start)
        assert answered, f"{operation_id}: no request reached the emulator"
        assert answered[0].operation == operation_id, (operation_id, answered[0])
        # Later requests of the same call: further pages, or the training's status polls.
        polls = operation_id.replace("_Train", "_Get") + "TrainingStatus"
        allowed = {operation_id, polls} if expected is TRAINING else {operation_id}
        assert {a.operation for a in answered} <= allowed, (operation_id, answered)
        assert all(a.status < 400 for a in answered), (operation_id, answered)
        self._check_type(operation_id, raw, value)
        return value

    async def fails(self, operation_id: str) -> Exception:
        """Call an operation whose target cannot exist; it must raise its typed error."""
        error_type, status, code = UNREACHABLE[operation_id]
        method, args, kwargs = self._method(operation_id)
        start = len(self.recorder)
        with pytest.raises(error_type) as raised:
            await settle(method(*args, **kwargs))
        self.called.append(operation_id)
        assert [(a.operation, a.status) for a in self.recorder.since(start)] == [
            (operation_id, status)
        ]
        error: Any = raised.value
        assert (error.status_code, error.error_code) == (status, code)
        return raised.value

    def _check_type(self, operation_id: str, raw: Any, value: Any) -> None:
        expected = RETURNS[operation_id]
        asynchronous = self.flavour == "async"
        where = f"{operation_id} ({self.flavour})"
        if expected.shape == "none":
            assert value is None, where
        elif expected.shape == "bytes":
            assert isinstance(value, bytes), where
        elif expected.shape == "model":
            assert type(value) is expected.model, (where, type(value))
        elif expected.shape == "list":
            assert isinstance(value, ResultList), (where, type(value))
            assert all(type(item) is expected.model for item in value), where
        elif expected.shape == "pages":
            assert isinstance(raw, AsyncPager if asynchronous else SyncPager), where
            assert all(type(item) is expected.model for item in value), where
        else:
            assert isinstance(raw, AsyncTrainingPoller if asynchronous else TrainingPoller), where
            assert type(value) is TrainingResult, where
            assert value.status == "succeeded", where


# -- the scenario over every operation -----------------------------------------------------------


async def detection_and_liveness(run: Run) -> None:
    """faceIds from detections (FACE_ID, FACE_ID_2: two photos of alice), the liveness
    sessions, and detection from the session image an attempt left."""
    (first,) = await run.call("FaceDetectionOperations_Detect")
    (second,) = await run.call("FaceDetectionOperations_DetectFromUrl")
    for sample, face in ((FACE_ID, first), (FACE_ID_2, second)):
        assert face.face_id is not None and face.recognition_model == "recognition_04"
        assert face.face_attributes is not None and face.face_attributes.mask is not None
        run.bind(sample, str(face.face_id))

    session = await run.call("LivenessSessionOperations_CreateLivenessSession")
    assert session.status == "NotStarted"
    run.bind(SESSION_ID, session.session_id)
    frame = run.photo()
    run.emulator.liveness.script_attempt(session.session_id, decision="realface", image=frame)
    result = await run.call("LivenessSessionOperations_GetLivenessSessionResult")
    (attempt,) = result.results.attempts
    assert (result.status, attempt.result.liveness_decision) == ("Succeeded", "realface")
    assert attempt.result.session_image_id is not None
    run.bind(SESSION_IMAGE_ID, attempt.result.session_image_id)
    assert await run.call("LivenessSessionOperations_GetSessionImage") == frame
    (from_session,) = await run.call("FaceDetectionOperations_DetectFromSessionImageId")
    assert from_session.face_id is not None

    verify = await run.call("LivenessSessionOperations_CreateLivenessWithVerifySession")
    assert len(verify.results.verify_references) == 1
    run.bind(SESSION_ID, verify.session_id, "LivenessWithVerify")
    run.emulator.liveness.script_attempt(verify.session_id, decision="realface", image=run.photo())
    checked = await run.call("LivenessSessionOperations_GetLivenessWithVerifySessionResult")
    outcome = checked.results.attempts[0].result
    assert outcome.verify_result is not None and outcome.verify_result.is_identical is True
    assert outcome.verify_image_hash is not None  # return_verify_image_hash=True
    assert await run.call("LivenessSessionOperations_DeleteLivenessWithVerifySession") is None
    assert await run.call("LivenessSessionOperations_DeleteLivenessSession") is None


async def face_to_face(run: Run) -> None:
    verified = await run.call("FaceRecognitionOperations_VerifyFaceToFace")
    assert verified.is_identical is True
    (similar,) = await run.call("FaceRecognitionOperations_FindSimilar")
    assert similar.face_id == run.real(FACE_ID_2, None)
    grouped = await run.call("FaceRecognitionOperations_Group")
    assert sorted(grouped.groups[0]) == sorted(run.real([FACE_ID, FACE_ID_2], None))
    for operation_id in UNREACHABLE:
        await run.fails(operation_id)


async def face_lists(run: Run) -> None:
    f = "FaceListOperations_{}FaceList{}"
    await run.call(f.format("Create", ""))
    listed = await run.call(f.format("Get", "s"))
    assert [item.face_list_id for item in listed] == [FACE_LIST_ID]
    await run.call(f.format("Update", ""))
    added = await run.call(f.format("Add", "Face"))
    run.bind(PERSISTED_FACE_ID, added.persisted_face_id, "FaceList")
    await run.call(f.format("Add", "FaceFromUrl"))
    face_list = await run.call(f.format("Get", ""))
    assert (face_list.name, face_list.recognition_model) == ("Renamed", "recognition_04")
    assert len(face_list.persisted_faces or []) == 2
    similar = await run.call("FaceRecognitionOperations_FindSimilarFromFaceList")
    assert added.persisted_face_id in {s.persisted_face_id for s in similar}
    await run.call(f.format("Delete", "Face"))
    await run.call(f.format("Delete", ""))

    large = "FaceListOperations_{}LargeFaceList{}"
    await run.call(large.format("Create", ""))
    listed = await run.call(large.format("Get", "s"))
    assert [item.large_face_list_id for item in listed] == [LARGE_FACE_LIST_ID]
    await run.call(large.format("Update", ""))
    assert (await run.call(large.format("Get", ""))).user_data == "new user data"
    added = await run.call(large.format("Add", "Face"))
    run.bind(PERSISTED_FACE_ID, added.persisted_face_id, "LargeFaceList")
    await run.call(large.format("Add", "FaceFromUrl"))
    assert len(await run.call(large.format("Get", "Faces"))) == 2
    await run.call(large.format("Update", "Face"))
    assert (await run.call(large.format("Get", "Face"))).user_data == "face user data"
    await run.call(large.format("Train", ""))
    assert (await run.call(large.format("Get", "TrainingStatus"))).status == "succeeded"
    similar = await run.call("FaceRecognitionOperations_FindSimilarFromLargeFaceList")
    assert added.persisted_face_id in {s.persisted_face_id for s in similar}
    await run.call(large.format("Delete", "Face"))
    await run.call(large.format("Delete", ""))


async def person_containers(run: Run) -> None:
    for kind, container_id, scope in (
        ("personGroup", PERSON_GROUP_ID, "PersonGroup"),
        ("largePersonGroup", LARGE_PERSON_GROUP_ID, "LargePersonGroup"),
    ):
        p = f"PersonGroupOperations_{{}}{scope}{{}}"
        await run.call(p.format("Create", ""))
        assert len(await run.call(p.format("Get", "s"))) == 1
        await run.call(p.format("Update", ""))
        assert (await run.call(p.format("Get", ""))).name == "Renamed"
        created = await run.call(p.format("Create", "Person"))
        run.bind(PERSON_ID, created.person_id, scope)
        run.enrolled(kind, container_id, created.person_id)
        persons = await run.call(p.format("Get", "Persons"))
        assert [person.person_id for person in persons] == [created.person_id]
        await run.call(p.format("Update", "Person"))
        assert (await run.call(p.format("Get", "Person"))).name == "Renamed"
        added = await run.call(p.format("Add", "PersonFace"))
        run.bind(PERSISTED_FACE_ID, added.persisted_face_id, scope)
        await run.call(p.format("Add", "PersonFaceFromUrl"))
        await run.call(p.format("Update", "PersonFace"))
        assert (await run.call(p.format("Get", "PersonFace"))).user_data == "face user data"
        await run.call(p.format("Train", ""))
        assert (await run.call(p.format("Get", "TrainingStatus"))).status == "succeeded"
        identified = await run.call(f"FaceRecognitionOperations_IdentifyFrom{scope}")
        assert [[c.person_id for c in r.candidates] for r in identified] == [
            [created.person_id],
            [created.person_id],
        ]
        verified = await run.call(f"FaceRecognitionOperations_VerifyFrom{scope}")
        assert verified.is_identical is True
        await run.call(p.format("Delete", "PersonFace"))
        await run.call(p.format("Delete", "Person"))
        await run.call(p.format("Delete", ""))


async def content_safety(run: Run) -> None:
    created = await run.call("TextBlocklists_CreateOrUpdateTextBlocklist")
    assert created.support_info()["status_code"] == 201
    assert (await run.call("TextBlocklists_GetTextBlocklist")).description == created.description
    listed = await run.call("TextBlocklists_ListTextBlocklists")
    assert [b.blocklist_name for b in listed] == [BLOCKLIST_NAME]
    added = await run.call("TextBlocklists_AddOrUpdateBlocklistItems")
    exact, regex = added.blocklist_items
    assert (exact.text, regex.is_regex) == ("exact phrase", True)
    run.bind(BLOCKLIST_ITEM_ID, exact.blocklist_item_id)
    # Seven more, so that the row's page (skip=5, top=20, max_page_size=10) is not empty.
    more = [f"term{i}" for i in range(7)]
    await run.call("TextBlocklists_AddOrUpdateBlocklistItems", BLOCKLIST_NAME, more)
    window = await run.call("TextBlocklists_ListTextBlocklistItems")
    assert [item.text for item in window] == more[3:]
    assert (await run.call("TextBlocklists_GetTextBlocklistItem")).text == "exact phrase"
    run.emulator.content_safety.script_severity("Hate", 3)
    run.emulator.content_safety.script_severity("Violence", 5)
    analysed = await run.call("TextOperations_AnalyzeText")
    assert [(c.category, c.severity) for c in analysed.categories_analysis] == [
        ("Hate", 3),
        ("Violence", 5),
    ]
    hit = await run.call("TextOperations_AnalyzeText", "what a b@d  word")
    assert [m.blocklist_item_id for m in hit.blocklists_match or []] == [regex.blocklist_item_id]
    assert hit.categories_analysis == []  # halt_on_blocklist_hit=True
    await run.call("TextBlocklists_RemoveBlocklistItems")
    kept = await run.call("TextBlocklists_ListTextBlocklistItems", skip=0)
    assert [item.text for item in kept] == [regex.text, *more]
    await run.call("TextBlocklists_DeleteTextBlocklist")


async def every_operation(run: Run) -> None:
    await detection_and_liveness(run)
    await face_to_face(run)
    await face_lists(run)
    await person_containers(run)
    await content_safety(run)


# -- the emulator and the clients ----------------------------------------------------------------


@dataclass
class World:
    clock: ManualClock
    emulator: Emulator
    recorder: Recorder


def make_world() -> World:
    # Starts now: the guard checks the kit's consent token (minted at import) on this clock.
    clock = ManualClock(start=time.time())
    images = {IMAGE_URL: photo("alice#url")}

    def fetch(url: str) -> bytes:
        if url not in images:
            raise FaceApiError(400, "InvalidURL", "Invalid image URL.")
        return images[url]

    emulator = Emulator(engine=ScriptedEngine(), clock=clock, ids=_ordered_ids(), fetch_url=fetch)
    # The table's detections ask for the mask, which the engine cannot measure.
    emulator.script_attribute("mask", {"noseAndMouthCovered": False, "type": "noMask"})
    return World(clock, emulator, Recorder(emulator))


@pytest.fixture
def world() -> World:
    return make_world()


def scenario(
    flavour: Flavour,
    world: World,
    body: Callable[[Run], Any],
    *,
    url: str = ENDPOINT,
    in_process: bool = True,
) -> Run:
    """Run ``body`` with the clients of one flavour, on ``world``'s emulator in process or,
    with ``in_process=False``, at ``url`` over HTTP.

    The scenario is written once, as a coroutine: ``Run.call`` awaits what an async method
    returns and takes a sync method's result as it is, so the sync clients run the very
    same steps (inside ``asyncio.run``, where their blocking calls are fine).
    """
    guard = policy(clock=world.clock)
    options: dict[str, Any] = {"api_key": "contract-key", "retry": RetryPolicy(max_attempts=1)}
    if in_process:
        options["transport"] = world.emulator.transport()

    async def main() -> Run:
        if flavour == "sync":
            with (
                FaceClient(url, guard=guard, sleep=world.clock.advance, **options) as face,
                ContentSafetyClient(url, **options) as safety,
            ):
                run = Run(flavour, world.emulator, world.recorder, face, safety)
                await body(run)
                return run
        async with (
            AsyncFaceClient(url, guard=guard, sleep=world.clock.async_advance, **options) as aface,
            AsyncContentSafetyClient(url, **options) as asafety,
        ):
            run = Run(flavour, world.emulator, world.recorder, aface, asafety)
            await body(run)
            return run

    return asyncio.run(main())


# -- in process: all 86 -------------------------------------------------------------------------


def test_every_row_has_a_typed_result() -> None:
    """``RETURNS`` names the result of exactly the table's operations: 77 Face (liveness
    included) and 9 Content Safety."""
    assert set(RETURNS) == set(ROWS)
    assert len(ROWS) == len(OPERATIONS) == 86
    assert sum(row.client == "face" for row in OPERATIONS) == 77
    assert set(UNREACHABLE) <= set(ROWS)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_every_operation_against_the_emulator_in_process(flavour: Flavour, world: World) -> None:
    run = scenario(flavour, world, every_operation)

    assert set(run.called) == set(ROWS)  # each row's method was called
    assert world.recorder.operations() == set(ROWS)  # ... and the emulator answered each one
    assert world.recorder.failed() == set(UNREACHABLE)
    assert world.recorder.problems == []
    assert all(
        a.path.startswith(("/face/v1.2/", "/contentsafety/")) for a in world.recorder.answers
    )


# -- over real loopback HTTP ---------------------------------------------------------------------

HTTP_OPERATIONS = {
    "FaceDetectionOperations_Detect",
    "PersonGroupOperations_CreateLargePersonGroup",
    "PersonGroupOperations_CreateLargePersonGroupPerson",
    "PersonGroupOperations_AddLargePersonGroupPersonFace",
    "PersonGroupOperations_TrainLargePersonGroup",
    "PersonGroupOperations_GetLargePersonGroupTrainingStatus",
    "FaceRecognitionOperations_IdentifyFromLargePersonGroup",
    "LivenessSessionOperations_CreateLivenessSession",
    "LivenessSessionOperations_GetLivenessSessionResult",
    "LivenessSessionOperations_DeleteLivenessSession",
    "TextBlocklists_CreateOrUpdateTextBlocklist",
    "TextBlocklists_AddOrUpdateBlocklistItems",
    "TextOperations_AnalyzeText",
}


def _over_http(server: EmulatorServer) -> Callable[[Run], Any]:
    async def body(run: Run) -> None:
        (probe,) = await run.call("FaceDetectionOperations_Detect")
        run.bind(FACE_ID, str(probe.face_id))
        (other,) = await run.call("FaceDetectionOperations_Detect")
        run.bind(FACE_ID_2, str(other.face_id))

        p = "PersonGroupOperations_{}LargePersonGroup{}"
        await run.call(p.format("Create", ""))
        created = await run.call(p.format("Create", "Person"))
        run.bind(PERSON_ID, created.person_id, "LargePersonGroup")
        run.enrolled("largePersonGroup", LARGE_PERSON_GROUP_ID, created.person_id)
        await run.call(p.format("Add", "PersonFace"))
        await run.call(p.format("Train", ""))
        assert (await run.call(p.format("Get", "TrainingStatus"))).status == "succeeded"
        identified = await run.call("FaceRecognitionOperations_IdentifyFromLargePersonGroup")
        assert [[c.person_id for c in r.candidates] for r in identified] == [
            [created.person_id],
            [created.person_id],
        ]
        assert identified.support_info()["request_id"]  # apim-request-id crossed the wire

        session = await run.call("LivenessSessionOperations_CreateLivenessSession")
        run.bind(SESSION_ID, session.session_id)
        async with httpx.AsyncClient(base_url=server.url) as control:
            scripted = await control.post(
                f"/_emulator/liveness/sessions/{session.session_id}/attempts",
                json={
                    "decision": "spoofface",
                    "faceRectangle": {"left": 1, "top": 2, "width": 30, "height": 40},
                },
            )
            severities = await control.post(
                "/_emulator/content-safety/severities", json={"Hate": 2, "Violence": 6}
            )
        assert (scripted.status_code, severities.status_code) == (200, 204)
        result = await run.call("LivenessSessionOperations_GetLivenessSessionResult")
        assert [a.result.liveness_decision for a in result.results.attempts] == ["spoofface"]
        await run.call("LivenessSessionOperations_DeleteLivenessSession")

        await run.call("TextBlocklists_CreateOrUpdateTextBlocklist")
        await run.call("TextBlocklists_AddOrUpdateBlocklistItems")
        analysed = await run.call("TextOperations_AnalyzeText")
        assert [(c.category, c.severity) for c in analysed.categories_analysis] == [
            ("Hate", 2),
            ("Violence", 6),
        ]
        hit = await run.call("TextOperations_AnalyzeText", "an EXACT PHRASE here")
        assert [m.blocklist_item_text for m in hit.blocklists_match or []] == ["exact phrase"]

    return body


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_smaller_set_over_real_loopback_http(flavour: Flavour, world: World) -> None:
    with running(world.emulator) as server:
        assert server.url.startswith("http://127.0.0.1:")
        run = scenario(flavour, world, _over_http(server), url=server.url, in_process=False)

    assert set(run.called) == HTTP_OPERATIONS
    assert world.recorder.operations() - {None} == HTTP_OPERATIONS  # None: the control routes
    assert world.recorder.failed() == set()
    assert world.recorder.problems == []
    control = [a.path for a in world.recorder.answers if a.operation is None]
    assert len(control) == 2 and all(path.startswith("/_emulator/") for path in control)
