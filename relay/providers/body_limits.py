"""How large a body each provider may send: the default of a source's ``max_body_bytes``.

Where a provider documents its largest payload, the default is that (in MiB, so a limit
given in MB fits too); the others get ``DEFAULT_MAX_BODY_BYTES``, well above the hundreds of
KB that Shopify orders, Slack events, Stripe invoices or SendGrid event batches reach. A
source's own ``max_body_bytes`` (up to ``MAX_BODY_BYTES``) overrides either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DOCUMENTED", "MAX_BODY_BYTES", "default_max_body"]

MiB: Final = 1024 * 1024
DEFAULT_MAX_BODY_BYTES: Final = 10 * MiB
MAX_BODY_BYTES: Final = 64 * MiB  # the most a source may set

#: The documented maxima: GitHub "payloads are capped at 25 MB"; Meta's webhooks (WhatsApp
#: included) "can be up to 3MB".
DOCUMENTED: Final[Mapping[str, int]] = {
    "github": 25 * MiB,
    "meta": 3 * MiB,
    "whatsapp": 3 * MiB,
}


def default_max_body(provider: str) -> int:
    """The body limit of a source of ``provider`` that sets none."""
    return DOCUMENTED.get(provider, DEFAULT_MAX_BODY_BYTES)
