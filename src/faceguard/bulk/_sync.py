"""The sync shell of bulk enrollment and detection: threads, plain calls.

Everything decided about an item is in ``_steps`` (the same generators the async shell
runs); here they are driven with blocking calls on a ``ThreadPoolExecutor``. At most
``concurrency`` items are in flight: the next item is submitted only when one finishes, and
its image is read only then.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from .._transport._before_send import before_send
from ._items import BulkFace, BulkImage
from ._journal import Journal, JournalRecord
from ._outcome import Backoff
from ._plan import Plan, plan_add, plan_detect
from ._progress import Progress
from ._report import BulkItemResult, BulkReport
from ._steps import Action, Failed, ItemSteps, Sleep, Stopped, Write
from ._target import EnrollmentGroup, detection_group

__all__ = ["bulk_add_faces", "bulk_detect"]


class _Runner:
    """Performs the actions of the step machines, with blocking I/O. Once ``stop`` is
    called (a journal failure, a crash, Ctrl-C), no item sends or waits any more: each is
    left as its journal says (``sending`` is looked up by the next run)."""

    def __init__(self, plan: Plan, group: Any, sleep: Callable[[float], None]) -> None:
        self._plan = plan
        self._transport = group._transport
        self._sleep = sleep
        self._stopped = threading.Event()

    def stop(self) -> None:
        """Let no item send or wait any more."""
        self._stopped.set()

    def drive(self, steps: ItemSteps) -> BulkItemResult:
        reply: object = None
        try:
            while True:
                reply = self._perform(steps.send(reply))
        except StopIteration as done:
            result: BulkItemResult = done.value
            return result
        finally:
            steps.close()

    def _perform(self, action: Action) -> object:
        if isinstance(action, Write):
            # A journal failure stops the run (JournalError): never send unrecorded.
            self._plan.journal.put(self._plan.batch_id, action.record)
            return None
        if self._stopped.is_set():
            raise Stopped
        if isinstance(action, Sleep):
            self._sleep(action.seconds)
            return None
        record = action.record
        if record is None:
            try:
                return self._transport.send(action.spec)
            except Exception as exc:  # noqa: BLE001 - classified by the step machine
                return Failed(exc)
        return self._send_recorded(action.spec, record)

    def _send_recorded(self, spec: Any, record: JournalRecord) -> object:
        """Send ``spec``, writing ``record`` as it leaves (see ``Send.record``)."""
        written = False
        failure: BaseException | None = None

        def write() -> None:
            nonlocal written, failure
            if self._stopped.is_set():
                failure = Stopped()
                raise failure
            if not written:
                try:
                    self._plan.journal.put(self._plan.batch_id, record)
                except BaseException as exc:
                    failure = exc
                    raise
                written = True

        token = before_send.set(write)
        try:
            return self._transport.send(spec)
        except Exception as exc:
            if exc is failure:
                raise  # a journal failure or a stop: the run stops, nothing was sent
            return Failed(exc)
        finally:
            before_send.reset(token)


def _run(plan: Plan, group: Any, *, progress: bool, sleep: Callable[[float], None]) -> BulkReport:
    priors = plan.journal.open_batch(plan.batch_id, plan.keys)
    plan.opened(priors)
    runner = _Runner(plan, group, sleep)
    results: list[BulkItemResult | None] = [None] * len(plan.keys)
    bar = Progress(enabled=progress, total=len(plan.keys), desc=plan.desc)
    failure: BaseException | None = None

    def collect(done: set[Future[BulkItemResult]]) -> None:
        nonlocal failure
        for future in done:
            index = running.pop(future)
            error = future.exception()
            if error is not None:
                if not isinstance(error, Stopped):
                    failure = failure or error
                runner.stop()  # a journal failure (or a crash): the others send nothing more
                continue
            results[index] = future.result()
            bar.done(future.result())

    running: dict[Future[BulkItemResult], int] = {}
    try:
        with ThreadPoolExecutor(plan.concurrency, thread_name_prefix="faceguard-bulk") as pool:
            try:
                for index, key in enumerate(plan.keys):
                    while len(running) >= plan.concurrency and failure is None:
                        collect(wait(running, return_when=FIRST_COMPLETED)[0])
                    if failure is not None:
                        break
                    steps = plan.steps(index, priors.get(key))
                    running[pool.submit(runner.drive, steps)] = index
                while running:
                    collect(wait(running, return_when=FIRST_COMPLETED)[0])
            except BaseException:
                runner.stop()  # Ctrl-C: the items in flight stop before their next request
                raise
    finally:
        bar.close()
    if failure is not None:
        raise failure
    return BulkReport(batch_id=plan.batch_id, items=[r for r in results if r is not None])


def bulk_add_faces(
    group: EnrollmentGroup,
    container_id: str,
    items: Iterable[BulkFace],
    *,
    journal: Journal | None = None,
    concurrency: int = 8,
    progress: bool = True,
    max_attempts: int = 5,
    batch_id: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    backoff: Backoff | None = None,
) -> BulkReport:
    """Enroll many faces into one container, surviving throttling and crashes.

    REST: ``POST .../persistedfaces`` per item (the group's ``add_face``); for an add in
    doubt, ``GET .../persons/{personId}`` and ``GET .../persistedfaces/{id}`` (person
    kinds), ``GET /facelists/{id}`` or ``GET /largefacelists/{id}/persistedfaces``.
    Guard checks: each add needs enrollment consent for its person (``BulkFace.consent``);
    a refused or withdrawn consent skips that item.

    No face lost, none added twice: each face's userData carries a marker of (batch id,
    key); the journal records ``sending`` before each request, so an add in doubt (crash,
    dropped connection, 5xx) is looked up on the service before it is sent again. Rerunning
    with the same journal and batch id completes the batch: added and skipped items are
    reported from the journal, failed ones are retried.

    Args:
        group: ``client.large_person_groups``, ``client.person_groups``,
            ``client.large_face_lists`` or ``client.face_lists``.
        container_id: the group's or list's id.
        items: ``BulkFace`` items, any iterable; checked before the first request (unique
            keys, ``person_id`` as the kind needs, userData size...). Images are read
            when their item is sent.
        journal: where progress is recorded; a ``SQLiteJournal`` or ``RedisJournal`` to
            resume after a crash. Default: a ``MemoryJournal`` of this call.
        concurrency: items in flight at once (threads).
        progress: show a tqdm bar when tqdm is installed.
        max_attempts: tries per item for 429, 5xx and connection errors (after the
            client's own retries), with exponential backoff and ``Retry-After``.
        batch_id: names the batch in the journal and in the markers; default
            ``<kind>:<container_id>`` (e.g. ``largePersonGroup:employees``).
        sleep: how to wait between tries (a test hook).
        backoff: the waits between tries (``Backoff``).

    Raises:
        InvalidInputError: a bad item or argument; nothing was sent.
        JournalError: the journal failed; the run stopped (rerun to resume).
    """
    plan = plan_add(
        group,
        container_id,
        items,
        asynchronous=False,
        journal=journal,
        concurrency=concurrency,
        max_attempts=max_attempts,
        batch_id=batch_id,
        backoff=backoff,
    )
    return _run(plan, group, progress=progress, sleep=sleep)


def bulk_detect(
    detection_group_or_client: Any,
    items: Iterable[BulkImage],
    *,
    journal: Journal | None = None,
    concurrency: int = 8,
    progress: bool = True,
    min_face_size: int | None = None,
    max_attempts: int = 5,
    batch_id: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    backoff: Backoff | None = None,
    **detect_options: Any,
) -> BulkReport:
    """Detect faces in many images, surviving throttling and crashes.

    REST: ``POST /detect`` per item. Guard checks: those of ``client.detection.detect``,
    applied to ``detect_options`` once before anything is sent (a retired attribute raises
    ``RetiredAttributeError``); ``consent`` may be a function minting a token per attempt.

    Each result's ``faces`` are those of at least ``min_face_size`` pixels (width and
    height); an image with none is skipped (``no_face`` or ``face_too_small``). The journal
    keeps each item's results without faceIds, so a resumed run does not detect again; with
    ``return_face_id=True`` a journal is refused (faceIds expire and are never journaled).

    ``journal``, ``concurrency``, ``progress``, ``max_attempts``, ``sleep`` and ``backoff``
    are as for ``bulk_add_faces``.

    Args:
        detection_group_or_client: a ``FaceClient`` or its ``client.detection``.
        items: ``BulkImage`` items (unique keys); images are read when sent.
        min_face_size: pixels; smaller faces are left out.
        batch_id: default ``detect:<16 hex of the options>``.
        **detect_options: keyword arguments of ``client.detection.detect``.
    """
    group = detection_group(detection_group_or_client, asynchronous=False)
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
    return _run(plan, group, progress=progress, sleep=sleep)
