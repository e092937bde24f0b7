"""Scrape-time gauges and the text exposition, on prometheus-client's ``CollectorRegistry``.

Each app owns its registry (``RelayMetrics``); nothing is registered on prometheus-client's
process-wide ``REGISTRY``, so two apps in one process never share a series."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

__all__ = ["CONTENT_TYPE", "GaugeSpec", "ScrapedGauges", "Series", "render"]

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # text/plain; version=0.0.4; charset=utf-8
Series = list[tuple[dict[str, str], float]]


@dataclass(frozen=True)
class GaugeSpec:
    name: str
    help: str
    labels: tuple[str, ...] = ()

    def family(self, series: Iterable[tuple[Mapping[str, str], float]] = ()) -> Metric:
        family = GaugeMetricFamily(self.name, self.help, labels=self.labels)
        for labels, value in series:
            family.add_metric([labels[n] for n in self.labels], value)
        return family

    def check(self, series: Series) -> None:
        for labels, _ in series:
            if set(labels) != set(self.labels):
                raise ValueError(f"{self.name}: labels must be {self.labels}")


class ScrapedGauges:
    """Gauges read at scrape time (a collector): ``set`` replaces every series of every
    gauge at once, so a target gone from the config disappears from the next scrape."""

    def __init__(self, specs: Sequence[GaugeSpec]) -> None:
        self._specs = tuple(specs)
        self._by_name = {spec.name: spec for spec in self._specs}
        self._values: Mapping[str, Series] = {}

    def set(self, values: Mapping[str, Series]) -> None:
        unknown = set(values) - set(self._by_name)
        if unknown:
            raise ValueError(f"not declared: {sorted(unknown)}")
        for name, series in values.items():
            self._by_name[name].check(series)
        self._values = dict(values)  # one assignment: a scrape sees all or nothing new

    def value(self, name: str, **labels: str) -> float | None:
        for found, value in self._values.get(name, ()):
            if found == labels:
                return value
        return None

    def describe(self) -> Iterator[Metric]:
        return (spec.family() for spec in self._specs)

    def collect(self) -> Iterator[Metric]:
        values = self._values
        return (spec.family(values.get(spec.name, ())) for spec in self._specs)


class _WithoutCreated:
    """The registry's families without prometheus-client's ``*_created`` samples: relay's
    exposition is the series it declares (no extra ``_created`` gauge per counter)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            created = family.name + "_created"
            kept = [s for s in family.samples if s.name != created]
            copy = Metric(family.name, family.documentation, family.type, family.unit)
            copy.samples = kept
            yield copy


def render(registry: CollectorRegistry) -> str:
    """The registry in the Prometheus text format (version 0.0.4)."""
    return generate_latest(_WithoutCreated(registry)).decode("utf-8")
