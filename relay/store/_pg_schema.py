"""PostgreSQL schema, versioned. Each migration runs once, in order, in its own transaction,
while the migrating session holds a session-level advisory lock: several instances starting
at once migrate one after the other, and every one after the first finds nothing to do.

The tables are SQLite's (relay/store/_sqlite_schema.py), with PostgreSQL types; ids and the
names views sort by are ``COLLATE "C"`` so that they order as bytes, as in SQLite. Version 1
is the whole schema as of SQLite's version 6; later versions are appended, never edited.
"""

from __future__ import annotations

from relay.store._pg_sql import Conn

__all__ = ["LOCK_CLAIM", "LOCK_DEDUPE", "LOCK_MIGRATE", "MIGRATIONS", "migrate", "schema_version"]

# First keys of relay's advisory locks (two-int form); the second key is a hash of the
# schema and of what is locked, so that deployments in other schemas never wait on each other.
LOCK_MIGRATE = 0x5E1A0  # session lock around migrations
LOCK_CLAIM = 0x5E1A1  # transaction lock per target: count leases, then claim
LOCK_DEDUPE = 0x5E1A2  # transaction lock per (route, dedupe key): check, then insert
# The liveness tokens (relay/store/_pg_liveness.py) use the one-bigint form instead, a 64-bit
# hash: a key space of its own (pg_locks.objsubid 1, the two-int form's is 2).

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        id text COLLATE "C" PRIMARY KEY,
        source text COLLATE "C" NOT NULL,
        dedupe_key text,
        provider_event_id text,
        event_type text,
        received_at double precision NOT NULL,
        status text NOT NULL,
        error text,
        body bytea NOT NULL,
        headers text NOT NULL,
        query text NOT NULL,
        duplicates integer NOT NULL DEFAULT 0,
        client_ip text,
        body_sha256 text,
        conflicts integer NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX events_dedupe ON events (source, dedupe_key)
        WHERE dedupe_key IS NOT NULL;
    CREATE INDEX events_received ON events (received_at);
    CREATE INDEX events_source_received ON events (source, received_at);

    CREATE TABLE deliveries (
        id text COLLATE "C" PRIMARY KEY,
        event_id text COLLATE "C" NOT NULL REFERENCES events (id),
        route text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        function_id text NOT NULL,
        variables text,
        stream boolean NOT NULL,
        status text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL,
        retry_policy text NOT NULL,
        idempotent boolean NOT NULL DEFAULT false,
        next_attempt_at double precision,
        lease_owner text,
        lease_expires_at double precision,
        created_at double precision NOT NULL,
        updated_at double precision NOT NULL,
        last_error text,
        function_run_id text,
        run_status text,
        budget_used integer NOT NULL DEFAULT 0,
        dedupe_key text
    );
    -- Claims: the due deliveries of a target, and its leases (counted under its lock).
    CREATE INDEX deliveries_due ON deliveries (target, next_attempt_at)
        WHERE status IN ('pending', 'retry_scheduled', 'paused');
    CREATE INDEX deliveries_in_flight ON deliveries (target) WHERE status = 'in_flight';
    CREATE INDEX deliveries_lease ON deliveries (lease_expires_at) WHERE status = 'in_flight';
    -- Nearly always empty: claimable deliveries without a due time (the sweep repairs them).
    CREATE INDEX deliveries_undue ON deliveries (id) WHERE next_attempt_at IS NULL
        AND status IN ('pending', 'retry_scheduled', 'paused');
    CREATE INDEX deliveries_event ON deliveries (event_id);
    CREATE INDEX deliveries_status ON deliveries (status, updated_at);
    CREATE INDEX deliveries_dedupe ON deliveries (route, dedupe_key, created_at)
        WHERE dedupe_key IS NOT NULL;

    CREATE TABLE attempts (
        id text COLLATE "C" PRIMARY KEY,
        delivery_id text COLLATE "C" NOT NULL REFERENCES deliveries (id),
        number integer NOT NULL,
        started_at double precision NOT NULL,
        finished_at double precision,
        duration_ms double precision,
        outcome text,
        status_code integer,
        error text,
        function_run_id text,
        session_id text,
        run_status text,
        result text,
        logs text
    );
    CREATE INDEX attempts_delivery ON attempts (delivery_id, number);

    CREATE TABLE transitions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id text COLLATE "C" NOT NULL,
        at double precision NOT NULL,
        from_status text,
        to_status text NOT NULL,
        reason text,
        actor text NOT NULL
    );
    CREATE INDEX transitions_delivery ON transitions (delivery_id, id);

    CREATE TABLE target_state (
        target text COLLATE "C" PRIMARY KEY,
        paused boolean NOT NULL DEFAULT false,
        paused_by text,
        paused_at double precision,
        breaker text NOT NULL DEFAULT 'closed',
        breaker_until double precision,
        throttled_until double precision,
        max_concurrency integer,
        updated_at double precision NOT NULL
    );

    CREATE TABLE audit (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at double precision NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        detail text NOT NULL,
        count integer NOT NULL
    );

    CREATE TABLE source_secrets (
        id bigint GENERATED ALWAYS AS IDENTITY,
        source text COLLATE "C" NOT NULL,
        secret text NOT NULL,
        origin text NOT NULL,
        created_at double precision NOT NULL,
        PRIMARY KEY (source, secret)
    );

    CREATE TABLE rejections (
        id text COLLATE "C" PRIMARY KEY,
        source text COLLATE "C" NOT NULL,
        received_at double precision NOT NULL,
        reason text NOT NULL,
        client_ip text
    );
    CREATE INDEX rejections_source_received ON rejections (source, received_at);
    CREATE INDEX rejections_received ON rejections (received_at);
    """,
    # 2: a target's rate limit held across instances: one token bucket per target, read and
    # written by claims under the target's claim lock.
    """
    CREATE TABLE target_buckets (
        target text COLLATE "C" PRIMARY KEY,
        tokens double precision NOT NULL,
        updated_at double precision NOT NULL
    );
    """,
    # 3: runs followed to their end (SQLite's version 7): when the run being followed
    # started (for its run_timeout), who asked to stop it, the route's run options.
    """
    ALTER TABLE deliveries ADD COLUMN run_started_at double precision;
    ALTER TABLE deliveries ADD COLUMN stop_requested_by text;
    ALTER TABLE deliveries ADD COLUMN run_options text;
    """,
    # 4: the lease owners that hold a liveness token (relay/store/_pg_liveness.py): only
    # these are judged gone when their token is free.
    """
    CREATE TABLE lease_owners (
        owner text COLLATE "C" PRIMARY KEY,
        since double precision NOT NULL
    );
    """,
    # 5 (SQLite's 8): a rejection row stands for a window: every request of one source,
    # reason and client refused within a minute, how many, the last one's time and a few
    # detail messages.
    """
    ALTER TABLE rejections ADD COLUMN count integer NOT NULL DEFAULT 1;
    ALTER TABLE rejections ADD COLUMN last_at double precision;
    ALTER TABLE rejections ADD COLUMN samples text;
    """,
    # 6 (SQLite's 9): one row rewritten by /readyz while writes fail, to find out when they
    # work again.
    """
    CREATE TABLE write_probe (
        id integer PRIMARY KEY,
        at double precision NOT NULL
    );
    """,
    # 7 (SQLite's 10): the admin page's logged-in sessions (the SHA-256 of each session id,
    # never the id), so that logging out ends a session for every instance and across
    # restarts.
    """
    CREATE TABLE admin_sessions (
        digest text COLLATE "C" PRIMARY KEY,
        expires_at double precision NOT NULL
    );
    """,
    # 8 (SQLite's 11): the W3C traceparent of the request that brought a delivery's event,
    # so that its attempts continue that trace (relay/tracing.py); NULL: tracing was off.
    """
    ALTER TABLE deliveries ADD COLUMN traceparent text;
    """,
)


async def schema_version(conn: Conn) -> int:
    """The version the current schema is at (0: relay never ran there)."""
    exists = await conn.fetchval("SELECT to_regclass('relay_schema') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM relay_schema"))


async def migrate(conn: Conn) -> tuple[int, int]:
    """Bring the schema of ``conn``'s search path to the latest version, under the migration
    lock; returns (version before, version after)."""
    schema = await conn.fetchval("SELECT current_schema()")
    if schema is None:
        path = await conn.fetchval("SHOW search_path")
        raise ValueError(f"no schema of the search_path ({path}) exists in this database")
    key = await conn.fetchval("SELECT hashtext($1)", f"relay.migrate:{schema}")
    await conn.execute("SELECT pg_advisory_lock($1, $2)", LOCK_MIGRATE, key)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS relay_schema ("
            "version integer PRIMARY KEY, applied_at double precision NOT NULL)"
        )
        before = await schema_version(conn)
        for version, script in enumerate(MIGRATIONS, start=1):
            if version <= before:
                continue
            async with conn.transaction():
                await conn.execute(script)
                await conn.execute(
                    "INSERT INTO relay_schema (version, applied_at) "
                    "VALUES ($1, extract(epoch FROM clock_timestamp()))",
                    version,
                )
        return before, max(before, len(MIGRATIONS))
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", LOCK_MIGRATE, key)
