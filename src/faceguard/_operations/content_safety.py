"""Content Safety 2024-09-01: text blocklists and their items, and ``text:analyze``.

Routes live under ``{endpoint}/contentsafety`` and carry ``api-version=2024-09-01`` (added by
the transport). List operations follow ``nextLink``; only its query (``top``, ``skip``,
``maxpagesize``) is taken, so a page link can never send the key to another host.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from .._constants import (
    ANALYZE_TEXT_MAX,
    BLOCKLIST_DESCRIPTION_MAX,
    BLOCKLIST_ITEM_ID_MAX,
    BLOCKLIST_ITEM_TEXT_MAX,
    BLOCKLIST_ITEMS_PER_CALL,
    BLOCKLIST_NAME_MAX,
)
from .._exceptions import InvalidInputError
from .._transport._spec import PageSpec, RawResponse, RequestSpec
from ..models.enums import TextAnalysisOutputType, TextCategory
from . import _parsers
from ._inputs import (
    check_bool,
    check_choice,
    check_count,
    check_int_range,
    check_length,
    check_pattern,
)

if TYPE_CHECKING:
    from ..models.content_safety import (
        AddOrUpdateTextBlocklistItemsResult,
        AnalyzeTextResult,
        TextBlocklist,
        TextBlocklistItem,
        TextBlocklistItemInput,
    )

__all__ = [
    "add_or_update_items",
    "analyze_text",
    "create_or_update",
    "delete",
    "get",
    "get_item",
    "list_blocklists",
    "list_items",
    "remove_items",
]

T = TypeVar("T")

_NAME = re.compile(r"^[0-9A-Za-z._~-]+$")
BLOCKLISTS_ROUTE = "/text/blocklists"
BLOCKLIST_ROUTE = BLOCKLISTS_ROUTE + "/{blocklistName}"
ANALYZE_ROUTE = "/text:analyze"
_PAGE_QUERY = frozenset({"top", "skip", "maxpagesize"})


def _name(value: str) -> dict[str, str]:
    return {
        "blocklistName": check_pattern("blocklist_name", value, _NAME, maximum=BLOCKLIST_NAME_MAX)
    }


def _page_parser(page_model: str) -> Any:
    def parse(raw: RawResponse) -> tuple[list[Any], str | None]:
        page = _parsers.resolve(page_model).model_validate_json(raw.content)
        return list(page.value), page.next_link

    return parse


def _follow_next_link(
    previous: RequestSpec[tuple[list[T], str | None]], _items: list[T], next_link: str | None
) -> RequestSpec[tuple[list[T], str | None]] | None:
    if not next_link:
        return None
    query = {k: v for k, v in parse_qsl(urlsplit(next_link).query) if k in _PAGE_QUERY}
    if not query:
        return None  # a link without paging parameters would fetch the same page forever
    return previous.with_query(**query)


def create_or_update(
    blocklist_name: str, *, description: str | None = None
) -> RequestSpec[TextBlocklist]:
    """Create a text blocklist, or update its description.

    REST: ``PATCH /text/blocklists/{blocklistName}`` as merge-patch
    (``TextBlocklists_CreateOrUpdateTextBlocklist``, 200 or 201). Guard checks: none.
    """
    body: dict[str, Any] = {}
    if description is not None:
        body["description"] = check_length(
            "description", description, maximum=BLOCKLIST_DESCRIPTION_MAX
        )
    return RequestSpec(
        operation="TextBlocklists_CreateOrUpdateTextBlocklist",
        method="PATCH",
        route=BLOCKLIST_ROUTE,
        service="contentsafety",
        parse=_parsers.model("content_safety.TextBlocklist"),
        path_params=_name(blocklist_name),
        json=body,
        content_type="application/merge-patch+json",
        success_status=frozenset({200, 201}),
    )


def get(blocklist_name: str) -> RequestSpec[TextBlocklist]:
    """Get a text blocklist.

    REST: ``GET /text/blocklists/{blocklistName}`` (``TextBlocklists_GetTextBlocklist``).
    Guard checks: none.
    """
    return RequestSpec(
        operation="TextBlocklists_GetTextBlocklist",
        method="GET",
        route=BLOCKLIST_ROUTE,
        service="contentsafety",
        parse=_parsers.model("content_safety.TextBlocklist"),
        path_params=_name(blocklist_name),
    )


def delete(blocklist_name: str) -> RequestSpec[None]:
    """Delete a text blocklist and all of its items.

    REST: ``DELETE /text/blocklists/{blocklistName}`` (``TextBlocklists_DeleteTextBlocklist``,
    204). Guard checks: none.
    """
    return RequestSpec(
        operation="TextBlocklists_DeleteTextBlocklist",
        method="DELETE",
        route=BLOCKLIST_ROUTE,
        service="contentsafety",
        parse=_parsers.empty,
        path_params=_name(blocklist_name),
        success_status=frozenset({204}),
    )


def list_blocklists() -> PageSpec[TextBlocklist]:
    """Iterate every text blocklist of the resource.

    REST: ``GET /text/blocklists`` (``TextBlocklists_ListTextBlocklists``), paged by
    ``nextLink``. Guard checks: none.
    """
    first: RequestSpec[tuple[list[TextBlocklist], str | None]] = RequestSpec(
        operation="TextBlocklists_ListTextBlocklists",
        method="GET",
        route=BLOCKLISTS_ROUTE,
        service="contentsafety",
        parse=_page_parser("content_safety.TextBlocklistPage"),
    )
    return PageSpec(first=first, next_request=_follow_next_link)


def _item(index: int, item: TextBlocklistItemInput | str) -> dict[str, Any]:
    from ..models.content_safety import TextBlocklistItemInput

    where = f"blocklist_items[{index}]"
    if isinstance(item, str):
        item = TextBlocklistItemInput.model_construct(text=item)
    if not isinstance(item, TextBlocklistItemInput):
        raise InvalidInputError(where, "type", "must be a string or a TextBlocklistItemInput")
    check_length(f"{where}.text", item.text, minimum=1, maximum=BLOCKLIST_ITEM_TEXT_MAX)
    if item.description is not None:
        check_length(f"{where}.description", item.description, maximum=BLOCKLIST_DESCRIPTION_MAX)
    if item.is_regex:
        try:
            re.compile(item.text)
        except re.error:
            raise InvalidInputError(
                f"{where}.text", "regex", "is not a valid regular expression"
            ) from None
    return item.to_wire()


def add_or_update_items(
    blocklist_name: str, items: Sequence[TextBlocklistItemInput | str]
) -> RequestSpec[AddOrUpdateTextBlocklistItemsResult]:
    """Add (or update) 1..100 items of a blocklist; a string is an exact-text item.

    More than 100 items is refused, never split or truncated silently.

    REST: ``POST /text/blocklists/{blocklistName}:addOrUpdateBlocklistItems``
    (``TextBlocklists_AddOrUpdateBlocklistItems``). Guard checks: none.
    """
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise InvalidInputError("items", "type", "must be a list of items")
    if not 1 <= len(items) <= BLOCKLIST_ITEMS_PER_CALL:
        raise InvalidInputError(
            "items", "count", f"must hold 1..{BLOCKLIST_ITEMS_PER_CALL} items (got {len(items)})"
        )
    body = {"blocklistItems": [_item(i, item) for i, item in enumerate(items)]}
    return RequestSpec(
        operation="TextBlocklists_AddOrUpdateBlocklistItems",
        method="POST",
        route=BLOCKLIST_ROUTE + ":addOrUpdateBlocklistItems",
        service="contentsafety",
        parse=_parsers.model("content_safety.AddOrUpdateTextBlocklistItemsResult"),
        path_params=_name(blocklist_name),
        json=body,
    )


def remove_items(blocklist_name: str, item_ids: Sequence[str]) -> RequestSpec[None]:
    """Remove 1..100 items of a blocklist by id.

    REST: ``POST /text/blocklists/{blocklistName}:removeBlocklistItems``
    (``TextBlocklists_RemoveBlocklistItems``, 204). Guard checks: none.
    """
    ids = check_count("item_ids", item_ids, minimum=1, maximum=BLOCKLIST_ITEMS_PER_CALL)
    for index, item_id in enumerate(ids):
        check_length(f"item_ids[{index}]", item_id, minimum=1, maximum=BLOCKLIST_ITEM_ID_MAX)
    return RequestSpec(
        operation="TextBlocklists_RemoveBlocklistItems",
        method="POST",
        route=BLOCKLIST_ROUTE + ":removeBlocklistItems",
        service="contentsafety",
        parse=_parsers.empty,
        path_params=_name(blocklist_name),
        json={"blocklistItemIds": ids},
        success_status=frozenset({204}),
    )


def list_items(
    blocklist_name: str,
    *,
    top: int | None = None,
    skip: int | None = None,
    max_page_size: int | None = None,
) -> PageSpec[TextBlocklistItem]:
    """Iterate the items of a blocklist.

    REST: ``GET /text/blocklists/{blocklistName}/blocklistItems``
    (``TextBlocklists_ListTextBlocklistItems``), paged by ``nextLink``. Guard checks: none.

    Args:
        top: the most items to return in all.
        skip: items to skip first.
        max_page_size: items per page.
    """
    query: dict[str, str] = {}
    if top is not None:
        query["top"] = str(check_int_range("top", top, minimum=1, maximum=2**31 - 1))
    if skip is not None:
        query["skip"] = str(check_int_range("skip", skip, minimum=0, maximum=2**31 - 1))
    if max_page_size is not None:
        query["maxpagesize"] = str(
            check_int_range("max_page_size", max_page_size, minimum=1, maximum=2**31 - 1)
        )
    first: RequestSpec[tuple[list[TextBlocklistItem], str | None]] = RequestSpec(
        operation="TextBlocklists_ListTextBlocklistItems",
        method="GET",
        route=BLOCKLIST_ROUTE + "/blocklistItems",
        service="contentsafety",
        parse=_page_parser("content_safety.TextBlocklistItemPage"),
        path_params=_name(blocklist_name),
        query=query,
    )
    return PageSpec(first=first, next_request=_follow_next_link)


def get_item(blocklist_name: str, item_id: str) -> RequestSpec[TextBlocklistItem]:
    """Get one blocklist item.

    REST: ``GET /text/blocklists/{blocklistName}/blocklistItems/{blocklistItemId}``
    (``TextBlocklists_GetTextBlocklistItem``). Guard checks: none.
    """
    return RequestSpec(
        operation="TextBlocklists_GetTextBlocklistItem",
        method="GET",
        route=BLOCKLIST_ROUTE + "/blocklistItems/{blocklistItemId}",
        service="contentsafety",
        parse=_parsers.model("content_safety.TextBlocklistItem"),
        path_params={
            **_name(blocklist_name),
            "blocklistItemId": check_length(
                "item_id", item_id, minimum=1, maximum=BLOCKLIST_ITEM_ID_MAX
            ),
        },
    )


def analyze_text(
    text: str,
    *,
    categories: Sequence[TextCategory | str] | None = None,
    blocklist_names: Sequence[str] | None = None,
    halt_on_blocklist_hit: bool | None = None,
    output_type: TextAnalysisOutputType | str | None = None,
) -> RequestSpec[AnalyzeTextResult]:
    """Analyse text for harm categories and blocklist matches (at most 10,000 code points).

    REST: ``POST /text:analyze`` (``TextOperations_AnalyzeText``). Guard checks: none.
    """
    body: dict[str, Any] = {"text": check_length("text", text, minimum=1, maximum=ANALYZE_TEXT_MAX)}
    if categories is not None:
        if isinstance(categories, str):
            raise InvalidInputError("categories", "type", "must be a list of categories")
        body["categories"] = [check_choice("categories", c, TextCategory).value for c in categories]
    if blocklist_names is not None:
        names = check_count("blocklist_names", blocklist_names, minimum=0, maximum=10_000)
        body["blocklistNames"] = [
            check_pattern("blocklist_names", n, _NAME, maximum=BLOCKLIST_NAME_MAX) for n in names
        ]
    if halt_on_blocklist_hit is not None:
        body["haltOnBlocklistHit"] = check_bool("halt_on_blocklist_hit", halt_on_blocklist_hit)
    if output_type is not None:
        body["outputType"] = check_choice("output_type", output_type, TextAnalysisOutputType).value
    return RequestSpec(
        operation="TextOperations_AnalyzeText",
        method="POST",
        route=ANALYZE_ROUTE,
        service="contentsafety",
        parse=_parsers.model("content_safety.AnalyzeTextResult"),
        json=body,
    )
