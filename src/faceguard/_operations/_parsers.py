"""Pure parsers from a raw response to typed results, shared by every operation.

Models are named, not imported (``"detection.FaceDetectionResult"``): the pydantic models load
on the first response that needs them, so importing the clients stays cheap.

Every JSON body goes through ``clean_json`` before validation: retired face attributes are
removed at any depth, whatever the response and wherever in it (GUARD §1a, the response rail).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._transport._retry import parse_retry_after
from .._transport._spec import RawResponse
from ..models._results import ResultList
from ..models._retired import clean_json

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from ..models.collections import TrainingResult

__all__ = ["binary", "empty", "face_page", "model", "model_list", "resolve", "training_status"]


@functools.cache
def resolve(ref: str) -> Any:
    """The model class named ``"<module>.<Class>"`` under ``faceguard.models``."""
    module, name = ref.rsplit(".", 1)
    return getattr(importlib.import_module(f"faceguard.models.{module}"), name)


@functools.cache
def _list_adapter(ref: str) -> TypeAdapter[list[Any]]:
    from pydantic import TypeAdapter

    item: Any = resolve(ref)
    return TypeAdapter(list[item])


def model(ref: str) -> Callable[[RawResponse], Any]:
    """Parse a JSON object into the model named ``ref``."""

    def parse(raw: RawResponse) -> Any:
        # What model_validate_json runs, without its argument checks (none are passed).
        return resolve(ref).__pydantic_validator__.validate_json(clean_json(raw.content))

    return parse


def model_list(ref: str) -> Callable[[RawResponse], ResultList[Any]]:
    """Parse a JSON array of the model named ``ref``."""

    def parse(raw: RawResponse) -> ResultList[Any]:
        # What TypeAdapter.validate_json runs, without its argument checks (none are passed).
        return ResultList(_list_adapter(ref).validator.validate_json(clean_json(raw.content)))

    return parse


def face_page(ref: str) -> Callable[[RawResponse], tuple[list[Any], str | None]]:
    """Parse one page of a Face ``start``/``top`` list (no continuation marker in the body)."""
    parse_list = model_list(ref)

    def parse(raw: RawResponse) -> tuple[list[Any], str | None]:
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
    result = resolve("collections.TrainingResult").model_validate_json(raw.content)
    return result, parse_retry_after(raw.headers.get("retry-after"))
