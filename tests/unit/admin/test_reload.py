"""``POST /api/config/reload`` and the config state in ``GET /readyz``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from relay.admin.reload import authorized
from relay.clock import SystemClock
from relay.delivery.outbound import FakeSender
from relay.http.app import RelayServices, create_app
from relay.settings import Settings
from relay.store import SqliteStore
from relay.store.log_queries import DeliveryQuery
from tests.harness import Upstream
from tests.helpers import GITHUB_SECRET, github_headers, issue_opened, write_config

TOKEN = "admin-token-3f9a"
ONLY_PUSH = (
    "\n  - {name: pushes, source: github, function_id: on_push, match: {event_type: push}}\n"
)


@asynccontextmanager
async def relay_app(
    config: Path, token: str | None = TOKEN
) -> AsyncIterator[tuple[httpx.AsyncClient, RelayServices]]:
    env = {"RELAY_ADMIN_TOKEN": token} if token else {}
    settings = Settings(
        config_path=str(config), database_url=":memory:", env=env, config_watch_interval=0
    )
    outgoing = FakeSender(Upstream())
    app = create_app(
        settings, store=SqliteStore(":memory:"), http_client=outgoing, clock=SystemClock()
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
            yield client, app.state.services
    await outgoing.aclose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (f"Bearer {TOKEN}", True),
        (f"bearer {TOKEN}", True),
        (f"Bearer  {TOKEN} ", True),
        ("Bearer wrong", False),
        (f"Bearer {TOKEN}x", False),
        (f"Basic {TOKEN}", False),
        ("Bearer", False),
        (None, False),
    ],
)
def test_authorized_needs_the_exact_bearer_token(header: str | None, ok: bool) -> None:
    assert authorized(header, TOKEN) is ok


async def test_without_an_admin_token_only_loopback_names_may_reload(tmp_path: Path) -> None:
    async with relay_app(write_config(tmp_path / "relay.yaml"), token=None) as (client, _):
        # The test client connects from 127.0.0.1 but asks for the host "relay".
        other = await client.post("/api/config/reload", headers=bearer("anything"))
        local = await client.post("http://127.0.0.1/api/config/reload")
    assert other.status_code == 403
    assert other.json()["error"] == "admin_loopback_only"
    assert local.status_code == 200
    assert local.json()["trigger"] == "admin"


async def test_missing_or_wrong_token_is_401(tmp_path: Path) -> None:
    async with relay_app(write_config(tmp_path / "relay.yaml")) as (client, services):
        before = services.config_sha256
        missing = await client.post("/api/config/reload")
        wrong = await client.post("/api/config/reload", headers=bearer("nope"))
        assert services.config_sha256 == before
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in wrong.text


async def test_reload_puts_a_valid_edit_in_force(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml")
    async with relay_app(config) as (client, services):
        old = services.config_sha256
        write_config(config, routes=ONLY_PUSH)
        response = await client.post("/api/config/reload", headers=bearer(TOKEN))
        assert response.status_code == 200
        result = response.json()
        assert (result["ok"], result["changed"], result["trigger"]) == (True, True, "admin")
        assert result["config_sha256"] == services.config_sha256 != old
        ready = (await client.get("/readyz")).json()
        assert ready["config_sha256"] == services.config_sha256
        assert ready["config"]["sha256"] == services.config_sha256
        assert ready["config"]["loaded_at"] == services.config_loaded_at
        assert ready["config"]["last_error"] is None
        assert [r.name for r in services.table.routes_for("github")] == ["pushes"]


async def test_invalid_edit_is_422_and_the_old_rules_keep_routing(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml")
    async with relay_app(config) as (client, services):
        old = services.config_sha256
        config.write_text(
            config.read_text().replace("function_id: triage_issue", "function_id: ''")
        )
        response = await client.post("/api/config/reload", headers=bearer(TOKEN))
        assert response.status_code == 422
        result = response.json()
        assert result["ok"] is False
        assert result["errors"] == [
            f"{config}:16:18: routes[0].function_id: String should have at least 1 character"
        ]
        assert services.config_sha256 == old
        assert services.config_last_error == result["errors"][0]
        ready = (await client.get("/readyz")).json()
        assert ready["ready"] is True
        assert ready["config"]["last_error"] == result["errors"][0]
        body = issue_opened(3)
        await client.post("/hooks/github", content=body, headers=github_headers(body))
        (delivery,) = await services.store.query_deliveries(DeliveryQuery())
        assert delivery.function_id == "triage_issue"


async def test_services_reload_is_the_same_operation(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml")
    async with relay_app(config) as (_, services):
        write_config(config, routes=ONLY_PUSH)
        result = await services.reload()
        assert (result.ok, result.changed, result.trigger) == (True, True, "api")


def _demo_secret_config(path: Path) -> None:
    """The same config with the README's demo secret instead of the test one."""
    path.write_text(path.read_text().replace(GITHUB_SECRET, "dev-secret"))


@pytest.mark.parametrize(
    ("bind_host", "allow_insecure", "refused"),
    [
        ("0.0.0.0", False, True),  # reachable from other machines: as a start, refused
        ("0.0.0.0", True, False),  # relay serve --allow-insecure
        ("127.0.0.1", False, False),  # loopback: demo values are fine
    ],
)
async def test_a_reload_to_demo_secrets_on_a_public_address_is_refused_as_a_start_is(
    tmp_path: Path, bind_host: str, allow_insecure: bool, refused: bool
) -> None:
    config = write_config(tmp_path / "relay.yaml")
    settings = Settings(
        config_path=str(config),
        database_url=":memory:",
        env={},
        config_watch_interval=0,
        bind_host=bind_host,
        allow_insecure=allow_insecure,
    )
    outgoing = FakeSender(Upstream())
    app = create_app(
        settings, store=SqliteStore(":memory:"), http_client=outgoing, clock=SystemClock()
    )
    async with app.router.lifespan_context(app):
        services: RelayServices = app.state.services
        before = services.config_sha256
        _demo_secret_config(config)
        result = await services.reload("test")
        assert result.ok is not refused
        if refused:
            assert services.config_sha256 == before  # the config in force stays
            assert "use a demo webhook secret" in "\n".join(result.errors)
            assert "--allow-insecure" in "\n".join(result.errors)
        else:
            assert services.config_sha256 != before
    await outgoing.aclose()
