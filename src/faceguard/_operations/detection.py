"""Face detection: ``POST /detect`` from bytes, a URL, or a liveness session image."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .._constants import DEFAULT_FACE_ID_TTL, FACE_ID_TTL_MAX, FACE_ID_TTL_MIN
from .._exceptions import InvalidInputError
from .._guard._attributes import check_attributes
from .._guard._override import Override
from .._guard._tracking import check_override, check_source_id
from .._transport._spec import GuardCheck, GuardInfo, RequestSpec
from ..models.enums import DetectionModel, FaceAttributeType, RecognitionModel
from . import _parsers
from ._images import ImageInput, read_image
from ._inputs import check_choice, check_int_range, check_text_id, wire_bool

if TYPE_CHECKING:
    from ..models._results import ResultList
    from ..models.detection import FaceDetectionResult

__all__ = ["detect", "detect_from_session_image"]

DETECT_ROUTE = "/detect"

_PARSE = _parsers.model_list("detection.FaceDetectionResult")


class _Checked(NamedTuple):
    """The checked, consent-independent part of a detect request."""

    query: dict[str, str]
    checks: frozenset[GuardCheck]
    detection_model: str
    recognition_model: str
    face_id_ttl: int | None


def _check(
    detection_model: DetectionModel | str,
    recognition_model: RecognitionModel | str,
    return_face_id: bool,
    return_face_attributes: Iterable[FaceAttributeType | str],
    return_face_landmarks: bool,
    return_recognition_model: bool,
    face_id_time_to_live: int,
) -> _Checked:
    """Every argument rule of a detect request, and the query it sends. Pure: the outcome
    depends on the arguments only."""
    detection = check_choice("detection_model", detection_model, DetectionModel)
    recognition = check_choice("recognition_model", recognition_model, RecognitionModel)
    if isinstance(return_face_attributes, str | bytes) or not isinstance(
        return_face_attributes, Iterable
    ):
        raise InvalidInputError("return_face_attributes", "type", "must be a list of attributes")
    attributes = check_attributes(
        return_face_attributes, detection_model=detection, recognition_model=recognition
    )
    if return_face_landmarks and detection is DetectionModel.DETECTION_02:
        raise InvalidInputError(
            "return_face_landmarks", "model", "detection_02 returns no landmarks"
        )
    query = {
        "detectionModel": detection.value,
        "recognitionModel": recognition.value,
        "returnFaceId": wire_bool(return_face_id, "return_face_id"),
        "returnFaceLandmarks": wire_bool(return_face_landmarks, "return_face_landmarks"),
    }
    # Checked even when no faceId is asked for: a bad value is a bug wherever it appears.
    ttl = check_int_range(
        "face_id_time_to_live",
        face_id_time_to_live,
        minimum=FACE_ID_TTL_MIN,
        maximum=FACE_ID_TTL_MAX,
    )
    checks: set[GuardCheck] = set()
    if attributes:
        query["returnFaceAttributes"] = ",".join(a.value for a in attributes)
        checks.add(GuardCheck.ATTRIBUTES)
    if return_face_id:
        # Always explicit: the service default (24 h) is longer than most flows need.
        query["faceIdTimeToLive"] = str(ttl)
        query["returnRecognitionModel"] = wire_bool(
            return_recognition_model, "return_recognition_model"
        )
        checks.add(GuardCheck.FACE_ID_ISSUE)
    elif return_recognition_model:
        raise InvalidInputError(
            "return_recognition_model", "dependency", "only applies when return_face_id=True"
        )
    return _Checked(
        query,
        frozenset(checks),
        detection.value,
        recognition.value,
        ttl if return_face_id else None,
    )


_check_memo = functools.lru_cache(maxsize=256, typed=True)(_check)
"""``_check`` remembered per distinct arguments (of distinct types: ``600.0`` is not ``600``,
nor ``1`` ``True``): an application sends the same few detect settings on every call. Only
successful checks are remembered; a refusal is raised every time."""


def _query(
    *,
    detection_model: DetectionModel | str,
    recognition_model: RecognitionModel | str,
    return_face_id: bool,
    return_face_attributes: Sequence[FaceAttributeType | str],
    return_face_landmarks: bool,
    return_recognition_model: bool,
    face_id_time_to_live: int,
    consent: str | None,
    source_id: str | None,
    override: Override | None,
) -> tuple[dict[str, str], frozenset[GuardCheck], GuardInfo]:
    attributes: Iterable[FaceAttributeType | str] = return_face_attributes
    if not isinstance(attributes, str):
        try:
            attributes = tuple(attributes)  # hashable, and read once
        except TypeError:
            attributes = return_face_attributes  # not iterable: _check refuses it as before
    args: tuple[Any, ...] = (
        detection_model,
        recognition_model,
        return_face_id,
        attributes,
        return_face_landmarks,
        return_recognition_model,
        face_id_time_to_live,
    )
    try:
        checked = _check_memo(*args)
    except TypeError:  # an unhashable argument: checked without the memo
        checked = _check(*args)
    guard = GuardInfo(
        consent_operation="detect_template" if return_face_id else None,
        detection_model=checked.detection_model,
        recognition_model=checked.recognition_model,
        face_id_ttl=checked.face_id_ttl,
        consent=consent,
        source_id=check_source_id(source_id),
        override=check_override(override),
    )
    return dict(checked.query), checked.checks, guard


def detect(
    image: ImageInput,
    *,
    detection_model: DetectionModel | str = DetectionModel.DETECTION_03,
    recognition_model: RecognitionModel | str = RecognitionModel.RECOGNITION_04,
    return_face_id: bool = False,
    return_face_attributes: Sequence[FaceAttributeType | str] = (),
    return_face_landmarks: bool = False,
    return_recognition_model: bool = False,
    face_id_time_to_live: int = DEFAULT_FACE_ID_TTL,
    consent: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> RequestSpec[ResultList[FaceDetectionResult]]:
    """Detect faces in an image, largest first (at most 100).

    REST: ``POST /detect`` with the image bytes (``FaceDetectionOperations_Detect``) or, when
    ``image`` is an ``http(s)://`` URL, with ``{"url": ...}``
    (``FaceDetectionOperations_DetectFromUrl``).

    Guard checks: only attributes the detection model offers (retired ones such as age or
    emotion are refused with ``RetiredAttributeError``); with ``return_face_id`` the call
    creates a biometric template, so ``faceIdTimeToLive`` is always sent explicitly.

    Args:
        image: bytes, a binary file object, a path, or an ``http(s)://`` URL. JPEG, PNG, GIF
            or BMP, 1 KB to 6 MB.
        detection_model: defaults to ``detection_03``, the service's recommendation (the
            service's own default is the older ``detection_01``).
        recognition_model: defaults to ``recognition_04``, the service's recommendation.
        return_face_id: return faceIds usable by verify, identify, group and find-similar.
        return_face_attributes: attributes to analyse, e.g. ``[FaceAttributeType.HEAD_POSE]``.
        return_face_landmarks: return the 27 landmarks (not with ``detection_02``).
        return_recognition_model: echo the recognition model (only with ``return_face_id``).
        face_id_time_to_live: seconds the faceIds live, 60..86400.
        consent: a consent token covering ``detect_template``; required with
            ``return_face_id`` (a faceId is a biometric template).
        source_id: the camera, kiosk or door the image comes from (default: the guard
            policy's ``source_id``). Detect calls per named source are capped per minute
            (R17, a video-loop heuristic); unnamed calls are not counted.
        override: ``Override("tracking_detect_cap", reason)`` to exceed that cap for this
            call (audited); a token with ``continuous_identification`` needs none.

    Returns:
        The detected faces; an empty list when there are none.
    """
    query, checks, guard = _query(
        detection_model=detection_model,
        recognition_model=recognition_model,
        return_face_id=return_face_id,
        return_face_attributes=return_face_attributes,
        return_face_landmarks=return_face_landmarks,
        return_recognition_model=return_recognition_model,
        face_id_time_to_live=face_id_time_to_live,
        consent=consent,
        source_id=source_id,
        override=override,
    )
    source = read_image(image)
    if source.url is not None:
        return RequestSpec(
            operation="FaceDetectionOperations_DetectFromUrl",
            method="POST",
            route=DETECT_ROUTE,
            parse=_PARSE,
            query=query,
            json={"url": source.url},
            guard_checks=checks,
            guard=guard,
        )
    return RequestSpec(
        operation="FaceDetectionOperations_Detect",
        method="POST",
        route=DETECT_ROUTE,
        parse=_PARSE,
        query=query,
        content=source.content,
        content_type="application/octet-stream",
        guard_checks=checks,
        guard=guard,
    )


def detect_from_session_image(
    session_image_id: str,
    *,
    detection_model: DetectionModel | str = DetectionModel.DETECTION_03,
    recognition_model: RecognitionModel | str = RecognitionModel.RECOGNITION_04,
    return_face_id: bool = False,
    return_face_attributes: Sequence[FaceAttributeType | str] = (),
    return_face_landmarks: bool = False,
    return_recognition_model: bool = False,
    face_id_time_to_live: int = DEFAULT_FACE_ID_TTL,
    consent: str | None = None,
    source_id: str | None = None,
    override: Override | None = None,
) -> RequestSpec[ResultList[FaceDetectionResult]]:
    """Detect faces in the image a liveness session kept (``enable_session_image=True``).

    REST: ``POST /detect`` with ``{"sessionImageId": ...}``
    (``FaceDetectionOperations_DetectFromSessionImageId``).

    Guard checks: as ``detect`` (``consent`` is required with ``return_face_id``; the
    tracking cap counts ``source_id``).
    """
    query, checks, guard = _query(
        detection_model=detection_model,
        recognition_model=recognition_model,
        return_face_id=return_face_id,
        return_face_attributes=return_face_attributes,
        return_face_landmarks=return_face_landmarks,
        return_recognition_model=return_recognition_model,
        face_id_time_to_live=face_id_time_to_live,
        consent=consent,
        source_id=source_id,
        override=override,
    )
    return RequestSpec(
        operation="FaceDetectionOperations_DetectFromSessionImageId",
        method="POST",
        route=DETECT_ROUTE,
        parse=_PARSE,
        query=query,
        json={"sessionImageId": check_text_id("session_image_id", session_image_id)},
        guard_checks=checks,
        guard=guard,
    )
