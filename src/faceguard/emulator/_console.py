"""The demo's terminal output: whole words, wrapped to the terminal, paths never broken.

A message longer than the line is wrapped at spaces with its indentation kept, never cut:
a refusal's explanation is read in full or not at all. Paths and commands a user copies go
through ``verbatim`` and stay on one line whatever their length.
"""

from __future__ import annotations

import os
import textwrap
from typing import TextIO

__all__ = ["Console"]

_WIDEST = 100
_NARROWEST = 60


class Console:
    """Lines for ``out``: wrapped at ``width`` columns (the terminal's, within 60..100)."""

    def __init__(self, out: TextIO, width: int | None = None) -> None:
        self.out = out
        self.interactive = _isatty(out)
        if width is None:
            width = _WIDEST
            if self.interactive:
                try:
                    width = os.get_terminal_size(out.fileno()).columns
                except (OSError, ValueError, AttributeError):
                    width = _WIDEST
        self.width = max(_NARROWEST, min(_WIDEST, width))

    def say(self, text: str = "", *, hang: int = 2) -> None:
        """``text`` wrapped at spaces; continuation lines indented ``hang`` more than the
        first."""
        indent = text[: len(text) - len(text.lstrip(" "))]
        lines = textwrap.wrap(
            text.strip(" "),
            width=self.width,
            initial_indent=indent,
            subsequent_indent=indent + " " * hang,
            break_long_words=False,
            break_on_hyphens=False,
        )
        self._write("\n".join(lines) if lines else "")

    def step(self, title: str) -> None:
        """A blank line and a step heading."""
        self._write("")
        self.say(f"== {title}")

    def verbatim(self, text: str) -> None:
        """``text`` as it is, on one line: a path or a command to copy."""
        self._write(text)

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def _isatty(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):  # a closed or file-like stream without isatty
        return False
