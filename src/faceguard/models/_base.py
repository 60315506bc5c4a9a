"""The base of every wire model: camelCase on the wire, snake_case in Python.

Unknown fields are kept (``extra="allow"``) so a newer service version never breaks an older
client, and models are frozen so a result cannot be edited by accident after it was returned.
Each parsed result carries the support info of the call that produced it.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic.alias_generators import to_camel

from .._exceptions import SupportInfo
from ._results import ResultList

__all__ = ["FaceModel", "FaceResult", "OpenEnum", "RequestModel", "ResultList"]

E = TypeVar("E", bound=Enum)

OpenEnum = Annotated[E | str, Field(union_mode="left_to_right")]
"""An enum the service may extend (``modelAsString: true``): known values parse to the enum,
new ones stay plain strings instead of failing validation."""


class FaceModel(BaseModel):
    """Base of every response model."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        frozen=True,
        use_enum_values=False,
    )


class FaceResult(FaceModel):
    """Base of models an operation returns on its own (not inside a list or another model):
    they carry the support info of the call that produced them.

    Nested models do without it: a private attribute costs every instance at parse time, and
    a detected face with landmarks holds dozens of nested models.
    """

    _support: SupportInfo | None = PrivateAttr(default=None)

    def support_info(self) -> dict[str, Any]:
        """API path, request ids and model version of the call that returned this result."""
        return self._support.as_dict() if self._support is not None else {}


class RequestModel(BaseModel):
    """Base of request bodies: validated on construction, serialised by alias without nulls."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body the service expects."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")
