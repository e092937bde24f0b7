"""Forge a delivery exactly as a provider would make it, and send it (``relay send``).

``prepare`` takes the provider's sample (or a payload of your own), sets the event type where
the provider carries it, gives the delivery a fresh id (so repeated sends are not deduplicated)
and signs it at ``now`` with ``relay.devtools.signing``; ``send`` POSTs the result. The
secret only ever goes into the signature (or the credential header the scheme sends).
"""

from __future__ import annotations

import copy
import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

import httpx

from relay import __version__
from relay.devtools.samples import sample_for
from relay.devtools.signing import sign_request
from relay.providers.registry import PROVIDERS
from relay.providers.sample import BodyPath, Fresh, Header, Sample, SignerOption, Where
from relay.redact import secret_header

__all__ = ["URL_SIGNED", "Outgoing", "fresh_value", "prepare", "send"]

#: Providers whose signature covers the URL: their signer's ``url`` defaults to the send URL.
URL_SIGNED: Final = frozenset(name for name, spec in PROVIDERS.items() if spec.signs_url)
USER_AGENT: Final = f"relay-send/{__version__}"
#: Headers of a stored request that a resend never copies: they belong to that connection.
_TRANSPORT: Final = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "expect", "user-agent"}
)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A signed request ready to POST."""

    url: str
    headers: dict[str, str]
    body: bytes


def fresh_value(fresh: Fresh, now: float) -> str | int:
    """A new id in ``fresh``'s style (random, except ``millis``: ``now`` in milliseconds)."""
    if fresh.style == "int":
        return secrets.randbelow(10**12) + 1
    if fresh.style == "millis":
        return int(now * 1000)
    value = str(uuid.uuid4()) if fresh.style == "uuid" else secrets.token_hex(12)
    return fresh.prefix + value


def _typed(fresh: Fresh, value: str) -> str | int:
    """A forced id (``--id``) as the sample holds it: digits stay numbers for numeric ids."""
    return int(value) if fresh.style in ("int", "millis") and value.isdigit() else value


def _put(data: Any, path: tuple[str | int, ...], value: Any) -> None:
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _decode(body: bytes, sample: Sample) -> Any:
    try:
        if sample.form:
            return dict(
                parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            )
        return json.loads(body)
    except (ValueError, RecursionError):  # too deep to parse
        kind = "a form" if sample.form else "JSON"
        raise ValueError(
            f"the payload is not {kind}, so --event/--id cannot be set in it"
        ) from None


def _encode(data: Any, sample: Sample) -> bytes:
    if sample.form:
        return urlencode(data).encode("ascii")
    return json.dumps(data).encode("utf-8")


def _content_type(sample: Sample, payload: bytes | None) -> str:
    """The sample's, or for a payload of your own: JSON when it parses as JSON."""
    if payload is None:
        return sample.content_type
    try:
        json.loads(payload)
    except (ValueError, RecursionError):  # too deep to parse
        return sample.content_type
    return "application/json"


class _Placement:
    """Values headed for the body, the headers and the signer options."""

    def __init__(self) -> None:
        self.body: list[tuple[tuple[str | int, ...], Any]] = []
        # a fresh id for a payload of your own: written where the payload has that field
        self.body_if_present: list[tuple[tuple[str | int, ...], Any]] = []
        self.headers: dict[str, str] = {}
        self.options: dict[str, Any] = {}

    def put(self, where: Where, value: str | int, if_present: bool = False) -> None:
        if isinstance(where, BodyPath):
            (self.body_if_present if if_present else self.body).append((where.path, value))
        elif isinstance(where, Header):
            text = str(value)
            if not text.isascii() or not text.isprintable():
                raise ValueError(f"{where.name} must be printable ASCII")
            self.headers[where.name] = text
        elif isinstance(where, SignerOption):
            self.options[where.name] = str(value)


def _place(
    sample: Sample, provider: str, now: float, event: str | None, event_id: str | None, own: bool
) -> _Placement:
    placement = _Placement()
    if event is not None:
        if not sample.event:
            raise ValueError(f"{provider} sends no event type that can be set (it is fixed)")
        for where in sample.event:
            placement.put(where, event)
    fresh = sample.event_id
    if event_id is not None:
        if fresh is None:
            raise ValueError(f"{provider} sends no delivery id")
        placement.put(fresh.at, _typed(fresh, event_id))
    elif fresh is not None:
        placement.put(fresh.at, fresh_value(fresh, now), if_present=own)
    return placement


def _has(data: Any, path: tuple[str | int, ...]) -> bool:
    for part in path:
        in_dict = isinstance(data, dict) and isinstance(part, str) and part in data
        if not in_dict and not (isinstance(data, list) and isinstance(part, int)):
            return False
        if not in_dict and not -len(data) <= int(part) < len(data):
            return False
        data = data[part]
    return True


def _body(sample: Sample, placement: _Placement, payload: bytes | None, now: float) -> bytes:
    if payload is not None and not placement.body:
        if not placement.body_if_present:
            return payload
        try:
            data = _decode(payload, sample)
        except ValueError:
            return payload  # not the provider's format: sent as it is
        fresh = [(p, v) for p, v in placement.body_if_present if _has(data, p)]
        if not fresh:
            return payload
        for path, value in fresh:
            _put(data, path, value)
        return _encode(data, sample)
    data = copy.deepcopy(sample.payload) if payload is None else _decode(payload, sample)
    if payload is None and sample.millis is not None:
        _put(data, sample.millis, int(now * 1000))
    try:
        for path, value in placement.body:
            _put(data, path, value)
    except (KeyError, IndexError, TypeError):
        raise ValueError("the payload lacks the field the event type or id goes in") from None
    for path, value in placement.body_if_present:
        if _has(data, path):
            _put(data, path, value)
    return _encode(data, sample)


def prepare(
    provider: str,
    secret: str,
    url: str,
    *,
    now: float,
    payload: bytes | None = None,
    content_type: str | None = None,
    event: str | None = None,
    event_id: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    options: Mapping[str, Any] | None = None,
    stored_headers: Mapping[str, str] | None = None,
) -> Outgoing:
    """The request ``provider`` would send to ``url`` at ``now``, signed with ``secret``.

    ``payload`` replaces the sample (sent byte for byte, unless an id or ``event`` must be
    written into it); ``event`` picks the provider's sample of that event type (or sets the
    type in the default sample, or in ``payload``); ``event_id`` forces the delivery id,
    otherwise a fresh one is made (in ``payload`` too, where it has the id's field);
    ``headers`` are added last (they win); ``options`` go to the signer (URL-signed schemes
    get ``url`` by default); ``stored_headers`` (a stored request's, for a resend) are added
    where the new request has none, never credentials or the connection's own headers.
    ``KeyError`` for an unknown provider, ``ValueError`` for anything else it cannot do.
    """
    sample, write_event = sample_for(provider, event)
    written = event if write_event or payload is not None else None
    placement = _place(sample, provider, now, written, event_id, payload is not None)
    body = _body(sample, placement, payload, now)
    signer_options: dict[str, Any] = {**placement.options, **(options or {})}
    if provider in URL_SIGNED:
        signer_options.setdefault("url", url)
    signed = sign_request(provider, secret, body, now, **signer_options)
    final = {
        "content-type": content_type or _content_type(sample, payload),
        "user-agent": USER_AGENT,
        **sample.headers,
        **placement.headers,
        **signed.headers,
    }
    for name, value in (stored_headers or {}).items():
        lower = name.lower()
        if lower not in final and lower not in _TRANSPORT and not secret_header(lower):
            final[lower] = value
    for name, value in headers:
        final[name.strip().lower()] = value.strip()
    return Outgoing(url=signed.url(url), headers=final, body=signed.body)


def send(
    outgoing: Outgoing, *, client: httpx.Client | None = None, timeout: float = 10.0
) -> httpx.Response:
    """POST ``outgoing`` (through ``client`` when given)."""
    if client is not None:
        return client.post(outgoing.url, content=outgoing.body, headers=outgoing.headers)
    with httpx.Client(timeout=timeout) as own:
        return own.post(outgoing.url, content=outgoing.body, headers=outgoing.headers)
