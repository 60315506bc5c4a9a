"""Pollers for the three training long-running operations, sync and async.

Training answers ``202`` and runs in the background; ``wait()`` polls the matching
``/training`` GET until ``succeeded`` (returns the status) or ``failed``
(``TrainingFailedError``), or until ``timeout`` runs out (``PollingTimeoutError``). The
interval comes from the status response's ``Retry-After`` when the service sends one. The
decision of what to do after each poll is one pure function shared by both pollers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from ._constants import DEFAULT_POLL_INTERVAL, MAX_POLL_INTERVAL
from ._exceptions import InvalidInputError, PollingTimeoutError, TrainingFailedError
from ._transport._async import AsyncTransport
from ._transport._spec import TrainSpec
from ._transport._sync import SyncTransport
from .models.enums import TrainingStatus

if TYPE_CHECKING:
    from .models.collections import TrainingResult

__all__ = ["AsyncTrainingPoller", "TrainingPoller"]

ProgressCallback: TypeAlias = "Callable[[TrainingResult], None]"


@dataclass(frozen=True)
class _Plan:
    """What a poller should do after a status poll: return, or sleep this long and poll again."""

    done: bool
    sleep: float = 0.0


def _check_wait(
    timeout: float | None, interval: float | None, progress: ProgressCallback | None
) -> None:
    """Refuse what would make ``wait`` hang (a NaN timeout never runs out) or fail mid-way
    (a NaN interval inside ``sleep``, a string in arithmetic), before the first poll."""
    if timeout is not None and not _seconds(timeout, infinite=True):
        raise InvalidInputError("timeout", "range", "must be None or seconds >= 0 (math.inf)")
    if interval is not None and not _seconds(interval, infinite=False):
        raise InvalidInputError("interval", "range", "must be None or finite seconds >= 0")
    if progress is not None and not callable(progress):
        raise InvalidInputError("progress", "type", "must be None or a callable")


def _seconds(value: object, *, infinite: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float: use math.inf to wait forever
        return False
    if math.isnan(number) or number < 0:
        return False
    return infinite or math.isfinite(number)


def _plan(
    result: TrainingResult,
    retry_after: float | None,
    *,
    started: float,
    now: float,
    timeout: float | None,
    interval: float | None,
    route: str,
) -> _Plan:
    if result.status == TrainingStatus.SUCCEEDED:
        return _Plan(done=True)
    if result.status == TrainingStatus.FAILED:
        raise TrainingFailedError(result.message or "no reason given", route=route)
    delay = interval if interval is not None else (retry_after or DEFAULT_POLL_INTERVAL)
    delay = min(max(delay, 0.0), MAX_POLL_INTERVAL)
    if timeout is not None:
        remaining = timeout - (now - started)
        if remaining <= 0:
            # The wire value ("running"), not str() of the enum member ("TrainingStatus.RUNNING").
            status = getattr(result.status, "value", result.status)
            raise PollingTimeoutError(timeout=timeout, last_status=str(status), route=route)
        delay = min(delay, remaining)
    return _Plan(done=False, sleep=delay)


class TrainingPoller:
    """Returned by ``train()``: training has been started; ``wait()`` for it to finish."""

    def __init__(self, transport: SyncTransport, spec: TrainSpec[TrainingResult]) -> None:
        self._transport = transport
        self._spec = spec

    def status(self) -> TrainingResult:
        """Poll the training status once."""
        return self._transport.send(self._spec.status)[0]

    def wait(
        self,
        *,
        timeout: float | None = None,
        interval: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> TrainingResult:
        """Poll until training ends.

        Args:
            timeout: seconds to wait in all; ``None`` waits as long as it takes.
            interval: fixed seconds between polls; by default the server's ``Retry-After``,
                else one second.
            progress: called with every status polled.

        Raises:
            TrainingFailedError: training ended with status ``failed``.
            PollingTimeoutError: ``timeout`` ran out first.
            InvalidInputError: ``timeout``, ``interval`` or ``progress`` is not one of the
                above (checked before the first poll).
        """
        _check_wait(timeout, interval, progress)
        clock = self._transport.clock
        started = clock()
        while True:
            result, retry_after = self._transport.send(self._spec.status)
            if progress is not None:
                progress(result)
            plan = _plan(
                result,
                retry_after,
                started=started,
                now=clock(),
                timeout=timeout,
                interval=interval,
                route=self._spec.start.route,
            )
            if plan.done:
                return result
            self._transport.sleep(plan.sleep)


class AsyncTrainingPoller:
    """Returned by ``await train()``: training has been started; ``await wait()`` for it."""

    def __init__(self, transport: AsyncTransport, spec: TrainSpec[TrainingResult]) -> None:
        self._transport = transport
        self._spec = spec

    async def status(self) -> TrainingResult:
        """Poll the training status once."""
        return (await self._transport.send(self._spec.status))[0]

    async def wait(
        self,
        *,
        timeout: float | None = None,
        interval: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> TrainingResult:
        """Poll until training ends; see ``TrainingPoller.wait``."""
        _check_wait(timeout, interval, progress)
        clock = self._transport.clock
        started = clock()
        while True:
            result, retry_after = await self._transport.send(self._spec.status)
            if progress is not None:
                progress(result)
            plan = _plan(
                result,
                retry_after,
                started=started,
                now=clock(),
                timeout=timeout,
                interval=interval,
                route=self._spec.start.route,
            )
            if plan.done:
                return result
            await self._transport.sleep(plan.sleep)
