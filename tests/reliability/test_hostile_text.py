"""Signed bodies whose strings are valid JSON but not valid UTF-8 text once decoded: a lone
surrogate (``"\\ud800"``). relay stores and routes such an event on SQLite and PostgreSQL,
never answers it with a 5xx (a provider would retry it until it gives up), and everything it
derives from the body as text (event type, provider event id, dedupe key, variables, log
lines, the admin API's answers) survives: a lone surrogate is written as its escape."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from relay.devtools.signing import sign
from tests.helpers import write_config
from tests.postgres import PgServer, create_schema, drop_schema, run_sync, with_search_path
from tests.reliability.kit import RelayProcess, runner

STRIPE_SECRET = "whsec_hostile_text_5e1f"
SOURCES = f"""\
  stripe:
    provider: stripe
    secrets: ["{STRIPE_SECRET}"]
"""
ROUTES = """
  - name: surrogates
    source: stripe
    function_id: triage_issue
    match: {event_type: {prefix: "invoice."}}
    variables:
      x: body.x
      kind: event_type
    dedupe: {key: body.x, window: 10m}
    retry: {max_attempts: 5, initial: 0.1, max: 0.5, jitter: 0}
"""
#: Valid JSON: the type, the id and a mapped value hold lone surrogates.
BODY = b'{"type": "invoice.\\udfff", "id": "evt_\\ud800", "x": "lone \\ud800 here"}'


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    if request.param == "sqlite":
        yield tmp_path / "relay.db"
        return
    pg: PgServer = request.getfixturevalue("pg_server")
    server = pg.require()
    schema = run_sync(create_schema(server, prefix="relay_test_text"))
    try:
        yield with_search_path(server, schema)
    finally:
        run_sync(drop_schema(server, schema))


def _post(client: httpx.Client, url: str, body: bytes) -> httpx.Response:
    headers = {
        **sign("stripe", STRIPE_SECRET, body, time.time()),
        "content-type": "application/json",
    }
    return client.post(f"{url}/hooks/stripe", content=body, headers=headers)


def _delivered(client: httpx.Client, url: str, delivery_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60.0
    detail: dict[str, Any] = {}
    while time.monotonic() < deadline:
        detail = client.get(f"{url}/api/deliveries/{delivery_id}").json()
        if detail["status"] == "succeeded":
            return detail
        time.sleep(0.2)
    raise AssertionError(f"delivery not succeeded: {detail}")


def test_signed_lone_surrogate_is_stored_routed_and_shown_never_a_5xx(
    tmp_path: Path, database: Path | str
) -> None:
    with runner(tmp_path) as upstream:
        config = write_config(
            tmp_path / "relay.yaml", base_url=upstream.url, routes=ROUTES, extra_sources=SOURCES
        )
        relay = RelayProcess(config, database, tmp_path)
        relay.start()
        try:
            with httpx.Client(timeout=30.0) as client:
                first = _post(client, relay.url, BODY)
                again = _post(client, relay.url, BODY)  # the same provider event id
                assert first.status_code == 200, first.text
                assert again.status_code == 200, again.text
                event_id = first.json()["id"]
                assert again.json() == {"id": event_id, "duplicate": True}

                event = client.get(f"{relay.url}/api/events/{event_id}")
                assert event.status_code == 200, event.text
                shown = event.json()
                assert shown["status"] == "routed"
                assert shown["event_type"] == "invoice.\\udfff"  # the escape, as sent
                assert shown["provider_event_id"] == "evt_\\ud800"
                assert json.loads(shown["payload"])["x"] == "lone \ud800 here"
                (route,) = shown["routes"]
                detail = _delivered(client, relay.url, route["delivery_id"])
                # the run got the body's string itself: JSON carries the lone surrogate
                assert detail["variables"] == {"x": "lone \ud800 here", "kind": "invoice.\\udfff"}
                page = client.get(f"{relay.url}/ui/events/{event_id}")
                assert page.status_code == 200
        finally:
            relay.kill()
    output = relay.output()
    assert "Traceback" not in output
    received = [
        json.loads(line)
        for line in output.splitlines()
        if line.startswith("{") and '"relay.hook.received"' in line
    ]
    assert [e["event_type"] for e in received] == ["invoice.\\udfff"] * 2
    assert [e["duplicate"] for e in received] == [False, True]
