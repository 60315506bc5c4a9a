"""List results that keep their support info; free of pydantic so the transport can use it
without loading the models."""

from __future__ import annotations

from typing import Any, TypeVar

from .._exceptions import PendingSupport, SupportInfo

__all__ = ["ResultList"]

T = TypeVar("T")


class ResultList(list[T]):
    """A list result (detect, identify, find-similar, list calls) that keeps its support info."""

    _support_state: SupportInfo | PendingSupport | None = None
    """The support info, or the raw values it is built from on first use."""

    @property
    def _support(self) -> SupportInfo | None:
        state = self._support_state
        if isinstance(state, PendingSupport):
            state = self._support_state = state.resolve()
        return state

    @_support.setter
    def _support(self, value: SupportInfo | None) -> None:
        self._support_state = value

    def _attach_support(self, support: SupportInfo | PendingSupport | None) -> None:
        """Keep the support info of the call that returned this list (pending or built)."""
        self._support_state = support

    def support_info(self) -> dict[str, Any]:
        """API path, request ids and model version of the call that returned this list."""
        support = self._support
        return support.as_dict() if support is not None else {}


_CLASS_HAS: dict[tuple[type, str], bool] = {}
"""Per (type, name): whether plain attribute look-up can find ``name`` beyond the instance
``__dict__`` (always true for types that are not pydantic models)."""


def attr_or_none(obj: object, name: str) -> Any:
    """``getattr(obj, name, None)``, without the AttributeError a pydantic model raises (and
    catches again) for a name that is neither a field, a class attribute nor an extra: that
    round trip costs more than the rest of a guard's look-up."""
    values = getattr(obj, "__dict__", None)
    if values is not None and name in values:
        return values[name]
    cls = type(obj)
    key = (cls, name)
    has = _CLASS_HAS.get(key)
    if has is None:
        has = _CLASS_HAS[key] = not hasattr(cls, "__pydantic_fields__") or hasattr(cls, name)
    if has:
        return getattr(obj, name, None)
    extra = getattr(obj, "__pydantic_extra__", None)  # where a model's __getattr__ looks
    return extra.get(name) if extra else None
