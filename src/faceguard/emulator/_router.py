"""The emulator: one emulated Azure resource behind an httpx handler.

``Emulator.handle`` takes an ``httpx.Request`` and answers an ``httpx.Response``: hooks first
(fault injection plugs in here), then the auth check, then the route table (method + route
template). ``Emulator.transport()`` wraps it in an ``httpx.MockTransport`` that serves both
``FaceClient`` and ``AsyncFaceClient`` in process; a loopback HTTP server can call ``handle``
with the requests it receives.

Every answer carries an ``apim-request-id``, as the service's do. Other modules add their
routes with ``Emulator.register`` (Content Safety, liveness); the Face routes are
``_face_routes``'s.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

import httpx

from ._engine_api import FaceEngine
from ._face_routes import (
    ATTRIBUTES,
    FACE_BASE,
    LIVENESS_ROUTES,
    OPERATION_EXTENSION,
    FaceRoutes,
    Handler,
    error_response,
    fetch_image,
    validate_scripted_attribute,
)
from ._state import FaceApiError, Limits, ServiceState
from ._store import FaceStore

if TYPE_CHECKING:
    from ._content_safety_routes import ContentSafetyControl
    from ._faults import Faults
    from ._liveness_routes import LivenessControl

__all__ = ["Emulator", "EmulatorTransport", "EngineUnavailable", "Hook", "Route", "Router"]

Hook = Callable[[httpx.Request], "httpx.Response | None"]
"""Runs before auth and routing; a response it returns is the answer (faults, delays...)."""

_log = logging.getLogger("faceguard.emulator")

CONTROL_PREFIX = "/_emulator/"
"""Control routes (scripting liveness attempts, severities...): no credential is needed
unless the emulator was given a ``key``."""

_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
    "a valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)
_MISSING = (
    "Access denied due to missing subscription key. Make sure to include subscription key when "
    "making requests to an API."
)


class EngineUnavailable(ImportError):
    """The face engine cannot be built (OpenCV, numpy or the model package is missing, or a
    model file fails its checksum); install ``faceguard[emulator]`` or inject an engine."""


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    pattern: re.Pattern[str]
    literal: int
    """Characters outside ``{params}``: more literal routes are tried first."""


def _compile(template: str) -> tuple[re.Pattern[str], int]:
    parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", template)
    regex = ""
    literal = 0
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
            literal += len(part)
    return re.compile(f"^{regex}$"), literal


class Router:
    """Routes by method and route template (``/face/v1.2/persongroups/{personGroupId}``)."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Route] = {}
        self._ordered: list[Route] = []
        self._lock = threading.Lock()

    def register(self, method: str, template: str, handler: Handler) -> None:
        """Add a route; registering a (method, template) again replaces its handler."""
        if not template.startswith("/"):
            raise ValueError(f"route templates start with '/': {template!r}")
        pattern, literal = _compile(template)
        route = Route(method.upper(), template, handler, pattern, literal)
        with self._lock:
            self._routes[(route.method, template)] = route
            self._ordered = sorted(self._routes.values(), key=lambda r: -r.literal)

    def routes(self) -> list[tuple[str, str]]:
        """Every registered (method, template)."""
        with self._lock:
            return sorted(self._routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for a request and its (percent-decoded) path parameters."""
        with self._lock:
            ordered = self._ordered
        for route in ordered:
            if route.method != method.upper():
                continue
            found = route.pattern.match(path)
            if found is not None:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None


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
            f"{operation} is not implemented by this emulator (liveness sessions are served "
            "by faceguard.emulator._liveness_routes when it is installed).",
            operation=operation,
        )

    return handler


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
        content_safety: also serve Content Safety (``_content_safety_routes``).
        liveness: also serve the liveness operations (``_liveness_routes``); without them
            they answer 501.
        faults: install the fault-injection layer (``_faults``: ``Emulator.faults``).
    """

    content_safety: ContentSafetyControl
    """Content Safety state and control calls (set by ``_content_safety_routes``)."""
    liveness: LivenessControl
    """Liveness sessions and the control calls that script attempts (``_liveness_routes``)."""
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
        self._hooks: list[Hook] = []
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
        for method, route, operation in LIVENESS_ROUTES:
            self.router.register(method, FACE_BASE + route, _not_implemented(operation))
        wanted = {
            "_content_safety_routes": content_safety,
            "_liveness_routes": liveness,
            "_faults": faults,  # last: it wraps ``handle``
        }
        for module, enabled in wanted.items():
            if enabled:
                self._extend(module)

    def _extend(self, module: str) -> None:
        """Let a sibling module add its routes or layer: ``<module>.register(self)``."""
        try:
            found = importlib.import_module(f"{__package__}.{module}")
        except ModuleNotFoundError:  # pragma: no cover - every module ships with the package
            return
        found.register(self)

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

    # -- what tests and other modules plug in ------------------------------------------------

    def register(self, method: str, template: str, handler: Handler) -> None:
        """Serve ``method`` + ``template`` (the full path, e.g.
        ``/contentsafety/text/blocklists/{blocklistName}``) with ``handler(request, params)``;
        replaces an earlier handler of the same route."""
        self.router.register(method, template, handler)

    def add_hook(self, hook: Hook) -> None:
        """Run ``hook(request)`` before auth and routing; a response it returns is sent as is
        (``apim-request-id`` added)."""
        self._hooks.append(hook)

    def remove_hook(self, hook: Hook) -> None:
        self._hooks.remove(hook)

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
        key = request.headers.get("ocp-apim-subscription-key")
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if key:
            accepted = self.key is None or key == self.key
        elif scheme.lower() == "bearer" and token.strip():
            accepted = self.bearer_token is None or token.strip() == self.bearer_token
        else:
            return error_response(401, "401", _MISSING)
        return None if accepted else error_response(401, "401", _DENIED)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the ``httpx.MockTransport`` handler)."""
        with contextlib.suppress(httpx.StreamConsumed):  # already read by the transport
            request.read()
        return _with_request_id(self._answer(request))

    def _answer(self, request: httpx.Request) -> httpx.Response:
        for hook in list(self._hooks):
            hooked = hook(request)
            if hooked is not None:
                return hooked
        path = request.url.raw_path.decode("ascii").split("?", 1)[0]
        open_control = path.startswith(CONTROL_PREFIX) and self.key is None
        denied = None if open_control else self.authorize(request)
        if denied is not None:
            return denied
        found = self.router.match(request.method, path)
        if found is None:
            return error_response(
                404,
                "NotFound",
                f"Resource not found: the emulator serves no {request.method} {path}.",
            )
        route, params = found
        self.store.purge_expired()
        try:
            return route.handler(request, params)
        except FaceApiError as exc:
            return error_response(exc.status, exc.code, exc.message)
        except EngineUnavailable as exc:
            # Code chosen: not a service situation; 501 so that clients do not retry it.
            return error_response(501, "EngineUnavailable", str(exc))
        except Exception as exc:  # noqa: BLE001 - an emulator bug must still answer
            _log.exception("emulator handler failed: %s %s", request.method, route.template)
            return error_response(
                500, "InternalServerError", f"The emulator failed: {type(exc).__name__}: {exc}"
            )

    def transport(self) -> httpx.MockTransport:
        """An httpx transport answering from this emulator, for ``FaceClient(transport=...)``
        and ``AsyncFaceClient(transport=...)`` alike.

        It calls ``self.handle`` as it is at request time, so a layer that wraps ``handle``
        (faults) applies, and its answers get an ``apim-request-id`` too.
        """
        return EmulatorTransport(lambda request: _with_request_id(self.handle(request)))

    @staticmethod
    def operation_of(response: httpx.Response) -> str | None:
        """The contract operation (``operationId``) that produced an emulator response."""
        value = response.extensions.get(OPERATION_EXTENSION)
        return value if isinstance(value, str) else None
