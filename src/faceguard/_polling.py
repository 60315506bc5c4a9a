"""Pollers for the three training long-running operations, sync and async.

Training answers ``202`` and runs in the background; ``wait()`` polls the matching
``/training`` GET until ``succeeded`` (returns the status) or ``failed``
(``TrainingFailedError``), or until ``timeout`` runs out (``PollingTimeoutError``). The
interval comes from the status response's ``Retry-After`` when the service sends one. The
decision of what to do after each poll is one pure function shared by both pollers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from ._constants import DEFAULT_POLL_INTERVAL, MAX_POLL_INTERVAL
from ._exceptions import PollingTimeoutError, TrainingFailedError
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
        """
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
