"""Every public symbol has a docstring: the API reference (mkdocs --strict in CI) is built
from them."""

from __future__ import annotations

import inspect
from typing import Literal, get_origin

import pytest

import faceguard
import faceguard.bulk
import faceguard.models
import faceguard.testing


def _public_members(obj: type) -> list[tuple[str, object]]:
    return [
        (name, member)
        for name, member in vars(obj).items()
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
    ]


@pytest.mark.parametrize("name", [n for n in faceguard.__all__ if n != "__version__"])
def test_every_public_name_and_its_methods_are_documented(name: str) -> None:
    obj = getattr(faceguard, name)
    assert inspect.getdoc(obj), f"faceguard.{name} has no docstring"
    if isinstance(obj, type):
        missing = [m for m, member in _public_members(obj) if not inspect.getdoc(member)]
        assert missing == [], f"faceguard.{name}: undocumented {missing}"


@pytest.mark.parametrize("name", faceguard.models.__all__)
def test_every_model_is_documented(name: str) -> None:
    assert inspect.getdoc(getattr(faceguard.models, name)), f"faceguard.models.{name}"


@pytest.mark.parametrize("name", faceguard.testing.__all__)
def test_every_testing_helper_is_documented(name: str) -> None:
    assert inspect.getdoc(getattr(faceguard.testing, name)), f"faceguard.testing.{name}"


# ``Literal`` aliases (ItemStatus, JournalState) carry no docstring of their own; the docs
# describe them where they are used.
@pytest.mark.parametrize(
    "name",
    [n for n in faceguard.bulk.__all__ if get_origin(getattr(faceguard.bulk, n)) is not Literal],
)
def test_every_bulk_name_and_its_methods_are_documented(name: str) -> None:
    obj = getattr(faceguard.bulk, name)
    assert inspect.getdoc(obj), f"faceguard.bulk.{name}"
    if isinstance(obj, type):
        missing = [m for m, member in _public_members(obj) if not inspect.getdoc(member)]
        assert missing == [], f"faceguard.bulk.{name}: undocumented {missing}"
