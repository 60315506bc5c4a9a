"""When to retry, and how long to wait: one frozen policy for both shells.

The policy decides; tenacity runs the loop. ``RetryPolicy.retrying`` and
``RetryPolicy.async_retrying`` build their loops from the same ``stop``, ``wait`` and ``retry``
strategies, so the sync and async clients cannot drift apart.

Retryability is decided per operation, not per HTTP method (DESIGN §2): an operation that is not
idempotent (a create with a server-assigned id, an add-face, a train) is retried only when the
service cannot have applied it: a connection that failed before any byte left, or a 429.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .._constants import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_AFTER_CAP,
    RETRYABLE_STATUS,
)
from .._exceptions import APIConnectionError, APIStatusError, InvalidInputError, RateLimitError

if TYPE_CHECKING:
    import tenacity

__all__ = ["RetryPolicy", "parse_retry_after"]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from ``Retry-After``: delta-seconds or an HTTP date (RFC 9110 §10.2.3).

    Returns ``None`` for a missing or unparseable value, and never a negative number.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How a failed call is retried.

    Args:
        max_attempts: total attempts, the first included; 1 disables retries.
        backoff_base: first backoff in seconds, doubled each retry.
        backoff_cap: longest backoff in seconds.
        retry_after_cap: longest ``Retry-After`` honoured; a server asking for more makes the
            call fail at once with ``RateLimitError`` (its ``retry_after`` says how long).
        jitter: fraction of each backoff randomly removed, to spread clients apart.
    """

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_cap: float = DEFAULT_BACKOFF_CAP
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP
    jitter: float = 0.25
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        # InvalidInputError is a ValueError too: callers that caught ValueError still do.
        attempts: object = self.max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise InvalidInputError(
                "max_attempts", "range", "max_attempts must be at least 1 (an integer)"
            )
        if not (_seconds(self.jitter) and self.jitter <= 1.0):
            raise InvalidInputError("jitter", "range", "jitter must be within [0, 1]")
        for name in ("backoff_base", "backoff_cap", "retry_after_cap"):
            if not _seconds(getattr(self, name)):
                raise InvalidInputError(
                    name, "range", "backoff and cap values must not be negative (finite seconds)"
                )

    # -- decisions (pure) ----------------------------------------------------------------

    def is_retryable(self, error: BaseException, *, idempotent: bool) -> bool:
        """Whether ``error`` may be retried for an operation of the given idempotency."""
        if isinstance(error, APIConnectionError):
            return idempotent or not error.request_sent
        if not isinstance(error, APIStatusError):
            return False
        if error.retry_after is not None and error.retry_after > self.retry_after_cap:
            return False  # the service asks for a longer wait than the caller allows
        if isinstance(error, RateLimitError):
            return True  # a throttled request was not applied, so even a create may be resent
        return idempotent and error.status_code in RETRYABLE_STATUS

    def backoff(self, attempt_number: int) -> float:
        """Exponential backoff after ``attempt_number`` failed attempts, with jitter."""
        delay: float = min(self.backoff_cap, self.backoff_base * 2.0 ** (attempt_number - 1))
        return delay * (1.0 - self.jitter * self.random())

    def wait_for(self, error: BaseException | None, attempt_number: int) -> float:
        """Seconds to wait before the next attempt: the server's Retry-After, else backoff."""
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, float | int):
            return min(float(retry_after), self.retry_after_cap)
        return self.backoff(attempt_number)

    # -- tenacity loops --------------------------------------------------------------------

    def first_retry_wait(self, error: BaseException, *, idempotent: bool) -> float | None:
        """After a failed first attempt: seconds to wait before the second, or None to give up.

        The transports run the first attempt outside tenacity (most calls succeed at once, and
        building a retry loop for them costs CPU on every call) and hand over to ``retrying``
        with ``offset=1`` only when it failed.
        """
        if self.max_attempts < 2 or not self.is_retryable(error, idempotent=idempotent):
            return None
        return self.wait_for(error, 1)

    def _strategies(self, idempotent: bool, offset: int) -> dict[str, object]:
        import tenacity  # loaded with the first retry, not with faceguard

        def should_retry(state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None and outcome.failed else None
            return error is not None and self.is_retryable(error, idempotent=idempotent)

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome is not None else None
            return self.wait_for(error, state.attempt_number + offset)

        return {
            "stop": tenacity.stop_after_attempt(self.max_attempts - offset),
            "wait": wait,
            "retry": should_retry,
            "reraise": True,
        }

    def retrying(
        self, *, idempotent: bool, sleep: Callable[[float], None], offset: int = 0
    ) -> tenacity.Retrying:
        """A sync retry loop for one call; ``offset`` attempts were already made outside it."""
        import tenacity

        strategies = self._strategies(idempotent, offset)
        return tenacity.Retrying(sleep=sleep, **strategies)  # type: ignore[arg-type]

    def async_retrying(
        self, *, idempotent: bool, sleep: Callable[[float], Awaitable[None]], offset: int = 0
    ) -> tenacity.AsyncRetrying:
        """An async retry loop for one call, with the same strategies as ``retrying``."""
        import tenacity

        strategies = self._strategies(idempotent, offset)
        return tenacity.AsyncRetrying(sleep=sleep, **strategies)  # type: ignore[arg-type]


def _seconds(value: object) -> bool:
    """A finite, non-negative number (an int too large for a float is not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and value >= 0
    except OverflowError:
        return False
