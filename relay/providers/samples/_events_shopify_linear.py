"""Shopify samples per topic (``X-Shopify-Topic``) and Linear samples per ``type.action``,
shaped as their webhook payloads. ``relay send shopify|linear --event TYPE``."""

from __future__ import annotations

from typing import Any, Final

from relay.providers.samples._types import BodyPath, Fresh, Header, Sample

__all__ = ["LINEAR", "SHOPIFY"]

_AT = "2024-05-01T08:00:00-04:00"
_ADDRESS: Final = {
    "first_name": "Jon",
    "last_name": "Snow",
    "address1": "123 Shipping Street",
    "address2": None,
    "city": "Shippington",
    "province": "Kentucky",
    "province_code": "KY",
    "zip": "40003",
    "country": "United States",
    "country_code": "US",
    "phone": "555-555-SHIP",
    "company": "Shipping Company",
}
_CUSTOMER: Final = {
    "id": 115310627314723954,
    "email": "jon@example.com",
    "first_name": "Jon",
    "last_name": "Snow",
    "state": "enabled",
    "verified_email": True,
    "currency": "USD",
    "created_at": _AT,
    "updated_at": _AT,
    "tags": "",
    "admin_graphql_api_id": "gid://shopify/Customer/115310627314723954",
}
_ORDER: Final = {
    "id": 820982911946154508,
    "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
    "name": "#9999",
    "order_number": 1234,
    "email": "jon@example.com",
    "created_at": _AT,
    "updated_at": _AT,
    "processed_at": _AT,
    "cancelled_at": None,
    "cancel_reason": None,
    "closed_at": None,
    "confirmed": True,
    "currency": "USD",
    "presentment_currency": "USD",
    "financial_status": "paid",
    "fulfillment_status": None,
    "subtotal_price": "398.00",
    "total_discounts": "0.00",
    "total_line_items_price": "398.00",
    "total_price": "408.00",
    "total_tax": "0.00",
    "taxes_included": False,
    "test": False,
    "tags": "",
    "note": None,
    "customer": _CUSTOMER,
    "billing_address": _ADDRESS,
    "shipping_address": _ADDRESS,
    "line_items": [
        {
            "id": 866550311766439020,
            "admin_graphql_api_id": "gid://shopify/LineItem/866550311766439020",
            "product_id": 632910392,
            "variant_id": 808950810,
            "title": "IPod Nano - 8GB",
            "variant_title": "Pink",
            "sku": "IPOD2008PINK",
            "vendor": None,
            "quantity": 2,
            "price": "199.00",
            "requires_shipping": True,
            "taxable": True,
            "gift_card": False,
            "fulfillment_status": None,
        }
    ],
    "shipping_lines": [{"id": 271878346596884015, "title": "Generic Shipping", "price": "10.00"}],
}


def _shopify(topic: str, payload: dict[str, Any]) -> Sample:
    return Sample(
        payload=payload,
        headers={
            "x-shopify-topic": topic,
            "x-shopify-shop-domain": "example.myshopify.com",
            "x-shopify-api-version": "2024-04",
            "x-shopify-triggered-at": "2024-05-01T12:00:00.000000Z",
        },
        event=(Header("x-shopify-topic"),),
        event_id=Fresh(Header("x-shopify-webhook-id")),
    )


SHOPIFY: Final = {
    "orders/create": _shopify("orders/create", _ORDER),
    "orders/paid": _shopify("orders/paid", _ORDER),
    "orders/cancelled": _shopify(
        "orders/cancelled",
        {**_ORDER, "cancelled_at": _AT, "cancel_reason": "customer", "financial_status": "voided"},
    ),
    "customers/create": _shopify("customers/create", _CUSTOMER),
}

_TEAM: Final = {"id": "72b2a2dc-6f4f-4423-9d34-24b5bd10634a", "key": "ENG", "name": "Engineering"}
_ACTOR: Final = {
    "id": "0a5e9b1e-0fbb-4c1b-9a1f-2a3c7b5e8d11",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "type": "user",
}
_LINEAR_AT = "2024-05-01T12:00:00.000Z"
_LINEAR_ISSUE: Final = {
    "id": "2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9",
    "identifier": "ENG-7",
    "number": 7,
    "title": "Crash on start",
    "description": "The app crashes right after start on macOS 14.",
    "priority": 2,
    "priorityLabel": "High",
    "estimate": None,
    "url": "https://linear.app/example/issue/ENG-7/crash-on-start",
    "createdAt": _LINEAR_AT,
    "updatedAt": _LINEAR_AT,
    "teamId": _TEAM["id"],
    "team": _TEAM,
    "stateId": "5d2a0b3c-8e1f-4a6b-9c7d-1e2f3a4b5c6d",
    "state": {"id": "5d2a0b3c-8e1f-4a6b-9c7d-1e2f3a4b5c6d", "name": "Todo", "type": "unstarted"},
    "creatorId": _ACTOR["id"],
    "assigneeId": None,
    "labelIds": [],
    "labels": [],
    "subscriberIds": [_ACTOR["id"]],
}


def _linear(kind: str, action: str, data: dict[str, Any], **extra: Any) -> Sample:
    return Sample(
        payload={
            "action": action,
            "actor": _ACTOR,
            "createdAt": _LINEAR_AT,
            "data": data,
            "url": data.get("url", _LINEAR_ISSUE["url"]),
            "type": kind,
            "organizationId": "c9b1b0b6-0b0b-4c4b-8b8b-0b0b0b0b0b0b",
            "webhookTimestamp": 0,
            "webhookId": "e1c2b3a4-5d6e-4f70-8a9b-0c1d2e3f4a5b",
            **extra,
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(Header("linear-delivery")),
        millis=("webhookTimestamp",),
    )


LINEAR: Final = {
    "Issue.create": _linear("Issue", "create", _LINEAR_ISSUE),
    "Issue.update": _linear(
        "Issue",
        "update",
        {
            **_LINEAR_ISSUE,
            "stateId": "8c1f2e3d-4b5a-6978-8a9b-c0d1e2f3a4b5",
            "state": {
                "id": "8c1f2e3d-4b5a-6978-8a9b-c0d1e2f3a4b5",
                "name": "Done",
                "type": "completed",
            },
        },
        updatedFrom={"stateId": _LINEAR_ISSUE["stateId"], "updatedAt": _LINEAR_AT},
    ),
    "Comment.create": _linear(
        "Comment",
        "create",
        {
            "id": "a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "body": "Reproduced on 1.2.0 too.",
            "issueId": _LINEAR_ISSUE["id"],
            "issue": {"id": _LINEAR_ISSUE["id"], "title": _LINEAR_ISSUE["title"]},
            "userId": _ACTOR["id"],
            "user": {"id": _ACTOR["id"], "name": _ACTOR["name"]},
            "createdAt": _LINEAR_AT,
            "updatedAt": _LINEAR_AT,
            "url": "https://linear.app/example/issue/ENG-7#comment-a3f1c2d4",
        },
    ),
}
