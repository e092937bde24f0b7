"""WhatsApp Cloud API webhooks: Meta's scheme (see ``relay.providers.meta``) under its own name.

Options and behaviour are Meta's: ``verify_token`` (required) for the GET handshake, app
secrets in ``secrets``; event types look like ``whatsapp_business_account.messages``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers.base import ProviderSpec
from relay.providers.meta import MetaProvider, build_with

__all__ = ["SPEC", "build"]

NAME: Final = "whatsapp"


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> MetaProvider:
    return build_with(secrets, options, name=NAME)


SPEC: Final = ProviderSpec(name=NAME, build=build, allows_get=True)
