"""The admin surfaces of a real ``relay serve`` over real sockets, with ``RELAY_ADMIN_TOKEN``:
nothing without the token or a session (401); a session changes state only with its CSRF
token (403); the session cookie is HttpOnly, SameSite=Strict and has a bounded lifetime;
tokens are compared in constant time; no answer holds a configured secret or the token."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator

import httpx
import pytest

from relay.web.session import Sessions, token_matches
from tests.helpers import API_KEY, GITHUB_SECRET, FakeClock, github_headers, issue_opened
from tests.helpers import write_config as write_relay_config
from tests.reliability.kit import RelayProcess
from tests.reliability.raw_http import exchange, head
from tests.reliability.shared import ADMIN_TOKEN, RECEIVE_TIMEOUT

READS = [
    "/api/events",
    "/api/deliveries",
    "/api/targets",
    "/api/stats",
    "/api/config",
    "/api/openapi.json",
    "/metrics",
]
CHANGES = [
    "/api/targets/notte/pause",
    "/api/targets/notte/resume",
    "/api/deliveries/replay",
    "/api/config/reload",
]
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    tmp = tmp_path_factory.mktemp("admin-security")
    config = write_relay_config(tmp / "relay.yaml")
    relay = RelayProcess(config, tmp / "relay.db", tmp)
    relay.extra = ("--receive-timeout", str(RECEIVE_TIMEOUT))
    relay.start(env={"RELAY_ADMIN_TOKEN": ADMIN_TOKEN})
    try:
        body = issue_opened(1)
        reply = httpx.post(
            f"{relay.url}/hooks/github", content=body, headers=github_headers(body), timeout=30
        )
        assert reply.status_code == 200
        yield relay
    finally:
        relay.kill()


def _bearer(token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", READS)
def test_reads_need_the_token_or_a_session(admin: RelayProcess, path: str) -> None:
    with httpx.Client(base_url=admin.url, timeout=30) as client:
        refused = client.get(path)
        assert refused.status_code == 401
        assert refused.headers.get("www-authenticate") == "Bearer"
        assert client.get(path, headers={"Cookie": "relay_session=forged.value"}).status_code == 401
        allowed = client.get(path, headers=_bearer())
        assert allowed.status_code == 200
        for secret in (ADMIN_TOKEN, GITHUB_SECRET, API_KEY):
            assert secret not in allowed.text


@pytest.mark.parametrize("path", CHANGES)
def test_changes_need_the_token(admin: RelayProcess, path: str) -> None:
    reply = httpx.post(f"{admin.url}{path}", json={}, timeout=30)
    assert reply.status_code == 401


def test_a_session_reads_and_changes_state_only_with_its_csrf_token(admin: RelayProcess) -> None:
    with httpx.Client(base_url=admin.url, timeout=30) as client:
        login = client.post(
            "/ui/login",
            content=f"token={ADMIN_TOKEN}&next=/ui/targets",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert login.status_code == 303
        cookie = login.headers["set-cookie"]
        attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
        assert "httponly" in attributes
        assert attributes["samesite"].strip().lower() == "samesite=strict"
        lifetime = int(attributes["max-age"].split("=")[1])
        assert 0 < lifetime <= 24 * 3600
        assert ADMIN_TOKEN not in cookie

        page = client.get("/ui/targets")
        assert page.status_code == 200
        assert ADMIN_TOKEN not in page.text
        match = _CSRF.search(page.text)
        assert match is not None
        csrf = match.group(1)

        assert client.get("/api/targets").status_code == 200
        pause = "/api/targets/notte/pause"
        assert client.post(pause, json={}).status_code == 403
        assert client.post(pause, json={}, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
        assert client.post(pause, json={}, headers={"X-CSRF-Token": csrf}).status_code < 300
        resume = client.post("/api/targets/notte/resume", json={}, headers={"X-CSRF-Token": csrf})
        assert resume.status_code < 300


#: Every admin route not in READS/CHANGES (path parameters filled with unknown ids).
OTHERS = [
    ("GET", "/api/events/evt_unknown"),
    ("GET", "/api/deliveries/dlv_unknown"),
    ("POST", "/api/deliveries/dlv_unknown/replay"),
    ("POST", "/api/deliveries/dlv_unknown/cancel"),
    ("POST", "/ui/logout"),
]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", p) for p in READS] + [("POST", p) for p in CHANGES] + OTHERS
)
def test_every_admin_route_refuses_a_stranger(admin: RelayProcess, method: str, path: str) -> None:
    with httpx.Client(base_url=admin.url, timeout=30) as client:
        for headers in ({}, {"Cookie": "relay_session=forged.value"}, {"Authorization": "Basic x"}):
            body: dict[str, str] | None = {} if method == "POST" else None
            reply = client.request(method, path, headers=headers, json=body)
            assert reply.status_code == 401, (headers, reply.status_code, reply.text[:200])
            for secret in (ADMIN_TOKEN, GITHUB_SECRET, API_KEY):
                assert secret not in reply.text


@pytest.mark.parametrize("path", ["/ui/", "/ui/targets", "/ui/dead-letters", "/ui/events/evt_x"])
def test_every_page_sends_a_stranger_to_the_login(admin: RelayProcess, path: str) -> None:
    reply = httpx.get(f"{admin.url}{path}", timeout=30)
    assert reply.status_code == 303
    assert reply.headers["location"].startswith("/ui/login")


def test_every_state_change_with_a_session_needs_its_csrf_token(admin: RelayProcess) -> None:
    with httpx.Client(base_url=admin.url, timeout=30) as client:
        login = client.post(
            "/ui/login",
            content=f"token={ADMIN_TOKEN}",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert login.status_code == 303
        changes = [*CHANGES, *(p for m, p in OTHERS if m == "POST" and p.startswith("/api/"))]
        for path in changes:
            assert client.post(path, json={}).status_code == 403, path
            forged = client.post(path, json={}, headers={"X-CSRF-Token": "f" * 64})
            assert forged.status_code == 403, path


def test_sessions_end_after_their_bounded_lifetime() -> None:
    clock = FakeClock()
    sessions = Sessions(ADMIN_TOKEN, clock)
    cookie = sessions.issue()
    assert sessions.verify(cookie) is not None
    clock.advance(sessions.lifetime + 1)
    assert sessions.verify(cookie) is None
    assert sessions.verify(cookie[:-2] + "xx") is None


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module relay.web.session uses
    assert token_matches(ADMIN_TOKEN, ADMIN_TOKEN)
    assert not token_matches("x", ADMIN_TOKEN)
    assert not token_matches(ADMIN_TOKEN + "-and-much-longer", ADMIN_TOKEN)
    # every comparison went through compare_digest, on digests of one length
    assert compared == [(hashlib.sha256().digest_size,) * 2] * 3


async def test_a_stranger_with_a_stalled_body_is_refused_401_at_once(admin: RelayProcess) -> None:
    head_only = head("POST", "/api/deliveries/replay", {"Content-Length": "100"})
    reply = await exchange(admin.port, head_only + b'{"all', within=RECEIVE_TIMEOUT + 8.0)
    assert reply.status == 401
    assert reply.elapsed < RECEIVE_TIMEOUT  # answered without waiting for the body


@pytest.mark.parametrize("path", ["/api/deliveries/replay", "/api/targets/notte/pause"])
async def test_an_admin_with_a_stalled_body_gets_408_after_the_deadline(
    admin: RelayProcess, path: str
) -> None:
    headers = {**_bearer(), "Content-Type": "application/json", "Content-Length": "100"}
    reply = await exchange(
        admin.port, head("POST", path, headers) + b'{"all', within=RECEIVE_TIMEOUT + 8.0
    )
    assert reply.status == 408
    assert reply.closed
    assert reply.elapsed >= RECEIVE_TIMEOUT * 0.9
    assert b'"error":"body_timeout"' in reply.data
    assert ADMIN_TOKEN.encode() not in reply.data


async def test_an_admin_body_declared_over_the_cap_is_413_before_it_is_sent(
    admin: RelayProcess,
) -> None:
    headers = {**_bearer(), "Content-Type": "application/json", "Content-Length": "1048577"}
    reply = await exchange(admin.port, head("POST", "/api/deliveries/replay", headers))
    assert reply.status == 413
    assert reply.closed
    assert b'"error":"body_too_large"' in reply.data


def test_wrong_tokens_are_throttled_per_address_and_never_logged(admin: RelayProcess) -> None:
    guess = "wrong-token-guess-7731"
    with httpx.Client(base_url=admin.url, timeout=30) as client:
        answers = [client.get("/api/stats", headers=_bearer(guess)).status_code for _ in range(7)]
        assert answers[:5] == [401] * 5
        assert set(answers[5:]) == {429}
        throttled = client.get("/api/stats", headers=_bearer(guess))
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) >= 1
        # only failures are throttled: the admin is never locked out by them
        assert client.get("/api/stats", headers=_bearer()).status_code == 200
    log = admin.output()
    assert "relay.admin.auth_failed" in log
    assert guess not in log
    assert ADMIN_TOKEN not in log
