"""Small HTML building blocks shared by the renderings.

Every piece of data that reaches the markup goes through ``esc`` (names, user data, ids,
messages, enum values from the wire): a person called ``<script>`` shows as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from enum import Enum

__all__ = [
    "HTML",
    "esc",
    "fmt_confidence",
    "fmt_float",
    "grid",
    "note",
    "short_id",
    "table",
    "wire",
    "wrap",
]

_ELLIPSIS = "\u2026"
_SHORT = 8

# Inline styles only: a notebook renders output without the page's stylesheets, and GitHub or
# nbviewer drop <style> blocks.
_BOX = (
    "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;"
    "line-height:1.4;margin:4px 0"
)
_TABLE = "border-collapse:collapse;margin:4px 0 8px 0"
_CELL = "border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:middle"
_NOTE = "color:#555;font-size:12px;margin:4px 0"


class HTML:
    """An HTML rendering that Jupyter and IPython display as rich output.

    ``data`` (or ``str()``) is the markup itself, so it can also be written to a file or
    embedded elsewhere.
    """

    __slots__ = ("data",)

    def __init__(self, data: str) -> None:
        self.data = data

    def _repr_html_(self) -> str:
        return self.data

    def __html__(self) -> str:
        return self.data

    def __str__(self) -> str:
        return self.data

    def __repr__(self) -> str:
        return f"<faceguard.notebook.HTML: {len(self.data)} characters>"


def esc(value: object) -> str:
    """HTML-escaped text of any value (quotes included, so it is safe in attributes)."""
    return html.escape(wire(value), quote=True)


def wire(value: object) -> str:
    """The wire value of an enum member, else ``str()``."""
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def short_id(value: str | None) -> str:
    """A faceId cut to its first 8 characters and an ellipsis: enough to tell faces apart on
    screen, never the whole id (a notebook's output is saved with the notebook)."""
    if not value:
        return "\u2014"
    return value[:_SHORT] + _ELLIPSIS


def fmt_float(value: float, digits: int = 2) -> str:
    """A number with a fixed count of decimals."""
    return f"{value:.{digits}f}"


def fmt_confidence(value: float) -> str:
    """A confidence as text with a small bar beside it (markup; the number is escaped)."""
    width = max(0.0, min(1.0, float(value))) * 60
    return (
        f"{esc(fmt_float(value))} "
        f'<span style="display:inline-block;width:60px;height:8px;background:#eee;'
        f'vertical-align:middle"><span style="display:block;width:{width:.0f}px;height:8px;'
        f'background:#1976d2"></span></span>'
    )


def table(rows: Iterable[tuple[str, str]], *, header: tuple[str, ...] | None = None) -> str:
    """A table of ``(label, cell markup)`` rows; labels are escaped, cells are markup."""
    parts = [f'<table style="{_TABLE}">']
    if header is not None:
        cells = "".join(f'<th style="{_CELL}">{esc(h)}</th>' for h in header)
        parts.append(f"<thead><tr>{cells}</tr></thead>")
    parts.append("<tbody>")
    for label, cell in rows:
        parts.append(
            f'<tr><th style="{_CELL};font-weight:600">{esc(label)}</th>'
            f'<td style="{_CELL}">{cell}</td></tr>'
        )
    parts.append("</tbody></table>")
    return "".join(parts)


def grid(rows: Iterable[Iterable[str]], *, header: tuple[str, ...]) -> str:
    """A table with a header row and cells given as markup."""
    parts = [f'<table style="{_TABLE}"><thead><tr>']
    parts.extend(f'<th style="{_CELL}">{esc(h)}</th>' for h in header)
    parts.append("</tr></thead><tbody>")
    for row in rows:
        parts.append("<tr>")
        parts.extend(f'<td style="{_CELL}">{cell}</td>' for cell in row)
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def note(text: str) -> str:
    """A small explanatory paragraph (``text`` is escaped)."""
    return f'<p style="{_NOTE}">{esc(text)}</p>'


def wrap(kind: str, body: str, *, style: str = "") -> str:
    """The outer ``div`` of a rendering; ``kind`` names it in a CSS class."""
    return f'<div class="faceguard faceguard-{esc(kind)}" style="{_BOX};{style}">{body}</div>'
