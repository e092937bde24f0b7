"""Reading the delivery log from the store the server writes: ``relay events``, ``relay
show``, ``relay tail`` and ``relay stats``. Tables for people, ``--json`` for scripts (the
same shapes as the JSON API)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from typing import TYPE_CHECKING

from relay._text import when
from relay.cli.redaction import CONFIG_HELP
from relay.cli.store_cmds import DB_HELP, run_reading, run_with_store
from relay.cli.tables import format_table

if TYPE_CHECKING:
    from relay.store.base import Store
    from relay.views.cli_shapes import TailLine
    from relay.views.models import SourceStats

__all__ = ["add_parsers"]


def cmd_events(args: argparse.Namespace) -> int:
    from relay.cli.redaction import cli_redactor
    from relay.views import queries
    from relay.views.filters import (
        EventFilter,
        parse_cursor,
        parse_event_status,
        parse_limit,
        parse_time,
    )
    from relay.views.models import plain

    async def run(store: Store) -> int:
        now = time.time()
        limit = parse_limit(args.limit)  # the API's checks and messages
        f = EventFilter(
            source=args.source,
            status=parse_event_status(args.status),
            route=args.route,
            since=parse_time(args.since, now),
            text=args.search,
        )
        cursor = parse_cursor(args.cursor, ("evt", "rej"))
        r = await cli_redactor(store, args.config)
        page = await queries.list_events(store, f, cursor, limit, r)
        if args.json:
            print(json.dumps(plain(page), indent=2))
            return 0
        rows = [
            [
                when(e.received_at),
                e.id,
                e.source,
                e.event_type or "-",
                e.status
                + (f" x{e.count}" if e.count > 1 else "")
                + (f" ({e.error.splitlines()[0]})" if e.error else ""),
                ", ".join(f"{r.route}:{r.status}" for r in e.routes) or "-",
                str(e.duplicates or ""),
                e.client_ip or "-",
            ]
            for e in page.items
        ]
        headers = ["RECEIVED (UTC)", "ID", "SOURCE", "TYPE", "STATUS", "ROUTES", "DUP", "CLIENT"]
        print(format_table(rows, headers))
        if page.next_cursor:
            print(f"more: relay events --cursor {page.next_cursor} (same filters)")
        return 0

    return run_reading(args, run)


def cmd_show(args: argparse.Namespace) -> int:
    from relay.cli.redaction import cli_redactor
    from relay.cli.show_cmd import render_event
    from relay.views import queries
    from relay.views.models import plain

    async def run(store: Store) -> int:
        r = await cli_redactor(store, args.config)
        item_id: str = args.id
        only = None
        if item_id.startswith("dlv_"):
            delivery = await store.get_delivery(item_id)
            if delivery is None:
                print(f"relay: no delivery {item_id}", file=sys.stderr)
                return 1
            only, item_id = delivery.id, delivery.event_id
        event = await queries.event_detail(store, item_id, r)
        if event is None:
            print(f"relay: no event {item_id}", file=sys.stderr)
            return 1
        if args.json:
            shown = event
            if only is not None:
                kept = [d for d in event.deliveries if d.id == only]
                shown = dataclasses.replace(event, deliveries=kept)
            print(json.dumps(plain(shown), indent=2, ensure_ascii=False))
            return 0
        print(render_event(event, only))
        return 0

    return run_reading(args, run)


_SOURCE_HEADERS = [
    *("SOURCE", "RECEIVED", "ROUTED", "UNROUTED"),
    *("UNPROCESSABLE", "DUPLICATES", "REJECTED"),
]
_ROUTE_HEADERS = [
    *("ROUTE", "TARGET", "DELIVERIES", "SUCCEEDED", "FAILED"),
    *("IN PROGRESS", "SUCCESS", "MEAN ATTEMPT"),
]


def _source_counts(s: SourceStats) -> tuple[int, ...]:
    return (s.received, s.routed, s.unrouted, s.unprocessable, s.duplicates, s.rejected)


def cmd_stats(args: argparse.Namespace) -> int:
    from relay.views import queries
    from relay.views.filters import parse_time
    from relay.views.models import plain

    async def run(store: Store) -> int:
        now = time.time()
        since = parse_time(args.since, now)
        assert since is not None
        stats = await queries.stats(store, since, parse_time(args.until, now, "until"))
        if args.json:
            print(json.dumps(plain(stats), indent=2))
            return 0
        until = f" until {when(stats.until)} UTC" if stats.until else ""
        print(f"since {when(stats.since)} UTC{until}")
        print()
        print(
            format_table(
                [[s.source, *(str(n) for n in _source_counts(s))] for s in stats.sources],
                _SOURCE_HEADERS,
            )
        )
        print()
        rows = []
        for r in stats.routes:
            rate = "-" if r.success_rate is None else f"{r.success_rate * 100:.1f}%"
            mean = "-" if r.mean_attempt_ms is None else f"{r.mean_attempt_ms:.0f} ms"
            counts = [r.deliveries, r.succeeded, r.failed, r.in_progress]
            rows.append([r.route, r.target, *(str(n) for n in counts), rate, mean])
        print(
            format_table(
                rows,
                _ROUTE_HEADERS,
            )
        )
        return 0

    return run_reading(args, run)


def cmd_tail(args: argparse.Namespace) -> int:
    from relay.cli.redaction import cli_redactor
    from relay.cli.tail_cmd import Tailer, format_line
    from relay.clock import SystemClock
    from relay.views.filters import parse_time
    from relay.views.models import fields_of

    async def run(store: Store) -> int:
        clock = SystemClock()
        start = parse_time(args.since, clock.now()) if args.since else None
        printed = 0
        r = await cli_redactor(store, args.config)

        def emit(line: TailLine) -> None:
            nonlocal printed
            if args.limit is None or printed < args.limit:
                texts = {
                    k: r.text(v)
                    for k, v in fields_of(line).items()
                    if isinstance(v, str) and k != "kind"
                }
                print(format_line(dataclasses.replace(line, **texts), args.json), flush=True)  # type: ignore[arg-type]
                printed += 1

        tailer = Tailer(store, clock, emit, source=args.source, start=start)
        await tailer.run(interval=args.interval, once=args.once, limit=args.limit)
        return 0

    try:
        return run_with_store(args, run)
    except KeyboardInterrupt:
        return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("events", help="received events and rejected requests, newest first")
    p.add_argument("--source")
    p.add_argument("--route", help="events with a delivery for this route")
    p.add_argument(
        "--status", help="routed, unrouted, unprocessable, duplicate or rejected (as the API)"
    )
    p.add_argument(
        "--since", metavar="AGE", help="received within AGE (1h, 30m, 2d) or after a time"
    )
    p.add_argument("--search", metavar="TEXT", help="a piece of the event id or provider id")
    p.add_argument("--limit", default="50", help="from 1 to 500 (default 50)")
    p.add_argument("--cursor", help="the next page: the cursor the page before printed")
    p.add_argument("--config", help=CONFIG_HELP)
    p.add_argument("--json", action="store_true")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_events)

    p = sub.add_parser("show", help="an event or a delivery in full: payload, routes, attempts")
    p.add_argument("id", metavar="EVENT_OR_DELIVERY_ID")
    p.add_argument("--config", help=CONFIG_HELP)
    p.add_argument("--json", action="store_true")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("tail", help="follow events, rejections and attempts live (Ctrl-C stops)")
    p.add_argument("--source")
    p.add_argument("--config", help=CONFIG_HELP)
    p.add_argument("--since", metavar="AGE", help="start with what came within AGE (default: now)")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    p.add_argument("--once", action="store_true", help="poll once and exit")
    p.add_argument("--limit", type=int, help="exit after this many lines")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_tail)

    p = sub.add_parser("stats", help="per source and route counts and success rates")
    p.add_argument("--since", default="24h", metavar="AGE", help="window start (default 24h)")
    p.add_argument("--until", metavar="TIME", help="window end (default now)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_stats)
