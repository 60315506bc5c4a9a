"""The async shell of bulk enrollment and detection: worker tasks, ``await``.

The same step machines as the sync shell (``_steps``), driven with awaited calls by
``concurrency`` worker tasks that pull the next item when they finish one: no task per item
is created up front, and an image is read only when its item is sent. Journal writes run in
a worker thread (``asyncio.to_thread``), so a SQLite or Redis journal never blocks the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .._transport._before_send import before_send
from ._items import BulkFace, BulkImage
from ._journal import Journal, JournalRecord
from ._outcome import Backoff
from ._plan import Plan, plan_add, plan_detect
from ._progress import Progress
from ._report import BulkItemResult, BulkReport
from ._steps import Action, Failed, ItemSteps, Sleep, Stopped, Write
from ._target import AsyncEnrollmentGroup, detection_group

__all__ = ["async_bulk_add_faces", "async_bulk_detect"]


class _Runner:
    """Performs the actions of the step machines, awaiting the I/O. Once ``stopped`` is set
    (a journal failure, a crash, a cancellation), no item sends or waits any more, as in the
    sync shell."""

    def __init__(self, plan: Plan, group: Any, sleep: Callable[[float], Awaitable[None]]) -> None:
        self._plan = plan
        self._transport = group._transport
        self._sleep = sleep
        self.stopped = False

    async def drive(self, steps: ItemSteps) -> BulkItemResult:
        reply: object = None
        try:
            while True:
                reply = await self._perform(steps.send(reply))
        except StopIteration as done:
            result: BulkItemResult = done.value
            return result
        finally:
            steps.close()

    async def _perform(self, action: Action) -> object:
        if isinstance(action, Write):
            # A journal failure stops the run (JournalError): never send unrecorded.
            await asyncio.to_thread(self._plan.journal.put, self._plan.batch_id, action.record)
            return None
        if self.stopped:
            raise Stopped
        if isinstance(action, Sleep):
            await self._sleep(action.seconds)
            return None
        record = action.record
        if record is None:
            try:
                return await self._transport.send(action.spec)
            except Exception as exc:  # noqa: BLE001 - classified by the step machine
                return Failed(exc)
        return await self._send_recorded(action.spec, record)

    async def _send_recorded(self, spec: Any, record: JournalRecord) -> object:
        """Send ``spec``, writing ``record`` as it leaves (see ``Send.record``)."""
        written = False
        failure: BaseException | None = None

        async def write() -> None:
            nonlocal written, failure
            if self.stopped:
                failure = Stopped()
                raise failure
            if not written:
                try:
                    await asyncio.to_thread(self._plan.journal.put, self._plan.batch_id, record)
                except BaseException as exc:
                    failure = exc
                    raise
                written = True

        token = before_send.set(write)
        try:
            return await self._transport.send(spec)
        except Exception as exc:
            if exc is failure:
                raise  # a journal failure or a stop: the run stops, nothing was sent
            return Failed(exc)
        finally:
            before_send.reset(token)


async def _run(
    plan: Plan, group: Any, *, progress: bool, sleep: Callable[[float], Awaitable[None]]
) -> BulkReport:
    priors = await asyncio.to_thread(plan.journal.open_batch, plan.batch_id, plan.keys)
    plan.opened(priors)
    runner = _Runner(plan, group, sleep)
    results: list[BulkItemResult | None] = [None] * len(plan.keys)
    bar = Progress(enabled=progress, total=len(plan.keys), desc=plan.desc)
    indices = iter(range(len(plan.keys)))  # shared: each worker pulls the next item

    async def worker() -> None:
        for index in indices:
            if runner.stopped:
                return
            try:
                result = await runner.drive(plan.steps(index, priors.get(plan.keys[index])))
            except BaseException:
                # A journal failure, a crash or a cancellation: the others send nothing more.
                runner.stopped = True
                raise
            results[index] = result
            bar.done(result)

    try:
        workers = min(plan.concurrency, len(plan.keys))
        outcomes = await asyncio.gather(*(worker() for _ in range(workers)), return_exceptions=True)
    finally:
        runner.stopped = True
        bar.close()
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, Stopped):
            raise outcome
    return BulkReport(batch_id=plan.batch_id, items=[r for r in results if r is not None])


async def async_bulk_add_faces(
    group: AsyncEnrollmentGroup,
    container_id: str,
    items: Iterable[BulkFace],
    *,
    journal: Journal | None = None,
    concurrency: int = 8,
    progress: bool = True,
    max_attempts: int = 5,
    batch_id: str | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    backoff: Backoff | None = None,
) -> BulkReport:
    """Enroll many faces into one container with the async client; see ``bulk_add_faces``.

    REST: ``POST .../persistedfaces`` per item; for an add in doubt, the ``GET`` calls
    ``bulk_add_faces`` lists. Guard checks: enrollment consent per item (a refused or
    withdrawn consent skips the item). ``concurrency`` worker tasks; ``sleep`` is awaited
    between tries.
    """
    plan = plan_add(
        group,
        container_id,
        items,
        asynchronous=True,
        journal=journal,
        concurrency=concurrency,
        max_attempts=max_attempts,
        batch_id=batch_id,
        backoff=backoff,
    )
    return await _run(plan, group, progress=progress, sleep=sleep)


async def async_bulk_detect(
    detection_group_or_client: Any,
    items: Iterable[BulkImage],
    *,
    journal: Journal | None = None,
    concurrency: int = 8,
    progress: bool = True,
    min_face_size: int | None = None,
    max_attempts: int = 5,
    batch_id: str | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    backoff: Backoff | None = None,
    **detect_options: Any,
) -> BulkReport:
    """Detect faces in many images with the async client; see ``bulk_detect``.

    REST: ``POST /detect`` per item. Guard checks: those of ``detect``, applied to the
    options once before anything is sent.
    """
    group = detection_group(detection_group_or_client, asynchronous=True)
    plan = plan_detect(
        items,
        journal=journal,
        concurrency=concurrency,
        max_attempts=max_attempts,
        batch_id=batch_id,
        backoff=backoff,
        min_face_size=min_face_size,
        options=detect_options,
    )
    return await _run(plan, group, progress=progress, sleep=sleep)
