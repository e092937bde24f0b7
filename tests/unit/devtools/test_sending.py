"""``relay.devtools.sending.prepare``: each provider's sample, signed, verifies and is named
and identified by relay; every send gets a fresh id unless one is forced."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from relay.body_format import parse_body
from relay.devtools.samples import SAMPLES
from relay.devtools.sending import Outgoing, prepare, send
from relay.providers import get_spec, names
from relay.providers.base import WebhookRequest
from tests.provider_setups import setups

NOW: Final = 1_700_000_000.0
URL: Final = "https://relay.example.com/hooks/{name}"
SETUPS: Final = setups(lambda name: URL.format(name=name))
#: Providers whose event type is fixed or derived from the body's shape.
FIXED_TYPES: Final = {
    "asana": "events",
    "dropbox": "list_folder",
    "sendgrid": "batch",
    "twitter": "tweet_create_events",
}
NAMES_WITH_EVENT: Final = sorted(name for name in names() if SAMPLES[name].event)
NAMES_WITH_ID: Final = sorted(name for name in names() if SAMPLES[name].event_id)


def outgoing(name: str, **kwargs: Any) -> Outgoing:
    setup = SETUPS[name]
    kwargs.setdefault("now", NOW)
    kwargs["options"] = {**setup.options, **kwargs.get("options", {})}
    return prepare(name, setup.secret, URL.format(name=name), **kwargs)


def received(name: str, out: Outgoing) -> tuple[str | None, str | None]:
    """Verify ``out`` as relay would, then its (event type, event id)."""
    setup = SETUPS[name]
    provider = get_spec(name).build(setup.source_secrets, setup.source_options)
    raw_query = urlsplit(out.url).query
    request = WebhookRequest(
        method="POST",
        path=f"/hooks/{name}",
        headers=out.headers,
        query=dict(parse_qsl(raw_query)),
        body=out.body,
        raw_query=raw_query,
    )
    provider.verify(request, NOW)
    body = parse_body(out.body, out.headers["content-type"])
    return provider.event_type(request, body), provider.event_id(request, body)


@pytest.mark.parametrize("name", names())
def test_each_providers_sample_verifies_and_is_named(name: str) -> None:
    event_type, _ = received(name, outgoing(name))
    expected = FIXED_TYPES.get(name)
    if expected is not None:
        assert event_type == expected
    else:
        assert event_type, "the sample must carry an event type relay reads"


@pytest.mark.parametrize("name", NAMES_WITH_EVENT)
def test_event_sets_the_event_type(name: str) -> None:
    event_type, _ = received(name, outgoing(name, event="custom.kind"))
    assert event_type is not None
    assert "custom.kind" in event_type


@pytest.mark.parametrize("name", NAMES_WITH_ID)
def test_every_send_gets_a_fresh_id_and_id_forces_one(name: str) -> None:
    _, first = received(name, outgoing(name))
    _, second = received(name, outgoing(name, now=NOW + 0.5))
    assert first is not None
    assert second is not None
    assert first != second
    _, forced = received(name, outgoing(name, event_id="424242"))
    assert forced is not None
    assert "424242" in forced


def test_every_provider_with_an_id_is_listed() -> None:
    # Providers that send no id at all: relay cannot deduplicate them, so neither can a send.
    assert set(names()) - set(NAMES_WITH_ID) == {
        "asana", "calendly", "discord", "dropbox", "lemonsqueezy", "meta", "microsoft-graph",
        "sendgrid", "twitter", "whatsapp",
    }  # fmt: skip


def test_event_or_id_where_the_provider_has_none_is_an_error() -> None:
    with pytest.raises(ValueError, match="no event type"):
        outgoing("dropbox", event="x")
    with pytest.raises(ValueError, match="no delivery id"):
        outgoing("meta", event_id="x")


def test_own_payload_is_sent_byte_for_byte_with_fresh_header_ids() -> None:
    payload = b'{"action":"closed","issue":{"number":1}}'
    first, second = outgoing("github", payload=payload), outgoing("github", payload=payload)
    assert first.body == second.body == payload
    assert first.headers["x-github-delivery"] != second.headers["x-github-delivery"]
    assert received("github", first) == ("issues", first.headers["x-github-delivery"])


def test_own_payload_gets_a_fresh_body_id_on_every_send_unless_one_is_forced() -> None:
    payload = b'{"id": "evt_mine", "type": "invoice.paid"}'
    first = received("stripe", outgoing("stripe", payload=payload))
    second = received("stripe", outgoing("stripe", payload=payload))
    assert first[0] == second[0] == "invoice.paid"
    assert len({first[1], second[1], "evt_mine"}) == 3
    assert outgoing("stripe", payload=b'{"type": "x"}').body == b'{"type": "x"}'  # no id field
    forced = outgoing("stripe", payload=payload, event_id="evt_2", event="charge.failed")
    assert received("stripe", forced) == ("charge.failed", "evt_2")
    with pytest.raises(ValueError, match="not JSON"):
        outgoing("stripe", payload=b"not json", event="x")
    with pytest.raises(ValueError, match="lacks the field"):
        outgoing("pagerduty", payload=b"[]", event="x")


def test_twilio_sends_a_form_and_url_signed_schemes_sign_the_send_url() -> None:
    out = outgoing("twilio")
    assert out.headers["content-type"] == "application/x-www-form-urlencoded"
    assert out.url == URL.format(name="twilio")
    json_out = outgoing("twilio", payload=b'{"a": 1}', options={"body_hash": "true"})
    assert "?bodySHA256=" in json_out.url
    assert json_out.headers["content-type"] == "application/json"
    assert received("twilio", json_out)[0] is None


def test_extra_headers_come_last_and_content_type_can_be_set() -> None:
    out = outgoing("github", headers=[("X-GitHub-Event", "push"), (" X-Extra ", " 1 ")])
    assert out.headers["x-github-event"] == "push"
    assert out.headers["x-extra"] == "1"
    assert outgoing("github", content_type="text/plain").headers["content-type"] == "text/plain"


def test_linear_sample_carries_the_send_time() -> None:
    out = outgoing("linear", now=NOW + 7)
    assert str(int((NOW + 7) * 1000)) in out.body.decode()


def test_send_posts_the_prepared_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    out = outgoing("stripe")
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        response = send(out, client=client)
    assert response.status_code == 200
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == out.url
    assert request.content == out.body
    assert request.headers["stripe-signature"] == out.headers["stripe-signature"]


def test_unknown_provider() -> None:
    with pytest.raises(KeyError):
        prepare("nope", "s", "http://x", now=NOW)


DEEP: Final = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("name", names())
def test_a_payload_too_deep_to_parse_is_sent_as_is_or_refused_with_a_value_error(
    name: str,
) -> None:
    """``relay send --payload`` with a 100,000-deep document: no RecursionError escapes."""
    if name in ("mailgun", "microsoft-graph"):  # the scheme writes into the body to sign it
        with pytest.raises(ValueError, match="signer"):
            outgoing(name, payload=DEEP)
        return
    assert outgoing(name, payload=DEEP).body == DEEP
