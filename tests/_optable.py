"""The operation table: every in-scope REST operation and the client call that performs it.

This is the single source of truth for ``tests/test_spec_conformance.py`` and
``scripts/gen_api_md.py`` (which writes ``docs/api.md``). One row per ``operationId`` of the two
contracts in ``tests/data/spec``: all of Face v1.2, and from Content Safety 2024-09-01 the eight
``TextBlocklists_*`` operations plus ``TextOperations_AnalyzeText``. Where one method serves
several operations (``detect`` with bytes or a URL, ``add_face`` likewise), each operation has
its own row whose sample arguments select it.

Sample arguments pass every optional parameter the method offers, so each query parameter and
body property the client can send is checked against the contract. Path parameters always take
their value from ``PATH_VALUES`` (keyed by the contract's parameter name), so the test can
substitute the contract's route template on its own and compare.

Every call that needs consent (detect with faceIds, recognition, enrollment, liveness with
verify) passes ``consent=TOKEN``, the standing token of ``tests/_guard_kit.py``, which binds the
sample containers and person below; the clients are built with the kit's ``policy()``. The
token is for the guard only and never goes on the wire. (``override=``, the audited escape
from a soft guard rule, is not passed: no sample call needs one.)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from _guard_kit import TOKEN
from _samples import (
    BLOCKLIST_ITEM_ID,
    BLOCKLIST_NAME,
    DYNAMIC_PERSON_GROUP_ID,
    FACE_ID,
    FACE_ID_2,
    FACE_LIST_ID,
    LARGE_FACE_LIST_ID,
    LARGE_PERSON_GROUP_ID,
    PERSISTED_FACE_ID,
    PERSON_GROUP_ID,
    PERSON_ID,
    SESSION_ID,
    SESSION_IMAGE_ID,
)
from faceguard import ContentSafetyClient, FaceClient
from faceguard._transport._spec import PageSpec, RequestSpec, TrainSpec
from faceguard.models import TextBlocklistItemInput

__all__ = [
    "BLOCKLIST_ITEM_ID",
    "BLOCKLIST_NAME",
    "DYNAMIC_PERSON_GROUP_ID",
    "FACE_ID",
    "FACE_ID_2",
    "FACE_LIST_ID",
    "IMAGE_URL",
    "JPEG",
    "LARGE_FACE_LIST_ID",
    "LARGE_PERSON_GROUP_ID",
    "OPERATIONS",
    "PATH_VALUES",
    "PERSISTED_FACE_ID",
    "PERSON_GROUP_ID",
    "PERSON_ID",
    "SESSION_ID",
    "SESSION_IMAGE_ID",
    "Operation",
    "builder_of",
    "by_operation_id",
    "first_request",
]

Client = Literal["face", "contentsafety"]


def _jpeg(size: int = 2048) -> bytes:
    """A JPEG-looking payload: SOI + JFIF APP0 marker, zero padding, EOI (>= 1 KB)."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    tail = b"\xff\xd9"
    return head + bytes(size - len(head) - len(tail)) + tail


JPEG = _jpeg()
IMAGE_URL = "https://images.example.com/people/face.jpg"

PATH_VALUES: Mapping[str, str] = {
    "personGroupId": PERSON_GROUP_ID,
    "largePersonGroupId": LARGE_PERSON_GROUP_ID,
    "faceListId": FACE_LIST_ID,
    "largeFaceListId": LARGE_FACE_LIST_ID,
    "personId": PERSON_ID,
    "persistedFaceId": PERSISTED_FACE_ID,
    "sessionId": SESSION_ID,
    "sessionImageId": SESSION_IMAGE_ID,
    "blocklistName": BLOCKLIST_NAME,
    "blocklistItemId": BLOCKLIST_ITEM_ID,
}
"""The value of every path parameter of the contracts, by the contract's name for it."""


@dataclass(frozen=True)
class Operation:
    """One REST operation and the client call that performs it."""

    operation_id: str
    client: Client
    group: str | None
    """Attribute of the client holding the method, or ``None`` for a client-level method."""
    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def call(self) -> str:
        """``client.person_groups.create``: how the method is reached from a client."""
        owner = "client" if self.group is None else f"client.{self.group}"
        return f"{owner}.{self.method}"


# -- shared sample arguments ---------------------------------------------------------------

_DETECT = {
    "detection_model": "detection_03",
    "recognition_model": "recognition_04",
    "return_face_id": True,
    "return_face_attributes": ["headPose", "blur", "mask", "qualityForRecognition"],
    "return_face_landmarks": True,
    "return_recognition_model": True,
    "face_id_time_to_live": 120,
    "consent": TOKEN,
}
_ADD_FACE = {
    "target_face": [10, 20, 120, 140],
    "detection_model": "detection_03",
    "user_data": "enrolled at the front desk",
    "consent": TOKEN,
}
_CREATE = {"name": "Sample", "user_data": "sample user data", "recognition_model": "recognition_04"}
_UPDATE = {"name": "Renamed", "user_data": "new user data"}
_PERSON = {"name": "Ada", "user_data": "employee 42"}
_FACE_DATA = {"user_data": "face user data"}
_IDENTIFY = {"max_num_of_candidates_returned": 5, "confidence_threshold": 0.7, "consent": TOKEN}
_SIMILAR = {"max_num_of_candidates_returned": 10, "mode": "matchFace", "consent": TOKEN}
_PAGE = {"start": "a", "top": 50}
_SESSION = {
    "liveness_operation_mode": "PassiveActive",
    "device_correlation_id": "0ab6bb5b-b5b3-4e4b-9f3c-5ad24b8e0c6f",
    "enable_session_image": True,
    "liveness_model_version": "2024-11-15",
    "auth_token_time_to_live_in_seconds": 300,
}


def _face(operation_id: str, group: str, method: str, *args: Any, **kwargs: Any) -> Operation:
    return Operation(operation_id, "face", group, method, args, kwargs)


def _cs(operation_id: str, group: str | None, method: str, *args: Any, **kwargs: Any) -> Operation:
    return Operation(operation_id, "contentsafety", group, method, args, kwargs)


def _person_containers(kind: str, group: str, container_id: str) -> list[Operation]:
    """The 17 operations of ``PersonGroup`` / ``LargePersonGroup``."""
    p = f"PersonGroupOperations_{{}}{kind}{{}}"

    def op(verb: str, suffix: str, method: str, *args: Any, **kwargs: Any) -> Operation:
        return _face(p.format(verb, suffix), group, method, *args, **kwargs)

    c = container_id
    return [
        op("Create", "", "create", c, **_CREATE),
        op("Get", "", "get", c, return_recognition_model=True),
        op("Update", "", "update", c, **_UPDATE),
        op("Delete", "", "delete", c),
        op("Get", "s", "list", **_PAGE, return_recognition_model=True),
        op("Train", "", "train", c),
        op("Get", "TrainingStatus", "get_training_status", c),
        op("Create", "Person", "create_person", c, **_PERSON),
        op("Get", "Person", "get_person", c, PERSON_ID),
        op("Update", "Person", "update_person", c, PERSON_ID, **_UPDATE),
        op("Delete", "Person", "delete_person", c, PERSON_ID),
        op("Get", "Persons", "list_persons", c, **_PAGE),
        op("Add", "PersonFace", "add_face", c, PERSON_ID, JPEG, **_ADD_FACE),
        op("Add", "PersonFaceFromUrl", "add_face", c, PERSON_ID, IMAGE_URL, **_ADD_FACE),
        op("Get", "PersonFace", "get_face", c, PERSON_ID, PERSISTED_FACE_ID),
        op("Update", "PersonFace", "update_face", c, PERSON_ID, PERSISTED_FACE_ID, **_FACE_DATA),
        op("Delete", "PersonFace", "delete_face", c, PERSON_ID, PERSISTED_FACE_ID),
    ]


_FL = "FaceListOperations_{}FaceList{}"
_LFL = "FaceListOperations_{}LargeFaceList{}"

OPERATIONS: tuple[Operation, ...] = (
    # -- detection ----------------------------------------------------------------------------
    _face("FaceDetectionOperations_Detect", "detection", "detect", JPEG, **_DETECT),
    _face("FaceDetectionOperations_DetectFromUrl", "detection", "detect", IMAGE_URL, **_DETECT),
    _face(
        "FaceDetectionOperations_DetectFromSessionImageId",
        "detection",
        "detect_from_session_image",
        SESSION_IMAGE_ID,
        **_DETECT,
    ),
    # -- recognition --------------------------------------------------------------------------
    _face(
        "FaceRecognitionOperations_VerifyFaceToFace",
        "recognition",
        "verify_face_to_face",
        FACE_ID,
        FACE_ID_2,
        consent=TOKEN,
    ),
    _face(
        "FaceRecognitionOperations_VerifyFromPersonGroup",
        "recognition",
        "verify_from_person_group",
        FACE_ID,
        person_group_id=PERSON_GROUP_ID,
        person_id=PERSON_ID,
        consent=TOKEN,
    ),
    _face(
        "FaceRecognitionOperations_VerifyFromLargePersonGroup",
        "recognition",
        "verify_from_large_person_group",
        FACE_ID,
        large_person_group_id=LARGE_PERSON_GROUP_ID,
        person_id=PERSON_ID,
        consent=TOKEN,
    ),
    _face(
        "FaceRecognitionOperations_VerifyFromPersonDirectory",
        "recognition",
        "verify_from_person_directory",
        FACE_ID,
        person_id=PERSON_ID,
        consent=TOKEN,
    ),
    _face(
        "FaceRecognitionOperations_IdentifyFromPersonGroup",
        "recognition",
        "identify_from_person_group",
        [FACE_ID, FACE_ID_2],
        person_group_id=PERSON_GROUP_ID,
        **_IDENTIFY,
    ),
    _face(
        "FaceRecognitionOperations_IdentifyFromLargePersonGroup",
        "recognition",
        "identify_from_large_person_group",
        [FACE_ID, FACE_ID_2],
        large_person_group_id=LARGE_PERSON_GROUP_ID,
        **_IDENTIFY,
    ),
    _face(
        "FaceRecognitionOperations_IdentifyFromPersonDirectory",
        "recognition",
        "identify_from_person_directory",
        [FACE_ID, FACE_ID_2],
        person_ids=[PERSON_ID],
        **_IDENTIFY,
    ),
    _face(
        "FaceRecognitionOperations_IdentifyFromDynamicPersonGroup",
        "recognition",
        "identify_from_dynamic_person_group",
        [FACE_ID, FACE_ID_2],
        dynamic_person_group_id=DYNAMIC_PERSON_GROUP_ID,
        **_IDENTIFY,
    ),
    _face(
        "FaceRecognitionOperations_FindSimilar",
        "recognition",
        "find_similar",
        FACE_ID,
        face_ids=[FACE_ID_2],
        **_SIMILAR,
    ),
    _face(
        "FaceRecognitionOperations_FindSimilarFromFaceList",
        "recognition",
        "find_similar_from_face_list",
        FACE_ID,
        face_list_id=FACE_LIST_ID,
        **_SIMILAR,
    ),
    _face(
        "FaceRecognitionOperations_FindSimilarFromLargeFaceList",
        "recognition",
        "find_similar_from_large_face_list",
        FACE_ID,
        large_face_list_id=LARGE_FACE_LIST_ID,
        **_SIMILAR,
    ),
    _face(
        "FaceRecognitionOperations_Group",
        "recognition",
        "group",
        [FACE_ID, FACE_ID_2],
        consent=TOKEN,
    ),
    # -- face lists ---------------------------------------------------------------------------
    _face(_FL.format("Create", ""), "face_lists", "create", FACE_LIST_ID, **_CREATE),
    _face(_FL.format("Get", ""), "face_lists", "get", FACE_LIST_ID, return_recognition_model=True),
    _face(_FL.format("Update", ""), "face_lists", "update", FACE_LIST_ID, **_UPDATE),
    _face(_FL.format("Delete", ""), "face_lists", "delete", FACE_LIST_ID),
    _face(_FL.format("Get", "s"), "face_lists", "list", return_recognition_model=True),
    _face(_FL.format("Add", "Face"), "face_lists", "add_face", FACE_LIST_ID, JPEG, **_ADD_FACE),
    _face(
        _FL.format("Add", "FaceFromUrl"),
        "face_lists",
        "add_face",
        FACE_LIST_ID,
        IMAGE_URL,
        **_ADD_FACE,
    ),
    _face(
        _FL.format("Delete", "Face"), "face_lists", "delete_face", FACE_LIST_ID, PERSISTED_FACE_ID
    ),
    # -- large face lists ---------------------------------------------------------------------
    _face(_LFL.format("Create", ""), "large_face_lists", "create", LARGE_FACE_LIST_ID, **_CREATE),
    _face(
        _LFL.format("Get", ""),
        "large_face_lists",
        "get",
        LARGE_FACE_LIST_ID,
        return_recognition_model=True,
    ),
    _face(_LFL.format("Update", ""), "large_face_lists", "update", LARGE_FACE_LIST_ID, **_UPDATE),
    _face(_LFL.format("Delete", ""), "large_face_lists", "delete", LARGE_FACE_LIST_ID),
    _face(
        _LFL.format("Get", "s"), "large_face_lists", "list", **_PAGE, return_recognition_model=True
    ),
    _face(_LFL.format("Train", ""), "large_face_lists", "train", LARGE_FACE_LIST_ID),
    _face(
        _LFL.format("Get", "TrainingStatus"),
        "large_face_lists",
        "get_training_status",
        LARGE_FACE_LIST_ID,
    ),
    _face(
        _LFL.format("Add", "Face"),
        "large_face_lists",
        "add_face",
        LARGE_FACE_LIST_ID,
        JPEG,
        **_ADD_FACE,
    ),
    _face(
        _LFL.format("Add", "FaceFromUrl"),
        "large_face_lists",
        "add_face",
        LARGE_FACE_LIST_ID,
        IMAGE_URL,
        **_ADD_FACE,
    ),
    _face(
        _LFL.format("Get", "Faces"), "large_face_lists", "list_faces", LARGE_FACE_LIST_ID, **_PAGE
    ),
    _face(
        _LFL.format("Get", "Face"),
        "large_face_lists",
        "get_face",
        LARGE_FACE_LIST_ID,
        PERSISTED_FACE_ID,
    ),
    _face(
        _LFL.format("Update", "Face"),
        "large_face_lists",
        "update_face",
        LARGE_FACE_LIST_ID,
        PERSISTED_FACE_ID,
        **_FACE_DATA,
    ),
    _face(
        _LFL.format("Delete", "Face"),
        "large_face_lists",
        "delete_face",
        LARGE_FACE_LIST_ID,
        PERSISTED_FACE_ID,
    ),
    # -- person groups and large person groups ------------------------------------------------
    *_person_containers("PersonGroup", "person_groups", PERSON_GROUP_ID),
    *_person_containers("LargePersonGroup", "large_person_groups", LARGE_PERSON_GROUP_ID),
    # -- liveness -----------------------------------------------------------------------------
    _face(
        "LivenessSessionOperations_CreateLivenessSession",
        "liveness",
        "create_session",
        **_SESSION,
    ),
    _face(
        "LivenessSessionOperations_GetLivenessSessionResult",
        "liveness",
        "get_session_result",
        SESSION_ID,
    ),
    _face(
        "LivenessSessionOperations_DeleteLivenessSession", "liveness", "delete_session", SESSION_ID
    ),
    _face(
        "LivenessSessionOperations_CreateLivenessWithVerifySession",
        "liveness",
        "create_with_verify_session",
        verify_image=JPEG,
        return_verify_image_hash=True,
        verify_confidence_threshold=0.4,
        consent=TOKEN,
        **_SESSION,
    ),
    _face(
        "LivenessSessionOperations_GetLivenessWithVerifySessionResult",
        "liveness",
        "get_with_verify_session_result",
        SESSION_ID,
    ),
    _face(
        "LivenessSessionOperations_DeleteLivenessWithVerifySession",
        "liveness",
        "delete_with_verify_session",
        SESSION_ID,
    ),
    _face(
        "LivenessSessionOperations_GetSessionImage",
        "liveness",
        "get_session_image",
        SESSION_IMAGE_ID,
    ),
    # -- content safety -----------------------------------------------------------------------
    _cs(
        "TextBlocklists_CreateOrUpdateTextBlocklist",
        "blocklists",
        "create_or_update",
        BLOCKLIST_NAME,
        description="words we never want to see",
    ),
    _cs("TextBlocklists_GetTextBlocklist", "blocklists", "get", BLOCKLIST_NAME),
    _cs("TextBlocklists_DeleteTextBlocklist", "blocklists", "delete", BLOCKLIST_NAME),
    _cs("TextBlocklists_ListTextBlocklists", "blocklists", "list"),
    _cs(
        "TextBlocklists_AddOrUpdateBlocklistItems",
        "blocklists",
        "add_or_update_items",
        BLOCKLIST_NAME,
        [
            "exact phrase",
            TextBlocklistItemInput(text=r"b[a@]d\s*word", description="a regex", is_regex=True),
        ],
    ),
    _cs(
        "TextBlocklists_RemoveBlocklistItems",
        "blocklists",
        "remove_items",
        BLOCKLIST_NAME,
        [BLOCKLIST_ITEM_ID],
    ),
    _cs(
        "TextBlocklists_ListTextBlocklistItems",
        "blocklists",
        "list_items",
        BLOCKLIST_NAME,
        top=20,
        skip=5,
        max_page_size=10,
    ),
    _cs(
        "TextBlocklists_GetTextBlocklistItem",
        "blocklists",
        "get_item",
        BLOCKLIST_NAME,
        BLOCKLIST_ITEM_ID,
    ),
    _cs(
        "TextOperations_AnalyzeText",
        None,
        "analyze_text",
        "some text to screen",
        categories=["Hate", "Violence"],
        blocklist_names=[BLOCKLIST_NAME],
        halt_on_blocklist_hit=True,
        output_type="EightSeverityLevels",
    ),
)
"""Every in-scope operation, one row per operationId."""


def by_operation_id() -> dict[str, Operation]:
    """The rows keyed by operationId (raises if an operationId appears twice)."""
    rows: dict[str, Operation] = {}
    for row in OPERATIONS:
        if row.operation_id in rows:
            raise ValueError(f"duplicate row for {row.operation_id}")
        rows[row.operation_id] = row
    return rows


def _no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"building a request must not send it: {request.method} {request.url}")


def builder_of(row: Operation) -> Callable[..., Any]:
    """The pure builder behind a row's method (read from the method's descriptor; no I/O)."""
    client_class = FaceClient if row.client == "face" else ContentSafetyClient
    with client_class(
        "https://example.invalid", api_key="unused", transport=httpx.MockTransport(_no_network)
    ) as client:
        owner = client if row.group is None else getattr(client, row.group)
    operation = inspect.getattr_static(type(owner), row.method)
    builder: Callable[..., Any] = operation._builder
    return builder


def first_request(row: Operation) -> RequestSpec[Any]:
    """The first request the row's call sends, as built by the operation's builder."""
    built = builder_of(row)(*row.args, **row.kwargs)
    if isinstance(built, PageSpec):
        return built.first
    if isinstance(built, TrainSpec):
        return built.start
    assert isinstance(built, RequestSpec), type(built)
    return built
