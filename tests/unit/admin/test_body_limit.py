"""Admin request bodies: ``AdminBodyLimit`` on its own (a stalled ``receive``, chunks past the
cap, a lying ``Content-Length``) and mounted in a relay (the API, the login form, and the
webhooks it leaves alone)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from relay.web.body_limit import MAX_ADMIN_BODY, AdminBodyLimit, exempt
from tests.helpers import github_headers, issue_opened
from tests.unit.admin.kit import admin_relay, bearer

# -- the middleware alone -------------------------------------------------------------------


class Recorder:
    """An ASGI app that reads the whole body it is given and answers 200."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        self.bodies.append(b"".join(chunks))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def scope_for(
    path: str = "/api/deliveries/replay", headers: Iterable[tuple[str, str]] = ()
) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8080),
        "scheme": "http",
        "http_version": "1.1",
    }


def chunks(*parts: bytes, stall: bool = False) -> Receive:
    """A ``receive`` giving ``parts`` (more to come after each), then stalling or ending."""
    queue = list(parts)

    async def receive() -> Message:
        if queue:
            return {"type": "http.request", "body": queue.pop(0), "more_body": True}
        if stall:
            await asyncio.Event().wait()  # never
        return {"type": "http.request", "body": b"", "more_body": False}

    return receive


class Sent:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.messages[0]["headers"]}

    @property
    def json(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.messages[1:]))


async def run(
    receive: Receive, *, scope: Scope | None = None, max_bytes: int = 100, within: float = 0.2
) -> tuple[Sent, Recorder]:
    app = Recorder()
    sent = Sent()
    limit = AdminBodyLimit(app, max_bytes=max_bytes, within=within)
    await limit(scope or scope_for(), receive, sent)
    return sent, app


async def test_hands_the_whole_body_to_the_handler() -> None:
    sent, app = await run(chunks(b'{"all"', b": true}"))
    assert sent.status == 200
    assert app.bodies == [b'{"all": true}']


async def test_refuses_a_declared_length_over_the_cap_with_413_before_reading() -> None:
    read: list[bool] = []

    async def receive() -> Message:
        read.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    sent, app = await run(receive, scope=scope_for(headers=[("content-length", "101")]))
    assert sent.status == 413
    assert sent.json["error"] == "body_too_large"
    assert sent.headers["connection"] == "close"
    assert read == []
    assert app.bodies == []


async def test_refuses_a_body_growing_past_the_cap_with_413() -> None:
    sent, app = await run(chunks(b"a" * 60, b"b" * 60, stall=True))
    assert sent.status == 413
    assert "100 bytes" in sent.json["detail"]
    assert app.bodies == []


async def test_a_body_exactly_at_the_cap_is_accepted() -> None:
    sent, app = await run(chunks(b"a" * 50, b"b" * 50))
    assert sent.status == 200
    assert app.bodies == [b"a" * 50 + b"b" * 50]


async def test_closes_a_stalled_admin_body_with_408_after_the_deadline() -> None:
    started = time.monotonic()
    sent, app = await run(chunks(b'{"partial', stall=True), within=0.2)
    assert sent.status == 408
    assert sent.json == {
        "error": "body_timeout",
        "detail": "the body was not received within 0.2 seconds",
    }
    assert sent.headers["connection"] == "close"
    assert 0.15 <= time.monotonic() - started < 5
    assert app.bodies == []


async def test_a_client_that_disconnects_mid_body_gets_no_answer() -> None:
    parts: list[Message] = [
        {"type": "http.request", "body": b"{", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return parts.pop(0)

    app = Recorder()
    sent = Sent()
    await AdminBodyLimit(app, max_bytes=100, within=1.0)(scope_for(), receive, sent)
    assert sent.messages == []
    assert app.bodies == []


@pytest.mark.parametrize("path", ["/hooks/github", "/hooks/x/y"])
async def test_webhook_paths_are_left_to_their_own_limits(path: str) -> None:
    sent, app = await run(chunks(b"a" * 500), scope=scope_for(path))
    assert sent.status == 200
    assert app.bodies == [b"a" * 500]
    assert exempt(path)


@pytest.mark.parametrize("path", ["/api/events", "/ui/login", "/metrics", "/healthz", "/hooksx"])
def test_every_other_path_is_covered(path: str) -> None:
    assert not exempt(path)


def test_the_default_cap_is_one_mebibyte() -> None:
    assert MAX_ADMIN_BODY == 1024 * 1024


# -- mounted in a relay ---------------------------------------------------------------------


async def test_api_body_over_one_mebibyte_is_413_with_a_json_reason(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        big = b'{"reason": "' + b"x" * MAX_ADMIN_BODY + b'"}'
        reply = await relay.client.post(
            "/api/deliveries/replay", content=big, headers={**bearer(), "content-type": "json"}
        )
        assert reply.status_code == 413
        assert reply.json()["error"] == "body_too_large"
        assert reply.headers["connection"] == "close"


async def test_api_bodies_under_the_cap_still_reach_the_handler(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        reply = await relay.client.post(
            "/api/deliveries/replay", json={"all": True, "dry_run": True}, headers=bearer()
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["dry_run"] is True
        cancel = await relay.client.post(
            "/api/deliveries/dlv_nope/cancel", json={"reason": "r"}, headers=bearer()
        )
        assert cancel.status_code == 404


async def test_login_form_over_the_cap_is_413(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        reply = await relay.client.post(
            "/ui/login",
            content=b"token=" + b"t" * (MAX_ADMIN_BODY + 1),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert reply.status_code == 413
        assert reply.json()["error"] == "body_too_large"


async def test_an_unauthenticated_body_is_refused_401_without_being_read(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        big = b"x" * (MAX_ADMIN_BODY + 1)
        reply = await relay.client.post("/api/deliveries/replay", content=big)
        assert reply.status_code == 401


async def test_webhook_bodies_keep_the_sources_limit(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        body = issue_opened(1)
        reply = await relay.client.post("/hooks/github", content=body, headers=github_headers(body))
        assert reply.status_code == 200, reply.text
