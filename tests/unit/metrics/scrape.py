"""Reading a ``/metrics`` answer as Prometheus does: parsed (prometheus-client's text parser,
so an answer that is not the text format fails the test), a sample found by its name and its
exact label set."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["sample_value", "samples"]


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            if key in found:
                raise AssertionError(f"{sample.name}{sample.labels} twice")
            found[key] = sample.value
    return found


def sample_value(text: str, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    found = samples(text)
    if key not in found:
        raise AssertionError(f"{name}{labels} not in metrics")
    return found[key]
