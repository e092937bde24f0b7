"""Traces of deliveries: every attempt (retries too) in the trace of the request that brought
the event, its failure recorded on its span, its own traceparent sent to the target; and the
end of a followed run (relay.run_end) in that trace too."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from relay.delivery.outbound import Reply
from tests.harness import Upstream, running_relay
from tests.helpers import github_headers, issue_opened, write_config
from tests.tracing_kit import header_of, recorded


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "relay.yaml")


def _trace(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.trace_id)


async def test_a_failed_attempt_records_the_error_and_the_retry_shares_the_trace(
    config: Path,
) -> None:
    rec = recorded()
    upstream = Upstream(answers=[Reply(500, text="boom")])
    async with running_relay(config, upstream, tracing=rec.tracing) as relay:
        body = issue_opened(7)
        assert (await relay.post(body, github_headers(body))).status_code == 200
        await relay.wait_for(lambda: len(rec.spans("relay.attempt")) == 2, within=10)
        first, second = relay.upstream.requests[:2]
    failed, retried = rec.spans("relay.attempt")  # in the order they ended
    assert failed.attributes is not None
    assert retried.attributes is not None
    assert (failed.attributes["relay.attempt"], retried.attributes["relay.attempt"]) == (1, 2)
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "retryable (HTTP 500)"
    assert failed.attributes is not None
    assert failed.attributes["http.response.status_code"] == 500
    assert failed.attributes["relay.outcome"] == "retryable"
    assert retried.status.status_code is StatusCode.UNSET
    trace_id = _trace(rec.one("relay.receive"))
    assert {_trace(failed), _trace(retried)} == {trace_id}
    assert first.headers["traceparent"] == header_of(failed)
    assert second.headers["traceparent"] == header_of(retried)


async def test_a_followed_run_ends_with_a_run_end_span_in_the_trace(config: Path) -> None:
    rec = recorded()
    active = Reply(
        200, json={"function_run_id": "run_created_1", "session_id": "s", "status": "active"}
    )
    upstream = Upstream(answers=[active])
    async with running_relay(config, upstream, tracing=rec.tracing) as relay:
        body = issue_opened(7)
        assert (await relay.post(body, github_headers(body))).status_code == 200
        await relay.wait_for(lambda: rec.spans("relay.run_end"), within=10)
    end = rec.one("relay.run_end")
    assert _trace(end) == _trace(rec.one("relay.receive"))
    assert end.attributes is not None
    assert end.attributes["relay.outcome"] == "closed"
    assert end.attributes["relay.run_id"] == "run_created_1"
    assert end.status.status_code is StatusCode.UNSET
    assert rec.one("relay.attempt").attributes["relay.outcome"] == "run_active"  # type: ignore[index]
