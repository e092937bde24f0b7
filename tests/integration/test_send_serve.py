"""``relay send`` against a real ``relay serve`` with one source per provider.

Every provider's sample is signed with the same code ``relay send`` runs and POSTed over a real
socket; a handful go through the ``relay send`` command itself (each CLI process takes a few
seconds to start, so 43 of them would dominate the suite). Each must be verified (200) and
stored with the event type and id relay extracts.

Asana's hook secret normally arrives in its handshake, which relay echoes but does not persist
yet; the source lists it up front, which verifies Asana's signed events the same way (the
handshake itself is covered by the unit tests). A second Twilio source's public URL has a
repeated, oddly escaped query: it verifies only on the query exactly as received.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

import httpx

from relay.devtools.samples import SAMPLES
from relay.devtools.sending import prepare, send
from relay.providers import names
from relay.store import SqliteStore
from relay.store.base import EventRecord, EventStatus
from relay.store.log_queries import EventQuery
from tests.helpers import free_port
from tests.integration.procs import start_relay
from tests.provider_setups import Setup, setups, write_config

#: Sent through `relay send` subprocesses: a header HMAC, a URL-signed form, an RSA private key
#: read from a file, and a scheme that writes its signature into the body.
CLI_PROVIDERS: Final = ("github", "twilio", "paypal", "mailgun")
#: Providers whose event type is fixed or derived from the body's shape.
FIXED_TYPES: Final = {"asana": "events", "dropbox": "list_folder", "sendgrid": "batch"}
QUERY: Final = "tag=a&tag=b&q=%7e"  # repeated and oddly escaped: signed as sent


def cli_send(tmp: Path, name: str, url: str, setup: Setup) -> subprocess.Popen[str]:
    secret_file = tmp / f"{name}.secret"
    secret_file.write_text(setup.secret + "\n")
    args = ["send", name, "--url", url, "--secret-file", str(secret_file)]
    for key, value in setup.options.items():
        args += ["--option", f"{key}={value}"]
    return subprocess.Popen(
        [sys.executable, "-m", "relay", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stored_events(db: Path) -> dict[str, list[EventRecord]]:
    async def read() -> dict[str, list[EventRecord]]:
        store = SqliteStore(str(db))
        await store.open()
        try:
            rows = await store.query_events(EventQuery(limit=1000))
        finally:
            await store.close()
        by_source: dict[str, list[EventRecord]] = {}
        for row in rows:
            by_source.setdefault(row.source, []).append(row)
        return by_source

    return asyncio.run(read())


def post(client: httpx.Client, url: str, name: str, setup: Setup, **kwargs: Any) -> Any:
    """Sign ``name``'s sample now, as `relay send` does, and POST it; relay's JSON answer."""
    out = prepare(name, setup.secret, url, now=time.time(), options=setup.options, **kwargs)
    response = send(out, client=client)
    assert response.status_code == 200, (name, response.text)
    return response.json()


def test_relay_send_reaches_relay_serve_for_every_provider(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    table = setups(lambda name: f"{base}/hooks/{name}")
    twilio = table["twilio"]
    query_source = {
        "provider": "twilio",
        "secrets": twilio.source_secrets,
        "public_url": f"{base}/hooks/twilio-query?{QUERY}",
    }
    config = write_config(tmp_path / "relay.yaml", table, {"twilio-query": query_source})
    db = tmp_path / "relay.db"
    with start_relay(config, db, tmp_path, port=port) as relay:
        clis = {
            name: cli_send(tmp_path, name, f"{relay.url}/hooks/{name}", table[name])
            for name in CLI_PROVIDERS
        }
        with httpx.Client(timeout=10) as client:
            answers = {  # two sends of the same sample: the second is not a duplicate
                name: [post(client, f"{relay.url}/hooks/{name}", name, table[name]) for _ in "12"]
                for name in names()
            }
            stripe_url = f"{relay.url}/hooks/stripe"
            forced = [
                post(client, stripe_url, "stripe", table["stripe"], event_id="evt_forced")
                for _ in "12"
            ]
            post(client, f"{relay.url}/hooks/twilio-query?{QUERY}", "twilio", twilio)
        for name, proc in clis.items():
            stdout, stderr = proc.communicate(timeout=60)
            assert proc.returncode == 0, (name, stdout, stderr)
            assert stdout.startswith("HTTP 200 OK\n"), (name, stdout)
            assert table[name].secret.strip() not in stdout + stderr

    assert not any(answer["duplicate"] for pair in answers.values() for answer in pair)
    assert [answer["duplicate"] for answer in forced] == [False, True]
    events = stored_events(db)
    for name in names():
        rows = events.get(name, [])
        expected = 2 + (name in CLI_PROVIDERS) + (name == "stripe")  # + the forced id, once
        assert len(rows) == expected, (name, len(rows))
        for row in rows:
            assert row.status is EventStatus.UNROUTED, (name, row.status, row.error)
            assert row.event_type, name
            assert row.event_type == FIXED_TYPES.get(name, row.event_type)
            if SAMPLES[name].event_id is not None:
                assert row.provider_event_id, name
        ids = [row.provider_event_id for row in rows if row.provider_event_id]
        assert len(set(ids)) == len(ids), (name, ids)
    assert len(events["twilio-query"]) == 1
    (forced_row,) = [row for row in events["stripe"] if row.provider_event_id == "evt_forced"]
    assert forced_row.duplicates == 1
