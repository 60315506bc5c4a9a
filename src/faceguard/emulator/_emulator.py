"""The emulator: one emulated Azure resource behind an httpx handler (``Emulator``).

``Emulator.handle`` takes an ``httpx.Request`` and answers an ``httpx.Response``: through the
middleware list first (``Emulator.middleware``: faults and traffic, hooks, persistence when
served with a state directory), then the auth check, then the route table (method + route
template, ``_routing.Router``). ``Emulator.transport()`` wraps it in an ``httpx.MockTransport``
that serves both ``FaceClient`` and ``AsyncFaceClient`` in process; the loopback server
(``_server``) calls the same ``handle`` with the requests it receives.

Every answer carries an ``apim-request-id``, as the service's do. The services are parts built
here, each from its own folder: ``face/`` (``FaceRoutes`` over a ``FaceStore``),
``liveness/`` (``LivenessControl``) and ``content_safety/`` (``ContentSafetyControl``); each
gives its route table, and the stateful ones export and import their state (``parts()``).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Literal

import httpx

from ._engine_api import FaceEngine
from ._fault_routes import routes as fault_routes
from ._faults import Faults
from ._persist import Stateful
from ._routing import Middleware, Next, Router, run_chain
from ._wire import (
    OPERATION_EXTENSION,
    EngineUnavailable,
    Handler,
    error_response,
)
from .content_safety.handlers import ContentSafetyControl
from .content_safety.routes import routes as content_safety_routes
from .face.common import FACE_BASE, fetch_image
from .face.detect import ATTRIBUTES, validate_scripted_attribute
from .face.models import Limits, ServiceState
from .face.routes import FaceRoutes
from .face.store import FaceStore
from .liveness.handlers import LivenessControl
from .liveness.routes import LIVENESS_ROUTES
from .liveness.routes import routes as liveness_routes

__all__ = ["CONTROL_PREFIX", "SERVICE_PREFIXES", "Emulator", "EmulatorTransport", "Hook"]

Hook = Callable[[httpx.Request], "httpx.Response | None"]
"""Runs before auth and routing; a response it returns is the answer (faults, delays...)."""

CONTROL_PREFIX = "/_emulator/"
"""Control routes (scripting liveness attempts, severities...): no credential is needed
unless the emulator was given a ``key``."""

SERVICE_PREFIXES = (FACE_BASE, "/contentsafety")
"""Where the emulated services live: every other path is a 404 that names them."""

_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
    "a valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)
_MISSING = (
    "Access denied due to missing subscription key. Make sure to include subscription key when "
    "making requests to an API."
)


class EmulatorTransport(httpx.MockTransport):
    """``httpx.MockTransport`` whose async side runs the handler in a worker thread, so a
    slow detection or a URL download never blocks the event loop (and an image server
    running on that same loop can answer the download)."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        super().__init__(handler)
        self._sync_handler = handler

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import anyio.to_thread

        await request.aread()
        return await anyio.to_thread.run_sync(self._sync_handler, request)


def _with_request_id(response: httpx.Response) -> httpx.Response:
    """Every answer of the service carries an ``apim-request-id``."""
    if "apim-request-id" not in response.headers:
        response.headers["apim-request-id"] = str(uuid.uuid4())
    return response


def _not_implemented(operation: str) -> Handler:
    def handler(_request: httpx.Request, _params: Mapping[str, str]) -> httpx.Response:
        return error_response(
            501,
            "NotImplemented",
            f"{operation} is not implemented by this emulator: it was built with liveness=False.",
            operation=operation,
        )

    return handler


def _outside(method: str, path: str) -> httpx.Response:
    shown = path if len(path) <= 200 else path[:200] + "..."
    return error_response(
        404,
        "NotFound",
        f"Resource not found: {method} {shown} is outside the emulated services; the Face API "
        f"is served under {SERVICE_PREFIXES[0]} and Content Safety under "
        f"{SERVICE_PREFIXES[1]}.",
    )


class _Hooks:
    """The middleware that runs ``Emulator.add_hook`` hooks, in the order added."""

    def __init__(self) -> None:
        self.hooks: list[Hook] = []

    def __call__(self, request: httpx.Request, call_next: Next) -> httpx.Response:
        for hook in list(self.hooks):
            hooked = hook(request)
            if hooked is not None:
                return hooked
        return call_next(request)


class Emulator:
    """An offline Azure AI Face v1.2 resource, for tests (like moto for AWS).

    Args:
        engine: the face engine; by default an ``OpenCVEngine``, built on first use (needs
            ``faceguard[emulator]``). Tests may inject any ``FaceEngine``.
        clock: wall-clock seconds for faceId expiry, training and timestamps (``time.time``
            by default; a ``ManualClock`` in tests).
        key: the only subscription key accepted (any non-empty key by default).
        bearer_token: the only AAD bearer token accepted (any by default).
        training_delay: seconds a training stays ``running`` on ``clock``.
        ids: makes faceIds, personIds and persistedFaceIds (uuid4 by default).
        limits: the resource's quotas (S0 by default).
        state: an existing ``ServiceState`` to serve.
        fetch_url: downloads the image of ``{"url": ...}`` bodies (httpx by default).
        url_timeout: seconds allowed for that download.
        stale_training: what identify and find-similar do with a container changed since its
            last training: search the trained snapshot (``"snapshot"``, the service's
            behaviour) or answer ``...NotTrained`` (``"error"``, stricter than the service).
        limited_access_approved: whether the resource may use identification and verification
            (returnFaceId, verify, identify, find-similar, group); ``False`` answers 403
            ``UnsupportedFeature`` as an unapproved Azure resource does.
        content_safety: also serve Content Safety (``content_safety/``).
        liveness: also serve the liveness operations (``liveness/``); without them they
            answer 501.
        faults: install the fault-injection middleware (``_faults``: ``Emulator.faults``).
    """

    content_safety: ContentSafetyControl
    """Content Safety state and control calls (with ``content_safety=True``)."""
    liveness: LivenessControl
    """Liveness sessions and the control calls that script attempts (with ``liveness=True``)."""
    faults: Faults
    """Scripted faults and the TPS limit (``_faults``)."""

    def __init__(
        self,
        *,
        engine: FaceEngine | None = None,
        clock: Callable[[], float] | None = None,
        key: str | None = None,
        bearer_token: str | None = None,
        training_delay: float = 0.5,
        ids: Callable[[], str] | None = None,
        limits: Limits | None = None,
        state: ServiceState | None = None,
        fetch_url: Callable[[str], bytes] | None = None,
        url_timeout: float = 10.0,
        stale_training: Literal["snapshot", "error"] = "snapshot",
        limited_access_approved: bool = True,
        content_safety: bool = True,
        liveness: bool = True,
        faults: bool = True,
    ) -> None:
        self.clock: Callable[[], float] = clock or time.time
        self.key = key
        self.bearer_token = bearer_token
        self.limited_access_approved = limited_access_approved
        self.store = FaceStore(
            clock=self.clock, training_delay=training_delay, ids=ids, limits=limits, state=state
        )
        self.router = Router()
        self._engine = engine
        self._engine_lock = threading.Lock()
        self._hooks = _Hooks()
        self.middleware: list[Middleware] = []
        """What every request goes through before auth and routing, outermost first
        (``use`` adds one)."""
        self._scripted: dict[str, object] = {}
        self._session_images: Callable[[str], bytes | None] | None = None
        self._fetch = fetch_url or (lambda url: fetch_image(url, timeout=url_timeout))
        self.face = FaceRoutes(
            store=self.store,
            engine=lambda: self.engine,
            fetch=lambda url: self._fetch(url),
            session_image=self._session_image,
            scripted=self._scripted,
            stale_training=stale_training,
            approved=lambda: self.limited_access_approved,
        )
        for method, template, handler in self.face.routes():
            self.router.register(method, template, handler)
        if liveness:
            self.liveness = LivenessControl(
                clock=lambda: float(self.clock()), engine=self._engine_or_none
            )
            for method, template, handler, operation in liveness_routes(self.liveness):
                self.router.register(method, template, handler, operation)
        else:
            for method, route, operation in LIVENESS_ROUTES:
                self.router.register(method, FACE_BASE + route, _not_implemented(operation))
        if content_safety:
            self.content_safety = ContentSafetyControl()
            for method, template, handler, operation in content_safety_routes(self.content_safety):
                self.router.register(method, template, handler, operation)
        if faults:
            advance = getattr(self.clock, "advance", None)
            self.faults = Faults(
                clock=lambda: float(self.clock()),
                sleep=advance if callable(advance) else time.sleep,
            )
            self.use(self.faults)
            for method, template, handler, operation in fault_routes(self.faults):
                self.router.register(method, template, handler, operation)
        self.use(self._hooks)

    def parts(self) -> dict[str, Stateful]:
        """The parts whose state persists, by name (what ``_persist`` saves and loads)."""
        found: dict[str, Stateful] = {"face": self.store}
        if hasattr(self, "content_safety"):
            found["content_safety"] = self.content_safety
        if hasattr(self, "liveness"):
            found["liveness"] = self.liveness
        return found

    def use(self, middleware: Middleware) -> None:
        """Add ``middleware`` to the chain, inside the ones added before it."""
        self.middleware.append(middleware)

    # -- the engine --------------------------------------------------------------------------

    @property
    def engine(self) -> FaceEngine:
        """The face engine, built on first use.

        Raises:
            EngineUnavailable: (an ``ImportError``) OpenCV, numpy or the models are missing.
        """
        with self._engine_lock:
            if self._engine is None:
                try:
                    from ._engine import EngineUnavailableError, OpenCVEngine
                except ImportError as exc:  # pragma: no cover - the module ships with us
                    raise EngineUnavailable(str(exc)) from exc
                try:
                    self._engine = OpenCVEngine()
                except EngineUnavailableError as exc:
                    raise EngineUnavailable(str(exc)) from exc
            return self._engine

    def _engine_or_none(self) -> FaceEngine | None:
        """The engine, or ``None`` when it cannot be built (liveness answers that itself)."""
        try:
            return self.engine
        except EngineUnavailable:
            return None

    # -- what tests and other modules plug in ------------------------------------------------

    def register(self, method: str, template: str, handler: Handler) -> None:
        """Serve ``method`` + ``template`` (the full path, e.g.
        ``/contentsafety/text/blocklists/{blocklistName}``) with ``handler(request, params)``;
        replaces an earlier handler of the same route."""
        self.router.register(method, template, handler)

    def add_hook(self, hook: Hook) -> None:
        """Run ``hook(request)`` before auth and routing; a response it returns is sent as is
        (``apim-request-id`` added)."""
        self._hooks.hooks.append(hook)

    def remove_hook(self, hook: Hook) -> None:
        self._hooks.hooks.remove(hook)

    def script_attribute(self, name: str, value: object) -> None:
        """Answer ``value`` (its wire form, e.g. ``"noGlasses"`` or ``{"noseAndMouthCovered":
        False, "type": "noMask"}``) for face attribute ``name`` on every face detected from
        now on. The engine cannot measure glasses, occlusion, accessories or mask: without a
        scripted value, asking for them is refused. Scripting a measured attribute overrides
        the measurement.

        Raises:
            ValueError: ``name`` is not a scriptable attribute, or ``value`` is not valid for
                it under the contract.
        """
        if name not in ATTRIBUTES:
            raise ValueError(f"{name!r} is not a face attribute of the contract")
        validate_scripted_attribute(name, value)
        self._scripted[name] = value

    def clear_scripted_attributes(self) -> None:
        self._scripted.clear()

    def fail_next_training(self, message: str = "Training failed (scripted).") -> None:
        """Make the next training that starts end in ``failed`` with ``message``."""
        self.store.fail_next_training(message)

    def set_session_image_source(self, source: Callable[[str], bytes | None] | None) -> None:
        """Where ``detect`` with ``sessionImageId`` gets the image (by default the
        registered ``GET /sessionImages/{id}`` route)."""
        self._session_images = source

    def _session_image(self, session_image_id: str) -> bytes | None:
        if self._session_images is not None:
            return self._session_images(session_image_id)
        path = f"{FACE_BASE}/sessionImages/{session_image_id}"
        found = self.router.match("GET", path)
        if found is None:
            return None
        route, params = found
        response = route.handler(httpx.Request("GET", f"http://emulator{path}"), params)
        return response.content if response.status_code == 200 else None

    # -- serving -----------------------------------------------------------------------------

    def authorize(self, request: httpx.Request) -> httpx.Response | None:
        """``None`` when the request's credential is accepted, else the 401 answer."""
        return self._credential_refusal(request.headers)

    def _credential_refusal(self, headers: httpx.Headers) -> httpx.Response | None:
        key = headers.get("ocp-apim-subscription-key")
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if key:
            accepted = self.key is None or key == self.key
        elif scheme.lower() == "bearer" and token.strip():
            accepted = self.bearer_token is None or token.strip() == self.bearer_token
        else:
            return error_response(401, "401", _MISSING)
        return None if accepted else error_response(401, "401", _DENIED)

    def precheck(self, method: str, path: str, headers: httpx.Headers) -> httpx.Response | None:
        """The answer a request gets whatever its body: a path outside the services (404)
        or a refused credential (401); ``None`` when the body is worth reading. The server
        asks this before it reads a byte of the body."""
        if not path.startswith((*SERVICE_PREFIXES, CONTROL_PREFIX)):
            return _with_request_id(_outside(method, path))
        if path.startswith(CONTROL_PREFIX) and self.key is None:
            return None
        denied = self._credential_refusal(headers)
        return None if denied is None else _with_request_id(denied)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the ``httpx.MockTransport`` handler): the middleware list,
        then auth and the route table."""
        with contextlib.suppress(httpx.StreamConsumed):  # already read by the transport
            request.read()
        return _with_request_id(run_chain(self.middleware, request, self._answer))

    def _answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode("ascii").split("?", 1)[0]
        if not path.startswith((*SERVICE_PREFIXES, CONTROL_PREFIX)):
            return _outside(request.method, path)
        open_control = path.startswith(CONTROL_PREFIX) and self.key is None
        denied = None if open_control else self.authorize(request)
        if denied is not None:
            return denied
        found = self.router.match(request.method, path)
        if found is None:
            return error_response(
                404,
                "NotFound",
                f"Resource not found: the emulator serves no {request.method} {path} (its "
                f"services live under {' and '.join(SERVICE_PREFIXES)}).",
            )
        route, params = found
        self.store.purge_expired()
        return self.router.answer(route, request, params)

    def transport(self) -> httpx.MockTransport:
        """An httpx transport answering from this emulator, for ``FaceClient(transport=...)``
        and ``AsyncFaceClient(transport=...)`` alike.

        It calls ``self.handle`` as it is at request time (a test may wrap it), and its
        answers get an ``apim-request-id`` too.
        """
        return EmulatorTransport(lambda request: _with_request_id(self.handle(request)))

    @staticmethod
    def operation_of(response: httpx.Response) -> str | None:
        """The contract operation (``operationId``) that produced an emulator response."""
        value = response.extensions.get(OPERATION_EXTENSION)
        return value if isinstance(value, str) else None
