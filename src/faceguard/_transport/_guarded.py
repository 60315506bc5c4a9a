"""The guarded transport: the one place every request of a faceguard client's HTTP client
passes, typed or raw, just before it is sent.

faceguard wraps the httpx transports of the client it sends through (its own, or the one a
caller passed as ``http_client``: its default transport and every mounted one), so the check
does not depend on anything the client's owner can reassign in public (``event_hooks``,
headers, params) and sees the request exactly as it goes on the wire, after every hook and
merge. A caller's client that cannot be wrapped this way is refused at construction.

The typed path's pass is a ``_Pass`` object minted per attempt by the client's ``Capability``
and registered as live there; the transport accepts it only if it is that very object
(identity) and still live, and then only for the exact request it describes. Nothing a caller
can write into ``request.extensions`` (a flag, a copy, an old pass) counts.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigurationError, GuardError
from .._guard._wire import read_request
from .._guard._wire_check import check_wire

if TYPE_CHECKING:
    import httpx

    from ._spec import RequestSpec

__all__ = ["PASS_KEY", "Capability", "install_guard"]

PASS_KEY = "faceguard.pass"  # noqa: S105 (a dictionary key, not a secret)
"""``httpx.Request.extensions`` key of the typed path's pass."""


class _Pass:
    """One attempt's pass: the spec the guard decided on and the body built from it."""

    __slots__ = ("__weakref__", "capability", "content", "spec")

    def __init__(self, capability: Capability, spec: RequestSpec[Any], content: bytes) -> None:
        self.capability = capability
        self.spec = spec
        self.content = content

    def __repr__(self) -> str:
        return "<faceguard pass>"


class Capability:
    """A client's right to send what its guard decided: mints passes and knows its live ones.

    The live passes are a plain set: adding, discarding and testing one object are single
    operations on it, atomic under the interpreter's lock, so threads sharing a client need no
    lock of their own here (and a weak set would cost Python-level calls on every request).
    ``retire`` runs in a ``finally`` after each send, so nothing stays live."""

    __slots__ = ("__weakref__", "_live")

    def __init__(self) -> None:
        self._live: set[_Pass] = set()

    def mint(self, spec: RequestSpec[Any], content: bytes) -> _Pass:
        issued = _Pass(self, spec, content)
        self._live.add(issued)
        return issued

    def retire(self, issued: object) -> None:
        self._live.discard(issued)

    def holds(self, issued: object) -> bool:
        return type(issued) is _Pass and issued in self._live

    def __repr__(self) -> str:
        return "<faceguard capability>"


class _WireGuard:
    """The check shared by every wrapped transport of one httpx client."""

    def __init__(self) -> None:
        # id -> weak reference: a dictionary lookup and a call per request, where a WeakSet
        # membership test costs several Python-level calls. The referent is compared by
        # identity, so a reused id of a collected capability matches nothing.
        self.capabilities: dict[int, weakref.ref[Capability]] = {}
        self.prefixes: tuple[str, ...] = ()

    def register(self, capability: Capability, prefix: str) -> None:
        key = id(capability)
        self.capabilities[key] = weakref.ref(capability, lambda _: self.capabilities.pop(key, None))
        prefixes = set(self.prefixes) | {prefix.lower()}
        self.prefixes = tuple(sorted(prefixes, key=len, reverse=True))

    def check(self, request: httpx.Request, content: bytes) -> None:
        issued = request.extensions.get(PASS_KEY)
        decided = None
        known_json = None
        if issued is not None:
            capability = issued.capability if type(issued) is _Pass else None
            known = self.capabilities.get(id(capability))
            if capability is None or known is None or known() is not capability:
                capability = None
            if capability is None or not capability.holds(issued):
                raise GuardError(
                    "a request carrying a pass faceguard did not issue (or one already used) "
                    "is refused: call the typed method"
                )
            decided = (issued.spec, issued.content)
            if content == issued.content:
                # The bytes on the wire are exactly the encoding of the spec's body: read it
                # from the spec (as strictly as the bytes would be read) instead of parsing.
                known_json = issued.spec.json
        url = request.url
        wire = read_request(
            request.method,
            url.raw_path.partition(b"?")[0],
            url.query,
            request.headers.raw,
            content,
            prefixes=self.prefixes,
            known_json=known_json,
        )
        check_wire(wire, decided)


def _wrappers() -> tuple[type, type]:
    import httpx

    class GuardedTransport(httpx.BaseTransport):
        def __init__(self, inner: httpx.BaseTransport, guard: _WireGuard) -> None:
            self.inner = inner
            self.wire_guard = guard

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            self.wire_guard.check(request, request.read())
            return self.inner.handle_request(request)

        def close(self) -> None:
            self.inner.close()

        def __enter__(self) -> GuardedTransport:
            self.inner.__enter__()
            return self

        def __exit__(self, *args: Any) -> None:
            self.inner.__exit__(*args)

    class AsyncGuardedTransport(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport, guard: _WireGuard) -> None:
            self.inner = inner
            self.wire_guard = guard

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.wire_guard.check(request, await request.aread())
            return await self.inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self.inner.aclose()

        async def __aenter__(self) -> AsyncGuardedTransport:
            await self.inner.__aenter__()
            return self

        async def __aexit__(self, *args: Any) -> None:
            await self.inner.__aexit__(*args)

    return GuardedTransport, AsyncGuardedTransport


_CLASSES: tuple[type, type] | None = None

# Methods through which a request reaches the transport; a subclass overriding one of them
# could send without it, so such a client cannot be guarded.
_SEND_PATH = (
    "send",
    "_send_handling_auth",
    "_send_handling_redirects",
    "_send_single_request",
    "_transport_for_url",
)


def install_guard(
    client: httpx.Client | httpx.AsyncClient,
    capability: Capability,
    *,
    endpoint_path: str,
    asynchronous: bool,
) -> None:
    """Wrap every transport of ``client`` in the guarded transport (once per client), and let
    ``capability``'s passes through it. ``ConfigurationError`` if that cannot be done safely."""
    import httpx

    global _CLASSES
    if _CLASSES is None:
        _CLASSES = _wrappers()
    guarded_sync, guarded_async = _CLASSES
    base: type[httpx.Client] | type[httpx.AsyncClient]
    guarded: type[httpx.BaseTransport] | type[httpx.AsyncBaseTransport]
    if asynchronous:
        base, wrapper, guarded = httpx.AsyncClient, guarded_async, httpx.AsyncBaseTransport
    else:
        base, wrapper, guarded = httpx.Client, guarded_sync, httpx.BaseTransport
    if not isinstance(client, base):
        raise ConfigurationError(
            f"http_client must be an {base.__module__}.{base.__name__} for this client, "
            f"not {type(client).__name__}"
        )
    overridden = [
        name for name in _SEND_PATH if getattr(type(client), name) is not getattr(base, name)
    ]
    transport = getattr(client, "_transport", None)
    mounts = getattr(client, "_mounts", None)
    if overridden or not isinstance(transport, guarded) or not isinstance(mounts, dict):
        why = (
            f"its class overrides {', '.join(overridden)}"
            if overridden
            else "this httpx version keeps its transports where faceguard cannot reach them"
        )
        raise ConfigurationError(
            f"http_client cannot be guarded: {why}. faceguard checks every request at the "
            "client's transport; pass a plain httpx client (or none)"
        )
    wire_guard: _WireGuard
    if isinstance(transport, wrapper):
        wire_guard = getattr(transport, "wire_guard")  # noqa: B009 (the wrapper's own field)
    else:
        wire_guard = _WireGuard()
        client._transport = wrapper(transport, wire_guard)
    for pattern, mounted in list(mounts.items()):
        if mounted is not None and not isinstance(mounted, wrapper):
            mounts[pattern] = wrapper(mounted, wire_guard)
    wire_guard.register(capability, endpoint_path)
