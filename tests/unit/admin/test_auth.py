"""Who may use /api, /ui and /metrics: the admin token, the page's session with its CSRF
token, loopback clients when no token is set; the failed-login throttle."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from relay.web.auth import is_loopback_host
from relay.web.session import LoginThrottle, Sessions
from tests.helpers import FakeClock
from tests.unit.admin.kit import TOKEN, admin_relay, bearer, client_from, login

FORM = {"content-type": "application/x-www-form-urlencoded"}


async def test_the_api_needs_the_bearer_token(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        missing = await relay.client.get("/api/events")
        wrong = await relay.client.get("/api/events", headers=bearer("nope"))
        right = await relay.client.get("/api/events", headers=bearer())
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert missing.json()["error"] == "unauthorized"
    assert missing.headers["www-authenticate"] == "Bearer"


async def test_hooks_and_health_stay_open(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        health = await relay.client.get("/healthz")
        ready = await relay.client.get("/readyz")
        login_page = await relay.client.get("/ui/login")
        hook = await relay.client.post("/hooks/github", content=b"{}")
        static = await relay.client.get("/ui/static/app.js")
    assert (health.status_code, ready.status_code, login_page.status_code) == (200, 200, 200)
    assert hook.status_code == 401  # the provider's signature check, not the admin auth
    assert hook.json()["error"] == "missing_signature"
    assert static.status_code == 200


async def test_metrics_and_pages_need_auth_too(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        metrics = await relay.client.get("/metrics")
        page = await relay.client.get("/ui/dead-letters")
        with_token = await relay.client.get("/metrics", headers=bearer())
    assert metrics.status_code == 401
    assert page.status_code == 303
    assert page.headers["location"] == "/ui/login?next=/ui/dead-letters"
    assert with_token.status_code == 200


async def test_login_sets_a_strict_http_only_cookie_with_a_lifetime(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        response = await relay.client.post(
            "/ui/login", content=f"token={TOKEN}&next=/ui/targets", headers=FORM
        )
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/targets"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("relay_session=")
    # read as a browser does: attribute names, and SameSite's value, regardless of case
    pairs = (part.partition("=") for part in cookie.split(";")[1:])
    attributes = {name.strip().lower(): value.strip() for name, _, value in pairs}
    assert attributes["httponly"] == ""
    assert attributes["samesite"].lower() == "strict"
    assert attributes["max-age"] == "43200"
    assert attributes["path"] == "/"
    assert "Secure" not in cookie
    assert TOKEN not in cookie


async def test_the_cookie_is_secure_over_https(tmp_path: Path) -> None:
    async with (
        admin_relay(tmp_path) as relay,
        client_from(relay, "127.0.0.1", "https://relay") as c,
    ):
        response = await c.post("/ui/login", content=f"token={TOKEN}", headers=FORM)
    assert "; Secure" in response.headers["set-cookie"]


async def test_a_session_reads_but_changes_only_with_its_csrf_token(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        csrf = await login(relay.client)
        read = await relay.client.get("/api/targets")
        no_csrf = await relay.client.post("/api/targets/notte/pause")
        wrong = await relay.client.post(
            "/api/targets/notte/pause", headers={"x-csrf-token": "0" * 64}
        )
        right = await relay.client.post("/api/targets/notte/pause", headers={"x-csrf-token": csrf})
    assert read.status_code == 200
    assert (no_csrf.status_code, wrong.status_code) == (403, 403)
    assert no_csrf.json()["error"] == "csrf_failed"
    assert right.status_code == 200
    assert right.json()["paused"] is True


async def test_bearer_calls_need_no_csrf_token(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        response = await relay.client.post("/api/targets/notte/pause", headers=bearer())
        (state,) = await relay.store.list_target_states()
    assert response.status_code == 200
    assert state.paused_by == "api-token"


async def test_sessions_end_after_their_lifetime(tmp_path: Path) -> None:
    clock = FakeClock()
    async with admin_relay(tmp_path, clock=clock) as relay:
        await login(relay.client)
        assert (await relay.client.get("/api/targets")).status_code == 200
        clock.advance(12 * 3600 + 1)
        assert (await relay.client.get("/api/targets")).status_code == 401


async def test_logout_clears_the_cookie(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        csrf = await login(relay.client)
        out = await relay.client.post("/ui/logout", headers={"x-csrf-token": csrf})
        after = await relay.client.get("/api/targets")
    assert out.status_code == 303
    assert "Max-Age=0" in out.headers["set-cookie"]
    assert after.status_code == 401


async def test_failed_logins_are_throttled_per_address_then_forgiven(tmp_path: Path) -> None:
    clock = FakeClock()
    async with admin_relay(tmp_path, clock=clock) as relay:
        async with client_from(relay, "198.51.100.7") as attacker:
            with capture_logs() as logs:
                codes = [
                    (
                        await attacker.post("/ui/login", content=f"token=guess{n}", headers=FORM)
                    ).status_code
                    for n in range(6)
                ]
            blocked = await attacker.post("/ui/login", content="token=again", headers=FORM)
            bearer_blocked = await attacker.get("/api/events", headers=bearer("again"))
            right = await attacker.post("/ui/login", content=f"token={TOKEN}", headers=FORM)
            right_bearer = await attacker.get("/api/events", headers=bearer())
        other = await relay.client.post("/ui/login", content="token=other", headers=FORM)
        clock.advance(61)
        async with client_from(relay, "198.51.100.7") as attacker:
            later = await attacker.post("/ui/login", content="token=later", headers=FORM)
    assert codes == [401] * 5 + [429]
    assert (blocked.status_code, bearer_blocked.status_code) == (429, 429)
    assert int(blocked.headers["retry-after"]) >= 1
    # only failures are throttled: the right token always gets in
    assert (right.status_code, right_bearer.status_code) == (303, 200)
    assert other.status_code == 401  # another address is not throttled
    assert later.status_code == 401  # the failures aged out
    failed = [e for e in logs if e["event"] == "relay.admin.login_failed"]
    assert len(failed) == 5
    assert failed[0]["client_ip"] == "198.51.100.7"
    assert not any("guess" in repr(e) for e in logs)


async def test_wrong_bearer_tokens_count_toward_the_throttle(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        codes = [
            (await relay.client.get("/api/events", headers=bearer("x"))).status_code
            for _ in range(6)
        ]
    assert codes == [401] * 5 + [429]


async def test_login_only_leads_to_local_pages(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        response = await relay.client.post(
            "/ui/login", content=f"token={TOKEN}&next=//evil.example/x", headers=FORM
        )
    assert response.headers["location"] == "/ui/"


# without RELAY_ADMIN_TOKEN ---------------------------------------------------------------


async def test_without_a_token_only_loopback_clients_are_answered(tmp_path: Path) -> None:
    async with admin_relay(tmp_path, token=None) as relay:
        async with client_from(relay, "127.0.0.1", "http://127.0.0.1:8080") as local:
            ok = await local.get("/api/events")
            page = await local.get("/ui/")
        async with client_from(relay, "::1", "http://localhost:8080") as local6:
            ok6 = await local6.get("/api/targets")
        async with client_from(relay, "192.0.2.10", "http://127.0.0.1:8080") as remote:
            refused = await remote.get("/api/events")
        rebound = await relay.client.get("/api/events")  # Host: relay (a DNS rebinding)
    assert (ok.status_code, page.status_code, ok6.status_code) == (200, 200, 200)
    assert refused.status_code == 403
    assert refused.json()["error"] == "admin_loopback_only"
    assert rebound.status_code == 403


async def test_without_a_token_changes_from_another_origin_are_refused(tmp_path: Path) -> None:
    async with (
        admin_relay(tmp_path, token=None) as relay,
        client_from(relay, "127.0.0.1", "http://127.0.0.1:8080") as local,
    ):
        cross = await local.post(
            "/api/targets/notte/pause", headers={"origin": "https://evil.example"}
        )
        same = await local.post(
            "/api/targets/notte/pause", headers={"origin": "http://127.0.0.1:8080"}
        )
        script = await local.post("/api/targets/notte/resume")
    assert cross.status_code == 403
    assert cross.json()["error"] == "cross_origin"
    assert (same.status_code, script.status_code) == (200, 200)


# units -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:8080", True),
        ("localhost", True),
        ("[::1]:8080", True),
        ("app.localhost", True),
        ("relay.example.com", False),
        ("127.0.0.1.nip.io", False),
        ("", False),
    ],
)
def test_loopback_host_names(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_a_session_from_another_token_is_not_valid() -> None:
    clock = FakeClock()
    mine, theirs = Sessions("token-a-123456", clock), Sessions("token-b-123456", clock)
    cookie = theirs.issue()
    assert mine.verify(cookie) is None
    assert theirs.verify(cookie) is not None
    assert mine.verify(cookie[:-2] + "xx") is None
    assert mine.verify("garbage") is None


def test_csrf_tokens_are_per_session() -> None:
    sessions = Sessions("token-a-123456", FakeClock())
    one, two = sessions.verify(sessions.issue()), sessions.verify(sessions.issue())
    assert one is not None
    assert two is not None
    assert sessions.csrf_ok(one, sessions.csrf(one))
    assert not sessions.csrf_ok(one, sessions.csrf(two))
    assert not sessions.csrf_ok(one, None)


def test_the_throttle_forgets_old_failures() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock, limit=2, window=60)
    throttle.failed("a")
    clock.advance(30)
    throttle.failed("a")
    assert throttle.retry_after("a") == 30
    assert throttle.retry_after("b") is None
    clock.advance(31)
    assert throttle.retry_after("a") is None


def test_serve_says_when_the_admin_surfaces_are_loopback_only() -> None:
    from relay.serve import _admin_line
    from relay.settings import Settings

    open_line = _admin_line(Settings(config_path="x", env={}), "127.0.0.1", 8080)
    token_line = _admin_line(
        Settings(config_path="x", env={"RELAY_ADMIN_TOKEN": TOKEN}), "127.0.0.1", 8080
    )
    assert "loopback clients only: RELAY_ADMIN_TOKEN is not set" in open_line
    assert "RELAY_ADMIN_TOKEN required" in token_line
    assert TOKEN not in token_line


# in a container (relay/exposure.py) ------------------------------------------------------


async def test_in_a_container_without_a_token_not_even_loopback_is_answered(
    tmp_path: Path,
) -> None:
    async with (
        admin_relay(tmp_path, token=None, admin_loopback=False) as relay,
        client_from(relay, "127.0.0.1", "http://127.0.0.1:8080") as local,
    ):
        api = await local.get("/api/events")
        metrics = await local.get("/metrics")
        health = await local.get("/healthz")
    assert (api.status_code, metrics.status_code, health.status_code) == (403, 403, 200)
    assert api.json()["error"] == "admin_token_required"
    assert "RELAY_ADMIN_TOKEN" in api.json()["detail"]


async def test_in_a_container_the_token_opens_the_admin_surfaces(tmp_path: Path) -> None:
    async with (
        admin_relay(tmp_path, admin_loopback=False) as relay,
        client_from(relay, "192.0.2.10") as remote,
    ):
        ok = await remote.get("/api/events", headers=bearer())
        refused = await remote.get("/api/events")
    assert (ok.status_code, refused.status_code) == (200, 401)


def test_serve_says_how_to_reach_the_admin_surfaces_in_a_container() -> None:
    from relay.serve import _admin_line
    from relay.settings import Settings

    closed = _admin_line(Settings(config_path="x", env={}, admin_loopback=False), "0.0.0.0", 8080)
    opened = _admin_line(
        Settings(config_path="x", env={"RELAY_ADMIN_TOKEN": TOKEN}, admin_loopback=False),
        "0.0.0.0",
        8080,
    )
    assert "admin: closed: set RELAY_ADMIN_TOKEN" in closed
    assert "http://<host>:<published port>/ui/" in opened
    assert "log in with RELAY_ADMIN_TOKEN" in opened
    assert TOKEN not in opened
