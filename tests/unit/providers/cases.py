"""One realistic delivery per provider of the scheme family, and helpers to sign and send it.

``CASES[name]`` describes where a provider's signature and timestamp live and what its sample
event is called; ``make(case, t)`` signs the sample at unix time ``t`` with the independent
reference signers of ``signers.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pytest

from relay.providers import get_spec
from relay.providers.base import Provider, VerificationError, WebhookRequest
from tests.unit.providers.signers import MSG_ID, REFERENCE

NOW: Final = 1_700_000_000.0
SECRET: Final = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # valid for every scheme
OTHER_SECRET: Final = "whsec_b3RoZXIgc2VjcmV0IGtleSBieXRlcw=="

Timed = Literal["header", "pairs", "body"]


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    header: str  # the signature header
    marker: str  # text just before the encoded signature in that header
    sample: Mapping[str, Any]
    event_type: str | None
    event_id: str | None
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    timed: Timed | None = None
    tolerance: float = 0.0
    timestamp_header: str | None = None


def _case(name: str, header: str, marker: str, sample: Mapping[str, Any], **kw: Any) -> Case:
    return Case(name=name, header=header, marker=marker, sample=sample, **kw)


_SVIX: Final = {"timed": "header", "tolerance": 300.0, "timestamp_header": "svix-timestamp"}

CASES: Final[Mapping[str, Case]] = {
    case.name: case
    for case in (
        _case(
            "bitbucket",
            "x-hub-signature",
            "sha256=",
            {"push": {"changes": []}, "repository": {"full_name": "team/repo"}},
            event_type="repo:push",
            event_id="d5f3c7c2-1f0a-4b6e-9a4c-0c3b2b1a9e11",
            extra_headers={
                "x-event-key": "repo:push",
                "x-request-uuid": "d5f3c7c2-1f0a-4b6e-9a4c-0c3b2b1a9e11",
                "x-hook-uuid": "{9f1d8c58-6b59-4cd8-b3f4-0e2c7d1c2a11}",
            },
        ),
        _case(
            "jira",
            "x-hub-signature",
            "sha256=",
            {"timestamp": 1700000000000, "webhookEvent": "jira:issue_updated", "issue": {}},
            event_type="jira:issue_updated",
            event_id="4cd2a5c4-a9f2-4a8a-bd0e-5d1fbc3e7a3d",
            extra_headers={
                "x-atlassian-webhook-identifier": "4cd2a5c4-a9f2-4a8a-bd0e-5d1fbc3e7a3d"
            },
        ),
        _case(
            "intercom",
            "x-hub-signature",
            "sha1=",
            {
                "type": "notification_event",
                "topic": "conversation.user.created",
                "id": "notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3",
                "data": {"item": {"type": "conversation"}},
            },
            event_type="conversation.user.created",
            event_id="notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3",
        ),
        _case(
            "vercel",
            "x-vercel-signature",
            "",
            {"id": "Ojp5N8uYw7bz5M0UBcAVpH3D", "type": "deployment.succeeded", "payload": {}},
            event_type="deployment.succeeded",
            event_id="Ojp5N8uYw7bz5M0UBcAVpH3D",
        ),
        _case(
            "sentry",
            "sentry-hook-signature",
            "",
            {"action": "created", "installation": {"uuid": "7a485448"}, "data": {"issue": {}}},
            event_type="issue.created",
            event_id="e0b9d0c2-5c41-4b6e-9f5e-3b8f0f3d2a11",
            extra_headers={
                "sentry-hook-resource": "issue",
                "request-id": "e0b9d0c2-5c41-4b6e-9f5e-3b8f0f3d2a11",
            },
        ),
        _case(
            "lemonsqueezy",
            "x-signature",
            "",
            {"meta": {"event_name": "order_created"}, "data": {"type": "orders", "id": "1"}},
            event_type="order_created",
            event_id=None,
        ),
        _case(
            "coinbase-commerce",
            "x-cc-webhook-signature",
            "",
            {
                "id": 1,
                "scheduled_for": "2017-01-31T20:50:02Z",
                "event": {"id": "24934862-d980-46cb-9402-43c81b0cdba6", "type": "charge:created"},
            },
            event_type="charge:created",
            event_id="24934862-d980-46cb-9402-43c81b0cdba6",
        ),
        _case(
            "pagerduty",
            "x-pagerduty-signature",
            "v1=",
            {
                "event": {
                    "id": "5ac64822-4adc-4fda-ade0-410becf0de4f",
                    "event_type": "incident.triggered",
                    "resource_type": "incident",
                }
            },
            event_type="incident.triggered",
            event_id="5ac64822-4adc-4fda-ade0-410becf0de4f",
        ),
        _case(
            "dropbox",
            "x-dropbox-signature",
            "",
            {"list_folder": {"accounts": ["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]}},
            event_type="list_folder",
            event_id=None,
        ),
        _case(
            "notion",
            "x-notion-signature",
            "sha256=",
            {"id": "367cba44-b6f3-4c92-81e7-6a2e9659efd4", "type": "page.created", "entity": {}},
            event_type="page.created",
            event_id="367cba44-b6f3-4c92-81e7-6a2e9659efd4",
        ),
        _case(
            "shopify",
            "x-shopify-hmac-sha256",
            "",
            {"id": 820982911946154508, "email": "jon@example.com"},
            event_type="orders/create",
            event_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            extra_headers={
                "x-shopify-topic": "orders/create",
                "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
                "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
            },
        ),
        _case(
            "typeform",
            "typeform-signature",
            "sha256=",
            {"event_id": "LtWXD3crgy", "event_type": "form_response", "form_response": {}},
            event_type="form_response",
            event_id="LtWXD3crgy",
        ),
        _case(
            "linear",
            "linear-signature",
            "",
            {"action": "create", "type": "Issue", "data": {"id": "2174add1"}},
            event_type="Issue.create",
            event_id="234d1a4e-b617-4388-90fe-adc3633d6b72",
            extra_headers={"linear-delivery": "234d1a4e-b617-4388-90fe-adc3633d6b72"},
            timed="body",
            tolerance=60.0,
        ),
        _case(
            "stripe",
            "stripe-signature",
            "v1=",
            {"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy", "object": "event", "type": "invoice.paid"},
            event_type="invoice.paid",
            event_id="evt_1NG8Du2eZvKYlo2CUI79vXWy",
            timed="pairs",
            tolerance=300.0,
        ),
        _case(
            "calendly",
            "calendly-webhook-signature",
            "v1=",
            {"event": "invitee.created", "created_at": "2020-11-23T17:51:19Z", "payload": {}},
            event_type="invitee.created",
            event_id=None,
            timed="pairs",
            tolerance=180.0,
        ),
        _case(
            "paddle",
            "paddle-signature",
            "h1=",
            {
                "event_id": "evt_01h8bzakzx3hm2fmen703n5q45",
                "event_type": "transaction.completed",
                "data": {},
            },
            event_type="transaction.completed",
            event_id="evt_01h8bzakzx3hm2fmen703n5q45",
            timed="pairs",
            tolerance=5.0,
        ),
        _case(
            "slack",
            "x-slack-signature",
            "v0=",
            {
                "type": "event_callback",
                "team_id": "T1DC2JH3J",
                "event": {"type": "app_mention", "text": "<@U0LAN0Z89> hi"},
                "event_id": "Ev08MFMKH6",
            },
            event_type="app_mention",
            event_id="Ev08MFMKH6",
            timed="header",
            tolerance=300.0,
            timestamp_header="x-slack-request-timestamp",
        ),
        _case(
            "zoom",
            "x-zm-signature",
            "v0=",
            {"event": "meeting.started", "event_ts": 1626230691572, "payload": {}},
            event_type="meeting.started",
            event_id="meeting.started:1626230691572",
            timed="header",
            tolerance=300.0,
            timestamp_header="x-zm-request-timestamp",
        ),
        *(
            _case(
                name,
                "svix-signature",
                "v1,",
                {"type": kind, "data": {"id": "obj_29w83sxmDNGwOuEthce5gg56FcC"}},
                event_type=kind,
                event_id=MSG_ID,
                **_SVIX,
            )
            for name, kind in (
                ("svix", "invoice.paid"),
                ("clerk", "user.created"),
                ("resend", "email.sent"),
            )
        ),
    )
}

NAMES: Final = sorted(CASES)
TIMED: Final = sorted(name for name, case in CASES.items() if case.timed is not None)
UNTIMED: Final = sorted(name for name, case in CASES.items() if case.timed is None)
SVIX_FAMILY: Final = ("svix", "clerk", "resend")


def body_at(case: Case, t: float) -> bytes:
    """The sample's bytes; Linear's carries ``webhookTimestamp`` (ms) for time ``t``."""
    sample = dict(case.sample)
    if case.timed == "body":
        sample["webhookTimestamp"] = int(t * 1000)
    return json.dumps(sample).encode()


def make(case: Case, t: float = NOW, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = body_at(case, t)
    return body, {**case.extra_headers, **REFERENCE[case.name](secret, body, t)}


def request(
    body: bytes,
    headers: Mapping[str, str],
    *,
    method: str = "POST",
    query: Mapping[str, str] | None = None,
) -> WebhookRequest:
    return WebhookRequest(
        method=method, path="/hooks/src", headers=headers, query=query or {}, body=body
    )


def build(name: str, *secrets: str, **options: Any) -> Provider:
    return get_spec(name).build(list(secrets or (SECRET,)), options)


def reason_of(provider: Provider, req: WebhookRequest, now: float = NOW) -> str:
    with pytest.raises(VerificationError) as info:
        provider.verify(req, now)
    return info.value.reason
