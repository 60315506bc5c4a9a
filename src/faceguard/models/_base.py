"""The base of every wire model: camelCase on the wire, snake_case in Python.

Unknown fields are kept (``extra="allow"``) so a newer service version never breaks an older
client, and models are frozen so a result cannot be edited by accident after it was returned.
Each parsed result carries the support info of the call that produced it.

Unknown fields are kept, but never retired attributes (``_retired``): the client's parsers
strip the raw body, and a model validated or built directly strips its input the same way.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from typing_extensions import Self

from .._exceptions import PendingSupport, SupportInfo
from ._results import ResultList
from ._retired import clean_json, strip_retired

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

    # The three ways a caller validates a model by hand strip retired attributes at any depth
    # first, as the client's parsers do (they call the validator directly, not these): so no
    # entry point can put one in a field or in ``model_extra``. ``model_construct`` skips
    # validation by definition and is not covered.

    def __init__(self, /, **data: Any) -> None:
        super().__init__(**strip_retired(data))

    # Marked as pydantic's own __init__: a model with a custom one is validated through it
    # even when nested, a Python call per nested model that made parsing a detect response
    # ~10x slower. Parsing never needs it (the parsers strip the body), only keyword
    # construction does. Pinned by test_retired_response.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        """Validate ``obj`` without any retired attribute in it (see ``_retired``)."""
        return super().model_validate(strip_retired(obj), **options)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **options: Any) -> Self:
        """Validate a JSON text without any retired attribute in it (see ``_retired``)."""
        data = bytes(json_data) if isinstance(json_data, bytearray) else json_data
        return super().model_validate_json(clean_json(data), **options)


class FaceResult(FaceModel):
    """Base of models an operation returns on its own (not inside a list or another model):
    they carry the support info of the call that produced them.

    The support info lives in the instance's private-attribute slot (``__pydantic_private__``),
    set by the transport after parsing, so copies, pickles and equality treat it as a private
    attribute. It is not declared as one: pydantic would then run a Python hook on every
    validation of every result (twice per subclass) only to set it to ``None``. Nested models
    do without it altogether.
    """

    @property
    def _support(self) -> SupportInfo | None:
        private = self.__pydantic_private__
        state = private.get("_support") if private else None
        if isinstance(state, PendingSupport):
            state = private["_support"] = state.resolve()  # type: ignore[index]
        return state

    @_support.setter
    def _support(self, value: SupportInfo | None) -> None:
        self._attach_support(value)

    def _attach_support(self, support: SupportInfo | PendingSupport | None) -> None:
        """Keep the support info of the call that returned this result (pending or built)."""
        private = self.__pydantic_private__
        if support is None:  # no support info: the slot as a fresh model has it (equality)
            if private is not None:
                private.pop("_support", None)
                if not private:
                    object.__setattr__(self, "__pydantic_private__", None)
        elif private is None:
            object.__setattr__(self, "__pydantic_private__", {"_support": support})
        else:
            private["_support"] = support

    def support_info(self) -> dict[str, Any]:
        """API path, request ids and model version of the call that returned this result."""
        support = self._support
        return support.as_dict() if support is not None else {}


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
