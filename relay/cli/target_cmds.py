"""``relay targets``: each target's state (paused, breaker, 429 pause, in flight, queued),
and ``pause`` / ``resume`` (audited with ``--actor``, or the OS user).

The listing reads the views as ``GET /api/targets`` does: ``--json`` prints its items, with
``configured`` and the concurrency limit from the config (``--config``, else
``config/relay.yaml`` when it is there)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING

from relay._text import when
from relay.cli.redaction import DEFAULT_CONFIG, config_path
from relay.cli.store_cmds import DB_HELP, actor, actor_arg, run_reading, run_with_store
from relay.cli.tables import format_table

if TYPE_CHECKING:
    from relay.store.base import Store
    from relay.views.models import Target

__all__ = ["add_parsers"]

_HEADERS = ["TARGET", "STATE", "BREAKER", "429 PAUSE UNTIL", "IN FLIGHT", "QUEUED"]


def _configured(config: str | None) -> dict[str, int]:
    """The config's targets and their concurrency limits ({} when no config is known)."""
    path = config_path(config)
    if path is None:
        return {}
    from relay.routing.issues import ConfigErrors
    from relay.routing.loader import load_file

    try:
        targets = load_file(path, dict(os.environ)).config.targets
    except ConfigErrors as exc:
        print(f"relay: cannot read {exc.file}: the config's targets are not shown", file=sys.stderr)
        return {}
    return {name: t.max_concurrency for name, t in targets.items()}


def _row(t: Target, now: float) -> list[str]:
    breaker: str = t.breaker
    if t.breaker_until is not None:
        breaker += f" until {when(t.breaker_until)}"
    throttled = t.throttled_until if (t.throttled_until or 0) > now else None
    limit = "?" if t.max_concurrency is None else str(t.max_concurrency)
    return [
        t.name,
        f"paused by {t.paused_by}" if t.paused else "running",
        breaker,
        when(throttled),
        f"{t.in_flight}/{limit}",
        str(t.queued),
    ]


def cmd_targets(args: argparse.Namespace) -> int:
    from relay.views import queries
    from relay.views.models import plain

    configured = _configured(args.config)

    async def run(store: Store) -> int:
        targets = await queries.list_targets(store, configured)
        if args.json:  # GET /api/targets's items
            print(json.dumps(plain(targets), indent=2))
            return 0
        now = time.time()
        print(format_table([_row(t, now) for t in targets], _HEADERS))
        return 0

    return run_reading(args, run)


def cmd_target_pause(args: argparse.Namespace) -> int:
    paused = args.targets_action == "pause"

    async def run(store: Store) -> int:
        state = await store.set_target_paused(args.name, paused, time.time(), actor=actor(args))
        if paused:
            print(f"target {state.target} paused by {state.paused_by}: nothing new is sent")
        else:
            print(f"target {state.target} resumed")
        return 0

    return run_with_store(args, run)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    targets = sub.add_parser("targets", help="targets: state, pause, resume")
    targets.add_argument("--json", action="store_true")
    targets.add_argument(
        "--config",
        help=f"the config relay serves (default: {DEFAULT_CONFIG} when it exists): which "
        "targets it names, and their concurrency limits",
    )
    targets.add_argument("--db", help=DB_HELP)
    targets.set_defaults(func=cmd_targets)
    target_sub = targets.add_subparsers(dest="targets_action", metavar="ACTION")
    for action, text in (("pause", "stop sending to a target"), ("resume", "send again")):
        p = target_sub.add_parser(action, help=text)
        p.add_argument("name")
        actor_arg(p)
        p.add_argument("--db", help=DB_HELP)
        p.set_defaults(func=cmd_target_pause)
