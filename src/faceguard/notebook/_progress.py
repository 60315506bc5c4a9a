"""Progress bars with ``tqdm.auto``: a widget in Jupyter, a terminal bar in a shell.

``progress(poller)`` waits for a training poller with a bar that moves on every polled
status; ``progress(iterable)`` and ``track(iterable)`` wrap a bulk loop (enrolling faces,
detecting a folder of images). Extra keyword arguments go to tqdm (``file``, ``disable``,
``leave``, ``position``...).
"""

from __future__ import annotations

import inspect
from collections.abc import Coroutine, Iterable, Iterator, Sized
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

from ._deps import tqdm_class

if TYPE_CHECKING:
    from .._polling import ProgressCallback
    from ..models.collections import TrainingResult

__all__ = ["AsyncWaitable", "Waitable", "progress", "track"]

T = TypeVar("T")


class Waitable(Protocol):
    """What ``progress`` needs of a poller: ``TrainingPoller.wait``."""

    def wait(
        self,
        *,
        timeout: float | None = ...,
        interval: float | None = ...,
        progress: ProgressCallback | None = ...,
    ) -> TrainingResult: ...


class AsyncWaitable(Protocol):
    """What ``progress`` needs of an async poller: ``AsyncTrainingPoller.wait``."""

    async def wait(
        self,
        *,
        timeout: float | None = ...,
        interval: float | None = ...,
        progress: ProgressCallback | None = ...,
    ) -> TrainingResult: ...


class _PollBar:
    """A bar counting polls, its postfix the last status; full when training succeeds."""

    def __init__(self, desc: str, options: dict[str, Any]) -> None:
        options.setdefault("unit", " polls")
        self._bar = tqdm_class()(total=None, desc=desc, **options)

    def __call__(self, result: TrainingResult) -> None:
        status = getattr(result.status, "value", result.status)
        self._bar.set_postfix_str(f"status={status}", refresh=False)
        self._bar.update(1)

    def finish(self) -> None:
        self._bar.total = self._bar.n
        self._bar.refresh()
        self._bar.close()

    def abort(self) -> None:
        self._bar.close()


def _wait(poller: Waitable, bar: _PollBar, timeout: float | None, interval: float | None) -> Any:
    try:
        result = poller.wait(timeout=timeout, interval=interval, progress=bar)
    except BaseException:
        bar.abort()
        raise
    bar.finish()
    return result


async def _await(
    poller: AsyncWaitable, bar: _PollBar, timeout: float | None, interval: float | None
) -> TrainingResult:
    try:
        result = await poller.wait(timeout=timeout, interval=interval, progress=bar)
    except BaseException:
        bar.abort()
        raise
    bar.finish()
    return result


def _iterate(bar: Any) -> Iterator[Any]:
    try:
        yield from bar
    finally:
        bar.close()


def track(
    iterable: Iterable[T],
    total: int | None = None,
    desc: str | None = None,
    **tqdm_options: Any,
) -> Iterator[T]:
    """Iterate ``iterable`` with a progress bar; ``total`` defaults to its ``len()``.

    Raises:
        ConfigurationError: tqdm is not installed.
    """
    if total is None and isinstance(iterable, Sized):
        total = len(iterable)
    bar = tqdm_class()(iterable, total=total, desc=desc, **tqdm_options)
    return _iterate(bar)


@overload
def progress(
    source: AsyncWaitable,
    *,
    desc: str | None = ...,
    timeout: float | None = ...,
    interval: float | None = ...,
    total: int | None = ...,
    **tqdm_options: Any,
) -> Coroutine[Any, Any, TrainingResult]: ...
@overload
def progress(
    source: Waitable,
    *,
    desc: str | None = ...,
    timeout: float | None = ...,
    interval: float | None = ...,
    total: int | None = ...,
    **tqdm_options: Any,
) -> TrainingResult: ...
@overload
def progress(
    source: Iterable[T],
    *,
    desc: str | None = ...,
    timeout: float | None = ...,
    interval: float | None = ...,
    total: int | None = ...,
    **tqdm_options: Any,
) -> Iterator[T]: ...
def progress(
    source: Any,
    *,
    desc: str | None = None,
    timeout: float | None = None,
    interval: float | None = None,
    total: int | None = None,
    **tqdm_options: Any,
) -> Any:
    """A progress bar for a training poller or a bulk loop.

    - ``TrainingPoller``: waits (``wait(timeout=, interval=)``) with a bar that moves on each
      polled status and shows it; returns the final ``TrainingResult``, and raises what
      ``wait`` raises (``TrainingFailedError``, ``PollingTimeoutError``).
    - ``AsyncTrainingPoller``: the same as a coroutine: ``await progress(poller)``.
    - any iterable: ``track(source, total=total, desc=desc)``.

    Raises:
        ConfigurationError: tqdm is not installed.
    """
    wait = getattr(source, "wait", None)
    if callable(wait):
        bar = _PollBar(desc or "training", tqdm_options)
        if inspect.iscoroutinefunction(wait):
            return _await(source, bar, timeout, interval)
        return _wait(source, bar, timeout, interval)
    if timeout is not None or interval is not None:
        raise TypeError("timeout and interval apply to training pollers only")
    return track(source, total=total, desc=desc, **tqdm_options)
