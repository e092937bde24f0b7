"""relay's metrics on prometheus-client: the catalog the docs and the alert rules use (names,
types, labels), the text format they are served in, one registry per app."""

from __future__ import annotations

import prometheus_client
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from relay.metrics.exposition import GaugeSpec, ScrapedGauges, render
from relay.metrics.relay_metrics import RelayMetrics
from tests.unit.metrics.scrape import sample_value, samples

# name -> (type, labels): what README's "Metrics" and deploy/prometheus read.
CATALOG = {
    "relay_events_received_total": ("counter", ("source", "status")),
    "relay_events_duplicate_total": ("counter", ("source",)),
    "relay_events_rejected_total": ("counter", ("source", "reason")),
    "relay_rejections_dropped_total": ("counter", ()),
    "relay_mapping_failures_total": ("counter", ("source", "route")),
    "relay_store_write_errors_total": ("counter", ("operation",)),
    "relay_attempts_total": ("counter", ("route", "target", "outcome")),
    "relay_deliveries_total": ("counter", ("route", "status")),
    "relay_attempt_duration_seconds": ("histogram", ("target",)),
    "relay_config_reloads_total": ("counter", ("result",)),
    "relay_queue_depth": ("gauge", ("target",)),
    "relay_queue_oldest_due_seconds": ("gauge", ("target",)),
    "relay_target_in_flight": ("gauge", ("target",)),
    "relay_target_max_concurrency": ("gauge", ("target",)),
    "relay_target_breaker_state": ("gauge", ("target", "state")),
    "relay_target_paused": ("gauge", ("target",)),
    "relay_config_loaded_timestamp_seconds": ("gauge", ()),
    "relay_config_last_reload_successful": ("gauge", ()),
}


def _every_series_once(metrics: RelayMetrics) -> None:
    metrics.event_received("github", "routed", duplicate=False)
    metrics.event_received("github", "routed", duplicate=True)
    metrics.event_rejected("github", "signature_mismatch")
    metrics.rejection_dropped()
    metrics.mapping_failed("github", "orders")
    metrics.store_write_failed("event")
    metrics.attempt_finished(
        route="r", target="t", outcome="succeeded", status="succeeded", duration_ms=70
    )
    metrics.reloads.labels(result="success").inc()
    one = {"target": "t"}
    metrics.scraped.set(
        {
            "relay_queue_depth": [(one, 1)],
            "relay_queue_oldest_due_seconds": [(one, 2)],
            "relay_target_in_flight": [(one, 3)],
            "relay_target_max_concurrency": [(one, 4)],
            "relay_target_breaker_state": [({"target": "t", "state": "open"}, 1)],
            "relay_target_paused": [(one, 0)],
            "relay_config_loaded_timestamp_seconds": [({}, 1700000000.5)],
            "relay_config_last_reload_successful": [({}, 1)],
        }
    )


def test_every_metric_keeps_its_documented_name_type_and_labels() -> None:
    metrics = RelayMetrics()
    _every_series_once(metrics)
    text = metrics.render()
    declared = {
        line.split()[2]: line.split()[3] for line in text.splitlines() if line.startswith("# TYPE")
    }
    assert declared == {name: kind for name, (kind, _) in CATALOG.items()}
    for name, (kind, labels) in CATALOG.items():
        series = name + "_count" if kind == "histogram" else name
        found = [set(ls) for (n, ls) in samples(text) if n == series]
        assert found, name
        assert all({k for k, _ in ls} == set(labels) for ls in found), (name, found)


def test_the_exposition_is_the_text_format_with_escaped_label_values() -> None:
    metrics = RelayMetrics()
    reason = 'a"quote\\slash\nline'
    metrics.event_rejected("git hub", reason)
    for ms in (40, 500, 5000):
        metrics.attempt_finished(route="r", target="t", outcome="x", status="y", duration_ms=ms)
    text = metrics.render()

    assert text.endswith("\n")
    assert '\\"quote\\\\slash\\nline' in text
    assert sample_value(text, "relay_events_rejected_total", source="git hub", reason=reason) == 1
    bucket = "relay_attempt_duration_seconds_bucket"
    by_bound = {dict(ls)["le"]: v for (n, ls), v in samples(text).items() if n == bucket}
    assert (by_bound["0.05"], by_bound["0.1"], by_bound["0.5"], by_bound["1.0"]) == (1, 1, 2, 2)
    assert (by_bound["5.0"], by_bound["+Inf"]) == (3, 3)
    assert sample_value(text, "relay_attempt_duration_seconds_count", target="t") == 3
    assert sample_value(text, "relay_attempt_duration_seconds_sum", target="t") == 5.54
    assert "_created" not in text  # only the declared series
    kinds = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert kinds["relay_attempt_duration_seconds"] == "histogram"


def test_a_rejection_reason_is_cut_to_64_characters() -> None:
    metrics = RelayMetrics()
    metrics.event_rejected("github", "r" * 100)
    text = metrics.render()
    assert sample_value(text, "relay_events_rejected_total", source="github", reason="r" * 64) == 1


def test_each_app_has_its_own_registry_and_none_is_process_wide() -> None:
    first, second = RelayMetrics(), RelayMetrics()
    first.event_received("github", "routed", duplicate=False)
    labels = {"source": "github", "status": "routed"}
    assert first.registry.get_sample_value("relay_events_received_total", labels) == 1
    assert second.registry.get_sample_value("relay_events_received_total", labels) is None
    process_wide = prometheus_client.generate_latest(prometheus_client.REGISTRY).decode()
    assert "relay_" not in process_wide


def test_a_metric_has_one_name_and_its_declared_labels() -> None:
    registry = CollectorRegistry()
    metrics = RelayMetrics(registry)
    with pytest.raises(ValueError, match="Duplicated"):
        RelayMetrics(registry)
    with pytest.raises(ValueError, match="label"):
        metrics.received.labels(source="github")
    with pytest.raises(ValueError, match="non-negative"):
        metrics.rejection_dropped(-1)
    with pytest.raises(ValueError, match="labels must be"):
        metrics.scraped.set({"relay_queue_depth": [({"route": "x"}, 1.0)]})
    with pytest.raises(ValueError, match="not declared"):
        metrics.scraped.set({"relay_nothing": []})


def test_scraped_gauges_are_replaced_whole_so_a_gone_target_disappears() -> None:
    registry = CollectorRegistry()
    gauges = ScrapedGauges([GaugeSpec("x_depth", "Depth.", ("target",)), GaugeSpec("x_up", "Up.")])
    registry.register(gauges)
    gauges.set({"x_depth": [({"target": "a"}, 1.0), ({"target": "b"}, 2.0)], "x_up": [({}, 1)]})
    gauges.set({"x_depth": [({"target": "b"}, 5.0)]})
    text = render(registry)
    assert sample_value(text, "x_depth", target="b") == 5
    assert ("x_depth", frozenset({("target", "a")})) not in samples(text)
    assert "# TYPE x_up gauge" in text
    assert gauges.value("x_depth", target="b") == 5
