"""Content Safety text blocklists and ``text:analyze`` against the emulator, driven by the
real sync and async ``ContentSafetyClient``.

Blocklists and items are stored for real; matching follows the rule documented in
``faceguard/emulator/_content_safety_routes.py`` (exact items: case-insensitive, whole terms;
regex items: Python ``re`` as written). Severities are never made up: they are scripted, or the
call fails with a clear emulator error.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from faceguard import (
    APIStatusError,
    AsyncContentSafetyClient,
    AsyncPager,
    ContentSafetyClient,
    InvalidInputError,
    NotFoundError,
    SyncPager,
)
from faceguard.emulator import Emulator
from faceguard.models.content_safety import TextBlocklistItemInput

ENDPOINT = "http://127.0.0.1:5000"
KEY = {"Ocp-Apim-Subscription-Key": "k"}


@pytest.fixture
def emulator() -> Emulator:
    return Emulator()


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest, emulator: Emulator) -> Callable[..., Any]:
    """``call(lambda client: ...)`` on a sync or async client; pages are drained to lists."""

    def run(operation: Callable[[Any], Any]) -> Any:
        if request.param == "sync":
            with ContentSafetyClient(
                ENDPOINT, api_key="any", transport=emulator.transport()
            ) as client:
                result = operation(client)
                return list(result) if isinstance(result, SyncPager) else result

        async def main() -> Any:
            async with AsyncContentSafetyClient(
                ENDPOINT, api_key="any", transport=emulator.transport()
            ) as client:
                result = operation(client)
                if isinstance(result, AsyncPager):
                    return [item async for item in result]
                return await result

        return asyncio.run(main())

    return run


def raw(
    emulator: Emulator,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """A plain HTTP request to the emulator, for what the client refuses to send."""
    with httpx.Client(transport=emulator.transport(), base_url=ENDPOINT) as client:
        return client.request(method, path, headers={**KEY, **(headers or {})}, **kwargs)


def create_raw(emulator: Emulator, name: str) -> None:
    response = raw(
        emulator,
        "PATCH",
        f"/contentsafety/text/blocklists/{name}?api-version=2024-09-01",
        content=b"{}",
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 201


# -- blocklists -------------------------------------------------------------------------------


def test_create_answers_201_then_update_answers_200(call: Callable[..., Any]) -> None:
    created = call(lambda c: c.blocklists.create_or_update("profanity", description="v1"))
    updated = call(lambda c: c.blocklists.create_or_update("profanity", description="v2"))
    kept = call(lambda c: c.blocklists.create_or_update("profanity"))

    assert created.support_info()["status_code"] == 201
    assert updated.support_info()["status_code"] == 200
    assert (created.blocklist_name, created.description) == ("profanity", "v1")
    assert updated.description == "v2"
    assert kept.description == "v2"  # merge-patch: an absent field is kept
    assert call(lambda c: c.blocklists.get("profanity")).description == "v2"


def test_delete_answers_204_and_the_blocklist_is_gone(call: Callable[..., Any]) -> None:
    call(lambda c: c.blocklists.create_or_update("gone"))

    assert call(lambda c: c.blocklists.delete("gone")) is None
    with pytest.raises(NotFoundError) as missing:
        call(lambda c: c.blocklists.get("gone"))
    assert missing.value.error_code == "ResourceNotFound"
    assert missing.value.body["error"]["message"]


def test_blocklists_are_listed_over_pages(call: Callable[..., Any], emulator: Emulator) -> None:
    emulator.content_safety.default_page_size = 2
    names = [f"list-{i}" for i in range(5)]
    for name in names:
        call(lambda c, n=name: c.blocklists.create_or_update(n))

    listed = call(lambda c: c.blocklists.list())

    assert [b.blocklist_name for b in listed] == names


# -- items ------------------------------------------------------------------------------------


def test_items_get_uuid_ids_and_an_update_keeps_the_id(call: Callable[..., Any]) -> None:
    call(lambda c: c.blocklists.create_or_update("words"))
    first = call(lambda c: c.blocklists.add_or_update_items("words", ["dog", "cat"]))
    again = call(
        lambda c: c.blocklists.add_or_update_items(
            "words", [TextBlocklistItemInput(text="dog", description="updated")]
        )
    )

    ids = [item.blocklist_item_id for item in first.blocklist_items]
    assert all(uuid.UUID(i) for i in ids)
    assert len(set(ids)) == 2
    [updated] = again.blocklist_items
    assert updated.blocklist_item_id == ids[0]
    assert updated.description == "updated"
    item = call(lambda c: c.blocklists.get_item("words", ids[0]))
    assert (item.text, item.description, item.is_regex) == ("dog", "updated", False)


def test_items_are_listed_with_top_skip_and_page_size(call: Callable[..., Any]) -> None:
    call(lambda c: c.blocklists.create_or_update("many"))
    texts = [f"term{i}" for i in range(7)]
    call(lambda c: c.blocklists.add_or_update_items("many", texts))

    every = call(lambda c: c.blocklists.list_items("many", max_page_size=2))
    window = call(lambda c: c.blocklists.list_items("many", skip=2, top=3, max_page_size=2))

    assert [i.text for i in every] == texts
    assert [i.text for i in window] == texts[2:5]


def test_a_page_carries_a_next_link_with_the_api_version(emulator: Emulator) -> None:
    create_raw(emulator, "paged")
    raw(
        emulator,
        "POST",
        "/contentsafety/text/blocklists/paged:addOrUpdateBlocklistItems?api-version=2024-09-01",
        json={"blocklistItems": [{"text": f"t{i}"} for i in range(3)]},
    )

    page = raw(
        emulator,
        "GET",
        "/contentsafety/text/blocklists/paged/blocklistItems?api-version=2024-09-01&maxpagesize=2",
    ).json()

    assert [i["text"] for i in page["value"]] == ["t0", "t1"]
    link = httpx.URL(page["nextLink"])
    assert link.params["api-version"] == "2024-09-01"
    assert (link.params["skip"], link.params["maxpagesize"]) == ("2", "2")
    last = raw(emulator, "GET", f"{link.path}?{link.query.decode()}").json()
    assert [i["text"] for i in last["value"]] == ["t2"]
    assert "nextLink" not in last


def test_remove_answers_204_and_the_items_are_gone(call: Callable[..., Any]) -> None:
    call(lambda c: c.blocklists.create_or_update("trim"))
    added = call(lambda c: c.blocklists.add_or_update_items("trim", ["a1", "b2", "c3"]))
    first, second, third = (i.blocklist_item_id for i in added.blocklist_items)

    assert call(lambda c: c.blocklists.remove_items("trim", [first, third])) is None

    assert [i.blocklist_item_id for i in call(lambda c: c.blocklists.list_items("trim"))] == [
        second
    ]
    with pytest.raises(NotFoundError):
        call(lambda c: c.blocklists.get_item("trim", first))


def test_items_of_an_unknown_blocklist_are_not_found(call: Callable[..., Any]) -> None:
    with pytest.raises(NotFoundError) as missing:
        call(lambda c: c.blocklists.add_or_update_items("nowhere", ["x"]))

    assert missing.value.error_code == "ResourceNotFound"


def test_the_emulator_enforces_100_items_per_call(emulator: Emulator) -> None:
    create_raw(emulator, "big")
    path = "/contentsafety/text/blocklists/big:addOrUpdateBlocklistItems?api-version=2024-09-01"

    too_many = raw(
        emulator, "POST", path, json={"blocklistItems": [{"text": f"t{i}"} for i in range(101)]}
    )
    just_right = raw(
        emulator, "POST", path, json={"blocklistItems": [{"text": f"t{i}"} for i in range(100)]}
    )
    remove = raw(
        emulator,
        "POST",
        "/contentsafety/text/blocklists/big:removeBlocklistItems?api-version=2024-09-01",
        json={"blocklistItemIds": [str(uuid.uuid4()) for _ in range(101)]},
    )

    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == "InvalidRequestBody"
    assert just_right.status_code == 200
    assert remove.status_code == 400


def test_item_text_is_counted_in_code_points(emulator: Emulator, call: Callable[..., Any]) -> None:
    call(lambda c: c.blocklists.create_or_update("emoji"))
    path = "/contentsafety/text/blocklists/emoji:addOrUpdateBlocklistItems?api-version=2024-09-01"
    # U+1F600 is one code point but two UTF-16 units: 128 of them fit.
    fits = raw(emulator, "POST", path, json={"blocklistItems": [{"text": "\U0001f600" * 128}]})
    too_long = raw(emulator, "POST", path, json={"blocklistItems": [{"text": "a" * 129}]})
    empty = raw(emulator, "POST", path, json={"blocklistItems": [{"text": ""}]})
    bad_regex = raw(
        emulator, "POST", path, json={"blocklistItems": [{"text": "(", "isRegex": True}]}
    )

    assert fits.status_code == 200
    assert [r.status_code for r in (too_long, empty, bad_regex)] == [400, 400, 400]


def test_the_client_refuses_what_the_emulator_would(call: Callable[..., Any]) -> None:
    with pytest.raises(InvalidInputError):
        call(lambda c: c.blocklists.add_or_update_items("x", [f"t{i}" for i in range(101)]))


@pytest.mark.parametrize(
    ("query", "code"),
    [("", "MissingApiVersionParameter"), ("?api-version=2023-10-01", "UnsupportedApiVersionValue")],
)
def test_a_missing_or_other_api_version_gets_the_azure_core_error(
    emulator: Emulator, query: str, code: str
) -> None:
    response = raw(emulator, "GET", f"/contentsafety/text/blocklists{query}")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert "api-version" in error["message"]
    assert response.headers["x-ms-error-code"] == code


def test_a_bad_blocklist_name_is_an_invalid_resource_name(emulator: Emulator) -> None:
    response = raw(
        emulator, "GET", "/contentsafety/text/blocklists/bad%20name?api-version=2024-09-01"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidResourceName"


# -- text:analyze -----------------------------------------------------------------------------


@pytest.fixture
def words(call: Callable[..., Any]) -> dict[str, str]:
    """A blocklist ``words`` with exact and regex items; returns item ids by text."""
    call(lambda c: c.blocklists.create_or_update("words"))
    added = call(
        lambda c: c.blocklists.add_or_update_items(
            "words",
            [
                "dog",
                "hot potato",
                TextBlocklistItemInput(text=r"\b\d{3}-\d{4}\b", is_regex=True),
                TextBlocklistItemInput(text="C++", description="ends with punctuation"),
            ],
        )
    )
    return {i.text: i.blocklist_item_id for i in added.blocklist_items}


def matched(call: Callable[..., Any], text: str) -> list[str]:
    result = call(
        lambda c: c.analyze_text(text, blocklist_names=["words"], halt_on_blocklist_hit=True)
    )
    return sorted(m.blocklist_item_text for m in result.blocklists_match or [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My DOG barks.", ["dog"]),
        ("dog", ["dog"]),
        ("a Hot Potato!", ["hot potato"]),
        ("HOT POTATO and a dog", ["dog", "hot potato"]),
        ("call 555-1234 now", [r"\b\d{3}-\d{4}\b"]),
        ("I write c++ daily", ["C++"]),
    ],
)
def test_items_match_whole_terms_case_insensitively_and_regexes_as_written(
    call: Callable[..., Any], words: dict[str, str], text: str, expected: list[str]
) -> None:
    assert matched(call, text) == sorted(expected)


def test_a_match_reports_the_blocklist_and_item(
    call: Callable[..., Any], words: dict[str, str]
) -> None:
    result = call(
        lambda c: c.analyze_text(
            "a dog and 555-0000", blocklist_names=["words"], halt_on_blocklist_hit=True
        )
    )

    assert result.categories_analysis == []  # halted: no analysis, no severity needed
    pairs = {
        (m.blocklist_name, m.blocklist_item_id, m.blocklist_item_text)
        for m in result.blocklists_match
    }
    assert pairs == {
        ("words", words["dog"], "dog"),
        ("words", words[r"\b\d{3}-\d{4}\b"], r"\b\d{3}-\d{4}\b"),
    }


@pytest.mark.parametrize(
    "text", ["the dogma of dogs", "hotdog", "call 5551234 now", "nothing here"]
)
def test_non_matches_are_not_reported(
    call: Callable[..., Any], emulator: Emulator, words: dict[str, str], text: str
) -> None:
    for category in ("Hate", "SelfHarm", "Sexual", "Violence"):
        emulator.content_safety.script_severity(category, 0)

    result = call(
        lambda c: c.analyze_text(text, blocklist_names=["words"], halt_on_blocklist_hit=True)
    )

    assert result.blocklists_match == []
    assert len(result.categories_analysis) == 4


def test_severities_are_never_made_up(call: Callable[..., Any], words: dict[str, str]) -> None:
    with pytest.raises(APIStatusError) as refused:
        call(lambda c: c.analyze_text("nothing to see", blocklist_names=["words"]))

    assert refused.value.status_code == 501
    assert refused.value.error_code == "EmulatorSeverityNotScripted"
    assert "cannot be measured offline" in str(refused.value)
    assert "script_severity" in str(refused.value)


def test_a_hit_without_halt_still_needs_severities(
    call: Callable[..., Any], words: dict[str, str]
) -> None:
    with pytest.raises(APIStatusError) as refused:
        call(
            lambda c: c.analyze_text(
                "my dog", blocklist_names=["words"], halt_on_blocklist_hit=False
            )
        )

    assert refused.value.error_code == "EmulatorSeverityNotScripted"


def test_scripted_severities_follow_the_output_type(
    call: Callable[..., Any], emulator: Emulator
) -> None:
    emulator.content_safety.script_severity("Hate", 5)
    emulator.content_safety.script_severity("Violence", 2)

    four = call(lambda c: c.analyze_text("text", categories=["Hate", "Violence"]))
    eight = call(
        lambda c: c.analyze_text(
            "text", categories=["Hate", "Violence"], output_type="EightSeverityLevels"
        )
    )

    assert [(a.category, a.severity) for a in four.categories_analysis] == [
        ("Hate", 4),
        ("Violence", 2),
    ]
    assert [(a.category, a.severity) for a in eight.categories_analysis] == [
        ("Hate", 5),
        ("Violence", 2),
    ]


def test_only_the_requested_categories_need_a_script(
    call: Callable[..., Any], emulator: Emulator
) -> None:
    emulator.content_safety.script_severity("Sexual", 6)

    result = call(lambda c: c.analyze_text("text", categories=["Sexual"]))
    with pytest.raises(APIStatusError) as refused:
        call(lambda c: c.analyze_text("text"))  # the default set is all four

    assert [(a.category, a.severity) for a in result.categories_analysis] == [("Sexual", 6)]
    assert "Hate, SelfHarm, Violence" in str(refused.value)


def test_cleared_severities_are_needed_again(call: Callable[..., Any], emulator: Emulator) -> None:
    emulator.content_safety.script_severity("Hate", 1)
    emulator.content_safety.clear_severities()

    with pytest.raises(APIStatusError):
        call(lambda c: c.analyze_text("text", categories=["Hate"]))


def test_a_severity_script_is_checked(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="category"):
        emulator.content_safety.script_severity("Spam", 1)
    with pytest.raises(ValueError, match=r"0\.\.7"):
        emulator.content_safety.script_severity("Hate", 8)


def test_severities_can_be_scripted_over_http(call: Callable[..., Any], emulator: Emulator) -> None:
    scripted = raw(emulator, "POST", "/_emulator/content-safety/severities", json={"SelfHarm": 3})
    refused = raw(emulator, "POST", "/_emulator/content-safety/severities", json={"SelfHarm": 9})

    result = call(
        lambda c: c.analyze_text("text", categories=["SelfHarm"], output_type="EightSeverityLevels")
    )
    cleared = raw(emulator, "DELETE", "/_emulator/content-safety/severities")

    assert (scripted.status_code, refused.status_code, cleared.status_code) == (204, 400, 204)
    assert result.categories_analysis[0].severity == 3
    with pytest.raises(APIStatusError):
        call(lambda c: c.analyze_text("text", categories=["SelfHarm"]))


def test_analysis_with_an_unknown_blocklist_is_not_found(call: Callable[..., Any]) -> None:
    with pytest.raises(NotFoundError) as missing:
        call(lambda c: c.analyze_text("text", blocklist_names=["nope"], halt_on_blocklist_hit=True))

    assert missing.value.error_code == "ResourceNotFound"


def test_analysis_text_is_limited_to_10000_code_points(emulator: Emulator) -> None:
    emulator.content_safety.script_severity("Hate", 0)
    path = "/contentsafety/text:analyze?api-version=2024-09-01"

    fits = raw(emulator, "POST", path, json={"text": "\U0001f600" * 10_000, "categories": ["Hate"]})
    too_long = raw(emulator, "POST", path, json={"text": "a" * 10_001, "categories": ["Hate"]})

    assert fits.status_code == 200
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "InvalidRequestBody"
