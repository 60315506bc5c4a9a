"""Content Safety 2024-09-01 in the emulator: the 8 text-blocklist operations and ``text:analyze``.

Routes live under ``/contentsafety`` and need ``api-version=2024-09-01``; a missing or other
version answers 400 with the Azure.Core error shape (``{"error": {"code", "message"}}`` plus
``x-ms-error-code``; codes ``MissingApiVersionParameter`` / ``UnsupportedApiVersionValue``,
inferred from Azure's data-plane convention: the contract names no codes). The other codes are
the ones Azure documents for Content Safety: ``InvalidRequestBody``, ``InvalidResourceName``,
``ResourceNotFound``.

Blocklists and items are stored for real: items get UUID ids, 1..100 per call, text of 1..128
code points, description up to 1024; create-or-update answers 201 when it created the list and
200 when it updated it; delete and remove answer 204. Adding an item whose text is already in
the list updates that item (same id, new description and ``isRegex``): the service keys
"add or update" on the text, since the id is read-only. Removing unknown ids, and deleting an
unknown blocklist, also answer 204 (Azure's guidelines make deletes idempotent). Both list
operations are paged: ``skip``, ``top`` (the most items in all) and ``maxpagesize``; a page
has ``nextLink`` with the same ``api-version`` and the ``top``/``skip``/``maxpagesize`` of the
next page. The page size when none is asked for is ``ContentSafetyControl.default_page_size``
(100; the service's own default is not documented).

``text:analyze`` — the matching rule (the service does not publish its tokenisation):

- an exact item matches when its text occurs in the input **case-insensitively** (Unicode
  case folding, via ``re.IGNORECASE``) **as a whole term**: an end of the item that is a word
  character must not touch another word character of the input. So ``"dog"`` matches
  ``"Dog!"`` and ``"hot dog"`` but not ``"dogma"``. Why: blocklists hold terms, and substring
  matching flags innocent words (the Scunthorpe problem); case-insensitive because a term
  written in capitals is the same term. Items that start or end with punctuation are only
  constrained at their word-character ends;
- a regex item (``isRegex``) is searched with Python ``re`` exactly as written (no flags
  added: use ``(?i)`` for case-insensitivity). The service runs its own regex engine; patterns
  using features the two do not share can behave differently;
- each matching item is reported once, blocklists in the order requested, items in the order
  they were added.

Harm-category severities cannot be measured offline. They come only from a scripted value,
``Emulator.content_safety.script_severity(category, severity)`` (on the eight-level scale 0..7;
``FourSeverityLevels`` reports it rounded down to 0, 2, 4 or 6, as the service buckets them),
or ``POST /_emulator/content-safety/severities`` in server mode. A call that needs a severity
that was not scripted answers 501 ``EmulatorSeverityNotScripted`` saying so: never a made-up
0. When ``haltOnBlocklistHit`` is true and a blocklist item matched, no analysis is done and
``categoriesAnalysis`` is empty, so no severity is needed.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from .._wire import FaceApiError, empty_response, json_response, read_json, serves
from .models import BlocklistItemState, BlocklistState

__all__ = ["API_VERSION", "CATEGORIES", "ContentSafetyControl"]

API_VERSION = "2024-09-01"
CATEGORIES = ("Hate", "SelfHarm", "Sexual", "Violence")
_OUTPUT_TYPES = frozenset({"FourSeverityLevels", "EightSeverityLevels"})
_NAME = re.compile(r"^[0-9A-Za-z._~-]+$")
_NAME_MAX = 64
_DESCRIPTION_MAX = 1024
_ITEM_TEXT_MAX = 128
_ITEMS_PER_CALL = 100
_ITEM_ID_MAX = 64
_ANALYZE_TEXT_MAX = 10_000
_INT32_MAX = 2**31 - 1


# -- responses ---------------------------------------------------------------------------------


def _error(status: int, code: str, message: str) -> FaceApiError:
    """A refusal; answered in the Azure.Core error shape (``code`` and ``message``, no
    ``target``/``details``), which is the Face shape too."""
    return FaceApiError(status, code, message)


def _bad_body(message: str) -> FaceApiError:
    return _error(400, "InvalidRequestBody", message)


def _not_found(what: str) -> FaceApiError:
    return _error(404, "ResourceNotFound", f"{what} is not found.")


def _json_body(request: httpx.Request) -> dict[str, Any]:
    body = read_json(
        request.content,
        code="InvalidRequestBody",
        message="The request body is not valid JSON.",
        empty=None,
    )
    if not isinstance(body, dict):
        raise _bad_body("The request body must be a JSON object.")
    return body


def _code_points(value: object, name: str, *, minimum: int, maximum: int) -> str:
    if not isinstance(value, str):
        raise _bad_body(f"'{name}' must be a string.")
    if not minimum <= len(value) <= maximum:  # Python str length counts code points
        raise _bad_body(f"'{name}' must be {minimum}..{maximum} Unicode code points long.")
    return value


def _checked_name(params: Mapping[str, str]) -> str:
    name = params.get("blocklistName", "")
    if len(name) > _NAME_MAX or not _NAME.match(name):
        raise _error(
            400,
            "InvalidResourceName",
            "The blocklist name must be 1..64 characters of 0-9 A-Z a-z . _ ~ -.",
        )
    return name


def _query_int(request: httpx.Request, name: str, minimum: int) -> int | None:
    raw = request.url.params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if not minimum <= value <= _INT32_MAX:
        # Code inferred: the Content Safety reference documents none for query parameters.
        raise _error(400, "InvalidQueryParameter", f"'{name}' must be an integer >= {minimum}.")
    return value


def _checked_version(request: httpx.Request) -> None:
    version = request.url.params.get("api-version")
    if version is None:
        raise _error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if version != API_VERSION:
        raise _error(
            400,
            "UnsupportedApiVersionValue",
            f"Unsupported api-version '{version}'. The supported version is {API_VERSION}.",
        )


# -- the control object ------------------------------------------------------------------------


class ContentSafetyControl:
    """Blocklists, items and scripted severities of one emulator (``Emulator.content_safety``).

    Thread-safe: the loopback server handles requests on several threads.
    """

    def __init__(self, *, default_page_size: int = 100) -> None:
        self._lock = threading.RLock()
        self.blocklists: dict[str, BlocklistState] = {}
        self._severities: dict[str, int] = {}
        self.default_page_size = default_page_size

    # -- control API ----------------------------------------------------------------------------

    def script_severity(self, category: str, severity: int) -> None:
        """Make ``text:analyze`` report ``severity`` (0..7, eight-level scale) for
        ``category`` (``Hate``, ``SelfHarm``, ``Sexual``, ``Violence``) until cleared."""
        if category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
        if isinstance(severity, bool) or not isinstance(severity, int) or not 0 <= severity <= 7:
            raise ValueError("severity must be an int in 0..7 (the eight-level scale)")
        with self._lock:
            self._severities[category] = severity

    def clear_severities(self) -> None:
        """Forget every scripted severity: analysis needs new scripts again."""
        with self._lock:
            self._severities.clear()

    def clear(self) -> None:
        """Forget every blocklist and scripted severity."""
        with self._lock:
            self.blocklists.clear()
            self._severities.clear()

    # -- persistence ----------------------------------------------------------------------------

    def export_blocklists(self) -> list[dict[str, Any]]:
        with self._lock:
            return [b.to_dict() for b in self.blocklists.values()]

    def export_state(self) -> dict[str, list[tuple[str, Any]]]:
        """The blocklists and their items, as JSON rows by table (for ``_persist``)."""
        return {"blocklists": [(b["name"], b) for b in self.export_blocklists()]}

    def import_state(self, tables: Mapping[str, list[tuple[str, Any]]]) -> None:
        """Add the ``(key, data)`` rows ``export_state`` wrote."""
        self.import_blocklists([data for _key, data in tables.get("blocklists", [])])

    def import_blocklists(self, blocklists: list[dict[str, Any]]) -> None:
        with self._lock:
            for data in blocklists:
                state = BlocklistState.from_dict(data)
                self.blocklists[state.name] = state

    # -- REST handlers --------------------------------------------------------------------------

    def _run(
        self, body: Callable[[], httpx.Response], request: httpx.Request, operation: str
    ) -> httpx.Response:
        serves(request, operation)
        _checked_version(request)
        with self._lock:
            return body()

    def create_or_update(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        def run() -> httpx.Response:
            name = _checked_name(params)
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in ("application/merge-patch+json", "application/json"):
                raise _bad_body("The request body must be application/merge-patch+json.")
            body = _json_body(request)
            if body.get("blocklistName") not in (None, name):
                raise _bad_body("'blocklistName' in the body differs from the name in the URL.")
            description = body.get("description", ...)
            if description is not None and description is not ...:
                _code_points(description, "description", minimum=0, maximum=_DESCRIPTION_MAX)
            existing = self.blocklists.get(name)
            if existing is None:
                state = BlocklistState(name=name)
                self.blocklists[name] = state
                status = 201
            else:
                state, status = existing, 200
            if description is not ...:  # merge-patch: null removes, absent keeps
                state.description = description
            return json_response(status, state.to_wire())

        return self._run(run, request, "TextBlocklists_CreateOrUpdateTextBlocklist")

    def _blocklist(self, params: Mapping[str, str]) -> BlocklistState:
        """The blocklist the path names (its name checked), or the service's 404."""
        name = _checked_name(params)
        state = self.blocklists.get(name)
        if state is None:
            raise _not_found(f"Blocklist '{name}'")
        return state

    def get(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        def run() -> httpx.Response:
            state = self._blocklist(params)
            return json_response(200, state.to_wire())

        return self._run(run, request, "TextBlocklists_GetTextBlocklist")

    def delete(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        def run() -> httpx.Response:
            self.blocklists.pop(_checked_name(params), None)
            return empty_response(204)

        return self._run(run, request, "TextBlocklists_DeleteTextBlocklist")

    def list_blocklists(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        def run() -> httpx.Response:
            values = [b.to_wire() for b in self.blocklists.values()]
            return self._page(request, values)

        return self._run(run, request, "TextBlocklists_ListTextBlocklists")

    def add_or_update_items(
        self, request: httpx.Request, params: Mapping[str, str]
    ) -> httpx.Response:
        def run() -> httpx.Response:
            state = self._blocklist(params)
            body = _json_body(request)
            items = body.get("blocklistItems")
            if not isinstance(items, list) or not 1 <= len(items) <= _ITEMS_PER_CALL:
                raise _bad_body(
                    f"'blocklistItems' must hold 1..{_ITEMS_PER_CALL} items per request."
                )
            checked = [_checked_item(i, item) for i, item in enumerate(items)]
            by_text = {item.text: item for item in state.items.values()}
            result = []
            for text, description, is_regex in checked:
                item = by_text.get(text)
                if item is None:
                    item = BlocklistItemState(item_id=str(uuid.uuid4()), text=text)
                    state.items[item.item_id] = item
                    by_text[text] = item
                item.description = description
                item.is_regex = is_regex
                result.append(item.to_wire())
            return json_response(200, {"blocklistItems": result})

        return self._run(run, request, "TextBlocklists_AddOrUpdateBlocklistItems")

    def remove_items(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        def run() -> httpx.Response:
            state = self._blocklist(params)
            body = _json_body(request)
            ids = body.get("blocklistItemIds")
            if not isinstance(ids, list) or not 1 <= len(ids) <= _ITEMS_PER_CALL:
                raise _bad_body(
                    f"'blocklistItemIds' must hold 1..{_ITEMS_PER_CALL} ids per request."
                )
            for item_id in ids:
                _code_points(item_id, "blocklistItemIds[]", minimum=1, maximum=_ITEM_ID_MAX)
            for item_id in ids:
                state.items.pop(item_id, None)
            return empty_response(204)

        return self._run(run, request, "TextBlocklists_RemoveBlocklistItems")

    def list_items(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        def run() -> httpx.Response:
            state = self._blocklist(params)
            return self._page(request, [i.to_wire() for i in state.items.values()])

        return self._run(run, request, "TextBlocklists_ListTextBlocklistItems")

    def get_item(self, request: httpx.Request, params: Mapping[str, str]) -> httpx.Response:
        def run() -> httpx.Response:
            state = self._blocklist(params)
            item_id = params.get("blocklistItemId", "")
            item = state.items.get(item_id)
            if item is None or len(item_id) > _ITEM_ID_MAX:
                raise _not_found(f"Blocklist item '{item_id}'")
            return json_response(200, item.to_wire())

        return self._run(run, request, "TextBlocklists_GetTextBlocklistItem")

    def analyze_text(self, request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        def run() -> httpx.Response:
            body = _json_body(request)
            text = _code_points(body.get("text"), "text", minimum=1, maximum=_ANALYZE_TEXT_MAX)
            categories = body.get("categories")
            if categories is None or categories == []:
                categories = list(CATEGORIES)  # "a default set of analysis results"
            if not isinstance(categories, list) or any(c not in CATEGORIES for c in categories):
                raise _bad_body(f"'categories' items must be among {', '.join(CATEGORIES)}.")
            names = body.get("blocklistNames") or []
            if not isinstance(names, list) or any(not isinstance(n, str) for n in names):
                raise _bad_body("'blocklistNames' must be a list of names.")
            halt = body.get("haltOnBlocklistHit", False)
            if not isinstance(halt, bool):
                raise _bad_body("'haltOnBlocklistHit' must be a boolean.")
            output = body.get("outputType", "FourSeverityLevels")
            if not isinstance(output, str) or output not in _OUTPUT_TYPES:
                raise _bad_body(f"'outputType' must be one of {', '.join(sorted(_OUTPUT_TYPES))}.")
            matches = []
            for name in dict.fromkeys(names):
                state = self.blocklists.get(name)
                if state is None:
                    raise _not_found(f"Blocklist '{name}'")
                for item in state.items.values():
                    if item.pattern().search(text):
                        matches.append(
                            {
                                "blocklistName": name,
                                "blocklistItemId": item.item_id,
                                "blocklistItemText": item.text,
                            }
                        )
            if halt and matches:
                return json_response(200, {"blocklistsMatch": matches, "categoriesAnalysis": []})
            missing = [c for c in dict.fromkeys(categories) if c not in self._severities]
            if missing:
                raise _error(
                    501,
                    "EmulatorSeverityNotScripted",
                    "faceguard emulator: harm-category severities cannot be measured offline, "
                    f"and none was scripted for {', '.join(missing)}. Script one with "
                    "Emulator.content_safety.script_severity(category, severity) (or POST "
                    "/_emulator/content-safety/severities), or ask only for blocklist matches "
                    "with haltOnBlocklistHit=true.",
                )
            analysis = []
            for category in dict.fromkeys(categories):
                severity = self._severities[category]
                if output == "FourSeverityLevels":
                    severity = severity // 2 * 2
                analysis.append({"category": category, "severity": severity})
            return json_response(200, {"blocklistsMatch": matches, "categoriesAnalysis": analysis})

        return self._run(run, request, "TextOperations_AnalyzeText")

    def control_severities(
        self, request: httpx.Request, _params: Mapping[str, str]
    ) -> httpx.Response:
        """``POST /_emulator/content-safety/severities`` with ``{"Hate": 2, ...}`` scripts
        severities (eight-level scale); answers 204, or 400 ``InvalidScript``."""
        body = _json_body(request)
        for category, severity in body.items():  # all checked before any is applied
            if category not in CATEGORIES:
                raise _error(
                    400, "InvalidScript", f"category must be one of {', '.join(CATEGORIES)}"
                )
            if (
                isinstance(severity, bool)
                or not isinstance(severity, int)
                or not 0 <= severity <= 7
            ):
                raise _error(
                    400, "InvalidScript", "severity must be an int in 0..7 (the eight-level scale)"
                )
        for category, severity in body.items():
            self.script_severity(category, severity)
        return empty_response(204)

    def control_clear_severities(
        self, _request: httpx.Request, _params: Mapping[str, str]
    ) -> httpx.Response:
        """``DELETE /_emulator/content-safety/severities``: forget the scripted severities."""
        self.clear_severities()
        return empty_response(204)

    # -- paging ---------------------------------------------------------------------------------

    def _page(self, request: httpx.Request, values: list[dict[str, Any]]) -> httpx.Response:
        top = _query_int(request, "top", 0)
        skip = _query_int(request, "skip", 0) or 0
        size = _query_int(request, "maxpagesize", 1) or self.default_page_size
        remaining = values[skip:]
        if top is not None:
            remaining = remaining[:top]
        page = remaining[:size]
        body: dict[str, Any] = {"value": page}
        if len(remaining) > len(page):
            query: dict[str, str | int] = {"api-version": API_VERSION}
            if top is not None:
                query["top"] = top - len(page)
            query["skip"] = skip + len(page)
            query["maxpagesize"] = size
            base = request.url.copy_with(query=None, fragment=None)
            body["nextLink"] = f"{base}?{urlencode(query)}"
        return json_response(200, body)


def _checked_item(index: int, item: object) -> tuple[str, str | None, bool]:
    where = f"blocklistItems[{index}]"
    if not isinstance(item, dict):
        raise _bad_body(f"'{where}' must be an object.")
    text = _code_points(item.get("text"), f"{where}.text", minimum=1, maximum=_ITEM_TEXT_MAX)
    description = item.get("description")
    if description is not None:
        _code_points(description, f"{where}.description", minimum=0, maximum=_DESCRIPTION_MAX)
    is_regex = item.get("isRegex", False)
    if is_regex is None:
        is_regex = False
    if not isinstance(is_regex, bool):
        raise _bad_body(f"'{where}.isRegex' must be a boolean.")
    if is_regex:
        try:
            re.compile(text)
        except re.error:
            raise _bad_body(f"'{where}.text' is not a valid regular expression.") from None
    return text, description, is_regex
