"""A dataclass <-> JSON codec driven by type hints, for persisting the emulator's state.

``encode`` turns a tree of dataclasses into plain JSON data (bytes as ``{"$b64": ...}``);
``decode`` rebuilds it from the type hints, so a field added to a dataclass is persisted
without a change here.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import types
import typing
from typing import Any

__all__ = ["decode", "encode"]


def encode(value: Any) -> Any:
    """Plain JSON data for a dataclass tree (bytes as ``{"$b64": ...}``)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes | bytearray):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """A dataclass's fields and their resolved type hints (resolving them is the slow part
    of decoding: once per class, not once per row)."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def decode(hint: Any, data: Any) -> Any:
    """The inverse of ``encode`` for a value of type ``hint``."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return data
    if origin is typing.Union or origin is types.UnionType:
        if data is None:
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return decode(options[0], data)
        for option in options:  # the first option that decodes
            try:
                return decode(option, data)
            except (TypeError, ValueError, KeyError):
                continue
        raise ValueError(f"cannot decode {data!r} as {hint}")
    if origin is typing.Literal:
        if data not in typing.get_args(hint):
            raise ValueError(f"{data!r} is not one of {typing.get_args(hint)}")
        return data
    if origin is dict:
        key_type, value_type = typing.get_args(hint)
        return {decode(key_type, k): decode(value_type, v) for k, v in data.items()}
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v) for v in data)
        return tuple(decode(a, v) for a, v in zip(args, data, strict=True))
    if origin is list:
        (item_type,) = typing.get_args(hint)
        return [decode(item_type, v) for v in data]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {hint.__name__}")
        kwargs = {}
        for name, field_hint in _fields(hint):
            if name in data:
                kwargs[name] = decode(field_hint, data[name])
        return hint(**kwargs)
    if hint is bytes:
        if not isinstance(data, dict) or "$b64" not in data:
            raise TypeError("expected base64 bytes")
        return base64.b64decode(data["$b64"])
    if hint is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise TypeError("expected a number")
        return float(data)
    if hint in (int, str, bool):
        if not isinstance(data, hint) or (hint is int and isinstance(data, bool)):
            raise TypeError(f"expected {hint.__name__}")
        return data
    raise TypeError(f"unsupported type {hint!r}")
