"""The Content Safety emulator's data: blocklists and their items, as plain dataclasses.

``to_wire`` is the contract's JSON of each; ``to_dict``/``from_dict`` are what persistence
keeps. How an item matches a text (``pattern``) is described in ``handlers``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = ["BlocklistItemState", "BlocklistState"]


@dataclass
class BlocklistItemState:
    item_id: str
    text: str
    description: str | None = None
    is_regex: bool = False

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"blocklistItemId": self.item_id, "text": self.text}
        if self.description is not None:
            wire["description"] = self.description
        wire["isRegex"] = self.is_regex
        return wire

    def pattern(self) -> re.Pattern[str]:
        return _item_pattern(self.text, self.is_regex)


@lru_cache(maxsize=4096)
def _item_pattern(text: str, is_regex: bool) -> re.Pattern[str]:
    """How an item is matched (the rule in the module docstring)."""
    if is_regex:
        return re.compile(text)
    left = r"(?<!\w)" if re.match(r"\w", text[0]) else ""
    right = r"(?!\w)" if re.match(r"\w", text[-1]) else ""
    return re.compile(left + re.escape(text) + right, re.IGNORECASE)


@dataclass
class BlocklistState:
    name: str
    description: str | None = None
    items: dict[str, BlocklistItemState] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"blocklistName": self.name}
        if self.description is not None:
            wire["description"] = self.description
        return wire

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "items": [
                {
                    "id": i.item_id,
                    "text": i.text,
                    "description": i.description,
                    "is_regex": i.is_regex,
                }
                for i in self.items.values()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BlocklistState:
        state = cls(name=str(data["name"]), description=data.get("description"))
        for item in data.get("items", []):
            state.items[str(item["id"])] = BlocklistItemState(
                item_id=str(item["id"]),
                text=str(item["text"]),
                description=item.get("description"),
                is_regex=bool(item.get("is_regex")),
            )
        return state
