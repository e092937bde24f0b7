"""Operating deliveries: the dead-letter log and bulk replay, retry now, cancel, a delivery's
history, and targets (state, pause, resume). Every change is audited with who made it:
``--actor``, or the OS user.

Dead letters are deliveries that are ``dead``, ``failed`` or ``needs_review``, as on the web
page's "Dead letters"."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

from relay._text import shorten
from relay.cli.redaction import CONFIG_HELP, cli_redactor, delivery_json
from relay.cli.store_cmds import DB_HELP, db_url, delivery_rows, format_table, run_note, with_store
from relay.redact import Redactor
from relay.store.base import (
    REPLAYABLE,
    DeliveryFilter,
    DeliveryRecord,
    DeliveryStatus,
    Store,
    TargetOverview,
)

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
    from relay.durations import parse_duration  # pydantic: only when needed

    since = None if args.since is None else now - parse_duration(args.since)
    return DeliveryFilter(
        statuses=tuple(DeliveryStatus(s) for s in (args.status or _DLQ_STATUSES)),
        route=args.route,
        target=args.target,
        since=since,
        reason=args.reason,
        limit=args.limit,
    )


def _rows(records: list[DeliveryRecord], r: Redactor) -> str:
    return delivery_rows(records, time.time(), r)


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


def cmd_retry(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        try:
            record = await store.retry_now(args.delivery_id, time.time(), actor=_actor(args))
        except KeyError:
            print(f"relay: no delivery {args.delivery_id}", file=sys.stderr)
            return 1
        except ValueError as exc:
            print(f"relay: cannot retry now: {exc}", file=sys.stderr)
            return 1
        print(
            f"{record.id} due now (route {record.route}, "
            f"{record.budget_used}/{record.max_attempts} attempts used); a running relay "
            "sends it within its target's limits"
        )
        return 0

    return _run(args, run)


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


def cmd_stop(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        try:
            record = await store.request_stop(args.delivery_id, time.time(), actor=_actor(args))
        except KeyError:
            print(f"relay: no delivery {args.delivery_id}", file=sys.stderr)
            return 1
        except ValueError as exc:
            print(f"relay: cannot stop: {exc}", file=sys.stderr)
            return 1
        print(
            f"{record.id}: stop of run {record.function_run_id} requested by "
            f"{record.stop_requested_by}; relay stops it through the API and records it as "
            "stopped (`relay deliveries show` follows it)"
        )
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
            from relay.views import queries  # pydantic: only for the JSON form

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
        note = run_note(record, time.time())
        if note:
            print(note)
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
                        shorten(r.text(a.error or ""), 72),
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
                        shorten(r.text(t.reason or ""), 90),
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
        help="dead, failed or needs_review (default: all three); repeat for several",
    )
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--db", help=DB_HELP)


def _actor_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--actor", help="who does this, for the audit log (default: the OS user)")


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
    p = actions.add_parser(
        "retry", help="send a waiting (retry_scheduled or paused) delivery now, same budget"
    )
    p.add_argument("delivery_id")
    _actor_arg(p)
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_retry)
    p = actions.add_parser("stop", help="stop the Notte run of a running delivery")
    p.add_argument("delivery_id")
    _actor_arg(p)
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_stop)
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
