"""``/metrics``: the registry's text format, and what relay counts and reads at scrape time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from relay.delivery.outbound import Reply
from relay.metrics.registry import Registry
from relay.store.base import DeliveryStatus
from tests.helpers import github_headers, issue_opened, write_config
from tests.unit.admin.kit import admin_relay, bearer, send_issue


def test_counters_gauges_and_histograms_render_in_the_text_format() -> None:
    registry = Registry()
    hits = registry.counter("app_hits_total", "Hits.", ("path",))
    depth = registry.gauge("app_depth", "Depth.")
    latency = registry.histogram("app_seconds", "Latency.", ("op",), buckets=(0.1, 1.0))
    hits.inc(path='/a"b')
    hits.inc(2, path='/a"b')
    depth.set_all([({}, 4.5)])
    latency.observe(0.05, op="x")
    latency.observe(0.5, op="x")
    latency.observe(5.0, op="x")

    text = registry.render()

    assert "# TYPE app_hits_total counter" in text
    assert 'app_hits_total{path="/a\\"b"} 3' in text
    assert "app_depth 4.5" in text
    assert 'app_seconds_bucket{op="x",le="0.1"} 1' in text
    assert 'app_seconds_bucket{op="x",le="1"} 2' in text
    assert 'app_seconds_bucket{op="x",le="+Inf"} 3' in text
    assert 'app_seconds_count{op="x"} 3' in text
    assert 'app_seconds_sum{op="x"} 5.55' in text
    assert text.endswith("\n")


def test_a_metric_has_one_name_and_its_declared_labels() -> None:
    registry = Registry()
    counter = registry.counter("x_total", "X.", ("a",))
    with pytest.raises(ValueError, match="twice"):
        registry.counter("x_total", "again")
    with pytest.raises(ValueError, match="labels"):
        counter.inc(b="1")
    with pytest.raises(ValueError, match="only go up"):
        counter.inc(-1, a="1")


def _value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    assert match is not None, f"{sample} not in metrics"
    return float(match.group(1))


async def test_metrics_count_events_rejections_attempts_and_reloads(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml")
    async with admin_relay(tmp_path, config=config) as relay:
        relay.upstream.answers.append(Reply(503))
        await send_issue(relay, 1, delivery="d-1")
        await send_issue(relay, 1, delivery="d-1")  # a re-delivery
        body = issue_opened(2)
        await relay.post(body, github_headers(body, secret="not-the-secret"))
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        await relay.client.post("/api/config/reload", headers=bearer())
        config.write_text("version: 1\nnot valid")
        await relay.client.post("/api/config/reload", headers=bearer())
        text = (await relay.client.get("/metrics", headers=bearer())).text
        content_type = (await relay.client.get("/metrics", headers=bearer())).headers[
            "content-type"
        ]
    assert content_type.startswith("text/plain; version=0.0.4")
    assert _value(text, 'relay_events_received_total{source="github",status="routed"}') == 1
    assert _value(text, 'relay_events_duplicate_total{source="github"}') == 1
    rejected = 'relay_events_rejected_total{source="github",reason="signature_mismatch"}'
    assert _value(text, rejected) == 1
    attempts = 'relay_attempts_total{route="new-issues",target="notte",outcome="%s"}'
    assert _value(text, attempts % "retryable") == 1
    assert _value(text, attempts % "succeeded") == 1
    assert _value(text, 'relay_deliveries_total{route="new-issues",status="succeeded"}') == 1
    assert _value(text, 'relay_attempt_duration_seconds_count{target="notte"}') == 2
    assert _value(text, 'relay_config_reloads_total{result="success"}') == 1
    assert _value(text, 'relay_config_reloads_total{result="failure"}') == 1
    assert _value(text, "relay_config_last_reload_successful") == 0
    assert _value(text, 'relay_target_max_concurrency{target="notte"}') == 10
    assert _value(text, 'relay_target_in_flight{target="notte"}') == 0
    assert _value(text, 'relay_target_breaker_state{target="notte",state="closed"}') == 1
    assert _value(text, 'relay_target_breaker_state{target="notte",state="open"}') == 0
    assert _value(text, 'relay_queue_depth{target="notte"}') == 0


async def test_queue_depth_and_lag_show_what_waits(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        await relay.client.post("/api/targets/notte/pause", headers=bearer())
        await relay.wait_for(lambda: _paused(relay))
        await send_issue(relay)
        text = (await relay.client.get("/metrics", headers=bearer())).text
    assert _value(text, 'relay_queue_depth{target="notte"}') == 1
    assert _value(text, 'relay_queue_oldest_due_seconds{target="notte"}') >= 0
    assert _value(text, 'relay_target_paused{target="notte"}') == 1


def _paused(relay: object) -> bool:
    gate = relay.worker.gate("notte")  # type: ignore[attr-defined]
    return gate is not None and bool(gate.paused)
