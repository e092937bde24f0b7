"""Requests for the hostile-input tests: each provider's sample signed as it would send it
(``relay send``'s code), with the headers its signature depends on told apart; the same
signatures made over a timestamp given as text (``hello``, ``nan``...), which the providers'
own signers cannot produce; and the replay window of every scheme that signs a timestamp."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from relay.devtools.sending import URL_SIGNED, prepare
from relay.devtools.signing import sign_request
from relay.providers import calendly, paddle, paypal, slack, stripe, zoom
from relay.providers._private_keys import (
    ed25519_private_key,
    p256_private_key,
    rsa_private_key,
)
from relay.providers._schemes import Scheme
from relay.providers.hubspot import decode_uri
from tests.provider_setups import WEBHOOK_ID
from tests.reliability.shared import SharedRelay

__all__ = [
    "WINDOWS",
    "Signed",
    "signed",
    "signed_over_timestamp",
    "stored_status",
]

#: Every scheme with a signed timestamp, and its default replay window in seconds.
WINDOWS: Final[Mapping[str, float]] = {
    "calendly": 180.0,
    "clerk": 300.0,
    "discord": 300.0,
    "ed25519": 300.0,
    "hmac": 300.0,
    "hubspot": 300.0,
    "linear": 60.0,
    "mailgun": 8 * 3600.0,
    "paddle": 5.0,
    "paypal": 300.0,
    "resend": 300.0,
    "sendgrid": 300.0,
    "slack": 300.0,
    "standard-webhooks": 300.0,
    "stripe": 300.0,
    "svix": 300.0,
    "twitch": 600.0,
    "zoom": 300.0,
}
_JSON: Final = {"content-type": "application/json"}
_BODY: Final = b'{"type": "ping", "id": "evt_ts", "event_type": "ping"}'


@dataclass(frozen=True, slots=True)
class Signed:
    url: str
    body: bytes
    headers: dict[str, str]
    auth: tuple[str, ...]  # the headers the signing scheme adds (lower-case)

    def without_auth(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items() if k.lower() not in self.auth}

    def raw_headers(self) -> dict[bytes, bytes]:
        """The headers as UTF-8 bytes (httpx refuses non-ASCII ``str`` values)."""
        return {k.encode(): v.encode("utf-8") for k, v in self.headers.items()}


def signed(
    shared: SharedRelay,
    provider: str,
    payload: bytes | None = None,
    now: float | None = None,
    *,
    content_type: str | None = None,
    options: Mapping[str, str] | None = None,
) -> Signed:
    """``provider``'s sample (or ``payload``) signed at ``now`` for its source on ``shared``."""
    setup = shared.table[provider]
    url = shared.hook(provider)
    at = time.time() if now is None else now
    merged = {**setup.options, **(options or {})}
    out = prepare(
        provider,
        setup.secret,
        url,
        now=at,
        payload=payload,
        content_type=content_type,
        options=merged,
    )
    if provider in URL_SIGNED:
        merged.setdefault("url", url)
    auth = sign_request(provider, setup.secret, out.body, at, **merged).headers
    return Signed(out.url, out.body, dict(out.headers), tuple(k.lower() for k in auth))


# -- signatures over a timestamp given as text ------------------------------------------------


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


_HEADER_SCHEMES: Final[Mapping[str, Scheme]] = {
    s.name: s for s in (calendly.SCHEME, paddle.SCHEME, slack.SCHEME, stripe.SCHEME, zoom.SCHEME)
}


def _scheme(scheme: Scheme, secret: str, ts: str, body: bytes) -> dict[str, str]:
    message = scheme.signed_prefix.replace("{ts}", ts).encode() + body
    signature = _hmac_hex(secret, message)
    if scheme.pairs is not None:
        entries = [f"{scheme.timestamp_key}={ts}", f"{scheme.signature_key}={signature}"]
        return {scheme.header: scheme.pairs.join(entries)}
    return {scheme.header: scheme.prefix + signature, str(scheme.timestamp_header): ts}


def _standard(prefix: str) -> Callable[[str, str, bytes, str], dict[str, str]]:
    def sign(secret: str, ts: str, body: bytes, url: str) -> dict[str, str]:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        mac = hmac.new(key, b"msg_hostile." + ts.encode() + b"." + body, hashlib.sha256)
        return {
            f"{prefix}id": "msg_hostile",
            f"{prefix}timestamp": ts,
            f"{prefix}signature": "v1," + _b64(mac.digest()),
        }

    return sign


def _ed25519(signature_header: str, timestamp_header: str) -> Callable[..., dict[str, str]]:
    def sign(secret: str, ts: str, body: bytes, url: str) -> dict[str, str]:
        key = ed25519_private_key("ed25519", secret)
        return {signature_header: key.sign(ts.encode() + body).hex(), timestamp_header: ts}

    return sign


def _sendgrid(secret: str, ts: str, body: bytes, url: str) -> dict[str, str]:
    key = p256_private_key("sendgrid", secret)
    signature = key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "x-twilio-email-event-webhook-signature": _b64(signature),
        "x-twilio-email-event-webhook-timestamp": ts,
    }


def _paypal(secret: str, ts: str, body: bytes, url: str) -> dict[str, str]:
    key = rsa_private_key("paypal", secret)
    message = paypal.signed_string(b"tx-hostile", ts.encode(), WEBHOOK_ID.encode(), body)
    return {
        "paypal-transmission-id": "tx-hostile",
        "paypal-transmission-time": ts,
        "paypal-transmission-sig": _b64(key.sign(message, padding.PKCS1v15(), hashes.SHA256())),
        "paypal-auth-algo": paypal.ALGORITHM,
    }


def _twitch(secret: str, ts: str, body: bytes, url: str) -> dict[str, str]:
    return {
        "twitch-eventsub-message-id": "msg-hostile",
        "twitch-eventsub-message-timestamp": ts,
        "twitch-eventsub-message-type": "notification",
        "twitch-eventsub-message-signature": "sha256="
        + _hmac_hex(secret, b"msg-hostile" + ts.encode() + body),
    }


def _hubspot(secret: str, ts: str, body: bytes, url: str) -> dict[str, str]:
    message = b"POST" + decode_uri(url).encode() + body + ts.encode()
    mac = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return {"x-hubspot-signature-v3": _b64(mac), "x-hubspot-request-timestamp": ts}


def _hmac_generic(secret: str, ts: str, body: bytes, url: str) -> dict[str, str]:
    # tests/provider_setups.py: header X-Signature, prefix sha256=, signed "{timestamp}.{body}"
    return {
        "x-signature": "sha256=" + _hmac_hex(secret, ts.encode() + b"." + body),
        "x-timestamp": ts,
    }


_HEADER_SIGNERS: Final[Mapping[str, Callable[[str, str, bytes, str], dict[str, str]]]] = {
    "standard-webhooks": _standard("webhook-"),
    **{name: _standard("svix-") for name in ("svix", "clerk", "resend")},
    "discord": _ed25519("x-signature-ed25519", "x-signature-timestamp"),
    "ed25519": _ed25519("x-signature", "x-timestamp"),
    "sendgrid": _sendgrid,
    "paypal": _paypal,
    "twitch": _twitch,
    "hubspot": _hubspot,
    "hmac": _hmac_generic,
}


def _in_body(provider: str, secret: str, ts: str) -> tuple[bytes, dict[str, str]]:
    """Mailgun and Linear carry the timestamp in the (signed) body."""
    if provider == "mailgun":
        token = "t" * 50
        data: dict[str, Any] = {
            "signature": {
                "timestamp": ts,
                "token": token,
                "signature": _hmac_hex(secret, (ts + token).encode()),
            },
            "event-data": {"event": "delivered"},
        }
        return json.dumps(data).encode(), {}
    # a JSON number when it is digits (written as is: 10,000 digits too), else a string
    stamp = ts if ts.isascii() and ts.isdigit() else json.dumps(ts)
    body = b'{"type": "Issue", "action": "create", "webhookTimestamp": %s}' % stamp.encode()
    return body, {"linear-signature": _hmac_hex(secret, body)}


def signed_over_timestamp(shared: SharedRelay, provider: str, ts: str) -> Signed:
    """A request to ``provider``'s source signed correctly over the timestamp text ``ts``."""
    secret = shared.table[provider].secret
    url = shared.hook(provider)
    if provider in ("mailgun", "linear"):
        body, auth = _in_body(provider, secret, ts)
    elif provider in _HEADER_SCHEMES:
        body, auth = _BODY, _scheme(_HEADER_SCHEMES[provider], secret, ts, _BODY)
    else:
        body, auth = _BODY, _HEADER_SIGNERS[provider](secret, ts, _BODY, url)
    return Signed(url, body, {**_JSON, **auth}, tuple(auth))


def stored_status(shared: SharedRelay, reply: httpx.Response) -> tuple[str, str | None]:
    """(status, error) of the event a 200 answer names."""
    from tests.reliability.kit import db_rows

    (row,) = db_rows(
        shared.db, "SELECT status, error FROM events WHERE id = ?", (reply.json()["id"],)
    )
    return str(row[0]), row[1]
