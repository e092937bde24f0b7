"""Signers for the header HMAC schemes, and Mailgun's HMAC carried inside the body.

The ``secret`` is the shared signing secret as the provider shows it (UTF-8 text used as the
HMAC key), except Standard Webhooks / Svix / Clerk / Resend whose ``whsec_<base64>`` secret is
base64-decoded first, as their libraries do.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, cast

from relay.providers import (
    bitbucket,
    calendly,
    coinbase_commerce,
    dropbox,
    intercom,
    jira,
    lemonsqueezy,
    linear,
    notion,
    paddle,
    pagerduty,
    sentry,
    shopify,
    slack,
    standard_webhooks,
    stripe,
    twitter,
    typeform,
    vercel,
    zoom,
)
from relay.providers._hmac import ALGORITHMS, ENCODINGS, Algorithm, Encoding, compute, encode
from relay.providers._schemes import Scheme
from relay.providers.generic_hmac import compile_signed
from relay.providers.signing._base import (
    Options,
    SignedRequest,
    Signer,
    derived_id,
    derived_uuid,
    headers_only,
)

__all__ = ["SECRETS", "SIGNERS"]

_SHARED: Final = "the webhook signing secret (the same string as in the source's secrets)"


def _scheme(scheme: Scheme) -> Signer:
    def signer(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
        Options(scheme.name, opts, ())
        return headers_only(body, scheme.sign(secret, body, now))

    return signer


def _hex_header(name: str, header: str, prefix: str = "") -> Signer:
    """HMAC-SHA256 of the raw body, hex, in ``header`` after ``prefix``."""

    def signer(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
        Options(name, opts, ())
        return headers_only(body, {header: prefix + compute(secret.encode("utf-8"), body).hex()})

    return signer


def _standard_webhooks(name: str, default_prefix: str) -> Signer:
    """Options: ``msg_id`` (default: derived from body and time), ``header_prefix``."""

    def signer(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
        options = Options(name, opts, ("msg_id", "header_prefix"))
        timestamp = int(now)
        msg_id = options.text("msg_id", derived_id("msg_", body, now))
        prefix = options.text("header_prefix", default_prefix).lower()
        key = standard_webhooks.decode_secret(secret)
        signed = b"%s.%d.%s" % (msg_id.encode("utf-8"), timestamp, body)
        signature = base64.b64encode(compute(key, signed)).decode("ascii")
        return headers_only(
            body,
            {
                f"{prefix}id": msg_id,
                f"{prefix}timestamp": str(timestamp),
                f"{prefix}signature": f"v1,{signature}",
            },
        )

    return signer


def _generic_hmac(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """``provider: hmac``: the source's signing options, plus ``id`` (the ``{id}`` value)."""
    options = Options(
        "hmac",
        opts,
        ("header", "algorithm", "encoding", "prefix", "signed", "timestamp_header", "id_header",
         "id"),
    )  # fmt: skip
    header = options.text("header").lower()
    algorithm = cast(Algorithm, options.choice("algorithm", tuple(ALGORITHMS), "sha256"))
    encoding = cast(Encoding, options.choice("encoding", ENCODINGS, "hex"))
    prefix = str(opts.get("prefix", ""))
    template = compile_signed(options.text("signed", "{body}"))
    headers: dict[str, str] = {}
    values = {"body": body}
    timestamp_header = options.optional("timestamp_header")
    if ("timestamp" in template) != (timestamp_header is not None):
        raise ValueError("signer 'hmac': 'timestamp_header' goes with {timestamp} in 'signed'")
    if timestamp_header is not None:
        headers[timestamp_header.lower()] = str(int(now))
        values["timestamp"] = headers[timestamp_header.lower()].encode("ascii")
    id_header = options.optional("id_header")
    if ("id" in template) != (id_header is not None):
        raise ValueError("signer 'hmac': 'id_header' goes with {id} in 'signed'")
    if id_header is not None:
        headers[id_header.lower()] = options.text("id", derived_id("msg_", body, now))
        values["id"] = headers[id_header.lower()].encode("utf-8")
    elif "id" in opts:
        raise ValueError("signer 'hmac': option 'id' needs 'id_header'")
    message = b"".join(part if isinstance(part, bytes) else values[part] for part in template)
    digest = compute(secret.encode("utf-8"), message, algorithm)
    headers[header] = prefix + encode(digest, encoding)
    return headers_only(body, headers)


def _twitch(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Options: ``message_id`` (default: a UUID derived from body and time)."""
    options = Options("twitch", opts, ("message_id",))
    message_id = options.text("message_id", derived_uuid(body, now))
    moment = datetime.fromtimestamp(now, UTC)
    timestamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}Z"
    message = (message_id + timestamp).encode("utf-8") + body
    return headers_only(
        body,
        {
            "twitch-eventsub-message-id": message_id,
            "twitch-eventsub-message-timestamp": timestamp,
            "twitch-eventsub-message-signature": "sha256="
            + compute(secret.encode("utf-8"), message).hex(),
        },
    )


def _mailgun(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Adds the ``signature`` object to a JSON object body. Options: ``token``."""
    options = Options("mailgun", opts, ("token",))
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # too deep to parse
        raise ValueError("signer 'mailgun' signs a JSON object body") from None
    if not isinstance(payload, dict):
        raise ValueError("signer 'mailgun' signs a JSON object body")
    token = options.text("token", derived_id("", body, now, 50))
    timestamp = str(int(now))
    signature = compute(secret.encode("utf-8"), (timestamp + token).encode("utf-8")).hex()
    signed = {
        "signature": {"token": token, "timestamp": timestamp, "signature": signature},
        **{key: value for key, value in payload.items() if key != "signature"},
    }
    return SignedRequest(headers={}, body=json.dumps(signed, allow_nan=False).encode("utf-8"))


_SCHEMES: Final[tuple[Scheme, ...]] = (
    bitbucket.SCHEME,
    calendly.SCHEME,
    coinbase_commerce.SCHEME,
    dropbox.SCHEME,
    intercom.SCHEME,
    jira.SCHEME,
    lemonsqueezy.SCHEME,
    linear.SCHEME,
    notion.SCHEME,
    paddle.SCHEME,
    pagerduty.SCHEME,
    sentry.SCHEME,
    shopify.SCHEME,
    slack.SCHEME,
    stripe.SCHEME,
    twitter.SCHEME,
    typeform.SCHEME,
    vercel.SCHEME,
    zoom.SCHEME,
)

SIGNERS: Final[Mapping[str, Signer]] = {
    "github": _hex_header("github", "x-hub-signature-256", "sha256="),
    "meta": _hex_header("meta", "x-hub-signature-256", "sha256="),
    "whatsapp": _hex_header("whatsapp", "x-hub-signature-256", "sha256="),
    "asana": _hex_header("asana", "x-hook-signature"),
    "standard-webhooks": _standard_webhooks("standard-webhooks", "webhook-"),
    "svix": _standard_webhooks("svix", "svix-"),
    "clerk": _standard_webhooks("clerk", "svix-"),
    "resend": _standard_webhooks("resend", "svix-"),
    "hmac": _generic_hmac,
    "twitch": _twitch,
    "mailgun": _mailgun,
    **{scheme.name: _scheme(scheme) for scheme in _SCHEMES},
}

_WHSEC: Final = "the whsec_... signing secret (base64 after the prefix)"

SECRETS: Final[Mapping[str, str]] = {
    **{name: _SHARED for name in SIGNERS},
    "standard-webhooks": _WHSEC,
    "svix": _WHSEC,
    "clerk": _WHSEC,
    "resend": _WHSEC,
    "meta": "the app secret (App settings > Basic)",
    "whatsapp": "the app secret (App settings > Basic)",
    "asana": "the hook secret Asana sent in X-Hook-Secret when the webhook was created",
    "twitter": "the app's consumer secret (API key secret)",
    "mailgun": "the HTTP webhook signing key",
    "slack": "the app's signing secret",
    "zoom": "the app's secret token",
    "twitch": "the EventSub subscription secret",
    "hmac": "the shared HMAC secret (pass the source's options with --option)",
    "dropbox": "the app secret",
    "intercom": "the app's client secret",
    "notion": "the subscription's verification_token",
    "sentry": "the integration's client secret",
    "stripe": "the endpoint's signing secret (whsec_..., used as it is)",
}
