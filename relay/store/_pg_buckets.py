"""A target's rate limit held across instances: one token bucket per target in
``target_buckets``, read and written by claims under the target's claim lock (so two
instances never spend the same token)."""

from __future__ import annotations

from relay.store._pg_sql import Conn
from relay.store.base import RateLimit

__all__ = ["refilled", "save"]

_SAVE = """
INSERT INTO target_buckets (target, tokens, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (target) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at
"""


async def refilled(conn: Conn, target: str, rate: RateLimit, now: float) -> tuple[float, float]:
    """The bucket refilled to ``now``: (tokens, as of). Full for a target none has sent to
    yet; a clock behind the last claim's adds nothing."""
    capacity = float(rate.count)
    row = await conn.fetchrow(
        "SELECT tokens, updated_at FROM target_buckets WHERE target = $1", target
    )
    if row is None:
        return capacity, now
    tokens, updated = float(row[0]), float(row[1])
    return min(capacity, tokens + max(0.0, now - updated) * capacity / rate.per), max(now, updated)


async def save(conn: Conn, target: str, tokens: float, as_of: float) -> None:
    await conn.execute(_SAVE, target, tokens, as_of)
