"""``relay serve``."""

from __future__ import annotations

import argparse

from relay.cli.store_cmds import DB_HELP, db_url

__all__ = ["add_parsers"]


def cmd_serve(args: argparse.Namespace) -> int:
    from relay.serve import serve

    return serve(
        config=args.config,
        host=args.host,
        port=args.port,
        db=db_url(args),
        shutdown_grace=args.shutdown_grace,
    )


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="receive webhooks and deliver them")
    p.add_argument("--config", default="config/relay.yaml", help="routing YAML file")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--db", help=DB_HELP)
    p.add_argument(
        "--shutdown-grace",
        type=float,
        metavar="SECONDS",
        default=None,
        help="on SIGTERM, how long runs in flight may still take (default: 10)",
    )
    p.set_defaults(func=cmd_serve)
