"""Signers for schemes that send a shared credential rather than a signature.

GitLab's token, ``provider: token``, Okta's authorization header, HTTP Basic, Microsoft Graph's
``clientState`` (inside the body) and ``provider: none`` (nothing at all). The ``secret`` is the
credential itself; none of these protects the body, so the body is sent as given (Graph's
notifications get ``clientState`` set).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Final

from relay.providers.signing._base import Options, SignedRequest, Signer, headers_only
from relay.providers.token import DEFAULT_HEADER

__all__ = ["SECRETS", "SIGNERS"]


def _gitlab(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    Options("gitlab", opts, ())
    return headers_only(body, {"x-gitlab-token": secret})


def _header_token(name: str, allowed: tuple[str, ...]) -> Signer:
    """``header`` (default ``Authorization``) = ``prefix`` + the secret."""

    def signer(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
        options = Options(name, opts, allowed)
        header = options.text("header", DEFAULT_HEADER).lower()
        prefix = str(opts.get("prefix", ""))
        return headers_only(body, {header: prefix + secret})

    return signer


def _basic(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    Options("basic", opts, ())
    if ":" not in secret[1:]:
        raise ValueError("signer 'basic': the secret must look like 'user:password'")
    credentials = base64.b64encode(secret.encode("utf-8")).decode("ascii")
    return headers_only(body, {"authorization": f"Basic {credentials}"})


def _none(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    Options("none", opts, ())
    return headers_only(body, {})


def _microsoft_graph(
    secret: str, body: bytes, now: float, opts: Mapping[str, Any]
) -> SignedRequest:
    """Sets ``clientState`` on every notification of the body's ``value`` array."""
    Options("microsoft-graph", opts, ())
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # too deep to parse
        payload = None
    items = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ValueError("signer 'microsoft-graph' needs a body {'value': [notification, ...]}")
    signed = {**payload, "value": [{**item, "clientState": secret} for item in items]}
    return SignedRequest(headers={}, body=json.dumps(signed, allow_nan=False).encode("utf-8"))


SIGNERS: Final[Mapping[str, Signer]] = {
    "gitlab": _gitlab,
    "token": _header_token("token", ("header", "prefix")),
    "okta": _header_token("okta", ("header",)),
    "basic": _basic,
    "none": _none,
    "microsoft-graph": _microsoft_graph,
}

SECRETS: Final[Mapping[str, str]] = {
    "gitlab": "the webhook's secret token",
    "token": "the shared token (pass the source's header/prefix options with --option)",
    "okta": "the authentication secret configured on the event hook",
    "basic": "user:password",
    "none": "nothing (any --secret is ignored)",
    "microsoft-graph": "the subscription's clientState",
}
