"""OpenTelemetry for tests: a ``Tracing`` whose spans land in the SDK's in-memory exporter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from relay.tracing import Tracing


@dataclass
class Recorded:
    tracing: Tracing
    exporter: InMemorySpanExporter

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        found: Sequence[ReadableSpan] = self.exporter.get_finished_spans()
        return [s for s in found if name is None or s.name == name]

    def one(self, name: str) -> ReadableSpan:
        (span,) = self.spans(name)
        return span


def recorded() -> Recorded:
    """A provider of its own (never OpenTelemetry's global one), spans exported as they end."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Recorded(Tracing(provider), exporter)


def traceparent(trace_id: int, span_id: int) -> str:
    return f"00-{trace_id:032x}-{span_id:016x}-01"


def header_of(span: ReadableSpan) -> str:
    """The ``traceparent`` that carries ``span`` (its own trace flags)."""
    context = span.context
    if context is None:
        raise ValueError("a span without a context")
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
