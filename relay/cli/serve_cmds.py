"""``relay serve``."""

from __future__ import annotations

import argparse
import os

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
        lease_ttl=args.lease_ttl,
        receive_timeout=args.receive_timeout,
        allow_insecure=args.allow_insecure,
        forwarded_allow_ips=args.forwarded_allow_ips,
        body_memory=args.body_memory,
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
    p.add_argument(
        "--lease-ttl",
        type=float,
        metavar="SECONDS",
        default=None,
        help="PostgreSQL: how soon a crashed instance's runs in flight are taken back by the "
        "others when its liveness token cannot tell them sooner (renewed every third of it "
        "while alive; default: 30)",
    )
    p.add_argument(
        "--receive-timeout",
        type=float,
        metavar="SECONDS",
        default=None,
        help="how long a client has to send a request's headers, and then its body; "
        "slower ones are closed (408) (default: 10)",
    )
    p.add_argument(
        "--allow-insecure",
        action="store_true",
        help="listen on a non-loopback address even with demo webhook secrets or a "
        "provider: none source (also RELAY_ALLOW_INSECURE=1); refused otherwise",
    )
    p.add_argument(
        "--forwarded-allow-ips",
        metavar="ADDRESSES",
        default=os.environ.get("RELAY_FORWARDED_ALLOW_IPS") or None,
        help="comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For / X-Forwarded-Proto relay believes ('*': any); by default none, and "
        "the client is the TCP peer (env: RELAY_FORWARDED_ALLOW_IPS)",
    )
    p.add_argument(
        "--body-memory",
        type=int,
        metavar="BYTES",
        default=None,
        help="webhook bodies held in memory at once, over all requests; a request that would "
        "need more is answered 503 with Retry-After (default: 268435456, 256 MiB)",
    )
    p.set_defaults(func=cmd_serve)
