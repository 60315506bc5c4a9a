"""What to do after an attempt: pure decisions shared by the sync and async shells.

``classify`` maps an exception to one of: skip the item (with a ``SkipReason``: the answer
would not change), retry it (throttling, 5xx, a lost connection), or fail it (anything a
retry cannot fix). It also says whether the failed add is IN DOUBT, i.e. may have been
applied by the service although no success came back: a connection dropped after the request
was sent, a 5xx, a success response faceguard could not parse, or an unexpected error. An
in-doubt add is never sent again before the service is checked for its marker.

The client has already retried what is safe to retry (429, connections that failed before
sending); this loop handles what it gave up on, with its own, longer backoff.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    ConsentRejectedError,
    ConsentRequiredError,
    FaceGuardError,
    GuardError,
    GuardStoreError,
    InvalidImageError,
    RateLimitError,
    RateLimitWaitError,
    SupportInfo,
)
from ._journal import JournalRecord
from ._report import BulkItemResult, SkipReason

__all__ = ["Backoff", "Decision", "Step", "classify", "record_of", "result_of"]

_WITHDRAWN_CHECKS = frozenset({"withdrawn", "revoked"})
_RETRY_STATUS_MIN = 500
_GATEWAY_TIMEOUT = 504  # a gateway gave up waiting: the service may still be working


class Step(enum.Enum):
    """The next step for an item after a failed attempt."""

    SKIP = "skip"
    RETRY = "retry"
    FAIL = "fail"


@dataclass(frozen=True)
class Decision:
    """What ``classify`` decided about one failed attempt."""

    step: Step
    in_doubt: bool = False
    reason: SkipReason | None = None
    retry_after: float | None = None
    """The service's ``Retry-After``, which the wait honours."""
    settle: bool = False
    """The request may still be running on the service (no answer came from it): a look-up
    that finds nothing before ``Backoff.settle`` seconds have passed proves nothing yet."""


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts of one item: exponential with jitter, or the service's
    ``Retry-After`` when it gave one (capped at ``cap``).

    ``settle`` is the least time after an add whose request may still be running on the
    service (the connection dropped or timed out after it left, or a gateway timed out)
    before it may be sent again: a look-up made earlier could miss the face it is about to
    add. The bulk helpers look once after the usual wait (a landed add is found then) and,
    if the face is not there, once more when ``settle`` seconds have passed, before any
    re-send."""

    base: float = 1.0
    cap: float = 60.0
    jitter: float = 0.5
    random: Callable[[], float] = random.random
    settle: float = 5.0

    def wait(self, attempt: int, retry_after: float | None, *, settle: bool = False) -> float:
        """Seconds to wait after ``attempt`` failed tries (1 after the first); at least
        ``settle`` seconds with ``settle=True``."""
        if retry_after is not None:
            delay = min(max(0.0, retry_after), max(self.cap, 0.0))
        else:
            delay = min(self.cap, self.base * 2.0 ** (attempt - 1))
            # Full range jitter spreads workers that were throttled at the same moment apart.
            delay *= 1.0 - self.jitter * self.random()
        return max(delay, self.settle) if settle else delay


def _image_reason(error: APIStatusError) -> SkipReason | None:
    code = error.error_code or ""
    if error.status_code != 400 or not code.startswith("InvalidImage"):
        return None
    text = error.message.lower()
    if code == "InvalidImage" and "no face detected" in text:
        return SkipReason.NO_FACE
    if code == "InvalidImage" and "more than 1 face" in text:
        return SkipReason.MULTIPLE_FACES
    return SkipReason.INVALID_IMAGE


def classify(error: BaseException, *, sent: bool, mutating: bool) -> Decision:
    """Decide about one failed attempt.

    Args:
        error: what the attempt raised.
        sent: False when it was raised before the request could leave (building it,
            reading the image, minting consent).
        mutating: True for an add (may be applied), False for a detection (never in doubt).
    """
    if isinstance(error, ConsentRejectedError):
        withdrawn = error.check in _WITHDRAWN_CHECKS
        consent = SkipReason.CONSENT_WITHDRAWN if withdrawn else SkipReason.CONSENT_REJECTED
        return Decision(Step.SKIP, reason=consent)
    if isinstance(error, ConsentRequiredError):
        return Decision(Step.SKIP, reason=SkipReason.CONSENT_REJECTED)
    if isinstance(error, InvalidImageError):
        return Decision(Step.SKIP, reason=SkipReason.INVALID_IMAGE)
    if isinstance(error, GuardStoreError):
        # The guard's store fails before a request (nothing sent) but also in the guard's
        # bookkeeping AFTER the service answered: the add may have been applied.
        return Decision(Step.RETRY, in_doubt=mutating and sent)
    if isinstance(error, GuardError):
        return Decision(Step.FAIL)  # refused before any I/O; a retry gets the same answer
    if isinstance(error, RateLimitError):
        # A throttled request was not applied.
        return Decision(Step.RETRY, retry_after=error.retry_after)
    if isinstance(error, RateLimitWaitError):
        # The client's own limiter would have waited too long: nothing was sent (and the
        # client re-sends an add only after a 429 or a connection that never carried it).
        return Decision(Step.RETRY, retry_after=error.wait)
    if isinstance(error, APIStatusError):
        reason = _image_reason(error)
        if reason is not None:
            return Decision(Step.SKIP, reason=reason)
        if error.status_code >= _RETRY_STATUS_MIN:
            # A 5xx may come after the service applied the add.
            return Decision(
                Step.RETRY,
                in_doubt=mutating,
                retry_after=error.retry_after,
                settle=mutating and error.status_code == _GATEWAY_TIMEOUT,
            )
        return Decision(Step.FAIL)
    if isinstance(error, APIConnectionError):
        # Dropped or timed out after the request left: it may be running on the service still.
        doubt = mutating and error.request_sent
        return Decision(Step.RETRY, in_doubt=doubt, settle=doubt)
    if isinstance(error, APIResponseValidationError):
        # A success status came back: the add happened, but its answer is unreadable.
        return Decision(Step.FAIL, in_doubt=mutating)
    if isinstance(error, FaceGuardError) or not sent:
        return Decision(Step.FAIL)
    # An unexpected error while the request was out: assume it may have been applied.
    return Decision(Step.FAIL, in_doubt=mutating)


def _summary(error: BaseException) -> dict[str, Any]:
    """Type, code, message and support info of an error: nothing else is kept."""
    summary: dict[str, Any] = {"error_type": type(error).__name__}
    if isinstance(error, FaceGuardError):
        # faceguard's messages never carry keys, tokens, images or faceIds.
        summary["message"] = str(error)
    if isinstance(error, APIStatusError):
        summary["error_code"] = error.error_code
    if isinstance(error, ConsentRejectedError):
        summary["error_code"] = error.check
    support = getattr(error, "support", None)
    if isinstance(support, SupportInfo):
        summary["support"] = support.as_dict()
    return summary


def record_of(
    key: str,
    state: str,
    *,
    attempts: int,
    error: BaseException | None = None,
    **fields: Any,
) -> JournalRecord:
    """A journal record; with ``error``, its summary."""
    summary = _summary(error) if error is not None else {}
    return JournalRecord(key=key, state=state, attempts=attempts, **summary, **fields)  # type: ignore[arg-type]


def _support(data: dict[str, Any] | None) -> SupportInfo | None:
    if not data:
        return None
    known = {
        "operation",
        "method",
        "api_path",
        "request_id",
        "client_request_id",
        "status_code",
        "error_code",
        "session_id",
        "model_version",
    }
    fields = {k: v for k, v in data.items() if k in known}
    extra = {k: str(v) for k, v in data.items() if k not in known}
    fields.setdefault("operation", "")
    fields.setdefault("method", "")
    fields.setdefault("api_path", "")
    return SupportInfo(**fields, extra=extra)


def result_of(
    record: JournalRecord,
    *,
    recovered: bool = False,
    from_journal: bool = False,
    faces: list[Any] | None = None,
) -> BulkItemResult:
    """The report entry of a final journal record (``added``, ``skipped`` or ``failed``)."""
    if record.state not in ("added", "skipped", "failed"):
        raise ValueError(f"record of {record.key!r} is not final ({record.state})")
    return BulkItemResult(
        key=record.key,
        status=record.state,
        persisted_face_id=record.persisted_face_id,
        reason=SkipReason(record.reason) if record.reason else None,
        error_type=record.error_type,
        error_code=record.error_code,
        message=record.message,
        support=_support(record.support),
        attempts=0 if from_journal else record.attempts,
        recovered=recovered,
        from_journal=from_journal,
        in_doubt=record.in_doubt,
        faces=faces,
    )
