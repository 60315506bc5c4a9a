"""Pure parsers from a raw response to typed results, shared by every operation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from .._transport._retry import parse_retry_after
from .._transport._spec import RawResponse
from ..models._base import ResultList
from ..models.collections import TrainingResult

__all__ = ["binary", "empty", "face_page", "model", "model_list", "training_status"]

M = TypeVar("M", bound=BaseModel)


@functools.cache
def _list_adapter(cls: type[Any]) -> TypeAdapter[list[Any]]:
    # Built on first use, not at import: import time is a measured target.
    return TypeAdapter(list[cls])  # type: ignore[valid-type]


def model(cls: type[M]) -> Callable[[RawResponse], M]:
    """Parse a JSON object into ``cls``."""

    def parse(raw: RawResponse) -> M:
        return cls.model_validate_json(raw.content)

    return parse


def model_list(cls: type[M]) -> Callable[[RawResponse], ResultList[M]]:
    """Parse a JSON array of ``cls``."""

    def parse(raw: RawResponse) -> ResultList[M]:
        return ResultList(_list_adapter(cls).validate_json(raw.content))

    return parse


def face_page(cls: type[M]) -> Callable[[RawResponse], tuple[list[M], str | None]]:
    """Parse one page of a Face ``start``/``top`` list (no continuation marker in the body)."""
    parse_list = model_list(cls)

    def parse(raw: RawResponse) -> tuple[list[M], str | None]:
        return parse_list(raw), None

    return parse


def empty(raw: RawResponse) -> None:  # noqa: ARG001 - a parser's signature is fixed
    """Operations whose success carries no body."""
    return None


def binary(raw: RawResponse) -> bytes:
    """Operations that return a file (session images)."""
    return raw.content


def training_status(raw: RawResponse) -> tuple[TrainingResult, float | None]:
    """A training status and the server's suggested polling interval."""
    result = TrainingResult.model_validate_json(raw.content)
    return result, parse_retry_after(raw.headers.get("retry-after"))
