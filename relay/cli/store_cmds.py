"""Commands that read or change the store: deliveries, replay.

Tables show a delivery's reason cut between words and, for one still to be sent, when its
next attempt is due. Replaying a succeeded delivery runs its function again: it shows the
function and variables and asks (or needs ``--yes``)."""

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

from relay._text import shorten
from relay.redact import Redactor
from relay.store.base import WAITING, DeliveryRecord, DeliveryStatus, Store

__all__ = [
    "DB_HELP",
    "add_parsers",
    "db_url",
    "delivery_rows",
    "format_table",
    "next_cell",
    "run_note",
    "with_store",
]

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


def _in(seconds: float) -> str:
    if seconds < 1:
        return "now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"in {seconds / size:.0f}{unit}"
    return f"in {seconds:.0f}s"


def next_cell(d: DeliveryRecord, now: float) -> str:
    """When a delivery still to be sent is due: ``2024-05-01 10:00:05 (in 4m)``."""
    waiting = (DeliveryStatus.PENDING, *WAITING)
    if d.status not in waiting or d.next_attempt_at is None:
        return "-"
    return f"{_when(d.next_attempt_at)} ({_in(d.next_attempt_at - now)})"


def delivery_rows(
    records: list[DeliveryRecord], now: float, r: Redactor, attempts: str = "budget"
) -> str:
    """The deliveries table of ``relay deliveries`` and ``relay dlq``: reasons cut between
    words (``relay deliveries show ID`` has them whole)."""
    return format_table(
        [
            [
                d.id,
                d.status.value,
                d.route,
                f"{d.budget_used if attempts == 'budget' else d.attempts}/{d.max_attempts}",
                _when(d.updated_at),
                next_cell(d, now),
                shorten(r.text(run_note(d, now) or d.last_error or ""), 72),
            ]
            for d in records
        ],
        [
            "ID",
            "STATUS",
            "ROUTE",
            "ATTEMPTS",
            "UPDATED (UTC)",
            "NEXT ATTEMPT (UTC)",
            "REASON / RUN",
        ],
    )


def format_table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


async def with_store(url: str, fn: Callable[[Store], Awaitable[int]]) -> int:
    from relay.store import open_store  # the drivers: only when a command opens the store

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
        from relay.cli.redaction import cli_redactor, delivery_json

        rows = await store.list_deliveries(status=args.status, route=args.route, limit=args.limit)
        r = await cli_redactor(store, args.config)
        if args.json:  # GET /api/deliveries's items
            print(json.dumps([delivery_json(r, d) for d in rows], indent=2))
            return 0
        print(delivery_rows(rows, time.time(), r, attempts="all"))
        return 0

    return asyncio.run(with_store(db_url(args), run))


def _runs_again(d: DeliveryRecord) -> str:
    from relay.redact import Redactor

    variables = Redactor().value(None if d.variables is None else dict(d.variables))
    shown = json.dumps(variables, indent=2, sort_keys=True, default=str)
    return (
        f"{d.id} succeeded: a replay runs function {d.function_id} on target {d.target} "
        f"again (side effects too) with these variables:\n{shown}"
    )


def _confirmed(d: DeliveryRecord, yes: bool) -> bool:
    """A succeeded delivery's replay: ``--yes``, or a "y" at the prompt on a terminal."""
    if yes or d.status is not DeliveryStatus.SUCCEEDED:
        return True
    print(_runs_again(d), file=sys.stderr)
    if not sys.stdin.isatty():
        print("relay: pass --yes to replay a succeeded delivery", file=sys.stderr)
        return False
    answer = input("Run it again? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def cmd_replay(args: argparse.Namespace) -> int:
    who = args.actor or _os_user()

    async def run(store: Store) -> int:
        current = await store.get_delivery(args.delivery_id)
        if current is None:
            print(f"relay: no delivery {args.delivery_id}", file=sys.stderr)
            return 1
        if current.status in WAITING:
            print(
                f"relay: cannot replay: {current.id} is {current.status.value} (waiting, "
                f"next attempt {next_cell(current, time.time())}); to send it now: "
                f"relay deliveries retry {current.id}",
                file=sys.stderr,
            )
            return 1
        if not _confirmed(current, args.yes):
            return 2
        try:
            record = await store.replay(args.delivery_id, time.time(), actor=who)
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
    p.add_argument("--yes", action="store_true", help="replay a succeeded delivery without asking")
    p.add_argument("--actor", help="who does this, for the audit log (default: the OS user)")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_replay)
