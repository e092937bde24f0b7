"""No input makes the non-HMAC batch raise anything but ``VerificationError``.

Random methods, headers (the providers' own names with any text, lone surrogates included),
queries and bodies (bytes, or JSON with random leaves) go through ``handshake`` and ``verify``;
``event_type``/``event_id`` get any JSON-like value and must not raise at all.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay.providers import get_spec
from relay.providers.base import Provider, VerificationError, WebhookRequest
from tests.unit.providers._kit import NOW

_ED25519 = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
_DER, _PEM = serialization.Encoding.DER, serialization.Encoding.PEM
_SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
_P256 = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(_DER, _SPKI)
_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
_URL = "https://relay.example/hooks/x"
_TIMED = {"timestamp_header": "x-ts", "id_header": "x-id"}

CONFIGS: dict[str, tuple[list[str], dict[str, Any]]] = {
    "asana": (["hook-secret"], {}),
    "basic": (["user:pw"], {}),
    "discord": ([_ED25519], {"tolerance": 300}),
    "ed25519": ([_ED25519], {"header": "x-sig", "timestamp_header": "x-ts", "tolerance": 60}),
    "hmac": (["s"], {"header": "x-sig", "signed": "{id}:{timestamp}:{body}", **_TIMED}),
    "hubspot": (["s"], {"public_url": _URL}),
    "mailgun": (["s"], {"tolerance": 300}),
    "meta": (["s"], {"verify_token": "t"}),
    "microsoft-graph": (["state"], {}),
    "none": ([], {"insecure": True}),
    "okta": (["s"], {}),
    "paypal": ([_RSA.public_bytes(_PEM, _SPKI).decode()], {"webhook_id": "W", "tolerance": 60}),
    "sendgrid": ([base64.b64encode(_P256).decode()], {"tolerance": 60}),
    "square": (["s"], {"public_url": _URL}),
    "token": (["s"], {"prefix": "Bearer "}),
    "twilio": (["s"], {"public_url": _URL}),
    "twitch": (["s"], {}),
    "twitter": (["s"], {}),
    "whatsapp": (["s"], {"verify_token": "t"}),
}
HEADERS = [
    "authorization", "x-sig", "x-ts", "x-id", "x-hook-secret", "x-hook-signature",
    "x-signature-ed25519", "x-signature-timestamp", "x-hubspot-signature-v3",
    "x-hubspot-request-timestamp", "x-hub-signature-256", "x-okta-verification-challenge",
    "paypal-transmission-id", "paypal-transmission-time", "paypal-transmission-sig",
    "paypal-auth-algo", "x-twilio-email-event-webhook-signature",
    "x-twilio-email-event-webhook-timestamp", "x-square-hmacsha256-signature",
    "x-twilio-signature", "x-twilio-webhooks-signature-settings", "i-twilio-idempotency-token",
    "twitch-eventsub-message-id", "twitch-eventsub-message-timestamp",
    "twitch-eventsub-message-signature", "twitch-eventsub-message-type",
    "x-twitter-webhooks-signature",
]  # fmt: skip
QUERY_KEYS = ["hub.mode", "hub.verify_token", "hub.challenge", "crc_token", "validationToken",
              "bodySHA256", "foo"]  # fmt: skip
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=60)
HEADER_VALUE = st.one_of(
    ANY_TEXT,
    st.sampled_from(["webhook_callback_verification", "SHA256withRSA", "subscribe", "Basic "]),
    st.from_regex(r"(sha256=|v0=)?[0-9a-f]{0,80}", fullmatch=True),
    st.from_regex(r"[0-9]{0,16}", fullmatch=True),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
SHAPED = st.fixed_dictionaries(
    {},
    optional={
        "type": JSON, "challenge": JSON, "signature": JSON, "value": JSON, "event": JSON,
        "subscription": JSON, "data": JSON, "id": JSON, "object": JSON, "entry": JSON,
    },
)  # fmt: skip


def _body(data: st.DataObject) -> bytes:
    raw = st.binary(max_size=256)
    shaped = SHAPED.map(lambda value: json.dumps(value).encode("utf-8", "surrogatepass"))
    return data.draw(st.one_of(raw, shaped), label="body")


PROVIDERS: dict[str, Provider] = {
    name: get_spec(name).build(secrets, options) for name, (secrets, options) in CONFIGS.items()
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["POST", "GET", "PUT"]),
    headers=st.dictionaries(st.sampled_from(HEADERS), HEADER_VALUE, max_size=8),
    query=st.dictionaries(st.sampled_from(QUERY_KEYS), HEADER_VALUE | ANY_TEXT, max_size=4),
    now=st.sampled_from([NOW, 0.0, -1e12, 1e15]),
    data=st.data(),
)
def test_verify_and_handshake_raise_only_verification_errors(
    name: str,
    method: str,
    headers: dict[str, str],
    query: dict[str, str],
    now: float,
    data: st.DataObject,
) -> None:
    provider = PROVIDERS[name]
    req = WebhookRequest(
        method=method, path="/hooks/x", headers=headers, query=query, body=_body(data)
    )
    reasons: list[str] = []
    for step in (provider.handshake, provider.verify):
        try:
            step(req, now)
        except VerificationError as error:
            reasons.append(error.reason)
    assert all(reason and reason.isascii() for reason in reasons)


@settings(max_examples=60, deadline=None)
@given(body=JSON | SHAPED | st.lists(SHAPED, max_size=3), headers=st.dictionaries(
    st.sampled_from(HEADERS), ANY_TEXT, max_size=4))  # fmt: skip
def test_event_fields_never_raise(body: Any, headers: dict[str, str]) -> None:
    req = WebhookRequest(method="POST", path="/hooks/x", headers=headers, query={}, body=b"")
    for provider in PROVIDERS.values():
        for value in (provider.event_type(req, body), provider.event_id(req, body)):
            assert value is None or isinstance(value, str)
