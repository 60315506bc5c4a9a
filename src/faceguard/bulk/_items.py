"""The items of a bulk run, and everything checked about them before anything is sent.

A ``BulkFace`` names its image (bytes, a path or a URL; a file is read only when its item is
sent) and a stable ``key`` (the file path, a database id...): the key is the item's name in
the journal and in the report, and, hashed with the batch id, the marker written into the
face's userData so that an add whose outcome is in doubt can be found on the service.

Before the first request, every item is checked with the same pure builder the client uses
(person id, detection model, target face, the userData limit with the marker appended...) and
the keys must be unique; a bad item raises ``InvalidInputError`` naming it, and nothing is
sent. Images are checked when their item is sent: a bad one is skipped (``invalid_image``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._constants import FACE_USER_DATA_MAX
from .._exceptions import InvalidInputError
from .._operations import detection
from .._transport._spec import RequestSpec
from ..models.enums import DetectionModel
from ._target import Target

__all__ = [
    "BulkFace",
    "BulkImage",
    "Consent",
    "PreparedFace",
    "PreparedImage",
    "face_marker",
    "prepare_detect",
    "prepare_faces",
]

Consent = str | Callable[[], str] | None
"""A consent token, or a function minting one per attempt (for once-tokens)."""

MARKER_PREFIX = "faceguard-bulk:"
_BATCH_ID_MAX = 256
# Never read: the builders check arguments, and a URL is the one image they take without I/O.
_PLACEHOLDER_IMAGE = "https://bulk-validation.invalid/image.jpg"


@dataclass(frozen=True)
class BulkFace:
    """One face to enroll.

    Args:
        key: the caller's stable id for the item (e.g. the file path); unique in a batch.
        image: bytes, a path (read when the item is sent) or an ``http(s)://`` URL.
        person_id: the person to add the face to: required for person groups and large
            person groups, refused for face lists.
        consent: the enrollment consent token, or a function returning one, called before
            every attempt. A once-token cannot be presented twice (not after a throttled
            attempt, nor after a crash): give a session token or a function.
        user_data: up to 1 KB including the marker faceguard appends (32 characters).
        target_face: ``[left, top, width, height]`` of the face when the image holds several.
        detection_model: as ``add_face``; ``detection_03`` by default.
    """

    key: str
    image: bytes | str | os.PathLike[str] = field(repr=False)
    person_id: str | None = None
    consent: Consent = field(default=None, repr=False)
    user_data: str | None = None
    target_face: Sequence[int] | None = None
    detection_model: DetectionModel | str = DetectionModel.DETECTION_03


@dataclass(frozen=True)
class BulkImage:
    """One image to detect faces in: ``key`` (unique in a batch) and the image (bytes, a path
    read when the item is sent, or an ``http(s)://`` URL)."""

    key: str
    image: bytes | str | os.PathLike[str] = field(repr=False)


def face_marker(batch_id: str, key: str) -> str:
    """``faceguard-bulk:<16 hex of sha256(batch_id + "\\0" + key)>``: what bulk enrollment
    appends to a face's userData, to find an add whose outcome is in doubt."""
    digest = hashlib.sha256(f"{batch_id}\0{key}".encode()).hexdigest()
    return MARKER_PREFIX + digest[:16]


def _consent(consent: Consent) -> str | None:
    return consent() if callable(consent) else consent


@dataclass(frozen=True)
class PreparedFace:
    """A checked ``BulkFace``: its marker and final userData, ready to build each attempt."""

    item: BulkFace
    marker: str
    user_data: str

    @property
    def key(self) -> str:
        """The item's key."""
        return self.item.key

    def build(self, target: Target, container_id: str, image: Any = None) -> RequestSpec[Any]:
        """The add-face request (pure builder): reads the image, mints consent if callable.

        ``image`` replaces the item's image to check every other argument without reading
        it (consent is then not minted).
        """
        item = self.item
        args: tuple[Any, ...] = (container_id,)
        if target.has_persons:
            args += (item.person_id,)
        return target.kind.add_face(  # type: ignore[no-any-return]
            *args,
            item.image if image is None else image,
            target_face=item.target_face,
            detection_model=item.detection_model,
            user_data=self.user_data,
            consent=None if image is not None else _consent(item.consent),
        )


def _check_key(index: int, key: object, seen: set[str]) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidInputError(f"items[{index}].key", "type", "must be a non-empty string")
    if key in seen:
        raise InvalidInputError(
            f"items[{index}].key", "unique", f"{key!r} appears twice; keys name items uniquely"
        )
    seen.add(key)
    return key


def check_batch_id(batch_id: str) -> str:
    """A batch id is 1..256 characters without NUL (it is hashed with ``"\\0"``)."""
    if not isinstance(batch_id, str) or not 0 < len(batch_id) <= _BATCH_ID_MAX or "\0" in batch_id:
        raise InvalidInputError("batch_id", "length", "must be 1..256 characters, without NUL")
    return batch_id


def _collection(items: Iterable[Any], kind: str) -> Iterable[Any]:
    """``items`` if it can be iterated as items (a string or bytes cannot: they are one
    value); a typed refusal otherwise, before anything is read or sent."""
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise InvalidInputError("items", "type", f"must be an iterable of {kind}")
    return items


def prepare_faces(
    items: Iterable[BulkFace], target: Target, container_id: str, batch_id: str
) -> list[PreparedFace]:
    """Check every item (nothing is sent, no image is read) and compute its marker."""
    prepared: list[PreparedFace] = []
    seen: set[str] = set()
    for index, item in enumerate(_collection(items, "BulkFace")):
        if not isinstance(item, BulkFace):
            raise InvalidInputError(f"items[{index}]", "type", "must be a BulkFace")
        key = _check_key(index, item.key, seen)
        where = f"items[{index}] ({key!r})"
        if target.has_persons and item.person_id is None:
            raise InvalidInputError(
                f"{where}.person_id", "required", f"is required to add a face to a {target.name}"
            )
        if not target.has_persons and item.person_id is not None:
            raise InvalidInputError(
                f"{where}.person_id", "forbidden", f"a {target.name} has no persons"
            )
        marker = face_marker(batch_id, key)
        user_data = marker if not item.user_data else f"{item.user_data} {marker}"
        if len(user_data) > FACE_USER_DATA_MAX:
            room = FACE_USER_DATA_MAX - len(marker) - 1
            raise InvalidInputError(
                f"{where}.user_data",
                "length",
                f"is {len(item.user_data or '')} characters; at most {room} leave room for "
                "the bulk marker within the 1 KB userData limit",
            )
        face = PreparedFace(item=item, marker=marker, user_data=user_data)
        try:
            # The client's own builder, on a placeholder URL: every argument rule but the
            # image's, before any request of the batch.
            face.build(target, container_id, image=_PLACEHOLDER_IMAGE)
        except InvalidInputError as exc:
            message = str(exc).removeprefix(f"{exc.parameter}: ")
            raise type(exc)(f"{where}.{exc.parameter}", exc.rule, message) from None
        prepared.append(face)
    return prepared


@dataclass(frozen=True)
class PreparedImage:
    """A checked ``BulkImage`` and the detect options of its batch."""

    item: BulkImage
    options: dict[str, Any]

    @property
    def key(self) -> str:
        """The item's key."""
        return self.item.key

    def build(self) -> RequestSpec[Any]:
        """The detect request (pure builder): reads the image, mints consent if callable."""
        options = dict(self.options)
        if "consent" in options:
            options["consent"] = _consent(options["consent"])
        return detection.detect(self.item.image, **options)


def _wire(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return getattr(value, "value", value)


def detect_batch_id(options: dict[str, Any]) -> str:
    """``detect:<16 hex>`` of the detect options (consent aside): a rerun with the same
    options finds its journal records; other options make another batch."""
    canonical = {k: _wire(v) for k, v in options.items() if k != "consent"}
    text = json.dumps(canonical, sort_keys=True, default=str)
    return "detect:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def prepare_detect(items: Iterable[BulkImage], options: dict[str, Any]) -> list[PreparedImage]:
    """Check the detect options once (the client's builder: a retired attribute raises
    ``RetiredAttributeError``) and every item's key; nothing is sent, no image is read."""
    checked = dict(options)
    if "consent" in checked and callable(checked["consent"]):
        checked["consent"] = None  # minted per attempt; not needed to check the options
    try:
        inspect.signature(detection.detect).bind(_PLACEHOLDER_IMAGE, **checked)
    except TypeError as exc:  # an unknown or duplicated option: the message names it only
        raise InvalidInputError("detect_options", "signature", str(exc)) from None
    detection.detect(_PLACEHOLDER_IMAGE, **checked)
    prepared: list[PreparedImage] = []
    seen: set[str] = set()
    for index, item in enumerate(_collection(items, "BulkImage")):
        if not isinstance(item, BulkImage):
            raise InvalidInputError(f"items[{index}]", "type", "must be a BulkImage")
        _check_key(index, item.key, seen)
        prepared.append(PreparedImage(item=item, options=options))
    return prepared
