"""Stripe: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>]`` over ``"{t}.{raw body}"``.

HMAC-SHA256, hex. The key is the ``whsec_...`` signing secret used as UTF-8 text as it is
(Stripe does not base64-decode it). Several ``v1`` entries are sent while a secret is rolled;
other schemes (``v0``) are ignored. Timestamps more than ``tolerance`` seconds (default 300)
before or after now are refused. The event type and id are the body's ``type`` and ``id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from relay.providers._schemes import Scheme, body
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="stripe",
    header="stripe-signature",
    pairs=",",
    timestamp_key="t",
    signature_key="v1",
    signed_prefix="{ts}.",
    tolerance=300.0,
    event_type=body("type"),
    event_id=body("id"),
)
SPEC: Final = SCHEME.spec(
    hint="Dashboard > Developers > Webhooks > Add endpoint: paste the URL, select "
    "the events your routes use; reveal the Signing secret whsec_... (Stripe-Signature)."
)


# ---------------------------------------------------------------- sending side (relay send)

_CREATED = 1714564800
_CUSTOMER = "cus_Q1aZ8kX2pL9mNb"
_PRICE: Final = {
    "id": "price_1P9xYz2eZvKYlo2C8aBcDeFg",
    "object": "price",
    "active": True,
    "currency": "usd",
    "nickname": None,
    "product": "prod_Q1aZpro",
    "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
    "type": "recurring",
    "unit_amount": 2000,
}


def _event(kind: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> Sample:
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return Sample(
        payload={
            "id": "evt_1P9xYz2eZvKYlo2CUI79vXWy",
            "object": "event",
            "api_version": "2024-04-10",
            "created": _CREATED,
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": "req_8bZ0m6YqzLk2Qa", "idempotency_key": None},
            "type": kind,
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(BodyPath(("id",)), "hex", "evt_"),
    )


def _subscription(status: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": "sub_1P9xYz2eZvKYlo2Cq1w2e3r4",
        "object": "subscription",
        "billing_cycle_anchor": _CREATED,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": _CREATED,
        "currency": "usd",
        "current_period_end": _CREATED + 30 * 86400,
        "current_period_start": _CREATED,
        "customer": _CUSTOMER,
        "default_payment_method": "pm_1P9xYz2eZvKYlo2CvisaCard",
        "ended_at": None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_Q1aZitem",
                    "object": "subscription_item",
                    "price": _PRICE,
                    "quantity": 1,
                    "subscription": "sub_1P9xYz2eZvKYlo2Cq1w2e3r4",
                }
            ],
            "has_more": False,
            "url": "/v1/subscription_items?subscription=sub_1P9xYz2eZvKYlo2Cq1w2e3r4",
        },
        "latest_invoice": "in_1P9xYz2eZvKYlo2C0inv0001",
        "livemode": False,
        "metadata": {"plan": "pro"},
        "start_date": _CREATED,
        "status": status,
        "trial_end": None,
        "trial_start": None,
        **changes,
    }


def _invoice(paid: bool) -> dict[str, Any]:
    return {
        "id": "in_1P9xYz2eZvKYlo2C0inv0001",
        "object": "invoice",
        "account_country": "US",
        "amount_due": 2000,
        "amount_paid": 2000 if paid else 0,
        "amount_remaining": 0 if paid else 2000,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": _CREATED,
        "currency": "usd",
        "customer": _CUSTOMER,
        "customer_email": "jenny.rosen@example.com",
        "customer_name": "Jenny Rosen",
        "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1032D82eZvKYlo2C/test_YWNjdF8x",
        "invoice_pdf": "https://pay.stripe.com/invoice/acct_1032D82eZvKYlo2C/test_YWNjdF8x/pdf",
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": "il_1P9xYz2eZvKYlo2Cline0001",
                    "object": "line_item",
                    "amount": 2000,
                    "currency": "usd",
                    "description": "1 \u00d7 Pro (at $20.00 / month)",
                    "period": {"start": _CREATED, "end": _CREATED + 30 * 86400},
                    "price": _PRICE,
                    "quantity": 1,
                    "subscription": "sub_1P9xYz2eZvKYlo2Cq1w2e3r4",
                    "type": "subscription",
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": "/v1/invoices/in_1P9xYz2eZvKYlo2C0inv0001/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None if paid else _CREATED + 3 * 86400,
        "number": "8F2A1C3D-0001",
        "paid": paid,
        "payment_intent": "pi_3P9xYz2eZvKYlo2C1gXbE0yq",
        "period_end": _CREATED,
        "period_start": _CREATED - 30 * 86400,
        "status": "paid" if paid else "open",
        "subscription": "sub_1P9xYz2eZvKYlo2Cq1w2e3r4",
        "subtotal": 2000,
        "tax": None,
        "total": 2000,
    }


_CHECKOUT: Final = {
    "id": "cs_test_a1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ",
    "object": "checkout.session",
    "amount_subtotal": 2000,
    "amount_total": 2000,
    "client_reference_id": "order_1042",
    "created": _CREATED,
    "currency": "usd",
    "customer": _CUSTOMER,
    "customer_details": {
        "address": {
            "city": "South San Francisco",
            "country": "US",
            "line1": "354 Oyster Point Blvd",
            "line2": None,
            "postal_code": "94080",
            "state": "CA",
        },
        "email": "jenny.rosen@example.com",
        "name": "Jenny Rosen",
        "phone": None,
    },
    "expires_at": _CREATED + 86400,
    "invoice": None,
    "livemode": False,
    "metadata": {"order_id": "1042"},
    "mode": "payment",
    "payment_intent": "pi_3P9xYz2eZvKYlo2C1gXbE0yq",
    "payment_method_types": ["card"],
    "payment_status": "paid",
    "status": "complete",
    "subscription": None,
    "success_url": "https://example.com/success?session_id={CHECKOUT_SESSION_ID}",
    "url": None,
}

_PAYMENT_INTENT: Final = {
    "id": "pi_3P9xYz2eZvKYlo2C1gXbE0yq",
    "object": "payment_intent",
    "amount": 2000,
    "amount_capturable": 0,
    "amount_received": 2000,
    "capture_method": "automatic",
    "client_secret": None,
    "confirmation_method": "automatic",
    "created": _CREATED,
    "currency": "usd",
    "customer": _CUSTOMER,
    "description": "Order 1042",
    "latest_charge": "ch_3P9xYz2eZvKYlo2C1a2b3c4d",
    "livemode": False,
    "metadata": {"order_id": "1042"},
    "payment_method": "pm_1P9xYz2eZvKYlo2CvisaCard",
    "payment_method_types": ["card"],
    "receipt_email": "jenny.rosen@example.com",
    "status": "succeeded",
}

_EVENTS: Final[Mapping[str, Sample]] = {
    "checkout.session.completed": _event("checkout.session.completed", _CHECKOUT),
    "payment_intent.succeeded": _event("payment_intent.succeeded", _PAYMENT_INTENT),
    "payment_intent.payment_failed": _event(
        "payment_intent.payment_failed",
        {
            **_PAYMENT_INTENT,
            "amount_received": 0,
            "status": "requires_payment_method",
            "last_payment_error": {
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
                "type": "card_error",
            },
        },
    ),
    "invoice.paid": _event("invoice.paid", _invoice(paid=True)),
    "invoice.payment_failed": _event("invoice.payment_failed", _invoice(paid=False)),
    "customer.subscription.created": _event(
        "customer.subscription.created", _subscription("active")
    ),
    "customer.subscription.updated": _event(
        "customer.subscription.updated",
        _subscription("active", cancel_at_period_end=True, cancel_at=_CREATED + 30 * 86400),
        previous={"cancel_at_period_end": False, "cancel_at": None},
    ),
    "customer.subscription.deleted": _event(
        "customer.subscription.deleted",
        _subscription("canceled", canceled_at=_CREATED + 86400, ended_at=_CREATED + 86400),
    ),
    "customer.subscription.trial_will_end": _event(
        "customer.subscription.trial_will_end",
        _subscription("trialing", trial_start=_CREATED, trial_end=_CREATED + 3 * 86400),
    ),
}


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with="the endpoint's signing secret (whsec_..., used as it is)",
    sample=Sample(
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
    events=_EVENTS,
)
