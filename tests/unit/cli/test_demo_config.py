"""The demo config (config/relay.yaml) has a Stripe and a Slack example that route real-shaped
events to functions shipped in config/functions, and ``relay urls`` works on it locally."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from relay.cli import main

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "config" / "relay.yaml"

CHECKOUT = {
    "id": "evt_1PXq2a",
    "object": "event",
    "type": "checkout.session.completed",
    "data": {
        "object": {
            "id": "cs_test_a1b2",
            "object": "checkout.session",
            "amount_total": 4900,
            "currency": "eur",
            "payment_status": "paid",
            "customer_details": {"email": "ada@example.com"},
        }
    },
}
MENTION = {
    "type": "event_callback",
    "event_id": "Ev08MFMKH6",
    "event": {
        "type": "app_mention",
        "user": "U061F7AUR",
        "text": "<@U0LAN0Z89> hi",
        "channel": "C0LAN2Q65",
    },
}


def _route(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, payload: object
) -> dict[str, object]:
    path = tmp_path / f"{source}.json"
    path.write_text(json.dumps(payload))
    argv = ["route", str(CONFIG), "--source", source, "--payload", str(path), "--json"]
    assert main(argv) == 0
    found: dict[str, object] = json.loads(capsys.readouterr().out)
    return found


def _function_of(route: str) -> Path:
    """The file `relay local-runner --functions config/functions` runs for ``route``."""
    config = yaml.safe_load(CONFIG.read_text())
    (function_id,) = [r["function_id"] for r in config["routes"] if r["name"] == route]
    return ROOT / "config" / "functions" / f"{function_id}.py"


def _matched(result: dict[str, object]) -> dict[str, object]:
    routes = result["routes"]
    assert isinstance(routes, list)
    (hit,) = [r for r in routes if r.get("matched")]
    assert isinstance(hit, dict)
    return hit


def test_a_paid_stripe_checkout_starts_its_function_with_the_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hit = _matched(_route(tmp_path, capsys, "stripe", CHECKOUT))
    assert hit["name"] == "stripe-checkout"
    assert hit["variables"] == {
        "session_id": "cs_test_a1b2",
        "customer_email": "ada@example.com",
        "amount_total": 4900,
        "currency": "eur",
    }
    assert _function_of("stripe-checkout").is_file()


def test_a_slack_mention_starts_its_function_with_the_channel_and_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hit = _matched(_route(tmp_path, capsys, "slack", MENTION))
    assert hit["name"] == "slack-mention"
    assert hit["variables"] == {
        "channel": "C0LAN2Q65",
        "user": "U061F7AUR",
        "text": "<@U0LAN0Z89> hi",
    }
    assert _function_of("slack-mention").is_file()


def test_urls_without_a_base_url_lists_local_urls_and_the_events_routes_use(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["urls", "--config", str(CONFIG)]) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    assert "http://localhost:8080/hooks/stripe" in out
    assert "Events your routes use: checkout.session.completed." in flat
    assert "Events your routes use: app_mention." in flat
    assert "invoice.paid..." not in flat  # no example events the routes do not use
