"""Operating deliveries: the dead-letter log and bulk replay, cancel, a delivery's history,
and targets (state, pause, resume). Every change is audited with who made it: ``--actor``,
or the OS user."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

from relay.cli.redaction import CONFIG_HELP, cli_redactor, delivery_json
from relay.cli.store_cmds import DB_HELP, db_url, format_table, with_store
from relay.redact import Redactor
from relay.store.base import (
    REPLAYABLE,
    DeliveryFilter,
    DeliveryRecord,
    DeliveryStatus,
    Store,
    TargetOverview,
)
from relay.views import queries

__all__ = ["add_parsers"]

_DLQ_STATUSES = ("dead", "failed", "needs_review")


def _actor(args: argparse.Namespace) -> str:
    if args.actor:
        return str(args.actor)
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _selection(args: argparse.Namespace, now: float) -> DeliveryFilter:
    from relay.routing.durations import parse_duration  # pydantic: only when needed

    since = None if args.since is None else now - parse_duration(args.since)
    return DeliveryFilter(
        statuses=tuple(DeliveryStatus(s) for s in (args.status or ["dead"])),
        route=args.route,
        target=args.target,
        since=since,
        reason=args.reason,
        limit=args.limit,
    )


def _rows(records: list[DeliveryRecord], r: Redactor) -> str:
    return format_table(
        [
            [
                d.id,
                d.status.value,
                d.route,
                f"{d.budget_used}/{d.max_attempts}",
                _when(d.updated_at),
                r.text(d.last_error or "")[:70],
            ]
            for d in records
        ],
        ["ID", "STATUS", "ROUTE", "ATTEMPTS", "UPDATED (UTC)", "LAST ERROR"],
    )


def _run(args: argparse.Namespace, fn: Any) -> int:
    try:
        return asyncio.run(with_store(db_url(args), fn))
    except ValueError as exc:  # a bad --since, a bad database URL
        print(f"relay: {exc}", file=sys.stderr)
        return 2


# dead letters ----------------------------------------------------------------------------


def cmd_dlq_list(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        records = await store.find_deliveries(_selection(args, time.time()))
        r = await cli_redactor(store, args.config)
        if args.json:  # GET /api/deliveries's items
            print(json.dumps([delivery_json(r, d) for d in records], indent=2))
        else:
            print(_rows(records, r))
        return 0

    return _run(args, run)


def cmd_dlq_replay(args: argparse.Namespace) -> int:
    if not (args.all or args.route or args.since or args.reason or args.target):
        print(
            "relay: name what to replay (--route, --target, --since, --reason) or pass --all",
            file=sys.stderr,
        )
        return 2

    async def run(store: Store) -> int:
        now = time.time()
        selection = _selection(args, now)
        if args.dry_run:
            found = await store.find_deliveries(selection)
            records = [d for d in found if d.status in REPLAYABLE]
            print(_rows(records, await cli_redactor(store, None)))
            print(f"dry run: {len(records)} deliveries would be re-queued")
            return 0
        ids = await store.replay_matching(selection, now, actor=_actor(args))
        print(
            f"{len(ids)} deliveries re-queued by {_actor(args)}; the worker sends them "
            "within each target's concurrency and rate limits"
        )
        return 0

    return _run(args, run)


# one delivery ----------------------------------------------------------------------------


def cmd_cancel(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        try:
            record = await store.cancel(
                args.delivery_id, time.time(), actor=_actor(args), reason=args.reason
            )
        except KeyError:
            print(f"relay: no delivery {args.delivery_id}", file=sys.stderr)
            return 1
        except ValueError as exc:
            print(f"relay: cannot cancel: {exc}", file=sys.stderr)
            return 1
        print(f"{record.id} cancelled (route {record.route})")
        return 0

    return _run(args, run)


def cmd_show(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        record = await store.get_delivery(args.delivery_id)
        if record is None:
            print(f"relay: no delivery {args.delivery_id}", file=sys.stderr)
            return 1
        r = await cli_redactor(store, args.config)
        if args.json:  # GET /api/deliveries/{id}: the same shape, redacted the same way
            detail = await queries.delivery_detail(store, record.id, r)
            if detail is None:  # purged meanwhile
                print(f"relay: no delivery {args.delivery_id}", file=sys.stderr)
                return 1
            print(json.dumps(detail.model_dump(mode="json"), indent=2))
            return 0
        event = await store.get_event(record.event_id)
        if event is not None:  # what the request carried under secret keys, too
            r = r.learned(event.headers, event.body)
        attempts = await store.list_attempts(record.id)
        transitions = await store.list_transitions(record.id)
        print(f"{record.id}  {record.status.value}  route {record.route}  target {record.target}")
        print(f"run: {record.function_run_id or '-'}  status: {record.run_status or '-'}")
        print()
        print(
            format_table(
                [
                    [
                        str(a.number),
                        _when(a.started_at),
                        a.outcome or "(open)",
                        "-" if a.status_code is None else str(a.status_code),
                        a.run_status or "-",
                        r.text(a.error or "")[:60],
                    ]
                    for a in attempts
                ],
                ["#", "STARTED (UTC)", "OUTCOME", "HTTP", "RUN", "ERROR"],
            )
        )
        print()
        print(
            format_table(
                [
                    [
                        _when(t.at),
                        t.from_status.value if t.from_status else "-",
                        t.to_status.value,
                        t.actor,
                        r.text(t.reason or "")[:80],
                    ]
                    for t in transitions
                ],
                ["AT (UTC)", "FROM", "TO", "BY", "REASON"],
            )
        )
        return 0

    return _run(args, run)


# targets ---------------------------------------------------------------------------------


def _target_json(t: TargetOverview) -> dict[str, Any]:
    s = t.state
    return {
        "target": s.target,
        "paused": s.paused,
        "paused_by": s.paused_by,
        "paused_at": s.paused_at,
        "breaker": s.breaker,
        "breaker_until": s.breaker_until,
        "throttled_until": s.throttled_until,
        "in_flight": t.in_flight,
        "max_concurrency": s.max_concurrency,
        "queued": t.queued,
    }


def cmd_targets(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        overview = await store.target_overview()
        if args.json:
            print(json.dumps([_target_json(t) for t in overview], indent=2))
            return 0
        now = time.time()
        rows = []
        for t in overview:
            s = t.state
            breaker = s.breaker
            if s.breaker_until is not None:
                breaker += f" until {_when(s.breaker_until)}"
            throttled = s.throttled_until if (s.throttled_until or 0) > now else None
            limit = "?" if s.max_concurrency is None else str(s.max_concurrency)
            rows.append(
                [
                    s.target,
                    f"paused by {s.paused_by}" if s.paused else "running",
                    breaker,
                    _when(throttled),
                    f"{t.in_flight}/{limit}",
                    str(t.queued),
                ]
            )
        headers = ["TARGET", "STATE", "BREAKER", "429 PAUSE UNTIL", "IN FLIGHT", "QUEUED"]
        print(format_table(rows, headers))
        return 0

    return _run(args, run)


def cmd_target_pause(args: argparse.Namespace) -> int:
    paused = args.targets_action == "pause"

    async def run(store: Store) -> int:
        state = await store.set_target_paused(args.name, paused, time.time(), actor=_actor(args))
        if paused:
            print(f"target {state.target} paused by {state.paused_by}: nothing new is sent")
        else:
            print(f"target {state.target} resumed")
        return 0

    return _run(args, run)


# parsers ---------------------------------------------------------------------------------


def _filters(p: argparse.ArgumentParser, since_help: str) -> None:
    p.add_argument("--route")
    p.add_argument("--target")
    p.add_argument("--since", metavar="AGE", help=since_help)
    p.add_argument("--reason", help="a piece of the last error (case-insensitive)")
    p.add_argument(
        "--status",
        action="append",
        choices=_DLQ_STATUSES,
        help="dead (default), failed or needs_review; repeat for several",
    )
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--db", help=DB_HELP)


def _actor_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--actor", help="who does this, for the audit log (default: the OS user)")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dlq = sub.add_parser("dlq", help="the dead-letter log: list and bulk replay")
    dlq_sub = dlq.add_subparsers(dest="dlq_action", required=True, metavar="ACTION")
    p = dlq_sub.add_parser("list", help="list dead deliveries")
    _filters(p, "updated within AGE, e.g. 1h, 30m, 2d")
    p.add_argument("--config", help=CONFIG_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_dlq_list)
    p = dlq_sub.add_parser("replay", help="re-queue dead deliveries with a fresh budget")
    _filters(p, "updated within AGE, e.g. 24h")
    p.add_argument("--all", action="store_true", help="every match, when no filter is given")
    p.add_argument("--dry-run", action="store_true", help="show what would be re-queued")
    _actor_arg(p)
    p.set_defaults(func=cmd_dlq_replay)

    # `relay deliveries` (listing, in store_cmds) gains actions on one delivery.
    deliveries = sub.choices["deliveries"]
    actions = deliveries.add_subparsers(dest="deliveries_action", metavar="ACTION")
    p = actions.add_parser("cancel", help="cancel a pending, scheduled, paused or held delivery")
    p.add_argument("delivery_id")
    p.add_argument("--reason")
    _actor_arg(p)
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_cancel)
    p = actions.add_parser("show", help="a delivery's attempts, run outcome and transitions")
    p.add_argument("delivery_id")
    p.add_argument("--config", help=CONFIG_HELP)
    p.add_argument("--json", action="store_true")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_show)

    targets = sub.add_parser("targets", help="targets: state, pause, resume")
    targets.add_argument("--json", action="store_true")
    targets.add_argument("--db", help=DB_HELP)
    targets.set_defaults(func=cmd_targets)
    target_sub = targets.add_subparsers(dest="targets_action", metavar="ACTION")
    for action, text in (("pause", "stop sending to a target"), ("resume", "send again")):
        p = target_sub.add_parser(action, help=text)
        p.add_argument("name")
        _actor_arg(p)
        p.add_argument("--db", help=DB_HELP)
        p.set_defaults(func=cmd_target_pause)
