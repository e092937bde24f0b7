"""A target's rate limit held across instances: one token bucket per target in
``target_buckets`` (the same ``TokenBucket`` each worker keeps, relay/ratelimit.py), read
and written by claims under the target's claim lock, so that two instances never spend the
same token."""

from __future__ import annotations

from relay.ratelimit import RateLimit, TokenBucket
from relay.store._pg_sql import Conn

__all__ = ["load", "save"]

_SAVE = """
INSERT INTO target_buckets (target, tokens, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (target) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at
"""


async def load(conn: Conn, target: str, rate: RateLimit, now: float) -> TokenBucket:
    """The target's bucket as last saved (full for a target none has sent to yet)."""
    full = TokenBucket.full(rate, now)
    row = await conn.fetchrow(
        "SELECT tokens, updated_at FROM target_buckets WHERE target = $1", target
    )
    if row is None:
        return full
    return TokenBucket(full.rate, full.capacity, float(row[0]), float(row[1]))


async def save(conn: Conn, target: str, bucket: TokenBucket) -> None:
    await conn.execute(_SAVE, target, bucket.tokens, bucket.updated)
