"""The provider registry: ``provider: <name>`` in a source's YAML -> its ``ProviderSpec``.

Each provider lives in its own module exporting ``SPEC: ProviderSpec``. Adding one is two
lines here: import the module and append its ``SPEC`` to ``_SPECS``. Names must be unique;
a duplicate fails at import time. A provider also needs a signer (``relay.providers.signing``),
a sample delivery (``relay.providers.samples``) and a setup hint (``relay.providers.hints``)
for ``relay send`` and ``relay urls``; the tests fail until all three exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from relay.providers import (
    asana,
    basic,
    bitbucket,
    calendly,
    clerk,
    coinbase_commerce,
    discord,
    dropbox,
    ed25519,
    generic_hmac,
    github,
    gitlab,
    hubspot,
    intercom,
    jira,
    lemonsqueezy,
    linear,
    mailgun,
    meta,
    microsoft_graph,
    none,
    notion,
    okta,
    paddle,
    pagerduty,
    paypal,
    resend,
    sendgrid,
    sentry,
    shopify,
    slack,
    square,
    standard_webhooks,
    stripe,
    svix,
    token,
    twilio,
    twitch,
    twitter,
    typeform,
    vercel,
    whatsapp,
    zoom,
)
from relay.providers.base import ProviderSpec

__all__ = ["PROVIDERS", "get_spec", "names"]

_SPECS: Final[tuple[ProviderSpec, ...]] = (
    github.SPEC,
    standard_webhooks.SPEC,
    generic_hmac.SPEC,
    gitlab.SPEC,
    bitbucket.SPEC,
    stripe.SPEC,
    shopify.SPEC,
    slack.SPEC,
    svix.SPEC,
    clerk.SPEC,
    resend.SPEC,
    linear.SPEC,
    typeform.SPEC,
    zoom.SPEC,
    intercom.SPEC,
    paddle.SPEC,
    calendly.SPEC,
    jira.SPEC,
    notion.SPEC,
    vercel.SPEC,
    sentry.SPEC,
    lemonsqueezy.SPEC,
    coinbase_commerce.SPEC,
    pagerduty.SPEC,
    dropbox.SPEC,
    asana.SPEC,
    basic.SPEC,
    discord.SPEC,
    ed25519.SPEC,
    hubspot.SPEC,
    mailgun.SPEC,
    meta.SPEC,
    microsoft_graph.SPEC,
    none.SPEC,
    okta.SPEC,
    paypal.SPEC,
    sendgrid.SPEC,
    square.SPEC,
    token.SPEC,
    twilio.SPEC,
    twitch.SPEC,
    twitter.SPEC,
    whatsapp.SPEC,
)


def _index(specs: Iterable[ProviderSpec]) -> Mapping[str, ProviderSpec]:
    table: dict[str, ProviderSpec] = {}
    for spec in specs:
        if spec.name in table:
            raise RuntimeError(f"duplicate provider name {spec.name!r}")
        table[spec.name] = spec
    return MappingProxyType(table)


#: Every known provider by name (read-only).
PROVIDERS: Final[Mapping[str, ProviderSpec]] = _index(_SPECS)


def get_spec(name: str) -> ProviderSpec:
    """The spec registered as ``name``; ``KeyError`` (listing known names) when unknown."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise KeyError(f"unknown provider {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    """Registered provider names, sorted."""
    return sorted(PROVIDERS)
