"""relay's traces (optional: ``pip install 'notte-relay[tracing]'``): the one module that
imports OpenTelemetry, and only when tracing is on.

``Tracing`` wraps a ``TracerProvider`` handed to it (never OpenTelemetry's global one);
``Tracing.off()`` (the default everywhere) makes every span a shared no-op object, so relay
runs, at near-zero cost, without OpenTelemetry installed. ``tracing_from_env`` builds the
provider ``relay serve`` uses from the standard ``OTEL_*`` variables.

Spans carry relay's names and ids only (``relay.source``, ``relay.event_id``, ...): never a
body, a header value or a secret. A span's W3C context (``traceparent``, ``tracestate``) is
what ``headers()`` gives: stored with the deliveries so that their attempts, in another task,
instance or after a restart, continue the trace of the request that brought the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from relay.logs import get_logger

if TYPE_CHECKING:
    from opentelemetry.trace import Span as OtelSpan
    from opentelemetry.trace import Tracer, TracerProvider

__all__ = ["CLIENT", "INTERNAL", "SERVER", "Span", "Tracing", "tracing_from_env"]

SERVER, CLIENT, INTERNAL = "server", "client", "internal"
Attributes = Mapping[str, str | int | float | bool | list[str]]


class Span:
    """A span in progress; this base class is the no-op one (tracing off)."""

    __slots__ = ()

    def __enter__(self) -> Span:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def set(self, key: str, value: str | int | float | bool | list[str] | None) -> None:
        """One attribute (``None``: not set)."""

    def error(self, description: str) -> None:
        """Mark the span failed, with a short description (a reason, never a body)."""

    def event(self, name: str, attributes: Attributes | None = None) -> None:
        """A point in time within the span."""

    def headers(self) -> dict[str, str]:
        """The span's W3C trace context (``traceparent``, ``tracestate``): {} when off."""
        return {}

    @property
    def traceparent(self) -> str | None:
        return self.headers().get("traceparent")


_NO_SPAN = Span()


class _Live(Span):
    __slots__ = ("_cm", "_failed", "_span")

    def __init__(self, cm: Any) -> None:
        self._cm = cm
        self._span: OtelSpan | None = None
        self._failed = False

    def __enter__(self) -> Span:
        self._span = self._cm.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is not None and self._span is not None and not self._failed:
            self.error(kind.__name__)  # the type only: a message may quote a body
        self._cm.__exit__(kind, exc, tb)

    def set(self, key: str, value: str | int | float | bool | list[str] | None) -> None:
        if value is not None and self._span is not None:
            self._span.set_attribute(key, value)

    def error(self, description: str) -> None:
        from opentelemetry.trace import Status, StatusCode

        if self._span is not None:
            self._span.set_status(Status(StatusCode.ERROR, description))
            self._failed = True

    def event(self, name: str, attributes: Attributes | None = None) -> None:
        if self._span is not None:
            self._span.add_event(name, dict(attributes or {}))

    def headers(self) -> dict[str, str]:
        from opentelemetry.trace import set_span_in_context
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        carrier: dict[str, str] = {}
        if self._span is not None:
            TraceContextTextMapPropagator().inject(carrier, set_span_in_context(self._span))
        return carrier


class Tracing:
    """relay's tracer. ``span(...)`` is a context manager; off, it is one shared no-op."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self._provider = provider
        self._tracer: Tracer | None = None
        if provider is not None:
            self._tracer = provider.get_tracer("relay")

    @classmethod
    def off(cls) -> Tracing:
        return cls(None)

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def span(
        self,
        name: str,
        *,
        kind: str = INTERNAL,
        parent: Mapping[str, str] | None = None,
        attributes: Attributes | None = None,
    ) -> Span:
        """A span named ``name``. ``parent``: W3C headers to continue (an incoming request's,
        or a stored ``{"traceparent": ...}``; without a valid one, a new trace); None: the
        span in progress in this task, if any."""
        if self._tracer is None:
            return _NO_SPAN
        from opentelemetry.context import Context
        from opentelemetry.trace import SpanKind
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        context: Context | None = None
        if parent is not None:
            carrier = {k.lower(): v for k, v in parent.items() if k.lower() in _W3C}
            context = TraceContextTextMapPropagator().extract(carrier, context=Context())
        cm = self._tracer.start_as_current_span(
            name,
            context=context,
            kind={SERVER: SpanKind.SERVER, CLIENT: SpanKind.CLIENT}.get(kind, SpanKind.INTERNAL),
            attributes=dict(attributes or {}),
            record_exception=False,  # an exception's message may quote a body
            set_status_on_exception=False,  # __exit__ sets it, without the message
        )
        return _Live(cm)

    def flush(self, timeout: float = 5.0) -> None:
        """Export the spans still batched (blocks up to ``timeout`` seconds): the app does at
        its shutdown, as uvicorn ends the process with the signal it caught right after."""
        flush = getattr(self._provider, "force_flush", None)
        if flush is not None:
            flush(int(timeout * 1000))

    def shutdown(self) -> None:
        """Flush and stop the provider's exporters (``relay serve`` at exit)."""
        shutdown = getattr(self._provider, "shutdown", None)
        if shutdown is not None:
            shutdown()


_W3C = ("traceparent", "tracestate")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def tracing_from_env(env: Mapping[str, str]) -> Tracing:
    """Tracing as the standard ``OTEL_*`` variables ask: off unless an OTLP endpoint
    (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set or
    ``OTEL_TRACES_EXPORTER`` names ``otlp`` or ``console``; ``OTEL_SDK_DISABLED=true`` and
    ``OTEL_TRACES_EXPORTER=none`` turn it off. Spans are exported in batches (OTLP over
    HTTP/protobuf). Without the ``tracing`` extra installed, a warning and no tracing."""
    if _truthy(env.get("OTEL_SDK_DISABLED")):
        return Tracing.off()
    exporter_name = (env.get("OTEL_TRACES_EXPORTER") or "").strip().lower()
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or None
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
    if endpoint is None and base is not None:
        endpoint = base.rstrip("/") + "/v1/traces"
    if exporter_name == "none" or (endpoint is None and exporter_name not in ("otlp", "console")):
        return Tracing.off()
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider as SdkProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SpanExporter,
        )

        exporter: SpanExporter
        if exporter_name == "console":
            exporter = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=endpoint)
    except ImportError as exc:
        get_logger().warning(
            "relay.tracing.unavailable",
            detail="OTEL_* asks for traces, but OpenTelemetry is not installed: "
            "pip install 'notte-relay[tracing]'",
            missing=exc.name,
        )
        return Tracing.off()
    service = env.get("OTEL_SERVICE_NAME") or "relay"
    provider = SdkProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    get_logger().info("relay.tracing.on", exporter=exporter_name or "otlp", endpoint=endpoint)
    return Tracing(provider)
