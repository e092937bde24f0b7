"""Generic HMAC (``provider: hmac``): one header carrying an HMAC of (by default) the raw body.

Options:

``header`` (required)
    Name of the signature header.
``algorithm``
    ``sha1``, ``sha256`` (default) or ``sha512``.
``encoding``
    ``hex`` (default, case-insensitive) or ``base64``.
``prefix``
    Literal text the header value must start with, stripped before decoding (default ``''``),
    e.g. ``sha256=``.
``signed``
    What is signed, as a template (default ``"{body}"``): literal text plus the placeholders
    ``{body}`` (the raw body, required), ``{timestamp}`` and ``{id}`` (the values of the
    ``timestamp_header`` / ``id_header`` headers, exactly as received). ``{{`` and ``}}`` are
    literal braces. Example: ``"v0:{timestamp}:{body}"`` or ``"{id}.{timestamp}.{body}"``.
``timestamp_header``
    Header with a unix timestamp in seconds; required when ``signed`` uses ``{timestamp}`` and
    only allowed then (an unsigned timestamp proves nothing).
``tolerance``
    Seconds a timestamp may lie before or after now (default 300); needs ``timestamp_header``.
``id_header``
    Header with a message id; required when ``signed`` uses ``{id}`` and only allowed then.
    It is also the event id unless ``event_id_header``/``event_id_path`` say otherwise.
``event_type_header`` / ``event_id_header``
    Headers naming the event type / delivery id.
``event_type_path`` / ``event_id_path``
    Dotted paths into a JSON object body (e.g. ``data.id``); used when the header option is
    not set or the header is absent.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from relay.providers._common import (
    EVENT_FIELD_OPTIONS,
    EventFields,
    ProviderBase,
    check_hmac,
    event_fields,
    header_bytes,
    lookup_path,
    require_header,
)
from relay.providers._hmac import (
    ALGORITHMS,
    ENCODINGS,
    Algorithm,
    Encoding,
    check_tolerance,
    compute,
    encode,
    option_choice,
    option_optional_str,
    option_positive_number,
    option_str,
    parse_timestamp,
    reject_unknown_options,
    utf8_keys,
)
from relay.providers.base import ConfigError, ProviderSpec, WebhookRequest
from relay.providers.sample import GENERIC
from relay.providers.sender import Options, Sending, SignedRequest, derived_id, headers_only

__all__ = [
    "BODY_ONLY",
    "SENDING",
    "SPEC",
    "GenericHmacProvider",
    "build",
    "compile_signed",
    "lookup_path",
]

NAME: Final = "hmac"
DEFAULT_TOLERANCE: Final = 300.0
PLACEHOLDERS: Final = ("body", "timestamp", "id")
#: A compiled ``signed`` template: literal bytes and placeholder names, in order.
Template = tuple[bytes | str, ...]
BODY_ONLY: Final[Template] = ("body",)
_OPTIONS: Final = (
    "header",
    "algorithm",
    "encoding",
    "prefix",
    "signed",
    "timestamp_header",
    "tolerance",
    "id_header",
    *EVENT_FIELD_OPTIONS,
)


def compile_signed(text: str, key: str = "signed") -> Template:
    """Compile a ``signed`` template; ``ConfigError(key=key)`` when it is not valid."""
    parts: list[bytes | str] = []
    try:
        parsed = list(string.Formatter().parse(text))
        for literal, field, spec, conversion in parsed:
            if literal:
                parts.append(literal.encode("utf-8"))
            if field is None:
                continue
            if field not in PLACEHOLDERS or spec or conversion:
                raise ValueError(field)
            parts.append(field)
    except ValueError:
        raise ConfigError(
            f"option {key!r} may only use the placeholders {{body}}, {{timestamp}} and {{id}}",
            key=key,
        ) from None
    if "body" not in parts:
        raise ConfigError(f"option {key!r} must contain {{body}}", key=key)
    return tuple(parts)


class GenericHmacProvider(ProviderBase[bytes]):
    """Verifies an HMAC, carried in one header, of the body or of a ``signed`` template."""

    def __init__(
        self,
        keys: Sequence[bytes],
        *,
        header: str,
        algorithm: Algorithm = "sha256",
        encoding: Encoding = "hex",
        prefix: str = "",
        signed: Template = BODY_ONLY,
        timestamp_header: str | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        id_header: str | None = None,
        fields: EventFields | None = None,
        name: str = NAME,
    ) -> None:
        super().__init__(name, keys, fields)
        self._header = header.lower()
        self._algorithm: Algorithm = algorithm
        self._encoding: Encoding = encoding
        self._prefix = prefix
        self._signed = signed
        self._timestamp_header = None if timestamp_header is None else timestamp_header.lower()
        self._tolerance = tolerance
        self._id_header = None if id_header is None else id_header.lower()

    def __repr__(self) -> str:
        return (
            f"GenericHmacProvider(name={self.name!r}, header={self._header!r}, "
            f"algorithm={self._algorithm!r}, encoding={self._encoding!r}, "
            f"secrets={len(self._keys)})"
        )

    def _message(self, request: WebhookRequest, now: float) -> bytes:
        values = {"body": request.body}
        if self._timestamp_header is not None:
            raw = require_header(request, self._timestamp_header, "missing_timestamp")
            check_tolerance(parse_timestamp(raw), now, self._tolerance)
            values["timestamp"] = header_bytes(raw)
        if self._id_header is not None:
            values["id"] = header_bytes(require_header(request, self._id_header, "missing_id"))
        return b"".join(part if isinstance(part, bytes) else values[part] for part in self._signed)

    def verify(self, request: WebhookRequest, now: float) -> None:
        value = require_header(request, self._header)
        message = self._message(request, now)
        check_hmac(
            self._keys,
            message,
            value,
            label=self._header,
            encoding=self._encoding,
            algorithm=self._algorithm,
            prefix=self._prefix,
        )


def _paired_header(
    options: Mapping[str, Any], key: str, template: Template, field: str
) -> str | None:
    """The header behind placeholder ``field``: required if the template uses it, else refused."""
    value = option_optional_str(options, key)
    if field in template and value is None:
        raise ConfigError(f"option {key!r} is required when 'signed' uses {{{field}}}", key=key)
    if field not in template and value is not None:
        raise ConfigError(f"option {key!r} needs {{{field}}} in the 'signed' template", key=key)
    return value


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> GenericHmacProvider:
    reject_unknown_options(options, _OPTIONS)
    header = option_str(options, "header")
    algorithm = cast(Algorithm, option_choice(options, "algorithm", tuple(ALGORITHMS), "sha256"))
    encoding = cast(Encoding, option_choice(options, "encoding", ENCODINGS, "hex"))
    prefix = options.get("prefix", "")
    if not isinstance(prefix, str):
        raise ConfigError("option 'prefix' must be a string", key="prefix")
    signed = compile_signed(option_str(options, "signed", "{body}"))
    timestamp_header = _paired_header(options, "timestamp_header", signed, "timestamp")
    if timestamp_header is None and "tolerance" in options:
        raise ConfigError("option 'tolerance' needs 'timestamp_header'", key="tolerance")
    tolerance = option_positive_number(options, "tolerance", DEFAULT_TOLERANCE)
    id_header = _paired_header(options, "id_header", signed, "id")
    return GenericHmacProvider(
        utf8_keys(secrets),
        header=header,
        algorithm=algorithm,
        encoding=encoding,
        prefix=prefix,
        signed=signed,
        timestamp_header=timestamp_header,
        tolerance=tolerance,
        id_header=id_header,
        fields=event_fields(options, id_header=None if id_header is None else id_header.lower()),
    )


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Give the sender this URL and the shared secret; set header, algorithm, "
    "encoding, prefix and signed to match how it signs (event_type_path etc. name events).",
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """``provider: hmac``: the source's signing options, plus ``id`` (the ``{id}`` value)."""
    options = Options(
        "hmac",
        opts,
        ("header", "algorithm", "encoding", "prefix", "signed", "timestamp_header", "id_header",
         "id"),
    )  # fmt: skip
    header = options.text("header").lower()
    algorithm = cast(Algorithm, options.choice("algorithm", tuple(ALGORITHMS), "sha256"))
    encoding = cast(Encoding, options.choice("encoding", ENCODINGS, "hex"))
    prefix = str(opts.get("prefix", ""))
    template = compile_signed(options.text("signed", "{body}"))
    headers: dict[str, str] = {}
    values = {"body": body}
    timestamp_header = options.optional("timestamp_header")
    if ("timestamp" in template) != (timestamp_header is not None):
        raise ValueError("signer 'hmac': 'timestamp_header' goes with {timestamp} in 'signed'")
    if timestamp_header is not None:
        headers[timestamp_header.lower()] = str(int(now))
        values["timestamp"] = headers[timestamp_header.lower()].encode("ascii")
    id_header = options.optional("id_header")
    if ("id" in template) != (id_header is not None):
        raise ValueError("signer 'hmac': 'id_header' goes with {id} in 'signed'")
    if id_header is not None:
        headers[id_header.lower()] = options.text("id", derived_id("msg_", body, now))
        values["id"] = headers[id_header.lower()].encode("utf-8")
    elif "id" in opts:
        raise ValueError("signer 'hmac': option 'id' needs 'id_header'")
    message = b"".join(part if isinstance(part, bytes) else values[part] for part in template)
    digest = compute(secret.encode("utf-8"), message, algorithm)
    headers[header] = prefix + encode(digest, encoding)
    return headers_only(body, headers)


SENDING: Final = Sending(
    sign=_sign,
    signs_with="the shared HMAC secret (pass the source's options with --option)",
    sample=GENERIC,
)
