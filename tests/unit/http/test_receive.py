"""Receiving webhooks: status codes, what is stored, and what is forwarded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from relay.clock import SystemClock
from relay.delivery.outbound import FakeSender
from relay.http.app import create_app
from relay.settings import Settings
from relay.store import SqliteStore
from relay.store.base import (
    DeliveryStatus,
    EventStatus,
    InsertResult,
    NewEvent,
    StoreUnavailable,
)
from relay.store.log_queries import DeliveryQuery, EventQuery
from tests.harness import Upstream, running_relay
from tests.helpers import API_KEY, GITHUB_SECRET, github_headers, issue_opened, write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "relay.yaml", max_body_bytes=4096)


async def test_accepts_signed_webhook_and_forwards_mapped_variables(config: Path) -> None:
    async with running_relay(config) as relay:
        body = issue_opened(7)
        response = await relay.post(body, github_headers(body))
        assert response.status_code == 200
        answer = response.json()
        assert answer["duplicate"] is False
        assert answer["id"].startswith("evt_")
        event = await relay.store.get_event(answer["id"])
        assert event is not None
        assert event.body == body
        assert event.event_type == "issues"
        assert event.provider_event_id == "d-1"
        assert event.status is EventStatus.ROUTED
        await relay.wait_for(lambda: relay.upstream.requests)
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        sent = relay.upstream.requests[0]
        assert json.loads(sent.content) == {
            "workflow_id": "triage_issue",
            "variables": {"repo": "octo/repo", "number": 7},
            "stream": True,
        }


async def test_outgoing_request_has_exactly_the_contract_headers_and_body(config: Path) -> None:
    async with running_relay(config) as relay:
        body = issue_opened(1)
        await relay.post(body, github_headers(body))
        await relay.wait_for(lambda: relay.upstream.requests)
        sent = relay.upstream.requests[0]
        assert sent.method == "POST"
        # the default two-step start: the run created (runs/create), then started by its id
        assert str(sent.url) == "http://127.0.0.1:9/functions/triage_issue/runs/run_created_1"
        assert sent.headers["x-notte-api-key"] == API_KEY
        assert sent.headers["authorization"] == f"Bearer {API_KEY}"
        assert sent.headers["content-type"] == "application/json"
        assert set(json.loads(sent.content)) == {"workflow_id", "variables", "stream"}


async def test_route_without_variables_sends_event_type_and_data(config: Path) -> None:
    async with running_relay(config) as relay:
        body = json.dumps({"ref": "refs/heads/main"}).encode()
        await relay.post(body, github_headers(body, event="push", delivery="p-1"))
        await relay.wait_for(lambda: relay.upstream.requests)
        assert json.loads(relay.upstream.requests[0].content)["variables"] == {
            "event_type": "push",
            "data": {"ref": "refs/heads/main"},
        }


async def test_unknown_source_is_404(config: Path) -> None:
    async with running_relay(config) as relay:
        response = await relay.post(b"{}", {}, source="nope")
        assert response.status_code == 404
        assert response.json()["error"] == "unknown_source"


async def test_bad_signature_is_401_with_reason_and_no_secret(config: Path) -> None:
    async with running_relay(config) as relay:
        body = issue_opened()
        headers = github_headers(body, secret="wrong-secret")
        response = await relay.post(body, headers)
        assert response.status_code == 401
        assert response.json()["error"] == "signature_mismatch"
        assert GITHUB_SECRET not in response.text
        assert await relay.store.query_events(EventQuery()) == []


async def test_missing_signature_is_401(config: Path) -> None:
    async with running_relay(config) as relay:
        response = await relay.post(issue_opened(), {"Content-Type": "application/json"})
        assert response.status_code == 401
        assert response.json()["error"] == "missing_signature"


async def test_oversized_body_is_413_from_content_length(config: Path) -> None:
    async with running_relay(config) as relay:
        body = b"{" + b" " * 5000 + b"}"
        response = await relay.post(body, github_headers(body))
        assert response.status_code == 413
        assert await relay.store.query_events(EventQuery()) == []


async def test_oversized_chunked_body_is_413(config: Path) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    async with running_relay(config) as relay:
        response = await relay.client.post(
            "/hooks/github", content=chunks(), headers={"X-Hub-Signature-256": "sha256=00"}
        )
        assert response.status_code == 413


async def test_signed_malformed_json_is_acknowledged_and_stored_unprocessable(
    config: Path,
) -> None:
    async with running_relay(config) as relay:
        body = b'{"action": "opened", '
        response = await relay.post(body, github_headers(body))
        assert response.status_code == 200
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.status is EventStatus.UNPROCESSABLE
        assert event.error is not None
        assert "invalid JSON" in event.error
        assert await relay.store.query_deliveries(DeliveryQuery()) == []
        await asyncio.sleep(0.1)
        assert relay.upstream.requests == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"a": NaN}', "NaN"),
        (b'{"a": 1, "a": 2}', "duplicate JSON key"),
        (b'{"a": {"b": 1, "c": 2, "b": 3}}', "duplicate JSON key 'b'"),
        (b'{"n": 1e400}', "out of range"),
        (b'{"n": [-1E+999]}', "out of range"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
        (b'{"n": ' + b"9" * 10_000 + b"}", "more than 4300 are not accepted"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
async def test_signed_hostile_bodies_are_stored_unprocessable(
    tmp_path: Path, body: bytes, reason: str
) -> None:
    config = write_config(tmp_path / "relay.yaml", max_body_bytes=512 * 1024)
    async with running_relay(config) as relay:
        response = await relay.post(body, github_headers(body))
        assert response.status_code == 200
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.status is EventStatus.UNPROCESSABLE
        assert event.error is not None
        assert reason in event.error


async def test_redelivery_with_same_id_is_acknowledged_once(config: Path) -> None:
    async with running_relay(config) as relay:
        body = issue_opened()
        first = await relay.post(body, github_headers(body, delivery="same"))
        second = await relay.post(body, github_headers(body, delivery="same"))
        assert first.json()["duplicate"] is False
        assert second.json() == {"id": first.json()["id"], "duplicate": True}
        await relay.wait_for(lambda: relay.upstream.requests)
        await asyncio.sleep(0.2)
        assert len(relay.upstream.requests) == 1
        assert len(await relay.store.query_deliveries(DeliveryQuery())) == 1


async def test_event_matching_no_route_is_stored_unrouted(config: Path) -> None:
    async with running_relay(config) as relay:
        body = json.dumps({"action": "closed"}).encode()
        response = await relay.post(body, github_headers(body))
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.status is EventStatus.UNROUTED
        assert await relay.store.query_deliveries(DeliveryQuery()) == []


async def test_get_on_a_post_only_hook_is_405(config: Path) -> None:
    async with running_relay(config) as relay:
        response = await relay.client.get("/hooks/github")
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"


async def test_multipart_body_is_415_without_parsing(config: Path) -> None:
    async with running_relay(config) as relay:
        response = await relay.post(b"--x--", {"Content-Type": "multipart/form-data; boundary=x"})
        assert response.status_code == 415


class _BrokenStore(SqliteStore):
    async def insert_event(self, event: NewEvent) -> InsertResult:
        raise StoreUnavailable("disk on fire")


async def test_store_failure_is_503_never_2xx(config: Path) -> None:
    store = _BrokenStore(":memory:")
    settings = Settings(config_path=str(config), database_url=":memory:", env={})
    outgoing = FakeSender(Upstream())
    app = create_app(settings, store=store, http_client=outgoing, clock=SystemClock())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
            body = issue_opened()
            response = await client.post(
                "/hooks/github", content=body, headers=github_headers(body)
            )
    await outgoing.aclose()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


async def test_readyz_reports_store_and_worker(config: Path) -> None:
    async with running_relay(config) as relay:
        response = await relay.client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["ready"] is True
        assert (await relay.client.get("/healthz")).json() == {"status": "ok"}
