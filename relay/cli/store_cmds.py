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

from relay.store import open_store
from relay.store.base import Store

__all__ = ["DB_HELP", "add_parsers", "db_url", "format_table", "with_store"]

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


async def with_store(url: str, fn: Callable[[Store], Awaitable[int]]) -> int:
    store: Store = open_store(url)
    await store.open()
    try:
        return await fn(store)
    finally:
        await store.close()


# commands --------------------------------------------------------------------------------


def cmd_deliveries(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        from relay.cli.redaction import cli_redactor, delivery_json

        rows = await store.list_deliveries(status=args.status, route=args.route, limit=args.limit)
        r = await cli_redactor(store, args.config)
        if args.json:  # GET /api/deliveries's items
            print(json.dumps([delivery_json(r, d) for d in rows], indent=2))
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
                        r.text(d.last_error or "")[:60],
                    ]
                    for d in rows
                ],
                ["ID", "STATUS", "ROUTE", "ATTEMPTS", "UPDATED (UTC)", "LAST ERROR"],
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
    p.add_argument("--config", help="the config relay serves (default: config/relay.yaml)")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_deliveries)

    p = sub.add_parser("replay", help="re-queue a delivery (dead, failed, needs_review, ...)")
    p.add_argument("delivery_id")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_replay)
