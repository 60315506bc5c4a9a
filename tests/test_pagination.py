"""Paged lists: Face ``start``/``top`` paging and Content Safety ``nextLink`` paging.

The mock services honour the paging parameters the way the real ones do, so these tests check
what the pagers send as much as what they yield.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from faceguard import (
    AsyncContentSafetyClient,
    AsyncFaceClient,
    AsyncPager,
    ContentSafetyClient,
    FaceClient,
    SyncPager,
)

ENDPOINT = "https://unit-test.cognitiveservices.azure.com"
HOST = "unit-test.cognitiveservices.azure.com"
EVIL = "attacker.example.net"


def sorted_ids(count: int, seed: int = 0) -> list[str]:
    """Random-looking UUIDs in the order the service lists them (ascending id)."""
    return sorted(str(uuid.UUID(int=(i * 7919 + seed) * 2**96 + i + 1)) for i in range(count))


# =============================================================================================
# Face start/top paging
# =============================================================================================


class FacePagedService:
    """A Face list endpoint that honours ``start`` (exclusive) and ``top`` (default 1000)."""

    def __init__(
        self,
        route: str,
        id_field: str,
        ids: list[str],
        *,
        page_limit: int | None = None,
    ) -> None:
        self.route = route
        self.id_field = id_field
        self.ids = ids
        self.page_limit = page_limit  # serve at most this many per page, whatever top says
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.url.host == HOST
        assert request.url.path == "/face/v1.2" + self.route
        start = request.url.params.get("start")
        top = int(request.url.params.get("top", "1000"))
        assert 1 <= top <= 1000
        remaining = [i for i in self.ids if start is None or i > start]
        page = remaining[: min(top, self.page_limit or top)]
        return httpx.Response(200, json=[{self.id_field: i, "name": f"n-{i}"} for i in page])

    @property
    def starts(self) -> list[str | None]:
        return [r.url.params.get("start") for r in self.requests]


# (method on a client, route, id field on the wire, id attribute on the model)
LISTS: dict[str, tuple[Callable[..., Any], str, str, str]] = {
    "pg.list_persons": (
        lambda c, **kw: c.person_groups.list_persons("group-1", **kw),
        "/persongroups/group-1/persons",
        "personId",
        "person_id",
    ),
    "lpg.list_persons": (
        lambda c, **kw: c.large_person_groups.list_persons("group-1", **kw),
        "/largepersongroups/group-1/persons",
        "personId",
        "person_id",
    ),
    "lfl.list_faces": (
        lambda c, **kw: c.large_face_lists.list_faces("list-1", **kw),
        "/largefacelists/list-1/persistedfaces",
        "persistedFaceId",
        "persisted_face_id",
    ),
    "pg.list": (
        lambda c, **kw: c.person_groups.list(**kw),
        "/persongroups",
        "personGroupId",
        "person_group_id",
    ),
    "lpg.list": (
        lambda c, **kw: c.large_person_groups.list(**kw),
        "/largepersongroups",
        "largePersonGroupId",
        "large_person_group_id",
    ),
    "lfl.list": (
        lambda c, **kw: c.large_face_lists.list(**kw),
        "/largefacelists",
        "largeFaceListId",
        "large_face_list_id",
    ),
}


def face_client(handler: Callable[[httpx.Request], httpx.Response]) -> FaceClient:
    return FaceClient(ENDPOINT, api_key="k", transport=httpx.MockTransport(handler))


def async_face_client(handler: Callable[[httpx.Request], httpx.Response]) -> AsyncFaceClient:
    return AsyncFaceClient(ENDPOINT, api_key="k", transport=httpx.MockTransport(handler))


def test_2500_persons_are_yielded_once_each_in_order():
    ids = sorted_ids(2500)
    service = FacePagedService("/persongroups/group-1/persons", "personId", ids)
    with face_client(service) as client:
        pager = client.person_groups.list_persons("group-1")
        assert isinstance(pager, SyncPager)
        seen = [person.person_id for person in pager]
    assert seen == ids
    assert len(set(seen)) == 2500
    # Three pages of 1000, 1000, 500: each next page starts after the last id of the previous.
    assert service.starts == [None, ids[999], ids[1999]]


@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_start_top_list_pages_by_its_own_id(name):
    call, route, id_field, attribute = LISTS[name]
    ids = sorted_ids(25, seed=3)
    service = FacePagedService(route, id_field, ids)
    with face_client(service) as client:
        seen = [getattr(item, attribute) for item in call(client, top=10)]
    assert seen == ids
    assert service.starts == [None, ids[9], ids[19]]
    assert [r.url.params["top"] for r in service.requests] == ["10", "10", "10"]


def test_explicit_top_is_sent_on_every_page():
    ids = sorted_ids(2500)
    service = FacePagedService("/persongroups/group-1/persons", "personId", ids)
    with face_client(service) as client:
        seen = [p.person_id for p in client.person_groups.list_persons("group-1", top=300)]
    assert seen == ids
    assert len(service.requests) == 9  # 8 full pages of 300, then 100
    assert {r.url.params["top"] for r in service.requests} == {"300"}
    assert service.starts == [None, *(ids[300 * k - 1] for k in range(1, 9))]


def test_start_argument_is_the_first_pages_start():
    ids = sorted_ids(50)
    service = FacePagedService("/persongroups/group-1/persons", "personId", ids)
    with face_client(service) as client:
        seen = [p.person_id for p in client.person_groups.list_persons("group-1", start=ids[9])]
    assert seen == ids[10:]
    assert service.starts == [ids[9]]


def test_no_request_before_iteration_and_one_request_for_the_first_item():
    ids = sorted_ids(2500)
    service = FacePagedService("/persongroups/group-1/persons", "personId", ids)
    with face_client(service) as client:
        pager = client.person_groups.list_persons("group-1")
        assert service.requests == []
        first = next(iter(pager))
        assert first.person_id == ids[0]
        assert len(service.requests) == 1


def test_a_short_page_ends_iteration():
    # The service returns fewer than ``top`` items: that is the last page, even though this
    # mock would have more to give.
    ids = sorted_ids(30)
    service = FacePagedService("/persongroups/group-1/persons", "personId", ids, page_limit=7)
    with face_client(service) as client:
        seen = [p.person_id for p in client.person_groups.list_persons("group-1", top=10)]
    assert seen == ids[:7]
    assert len(service.requests) == 1


def test_an_exact_multiple_ends_with_one_empty_page():
    ids = sorted_ids(2000)
    service = FacePagedService("/persongroups/group-1/persons", "personId", ids)
    with face_client(service) as client:
        pages = list(client.person_groups.list_persons("group-1").iter_pages())
    assert [len(p) for p in pages] == [1000, 1000, 0]
    assert service.starts == [None, ids[999], ids[1999]]


def test_iter_pages_yields_one_list_per_request():
    ids = sorted_ids(2500)
    service = FacePagedService("/persongroups/group-1/persons", "personId", ids)
    with face_client(service) as client:
        pager = client.person_groups.list_persons("group-1")
        pages = pager.iter_pages()
        assert service.requests == []
        first = next(pages)
        assert len(service.requests) == 1
        rest = list(pages)
    assert [len(p) for p in [first, *rest]] == [1000, 1000, 500]
    assert [p.person_id for page in [first, *rest] for p in page] == ids
    assert len(service.requests) == 3


def test_to_list_fetches_everything():
    ids = sorted_ids(1001)
    service = FacePagedService("/largefacelists/list-1/persistedfaces", "persistedFaceId", ids)
    with face_client(service) as client:
        faces = client.large_face_lists.list_faces("list-1").to_list()
    assert [f.persisted_face_id for f in faces] == ids
    assert len(service.requests) == 2


def test_an_empty_list_sends_one_request():
    service = FacePagedService("/persongroups", "personGroupId", [])
    with face_client(service) as client:
        assert client.person_groups.list().to_list() == []
    assert len(service.requests) == 1


def test_recognition_model_flag_is_kept_on_every_page():
    ids = sorted_ids(15)
    service = FacePagedService("/largepersongroups", "largePersonGroupId", ids)
    with face_client(service) as client:
        client.large_person_groups.list(top=5, return_recognition_model=True).to_list()
    assert [r.url.params["returnRecognitionModel"] for r in service.requests] == ["true"] * 4


async def test_async_pager_with_async_for():
    ids = sorted_ids(2500)
    service = FacePagedService("/persongroups/group-1/persons", "personId", ids)
    async with async_face_client(service) as client:
        pager = client.person_groups.list_persons("group-1")
        assert isinstance(pager, AsyncPager)
        assert service.requests == []
        seen = [person.person_id async for person in pager]
    assert seen == ids
    assert service.starts == [None, ids[999], ids[1999]]


async def test_async_pager_to_list_and_iter_pages():
    ids = sorted_ids(25)
    service = FacePagedService("/largefacelists", "largeFaceListId", ids)
    async with async_face_client(service) as client:
        items = await client.large_face_lists.list(top=10).to_list()
        assert [i.large_face_list_id for i in items] == ids
        sizes = [len(page) async for page in client.large_face_lists.list(top=10).iter_pages()]
    assert sizes == [10, 10, 5]
    assert service.starts == [None, ids[9], ids[19]] * 2


async def test_async_pager_is_lazy_and_stops_early():
    ids = sorted_ids(2500)
    service = FacePagedService("/persongroups/group-1/persons", "personId", ids)
    async with async_face_client(service) as client:
        pager = client.person_groups.list_persons("group-1")
        assert service.requests == []
        async for person in pager:
            assert person.person_id == ids[0]
            break
    assert len(service.requests) == 1


# =============================================================================================
# Content Safety nextLink paging
# =============================================================================================

ITEMS_ROUTE = "/contentsafety/text/blocklists/my-list/blocklistItems"
LISTS_ROUTE = "/contentsafety/text/blocklists"
PAGE_PARAMS = {"top", "skip", "maxpagesize"}


class NextLinkService:
    """A Content Safety list whose ``nextLink`` points wherever the test says.

    ``link(skip, size)`` builds the nextLink for the page starting at ``skip``.
    """

    def __init__(
        self,
        route: str,
        entries: list[dict[str, Any]],
        link: Callable[[int, int], str],
        *,
        page_size: int = 3,
    ) -> None:
        self.route = route
        self.entries = entries
        self.link = link
        self.page_size = page_size
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host != HOST:
            # Answer like a real attacker would: with the same shape, so nothing fails loudly.
            return httpx.Response(200, json={"value": []})
        params = request.url.params
        skip = int(params.get("skip", "0"))
        size = int(params.get("maxpagesize", str(self.page_size)))
        page = self.entries[skip : skip + size]
        body: dict[str, Any] = {"value": page}
        if skip + size < len(self.entries):
            body["nextLink"] = self.link(skip + size, size)
        return httpx.Response(200, json=body)

    @property
    def hosts(self) -> set[str]:
        return {r.url.host for r in self.requests}


def blocklist_items(count: int) -> list[dict[str, Any]]:
    return [{"blocklistItemId": f"item-{i:03d}", "text": f"term {i}"} for i in range(count)]


def blocklists(count: int) -> list[dict[str, Any]]:
    return [{"blocklistName": f"list-{i:03d}"} for i in range(count)]


def safety_client(handler: Callable[[httpx.Request], httpx.Response]) -> ContentSafetyClient:
    return ContentSafetyClient(
        ENDPOINT, api_key="secret-key", transport=httpx.MockTransport(handler)
    )


def _foreign_link(route: str) -> Callable[[int, int], str]:
    def link(skip: int, size: int) -> str:
        return (
            f"https://{EVIL}/steal{route}?api-version=1999-01-01&skip={skip}"
            f"&maxpagesize={size}&redirect=https%3A%2F%2Fevil&top=1000"
        )

    return link


def test_next_link_to_another_host_is_followed_on_our_host_only():
    entries = blocklist_items(10)
    service = NextLinkService(ITEMS_ROUTE, entries, _foreign_link(ITEMS_ROUTE))
    with safety_client(service) as client:
        items = list(client.blocklists.list_items("my-list"))
    assert [i.blocklist_item_id for i in items] == [e["blocklistItemId"] for e in entries]
    assert service.hosts == {HOST}, "the nextLink's host was contacted"
    assert len(service.requests) == 4  # 3 + 3 + 3 + 1
    for request in service.requests:
        assert request.url.path == ITEMS_ROUTE
        assert set(request.url.params) <= PAGE_PARAMS | {"api-version"}
        assert request.url.params.get_list("api-version") == ["2024-09-01"]
        assert request.headers["Ocp-Apim-Subscription-Key"] == "secret-key"
    assert [r.url.params.get("skip") for r in service.requests] == [None, "3", "6", "9"]
    assert [r.url.params.get("top") for r in service.requests] == [None, "1000", "1000", "1000"]


def test_next_link_for_blocklists_keeps_the_route():
    entries = blocklists(5)
    service = NextLinkService(LISTS_ROUTE, entries, _foreign_link("/elsewhere"), page_size=2)
    with safety_client(service) as client:
        names = [b.blocklist_name for b in client.blocklists.list()]
    assert names == [e["blocklistName"] for e in entries]
    assert service.hosts == {HOST}
    assert {r.url.path for r in service.requests} == {LISTS_ROUTE}
    assert len(service.requests) == 3


def test_relative_next_link_is_followed():
    entries = blocklist_items(5)
    service = NextLinkService(
        ITEMS_ROUTE,
        entries,
        lambda skip, size: f"{ITEMS_ROUTE}?skip={skip}&maxpagesize={size}",
        page_size=2,
    )
    with safety_client(service) as client:
        items = client.blocklists.list_items("my-list", max_page_size=2).to_list()
    assert [i.text for i in items] == [e["text"] for e in entries]
    assert [r.url.params["maxpagesize"] for r in service.requests] == ["2", "2", "2"]


def test_next_link_without_paging_parameters_stops_iteration():
    entries = blocklist_items(10)
    service = NextLinkService(
        ITEMS_ROUTE,
        entries,
        lambda _skip, _size: f"{ENDPOINT}{ITEMS_ROUTE}?api-version=2024-09-01&cursor=abc",
    )
    with safety_client(service) as client:
        items = client.blocklists.list_items("my-list").to_list()
    assert [i.blocklist_item_id for i in items] == ["item-000", "item-001", "item-002"]
    assert len(service.requests) == 1


def test_content_safety_pager_is_lazy():
    entries = blocklists(10)
    service = NextLinkService(LISTS_ROUTE, entries, _foreign_link(LISTS_ROUTE))
    with safety_client(service) as client:
        pager = client.blocklists.list()
        assert service.requests == []
        assert next(iter(pager)).blocklist_name == "list-000"
    assert len(service.requests) == 1


async def test_async_next_link_paging_stays_on_our_host():
    entries = blocklist_items(7)
    service = NextLinkService(ITEMS_ROUTE, entries, _foreign_link(ITEMS_ROUTE))
    async with AsyncContentSafetyClient(
        ENDPOINT, api_key="secret-key", transport=httpx.MockTransport(service)
    ) as client:
        pager = client.blocklists.list_items("my-list")
        assert isinstance(pager, AsyncPager)
        ids = [item.blocklist_item_id async for item in pager]
    assert ids == [e["blocklistItemId"] for e in entries]
    assert service.hosts == {HOST}
    assert {r.url.path for r in service.requests} == {ITEMS_ROUTE}
