"""Options and request details of providers configured with URLs and timestamps.

Option helpers raise ``ConfigError`` naming the offending key; ``request_url`` rebuilds the
URL a provider signed (Twilio, HubSpot) from the configured public URL and the request's query
as received; ``parse_rfc3339`` reads RFC 3339 timestamps (Twitch, PayPal) strictly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final
from urllib.parse import quote, urlencode, urlsplit

from relay.providers._hmac import option_str
from relay.providers.base import ConfigError, VerificationError, WebhookRequest

__all__ = [
    "QUERY_SAFE",
    "option_url",
    "optional_secret_list",
    "parse_rfc3339",
    "request_url",
    "with_request_query",
]

#: Characters left unescaped when a request's query is re-encoded (HubSpot decodes these too).
QUERY_SAFE: Final = "!$'()*,;:@/?"
_RFC3339: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)


def optional_secret_list(secrets: Sequence[str]) -> list[str]:
    """Like ``secret_list`` but an empty list is allowed."""
    if isinstance(secrets, str | bytes) or not isinstance(secrets, Sequence):
        raise ConfigError("secrets must be a list of strings", key="secrets")
    for index, secret in enumerate(secrets, start=1):
        if not isinstance(secret, str) or not secret:
            raise ConfigError(f"secret #{index} is not a non-empty string", key="secrets")
    return list(secrets)


def option_url(options: Mapping[str, Any], key: str = "public_url") -> str:
    """A required absolute http(s) URL without a fragment (the URL the provider calls)."""
    value = option_str(options, key)
    error = ConfigError(f"option {key!r} must be an absolute http(s) URL", key=key)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise error from None
    if parts.scheme not in ("http", "https") or not parts.netloc or "#" in value:
        raise error
    if not value.isascii() or any(ch.isspace() for ch in value):
        raise ConfigError(f"option {key!r} must be ASCII without spaces", key=key)
    return value


def with_request_query(public_url: str, query: Mapping[str, str]) -> str:
    """``public_url`` with its query replaced by the request's (re-encoded, order kept)."""
    base = public_url.partition("?")[0]
    if not query:
        return base
    encoded = urlencode(
        list(query.items()), safe=QUERY_SAFE, quote_via=quote, errors="surrogatepass"
    )
    return f"{base}?{encoded}"


def request_url(public_url: str, request: WebhookRequest) -> str:
    """The URL the provider called: ``public_url`` with its query replaced by the request's.

    The query is the one received (``raw_query``: repeats, order and %-escapes as sent); when
    it is unknown (empty) the parsed ``query`` is re-encoded instead (``with_request_query``).
    The result is latin-1 text: ``header_bytes`` gives back the bytes received.
    """
    if request.raw_query:
        return f"{public_url.partition('?')[0]}?{request.raw_query}"
    return with_request_query(public_url, request.query)


# --------------------------------------------------------------------------- time


def parse_rfc3339(value: str) -> float:
    """Unix seconds of an RFC 3339 date-time (``2023-01-02T03:04:05.123456789Z``)."""
    match = _RFC3339.fullmatch(value) if value.isascii() else None
    if match is None:
        raise VerificationError("invalid_timestamp", "timestamp is not an RFC 3339 date-time")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    try:
        offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0))
        zone = timezone(-offset if sign == "-" else offset) if sign else UTC
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=zone
        )
        seconds = moment.timestamp()
    except (ValueError, OverflowError):
        raise VerificationError("invalid_timestamp", "timestamp is not a valid date") from None
    return seconds + (float(f"0.{fraction}") if fraction else 0.0)
