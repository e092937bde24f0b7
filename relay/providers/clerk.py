"""Clerk: Standard Webhooks sent through Svix, with the ``svix-`` header prefix.

Same secret format, options and event naming as ``svix``: see there.
"""

from __future__ import annotations

from typing import Final

from relay.providers.svix import svix_spec

__all__ = ["SPEC"]

SPEC: Final = svix_spec("clerk")
