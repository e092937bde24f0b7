"""Bodies as providers document sending them: GitHub's and Slack's ``payload=`` forms are
routed as their JSON (the signature still covers the form as sent), ``curl -d '{...}'`` (a
JSON body declared as a form) is JSON, other forms stay forms, and a source can force JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from relay.body_format import UnprocessableBody, parse_body
from relay.devtools.signing import sign
from relay.providers.registry import PROVIDERS
from relay.store.base import DeliveryStatus, EventStatus
from relay.store.log_queries import DeliveryQuery
from tests.harness import running_relay
from tests.helpers import github_headers, issue_opened, write_config

FORM = "application/x-www-form-urlencoded"

SOURCES = """\
  slack:
    provider: slack
    secrets: ["slack-secret"]
  github-json:
    provider: github
    secrets: ["gh-json-secret"]
    body_format: json
"""

ROUTES = """
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {event_type: issues, body: {action: opened}}
    variables:
      repo: body.repository.full_name
      number: body.issue.number
    retry: {max_attempts: 1}
  - name: forced-json
    source: github-json
    function_id: triage_issue
    match: {body: {action: opened}}
    retry: {max_attempts: 1}
  - name: buttons
    source: slack
    function_id: on_button
    match: {event_type: block_actions, body: {type: block_actions}}
    variables:
      action: body.actions[0].action_id
    retry: {max_attempts: 1}
  - name: deploys
    source: slack
    function_id: on_deploy
    match: {body: {command: /deploy}}
    variables:
      text: body.text
    retry: {max_attempts: 1}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "relay.yaml", routes=ROUTES, extra_sources=SOURCES)


def _slack(body: bytes) -> dict[str, str]:
    return {**sign("slack", "slack-secret", body, time.time()), "content-type": FORM}


async def test_github_form_payload_is_routed_as_its_json(config: Path) -> None:
    body = urlencode({"payload": issue_opened(12).decode()}).encode()
    headers = {**github_headers(body), "Content-Type": FORM}
    async with running_relay(config) as relay:
        response = await relay.post(body, headers)
        assert response.status_code == 200, response.text
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.status is EventStatus.ROUTED
        assert event.body == body  # stored as sent: the signature covers these bytes
        (delivery,) = await relay.store.query_deliveries(DeliveryQuery())
        assert delivery.route == "new-issues"
        assert delivery.variables == {"repo": "octo/repo", "number": 12}
        forged = await relay.post(body + b"x", headers)
        assert forged.status_code == 401


async def test_a_json_body_sent_with_curls_default_form_content_type_is_json(
    config: Path,
) -> None:
    # The README's try-it: `curl -d "$body"` declares application/x-www-form-urlencoded.
    body = (
        b'{"action":"opened","issue":{"number":1,"title":"Bug"},'
        b'"repository":{"full_name":"octo/repo"}}'
    )
    headers = {**github_headers(body), "Content-Type": FORM}
    async with running_relay(config) as relay:
        response = await relay.post(body, headers)
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.status is EventStatus.ROUTED
        (delivery,) = await relay.store.query_deliveries(DeliveryQuery())
        assert delivery.variables == {"repo": "octo/repo", "number": 1}


async def test_slack_interactivity_payload_is_routed_as_its_json(config: Path) -> None:
    interaction = {
        "type": "block_actions",
        "user": {"id": "U061F7AUR"},
        "actions": [{"action_id": "approve", "type": "button", "value": "42"}],
    }
    body = urlencode({"payload": json.dumps(interaction)}).encode()
    async with running_relay(config) as relay:
        response = await relay.post(body, _slack(body), "slack")
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.event_type == "block_actions"
        assert event.status is EventStatus.ROUTED
        (delivery,) = await relay.store.query_deliveries(DeliveryQuery())
        assert (delivery.route, delivery.variables) == ("buttons", {"action": "approve"})


async def test_slack_slash_command_stays_a_form(config: Path) -> None:
    body = b"command=%2Fdeploy&text=prod&team_id=T1"
    async with running_relay(config) as relay:
        response = await relay.post(body, _slack(body), "slack")
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.status is EventStatus.ROUTED
        (delivery,) = await relay.store.query_deliveries(DeliveryQuery())
        assert (delivery.route, delivery.variables) == ("deploys", {"text": "prod"})


async def test_body_format_json_reads_every_body_as_json(config: Path) -> None:
    routed = issue_opened(3)
    not_json = b"action=opened"
    async with running_relay(config) as relay:
        first = await relay.post(
            routed,
            {**github_headers(routed, secret="gh-json-secret"), "Content-Type": FORM},
            "github-json",
        )
        second = await relay.post(
            not_json,
            {
                **github_headers(not_json, secret="gh-json-secret", delivery="d-2"),
                "Content-Type": FORM,
            },
            "github-json",
        )
        one = await relay.store.get_event(first.json()["id"])
        two = await relay.store.get_event(second.json()["id"])
        assert one is not None
        assert two is not None
        assert one.status is EventStatus.ROUTED
        assert two.status is EventStatus.UNPROCESSABLE
        assert two.error is not None
        assert "invalid JSON" in two.error


def test_twilio_and_mailgun_forms_stay_forms_github_and_slack_decode_payload() -> None:
    assert PROVIDERS["github"].form_json_field == "payload"
    assert PROVIDERS["slack"].form_json_field == "payload"
    for name in ("twilio", "mailgun", "shopify", "stripe"):
        assert PROVIDERS[name].form_json_field is None, name
    twilio = b"From=%2B14155238886&Body=payload%3D%7B%7D&payload=%7B%22a%22%3A1%7D"
    assert parse_body(twilio, FORM) == {
        "From": "+14155238886",
        "Body": "payload={}",
        "payload": '{"a":1}',
    }


def test_a_payload_field_that_is_not_json_is_unprocessable() -> None:
    with pytest.raises(UnprocessableBody, match="form field 'payload'"):
        parse_body(b"payload=%7Bnot", FORM, json_field="payload")


def test_a_form_that_only_starts_like_json_stays_a_form() -> None:
    assert parse_body(b"{a=1&b=2", FORM) == {"{a": "1", "b": "2"}


async def test_unrouted_event_says_which_routes_were_closest_and_what_differed(
    config: Path,
) -> None:
    body = json.dumps({"action": "closed", "issue": {"number": 1}}).encode()
    async with running_relay(config) as relay:
        response = await relay.post(body, github_headers(body))
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.status is EventStatus.UNROUTED
        assert await relay.store.query_deliveries(DeliveryQuery()) == []
    assert event.error is not None
    summary, closest, *_ = event.error.splitlines()
    assert summary == "no route matched; closest: 'new-issues'"
    assert closest.startswith("route 'new-issues' (1 of 2 conditions hold): body.action is")
    assert "'closed'" in closest
    assert "'opened'" in closest


async def test_unrouted_form_body_is_explained_as_a_form(config: Path) -> None:
    body = b"state=opened"
    headers = {**github_headers(body), "Content-Type": FORM}
    async with running_relay(config) as relay:
        response = await relay.post(body, headers)
        event = await relay.store.get_event(response.json()["id"])
    assert event is not None
    assert event.status is EventStatus.UNROUTED
    assert event.error is not None
    assert "the body was read as a form" in event.error
    assert "body_format: json" in event.error


async def test_routed_and_mapping_failed_events_carry_no_unrouted_reason(config: Path) -> None:
    body = issue_opened()
    async with running_relay(config) as relay:
        response = await relay.post(body, github_headers(body))
        event = await relay.store.get_event(response.json()["id"])
        assert event is not None
        assert event.error is None
        assert (await relay.store.query_deliveries(DeliveryQuery()))[0].status is not (
            DeliveryStatus.MAPPING_FAILED
        )


async def test_unrouted_reason_never_quotes_a_secret_looking_field(tmp_path: Path) -> None:
    routes = """
  - name: tokened
    source: github
    function_id: f
    match: {body: {token: expected-value}}
"""
    config = write_config(tmp_path / "relay.yaml", routes=routes)
    body = json.dumps({"token": "tok-s3cret-value"}).encode()
    async with running_relay(config) as relay:
        response = await relay.post(body, github_headers(body))
        event = await relay.store.get_event(response.json()["id"])
    assert event is not None
    assert event.error is not None
    assert "body.token is not as the route expects" in event.error
    assert "tok-s3cret-value" not in event.error
