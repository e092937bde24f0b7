"""relay/tracing.py: spans off by default at no cost, continued from W3C headers, and built
from the standard OTEL_* variables."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from relay.tracing import CLIENT, Tracing, tracing_from_env
from tests.tracing_kit import header_of, recorded

INCOMING = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_tracing_off_gives_no_headers_and_one_shared_span() -> None:
    off = Tracing.off()
    assert off.enabled is False
    with off.span("relay.receive", parent={"traceparent": INCOMING}) as span:
        span.set("relay.source", "github")
        span.error("nope")
        assert span.headers() == {}
        assert span.traceparent is None
    assert off.span("a") is off.span("b")  # nothing made per call


def test_a_span_continues_the_trace_of_its_parent_headers() -> None:
    rec = recorded()
    with rec.tracing.span("relay.attempt", kind=CLIENT, parent={"Traceparent": INCOMING}) as s:
        sent = s.headers()
    span = rec.one("relay.attempt")
    assert span.kind is SpanKind.CLIENT
    assert span.context is not None
    assert span.parent is not None
    assert span.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert span.parent.span_id == 0xB7AD6B7169203331
    assert sent["traceparent"] == header_of(span)


def test_an_invalid_or_empty_parent_starts_a_new_trace() -> None:
    rec = recorded()
    with rec.tracing.span("outer"), rec.tracing.span("inner", parent={"traceparent": "junk"}):
        pass
    inner = rec.one("inner")
    assert inner.parent is None
    assert inner.context is not None
    assert inner.context.trace_id != rec.one("outer").context.trace_id


def test_an_exception_marks_the_span_failed_with_its_type_only() -> None:
    rec = recorded()
    with pytest.raises(ValueError, match="secret-ish"), rec.tracing.span("relay.store"):
        raise ValueError("secret-ish body text")
    span = rec.one("relay.store")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError"
    assert span.events == ()  # no exception event: its message may quote a body


def test_no_otel_variables_no_tracing() -> None:
    assert tracing_from_env({}).enabled is False


def test_an_otlp_endpoint_turns_tracing_on() -> None:
    tracing = tracing_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    try:
        assert tracing.enabled is True
    finally:
        tracing.shutdown()  # nothing was recorded: nothing is sent


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
    ],
)
def test_otel_sdk_disabled_or_exporter_none_wins_over_an_endpoint(env: dict[str, str]) -> None:
    assert tracing_from_env(env).enabled is False


def test_without_opentelemetry_installed_tracing_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # import fails
    tracing = tracing_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert tracing.enabled is False
    assert tracing.span("relay.receive").headers() == {}


def test_relay_serve_imports_and_receives_without_opentelemetry(tmp_path: Path) -> None:
    """The extra is optional: with every ``opentelemetry`` import failing, relay's app is
    built and a span is the no-op one."""
    code = textwrap.dedent(
        """
        import sys
        from importlib.abc import MetaPathFinder

        class NoOtel(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "opentelemetry" or name.startswith("opentelemetry."):
                    raise ImportError(name)
                return None

        sys.meta_path.insert(0, NoOtel())
        import relay.serve
        from relay.http.app import create_app
        from relay.tracing import Tracing, tracing_from_env

        tracing = tracing_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
        assert not tracing.enabled
        with Tracing.off().span("relay.receive") as span:
            assert span.headers() == {}
        assert not any(m.startswith("opentelemetry") for m in sys.modules)
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")
