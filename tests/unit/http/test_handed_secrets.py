"""Secrets handed over in handshakes (Asana, Notion): kept durably, trusted on first use."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from relay.store import SqliteStore
from relay.store.log_queries import EventQuery
from tests.harness import running_relay
from tests.helpers import write_config

SOURCES = """\
  asana:
    provider: asana
  notion:
    provider: notion
"""
ROUTES = """
  - name: asana-all
    source: asana
    function_id: on_asana
"""
HOOK_SECRET = "asana-hook-secret-3f9a"
TOKEN = "secret_notion_verification_77"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "relay.yaml", extra_sources=SOURCES, routes=ROUTES)


def _signed(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def test_asana_handshake_secret_is_echoed_stored_and_used(
    config: Path, tmp_path: Path
) -> None:
    store = SqliteStore(tmp_path / "relay.db")
    async with running_relay(config, store=store) as relay:
        shake = await relay.client.post("/hooks/asana", headers={"X-Hook-Secret": HOOK_SECRET})
        assert shake.status_code == 200
        assert shake.headers["x-hook-secret"] == HOOK_SECRET
        assert (
            await relay.store.query_events(EventQuery()) == []
        )  # a handshake is never stored as an event
        body = json.dumps({"events": [{"action": "changed"}]}).encode()
        signed = {"X-Hook-Signature": _signed(HOOK_SECRET, body)}
        assert (await relay.post(body, signed, source="asana")).status_code == 200
        forged = {"X-Hook-Signature": _signed("guess", body)}
        assert (await relay.post(body, forged, source="asana")).status_code == 401


async def test_asana_secret_survives_a_restart(config: Path, tmp_path: Path) -> None:
    db = tmp_path / "relay.db"
    async with running_relay(config, store=SqliteStore(db)) as relay:
        await relay.client.post("/hooks/asana", headers={"X-Hook-Secret": HOOK_SECRET})
    body = b'{"events": []}'
    async with running_relay(config, store=SqliteStore(db)) as relay:
        response = await relay.post(
            body, {"X-Hook-Signature": _signed(HOOK_SECRET, body)}, source="asana"
        )
        assert response.status_code == 200


async def test_events_are_refused_until_a_secret_is_established(config: Path) -> None:
    async with running_relay(config) as relay:
        body = b'{"events": []}'
        response = await relay.post(body, {"X-Hook-Signature": _signed("x", body)}, source="asana")
        assert response.status_code == 401
        assert response.json()["error"] == "no_secret"


async def test_a_second_different_handshake_is_refused(config: Path) -> None:
    async with running_relay(config) as relay:
        first = await relay.client.post("/hooks/asana", headers={"X-Hook-Secret": HOOK_SECRET})
        again = await relay.client.post("/hooks/asana", headers={"X-Hook-Secret": HOOK_SECRET})
        other = await relay.client.post("/hooks/asana", headers={"X-Hook-Secret": "attacker-1"})
        assert (first.status_code, again.status_code, other.status_code) == (200, 200, 409)
        assert other.json()["error"] == "secret_already_established"
        assert "attacker-1" not in other.text
        assert await relay.store.list_source_secrets() == {"asana": [HOOK_SECRET]}


async def test_reset_lets_a_new_handshake_in(config: Path, tmp_path: Path) -> None:
    db = tmp_path / "relay.db"
    async with running_relay(config, store=SqliteStore(db)) as relay:
        await relay.client.post("/hooks/asana", headers={"X-Hook-Secret": HOOK_SECRET})
        assert await relay.store.delete_source_secrets("asana") == 1
    async with running_relay(config, store=SqliteStore(db)) as relay:
        shake = await relay.client.post("/hooks/asana", headers={"X-Hook-Secret": "renewed-2"})
        assert shake.status_code == 200
        assert await relay.store.list_source_secrets() == {"asana": ["renewed-2"]}


async def test_notion_verification_token_becomes_the_key(config: Path) -> None:
    async with running_relay(config) as relay:
        shake = await relay.client.post(
            "/hooks/notion", content=json.dumps({"verification_token": TOKEN})
        )
        assert shake.status_code == 200
        assert shake.json() == {}
        assert TOKEN not in shake.text
        body = json.dumps({"id": "evt-1", "type": "page.created"}).encode()
        headers = {"X-Notion-Signature": "sha256=" + _signed(TOKEN, body)}
        assert (await relay.post(body, headers, source="notion")).status_code == 200
        (event,) = await relay.store.query_events(EventQuery(source="notion"))
        assert event.event_type == "page.created"


async def test_stored_secrets_reach_a_reloaded_table(config: Path) -> None:
    async with running_relay(config) as relay:
        await relay.client.post("/hooks/asana", headers={"X-Hook-Secret": HOOK_SECRET})
        with config.open("a") as handle:
            handle.write("\n# edited\n")
        result = await relay.app.state.services.reload("test")
        assert result.changed
        body = b'{"events": []}'
        response = await relay.post(
            body, {"X-Hook-Signature": _signed(HOOK_SECRET, body)}, source="asana"
        )
        assert response.status_code == 200
