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
)


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
