"""relay: a self-hosted webhook relay that forwards verified webhooks to Notte function runs."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
