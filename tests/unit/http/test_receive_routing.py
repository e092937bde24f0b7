"""Receiving with the routing language: client_ip, stop, mapping failures, route dedupe."""

from __future__ import annotations

import json
from pathlib import Path

from structlog.testing import capture_logs

from relay.store.base import DeliveryStatus
from relay.store.log_queries import DeliveryQuery
from tests.harness import running_relay
from tests.helpers import github_headers, write_config

ROUTES = """
  - name: from-loopback
    source: github
    function_id: local_only
    match: {client_ip: {cidr: 127.0.0.0/8}, event_type: ping}
    retry: {max_attempts: 1}
  - name: orders
    source: github
    function_id: handle_order
    match: {event_type: order}
    dedupe: {key: body.order_id, window: 10m}
    variables:
      order: {path: body.order_id, required: true}
    retry: {max_attempts: 1}
  - name: first
    source: github
    function_id: first
    stop: true
    match: {event_type: triage}
    retry: {max_attempts: 1}
  - name: second
    source: github
    function_id: second
    match: {event_type: triage}
    retry: {max_attempts: 1}
"""


def _body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


async def test_client_ip_from_the_connection_is_matched_and_stored(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml", routes=ROUTES)
    async with running_relay(config) as relay:
        body = _body(zen="hi")
        response = await relay.post(body, github_headers(body, event="ping", delivery="p1"))
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.client_ip == "127.0.0.1"  # httpx's ASGI transport client address
        (delivery,) = await relay.store.query_deliveries(DeliveryQuery())
        assert delivery.route == "from-loopback"


async def test_stop_route_prevents_later_routes(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml", routes=ROUTES)
    async with running_relay(config) as relay:
        body = _body(a=1)
        await relay.post(body, github_headers(body, event="triage", delivery="t1"))
        assert [d.route for d in await relay.store.query_deliveries(DeliveryQuery())] == ["first"]


async def test_required_variable_missing_is_a_mapping_failed_delivery(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml", routes=ROUTES)
    async with running_relay(config) as relay:
        body = _body(other=1)
        with capture_logs() as logs:
            await relay.post(body, github_headers(body, event="order", delivery="o0"))
        (delivery,) = await relay.store.query_deliveries(DeliveryQuery())
        (logged,) = [e for e in logs if e["event"] == "relay.route.mapping_failed"]
        assert (logged["route"], logged["delivery_id"]) == ("orders", delivery.id)
        assert logged["error"] == "variable 'order': required, but body.order_id found nothing"
        assert delivery.status is DeliveryStatus.MAPPING_FAILED
        assert delivery.last_error == (
            "variable 'order': required, but body.order_id found nothing"
        )
        assert relay.upstream.requests == []


async def test_second_event_with_the_same_dedupe_key_creates_no_delivery(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml", routes=ROUTES)
    async with running_relay(config) as relay:
        first, again, other = _body(order_id="A"), _body(order_id="A", v=2), _body(order_id="B")
        await relay.post(first, github_headers(first, event="order", delivery="o1"))
        with capture_logs() as logs:
            response = await relay.post(again, github_headers(again, event="order", delivery="o2"))
        assert response.status_code == 200
        assert response.json()["duplicate"] is False  # a new event, stored
        await relay.post(other, github_headers(other, event="order", delivery="o3"))
        deliveries = await relay.store.query_deliveries(DeliveryQuery())
        assert sorted(d.variables["order"] for d in deliveries if d.variables) == ["A", "B"]
        (received,) = [e for e in logs if e["event"] == "relay.hook.received"]
        assert received["deduped_routes"] == ["orders"]
        assert received["routes"] == []
        assert await relay.store.get_event(response.json()["id"]) is not None
