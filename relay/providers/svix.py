"""Svix: Standard Webhooks with ``svix-id``, ``svix-timestamp`` and ``svix-signature``.

The secret is the ``whsec_<base64>`` signing secret. Scheme and options (``tolerance``,
``header_prefix``) are those of ``standard_webhooks``; the event type is the body's ``type``,
the id the ``svix-id`` header.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from relay.providers.base import ProviderSpec
from relay.providers.standard_webhooks import build_with

__all__ = ["SPEC", "svix_spec"]


def svix_spec(name: str) -> ProviderSpec:
    """A Standard Webhooks provider named ``name`` reading ``svix-`` headers by default."""
    return ProviderSpec(name=name, build=partial(build_with, name=name, default_prefix="svix-"))


SPEC: Final = svix_spec("svix")
