"""``relay deliveries``: list deliveries, and act on one: ``show`` (its attempts, run outcome
and transitions), ``retry`` (a waiting one, now), ``cancel``, ``stop`` (its run); and
``relay replay`` (re-queue one). Every change is audited with who made it: ``--actor``, or
the OS user.

Listings and ``show`` read the views (``relay.views``) as the JSON API does: ``--json``
prints the API's shapes, redacted the same way. Replaying a succeeded delivery runs its
function again: it shows the function and variables and asks (or needs ``--yes``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from relay._text import shorten, when
from relay.cli.redaction import CONFIG_HELP
from relay.cli.store_cmds import DB_HELP, actor, actor_arg, run_reading, run_with_store
from relay.cli.tables import delivery_rows, format_table, next_cell, run_note

if TYPE_CHECKING:
    from relay.store.base import DeliveryRecord, Store
    from relay.views.models import DeliveryDetail

__all__ = ["add_parsers"]


async def _moved(
    delivery_id: str, verb: str, move: Awaitable[DeliveryRecord]
) -> DeliveryRecord | None:
    """The delivery after ``move`` (retry, cancel, stop, replay), or None once the reason it
    could not move is printed: no such delivery, or its status does not allow it."""
    try:
        return await move
    except KeyError:
        print(f"relay: no delivery {delivery_id}", file=sys.stderr)
    except ValueError as exc:
        print(f"relay: cannot {verb}: {exc}", file=sys.stderr)
    return None


# the listing -----------------------------------------------------------------------------


def cmd_deliveries(args: argparse.Namespace) -> int:
    from relay.cli.redaction import cli_redactor
    from relay.store.log_queries import DeliveryQuery
    from relay.views import queries
    from relay.views.filters import parse_delivery_statuses
    from relay.views.models import plain

    async def run(store: Store) -> int:
        statuses = parse_delivery_statuses([args.status] if args.status else [])
        query = DeliveryQuery(statuses=statuses, route=args.route, limit=args.limit)
        r = await cli_redactor(store, args.config)
        page = await queries.list_deliveries(store, query, r)
        if args.json:  # GET /api/deliveries's items
            print(json.dumps(plain(page.items), indent=2))
            return 0
        print(delivery_rows(page.items, time.time(), r, attempts="all"))
        return 0

    return run_reading(args, run)


# one delivery ----------------------------------------------------------------------------


def _show_text(d: DeliveryDetail) -> str:
    lines = [
        f"{d.id}  {d.status}  route {d.route}  target {d.target}",
        f"run: {d.function_run_id or '-'}  status: {d.run_status or '-'}",
    ]
    note = run_note(d, time.time())
    if note:
        lines.append(note)
    attempts = format_table(
        [
            [
                str(a.number),
                when(a.started_at),
                a.outcome or "(open)",
                "-" if a.status_code is None else str(a.status_code),
                a.run_status or "-",
                shorten(a.error or "", 72),
            ]
            for a in d.attempt_log
        ],
        ["#", "STARTED (UTC)", "OUTCOME", "HTTP", "RUN", "ERROR"],
    )
    transitions = format_table(
        [
            [when(t.at), t.from_status or "-", t.to_status, t.actor, shorten(t.reason or "", 90)]
            for t in d.transitions
        ],
        ["AT (UTC)", "FROM", "TO", "BY", "REASON"],
    )
    return "\n".join([*lines, "", attempts, "", transitions])


def cmd_show(args: argparse.Namespace) -> int:
    from relay.cli.redaction import cli_redactor
    from relay.views import queries
    from relay.views.models import plain

    async def run(store: Store) -> int:
        r = await cli_redactor(store, args.config)
        # GET /api/deliveries/{id}: the same shape, redacted the same way (the event's
        # secrets too)
        detail = await queries.delivery_detail(store, args.delivery_id, r)
        if detail is None:
            print(f"relay: no delivery {args.delivery_id}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(plain(detail), indent=2))
        else:
            print(_show_text(detail))
        return 0

    return run_reading(args, run)


def cmd_retry(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        move = store.retry_now(args.delivery_id, time.time(), actor=actor(args))
        record = await _moved(args.delivery_id, "retry now", move)
        if record is None:
            return 1
        print(
            f"{record.id} due now (route {record.route}, "
            f"{record.budget_used}/{record.max_attempts} attempts used); a running relay "
            "sends it within its target's limits"
        )
        return 0

    return run_with_store(args, run)


def cmd_cancel(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        move = store.cancel(args.delivery_id, time.time(), actor=actor(args), reason=args.reason)
        record = await _moved(args.delivery_id, "cancel", move)
        if record is None:
            return 1
        print(f"{record.id} cancelled (route {record.route})")
        return 0

    return run_with_store(args, run)


def cmd_stop(args: argparse.Namespace) -> int:
    async def run(store: Store) -> int:
        move = store.request_stop(args.delivery_id, time.time(), actor=actor(args))
        record = await _moved(args.delivery_id, "stop", move)
        if record is None:
            return 1
        print(
            f"{record.id}: stop of run {record.function_run_id} requested by "
            f"{record.stop_requested_by}; relay stops it through the API and records it as "
            "stopped (`relay deliveries show` follows it)"
        )
        return 0

    return run_with_store(args, run)


# replay ----------------------------------------------------------------------------------


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
    from relay.store.base import DeliveryStatus

    if yes or d.status is not DeliveryStatus.SUCCEEDED:
        return True
    print(_runs_again(d), file=sys.stderr)
    if not sys.stdin.isatty():
        print("relay: pass --yes to replay a succeeded delivery", file=sys.stderr)
        return False
    answer = input("Run it again? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def cmd_replay(args: argparse.Namespace) -> int:
    who = actor(args)

    async def run(store: Store) -> int:
        from relay.redact import Redactor
        from relay.store.base import WAITING
        from relay.views import build

        current = await store.get_delivery(args.delivery_id)
        if current is None:
            print(f"relay: no delivery {args.delivery_id}", file=sys.stderr)
            return 1
        if current.status in WAITING:
            due = next_cell(build.delivery(Redactor(), current), time.time())
            print(
                f"relay: cannot replay: {current.id} is {current.status.value} (waiting, "
                f"next attempt {due}); to send it now: relay deliveries retry {current.id}",
                file=sys.stderr,
            )
            return 1
        if not _confirmed(current, args.yes):
            return 2
        record = await _moved(
            args.delivery_id, "replay", store.replay(args.delivery_id, time.time(), actor=who)
        )
        if record is None:
            return 1
        print(
            f"{record.id} re-queued (route {record.route}, "
            f"{record.max_attempts - record.budget_used} attempts available)"
        )
        return 0

    return run_with_store(args, run)


# parsers ---------------------------------------------------------------------------------


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("deliveries", help="list deliveries")
    p.add_argument(
        "--status",
        help="pending, in_flight, retry_scheduled, succeeded, dead, ... (comma-separated)",
    )
    p.add_argument("--route")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--config", help=CONFIG_HELP)
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_deliveries)
    actions = p.add_subparsers(dest="deliveries_action", metavar="ACTION")
    q = actions.add_parser("cancel", help="cancel a pending, scheduled, paused or held delivery")
    q.add_argument("delivery_id")
    q.add_argument("--reason")
    actor_arg(q)
    q.add_argument("--db", help=DB_HELP)
    q.set_defaults(func=cmd_cancel)
    q = actions.add_parser(
        "retry", help="send a waiting (retry_scheduled or paused) delivery now, same budget"
    )
    q.add_argument("delivery_id")
    actor_arg(q)
    q.add_argument("--db", help=DB_HELP)
    q.set_defaults(func=cmd_retry)
    q = actions.add_parser("stop", help="stop the Notte run of a running delivery")
    q.add_argument("delivery_id")
    actor_arg(q)
    q.add_argument("--db", help=DB_HELP)
    q.set_defaults(func=cmd_stop)
    q = actions.add_parser("show", help="a delivery's attempts, run outcome and transitions")
    q.add_argument("delivery_id")
    q.add_argument("--config", help=CONFIG_HELP)
    q.add_argument("--json", action="store_true")
    q.add_argument("--db", help=DB_HELP)
    q.set_defaults(func=cmd_show)

    p = sub.add_parser("replay", help="re-queue a delivery (dead, failed, needs_review, ...)")
    p.add_argument("delivery_id")
    p.add_argument("--yes", action="store_true", help="replay a succeeded delivery without asking")
    actor_arg(p)
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_replay)
