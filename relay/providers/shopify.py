"""Shopify: ``X-Shopify-Hmac-Sha256: <base64>``, HMAC-SHA256 of the raw body.

The event is the ``X-Shopify-Topic`` header (``orders/create``), the id
``X-Shopify-Webhook-Id`` (else ``X-Shopify-Event-Id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from relay.providers._schemes import Scheme, header
from relay.providers.sample import Fresh, Header, Sample
from relay.providers.sender import SHARED_KEY, Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="shopify",
    header="x-shopify-hmac-sha256",
    encoding="base64",
    event_type=header("x-shopify-topic"),
    event_id=header("x-shopify-webhook-id", "x-shopify-event-id"),
)
SPEC: Final = SCHEME.spec(
    hint="Settings > Notifications > Webhooks > Create webhook (or the app's webhook "
    "subscriptions): paste the URL, JSON, pick the topic; the signing secret signs "
    "X-Shopify-Hmac-Sha256."
)


# ---------------------------------------------------------------- sending side (relay send)

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


_EVENTS: Final[Mapping[str, Sample]] = {
    "orders/create": _shopify("orders/create", _ORDER),
    "orders/paid": _shopify("orders/paid", _ORDER),
    "orders/cancelled": _shopify(
        "orders/cancelled",
        {**_ORDER, "cancelled_at": _AT, "cancel_reason": "customer", "financial_status": "voided"},
    ),
    "customers/create": _shopify("customers/create", _CUSTOMER),
}


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={"id": 820982911946154508, "email": "jon@example.com", "total_price": "4.00"},
        headers={
            "x-shopify-topic": "orders/create",
            "x-shopify-shop-domain": "example.myshopify.com",
            "x-shopify-api-version": "2024-04",
        },
        event=(Header("x-shopify-topic"),),
        event_id=Fresh(Header("x-shopify-webhook-id")),
    ),
    events=_EVENTS,
)
