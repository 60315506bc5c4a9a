"""One item's life, written once as a generator of I/O requests (the sans-I/O core).

``add_face_steps`` and ``detect_steps`` yield what they need done (``Write`` a journal record,
``Send`` a request, ``Sleep``) and receive the answer (a ``Failed`` wrapping the exception when
it raised); they return the item's ``BulkItemResult``. The sync shell runs them with plain
calls, the async shell with ``await``: every decision about journaling, in-doubt checks (the
look-up requests too, built with the client's pure builders), retries and skips is in this
module.

An add, step by step:

1. already ``added`` or ``skipped`` in the journal: reported from it, nothing is sent;
2. in doubt (``sending`` at start, an earlier in-doubt ``failed``, or a dropped connection,
   5xx... in this run): the service is checked for the item's marker (``lookup_steps``);
   found -> ``added`` (``recovered``), nothing is sent. When the request may still be running
   on the service (the connection dropped or timed out after it left, a gateway timed out, or
   the last run died with it ``sending``), a look-up that finds nothing proves nothing yet: the
   item waits until ``Backoff.settle`` seconds have passed since the failure and looks again.
   So a landed add is found after the usual backoff, and an add is re-sent only after the
   settle time and a look-up that came after it;
3. the request is built (image read, consent minted, all checked) and sent; ``sending`` is
   written once its rate-limit slot has come, just before it leaves;
4. success -> ``added``; a skip -> ``skipped``; else retried up to ``max_attempts`` tries,
   then ``failed`` (with ``in_doubt`` when the last try may have been applied).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from .._transport._spec import RequestSpec
from ._items import PreparedFace, PreparedImage
from ._journal import JournalRecord
from ._outcome import Backoff, Decision, Step, classify, record_of, result_of
from ._report import BulkItemResult, SkipReason
from ._target import FaceCache, Target, has_marker

__all__ = [
    "Action",
    "Failed",
    "ItemSteps",
    "Rules",
    "Send",
    "Sleep",
    "Stopped",
    "Write",
    "add_face_steps",
    "detect_steps",
    "lookup_steps",
]


@dataclass(frozen=True)
class Write:
    """Write this record to the journal (a failure stops the run)."""

    record: JournalRecord


@dataclass(frozen=True)
class Send:
    """Send this request: answer its parsed result (or ``Failed``)."""

    spec: RequestSpec[Any]
    record: JournalRecord | None = None
    """Written to the journal as the request is about to leave (after the rate limiter's
    wait, before the first byte): an add still waiting for its slot when the process dies
    is left pending, not in doubt. A failure to write it stops the run, as a ``Write``."""


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds before the next attempt."""

    seconds: float


@dataclass(frozen=True)
class Failed:
    """The answer to a ``Send`` that raised."""

    error: Exception


class Stopped(Exception):
    """Raised by a shell instead of performing an action once its run is stopping (another
    item's journal failure, Ctrl-C, a cancellation): the item is left as its journal says."""


Action = Write | Send | Sleep
ItemSteps = Generator[Action, object, BulkItemResult]


@dataclass(frozen=True)
class Rules:
    """The retry rules of a run, and its cache of faces seen on the service."""

    max_attempts: int
    backoff: Backoff
    cache: FaceCache = field(default_factory=FaceCache)
    """The marker-bearing userData of every face this run saw, added, or found in the
    journal: a person's faces are fetched at most once per run, and faces of this batch
    never (their markers are known)."""


def _in_doubt_at_start(prior: JournalRecord | None) -> bool:
    if prior is None:
        return False
    return prior.state == "sending" or (prior.state == "failed" and prior.in_doubt)


def lookup_steps(
    target: Target, container_id: str, person_id: str | None, marker: str, cache: FaceCache
) -> Generator[Action, object, str | Failed | None]:
    """Find the face carrying ``marker``: its persisted face id, None, or the ``Failed``
    answer of a request. REST: ``GET`` the person, then each of its faces whose userData is
    not cached yet (from the last listed, where a new face usually is) until the marker is
    found; a face list's ``GET``; or the pages of a large face list's faces."""
    kind = target.kind
    if target.listing == "person":
        person = yield Send(kind.get_person(container_id, person_id))
        if isinstance(person, Failed):
            return person
        face_ids = [str(face_id) for face_id in getattr(person, "persisted_face_ids", None) or []]
        found = cache.find(face_ids, marker)
        if found is not None:
            return found
        # The list of face ids is always fetched afresh: a face added since is found too.
        for face_id in reversed(cache.missing(face_ids)):
            face = yield Send(kind.get_face(container_id, person_id, face_id))
            if isinstance(face, Failed):
                return face
            user_data = getattr(face, "user_data", None)
            cache.add(face_id, user_data)
            if has_marker(user_data, marker):
                return face_id
        return None
    if target.listing == "face_list":
        face_list = yield Send(kind.get(container_id))
        if isinstance(face_list, Failed):
            return face_list
        return _marked(getattr(face_list, "persisted_faces", None) or [], marker)
    paged = kind.list_faces(container_id)
    request = paged.first
    while request is not None:
        page = yield Send(request)
        if isinstance(page, Failed):
            return page
        items: list[Any] = page[0]  # type: ignore[index]
        continuation: str | None = page[1]  # type: ignore[index]
        found = _marked(items, marker)
        if found is not None:
            return found
        request = paged.next_request(request, items, continuation)
    return None


def _marked(faces: list[Any], marker: str) -> str | None:
    """The persisted face id of the first face whose userData carries ``marker``."""
    for face in faces:
        if has_marker(face.user_data, marker):
            return str(face.persisted_face_id)
    return None


def add_face_steps(
    face: PreparedFace, prior: JournalRecord | None, target: Target, container_id: str, rules: Rules
) -> ItemSteps:
    """The steps of one add (see the module docstring)."""
    key = face.key
    if prior is not None and prior.state in ("added", "skipped"):
        return result_of(prior, from_journal=True)
    in_doubt = _in_doubt_at_start(prior)
    # Seconds still to wait before a look-up that finds nothing may lead to a re-send: the
    # request may still be running on the service. A run that died with the add "sending"
    # left no time of sending, so the whole settle time is owed.
    owed = rules.backoff.settle if prior is not None and prior.state == "sending" else 0.0
    attempts = 0
    while True:
        decision: Decision
        error: Exception
        settle = False
        if in_doubt:
            found = yield from lookup_steps(
                target, container_id, face.item.person_id, face.marker, rules.cache
            )
            if not isinstance(found, Failed):
                if found is not None:
                    record = record_of(key, "added", attempts=attempts, persisted_face_id=found)
                    yield Write(record)
                    return result_of(record, recovered=True)
                if owed > 0:
                    # Looked early: the add may still land. Look again once settled.
                    yield Sleep(owed)
                    owed = 0.0
                    continue
                in_doubt = False  # not on the service: the add did not happen; send it
                continue
            # The check itself failed: the add stays in doubt; try the check again later.
            attempts += 1
            error = found.error
            checked = classify(error, sent=True, mutating=False)
            step = Step.RETRY if checked.step is Step.RETRY else Step.FAIL
            decision = Decision(step, in_doubt=True, retry_after=checked.retry_after)
        else:
            attempts += 1
            try:
                spec = face.build(target, container_id)
            except Exception as exc:  # noqa: BLE001 - classified: image, consent, bug
                error, decision = exc, classify(exc, sent=False, mutating=True)
            else:
                # Written as the request leaves: a crash from then on leaves the add in
                # doubt, and the next run checks the service before sending it again.
                reply = yield Send(spec, record_of(key, "sending", attempts=attempts))
                if not isinstance(reply, Failed):
                    persisted = getattr(reply, "persisted_face_id", None)
                    if persisted is not None:
                        rules.cache.add(str(persisted), face.marker)
                    record = record_of(key, "added", attempts=attempts, persisted_face_id=persisted)
                    yield Write(record)
                    return result_of(record)
                error = reply.error
                decision = classify(error, sent=True, mutating=True)
                in_doubt, settle = decision.in_doubt, decision.settle
        final = _final(key, attempts, error, decision, rules)
        if final is not None:
            yield Write(final)
            return result_of(final)
        wait = rules.backoff.wait(attempts, decision.retry_after)
        owed = max((rules.backoff.settle if settle else owed) - wait, 0.0)
        yield Sleep(wait)


def _final(
    key: str, attempts: int, error: Exception, decision: Decision, rules: Rules
) -> JournalRecord | None:
    """The final record after a failed try, or None to try again."""
    if decision.step is Step.SKIP:
        reason = decision.reason.value if decision.reason else None
        return record_of(key, "skipped", attempts=attempts, error=error, reason=reason)
    if decision.step is Step.FAIL or attempts >= rules.max_attempts:
        return record_of(key, "failed", attempts=attempts, error=error, in_doubt=decision.in_doubt)
    return None


def _faces_json(faces: list[Any]) -> list[dict[str, Any]]:
    # faceIds expire and name biometric templates: never journaled.
    return [
        face.model_dump(mode="json", by_alias=True, exclude={"face_id"}, exclude_none=True)
        for face in faces
    ]


def _faces_from(record: JournalRecord) -> list[Any]:
    from ..models.detection import FaceDetectionResult

    return [FaceDetectionResult.model_validate(data) for data in record.faces or []]


def _large_enough(face: Any, min_face_size: int | None) -> bool:
    if min_face_size is None:
        return True
    rect = face.face_rectangle
    return bool(rect.width >= min_face_size and rect.height >= min_face_size)


def detect_steps(
    image: PreparedImage, prior: JournalRecord | None, min_face_size: int | None, rules: Rules
) -> ItemSteps:
    """The steps of one detection: detect (retried like an add, never in doubt: detection
    changes nothing on the service), keep the faces of at least ``min_face_size`` pixels,
    journal the results without faceIds."""
    key = image.key
    if prior is not None and prior.state == "added":
        return result_of(prior, from_journal=True, faces=_faces_from(prior))
    if prior is not None and prior.state == "skipped":
        return result_of(prior, from_journal=True)
    attempts = 0
    while True:
        attempts += 1
        error: Exception
        try:
            spec = image.build()
        except Exception as exc:  # noqa: BLE001 - classified: image, consent, bug
            error, decision = exc, classify(exc, sent=False, mutating=False)
        else:
            reply = yield Send(spec)
            if not isinstance(reply, Failed):
                faces = list(reply)  # type: ignore[call-overload]
                kept = [face for face in faces if _large_enough(face, min_face_size)]
                if not kept:
                    reason = SkipReason.FACE_TOO_SMALL if faces else SkipReason.NO_FACE
                    record = record_of(key, "skipped", attempts=attempts, reason=reason.value)
                    yield Write(record)
                    return result_of(record)
                record = record_of(key, "added", attempts=attempts, faces=_faces_json(kept))
                yield Write(record)
                return result_of(record, faces=kept)
            error = reply.error
            decision = classify(error, sent=True, mutating=False)
        final = _final(key, attempts, error, decision, rules)
        if final is not None:
            yield Write(final)
            return result_of(final)
        yield Sleep(rules.backoff.wait(attempts, decision.retry_after))
