"""Optional OpenTelemetry spans, one per logical call (the ``otel`` extra).

When ``opentelemetry`` (the API package) is importable, every ``send`` of a transport runs in
a CLIENT span named after the REST operation id, with the route *template*, the final status,
the service's request id, the client request id and the number of retries. Nothing else goes
in: no bodies, no image bytes, no person, group or face ids, no tokens or keys, and on an error
only its type and error code (never its message, which can quote the service's text).

Without opentelemetry, ``span_for`` returns one shared no-op: the import is tried once, lazily,
and cached. With the API installed but no SDK provider set (OpenTelemetry's default proxy or
no-op provider), every span would be a non-recording one: ``span_for`` then also returns the
no-op, without entering OpenTelemetry at all, and starts tracing on the first call after the
application sets a provider.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._exceptions import service_request_id
from ._version import __version__

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from ._transport._spec import RawResponse, RequestSpec

__all__ = ["CallSpan", "span_for", "use_tracer_provider"]

_UNRESOLVED: Any = object()
_trace: Any = _UNRESOLVED
"""The ``opentelemetry.trace`` module, ``None`` when it cannot be imported."""
_provider: TracerProvider | None = None
"""A provider to use instead of the global one (tests; see ``use_tracer_provider``)."""
_tracer: Tracer | None = None


def use_tracer_provider(provider: TracerProvider | None) -> None:
    """Trace with ``provider`` instead of OpenTelemetry's global provider (``None``: the
    global one again). Also forgets the cached import check."""
    global _trace, _provider, _tracer
    _trace, _provider, _tracer = _UNRESOLVED, provider, None


def _get_tracer() -> Tracer | None:
    global _trace, _tracer
    if _trace is _UNRESOLVED:
        try:
            from opentelemetry import trace

            _trace = trace
        except ImportError:
            _trace = None
    if _trace is None:
        return None
    if _tracer is None:
        # The global provider hands out a proxy that follows a provider set later.
        _tracer = _trace.get_tracer("faceguard", __version__, tracer_provider=_provider)
    return _tracer


class CallSpan:
    """The span of one call; ``record`` notes each response, ``__exit__`` notes an error."""

    __slots__ = ("_scope", "_span", "_spec", "_tracer")

    def __init__(self, tracer: Tracer | None = None, spec: RequestSpec[Any] | None = None) -> None:
        self._tracer = tracer
        self._spec = spec
        self._span: Span | None = None
        self._scope: Any = None

    def record(self, raw: RawResponse, client_request_id: str, attempt: int) -> None:
        """Note the response of one attempt (the last one wins)."""
        if self._span is None:
            return
        self._span.set_attributes(
            {
                "http.response.status_code": raw.status_code,
                "faceguard.client_request_id": client_request_id,
                "faceguard.retries": attempt - 1,
            }
        )
        request_id = service_request_id(raw.headers)
        if request_id:
            self._span.set_attribute("az.service_request_id", request_id)

    def __enter__(self) -> CallSpan:
        if self._tracer is None or self._spec is None:
            return self
        from opentelemetry.trace import SpanKind

        spec = self._spec
        self._scope = self._tracer.start_as_current_span(
            spec.operation,
            kind=SpanKind.CLIENT,
            attributes={
                "faceguard.operation": spec.operation,
                "http.request.method": spec.method,
                "url.template": spec.route,  # the template: never the filled path (it has ids)
            },
            record_exception=False,  # an exception event would carry the message
            set_status_on_exception=False,
        )
        self._span = self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span = self._span
        if span is None:
            return
        try:
            if exc_type is not None:
                _record_error(span, exc_type, exc)
        finally:
            self._scope.__exit__(exc_type, exc, tb)


def _record_error(span: Span, exc_type: type[BaseException], exc: BaseException | None) -> None:
    from opentelemetry.trace import Status, StatusCode

    attributes: dict[str, str | int] = {"error.type": exc_type.__qualname__}
    support = getattr(exc, "support", None)
    code = getattr(support, "error_code", None)
    for key, value in (
        ("http.response.status_code", getattr(support, "status_code", None)),
        ("az.service_request_id", getattr(support, "request_id", None)),
        ("faceguard.client_request_id", getattr(support, "client_request_id", None)),
        ("faceguard.error_code", code),
        ("faceguard.retries", getattr(exc, "retries_taken", None)),
    ):
        if isinstance(value, (str, int)):
            attributes[key] = value
    span.set_attributes(attributes)
    # The description is the error code or type, never the exception's message.
    span.set_status(Status(StatusCode.ERROR, code if isinstance(code, str) else None))


_NOOP = CallSpan()


def _recording_provider_set() -> bool:
    """Whether spans would go anywhere: a provider was injected, or the application set one
    (until then OpenTelemetry hands out its proxy, whose spans record nothing)."""
    if _provider is not None:
        return True
    provider = _trace.get_tracer_provider()
    return not isinstance(provider, _trace.ProxyTracerProvider | _trace.NoOpTracerProvider)


def span_for(spec: RequestSpec[Any]) -> CallSpan:
    """A context manager tracing one logical call of ``spec`` (a shared no-op without OTel,
    or while no tracer provider is set: asked on every call, so one set later counts)."""
    if _trace is None:  # the import was tried and failed: no OpenTelemetry, nothing to trace
        return _NOOP
    tracer = _get_tracer()
    if tracer is None or not _recording_provider_set():
        return _NOOP
    return CallSpan(tracer, spec)
