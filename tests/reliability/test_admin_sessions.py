"""Admin sessions and the login throttle on a real ``relay serve`` over real sockets:
logging out ends the session (the old cookie no longer reads or changes anything), "log out
everywhere" ends every session, and both hold across a restart; the throttle counts only
failures, per real client, never refuses the right token, and believes ``X-Forwarded-For``
only from the proxies given to ``--forwarded-allow-ips`` (none by default)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import write_config
from tests.reliability.kit import RelayProcess
from tests.reliability.shared import ADMIN_TOKEN

_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
_FORM = {"content-type": "application/x-www-form-urlencoded"}
PAUSE = "/api/targets/notte/pause"


def _relay(tmp: Path, *extra: str) -> RelayProcess:
    relay = RelayProcess(write_config(tmp / "relay.yaml"), tmp / "relay.db", tmp)
    relay.extra = extra
    relay.start(env={"RELAY_ADMIN_TOKEN": ADMIN_TOKEN})
    return relay


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[RelayProcess]:
    relay = _relay(tmp_path)
    try:
        yield relay
    finally:
        relay.kill()


def _login(url: str) -> tuple[str, str]:
    """A fresh session: (its Cookie header, its CSRF token)."""
    with httpx.Client(base_url=url, timeout=30) as client:
        reply = client.post("/ui/login", content=f"token={ADMIN_TOKEN}", headers=_FORM)
        assert reply.status_code == 303, reply.text
        cookie = reply.headers["set-cookie"].split(";", 1)[0]
        page = client.get("/ui/targets", headers={"cookie": cookie})
        match = _CSRF.search(page.text)
        assert match is not None
        return cookie, match.group(1)


def _reads(url: str, cookie: str) -> int:
    return httpx.get(f"{url}/api/targets", headers={"cookie": cookie}, timeout=30).status_code


def _changes(url: str, cookie: str, csrf: str) -> int:
    headers = {"cookie": cookie, "x-csrf-token": csrf}
    return httpx.post(f"{url}{PAUSE}", json={}, headers=headers, timeout=30).status_code


def _logout(url: str, cookie: str, csrf: str, *, everywhere: bool = False) -> None:
    path = "/ui/logout?everywhere=1" if everywhere else "/ui/logout"
    headers = {"cookie": cookie, "x-csrf-token": csrf}
    reply = httpx.post(f"{url}{path}", headers=headers, timeout=30)
    assert reply.status_code == 303
    assert "max-age=0" in reply.headers["set-cookie"].lower()


def test_logout_ends_the_session_for_reads_and_changes(admin: RelayProcess) -> None:
    cookie, csrf = _login(admin.url)
    assert _reads(admin.url, cookie) == 200
    assert _changes(admin.url, cookie, csrf) < 300
    _logout(admin.url, cookie, csrf)
    assert _reads(admin.url, cookie) == 401
    assert _changes(admin.url, cookie, csrf) == 401
    page = httpx.get(f"{admin.url}/ui/targets", headers={"cookie": cookie}, timeout=30)
    assert page.status_code == 303  # to the login page


def test_log_out_everywhere_ends_every_session_and_it_holds_across_a_restart(
    admin: RelayProcess,
) -> None:
    mine, my_csrf = _login(admin.url)
    other, other_csrf = _login(admin.url)
    admin.kill()
    admin.start(env={"RELAY_ADMIN_TOKEN": ADMIN_TOKEN})
    assert _reads(admin.url, mine) == 200  # sessions outlive a restart
    assert _reads(admin.url, other) == 200
    _logout(admin.url, mine, my_csrf, everywhere=True)
    assert _reads(admin.url, mine) == 401
    assert _reads(admin.url, other) == 401
    assert _changes(admin.url, other, other_csrf) == 401
    admin.kill()
    admin.start(env={"RELAY_ADMIN_TOKEN": ADMIN_TOKEN})
    assert _reads(admin.url, other) == 401  # ended sessions stay ended
    fresh, _ = _login(admin.url)
    assert _reads(admin.url, fresh) == 200


def _bearer(url: str, token: str, forwarded_for: str | None = None) -> int:
    headers = {"authorization": f"Bearer {token}"}
    if forwarded_for is not None:
        headers["x-forwarded-for"] = forwarded_for
    return httpx.get(f"{url}/api/targets", headers=headers, timeout=30).status_code


def test_failures_are_throttled_but_the_right_token_always_passes(admin: RelayProcess) -> None:
    assert [_bearer(admin.url, "wrong-token") for _ in range(5)] == [401] * 5
    assert _bearer(admin.url, "wrong-token") == 429
    bad_login = httpx.post(
        f"{admin.url}/ui/login", content="token=wrong", headers=_FORM, timeout=30
    )
    assert bad_login.status_code == 429
    assert _bearer(admin.url, ADMIN_TOKEN) == 200  # a correct token is never refused
    cookie, _ = _login(admin.url)  # nor a correct login
    assert _reads(admin.url, cookie) == 200


def test_forwarded_headers_from_an_untrusted_peer_do_not_reset_the_throttle(
    admin: RelayProcess,
) -> None:
    statuses = [_bearer(admin.url, "wrong-token", f"10.0.0.{i}") for i in range(1, 8)]
    assert statuses == [401] * 5 + [429] * 2


def test_forwarded_headers_from_a_configured_proxy_name_the_real_client(
    tmp_path: Path,
) -> None:
    relay = _relay(tmp_path, "--forwarded-allow-ips", "127.0.0.1")
    try:
        assert [_bearer(relay.url, "wrong", "10.0.0.1") for _ in range(6)] == [401] * 5 + [429]
        assert _bearer(relay.url, "wrong", "10.0.0.2") == 401  # another client behind it
        assert _bearer(relay.url, ADMIN_TOKEN, "10.0.0.1") == 200
    finally:
        relay.kill()
