"""A few providers of this batch end to end through the HTTP app: handshakes and naming."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from relay.devtools.sending import prepare
from relay.devtools.signing import sign
from relay.store.log_queries import EventQuery
from tests.harness import running_relay
from tests.helpers import write_config

SOURCES = """\
  slack:
    provider: slack
    secrets: ["slack-secret"]
  dropbox:
    provider: dropbox
    secrets: ["dropbox-secret"]
  notion:
    provider: notion
    secrets: ["notion-token"]
  stripe:
    provider: stripe
    secrets: ["whsec_stripe"]
  twilio:
    provider: twilio
    secrets: ["twilio-token"]
    public_url: "http://relay/hooks/twilio?tag=a&tag=b&q=%7e"
  hubspot:
    provider: hubspot
    secrets: ["hubspot-secret"]
    public_url: "http://relay/hooks/hubspot?id=1&id=2&next=%2Fa%3Fb%3D%7e"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "relay.yaml", extra_sources=SOURCES)


def _slack(body: bytes, content_type: str) -> dict[str, str]:
    return {**sign("slack", "slack-secret", body, time.time()), "content-type": content_type}


async def test_slack_url_verification_is_answered_and_not_stored(config: Path) -> None:
    body = b'{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdx"}'
    headers = _slack(body, "application/json")
    async with running_relay(config) as relay:
        response = await relay.post(body, headers, source="slack")
        assert response.status_code == 200
        assert response.text == "3eZbrw1aBm2rZgRNFdx"
        assert response.headers["content-type"].startswith("text/plain")
        assert await relay.store.query_events(EventQuery(source="slack")) == []
        bad = await relay.post(body, {**headers, "x-slack-signature": "v0=" + "0" * 64}, "slack")
        assert bad.status_code == 401
        assert bad.json()["error"] == "signature_mismatch"


async def test_slack_slash_command_is_stored_under_its_command(config: Path) -> None:
    body = b"command=%2Fdeploy&text=prod&team_id=T1"
    async with running_relay(config) as relay:
        response = await relay.post(
            body, _slack(body, "application/x-www-form-urlencoded"), "slack"
        )
        assert response.status_code == 200
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.event_type == "/deploy"


async def test_dropbox_get_challenge_is_echoed(config: Path) -> None:
    async with running_relay(config) as relay:
        response = await relay.client.get("/hooks/dropbox", params={"challenge": "abc123"})
        assert response.status_code == 200
        assert response.text == "abc123"
        assert response.headers["x-content-type-options"] == "nosniff"
        plain_get = await relay.client.get("/hooks/dropbox")
        assert plain_get.status_code == 400


async def test_notion_verification_with_a_configured_key_is_refused_not_stored(
    config: Path,
) -> None:
    # This source already has a key: a handed-over token is trusted only on first use.
    body = json.dumps({"verification_token": "secret_abc"}).encode()
    async with running_relay(config) as relay:
        response = await relay.post(body, {"content-type": "application/json"}, source="notion")
        assert response.status_code == 409
        assert response.json()["error"] == "secret_already_established"
        assert await relay.store.query_events(EventQuery(source="notion")) == []
        assert await relay.store.list_source_secrets() == {}


async def test_stripe_event_is_deduplicated_on_its_body_id(config: Path) -> None:
    body = json.dumps({"id": "evt_1", "object": "event", "type": "invoice.paid"}).encode()
    async with running_relay(config) as relay:
        first = await relay.post(body, sign("stripe", "whsec_stripe", body, time.time()), "stripe")
        again = await relay.post(body, sign("stripe", "whsec_stripe", body, time.time()), "stripe")
        assert first.status_code == again.status_code == 200
        assert again.json()["duplicate"] is True
        event = await relay.store.get_event(first.json()["id"])
        assert event is not None
        assert (event.event_type, event.provider_event_id) == ("invoice.paid", "evt_1")


@pytest.mark.parametrize(
    ("source", "secret"), [("twilio", "twilio-token"), ("hubspot", "hubspot-secret")]
)
async def test_url_signed_providers_verify_the_query_exactly_as_received(
    config: Path, source: str, secret: str
) -> None:
    # Repeated parameters and %-escapes survive only in the raw query string.
    url = f"http://relay/hooks/{source}?" + (
        "tag=a&tag=b&q=%7e" if source == "twilio" else "id=1&id=2&next=%2Fa%3Fb%3D%7e"
    )
    out = prepare(source, secret, url, now=time.time())
    async with running_relay(config) as relay:
        response = await relay.client.post(out.url, content=out.body, headers=out.headers)
        assert response.status_code == 200, response.text
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.event_type in {"received", "contact.creation"}
