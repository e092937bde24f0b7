"""How large a body a source may take: the default of a source's ``max_body_bytes``.

Where a provider documents its largest payload, its spec says so (``ProviderSpec.max_body_bytes``,
in MiB, so a limit given in MB fits too: GitHub, Meta, WhatsApp); the others get
``DEFAULT_MAX_BODY_BYTES``, well above the hundreds of KB that Shopify orders, Slack events,
Stripe invoices or SendGrid event batches reach. A source's own ``max_body_bytes`` (up to
``MAX_BODY_BYTES``) overrides either.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_MAX_BODY_BYTES", "MAX_BODY_BYTES", "MiB"]

MiB: Final = 1024 * 1024
DEFAULT_MAX_BODY_BYTES: Final = 10 * MiB
MAX_BODY_BYTES: Final = 64 * MiB  # the most a source may set
