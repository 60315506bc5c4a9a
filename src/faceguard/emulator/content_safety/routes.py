"""The Content Safety route table: the 8 text-blocklist operations, ``text:analyze`` and the
control routes that script severities, bound to a ``ContentSafetyControl``."""

from __future__ import annotations

from .._wire import Handler
from .handlers import ContentSafetyControl

__all__ = ["CONTENT_SAFETY_BASE", "routes"]

CONTENT_SAFETY_BASE = "/contentsafety"


def routes(control: ContentSafetyControl) -> list[tuple[str, str, Handler, str | None]]:
    """Every Content Safety route (method, full template, handler, operationId or None when
    the handler names it)."""
    blocklist = "/text/blocklists/{blocklistName}"
    service: list[tuple[str, str, Handler]] = [
        ("GET", "/text/blocklists", control.list_blocklists),
        ("GET", blocklist, control.get),
        ("PATCH", blocklist, control.create_or_update),
        ("DELETE", blocklist, control.delete),
        ("POST", blocklist + ":addOrUpdateBlocklistItems", control.add_or_update_items),
        ("POST", blocklist + ":removeBlocklistItems", control.remove_items),
        ("GET", blocklist + "/blocklistItems", control.list_items),
        ("GET", blocklist + "/blocklistItems/{blocklistItemId}", control.get_item),
        ("POST", "/text:analyze", control.analyze_text),
    ]
    table: list[tuple[str, str, Handler, str | None]] = [
        (method, CONTENT_SAFETY_BASE + template, handler, None)
        for method, template, handler in service
    ]
    severities = "/_emulator/content-safety/severities"
    table.append(("POST", severities, control.control_severities, None))
    table.append(("DELETE", severities, control.control_clear_severities, None))
    return table
