"""The optional dependencies of the notebook helpers, imported only when first needed.

``import faceguard.notebook`` loads neither Pillow nor tqdm: rendering a result without an
image needs neither, and a missing one is reported only by the call that needs it, as a
``ConfigurationError`` that names the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .._exceptions import ConfigurationError

__all__ = ["INSTALL_HINT", "missing", "tqdm_class"]

INSTALL_HINT = 'pip install "faceguard[notebook]"'


def missing(package: str, purpose: str) -> ConfigurationError:
    """The error for an absent optional dependency."""
    return ConfigurationError(f"{purpose} needs {package}, which is not installed: {INSTALL_HINT}")


def tqdm_class() -> Callable[..., Any]:
    """``tqdm.auto.tqdm``: a widget under Jupyter, a terminal bar elsewhere.

    Imported through ``importlib``: tqdm ships no type information, and the bar is only
    driven through a handful of calls here.
    """
    try:
        module = importlib.import_module("tqdm.auto")
    except ImportError as exc:
        raise missing("tqdm", "a progress bar") from exc
    bar: Callable[..., Any] = module.tqdm
    return bar
