"""Webhook providers: the interface every provider implements and the registry of them."""

from __future__ import annotations

from relay.providers.base import (
    ConfigError,
    HandshakeReply,
    Provider,
    ProviderSpec,
    VerificationError,
    WebhookRequest,
)
from relay.providers.registry import PROVIDERS, get_spec, names

__all__ = [
    "PROVIDERS",
    "ConfigError",
    "HandshakeReply",
    "Provider",
    "ProviderSpec",
    "VerificationError",
    "WebhookRequest",
    "get_spec",
    "names",
]
