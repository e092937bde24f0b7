"""WhatsApp Cloud API webhooks: Meta's scheme (see ``relay.providers.meta``) under its own name.

Options and behaviour are Meta's: ``verify_token`` (required) for the GET handshake, app
secrets in ``secrets``; event types look like ``whatsapp_business_account.messages``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers.base import ProviderSpec
from relay.providers.body_limits import MiB
from relay.providers.meta import MetaProvider, build_with, meta_sample
from relay.providers.sender import Sending, hex_signer

__all__ = ["SENDING", "SPEC", "build"]

NAME: Final = "whatsapp"


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> MetaProvider:
    return build_with(secrets, options, name=NAME)


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    allows_get=True,
    max_body_bytes=3 * MiB,  # Meta's webhooks "can be up to 3MB"
    hint="App Dashboard > WhatsApp > Configuration: Callback URL = this URL, Verify "
    "token = the source's verify_token; subscribe to messages; the App Secret signs "
    "X-Hub-Signature-256.",
)


SENDING: Final = Sending(
    sign=hex_signer(NAME, "x-hub-signature-256", "sha256="),
    signs_with="the app secret (App settings > Basic)",
    sample=meta_sample(
        "whatsapp_business_account",
        "messages",
        {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352"},
            "messages": [{"from": "16315551181", "id": "wamid.ABGGFlA5Fpa", "type": "text"}],
        },
    ),
)
