"""Recognition: verify, identify, find-similar and group.

Every operation here compares faceIds from ``detect(return_face_id=True)`` against each other
or against a trained container. All of them need consent, a declared use case and live,
same-model faceIds: the guard checks they declare. Each takes ``consent=``: a consent token
covering the operation (and the container or person it names).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from .._constants import (
    FIND_SIMILAR_CANDIDATES_MAX,
    FIND_SIMILAR_FACE_IDS_MAX,
    GROUP_FACE_IDS_MAX,
    GROUP_FACE_IDS_MIN,
    IDENTIFY_CANDIDATES_MAX,
    IDENTIFY_FACE_IDS_MAX,
    IDENTIFY_PERSON_IDS_MAX,
)
from .._guard._override import Override
from .._guard._tracking import check_override, check_source_id
from .._transport._spec import GuardCheck, GuardInfo, RawResponse, RequestSpec
from ..models.enums import FindSimilarMatchMode
from . import _parsers
from ._inputs import (
    check_choice,
    check_collection_id,
    check_count,
    check_float_range,
    check_int_range,
    check_uuid,
    check_uuid_list,
)

if TYPE_CHECKING:
    from ..models._results import ResultList
    from ..models.recognition import (
        FindSimilarResult,
        GroupingResult,
        IdentificationResult,
        VerificationResult,
    )

__all__ = [
    "find_similar",
    "find_similar_from_face_list",
    "find_similar_from_large_face_list",
    "group",
    "identify_from_dynamic_person_group",
    "identify_from_large_person_group",
    "identify_from_person_directory",
    "identify_from_person_group",
    "verify_face_to_face",
    "verify_from_large_person_group",
    "verify_from_person_directory",
    "verify_from_person_group",
]

T = TypeVar("T")

VERIFY_ROUTE = "/verify"
IDENTIFY_ROUTE = "/identify"
FIND_SIMILAR_ROUTE = "/findsimilars"
GROUP_ROUTE = "/group"

PERSON_DIRECTORY = "default"
"""The Person Directory is one per resource; consent tokens bind it by this id."""

_CHECKS = frozenset({GuardCheck.RECOGNITION, GuardCheck.FACE_ID_USE})
_VERIFY = _parsers.model("recognition.VerificationResult")
_IDENTIFY = _parsers.model_list("recognition.IdentificationResult")
_SIMILAR = _parsers.model_list("recognition.FindSimilarResult")


def _spec(
    operation: str,
    route: str,
    body: Mapping[str, object],
    parse: Callable[[RawResponse], T],
    guard: GuardInfo,
) -> RequestSpec[T]:
    return RequestSpec(
        operation=operation,
        method="POST",
        route=route,
        parse=parse,
        json=body,
        guard_checks=_CHECKS,
        guard=guard,
    )


def _guard(
    operation: str,
    consent: str | None,
    face_ids: Sequence[str],
    kind: str | None = None,
    container_id: str | None = None,
    person_id: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> GuardInfo:
    return GuardInfo(
        consent_operation=operation,
        consent=consent,
        face_ids=tuple(face_ids),
        container_kind=kind,
        container_id=container_id,
        person_id=person_id,
        source_id=check_source_id(source_id),
        override=check_override(override),
    )


# -- verify ------------------------------------------------------------------------------


def verify_face_to_face(
    face_id1: str, face_id2: str, *, consent: str | None = None
) -> RequestSpec[VerificationResult]:
    """Verify whether two faces belong to the same person.

    REST: ``POST /verify`` (``FaceRecognitionOperations_VerifyFaceToFace``).
    Guard checks: consent, declared use case, both faceIds live and of one recognition model.
    """
    body = {
        "faceId1": check_uuid("face_id1", face_id1),
        "faceId2": check_uuid("face_id2", face_id2),
    }
    return _spec(
        "FaceRecognitionOperations_VerifyFaceToFace",
        VERIFY_ROUTE,
        body,
        _VERIFY,
        _guard("verify", consent, [face_id1, face_id2]),
    )


def verify_from_person_group(
    face_id: str,
    *,
    person_group_id: str,
    person_id: str,
    consent: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> RequestSpec[VerificationResult]:
    """Verify whether a face belongs to a person of a person group.

    REST: ``POST /verify`` (``FaceRecognitionOperations_VerifyFromPersonGroup``).
    Guard checks: consent for the person, declared use case, live faceId of the group's model.
    R17: a verify against a person counts as an identification of that person from
    ``source_id`` (as in ``identify_from_person_group``); past the hourly cap it is refused
    unsent (``TrackingCapError``) unless the token has ``continuous_identification`` or
    ``override`` is ``Override("tracking_identification_cap", reason)``.
    """
    body = {
        "faceId": check_uuid("face_id", face_id),
        "personGroupId": check_collection_id("person_group_id", person_group_id),
        "personId": check_uuid("person_id", person_id),
    }
    return _spec(
        "FaceRecognitionOperations_VerifyFromPersonGroup",
        VERIFY_ROUTE,
        body,
        _VERIFY,
        _guard(
            "verify",
            consent,
            [face_id],
            "personGroup",
            person_group_id,
            person_id,
            source_id=source_id,
            override=override,
        ),
    )


def verify_from_large_person_group(
    face_id: str,
    *,
    large_person_group_id: str,
    person_id: str,
    consent: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> RequestSpec[VerificationResult]:
    """Verify whether a face belongs to a person of a large person group.

    REST: ``POST /verify`` (``FaceRecognitionOperations_VerifyFromLargePersonGroup``).
    Guard checks: as ``verify_from_person_group``.
    """
    body = {
        "faceId": check_uuid("face_id", face_id),
        "largePersonGroupId": check_collection_id("large_person_group_id", large_person_group_id),
        "personId": check_uuid("person_id", person_id),
    }
    return _spec(
        "FaceRecognitionOperations_VerifyFromLargePersonGroup",
        VERIFY_ROUTE,
        body,
        _VERIFY,
        _guard(
            "verify",
            consent,
            [face_id],
            "largePersonGroup",
            large_person_group_id,
            person_id,
            source_id=source_id,
            override=override,
        ),
    )


def verify_from_person_directory(
    face_id: str,
    *,
    person_id: str,
    consent: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> RequestSpec[VerificationResult]:
    """Verify whether a face belongs to a Person Directory person.

    REST: ``POST /verify`` (``FaceRecognitionOperations_VerifyFromPersonDirectory``).
    Guard checks: as ``verify_from_person_group``.
    """
    body = {
        "faceId": check_uuid("face_id", face_id),
        "personId": check_uuid("person_id", person_id),
    }
    return _spec(
        "FaceRecognitionOperations_VerifyFromPersonDirectory",
        VERIFY_ROUTE,
        body,
        _VERIFY,
        _guard(
            "verify",
            consent,
            [face_id],
            "personDirectory",
            PERSON_DIRECTORY,
            person_id,
            source_id=source_id,
            override=override,
        ),
    )


# -- identify ----------------------------------------------------------------------------


def _identify_body(
    face_ids: Sequence[str],
    max_num_of_candidates_returned: int | None,
    confidence_threshold: float | None,
) -> dict[str, object]:
    body: dict[str, object] = {
        "faceIds": check_uuid_list("face_ids", face_ids, minimum=1, maximum=IDENTIFY_FACE_IDS_MAX)
    }
    if max_num_of_candidates_returned is not None:
        body["maxNumOfCandidatesReturned"] = check_int_range(
            "max_num_of_candidates_returned",
            max_num_of_candidates_returned,
            minimum=1,
            maximum=IDENTIFY_CANDIDATES_MAX,
        )
    if confidence_threshold is not None:
        body["confidenceThreshold"] = check_float_range(
            "confidence_threshold", confidence_threshold, minimum=0.0, maximum=1.0
        )
    return body


def identify_from_person_group(
    face_ids: Sequence[str],
    *,
    person_group_id: str,
    max_num_of_candidates_returned: int | None = None,
    confidence_threshold: float | None = None,
    consent: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> RequestSpec[ResultList[IdentificationResult]]:
    """One-to-many identification of up to 10 faces against a trained person group.

    REST: ``POST /identify`` (``FaceRecognitionOperations_IdentifyFromPersonGroup``).
    Guard checks: consent, declared use case, live faceIds of the group's recognition model;
    candidates whose person has no live consent are suppressed.
    R17: each person returned is counted per ``source_id`` (the camera, kiosk or door; the
    guard policy's by default, else one source for the application); a person identified
    more than ``identifications_per_person_per_hour`` times from one source is withheld
    unless the token has ``continuous_identification`` or ``override`` is
    ``Override("tracking_identification_cap", reason)`` (audited).
    """
    body = _identify_body(face_ids, max_num_of_candidates_returned, confidence_threshold)
    body["personGroupId"] = check_collection_id("person_group_id", person_group_id)
    return _spec(
        "FaceRecognitionOperations_IdentifyFromPersonGroup",
        IDENTIFY_ROUTE,
        body,
        _IDENTIFY,
        _guard(
            "identify",
            consent,
            face_ids,
            "personGroup",
            person_group_id,
            source_id=source_id,
            override=override,
        ),
    )


def identify_from_large_person_group(
    face_ids: Sequence[str],
    *,
    large_person_group_id: str,
    max_num_of_candidates_returned: int | None = None,
    confidence_threshold: float | None = None,
    consent: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> RequestSpec[ResultList[IdentificationResult]]:
    """One-to-many identification of up to 10 faces against a trained large person group.

    REST: ``POST /identify`` (``FaceRecognitionOperations_IdentifyFromLargePersonGroup``).
    Guard checks: as ``identify_from_person_group``.
    """
    body = _identify_body(face_ids, max_num_of_candidates_returned, confidence_threshold)
    body["largePersonGroupId"] = check_collection_id("large_person_group_id", large_person_group_id)
    return _spec(
        "FaceRecognitionOperations_IdentifyFromLargePersonGroup",
        IDENTIFY_ROUTE,
        body,
        _IDENTIFY,
        _guard(
            "identify",
            consent,
            face_ids,
            "largePersonGroup",
            large_person_group_id,
            source_id=source_id,
            override=override,
        ),
    )


def identify_from_person_directory(
    face_ids: Sequence[str],
    *,
    person_ids: Sequence[str],
    max_num_of_candidates_returned: int | None = None,
    confidence_threshold: float | None = None,
    consent: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> RequestSpec[ResultList[IdentificationResult]]:
    """Identify up to 10 faces against 1..30 Person Directory persons, or ``["*"]`` for all.

    REST: ``POST /identify`` (``FaceRecognitionOperations_IdentifyFromPersonDirectory``).
    Guard checks: as ``identify_from_person_group``.
    """
    body = _identify_body(face_ids, max_num_of_candidates_returned, confidence_threshold)
    ids = check_count("person_ids", person_ids, minimum=1, maximum=IDENTIFY_PERSON_IDS_MAX)
    if ids != ["*"]:
        ids = check_uuid_list("person_ids", ids, minimum=1, maximum=IDENTIFY_PERSON_IDS_MAX)
    body["personIds"] = ids
    return _spec(
        "FaceRecognitionOperations_IdentifyFromPersonDirectory",
        IDENTIFY_ROUTE,
        body,
        _IDENTIFY,
        _guard(
            "identify",
            consent,
            face_ids,
            "personDirectory",
            PERSON_DIRECTORY,
            source_id=source_id,
            override=override,
        ),
    )


def identify_from_dynamic_person_group(
    face_ids: Sequence[str],
    *,
    dynamic_person_group_id: str,
    max_num_of_candidates_returned: int | None = None,
    confidence_threshold: float | None = None,
    consent: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> RequestSpec[ResultList[IdentificationResult]]:
    """Identify up to 10 faces against a Person Directory dynamic person group.

    REST: ``POST /identify`` (``FaceRecognitionOperations_IdentifyFromDynamicPersonGroup``).
    Guard checks: as ``identify_from_person_group``.
    """
    body = _identify_body(face_ids, max_num_of_candidates_returned, confidence_threshold)
    body["dynamicPersonGroupId"] = check_collection_id(
        "dynamic_person_group_id", dynamic_person_group_id
    )
    return _spec(
        "FaceRecognitionOperations_IdentifyFromDynamicPersonGroup",
        IDENTIFY_ROUTE,
        body,
        _IDENTIFY,
        _guard(
            "identify",
            consent,
            face_ids,
            "dynamicPersonGroup",
            dynamic_person_group_id,
            source_id=source_id,
            override=override,
        ),
    )


# -- find similar and group ----------------------------------------------------------------


def _similar_body(
    face_id: str,
    max_num_of_candidates_returned: int | None,
    mode: FindSimilarMatchMode | str | None,
) -> dict[str, object]:
    body: dict[str, object] = {"faceId": check_uuid("face_id", face_id)}
    if max_num_of_candidates_returned is not None:
        body["maxNumOfCandidatesReturned"] = check_int_range(
            "max_num_of_candidates_returned",
            max_num_of_candidates_returned,
            minimum=1,
            maximum=FIND_SIMILAR_CANDIDATES_MAX,
        )
    if mode is not None:
        body["mode"] = check_choice("mode", mode, FindSimilarMatchMode).value
    return body


def find_similar(
    face_id: str,
    *,
    face_ids: Sequence[str],
    max_num_of_candidates_returned: int | None = None,
    mode: FindSimilarMatchMode | str | None = None,
    consent: str | None = None,
) -> RequestSpec[ResultList[FindSimilarResult]]:
    """Find faces similar to ``face_id`` among up to 1000 faceIds.

    REST: ``POST /findsimilars`` (``FaceRecognitionOperations_FindSimilar``).
    Guard checks: consent, declared use case, live same-model faceIds.
    """
    body = _similar_body(face_id, max_num_of_candidates_returned, mode)
    body["faceIds"] = check_uuid_list(
        "face_ids", face_ids, minimum=1, maximum=FIND_SIMILAR_FACE_IDS_MAX
    )
    return _spec(
        "FaceRecognitionOperations_FindSimilar",
        FIND_SIMILAR_ROUTE,
        body,
        _SIMILAR,
        _guard("find_similar", consent, [face_id, *face_ids]),
    )


def find_similar_from_face_list(
    face_id: str,
    *,
    face_list_id: str,
    max_num_of_candidates_returned: int | None = None,
    mode: FindSimilarMatchMode | str | None = None,
    consent: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> RequestSpec[ResultList[FindSimilarResult]]:
    """Find faces similar to ``face_id`` in a face list.

    REST: ``POST /findsimilars`` (``FaceRecognitionOperations_FindSimilarFromFaceList``).
    Guard checks: consent, declared use case, live faceId of the list's recognition model.
    R17: each face-list face returned is counted per ``source_id`` like an identified
    person, and withheld past the hourly cap (see ``identify_from_person_group``).
    """
    body = _similar_body(face_id, max_num_of_candidates_returned, mode)
    body["faceListId"] = check_collection_id("face_list_id", face_list_id)
    return _spec(
        "FaceRecognitionOperations_FindSimilarFromFaceList",
        FIND_SIMILAR_ROUTE,
        body,
        _SIMILAR,
        _guard(
            "find_similar",
            consent,
            [face_id],
            "faceList",
            face_list_id,
            source_id=source_id,
            override=override,
        ),
    )


def find_similar_from_large_face_list(
    face_id: str,
    *,
    large_face_list_id: str,
    max_num_of_candidates_returned: int | None = None,
    mode: FindSimilarMatchMode | str | None = None,
    consent: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> RequestSpec[ResultList[FindSimilarResult]]:
    """Find faces similar to ``face_id`` in a trained large face list.

    REST: ``POST /findsimilars`` (``FaceRecognitionOperations_FindSimilarFromLargeFaceList``).
    Guard checks: as ``find_similar_from_face_list``.
    """
    body = _similar_body(face_id, max_num_of_candidates_returned, mode)
    body["largeFaceListId"] = check_collection_id("large_face_list_id", large_face_list_id)
    return _spec(
        "FaceRecognitionOperations_FindSimilarFromLargeFaceList",
        FIND_SIMILAR_ROUTE,
        body,
        _SIMILAR,
        _guard(
            "find_similar",
            consent,
            [face_id],
            "largeFaceList",
            large_face_list_id,
            source_id=source_id,
            override=override,
        ),
    )


def group(face_ids: Sequence[str], *, consent: str | None = None) -> RequestSpec[GroupingResult]:
    """Divide 2..1000 faces into groups of the same person, plus a messy group.

    REST: ``POST /group`` (``FaceRecognitionOperations_Group``).
    Guard checks: consent, declared use case, live same-model faceIds.
    """
    body = {
        "faceIds": check_uuid_list(
            "face_ids", face_ids, minimum=GROUP_FACE_IDS_MIN, maximum=GROUP_FACE_IDS_MAX
        )
    }
    return _spec(
        "FaceRecognitionOperations_Group",
        GROUP_ROUTE,
        body,
        _parsers.model("recognition.GroupingResult"),
        _guard("group", consent, face_ids),
    )
