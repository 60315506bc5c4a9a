"""HTML renderings of faceguard's results: pure functions from results to HTML strings.

Detection shows only the face attributes faceguard allows; whatever else a result or a dict
carries (retired or limited attributes, unknown fields) is never read. faceIds and
persistedFaceIds are shown by their first eight characters only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from .._exceptions import GuardError, InvalidInputError
from ..models.detection import FaceAttributes, FaceDetectionResult
from ..models.recognition import (
    FindSimilarResult,
    GroupingResult,
    IdentificationResult,
    VerificationResult,
)
from ._html import HTML, esc, fmt_confidence, fmt_float, grid, note, short_id, table, wire, wrap
from ._images import DisplayImage, ImageFormat, annotated_png, thumbnail_tag
from ._refusals import render_refusal

__all__ = [
    "render_detection",
    "render_find_similar",
    "render_grouping",
    "render_identification",
    "render_verification",
    "show",
    "to_html",
]

Thumbnails = Mapping[str, DisplayImage]
Names = Mapping[str, str]

_NOT_PROBABILITY = (
    "A confidence is a similarity score, not a probability: 0.9 does not mean a 90 % chance "
    "of being the same person. Compare it with a threshold you chose and validated for your "
    "use case."
)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _level(level: object, value: float) -> str:
    return f"{esc(level)} ({esc(fmt_float(value))})"


def _attribute_rows(attributes: FaceAttributes) -> list[tuple[str, str]]:
    """Rows for the allowed attributes that are present, in a fixed order. Reads named fields
    only: ``model_extra`` and anything retired are never looked at."""
    rows: list[tuple[str, str]] = []
    pose = attributes.head_pose
    if pose is not None:
        angles = ", ".join(
            f"{name} {fmt_float(value, 1)}\u00b0"
            for name, value in (("pitch", pose.pitch), ("roll", pose.roll), ("yaw", pose.yaw))
        )
        rows.append(("head pose", esc(angles)))
    if attributes.glasses is not None:
        rows.append(("glasses", esc(attributes.glasses)))
    occlusion = attributes.occlusion
    if occlusion is not None:
        text = (
            f"forehead {_yes_no(occlusion.forehead_occluded)}, "
            f"eyes {_yes_no(occlusion.eye_occluded)}, mouth {_yes_no(occlusion.mouth_occluded)}"
        )
        rows.append(("occlusion", esc(text)))
    if attributes.accessories is not None:
        items = ", ".join(
            f"{wire(item.type)} ({fmt_float(item.confidence)})" for item in attributes.accessories
        )
        rows.append(("accessories", esc(items or "none")))
    if attributes.blur is not None:
        rows.append(("blur", _level(attributes.blur.blur_level, attributes.blur.value)))
    exposure = attributes.exposure
    if exposure is not None:
        rows.append(("exposure", _level(exposure.exposure_level, exposure.value)))
    if attributes.noise is not None:
        rows.append(("noise", _level(attributes.noise.noise_level, attributes.noise.value)))
    mask = attributes.mask
    if mask is not None:
        covered = _yes_no(mask.nose_and_mouth_covered)
        rows.append(("mask", esc(f"{wire(mask.type)}; nose and mouth covered: {covered}")))
    if attributes.quality_for_recognition is not None:
        rows.append(("quality for recognition", esc(attributes.quality_for_recognition)))
    return rows


def _as_face(face: FaceDetectionResult | Mapping[str, Any]) -> FaceDetectionResult:
    if isinstance(face, FaceDetectionResult):
        return face
    if isinstance(face, Mapping):
        # Parsing drops retired and limited attributes before anything can read them.
        return FaceDetectionResult.model_validate(dict(face))
    raise InvalidInputError("result", "type", f"is a {type(face).__name__}, not a detected face")


def _attributes_of(face: FaceDetectionResult) -> FaceAttributes | None:
    attributes: object = face.face_attributes
    if attributes is None or isinstance(attributes, FaceAttributes):
        return attributes
    if isinstance(attributes, Mapping):  # a model built without validation
        return FaceAttributes.model_validate(dict(attributes))
    return None


def _landmark_text(measured: Collection[str] | None) -> str:
    if measured is None:
        return "27 points"
    count = len(measured)
    return f"27 points: {count} measured (drawn larger, in yellow), {27 - count} estimated"


def _face_table(
    number: int, face: FaceDetectionResult, measured: Collection[str] | None = None
) -> str:
    box = face.face_rectangle
    rows: list[tuple[str, str]] = [
        ("faceId", f"<code>{esc(short_id(face.face_id))}</code>"),
        (
            "box",
            esc(f"left {box.left}, top {box.top}, {box.width} \u00d7 {box.height} px"),
        ),
    ]
    if face.recognition_model is not None:
        rows.append(("recognition model", esc(face.recognition_model)))
    if face.face_landmarks is not None:
        rows.append(("landmarks", esc(_landmark_text(measured))))
    attributes = _attributes_of(face)
    if attributes is not None:
        rows.extend(_attribute_rows(attributes))
    return f"<div><strong>Face {number}</strong></div>" + table(rows)


def render_detection(
    faces: Iterable[FaceDetectionResult | Mapping[str, Any]] | FaceDetectionResult,
    image: DisplayImage | None = None,
    *,
    max_side: int | None = 1024,
    measured: Collection[str] | None = None,
    image_format: ImageFormat = "PNG",
) -> str:
    """Detected faces as HTML: ``image`` (bytes, path, file or Pillow image) with every box,
    number and landmark drawn on a copy, then a table per face with its box and the allowed
    attributes present. A dict in the wire format is parsed first, which drops retired and
    limited-access attributes.

    ``measured`` names (wire names) the landmarks the face engine measured, when the caller
    knows: they are drawn apart from the estimated ones and the table says how many of each.
    ``image_format`` "JPEG" makes a page with many photos ten times smaller than PNG."""
    if isinstance(faces, FaceDetectionResult | Mapping):
        faces = [faces]
    parsed = [_as_face(face) for face in faces]
    count = len(parsed)
    parts = [f"<div>{count} face{'s' if count != 1 else ''} detected</div>"]
    if image is not None:
        drawn = annotated_png(
            image, parsed, max_side=max_side, measured=measured, image_format=image_format
        )
        parts.append(f"<div>{drawn}</div>")
    parts.extend(_face_table(number, face, measured) for number, face in enumerate(parsed, start=1))
    return wrap("detection", "".join(parts))


def _thumb(thumbnails: Thumbnails | None, key: str | None, alt: str) -> str:
    if thumbnails is None or key is None or key not in thumbnails:
        return ""
    return thumbnail_tag(thumbnails[key], alt=alt)


def _name(names: Names | None, key: str | None) -> str:
    if names is None or key is None:
        return ""
    return esc(names.get(key, ""))


def render_identification(
    results: Iterable[IdentificationResult | Mapping[str, Any]] | IdentificationResult,
    *,
    thumbnails: Thumbnails | None = None,
    names: Names | None = None,
) -> str:
    """Identification candidates per query face, with their confidences; ``thumbnails`` and
    ``names`` (keyed by personId) add a picture and a name beside each candidate."""
    if isinstance(results, IdentificationResult | Mapping):
        results = [results]
    parts: list[str] = []
    for item in results:
        result = (
            item
            if isinstance(item, IdentificationResult)
            else IdentificationResult.model_validate(dict(item))
        )
        title = f"Query face <code>{esc(short_id(result.face_id))}</code>"
        if not result.candidates:
            parts.append(f"<div>{title}: no candidate</div>")
            continue
        rows = [
            (
                str(rank),
                _thumb(thumbnails, candidate.person_id, f"person {rank}"),
                _name(names, candidate.person_id),
                f"<code>{esc(candidate.person_id)}</code>",
                fmt_confidence(candidate.confidence),
            )
            for rank, candidate in enumerate(result.candidates, start=1)
        ]
        header = ("#", "", "name", "personId", "confidence")
        parts.append(f"<div>{title}</div>" + grid(rows, header=header))
    parts.append(note(_NOT_PROBABILITY))
    return wrap("identification", "".join(parts))


def render_verification(result: VerificationResult | Mapping[str, Any]) -> str:
    """ "same person: yes/no (confidence 0.93)", with what a confidence is not."""
    if not isinstance(result, VerificationResult):
        result = VerificationResult.model_validate(dict(result))
    verdict = (
        f"<strong>same person: {_yes_no(result.is_identical)}</strong> "
        f"(confidence {esc(fmt_float(result.confidence))})"
    )
    return wrap(
        "verification",
        f"<div>{verdict}</div>"
        + note(_NOT_PROBABILITY + " is_identical uses the service's default threshold (0.5)."),
    )


def render_find_similar(
    results: Iterable[FindSimilarResult | Mapping[str, Any]] | FindSimilarResult,
    *,
    thumbnails: Thumbnails | None = None,
    names: Names | None = None,
) -> str:
    """Similar faces ranked by confidence; ``thumbnails`` and ``names`` are keyed by the
    candidate's persistedFaceId (or faceId)."""
    if isinstance(results, FindSimilarResult | Mapping):
        results = [results]
    rows: list[tuple[str, ...]] = []
    for rank, item in enumerate(results, start=1):
        result = (
            item
            if isinstance(item, FindSimilarResult)
            else FindSimilarResult.model_validate(dict(item))
        )
        key = result.persisted_face_id or result.face_id
        kind = "persistedFaceId" if result.persisted_face_id else "faceId"
        rows.append(
            (
                str(rank),
                _thumb(thumbnails, key, f"face {rank}"),
                _name(names, key),
                f"{kind} <code>{esc(short_id(key))}</code>",
                fmt_confidence(result.confidence),
            )
        )
    body = (
        grid(rows, header=("#", "", "name", "face", "confidence"))
        if rows
        else "<div>no similar face</div>"
    )
    return wrap("find-similar", body + note(_NOT_PROBABILITY))


def render_grouping(
    result: GroupingResult | Mapping[str, Any],
    *,
    thumbnails: Thumbnails | None = None,
) -> str:
    """Groups of similar faces (faceIds shortened), then the faces like no other."""
    if not isinstance(result, GroupingResult):
        result = GroupingResult.model_validate(dict(result))

    def faces(ids: Sequence[str]) -> str:
        return " ".join(
            f"{_thumb(thumbnails, face_id, 'face')}<code>{esc(short_id(face_id))}</code>"
            for face_id in ids
        )

    rows = [(f"group {n} ({len(g)})", faces(g)) for n, g in enumerate(result.groups, start=1)]
    rows.append((f"messy group ({len(result.messy_group)})", faces(result.messy_group) or "none"))
    return wrap("grouping", table(rows))


def _kind(item: object) -> str | None:
    """Which rendering an item needs, for models and wire-format dicts alike."""
    if isinstance(item, GuardError):
        return "refusal"
    if isinstance(item, FaceDetectionResult):
        return "detection"
    if isinstance(item, IdentificationResult):
        return "identification"
    if isinstance(item, VerificationResult):
        return "verification"
    if isinstance(item, GroupingResult):
        return "grouping"
    if isinstance(item, FindSimilarResult):
        return "find_similar"
    if isinstance(item, Mapping):
        keys = set(item)
        for kind, markers in _DICT_MARKERS:
            if keys & markers:
                return kind
    return None


_DICT_MARKERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("detection", frozenset({"faceRectangle", "face_rectangle"})),
    ("identification", frozenset({"candidates"})),
    ("verification", frozenset({"isIdentical", "is_identical"})),
    ("grouping", frozenset({"groups", "messyGroup", "messy_group"})),
    ("find_similar", frozenset({"confidence"})),
)


def to_html(
    result: object,
    image: DisplayImage | None = None,
    *,
    thumbnails: Thumbnails | None = None,
    names: Names | None = None,
    max_side: int | None = 1024,
) -> str:
    """The HTML rendering of any result faceguard knows how to show (see ``show``).

    Raises:
        TypeError: ``result`` is not a detection, identification, verification, grouping
            or find-similar result (or a list of one kind), nor a guard refusal.
    """
    from .._operations._provisional import _Reviewed

    if isinstance(result, _Reviewed):
        # R11: the service's answer, marked as awaiting review; the result itself has no
        # items or fields to render (acting on them is what it prevents).
        if result.provisional is None:
            raise TypeError("a review resumed from the audit log has no result to show")
        banner = wrap(
            "provisional",
            f"<div>provisional: {result.reviews} of {result.reviewers_required} review(s) "
            "recorded; act only on what result.confirm(...) returns</div>",
        )
        inner = to_html(
            result.provisional, image, thumbnails=thumbnails, names=names, max_side=max_side
        )
        return banner + inner
    items: list[Any] = list(result) if isinstance(result, list | tuple) else [result]
    if not items:
        if image is not None:
            return render_detection([], image, max_side=max_side)
        return wrap("empty", "<div>no results</div>")
    kinds = {_kind(item) for item in items}
    if len(kinds) != 1 or None in kinds or (len(items) > 1 and kinds & _SINGLE):
        names_of = sorted({type(item).__name__ for item in items})
        raise TypeError(f"faceguard.notebook cannot show {', '.join(names_of)}")
    (kind,) = kinds
    if kind == "detection":
        return render_detection(items, image, max_side=max_side)
    single = items[0]
    renderers: dict[str | None, Callable[[], str]] = {
        "refusal": lambda: render_refusal(single),
        "identification": lambda: render_identification(items, thumbnails=thumbnails, names=names),
        "verification": lambda: render_verification(single),
        "grouping": lambda: render_grouping(single, thumbnails=thumbnails),
        "find_similar": lambda: render_find_similar(items, thumbnails=thumbnails, names=names),
    }
    return renderers[kind]()


_SINGLE = frozenset({"refusal", "verification", "grouping"})


def show(
    result: object,
    image: DisplayImage | None = None,
    *,
    thumbnails: Thumbnails | None = None,
    names: Names | None = None,
    max_side: int | None = 1024,
) -> HTML:
    """A rich display of ``result``: the last expression of a Jupyter cell, or ``display()``.

    Args:
        result: detected faces (a ``detect()`` result, one face, or wire-format dicts),
            identify / verify / group / find-similar results (or a ``Provisional`` one,
            shown as awaiting review), or a ``GuardError``.
        image: the image the faces were detected on (bytes, a local path, a binary file or
            a Pillow image); boxes and landmarks are drawn on a copy.
        thumbnails: pictures of candidates, keyed by personId (identify) or
            persistedFaceId / faceId (find-similar, group).
        names: display names of candidates, keyed like ``thumbnails``.
        max_side: longer side, in pixels, the drawn image is scaled down to; ``None`` keeps
            its size.

    Raises:
        TypeError: ``result`` is not something faceguard renders.
        ConfigurationError: an image was given but Pillow is not installed.
    """
    return HTML(to_html(result, image, thumbnails=thumbnails, names=names, max_side=max_side))
