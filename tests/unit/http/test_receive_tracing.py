"""Traces of a webhook through relay: relay.receive (verify, route, store as its children)
continuing the sender's trace, its first attempt in the same trace with its traceparent sent
to the target; with tracing off, no header is added and nothing is recorded. (Retries and
the end of a followed run: tests/unit/delivery/test_worker_tracing.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from relay.store.base import DeliveryStatus
from relay.store.log_queries import DeliveryQuery
from tests.harness import running_relay
from tests.helpers import github_headers, issue_opened, write_config
from tests.tracing_kit import header_of, recorded, traceparent

INCOMING_TRACE = 0x4BF92F3577B34DA6A3CE929D0E0E4736
INCOMING_SPAN = 0x00F067AA0BA902B7


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "relay.yaml")


def _ids(span: ReadableSpan) -> tuple[int, int]:
    assert span.context is not None
    return span.context.trace_id, span.context.span_id


def _parent(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


async def test_a_signed_webhook_is_one_trace_from_receive_to_the_targets_request(
    config: Path,
) -> None:
    rec = recorded()
    async with running_relay(config, tracing=rec.tracing) as relay:
        body = issue_opened(7)
        response = await relay.post(body, github_headers(body))
        assert response.status_code == 200
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        await relay.wait_for(lambda: rec.spans("relay.attempt"))
        sent = relay.upstream.requests[0]
    receive = rec.one("relay.receive")
    trace_id, receive_id = _ids(receive)
    assert receive.kind is SpanKind.SERVER
    assert receive.parent is None  # the sender sent no traceparent
    assert receive.attributes is not None
    assert receive.attributes["relay.source"] == "github"
    assert receive.attributes["relay.event_id"] == response.json()["id"]
    assert receive.attributes["http.response.status_code"] == 200
    for name in ("relay.verify", "relay.route", "relay.store"):
        child = rec.one(name)
        assert _ids(child)[0] == trace_id, name
        assert _parent(child) == receive_id, name
    assert rec.one("relay.route").attributes == {
        "relay.status": "routed",
        "relay.routes": ("new-issues",),
    }
    attempt = rec.one("relay.attempt")
    assert attempt.kind is SpanKind.CLIENT
    assert _ids(attempt)[0] == trace_id
    assert _parent(attempt) == receive_id  # continued from the traceparent stored with it
    assert attempt.attributes is not None
    assert attempt.attributes["relay.route"] == "new-issues"
    assert attempt.attributes["relay.attempt"] == 1
    assert attempt.attributes["relay.outcome"] == "succeeded"
    assert attempt.attributes["http.response.status_code"] == 200
    assert attempt.status.status_code is StatusCode.UNSET
    assert sent.headers["traceparent"] == header_of(attempt)


async def test_an_incoming_traceparent_is_continued(config: Path) -> None:
    rec = recorded()
    async with running_relay(config, tracing=rec.tracing) as relay:
        body = issue_opened(7)
        headers = {
            **github_headers(body),
            "traceparent": traceparent(INCOMING_TRACE, INCOMING_SPAN),
            "tracestate": "vendor=1",
        }
        assert (await relay.post(body, headers)).status_code == 200
        await relay.wait_for(lambda: rec.spans("relay.attempt"))
        sent = relay.upstream.requests[0]
    receive = rec.one("relay.receive")
    assert _ids(receive)[0] == INCOMING_TRACE
    assert _parent(receive) == INCOMING_SPAN
    assert _ids(rec.one("relay.attempt"))[0] == INCOMING_TRACE
    assert sent.headers["traceparent"].split("-")[1] == f"{INCOMING_TRACE:032x}"


async def test_a_bad_signature_fails_the_verify_span_and_stores_nothing(config: Path) -> None:
    rec = recorded()
    async with running_relay(config, tracing=rec.tracing) as relay:
        body = issue_opened(7)
        response = await relay.post(body, github_headers(body, secret="wrong"))
        assert response.status_code == 401
    verify = rec.one("relay.verify")
    assert verify.status.status_code is StatusCode.ERROR
    assert _parent(verify) == _ids(rec.one("relay.receive"))[1]
    assert rec.spans("relay.store") == []
    assert rec.one("relay.receive").attributes["http.response.status_code"] == 401  # type: ignore[index]


async def test_tracing_off_adds_no_header_and_records_nothing(config: Path) -> None:
    rec = recorded()  # a provider that is not handed to the app
    async with running_relay(config) as relay:
        body = issue_opened(7)
        assert (await relay.post(body, github_headers(body))).status_code == 200
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        sent = relay.upstream.requests[0]
        (stored,) = await relay.store.query_deliveries(DeliveryQuery())
    assert "traceparent" not in sent.headers
    assert "tracestate" not in sent.headers
    assert stored.traceparent is None
    assert rec.spans() == []
