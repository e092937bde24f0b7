"""SQLite schema, versioned. Each migration runs once, in order, inside one transaction."""

from __future__ import annotations

import sqlite3

__all__ = ["MIGRATIONS", "migrate"]

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        dedupe_key TEXT,
        provider_event_id TEXT,
        event_type TEXT,
        received_at REAL NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        body BLOB NOT NULL,
        headers TEXT NOT NULL,
        query TEXT NOT NULL,
        duplicates INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX events_dedupe ON events (source, dedupe_key)
        WHERE dedupe_key IS NOT NULL;
    CREATE INDEX events_received ON events (received_at);
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL REFERENCES events (id),
        route TEXT NOT NULL,
        target TEXT NOT NULL,
        function_id TEXT NOT NULL,
        variables TEXT,
        stream INTEGER NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        retry_policy TEXT NOT NULL,
        idempotent INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        lease_owner TEXT,
        lease_expires_at REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        last_error TEXT,
        function_run_id TEXT,
        run_status TEXT
    );
    CREATE INDEX deliveries_due ON deliveries (target, status, next_attempt_at);
    CREATE INDEX deliveries_event ON deliveries (event_id);
    CREATE INDEX deliveries_status ON deliveries (status, updated_at);
    CREATE TABLE attempts (
        id TEXT PRIMARY KEY,
        delivery_id TEXT NOT NULL REFERENCES deliveries (id),
        number INTEGER NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        duration_ms REAL,
        outcome TEXT,
        status_code INTEGER,
        error TEXT,
        function_run_id TEXT,
        session_id TEXT,
        run_status TEXT,
        result TEXT,
        logs TEXT
    );
    CREATE INDEX attempts_delivery ON attempts (delivery_id, number);
    """,
    # 2: the delivery engine's bookkeeping: attempt budget apart from attempt numbers (a 429
    # is recorded but not counted), every status move, operator/worker target state, audit.
    """
    ALTER TABLE deliveries ADD COLUMN budget_used INTEGER NOT NULL DEFAULT 0;
    UPDATE deliveries SET budget_used = attempts;
    CREATE TABLE transitions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL,
        at REAL NOT NULL,
        from_status TEXT,
        to_status TEXT NOT NULL,
        reason TEXT,
        actor TEXT NOT NULL
    );
    CREATE INDEX transitions_delivery ON transitions (delivery_id, id);
    CREATE TABLE target_state (
        target TEXT PRIMARY KEY,
        paused INTEGER NOT NULL DEFAULT 0,
        paused_by TEXT,
        paused_at REAL,
        breaker TEXT NOT NULL DEFAULT 'closed',
        breaker_until REAL,
        throttled_until REAL,
        max_concurrency INTEGER,
        updated_at REAL NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL,
        count INTEGER NOT NULL
    );
    CREATE INDEX events_source_received ON events (source, received_at);
    """,
    # 3: routing: a route's dedupe key on its deliveries, and the client address of events
    # (so replays through `relay route --event` see the client_ip that was matched).
    """
    ALTER TABLE deliveries ADD COLUMN dedupe_key TEXT;
    CREATE INDEX deliveries_dedupe ON deliveries (route, dedupe_key, created_at)
        WHERE dedupe_key IS NOT NULL;
    ALTER TABLE events ADD COLUMN client_ip TEXT;
    """,
    # 4: secrets handed over by a provider's handshake (Asana X-Hook-Secret, Notion's
    # verification_token), kept so that a restart still verifies that source's events.
    """
    CREATE TABLE source_secrets (
        source TEXT NOT NULL,
        secret TEXT NOT NULL,
        origin TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (source, secret)
    );
    """,
    # 5: requests refused with a 401 (source, time, reason code, client address; never a
    # body or a header value), for `relay events --status rejected` and the stats.
    """
    CREATE TABLE rejections (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        received_at REAL NOT NULL,
        reason TEXT NOT NULL,
        client_ip TEXT
    );
    CREATE INDEX rejections_source_received ON rejections (source, received_at);
    CREATE INDEX rejections_received ON rejections (received_at);
    """,
    # 6: the body's SHA-256 on events, so that a re-delivery of a provider event id with a
    # different body is told apart from a duplicate and counted as a conflict.
    """
    ALTER TABLE events ADD COLUMN body_sha256 TEXT;
    ALTER TABLE events ADD COLUMN conflicts INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: runs followed to their end: when the run being followed started (for its
    # run_timeout), who asked to stop it, and the route's run options (how to start the run,
    # its timeout, runtime and callback URL; JSON, NULL: the defaults).
    """
    ALTER TABLE deliveries ADD COLUMN run_started_at REAL;
    ALTER TABLE deliveries ADD COLUMN stop_requested_by TEXT;
    ALTER TABLE deliveries ADD COLUMN run_options TEXT;
    """,
    # 8: a rejection row stands for a window: every request of one source, reason and client
    # refused within a minute, how many, the last one's time and a few detail messages.
    """
    ALTER TABLE rejections ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE rejections ADD COLUMN last_at REAL;
    ALTER TABLE rejections ADD COLUMN samples TEXT;
    """,
    # 9: one row rewritten by /readyz while writes fail, to find out when they work again.
    """
    CREATE TABLE write_probe (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL
    );
    """,
    # 10: the admin page's logged-in sessions (the SHA-256 of each session id, never the id),
    # so that logging out ends a session for every instance and across restarts.
    """
    CREATE TABLE admin_sessions (
        digest TEXT PRIMARY KEY,
        expires_at REAL NOT NULL
    );
    """,
    # 11: the W3C traceparent of the request that brought a delivery's event (its relay.receive
    # span, relay/tracing.py), so that the delivery's attempts continue that trace; NULL: the
    # event came in with tracing off.
    """
    ALTER TABLE deliveries ADD COLUMN traceparent TEXT;
    """,
)


def schema_version(conn: sqlite3.Connection) -> int | None:
    """The relay schema version of ``conn``'s database (0: relay created its table and no
    more); None when it is not a relay database (no ``relay_schema`` table)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'relay_schema'"
    ).fetchone()
    if not exists:
        return None
    row = conn.execute("SELECT max(version) FROM relay_schema").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to the latest version; returns the version reached."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS relay_schema (version INTEGER NOT NULL)")
        row = conn.execute("SELECT max(version) FROM relay_schema").fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        for version, script in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO relay_schema (version) VALUES (?)", (version,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(MIGRATIONS)
