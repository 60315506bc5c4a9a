"""List results that keep their support info; free of pydantic so the transport can use it
without loading the models."""

from __future__ import annotations

from typing import Any, TypeVar

from .._exceptions import SupportInfo

__all__ = ["ResultList"]

T = TypeVar("T")


class ResultList(list[T]):
    """A list result (detect, identify, find-similar, list calls) that keeps its support info."""

    _support: SupportInfo | None = None

    def support_info(self) -> dict[str, Any]:
        """API path, request ids and model version of the call that returned this list."""
        return self._support.as_dict() if self._support is not None else {}
