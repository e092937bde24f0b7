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

from relay.admin.session import Sessions, token_matches
from tests.helpers import API_KEY, GITHUB_SECRET, FakeClock, github_headers, issue_opened
from tests.helpers import write_config as write_relay_config
from tests.reliability.kit import RelayProcess
from tests.reliability.shared import ADMIN_TOKEN

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


def test_pages_send_a_stranger_to_the_login(admin: RelayProcess) -> None:
    reply = httpx.get(f"{admin.url}/ui/targets", timeout=30)
    assert reply.status_code == 303
    assert reply.headers["location"].startswith("/ui/login")


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

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module relay.admin.session uses
    assert token_matches(ADMIN_TOKEN, ADMIN_TOKEN)
    assert not token_matches("x", ADMIN_TOKEN)
    assert not token_matches(ADMIN_TOKEN + "-and-much-longer", ADMIN_TOKEN)
    # every comparison went through compare_digest, on digests of one length
    assert compared == [(hashlib.sha256().digest_size,) * 2] * 3


def test_wrong_tokens_are_throttled_per_address_and_never_logged(admin: RelayProcess) -> None:
    guess = "wrong-token-guess-7731"
    with httpx.Client(base_url=admin.url, timeout=30) as client:
        answers = [client.get("/api/stats", headers=_bearer(guess)).status_code for _ in range(7)]
        assert answers[:5] == [401] * 5
        assert set(answers[5:]) == {429}
        throttled = client.get("/api/stats", headers=_bearer())
        assert throttled.status_code == 429  # even the right token waits (a guessing bound)
        assert int(throttled.headers["retry-after"]) >= 1
    log = admin.output()
    assert "relay.admin.auth_failed" in log
    assert guess not in log
    assert ADMIN_TOKEN not in log
