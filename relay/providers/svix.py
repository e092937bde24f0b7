"""Svix: Standard Webhooks with ``svix-id``, ``svix-timestamp`` and ``svix-signature``.

The secret is the ``whsec_<base64>`` signing secret. Scheme and options (``tolerance``,
``header_prefix``) are those of ``standard_webhooks``; the event type is the body's ``type``,
the id the ``svix-id`` header.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from relay.providers.base import ProviderSpec
from relay.providers.sender import WHSEC_KEY, Sending, Signer
from relay.providers.standard_webhooks import build_with, signer, svix_sample

__all__ = ["SENDING", "SPEC", "svix_signer", "svix_spec"]


_PREFIX: Final = "svix-"


def svix_spec(name: str, hint: str) -> ProviderSpec:
    """A Standard Webhooks provider named ``name`` reading ``svix-`` headers by default."""
    return ProviderSpec(
        name=name, build=partial(build_with, name=name, default_prefix=_PREFIX), hint=hint
    )


def svix_signer(name: str) -> Signer:
    """Signs as ``name`` does: Standard Webhooks with ``svix-`` headers by default."""
    return signer(name, _PREFIX)


SPEC: Final = svix_spec(
    "svix",
    hint="App Portal > Endpoints > Add Endpoint: paste the URL, pick event types; copy "
    "the Signing Secret (whsec_...).",
)


SENDING: Final = Sending(
    sign=svix_signer("svix"),
    signs_with=WHSEC_KEY,
    sample=svix_sample("invoice.paid", {"id": "obj_29w83sxmDNGwOuEthce5gg56FcC"}),
)
