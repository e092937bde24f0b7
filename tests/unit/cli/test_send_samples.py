"""``relay send PROVIDER --list`` and ``relay send --from-event ID`` as the command line runs
them (the network is faked; the store is a real SQLite file)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from relay.cli import main
from relay.providers.base import WebhookRequest
from relay.providers.registry import get_spec
from relay.store import SqliteStore
from relay.store.base import EventStatus, NewEvent
from tests.unit.cli.test_provider_cmds import FakeNetwork, network  # noqa: F401 - fixture

STRIPE_SECRET = "whsec_from_event_test"
CONFIG = f"""\
version: 1
targets:
  notte:
    base_url: http://127.0.0.1:8787
    api_key: k
sources:
  payments:
    provider: stripe
    secrets: ["{STRIPE_SECRET}"]
routes: []
"""


def test_list_names_every_sample_of_a_provider(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "stripe", "--list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "checkout.session.completed" in out
    assert "customer.subscription.deleted" in out
    assert main(["send", "dropbox", "--list"]) == 0
    assert "--event cannot change it" in capsys.readouterr().out


def test_event_with_a_sample_sends_that_sample(
    network: FakeNetwork,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "http://relay/hooks/stripe"
    assert main(["send", "stripe", "--url", url, "--secret", "whsec_x", "--event",
                 "checkout.session.completed"]) == 0  # fmt: skip
    body = json.loads(network.sent[0].body)
    assert body["data"]["object"]["object"] == "checkout.session"
    assert "no stripe sample" not in capsys.readouterr().err
    assert main(["send", "stripe", "--url", url, "--secret", "whsec_x", "--event", "x.y"]) == 0
    assert "no stripe sample of 'x.y'" in capsys.readouterr().err


def _store_event(db: Path, body: bytes, headers: dict[str, str]) -> None:
    async def write() -> None:
        store = SqliteStore(str(db))
        await store.open()
        try:
            await store.insert_event(
                NewEvent(
                    id="evt_stored1",
                    source="payments",
                    dedupe_key="evt_1Pstored",
                    provider_event_id="evt_1Pstored",
                    event_type="checkout.session.completed",
                    received_at=time.time() - 3600,
                    body=body,
                    headers=headers,
                    query={},
                    status=EventStatus.UNROUTED,
                )
            )
        finally:
            await store.close()

    asyncio.run(write())


def test_from_event_resends_a_stored_event_signed_now_with_a_fresh_id(
    network: FakeNetwork,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "relay.yaml"
    config.write_text(CONFIG)
    db = tmp_path / "relay.db"
    stored = {"id": "evt_1Pstored", "object": "event", "type": "checkout.session.completed"}
    body = json.dumps(stored).encode()
    headers = {
        "content-type": "application/json; charset=utf-8",
        "stripe-signature": "t=1,v1=" + "0" * 64,
        "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "host": "relay.example.com",
        "x-forwarded-for": "3.18.12.63",
    }
    _store_event(db, body, headers)
    args = ["send", "--from-event", "evt_stored1", "--config", str(config), "--db", str(db)]
    assert main(args) == 0
    assert main(args) == 0
    first, second = network.sent
    assert first.url == "http://127.0.0.1:8080/hooks/payments"
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert first.headers["x-forwarded-for"] == "3.18.12.63"
    assert "host" not in first.headers
    assert first.headers["stripe-signature"] != headers["stripe-signature"]
    provider = get_spec("stripe").build([STRIPE_SECRET], {})
    ids = set()
    for sent in (first, second):
        request = WebhookRequest("POST", "/hooks/payments", sent.headers, {}, sent.body)
        provider.verify(request, time.time())  # signed now with the source's secret
        resent = json.loads(sent.body)
        assert resent["type"] == "checkout.session.completed"
        ids.add(resent["id"])
    assert len(ids) == 2
    assert "evt_1Pstored" not in ids
    assert STRIPE_SECRET not in capsys.readouterr().out


def test_from_event_needs_a_stored_event(
    network: FakeNetwork,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "relay.db"
    _store_event(db, b"{}", {})
    assert main(["send", "--from-event", "evt_nope", "--db", str(db)]) == 2
    assert "no event evt_nope" in capsys.readouterr().err
    assert network.sent == []
