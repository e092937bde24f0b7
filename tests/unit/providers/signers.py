"""Reference signers written straight from each provider's documentation (test-only).

``REFERENCE[name](secret, body, now) -> headers`` signs like the provider's sender does, using
only ``hmac``/``hashlib``/``base64`` and none of relay's code, so the tests can check
``relay.devtools.signing`` and the verifiers against an independent implementation. Header
names are lower-case, as ``WebhookRequest`` has them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any, Final

Reference = Callable[[str, bytes, float], dict[str, str]]

#: The message id the Standard Webhooks references use (pass it as ``msg_id`` to ``sign``).
MSG_ID: Final = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"


def _mac(secret: str | bytes, message: bytes, digest: Any = hashlib.sha256) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, message, digest).digest()


def _hex(secret: str, message: bytes, digest: Any = hashlib.sha256) -> str:
    return _mac(secret, message, digest).hex()


def _b64(secret: str, message: bytes) -> str:
    return base64.b64encode(_mac(secret, message)).decode("ascii")


def _ts(now: float) -> str:
    return str(int(now))


def _svix(secret: str, body: bytes, now: float) -> dict[str, str]:
    # Svix: key = base64-decode(secret without "whsec_"); signed "{id}.{timestamp}.{body}".
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{MSG_ID}.{_ts(now)}.".encode() + body
    return {
        "svix-id": MSG_ID,
        "svix-timestamp": _ts(now),
        "svix-signature": "v1," + base64.b64encode(_mac(key, signed)).decode("ascii"),
    }


def _stripe_like(header: str) -> Reference:
    # Stripe and Calendly: "t=<ts>,v1=<hex of HMAC-SHA256('{t}.{body}')>".
    def sign(secret: str, body: bytes, now: float) -> dict[str, str]:
        return {header: f"t={_ts(now)},v1={_hex(secret, f'{_ts(now)}.'.encode() + body)}"}

    return sign


def _v0(header: str, timestamp_header: str) -> Reference:
    # Slack and Zoom: "v0=<hex of HMAC-SHA256('v0:{ts}:{body}')>" plus a timestamp header.
    def sign(secret: str, body: bytes, now: float) -> dict[str, str]:
        message = f"v0:{_ts(now)}:".encode() + body
        return {header: "v0=" + _hex(secret, message), timestamp_header: _ts(now)}

    return sign


REFERENCE: Final[Mapping[str, Reference]] = {
    "bitbucket": lambda s, b, t: {"x-hub-signature": "sha256=" + _hex(s, b)},
    "jira": lambda s, b, t: {"x-hub-signature": "sha256=" + _hex(s, b)},
    "notion": lambda s, b, t: {"x-notion-signature": "sha256=" + _hex(s, b)},
    "intercom": lambda s, b, t: {"x-hub-signature": "sha1=" + _hex(s, b, hashlib.sha1)},
    "vercel": lambda s, b, t: {"x-vercel-signature": _hex(s, b, hashlib.sha1)},
    "sentry": lambda s, b, t: {"sentry-hook-signature": _hex(s, b)},
    "lemonsqueezy": lambda s, b, t: {"x-signature": _hex(s, b)},
    "coinbase-commerce": lambda s, b, t: {"x-cc-webhook-signature": _hex(s, b)},
    "dropbox": lambda s, b, t: {"x-dropbox-signature": _hex(s, b)},
    "linear": lambda s, b, t: {"linear-signature": _hex(s, b)},
    "pagerduty": lambda s, b, t: {"x-pagerduty-signature": "v1=" + _hex(s, b)},
    "shopify": lambda s, b, t: {"x-shopify-hmac-sha256": _b64(s, b)},
    "typeform": lambda s, b, t: {"typeform-signature": "sha256=" + _b64(s, b)},
    "stripe": _stripe_like("stripe-signature"),
    "calendly": _stripe_like("calendly-webhook-signature"),
    "paddle": lambda s, b, t: {
        "paddle-signature": f"ts={_ts(t)};h1={_hex(s, f'{_ts(t)}:'.encode() + b)}"
    },
    "slack": _v0("x-slack-signature", "x-slack-request-timestamp"),
    "zoom": _v0("x-zm-signature", "x-zm-request-timestamp"),
    "gitlab": lambda s, b, t: {"x-gitlab-token": s},
    "svix": _svix,
    "clerk": _svix,
    "resend": _svix,
}
