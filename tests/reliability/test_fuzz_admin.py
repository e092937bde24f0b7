"""Property-based fuzzing of the admin surfaces in process (``/api/*``, ``/ui/*``,
``/metrics``), with ``RELAY_ADMIN_TOKEN`` set: any method on any admin route (path
parameters drawn too), hostile filters (blank, ``nan``, ``1e400``, 10,000 digits, odd text),
any body, with the right token, a wrong one, a forged session or nothing. relay never answers
500, and no answer holds a configured secret or the admin token.

tests/unit/admin/test_openapi.py runs schemathesis over the documented operations as
documented; this one goes off the document."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.routing import Route

from relay.clock import SystemClock
from relay.delivery.outbound import FakeSender, Reply
from relay.http.app import create_app
from relay.settings import Settings
from relay.store import SqliteStore
from tests.helpers import github_headers, issue_opened
from tests.provider_setups import setups, write_config
from tests.secret_scan import known_secrets
from tests.unit.admin.kit import TOKEN

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
FILTERS = [
    "source",
    "status",
    "route",
    "target",
    "since",
    "until",
    "q",
    "cursor",
    "limit",
    "event_id",
    "reason",
    "next",
]
HOSTILE = st.one_of(
    st.sampled_from(["", " ", "\t", " \n"]),  # blank: "absent" to some code, text to other
    st.sampled_from(
        [
            "",
            " ",
            "\t",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e400",
            "-1",
            "0",
            "9" * 10_000,
            "1" * 20,
            "2d",
            "99999999999d",
            "1h30m",
            "2024-13-45T99:99:99",
            "9999-12-31T23:59:59+23:59",
            "evt_",
            "dlv_" + "0" * 40,
            "rej_x",
            "../../etc/passwd",
            "%00",
            "a" * 500,
            "dead_letter",
            "succeeded",
            "\u202e\u0000",
        ]
    ),
    st.text(max_size=40),
)
PATH_VALUES = st.one_of(
    st.sampled_from(["evt_x", "dlv_x", "notte", "nope", "a" * 300, "%2e%2e", "%ff", "-", "_"]),
    st.text(alphabet=st.characters(codec="ascii", exclude_characters="/?#"), max_size=30),
)
JSON_BODIES = st.fixed_dictionaries(
    {},
    optional={
        key: st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False),
            st.text(max_size=20),
            st.lists(st.text(max_size=10), max_size=3),
            st.sampled_from(["dead_letter", "24h", "notte", "new-issues", " ", "nan"]),
        )
        for key in ("all", "dry_run", "route", "target", "since", "reason", "status", "limit")
    },
).map(lambda d: json.dumps(d).encode())
BODIES = st.one_of(
    JSON_BODIES,
    st.binary(max_size=512),
    st.sampled_from(
        [
            b"",
            b"null",
            b"[]",
            b'{"all": true, "all": false}',
            b'{"limit": 1e400}',
            b'{"limit": NaN}',
            b"[" * 50_000,
            b"token=" + TOKEN.encode() + b"&next=//evil.example",
            b"token=%ff%fe&next=%00",
        ]
    ),
)
AUTH = st.sampled_from(["token"] * 5 + ["wrong", "garbage", "cookie", "none"])
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "",
    ]
)
GITHUB = setups(lambda n: n)["github"].secret
_addresses = (f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}" for n in itertools.count(1))


def _routes(app: Starlette) -> dict[str, list[str]]:
    """Every admin route's path and the methods it takes."""
    found: dict[str, set[str]] = {}
    for r in app.routes:
        if isinstance(r, Route) and not r.path.startswith("/hooks/"):
            found.setdefault(r.path, set()).update(r.methods or ())
    return {path: sorted(methods) for path, methods in sorted(found.items())}


@pytest.fixture(scope="module")
def admin_app(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[asyncio.AbstractEventLoop, Starlette]]:
    tmp = tmp_path_factory.mktemp("fuzz-admin")
    config = write_config(tmp / "relay.yaml", setups(lambda n: f"http://relay/hooks/{n}"))
    settings_ = Settings(
        config_path=str(config),
        database_url=":memory:",
        env={"RELAY_ADMIN_TOKEN": TOKEN},
        poll_interval=0.05,
        config_watch_interval=0,
        receive_timeout=2.0,
    )
    loop = asyncio.new_event_loop()
    outgoing = FakeSender(lambda r: Reply(503))
    app = create_app(
        settings_, store=SqliteStore(":memory:"), http_client=outgoing, clock=SystemClock()
    )
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())

    async def seed() -> None:  # an event and a delivery, so ids and filters find something
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
            body = issue_opened(1)
            headers = github_headers(body, secret=GITHUB)
            reply = await client.post("/hooks/github", content=body, headers=headers)
            assert reply.status_code == 200, reply.text

    loop.run_until_complete(seed())
    try:
        yield loop, app
    finally:
        loop.run_until_complete(lifespan.__aexit__(None, None, None))
        loop.run_until_complete(outgoing.aclose())
        loop.close()


def _headers(auth: str, content_type: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", content_type.encode())] if content_type else []
    value = {
        "token": f"Bearer {TOKEN}",
        "wrong": "Bearer not-the-admin-token",
        "garbage": "Bearer",
    }.get(auth)
    if value is not None:
        headers.append((b"authorization", value.encode()))
    if auth == "cookie":
        headers += [(b"cookie", b"relay_session=forged.value"), (b"x-csrf-token", b"0" * 64)]
    return headers


ROUTES = sorted(
    [
        "/",
        "/api/config",
        "/api/config/reload",
        "/api/deliveries",
        "/api/deliveries/replay",
        "/api/deliveries/{delivery_id}",
        "/api/deliveries/{delivery_id}/cancel",
        "/api/deliveries/{delivery_id}/replay",
        "/api/deliveries/{delivery_id}/retry",
        "/api/deliveries/{delivery_id}/stop",
        "/api/events",
        "/api/events/{event_id}",
        "/api/openapi.json",
        "/api/stats",
        "/api/targets",
        "/api/targets/{name}/pause",
        "/api/targets/{name}/resume",
        "/healthz",
        "/metrics",
        "/readyz",
        "/ui",
        "/ui/",
        "/ui/dead-letters",
        "/ui/events/{event_id}",
        "/ui/login",
        "/ui/logout",
        "/ui/runs",
        "/ui/targets",
    ]
)


def test_every_admin_route_is_fuzzed(
    admin_app: tuple[asyncio.AbstractEventLoop, Starlette],
) -> None:
    assert sorted(_routes(admin_app[1])) == ROUTES


@pytest.mark.parametrize("route", ROUTES)
def test_no_admin_request_gets_a_500(
    admin_app: tuple[asyncio.AbstractEventLoop, Starlette], route: str
) -> None:
    loop, app = admin_app
    routes = _routes(app)
    secrets = known_secrets()

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        data=st.data(),
        values=st.lists(PATH_VALUES, min_size=2, max_size=2),
        query=st.dictionaries(st.sampled_from(FILTERS), HOSTILE, max_size=5),
        auth=AUTH,
        content_type=CONTENT_TYPES,
        body=BODIES,
    )
    def check(
        data: st.DataObject,
        values: list[str],
        query: dict[str, Any],
        auth: str,
        content_type: str,
        body: bytes,
    ) -> None:
        # mostly a method the route takes (to get past 405), sometimes any
        own = st.sampled_from(routes[route])
        method = data.draw(st.one_of(own, own, own, st.sampled_from(METHODS)), label="method")
        path = route
        for value in values:  # fill each {parameter}
            start = path.find("{")
            if start < 0:
                break
            escaped = quote(value, safe="%-_.~")  # "%ff" stays a raw escape
            path = path[:start] + escaped + path[path.index("}", start) + 1 :]

        async def call() -> httpx.Response:
            # each request from its own address: wrong tokens do not throttle the next ones
            transport = httpx.ASGITransport(
                app=app, client=(next(_addresses), 40000), raise_app_exceptions=False
            )
            async with httpx.AsyncClient(transport=transport, base_url="http://relay") as c:
                return await c.request(
                    method,
                    path,
                    params=query,
                    content=body if method not in ("GET", "HEAD") else None,
                    headers=_headers(auth, content_type),
                )

        reply = loop.run_until_complete(call())
        assert reply.status_code < 500, (method, path, query, reply.status_code, reply.text[:300])
        leaked = [name for name, value in secrets.items() if value in reply.text]
        assert leaked == [], leaked

    check()
