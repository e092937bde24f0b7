"""Commands that read or change the store: deliveries, replay."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from relay.store import open_store
from relay.store.base import DeliveryRecord, Store

__all__ = ["DB_HELP", "add_parsers", "db_url", "format_table", "run_note", "with_store"]

DB_HELP = (
    "database URL: postgresql://user@host/db, sqlite:///path or a file path "
    "(default: $RELAY_DATABASE_URL or ./relay.db)"
)


def db_url(args: argparse.Namespace) -> str:
    return str(args.db or os.environ.get("RELAY_DATABASE_URL") or "./relay.db")


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def format_table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def _delivery_json(d: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": d.id,
        "event_id": d.event_id,
        "route": d.route,
        "target": d.target,
        "function_id": d.function_id,
        "status": d.status.value,
        "attempts": d.attempts,
        "max_attempts": d.max_attempts,
        "next_attempt_at": d.next_attempt_at,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "last_error": d.last_error,
        "function_run_id": d.function_run_id,
        "run_status": d.run_status,
        "run_started_at": d.run_started_at,
        "stop_requested_by": d.stop_requested_by,
    }


async def with_store(url: str, fn: Callable[[Store], Awaitable[int]]) -> int:
    store: Store = open_store(url)
    await store.open()
    try:
        return await fn(store)
    finally:
        await store.close()


# commands --------------------------------------------------------------------------------


def _elapsed(seconds: float) -> str:
    s = max(0, int(seconds))
    h, m = divmod(s // 60, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s % 60:02d}s" if m else f"{s}s"


def run_note(d: DeliveryRecord, now: float) -> str | None:
    """For a delivery whose run is going: its id, how long it has run, a pending stop."""
    if d.function_run_id is None or d.status.value not in ("running", "in_flight"):
        return None
    note = f"run {d.function_run_id}"
    if d.run_started_at is not None:
        note += f", running {_elapsed(now - d.run_started_at)}"
    if d.stop_requested_by is not None:
        note += f", stop requested by {d.stop_requested_by}"
    return note


def cmd_deliveries(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        rows = await store.list_deliveries(status=args.status, route=args.route, limit=args.limit)
        now = time.time()
        if args.json:
            print(json.dumps([_delivery_json(d) for d in rows], indent=2))
            return 0
        print(
            format_table(
                [
                    [
                        d.id,
                        d.status.value,
                        d.route,
                        f"{d.attempts}/{d.max_attempts}",
                        _when(d.updated_at),
                        (run_note(d, now) or d.last_error or "")[:60],
                    ]
                    for d in rows
                ],
                ["ID", "STATUS", "ROUTE", "ATTEMPTS", "UPDATED (UTC)", "LAST ERROR / RUN"],
            )
        )
        return 0

    return asyncio.run(with_store(db_url(args), run))


def cmd_replay(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        try:
            record = await store.replay(args.delivery_id, time.time(), actor=_os_user())
        except KeyError:
            print(f"relay: no delivery {args.delivery_id}", file=sys.stderr)
            return 1
        except ValueError as exc:
            print(f"relay: cannot replay: {exc}", file=sys.stderr)
            return 1
        print(
            f"{record.id} re-queued (route {record.route}, "
            f"{record.max_attempts - record.budget_used} attempts available)"
        )
        return 0

    return asyncio.run(with_store(db_url(args), run))


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("deliveries", help="list deliveries")
    p.add_argument("--status", help="pending, in_flight, retry_scheduled, succeeded, dead, ...")
    p.add_argument("--route")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_deliveries)

    p = sub.add_parser("replay", help="re-queue a delivery (dead, failed, needs_review, ...)")
    p.add_argument("delivery_id")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_replay)
