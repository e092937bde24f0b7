"""Sign a body the way a provider's sender does: the headers it would put on the request.

``sign(provider, secret, body, now, **opts)`` returns a dict of lower-case header names to
values (only the authentication headers: signature, timestamp, message id). It is a pure
function, used by tests and by ``relay send`` to forge realistic deliveries for a source.
Providers without a signer here raise ``KeyError``; add one next to its provider.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any, Final

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
    typeform,
    vercel,
    zoom,
)
from relay.providers._hmac import compute
from relay.providers._schemes import Scheme

__all__ = ["SIGNERS", "Signer", "sign", "signer_names"]

#: ``(secret, body, now, opts) -> headers``.
Signer = Callable[[str, bytes, float, Mapping[str, Any]], dict[str, str]]


def _no_options(provider: str, opts: Mapping[str, Any], allowed: tuple[str, ...] = ()) -> None:
    for key in opts:
        if key not in allowed:
            raise ValueError(f"signer {provider!r} takes no option {key!r}")


def _scheme(scheme: Scheme) -> Signer:
    def signer(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> dict[str, str]:
        _no_options(scheme.name, opts)
        return scheme.sign(secret, body, now)

    return signer


def _github(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> dict[str, str]:
    _no_options("github", opts)
    return {"x-hub-signature-256": "sha256=" + compute(secret.encode("utf-8"), body).hex()}


def _gitlab(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> dict[str, str]:
    _no_options("gitlab", opts)
    return {"x-gitlab-token": secret}


def _standard_webhooks(name: str, default_prefix: str) -> Signer:
    """Options: ``msg_id`` (default: derived from body and time), ``header_prefix``."""

    def signer(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> dict[str, str]:
        _no_options(name, opts, ("msg_id", "header_prefix"))
        timestamp = int(now)
        msg_id = str(
            opts.get("msg_id")
            or "msg_" + hashlib.sha256(b"%d:%s" % (timestamp, body)).hexdigest()[:24]
        )
        prefix = str(opts.get("header_prefix", default_prefix)).lower()
        key = standard_webhooks.decode_secret(secret)
        signed = b"%s.%d.%s" % (msg_id.encode("utf-8"), timestamp, body)
        signature = base64.b64encode(compute(key, signed)).decode("ascii")
        return {
            f"{prefix}id": msg_id,
            f"{prefix}timestamp": str(timestamp),
            f"{prefix}signature": f"v1,{signature}",
        }

    return signer


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
    typeform.SCHEME,
    vercel.SCHEME,
    zoom.SCHEME,
)

#: Every provider that can be signed for, by name.
SIGNERS: Final[Mapping[str, Signer]] = {
    "github": _github,
    "gitlab": _gitlab,
    "standard-webhooks": _standard_webhooks("standard-webhooks", "webhook-"),
    "svix": _standard_webhooks("svix", "svix-"),
    "clerk": _standard_webhooks("clerk", "svix-"),
    "resend": _standard_webhooks("resend", "svix-"),
    **{scheme.name: _scheme(scheme) for scheme in _SCHEMES},
}


def sign(provider: str, secret: str, body: bytes, now: float, **opts: Any) -> dict[str, str]:
    """The authentication headers ``provider`` would send for ``body`` at unix time ``now``.

    ``KeyError`` for a provider without a signer; ``ValueError`` for an option it does not take
    or a secret it cannot use (``relay.providers.base.ConfigError`` is a ``ValueError``).
    """
    try:
        signer = SIGNERS[provider]
    except KeyError:
        raise KeyError(
            f"no signer for provider {provider!r}; known: {', '.join(signer_names())}"
        ) from None
    return signer(secret, body, now, opts)


def signer_names() -> list[str]:
    return sorted(SIGNERS)
