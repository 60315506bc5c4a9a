"""Turn pure builders into methods of the sync and async operation groups.

An operation is written once, as a builder: a pure function from the caller's arguments to a
``RequestSpec`` (or a ``PageSpec`` / ``TrainSpec``). A group class lists its operations as
``name = sync_call(builder)`` or ``name = async_call(builder)``; the descriptor gives the method
the builder's exact signature and docstring, and adds only the I/O: ``send`` or ``await send``.
So the two clients cannot drift apart, and a signature is written in one place.

Between the builder and the send, ``_build`` makes every failure of the caller's arguments a
typed ``InvalidInputError``: the built request passes ``check_sendable`` (valid Unicode,
JSON-able values) before the guard or httpx sees it, and an exception a builder check did not
foresee (a ``TypeError`` from a wrong type deep inside, an ``OverflowError``) is reported as
the caller's input error rather than escaping untyped.
"""

from __future__ import annotations

import functools
import inspect
import string
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from .._exceptions import FaceGuardError, InvalidInputError
from .._pagination import AsyncPager, SyncPager
from .._polling import AsyncTrainingPoller, TrainingPoller
from .._transport._async import AsyncTransport
from .._transport._spec import PageSpec, RequestSpec, TrainSpec
from .._transport._sync import SyncTransport
from ._inputs import check_sendable

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..models.collections import TrainingResult

__all__ = [
    "AsyncGroup",
    "SyncGroup",
    "async_call",
    "async_pages",
    "async_train",
    "sync_call",
    "sync_pages",
    "sync_train",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class SyncGroup:
    """Base of the sync operation groups."""

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport


class AsyncGroup:
    """Base of the async operation groups."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport


class _Operation(Generic[P, R]):
    """A descriptor binding a builder to a group's transport."""

    def __init__(
        self,
        builder: Callable[..., Any],
        execute: Callable[[Any, Any], Any],
        *,
        coroutine: bool,
        returns: str,
    ) -> None:
        self._builder = builder
        self._execute = execute
        self._coroutine = coroutine
        self._name = builder.__name__
        self._returns = returns

    # Signature and docstring are computed on first use (help(), inspect, docs), not at import.
    @functools.cached_property
    def __signature__(self) -> inspect.Signature:
        return_annotation = _returns(self._builder, self._returns)
        return inspect.signature(self._builder).replace(return_annotation=return_annotation)

    @functools.cached_property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return _document(self._builder)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name
        # Where the method lives, for help() and the API reference (griffe reads these to
        # tell a group's own method from an alias of another module's object).
        self.__module__ = owner.__module__
        self.__qualname__ = f"{owner.__qualname__}.{name}"

    def __call__(self, *_args: object, **_kwargs: object) -> None:
        """Callable only so that ``inspect.signature`` (and the API reference) reads the
        method's signature from the class; the operation runs on a client's group."""
        raise InvalidInputError(
            "arguments",
            "signature",
            f"{self.__qualname__} is an operation: call it on a client's group, "
            f"e.g. client.<group>.{self._name}(...)",
        )

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(
        self, obj: SyncGroup | AsyncGroup, owner: type[Any] | None = None
    ) -> Callable[P, R]: ...

    def __get__(self, obj: object, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        transport = obj._transport  # type: ignore[attr-defined]
        builder, execute = self._builder, self._execute

        async def bound_async(*args: Any, **kwargs: Any) -> Any:
            return await execute(transport, _build(builder, args, kwargs))

        def bound_sync(*args: Any, **kwargs: Any) -> Any:
            return execute(transport, _build(builder, args, kwargs))

        bound: Callable[..., Any] = bound_async if self._coroutine else bound_sync

        functools.update_wrapper(bound, builder)
        bound.__name__ = bound.__qualname__ = self._name
        bound.__doc__ = self.__doc__
        bound.__signature__ = self.__signature__  # type: ignore[attr-defined]
        # Cache on the instance: later look-ups find the bound method without this descriptor.
        obj.__dict__[self._name] = bound
        return bound


def _build(builder: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The builder's spec, checked sendable; any failure of the arguments typed."""
    try:
        built = builder(*args, **kwargs)
    except FaceGuardError:
        raise
    except Exception as exc:  # noqa: BLE001 - the caller's arguments, whatever broke on them
        name = getattr(builder, "__name__", "the call")
        traceback = exc.__traceback__
        if isinstance(exc, TypeError) and traceback is not None and traceback.tb_next is None:
            # Raised by the call itself: a missing or unknown argument. The message names
            # arguments only, never their values.
            raise InvalidInputError("arguments", "signature", str(exc)) from None
        # Otherwise neither the message nor the exception is kept: either may quote the
        # argument, which may be a name, a token or image bytes.
        raise InvalidInputError(
            "arguments",
            "invalid",
            f"{name} could not use its arguments ({type(exc).__name__}); see the types and "
            "ranges its docstring gives",
        ) from None
    first = built.first if isinstance(built, PageSpec) else built
    check_sendable(first.start if isinstance(first, TrainSpec) else first)
    return built


def _document(builder: Callable[..., Any]) -> str | None:
    """The builder's docstring; shared container builders fill in ``$route``, ``$kind``..."""
    fields = getattr(getattr(builder, "__self__", None), "doc_fields", None)
    if builder.__doc__ is None or not isinstance(fields, dict):
        return builder.__doc__
    return string.Template(builder.__doc__).safe_substitute(fields)


def _returns(builder: Callable[..., Any], wrapper: str) -> str:
    annotation = inspect.signature(builder).return_annotation
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    inner = text[text.index("[") + 1 : -1] if "[" in text else text
    return wrapper.format(inner)


def sync_call(builder: Callable[P, RequestSpec[T]]) -> _Operation[P, T]:
    """A sync method that sends the builder's request and returns the parsed result."""
    return _Operation(builder, SyncTransport.send, coroutine=False, returns="{}")


def async_call(builder: Callable[P, RequestSpec[T]]) -> _Operation[P, Coroutine[Any, Any, T]]:
    """An async method that sends the builder's request and returns the parsed result."""
    return _Operation(builder, AsyncTransport.send, coroutine=True, returns="{}")


def sync_pages(builder: Callable[P, PageSpec[T]]) -> _Operation[P, SyncPager[T]]:
    """A sync method returning a lazy iterator over every page of a list."""
    return _Operation(builder, SyncPager, coroutine=False, returns="SyncPager[{}]")


def async_pages(builder: Callable[P, PageSpec[T]]) -> _Operation[P, AsyncPager[T]]:
    """A method returning a lazy async iterator over every page of a list."""
    return _Operation(builder, AsyncPager, coroutine=False, returns="AsyncPager[{}]")


def _start_training(transport: SyncTransport, spec: TrainSpec[TrainingResult]) -> TrainingPoller:
    transport.send(spec.start)
    return TrainingPoller(transport, spec)


async def _start_training_async(
    transport: AsyncTransport, spec: TrainSpec[TrainingResult]
) -> AsyncTrainingPoller:
    await transport.send(spec.start)
    return AsyncTrainingPoller(transport, spec)


def sync_train(builder: Callable[P, TrainSpec[TrainingResult]]) -> _Operation[P, TrainingPoller]:
    """A sync method that starts training and returns a poller."""
    return _Operation(builder, _start_training, coroutine=False, returns="TrainingPoller")


def async_train(
    builder: Callable[P, TrainSpec[TrainingResult]],
) -> _Operation[P, Coroutine[Any, Any, AsyncTrainingPoller]]:
    """An async method that starts training and returns a poller."""
    return _Operation(builder, _start_training_async, coroutine=True, returns="AsyncTrainingPoller")
