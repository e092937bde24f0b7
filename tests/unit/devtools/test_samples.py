"""Samples per event type (``relay send PROVIDER --event TYPE``): each is the provider's own
shape of that event, verifies, and relay names it as that event; ``--payload`` sends get a
fresh provider id every time."""

from __future__ import annotations

import json
from typing import Final

import pytest

from relay.devtools.samples import EVENTS, SAMPLES, sample_for
from tests.unit.devtools.test_sending import outgoing, received

CASES: Final = [(provider, event) for provider, events in EVENTS.items() for event in events]


@pytest.mark.parametrize(("provider", "event"), CASES)
def test_each_event_sample_verifies_and_is_named_as_its_event(provider: str, event: str) -> None:
    out = outgoing(provider, event=event)
    event_type, event_id = received(provider, out)
    assert event_type == event
    if EVENTS[provider][event].event_id is not None:  # slash commands carry no id
        assert event_id


def test_the_common_events_have_samples() -> None:
    assert {
        "checkout.session.completed",
        "payment_intent.succeeded",
        "invoice.paid",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    } <= set(EVENTS["stripe"])
    assert {"issues", "pull_request", "push", "release"} <= set(EVENTS["github"])
    assert {"message", "app_mention"} <= set(EVENTS["slack"])
    assert "orders/create" in EVENTS["shopify"]
    assert "Issue.create" in EVENTS["linear"]


def test_stripe_events_carry_the_object_of_that_event() -> None:
    objects = {
        "checkout.session.completed": "checkout.session",
        "payment_intent.succeeded": "payment_intent",
        "invoice.paid": "invoice",
        "customer.subscription.updated": "subscription",
    }
    for event, kind in objects.items():
        body = json.loads(outgoing("stripe", event=event).body)
        assert body["type"] == event
        assert body["data"]["object"]["object"] == kind
    session = json.loads(outgoing("stripe", event="checkout.session.completed").body)
    assert session["data"]["object"]["customer_details"]["email"]
    assert session["data"]["object"]["payment_status"] == "paid"
    updated = json.loads(outgoing("stripe", event="customer.subscription.updated").body)
    assert "previous_attributes" in updated["data"]


def test_github_events_carry_their_payloads() -> None:
    push = json.loads(outgoing("github", event="push").body)
    assert push["ref"] == "refs/heads/main"
    assert push["commits"][0]["id"] == push["after"]
    pull = json.loads(outgoing("github", event="pull_request").body)
    assert pull["pull_request"]["head"]["ref"]
    release = json.loads(outgoing("github", event="release").body)
    assert release["release"]["tag_name"] == "v1.2.0"
    for event in ("issues", "push", "release"):
        body = json.loads(outgoing("github", event=event).body)
        assert body["repository"]["full_name"] == "octo/repo"


def test_slack_slash_commands_are_forms_with_the_command_asked_for() -> None:
    out = outgoing("slack", event="/deploy")
    assert out.headers["content-type"] == "application/x-www-form-urlencoded"
    assert b"command=%2Fdeploy" in out.body
    assert received("slack", out)[0] == "/deploy"


def test_an_event_without_a_sample_sets_the_type_in_the_default_sample() -> None:
    sample, written = sample_for("stripe", "charge.refunded")
    assert sample is SAMPLES["stripe"]
    assert written
    assert received("stripe", outgoing("stripe", event="charge.refunded"))[0] == "charge.refunded"


@pytest.mark.parametrize("provider", ["stripe", "slack"])
def test_the_same_payload_file_sent_twice_gets_two_provider_ids(provider: str) -> None:
    payload = outgoing(provider).body  # a body with the provider's id field in it
    first = received(provider, outgoing(provider, payload=payload))
    second = received(provider, outgoing(provider, payload=payload))
    assert first[1] != second[1]
