"""``relay urls``: each source's webhook URL, where to paste it in the provider's settings,
and the event types the source's routes use. It prints no secret; it warns (stderr) about
unauthenticated sources and URL-signing providers whose ``public_url`` differs."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from relay.routing.config import RouteConfig

__all__ = ["add_parsers", "cmd_urls"]

LOCAL_BASE_URL: Final = "http://localhost:8080"  # relay serve's default port
_WIDTH: Final = 100


_NONE_WARNING = "warning: source {name!r} uses provider 'none': requests are NOT authenticated"


def _url_warnings(name: str, provider: str, options: dict[str, object], url: str) -> list[str]:
    from relay.providers.registry import PROVIDERS

    warnings: list[str] = []
    if provider == "none":
        warnings.append(_NONE_WARNING.format(name=name))
    public_url = options.get("public_url")
    spec = PROVIDERS.get(provider)
    signs_url = spec is not None and spec.signs_url
    if signs_url and isinstance(public_url, str) and public_url != url:
        warnings.append(
            f"warning: source {name!r}: public_url differs from {url}; {provider} signs the URL "
            "it calls, so it must be the public_url (fine only behind a rewriting proxy)"
        )
    return warnings


def cmd_urls(args: argparse.Namespace) -> int:
    from relay.cli.config_cmds import print_config_errors
    from relay.providers.registry import PROVIDERS
    from relay.routing.issues import ConfigErrors
    from relay.routing.loader import load_file

    local = args.base_url is None
    base: str = (args.base_url or LOCAL_BASE_URL).rstrip("/")
    if not base.startswith(("http://", "https://")):
        print("relay urls: --base-url must start with http:// or https://", file=sys.stderr)
        return 2
    try:
        doc = load_file(args.config, os.environ)
    except ConfigErrors as exc:
        print_config_errors(exc)
        return 1
    indent = "    "
    if local:
        print(
            "(local URLs: relay serve's default address; a provider needs relay's public "
            "address: --base-url https://...)\n"
        )
    for name, source in doc.config.sources.items():
        url = f"{base}/hooks/{name}"
        print(f"{name} ({source.provider})\n{indent}{url}")
        spec = PROVIDERS.get(source.provider)
        text = spec.hint if spec is not None else "unknown provider: see `relay check`"
        text += " " + _route_events(doc.config.routes, name)
        lines = textwrap.wrap(text, _WIDTH - len(indent), break_on_hyphens=False)
        print("\n".join(indent + line for line in lines))
        for warning in _url_warnings(name, source.provider, source.options, url):
            if not (local and "public_url" in warning):  # a local URL is never the public one
                print(warning, file=sys.stderr)
    return 0


def _event_names(value: object) -> list[str] | None:
    """The event types a route's ``event_type`` condition names (None: a pattern)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    return None


def _route_events(routes: Sequence[RouteConfig], source: str) -> str:
    """Which events to subscribe to, from the routes of ``source`` (not a provider's list)."""
    used = [r for r in routes if r.source == source and r.enabled]
    if not used:
        return "No route uses this source yet: its events are stored, unrouted."
    events: list[str] = []
    for route in used:
        names = _event_names(route.match.get("event_type"))
        if "event_type" not in route.match:
            return f"Events your routes use: any (route {route.name} takes every event type)."
        if names is None:
            return f"Events your routes use: see route {route.name}'s event_type condition."
        events += [n for n in names if n not in events]
    return f"Events your routes use: {', '.join(events)}."


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "urls",
        help="list each source's webhook URL with its provider's setup hint",
        description="Print every source's webhook URL under --base-url, with where to paste it in "
        "the provider's settings and the event types the source's routes use. Warns (stderr) "
        "about unauthenticated sources.",
    )
    p.add_argument("--config", required=True, metavar="FILE", help="the relay config file")
    p.add_argument(
        "--base-url",
        help="relay's public base URL, e.g. https://relay.example.com "
        f"(default: {LOCAL_BASE_URL}, for trying it on this machine)",
    )
    p.set_defaults(func=cmd_urls)
