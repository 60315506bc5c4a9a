"""Rich display of faceguard's results in IPython and Jupyter, switched on explicitly.

``enable()`` registers HTML formatters for faceguard's result types and for ``GuardError``
with the running shell; nothing is registered at import time. ``disable()`` removes them.
"""

from __future__ import annotations

import importlib
from typing import Any

from .._exceptions import ConfigurationError, GuardError
from ..models._results import ResultList
from ..models.detection import FaceDetectionResult
from ..models.recognition import (
    FindSimilarResult,
    GroupingResult,
    IdentificationResult,
    VerificationResult,
)
from ._render import to_html

__all__ = ["DISPLAYED_TYPES", "disable", "enable"]

DISPLAYED_TYPES: tuple[type, ...] = (
    FaceDetectionResult,
    FindSimilarResult,
    GroupingResult,
    IdentificationResult,
    VerificationResult,
    ResultList,
    GuardError,
)
"""The types ``enable()`` registers an HTML formatter for (subclasses included)."""

_NO_IPYTHON = (
    "faceguard.notebook.enable() works inside IPython or Jupyter only, and IPython is not "
    "installed. Outside a notebook, use faceguard.notebook.show(result).data (or to_html) "
    "for the HTML"
)
_NO_SHELL = (
    "faceguard.notebook.enable() works inside a running IPython or Jupyter session only; "
    "this is a plain Python process. Outside a notebook, use "
    "faceguard.notebook.show(result).data (or to_html) for the HTML"
)


def _format(obj: object) -> str | None:
    """The HTML formatter: ``None`` lets IPython fall back to the plain repr (for instance
    for a list of persons, or anything faceguard does not render)."""
    try:
        return to_html(obj)
    except TypeError:
        return None


def _shell(shell: Any) -> Any:
    if shell is not None:
        return shell
    try:
        ipython = importlib.import_module("IPython")
    except ImportError as exc:
        raise ConfigurationError(_NO_IPYTHON) from exc
    current = ipython.get_ipython()
    if current is None:
        raise ConfigurationError(_NO_SHELL)
    return current


def _html_formatter(shell: Any) -> Any:
    return shell.display_formatter.formatters["text/html"]


def enable(shell: Any = None) -> None:
    """Show faceguard's results and guard refusals as HTML in this IPython / Jupyter session.

    Registers ``formatters["text/html"].for_type(...)`` for each of ``DISPLAYED_TYPES``;
    results then render as tables (detections without their image: use ``show(result,
    image)`` for the boxes). Idempotent.

    Args:
        shell: the IPython shell; by default the running one (``get_ipython()``).

    Raises:
        ConfigurationError: not running inside IPython or Jupyter.
    """
    formatter = _html_formatter(_shell(shell))
    for cls in DISPLAYED_TYPES:
        formatter.for_type(cls, _format)


def disable(shell: Any = None) -> None:
    """Remove the formatters ``enable()`` registered (others are left alone).

    Raises:
        ConfigurationError: not running inside IPython or Jupyter.
    """
    formatter = _html_formatter(_shell(shell))
    for cls in DISPLAYED_TYPES:
        try:
            current = formatter.lookup_by_type(cls)
        except KeyError:
            continue
        if current is _format:
            formatter.pop(cls, None)
