"""``relay dlq``: the dead-letter log (``list``) and bulk replay (``replay``), audited with
who did it (``--actor``, or the OS user).

Dead letters are deliveries that are ``dead``, ``failed`` or ``needs_review``, as on the web
page's "Dead letters"; they are read through the views as ``GET /api/deliveries`` reads
them, so ``--json`` prints its items."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from relay.cli.redaction import CONFIG_HELP
from relay.cli.store_cmds import DB_HELP, actor, actor_arg, run_reading, run_with_store
from relay.cli.tables import delivery_rows

if TYPE_CHECKING:
    from relay.redact import Redactor
    from relay.store.base import Store
    from relay.store.log_queries import DeliveryQuery
    from relay.views.models import Delivery

__all__ = ["add_parsers"]

_DLQ_STATUSES = ("dead", "failed", "needs_review")


def _selection(args: argparse.Namespace, now: float) -> DeliveryQuery:
    from relay.durations import parse_duration
    from relay.store.base import DeliveryStatus
    from relay.store.log_queries import DeliveryQuery

    since = None if args.since is None else now - parse_duration(args.since)
    return DeliveryQuery(
        statuses=tuple(DeliveryStatus(s) for s in (args.status or _DLQ_STATUSES)),
        route=args.route,
        target=args.target,
        since=since,
        reason=args.reason,
        limit=args.limit,
        recent_first=True,
    )


async def _dead_letters(store: Store, selection: DeliveryQuery, r: Redactor) -> list[Delivery]:
    from relay.views import queries

    return (await queries.list_deliveries(store, selection, r)).items


def cmd_dlq_list(args: argparse.Namespace) -> int:
    from relay.cli.redaction import cli_redactor
    from relay.views.models import plain

    async def run(store: Store) -> int:
        r = await cli_redactor(store, args.config)
        listed = await _dead_letters(store, _selection(args, time.time()), r)
        if args.json:  # GET /api/deliveries's items
            print(json.dumps(plain(listed), indent=2))
        else:
            print(delivery_rows(listed, time.time(), r))
        return 0

    return run_reading(args, run)


def cmd_dlq_replay(args: argparse.Namespace) -> int:
    from relay.cli.redaction import cli_redactor

    named = args.all or args.status or args.route or args.since or args.reason or args.target
    if not (named or args.dry_run):
        print(
            "relay: name what to replay (--status, --route, --target, --since, --reason) "
            "or pass --all",
            file=sys.stderr,
        )
        return 2

    async def run(store: Store) -> int:
        now = time.time()
        selection = _selection(args, now)
        if args.dry_run:
            r = await cli_redactor(store, None)
            found = await _dead_letters(store, selection, r)
            replayable = [d for d in found if d.replayable]
            print(delivery_rows(replayable, now, r))
            print(f"dry run: {len(replayable)} deliveries would be re-queued")
            return 0
        who = actor(args)
        ids = await store.replay_matching(selection, now, actor=who)
        print(
            f"{len(ids)} deliveries re-queued by {who}; the worker sends them "
            "within each target's concurrency and rate limits"
        )
        return 0

    return run_with_store(args, run)


def _filters(p: argparse.ArgumentParser, since_help: str) -> None:
    p.add_argument("--route")
    p.add_argument("--target")
    p.add_argument("--since", metavar="AGE", help=since_help)
    p.add_argument("--reason", help="a piece of the last error (case-insensitive)")
    p.add_argument(
        "--status",
        action="append",
        choices=_DLQ_STATUSES,
        help="dead, failed or needs_review (default: all three); repeat for several",
    )
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--db", help=DB_HELP)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dlq = sub.add_parser("dlq", help="the dead-letter log: list and bulk replay")
    dlq_sub = dlq.add_subparsers(dest="dlq_action", required=True, metavar="ACTION")
    p = dlq_sub.add_parser("list", help="list dead letters (dead, failed, needs_review)")
    _filters(p, "updated within AGE, e.g. 1h, 30m, 2d")
    p.add_argument("--config", help=CONFIG_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_dlq_list)
    p = dlq_sub.add_parser("replay", help="re-queue dead letters with a fresh budget")
    _filters(p, "updated within AGE, e.g. 24h")
    p.add_argument("--all", action="store_true", help="every match, when no filter is given")
    p.add_argument("--dry-run", action="store_true", help="show what would be re-queued")
    actor_arg(p)
    p.set_defaults(func=cmd_dlq_replay)
