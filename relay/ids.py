"""Identifiers: a prefix, then a hex millisecond timestamp and 64 random bits (sortable)."""

from __future__ import annotations

import secrets
import time

__all__ = ["new_id"]


def new_id(prefix: str, now: float | None = None) -> str:
    millis = int((time.time() if now is None else now) * 1000)
    return f"{prefix}_{millis:012x}{secrets.token_hex(8)}"
