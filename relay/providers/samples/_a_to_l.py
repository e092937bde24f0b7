"""Sample deliveries, providers ``asana`` to ``linear`` (see ``_types.Sample``)."""

from __future__ import annotations

from typing import Final

from relay.providers.samples._types import BodyPath, Fresh, Header, Sample, SignerOption

__all__ = ["GENERIC", "SAMPLES"]

#: For the configurable providers (hmac, ed25519, token, basic, none): read them with
#: ``event_type_path: type`` and ``event_id_path: id``.
GENERIC: Final = Sample(
    payload={
        "id": "evt_5f0c2a9d41b3",
        "type": "order.created",
        "created_at": "2024-05-01T12:00:00Z",
        "data": {"order_id": "ord_1042", "amount": 4200, "currency": "usd"},
    },
    event=(BodyPath(("type",)),),
    event_id=Fresh(BodyPath(("id",)), "hex", "evt_"),
)

SAMPLES: Final = {
    "asana": Sample(
        payload={
            "events": [
                {
                    "user": {"gid": "1203456789", "resource_type": "user"},
                    "created_at": "2024-05-01T12:00:00.000Z",
                    "action": "changed",
                    "resource": {"gid": "1204567890", "resource_type": "task"},
                    "parent": None,
                    "change": {"field": "completed", "action": "changed"},
                }
            ]
        },
    ),
    "basic": GENERIC,
    "bitbucket": Sample(
        payload={
            "push": {"changes": [{"new": {"type": "branch", "name": "main"}, "created": False}]},
            "repository": {"full_name": "team/repo", "type": "repository"},
            "actor": {"display_name": "Ada Lovelace", "type": "user"},
        },
        headers={"x-event-key": "repo:push", "x-hook-uuid": "9f1d8c58-6b59-4cd8-b3f4-0e2c7d1c2a11"},
        event=(Header("x-event-key"),),
        event_id=Fresh(Header("x-request-uuid")),
    ),
    "calendly": Sample(
        payload={
            "created_at": "2024-05-01T12:00:00.000000Z",
            "created_by": "https://api.calendly.com/users/AAAAAAAAAAAAAAAA",
            "event": "invitee.created",
            "payload": {
                "email": "test@example.com",
                "name": "John Doe",
                "status": "active",
                "uri": "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/A1",
            },
        },
        event=(BodyPath(("event",)),),
    ),
    "clerk": Sample(
        payload={
            "data": {
                "id": "user_29w83sxmDNGwOuEthce5gg56FcC",
                "email_addresses": [{"email_address": "example@example.org"}],
                "first_name": "Example",
                "object": "user",
            },
            "object": "event",
            "type": "user.created",
            "timestamp": 1714564800000,
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(SignerOption("msg_id"), "hex", "msg_"),
    ),
    "coinbase-commerce": Sample(
        payload={
            "id": 1,
            "scheduled_for": "2024-05-01T12:00:00Z",
            "event": {
                "id": "24934862-d980-46cb-9402-43c81b0cdba6",
                "resource": "event",
                "type": "charge:created",
                "api_version": "2018-03-22",
                "created_at": "2024-05-01T12:00:00Z",
                "data": {"code": "66BEOV2A", "name": "The Sovereign Individual"},
            },
        },
        event=(BodyPath(("event", "type")),),
        event_id=Fresh(BodyPath(("event", "id"))),
    ),
    "discord": Sample(
        payload={
            "version": 1,
            "application_id": "1234560123453231555",
            "type": 1,
            "event": {
                "type": "APPLICATION_AUTHORIZED",
                "timestamp": "2024-05-01T12:00:00.000000+00:00",
                "data": {
                    "integration_type": 0,
                    "scopes": ["applications.commands"],
                    "user": {"id": "80351110224678912", "username": "nelly"},
                },
            },
        },
        event=(BodyPath(("event", "type")),),
    ),
    "dropbox": Sample(
        payload={
            "list_folder": {"accounts": ["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]},
            "delta": {"users": [12345678]},
        },
    ),
    "ed25519": GENERIC,
    "github": Sample(
        payload={
            "action": "opened",
            "issue": {"number": 7, "title": "Crash on start", "state": "open"},
            "repository": {"full_name": "octo/repo", "private": False},
            "sender": {"login": "octocat", "type": "User"},
        },
        headers={"x-github-event": "issues", "x-github-hook-id": "292430182"},
        event=(Header("x-github-event"),),
        event_id=Fresh(Header("x-github-delivery")),
    ),
    "gitlab": Sample(
        payload={
            "object_kind": "push",
            "event_name": "push",
            "ref": "refs/heads/main",
            "user_username": "jsmith",
            "project": {"path_with_namespace": "group/project"},
            "commits": [],
            "total_commits_count": 0,
        },
        headers={"x-gitlab-event": "Push Hook", "x-gitlab-instance": "https://gitlab.com"},
        event=(Header("x-gitlab-event"),),
        event_id=Fresh(Header("x-gitlab-event-uuid")),
    ),
    "hmac": GENERIC,
    "hubspot": Sample(
        payload=[
            {
                "eventId": 1,
                "subscriptionId": 2881778,
                "portalId": 62515,
                "appId": 1160452,
                "occurredAt": 1714564800000,
                "subscriptionType": "contact.creation",
                "attemptNumber": 0,
                "objectId": 123,
                "changeSource": "CRM",
                "changeFlag": "NEW",
            }
        ],
        event=(BodyPath((0, "subscriptionType")),),
        event_id=Fresh(BodyPath((0, "eventId")), "int"),
    ),
    "intercom": Sample(
        payload={
            "type": "notification_event",
            "app_id": "abc123de",
            "topic": "conversation.user.created",
            "id": "notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3",
            "created_at": 1714564800,
            "data": {"type": "notification_event_data", "item": {"type": "conversation"}},
        },
        event=(BodyPath(("topic",)),),
        event_id=Fresh(BodyPath(("id",)), "uuid", "notif_"),
    ),
    "jira": Sample(
        payload={
            "timestamp": 1714564800000,
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Ada"},
            "issue": {"id": "10002", "key": "PROJ-7", "fields": {"summary": "Crash on start"}},
        },
        event=(BodyPath(("webhookEvent",)),),
        event_id=Fresh(Header("x-atlassian-webhook-identifier")),
    ),
    "lemonsqueezy": Sample(
        payload={
            "meta": {"event_name": "order_created", "test_mode": True},
            "data": {
                "type": "orders",
                "id": "1",
                "attributes": {"store_id": 1, "status": "paid", "total": 999},
            },
        },
        headers={"x-event-name": "order_created"},
        event=(BodyPath(("meta", "event_name")), Header("x-event-name")),
    ),
    "linear": Sample(
        payload={
            "action": "create",
            "type": "Issue",
            "createdAt": "2024-05-01T12:00:00.000Z",
            "organizationId": "c9b1b0b6-0b0b-4c4b-8b8b-0b0b0b0b0b0b",
            "url": "https://linear.app/team/issue/ENG-7",
            "data": {"id": "2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9", "title": "Crash on start"},
            "webhookTimestamp": 0,
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(Header("linear-delivery")),
        millis=("webhookTimestamp",),
    ),
}
