"""Sample deliveries, providers ``mailgun`` to ``zoom`` (see ``_types.Sample``)."""

from __future__ import annotations

from typing import Any, Final

from relay.providers.samples._a_to_l import GENERIC
from relay.providers.samples._types import BodyPath, Fresh, Header, Sample, SignerOption

__all__ = ["SAMPLES"]


def _svix_style(kind: str, data: dict[str, Any]) -> Sample:
    return Sample(
        payload={"type": kind, "timestamp": "2024-05-01T12:00:00.000Z", "data": data},
        event=(BodyPath(("type",)),),
        event_id=Fresh(SignerOption("msg_id"), "hex", "msg_"),
    )


def _meta_style(kind: str, field: str, value: dict[str, Any]) -> Sample:
    return Sample(
        payload={
            "object": kind,
            "entry": [
                {
                    "id": "102290129340398",
                    "time": 1714564800,
                    "changes": [{"field": field, "value": value}],
                }
            ],
        },
        event=(BodyPath(("entry", 0, "changes", 0, "field")),),
    )


SAMPLES: Final = {
    "mailgun": Sample(
        payload={
            "event-data": {
                "event": "delivered",
                "id": "CPgfbmQMTCKtHW6uIWtuVe",
                "timestamp": 1714564800.0,
                "recipient": "alice@example.com",
                "message": {"headers": {"message-id": "20240501120000.1.ABC@mg.example.com"}},
            }
        },
        event=(BodyPath(("event-data", "event")),),
        event_id=Fresh(SignerOption("token"), "hex"),
    ),
    "meta": _meta_style("page", "feed", {"item": "status", "verb": "add", "post_id": "44_44"}),
    "microsoft-graph": Sample(
        payload={
            "value": [
                {
                    "subscriptionId": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
                    "subscriptionExpirationDateTime": "2024-05-03T12:00:00.0000000Z",
                    "changeType": "created",
                    "resource": "Users/{user-id}/messages/AAMkADExAAA=",
                    "resourceData": {"@odata.type": "#Microsoft.Graph.Message", "id": "AAMk"},
                    "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
                }
            ]
        },
        event=(BodyPath(("value", 0, "changeType")),),
    ),
    "none": GENERIC,
    "notion": Sample(
        payload={
            "id": "367cba44-b6f3-4c92-81e7-6a2e9659efd4",
            "timestamp": "2024-05-01T12:00:00.000Z",
            "workspace_id": "13950b26-c203-4f3b-b97d-93ec06319565",
            "subscription_id": "29d75c0d-5546-4414-8459-7b7a92f1fc4b",
            "type": "page.created",
            "entity": {"id": "153104cd-477e-809d-8dc4-ff2d96ae3090", "type": "page"},
            "data": {"parent": {"id": "13950b26-c203-4f3b-b97d-93ec06319565"}},
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(BodyPath(("id",))),
    ),
    "okta": Sample(
        payload={
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": "https://example.okta.com/api/v1/eventHooks/whoql0HfiLGPWc8Jx0g3",
            "eventId": "b5a188b9-5ece-4636-b041-482ffda96311",
            "eventTime": "2024-05-01T12:00:00.000Z",
            "contentType": "application/json",
            "data": {
                "events": [
                    {
                        "uuid": "b30ba8d7-13b4-11ea-9ef4-b3d4d0d14a40",
                        "eventType": "user.session.start",
                        "displayMessage": "User login to Okta",
                        "outcome": {"result": "SUCCESS"},
                    }
                ]
            },
        },
        event=(BodyPath(("data", "events", 0, "eventType")),),
        event_id=Fresh(BodyPath(("eventId",))),
    ),
    "paddle": Sample(
        payload={
            "event_id": "evt_01h8bzakzx3hm2fmen703n5q45",
            "event_type": "transaction.completed",
            "occurred_at": "2024-05-01T12:00:00.000000Z",
            "notification_id": "ntf_01h8bzam1z32agrxjwhjgqk8w6",
            "data": {"id": "txn_01h8bxpvx398a7zbawb77y0kp5", "status": "completed"},
        },
        event=(BodyPath(("event_type",)),),
        event_id=Fresh(BodyPath(("event_id",)), "hex", "evt_"),
    ),
    "pagerduty": Sample(
        payload={
            "event": {
                "id": "5ac64822-4adc-4fda-ade0-410becf0de4f",
                "event_type": "incident.triggered",
                "resource_type": "incident",
                "occurred_at": "2024-05-01T12:00:00.000Z",
                "data": {"id": "PGR0VU2", "type": "incident", "title": "Disk full on db-1"},
            }
        },
        event=(BodyPath(("event", "event_type")),),
        event_id=Fresh(BodyPath(("event", "id"))),
    ),
    "paypal": Sample(
        payload={
            "id": "WH-58D329510W468432D-8HN650336L201105X",
            "event_version": "1.0",
            "create_time": "2024-05-01T12:00:00.000Z",
            "resource_type": "capture",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "summary": "Payment completed for $ 7.47 USD",
            "resource": {"id": "42311647XV020574X", "status": "COMPLETED"},
        },
        event=(BodyPath(("event_type",)),),
        event_id=Fresh(BodyPath(("id",)), "hex", "WH-"),
    ),
    "resend": _svix_style(
        "email.sent",
        {"email_id": "56761188-7520-42d8-8898-ff6fc54ce618", "to": ["delivered@resend.dev"]},
    ),
    "sendgrid": Sample(
        payload=[
            {
                "email": "example@test.com",
                "timestamp": 1714564800,
                "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
                "event": "delivered",
                "sg_event_id": "sg_event_id",
                "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            }
        ],
    ),
    "sentry": Sample(
        payload={
            "action": "created",
            "installation": {"uuid": "7a485448-a9e2-4c85-8a3c-4f44175783c9"},
            "data": {"issue": {"id": "1170820242", "title": "ZeroDivisionError"}},
            "actor": {"type": "application", "id": "sentry", "name": "Sentry"},
        },
        headers={"sentry-hook-resource": "issue"},
        event=(Header("sentry-hook-resource"),),
        event_id=Fresh(Header("request-id")),
    ),
    "shopify": Sample(
        payload={"id": 820982911946154508, "email": "jon@example.com", "total_price": "4.00"},
        headers={
            "x-shopify-topic": "orders/create",
            "x-shopify-shop-domain": "example.myshopify.com",
            "x-shopify-api-version": "2024-04",
        },
        event=(Header("x-shopify-topic"),),
        event_id=Fresh(Header("x-shopify-webhook-id")),
    ),
    "slack": Sample(
        payload={
            "token": "XXYYZZ",
            "team_id": "T1DC2JH3J",
            "api_app_id": "A2H9RFS1A",
            "type": "event_callback",
            "event": {"type": "app_mention", "user": "U061F7AUR", "text": "<@U0LAN0Z89> hi"},
            "event_id": "Ev08MFMKH6",
            "event_time": 1714564800,
        },
        event=(BodyPath(("event", "type")),),
        event_id=Fresh(BodyPath(("event_id",)), "hex", "Ev"),
    ),
    "square": Sample(
        payload={
            "merchant_id": "6SSW7HV8K2ST5",
            "type": "payment.updated",
            "event_id": "ac3ac95b-f97d-458c-a6e6-18981597e05f",
            "created_at": "2024-05-01T12:00:00.000Z",
            "data": {"type": "payment", "id": "KkAkhdMsgzn59SM8A89WgKwekxLZY", "object": {}},
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(BodyPath(("event_id",))),
    ),
    "standard-webhooks": _svix_style("invoice.paid", {"id": "in_1042", "amount": 4200}),
    "stripe": Sample(
        payload={
            "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
            "object": "event",
            "api_version": "2023-10-16",
            "created": 1714564800,
            "type": "invoice.paid",
            "livemode": False,
            "data": {"object": {"id": "in_1NG8Du2eZvKYlo2C", "object": "invoice"}},
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(BodyPath(("id",)), "hex", "evt_"),
    ),
    "svix": _svix_style("invoice.paid", {"id": "obj_29w83sxmDNGwOuEthce5gg56FcC"}),
    "token": GENERIC,
    "twilio": Sample(
        payload={
            "ToCountry": "US",
            "SmsMessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
            "NumMedia": "0",
            "SmsSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
            "SmsStatus": "received",
            "Body": "Hello from relay send",
            "To": "+15005550006",
            "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
            "AccountSid": "AC00000000000000000000000000000000",
            "From": "+14155238886",
            "ApiVersion": "2010-04-01",
        },
        form=True,
        event=(BodyPath(("SmsStatus",)),),
        event_id=Fresh(Header("i-twilio-idempotency-token")),
    ),
    "twitch": Sample(
        payload={
            "subscription": {
                "id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
                "type": "channel.follow",
                "version": "2",
                "status": "enabled",
                "cost": 0,
                "condition": {"broadcaster_user_id": "1337", "moderator_user_id": "1337"},
                "transport": {"method": "webhook", "callback": "https://example.com/webhooks"},
                "created_at": "2024-05-01T12:00:00.000000Z",
            },
            "event": {"user_id": "1234", "user_login": "cool_user", "broadcaster_user_id": "1337"},
        },
        headers={
            "twitch-eventsub-message-type": "notification",
            "twitch-eventsub-subscription-type": "channel.follow",
            "twitch-eventsub-subscription-version": "2",
        },
        event=(BodyPath(("subscription", "type")), Header("twitch-eventsub-subscription-type")),
        event_id=Fresh(SignerOption("message_id")),
    ),
    "twitter": Sample(
        payload={
            "for_user_id": "2244994945",
            "tweet_create_events": [
                {"id_str": "1786000000000000000", "text": "hello", "user": {"id_str": "6253282"}}
            ],
        },
    ),
    "typeform": Sample(
        payload={
            "event_id": "LtWXD3crgy",
            "event_type": "form_response",
            "form_response": {"form_id": "lT4Z3j", "token": "a3a12ec67a1365927098a606107fac15"},
        },
        event=(BodyPath(("event_type",)),),
        event_id=Fresh(BodyPath(("event_id",)), "hex"),
    ),
    "vercel": Sample(
        payload={
            "id": "Ojp5N8uYw7bz5M0UBcAVpH3D",
            "type": "deployment.succeeded",
            "createdAt": 1714564800000,
            "payload": {"deployment": {"id": "dpl_2D8Cs3zo", "url": "app-abc.vercel.app"}},
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(BodyPath(("id",)), "hex"),
    ),
    "whatsapp": _meta_style(
        "whatsapp_business_account",
        "messages",
        {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352"},
            "messages": [{"from": "16315551181", "id": "wamid.ABGGFlA5Fpa", "type": "text"}],
        },
    ),
    "zoom": Sample(
        payload={
            "event": "meeting.started",
            "event_ts": 1714564800000,
            "payload": {
                "account_id": "D8cJuqWVQ623CI4Q8yQK0Q",
                "object": {"id": "85645238412", "topic": "Weekly sync", "host_id": "x1y2z3"},
            },
        },
        event=(BodyPath(("event",)),),
        event_id=Fresh(BodyPath(("event_ts",)), "millis"),
    ),
}
