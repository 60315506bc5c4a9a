"""Lazy iteration over paged list operations, sync and async.

Face lists page with ``start``/``top`` (the next page starts after the last id returned);
Content Safety lists follow ``nextLink``. Both are described by a pure ``PageSpec``; these
classes only send its requests, one page at a time, when the caller asks for more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Generic, TypeVar

from ._transport._async import AsyncTransport
from ._transport._spec import PageSpec, RequestSpec
from ._transport._sync import SyncTransport

__all__ = ["AsyncPager", "SyncPager"]

T = TypeVar("T")


class SyncPager(Generic[T]):
    """Iterate the items of a paged list; no request is sent until iteration starts."""

    def __init__(self, transport: SyncTransport, spec: PageSpec[T]) -> None:
        self._transport = transport
        self._spec = spec

    def iter_pages(self) -> Iterator[list[T]]:
        """Yield one page (a list of items) per request."""
        request: RequestSpec[tuple[list[T], str | None]] | None = self._spec.first
        while request is not None:
            items, marker = self._transport.send(request)
            yield items
            request = self._spec.next_request(request, items, marker)

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page

    def to_list(self) -> list[T]:
        """Fetch every page and return all items."""
        return list(self)


class AsyncPager(Generic[T]):
    """``async for`` over the items of a paged list; pages are fetched on demand."""

    def __init__(self, transport: AsyncTransport, spec: PageSpec[T]) -> None:
        self._transport = transport
        self._spec = spec

    async def iter_pages(self) -> AsyncIterator[list[T]]:
        """Yield one page (a list of items) per request."""
        request: RequestSpec[tuple[list[T], str | None]] | None = self._spec.first
        while request is not None:
            items, marker = await self._transport.send(request)
            yield items
            request = self._spec.next_request(request, items, marker)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page:
                yield item

    async def to_list(self) -> list[T]:
        """Fetch every page and return all items."""
        return [item async for item in self]
