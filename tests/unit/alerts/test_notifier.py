"""Alerts sent to real local servers: a Slack-style incoming webhook, a URL signed as
Standard Webhooks do (checked with svix, a Standard Webhooks implementation), and email
through an SMTP server (aiosmtpd); deduplicated, rate-limited, and never in the way of the
caller."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from svix.webhooks import Webhook, WebhookVerificationError

from relay.alerts.config import AlertKind, AlertsConfig
from relay.alerts.notifier import Notifier
from relay.config_schema import validate
from relay.delivery.aiohttp_sender import AiohttpSender
from tests.helpers import FakeClock
from tests.unit.alerts.receivers import http_receiver, smtp_receiver

SECRET = "whsec_" + base64.b64encode(b"alert-signing-key-0123456789").decode()


def alerts(*channels: dict[str, Any], **options: Any) -> AlertsConfig:
    return validate(AlertsConfig, {"channels": list(channels), **options})


@pytest.fixture
async def client() -> AsyncIterator[AiohttpSender]:
    async with AiohttpSender() as c:
        yield c


async def until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_webhook_channel_receives_a_standard_webhooks_signed_alert(
    client: AiohttpSender,
) -> None:
    with http_receiver() as receiver:
        config = alerts({"type": "webhook", "url": f"{receiver.url}/ops", "secret": SECRET})
        notifier = Notifier(lambda: config, client, FakeClock(time.time()))  # svix checks it
        notifier.start()
        notifier.notify(AlertKind.DEAD, "new-issues", status="dead", delivery_id="dlv_1")
        await notifier.stop()
    [request] = receiver.requests
    assert request.path == "/ops"
    Webhook(SECRET).verify(request.body, request.headers)  # raises unless signed right
    payload = json.loads(request.body)
    assert payload["type"] == "relay.alert.dead"
    assert payload["data"]["delivery_id"] == "dlv_1"
    assert payload["data"]["title"] == "delivery dead on route new-issues"
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(request.body.replace(b"dlv_1", b"dlv_2"), request.headers)


async def test_a_slack_channel_receives_the_alert_as_text(client: AiohttpSender) -> None:
    with http_receiver() as receiver:
        config = alerts({"type": "slack", "url": f"{receiver.url}/services/T0/B0/x"})
        notifier = Notifier(lambda: config, client, FakeClock())
        notifier.start()
        notifier.notify(AlertKind.BREAKER_OPEN, "notte", target="notte")
        await notifier.stop()
    [request] = receiver.requests
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "text": "relay: circuit breaker open for target notte\ntarget: notte"
    }


async def test_an_email_channel_sends_through_smtp(client: AiohttpSender) -> None:
    with smtp_receiver() as smtp:
        config = alerts(
            {
                "type": "email",
                "host": smtp.host,
                "port": smtp.port,
                "starttls": False,
                "sender": "relay@example.com",
                "to": ["oncall@example.com", "ops@example.com"],
            }
        )
        notifier = Notifier(lambda: config, client, FakeClock())
        notifier.start()
        notifier.notify(
            AlertKind.MAPPING_FAILED, "new-issues", source="github", error="number: missing"
        )
        await notifier.stop()
        [(sender, recipients, message)] = smtp.messages
    assert sender == "relay@example.com"
    assert recipients == ["oncall@example.com", "ops@example.com"]
    assert message["Subject"] == "[relay] mapping failed on route new-issues"
    body = message.get_payload()
    assert isinstance(body, str)
    assert "error: number: missing" in body


async def test_the_same_alert_is_sent_once_per_window_then_with_what_was_left_out(
    client: AiohttpSender,
) -> None:
    clock = FakeClock()
    with http_receiver() as receiver:
        config = alerts({"type": "slack", "url": receiver.url}, dedupe_window="10m")
        notifier = Notifier(lambda: config, client, clock)
        notifier.start()
        for _ in range(3):
            notifier.notify(AlertKind.DEAD, "new-issues", status="dead")
        notifier.notify(AlertKind.DEAD, "billing", status="dead")  # another route: sent
        notifier.notify(AlertKind.NEEDS_REVIEW, "new-issues")  # another kind: sent
        await until(lambda: len(receiver.requests) == 3)
        clock.advance(601)
        notifier.notify(AlertKind.DEAD, "new-issues", status="dead")
        await notifier.stop()
    texts = [json.loads(r.body)["text"] for r in receiver.requests]
    assert len(texts) == 4
    assert "and 2 more like it" in texts[3]
    assert all("more like it" not in t for t in texts[:3])


async def test_each_channel_sends_at_most_max_per_hour(client: AiohttpSender) -> None:
    clock = FakeClock()
    with http_receiver() as receiver:
        config = alerts({"type": "slack", "url": receiver.url}, max_per_hour=2)
        notifier = Notifier(lambda: config, client, clock)
        notifier.start()
        for n in range(4):
            notifier.notify(AlertKind.DEAD, f"route-{n}", status="dead")
        await until(lambda: notifier.dropped == 2)
        clock.advance(3600)
        notifier.notify(AlertKind.DEAD, "route-9", status="dead")
        await notifier.stop()
    assert len(receiver.requests) == 3
    assert (notifier.sent, notifier.dropped) == (3, 2)


async def test_kinds_not_listed_under_on_are_not_sent(client: AiohttpSender) -> None:
    with http_receiver() as receiver:
        config = alerts({"type": "slack", "url": receiver.url}, on=["dead"])
        notifier = Notifier(lambda: config, client, FakeClock())
        notifier.start()
        notifier.notify(AlertKind.MAPPING_FAILED, "r")
        notifier.notify(AlertKind.DEAD, "r", status="dead")
        await notifier.stop()
    assert [json.loads(r.body)["text"].splitlines()[0] for r in receiver.requests] == [
        "relay: delivery dead on route r"
    ]


async def test_a_hung_or_failing_channel_never_holds_the_caller(client: AiohttpSender) -> None:
    with http_receiver() as hung, http_receiver() as failing:
        hung.hang = threading.Event()
        failing.status = 500
        config = alerts({"type": "slack", "url": hung.url}, {"type": "slack", "url": failing.url})
        notifier = Notifier(lambda: config, client, FakeClock(), queue_size=2)
        notifier.start()
        for n in range(5):  # returns at once every time; beyond the queue, dropped
            notifier.notify(AlertKind.DEAD, f"route-{n}", status="dead")
        assert notifier.dropped >= 2
        await until(lambda: notifier.failed >= 1)  # the failing one answered 500
        hung.hang.set()
        await notifier.stop()
    assert notifier.failed >= 1
