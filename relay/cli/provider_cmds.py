"""``relay send``: forge a signed delivery as a provider would (``relay urls``:
``relay.cli.url_cmds``).

``relay send`` is the command line of the developer tooling in ``relay.devtools`` (signers,
samples, sending). It never prints a secret: the response status and body (with the secret
redacted should the server echo it).

Its parser is light: the HTTP client and the tooling are imported when a send runs, a
PROVIDER given is looked up alone (its module only), and the list of what each provider
signs with (every provider module) is read when the help is shown."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import time
from pathlib import Path
from typing import Final

from relay.cli.store_cmds import DB_HELP

__all__ = ["add_parsers", "cmd_send"]

SECRET_ENV: Final = "RELAY_SEND_SECRET"  # noqa: S105 - the variable's name


def _fail(command: str, message: str, code: int = 2) -> int:
    print(f"relay {command}: {message}", file=sys.stderr)
    return code


def _pairs(items: list[str], sep: str, what: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in items:
        name, found, value = item.partition(sep)
        if not found or not name.strip():
            raise ValueError(
                f"{what} {item!r} must look like {'NAME: value' if sep == ':' else 'key=value'}"
            )
        pairs.append((name.strip(), value.strip() if sep == ":" else value))
    return pairs


def _secret(args: argparse.Namespace) -> str | None:
    if args.secret_file is not None:
        return Path(args.secret_file).read_text(encoding="utf-8").rstrip("\r\n")
    if args.secret is not None:
        return str(args.secret)
    return os.environ.get(SECRET_ENV)


def _provider(name: str) -> str:
    """PROVIDER: a known provider's name (looking it up imports its module only)."""
    from relay.providers.registry import PROVIDERS, names

    if name in PROVIDERS:
        return name
    known = names()
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise argparse.ArgumentTypeError(f"unknown provider {name!r}; {hint}known: {', '.join(known)}")


def cmd_send(args: argparse.Namespace) -> int:
    from relay.devtools.samples import has_sample, list_samples

    provider: str | None = args.provider
    if args.list:  # before the HTTP client and the signers are loaded
        if provider is None:
            return _fail("send", "--list needs PROVIDER")
        print(list_samples(provider))
        return 0
    import httpx

    from relay.cli.send_extras import UsageError, stored_send
    from relay.devtools.sending import prepare, send
    from relay.devtools.signing import secret_help

    try:
        secret = _secret(args)
        headers = _pairs(args.header, ":", "--header")
        options = dict(_pairs(args.option, "=", "--option"))
        payload = None if args.payload is None else Path(args.payload).read_bytes()
        stored = None if args.from_event is None else stored_send(args, secret)
    except (OSError, ValueError, UsageError) as exc:
        return _fail("send", str(exc))
    content_type: str | None = args.content_type
    url: str | None = args.url
    if stored is not None:
        if payload is not None or args.event is not None:
            return _fail("send", "--from-event sends the stored body: no --payload or --event")
        provider, secret, url = stored.provider, stored.secret, stored.url
        payload = stored.event.body
        content_type = content_type or stored.event.headers.get("content-type")
    if provider is None:
        return _fail("send", "give PROVIDER (or --from-event EVENT_ID)")
    if url is None:
        return _fail("send", "give --url, e.g. http://localhost:8080/hooks/SOURCE")
    if not secret and provider != "none":
        return _fail("send", f"{provider} needs --secret: {secret_help(provider)}")
    if args.event is not None and payload is None and not has_sample(provider, args.event):
        print(
            f"relay send: no {provider} sample of {args.event!r} (relay send {provider} "
            "--list): sending the default sample with that event type",
            file=sys.stderr,
        )
    try:
        outgoing = prepare(
            provider,
            secret or "",
            url,
            now=time.time(),
            payload=payload,
            content_type=content_type,
            event=args.event,
            event_id=args.id,
            headers=headers,
            options=options,
            stored_headers=None if stored is None else stored.event.headers,
        )
    except (KeyError, ValueError) as exc:
        return _fail("send", str(exc.args[0] if exc.args else exc))
    try:
        response = send(outgoing, timeout=args.timeout)
    except httpx.HTTPError as exc:
        return _fail("send", f"{type(exc).__name__}: {exc}", 1)
    text = response.text
    if secret:
        text = text.replace(secret, "[redacted]")
    print(f"HTTP {response.status_code} {response.reason_phrase}")
    if text:
        print(text)
    return 0 if response.is_success else 1


_EPILOG: Final = "\n".join(
    [
        "The body is the provider's sample event (or --payload), signed at the current time.",
        "Every send gets a fresh delivery id (header, body or signed id, as the provider sends",
        "it; in --payload and --from-event bodies too), so repeated sends are not",
        "deduplicated; --id ID forces one (a repeat then is).",
        "Twilio, HubSpot and Square sign the URL: --url must be the source's public_url (or",
        "pass --option url=PUBLIC_URL). Twilio JSON bodies: --option body_hash=true.",
        "",
        "--secret is what the provider signs with (the PRIVATE key for public-key schemes);",
        f"--secret-file or ${SECRET_ENV} keep it off the command line:",
    ]
)


class _SendHelp(argparse.RawDescriptionHelpFormatter):
    """Shows the epilog followed by what each provider signs with: read when the help is
    formatted, as it imports every provider module."""

    def add_text(self, text: str | None) -> None:
        if text == _EPILOG:
            from relay.devtools.signing import secret_help
            from relay.providers.registry import names

            text += "".join(f"\n  {name:<18} {secret_help(name)}" for name in names())
        super().add_text(text)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "send",
        help="sign a sample (or your) payload as a provider would and POST it",
        description="Sign a payload exactly as PROVIDER would and POST it to --url; prints the "
        "response status and body (never the secret).",
        epilog=_EPILOG,
        formatter_class=_SendHelp,
    )
    p.add_argument(
        "provider", metavar="PROVIDER", nargs="?", type=_provider, help="a provider name"
    )
    p.add_argument("--url", help="where to POST, e.g. http://localhost:8080/hooks/github")
    p.add_argument("--list", action="store_true", help="list PROVIDER's samples (--event values)")
    p.add_argument(
        "--from-event",
        metavar="EVENT_ID",
        help="resend a stored event: its body and headers, signed now, with a fresh delivery "
        "id (PROVIDER and the secret default to its source's in --config; --url to "
        "http://127.0.0.1:8080/hooks/SOURCE)",
    )
    p.add_argument("--config", help="with --from-event: the config file (config/relay.yaml)")
    p.add_argument("--db", help="with --from-event: " + DB_HELP)
    p.add_argument("--secret", help="what the provider signs with (see below)")
    p.add_argument(
        "--secret-file", metavar="FILE", help="read the secret from FILE (e.g. a PEM key)"
    )
    p.add_argument("--payload", metavar="FILE", help="send FILE's bytes instead of the sample")
    p.add_argument("--content-type", help="default: the sample's, or JSON for a JSON --payload")
    p.add_argument(
        "--event",
        metavar="TYPE",
        help="the provider's sample of that event (--list), else the default sample with "
        "that event type",
    )
    p.add_argument("--id", metavar="ID", help="force the delivery id (default: a fresh one)")
    p.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: value'",
        help="add a header (repeatable)",
    )
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a signer option (repeatable)",
    )
    p.add_argument("--timeout", type=float, default=10.0, help="seconds (default 10)")
    p.set_defaults(func=cmd_send)
