"""``relay route``: which routes an event would take, and why not, without sending anything.

* ``relay route FILE --source NAME --payload FILE [--header 'Name: value' ...]``: a sample
  payload through FILE's rules (no signature check).
* ``relay route --event EVENT_ID [--config FILE] [--db URL]``: a stored event through the
  current rules, e.g. after fixing a rule that missed it.

For every route of the source: matched or not, why not (the first failing condition and the
value found), and the variables it would send. ``--json`` prints
``{"routes": [{"name", "matched", "reason", "variables"}]}``.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relay.cli.store_cmds import DB_HELP, run_reading

if TYPE_CHECKING:
    from relay.routing.evaluate import RouteDecision
    from relay.routing.table import RoutingTable
    from relay.store.base import Store

__all__ = ["add_parsers", "format_decisions"]

DEFAULT_CONFIG = "config/relay.yaml"


class _Usage(Exception):
    """A problem with the command's input: printed, exit status 2."""


@dataclass(frozen=True, slots=True)
class _Event:
    source: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    received_at: float
    client_ip: str | None
    stored: tuple[str | None, str | None] | None = None  # (event_type, event_id) as received


def _load(path: str) -> RoutingTable:
    from relay.routing.loader import load_file
    from relay.routing.table import compile_document

    return compile_document(load_file(path, os.environ))


def _outcome(decision: RouteDecision) -> tuple[str | None, dict[str, Any] | None]:
    if decision.matched and decision.error is not None:
        return f"mapping_failed: {decision.error}", None
    return decision.reason, decision.variables


def format_decisions(
    decisions: list[RouteDecision], event_type: str | None, event_id: str | None
) -> str:
    lines = [f"event_type: {event_type!r}, event_id: {event_id!r}"]
    if not decisions:
        lines.append("no routes for this source")
    for decision in decisions:
        name = decision.route.name
        reason, variables = _outcome(decision)
        if not decision.matched:
            lines.append(f"route {name}: not matched: {reason}")
        elif reason is not None:
            lines.append(f"route {name}: matched, but the delivery fails: {reason}")
        else:
            lines.append(f"route {name}: matched -> {decision.route.function_id}")
            shown = json.dumps(variables, ensure_ascii=False, default=str)
            lines.append(f"  variables: {shown}")
    return "\n".join(lines)


def _as_json(decisions: list[RouteDecision], event: dict[str, str | None]) -> str:
    from relay.views.cli_shapes import RouteCheck, RouteDryRun
    from relay.views.models import plain

    routes = []
    for decision in decisions:
        reason, variables = _outcome(decision)
        routes.append(
            RouteCheck(
                name=decision.route.name,
                matched=decision.matched,
                reason=reason,
                variables=variables,
            )
        )
    shown = RouteDryRun(
        source=event["source"] or "",
        event_type=event["event_type"],
        event_id=event["event_id"],
        routes=routes,
    )
    # a value JSON lacks (a date from a template): as text
    return json.dumps(plain(shown), indent=2, ensure_ascii=False, default=str)


def _run(table: RoutingTable, event: _Event, as_json: bool) -> int:
    from relay.body_format import UnprocessableBody
    from relay.providers.base import WebhookRequest
    from relay.routing.evaluate import evaluate, event_context

    source = table.sources.get(event.source)
    if source is None:
        close = difflib.get_close_matches(event.source, list(table.sources), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise _Usage(f"no source named {event.source!r} in {table.path}{hint}")
    headers = {k.lower(): v for k, v in event.headers.items()}
    hook = WebhookRequest("POST", f"/hooks/{event.source}", headers, event.query, event.body)
    try:
        parsed = source.parse(event.body, headers.get("content-type", "application/json"))
    except UnprocessableBody as exc:
        raise _Usage(f"the payload is unprocessable (no route would see it): {exc}") from None
    if event.stored is not None:
        event_type, event_id = event.stored
    else:
        event_type = source.provider.event_type(hook, parsed)
        event_id = source.provider.event_id(hook, parsed)
    context = event_context(
        body=parsed,
        headers=headers,
        query=event.query,
        event_type=event_type,
        event_id=event_id,
        source=event.source,
        received_at=event.received_at,
        client_ip=event.client_ip,
    )
    decisions = evaluate(table, event.source, context, include_disabled=True)
    if as_json:
        shown = {"source": event.source, "event_type": event_type, "event_id": event_id}
        print(_as_json(decisions, shown))
    else:
        print(format_decisions(decisions, event_type, event_id))
    return 0


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise _Usage(f"--header takes 'Name: value', not {text!r}")
    return name.strip().lower(), value.strip()


def _sample(args: argparse.Namespace) -> _Event:
    if args.source is None or args.payload is None:
        raise _Usage("give --source and --payload (or --event EVENT_ID)")
    try:
        body = sys.stdin.buffer.read() if args.payload == "-" else Path(args.payload).read_bytes()
    except OSError as exc:
        raise _Usage(f"cannot read {args.payload}: {exc.strerror}") from None
    headers = dict(_header(h) for h in args.header)
    query = {}
    for item in args.query:
        key, sep, value = item.partition("=")
        if not sep:
            raise _Usage(f"--query takes name=value, not {item!r}")
        query[key] = value
    return _Event(args.source, headers, query, body, time.time(), args.client_ip)


async def _stored(store: Store, event_id: str) -> _Event:
    record = await store.get_event(event_id)
    if record is None:
        raise _Usage(f"no event {event_id}")
    return _Event(
        record.source,
        dict(record.headers),
        dict(record.query),
        record.body,
        record.received_at,
        record.client_ip,
        (record.event_type, record.provider_event_id),
    )


def cmd_route(args: argparse.Namespace) -> int:
    from relay.cli.config_cmds import print_config_errors
    from relay.routing.issues import ConfigErrors

    if args.file and args.config and args.file != args.config:
        print("relay: give the config file once (FILE or --config)", file=sys.stderr)
        return 2
    path = args.file or args.config or DEFAULT_CONFIG
    try:
        table = _load(path)
    except ConfigErrors as exc:
        print_config_errors(exc)
        return 1
    try:
        if args.event is None:
            return _run(table, _sample(args), args.json)
        found: list[_Event] = []

        async def read(store: Store) -> int:
            found.append(await _stored(store, args.event))
            return 0

        status = run_reading(args, read)  # a bad --db: exit status 2
        return _run(table, found[0], args.json) if status == 0 else status
    except _Usage as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return 2


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "route",
        help="dry run: which routes an event takes, why not, and the variables",
        description="Dry run of the routing rules on a sample payload or a stored event.",
    )
    p.add_argument("file", nargs="?", help=f"routing YAML file (default: {DEFAULT_CONFIG})")
    p.add_argument("--config", help="routing YAML file (same as FILE)")
    p.add_argument("--source", help="the source the payload arrives at")
    p.add_argument("--payload", help="the payload file ('-': standard input)")
    p.add_argument(
        "--header", action="append", default=[], metavar="'NAME: VALUE'", help="repeatable"
    )
    p.add_argument("--query", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--client-ip", help="the sender's address, for client_ip conditions")
    p.add_argument("--event", metavar="EVENT_ID", help="replay a stored event instead")
    p.add_argument("--db", help=DB_HELP)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_route)
