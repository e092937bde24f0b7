"""deploy/prometheus/relay-alerts.yaml: valid rules (``promtool check rules``) that fire when
they should (``promtool test rules`` on relay-alerts.test.yaml), written against metric
names relay exports. promtool is Debian's ``prometheus`` package (``make promtool``
installs it); without it the promtool tests are skipped, saying so."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from relay.metrics.relay_metrics import RelayMetrics

RULES = Path(__file__).resolve().parents[3] / "deploy" / "prometheus"
_METRIC = re.compile(r"\b(relay_[a-z0-9_]+)\b")


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool not found: install Debian's prometheus package (make promtool)")
    return found


def exported_names() -> set[str]:
    names: set[str] = set()
    for line in RelayMetrics().render().splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def test_every_rule_uses_metrics_relay_exports() -> None:
    document = yaml.safe_load((RULES / "relay-alerts.yaml").read_text())
    rules = [r for group in document["groups"] for r in group["rules"]]
    used = {m for r in rules for m in _METRIC.findall(r["expr"])}
    assert used, "the rules read no relay metric"
    assert used <= exported_names(), f"not exported by relay: {sorted(used - exported_names())}"
    assert {r["alert"] for r in rules} >= {
        "RelayDeliveriesDead",
        "RelayDeliveriesNeedReview",
        "RelayMappingFailures",
        "RelayBreakerOpen",
        "RelayQueueBehind",
        "RelayStoreWriteErrors",
    }


def test_promtool_accepts_the_rules() -> None:
    done = subprocess.run(
        [promtool(), "check", "rules", "relay-alerts.yaml"],
        cwd=RULES,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_rules_fire_as_their_promtool_tests_expect() -> None:
    done = subprocess.run(
        [promtool(), "test", "rules", "relay-alerts.test.yaml"],
        cwd=RULES,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
