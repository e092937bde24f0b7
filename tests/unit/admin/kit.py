"""A relay with the admin surfaces on, and the calls the admin tests make."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from relay.clock import Clock
from relay.delivery.outbound import Reply
from relay.store.base import DeliveryStatus
from relay.store.log_queries import DeliveryQuery
from tests.harness import Relay, Upstream, running_relay
from tests.helpers import github_headers, issue_opened, write_config

__all__ = [
    "TOKEN",
    "admin_relay",
    "bearer",
    "client_from",
    "dead_letter",
    "login",
    "send_issue",
]

TOKEN = "admin-token-5b7e1c"
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def admin_relay(
    tmp_path: Path,
    *,
    token: str | None = TOKEN,
    clock: Clock | None = None,
    config: Path | None = None,
    upstream: Upstream | None = None,
    **overrides: Any,
) -> AsyncIterator[Relay]:
    config = config or write_config(tmp_path / "relay.yaml")
    env = {"RELAY_ADMIN_TOKEN": token} if token else {}
    async with running_relay(
        config, upstream, clock=clock, env=env, config_watch_interval=0, **overrides
    ) as relay:
        yield relay


@asynccontextmanager
async def client_from(
    relay: Relay, ip: str, base_url: str = "http://relay"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same app connecting from ``ip``."""
    transport = httpx.ASGITransport(app=relay.app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        yield client


async def login(client: httpx.AsyncClient, token: str = TOKEN) -> str:
    """Log in on the page; returns the session's CSRF token (the cookie stays in the jar)."""
    response = await client.post(
        "/ui/login", content=f"token={token}&next=/ui/targets", headers=_form()
    )
    assert response.status_code == 303, response.text
    page = await client.get("/ui/targets")
    match = _CSRF.search(page.text)
    assert match is not None
    assert match.group(1)
    return match.group(1)


def _form() -> dict[str, str]:
    return {"content-type": "application/x-www-form-urlencoded"}


async def send_issue(relay: Relay, number: int = 7, delivery: str = "d-1") -> str:
    body = issue_opened(number)
    response = await relay.post(body, github_headers(body, delivery=delivery))
    assert response.status_code == 200, response.text
    event_id: str = response.json()["id"]
    return event_id


async def dead_letter(relay: Relay) -> str:
    """An event whose new-issues delivery died (the target answered 404); its delivery id."""
    relay.upstream.answers.append(Reply(404, json={"detail": "Function not found"}))
    await send_issue(relay, 404, delivery="d-dead")
    await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.DEAD))
    (dead,) = await relay.store.query_deliveries(
        DeliveryQuery(route="new-issues", statuses=(DeliveryStatus.DEAD,))
    )
    return dead.id
