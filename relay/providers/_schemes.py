"""One parametrised implementation of the HMAC header schemes many providers share.

A ``Scheme`` says where a provider puts its signature (and timestamp), which bytes it signs
and how its events are named; ``SchemeProvider`` verifies any scheme and ``Scheme.sign``
produces the headers a sender would. A provider module is then its ``Scheme``, ``SPEC`` and
``SENDING``.

Signature header shapes:

* one value ``{prefix}{signature}`` (``prefix`` such as ``sha256=``, ``v0=`` or empty), the
  timestamp, if any, in its own ``timestamp_header``;
* ``key=value`` pairs separated by ``pairs`` (Stripe's ``t=<ts>,v1=<sig>[,v1=<sig>]``):
  entries named ``signature_key`` are candidates (several during a secret roll), the entry
  named ``timestamp_key`` is the timestamp, other keys are ignored.

The signed bytes are ``signed_prefix`` with ``{ts}`` replaced by the timestamp's digits,
followed by the raw body. Keys are the secrets' UTF-8 bytes. A scheme whose timestamp is in
the body (Linear) gives ``body_timestamp``, called only after the signature matched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from relay.providers._common import lookup_path
from relay.providers._configurable import optional_secret_list
from relay.providers._handed import HandedSecretKeys
from relay.providers._hmac import (
    Algorithm,
    Encoding,
    check_tolerance,
    compute,
    decode_signature,
    digest_size,
    encode,
    matches_any,
    option_positive_number,
    parse_timestamp,
    reject_unknown_options,
    utf8_keys,
)
from relay.providers.base import HandshakeReply, ProviderSpec, VerificationError, WebhookRequest
from relay.providers.sender import Options, SignedRequest, Signer, headers_only

__all__ = [
    "MAX_ENTRIES",
    "Extractor",
    "Handshake",
    "Scheme",
    "SchemeProvider",
    "body",
    "constant",
    "header",
    "joined",
    "json_object",
    "nothing",
    "signed_json",
]

#: Most ``key=value`` entries read from one signature header.
MAX_ENTRIES: Final = 100

Extractor = Callable[[WebhookRequest, Any], str | None]
Handshake = Callable[["SchemeProvider", WebhookRequest, float], HandshakeReply | None]


# --------------------------------------------------------------------------- event naming


def nothing(request: WebhookRequest, body: Any) -> str | None:
    """The provider sends no such value."""
    return None


def header(*names: str) -> Extractor:
    """The first of ``names`` (lower-case header names) that is present and non-empty."""

    def extract(request: WebhookRequest, body: Any) -> str | None:
        for name in names:
            value = request.headers.get(name)
            if value:
                return value
        return None

    return extract


def body(*path: str) -> Extractor:
    """A string (or integer) at ``path`` in a JSON object body."""

    def extract(request: WebhookRequest, payload: Any) -> str | None:
        return lookup_path(payload, path)

    return extract


def constant(value: str) -> Extractor:
    def extract(request: WebhookRequest, body: Any) -> str | None:
        return value

    return extract


def joined(left: Extractor, right: Extractor, sep: str = ".", *, both: bool = False) -> Extractor:
    """``f"{left}{sep}{right}"``; ``left`` alone when ``right`` is missing (None if ``both``)."""

    def extract(request: WebhookRequest, body: Any) -> str | None:
        head = left(request, body)
        if head is None:
            return None
        tail = right(request, body)
        if tail is None:
            return None if both else head
        return f"{head}{sep}{tail}"

    return extract


# --------------------------------------------------------------------------- handshakes


def json_object(raw: str | bytes) -> dict[str, Any] | None:
    """``raw`` parsed as a JSON object, or None for anything else (never raises)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def signed_json(
    provider: SchemeProvider, request: WebhookRequest, now: float, marker: bytes
) -> dict[str, Any] | None:
    """For signed handshakes: None unless the body contains ``marker``; else verify, then parse.

    The byte test keeps ordinary events from being verified twice (handshake, then verify).
    """
    if marker not in request.body:
        return None
    provider.verify(request, now)
    return json_object(request.body)


# --------------------------------------------------------------------------- the scheme


@dataclass(frozen=True, slots=True, kw_only=True)
class Scheme:
    """How one provider signs. Header names are lower-case."""

    name: str
    header: str
    algorithm: Algorithm = "sha256"
    encoding: Encoding = "hex"
    prefix: str = ""
    pairs: str | None = None
    signature_key: str = "v1"
    timestamp_key: str | None = None
    timestamp_header: str | None = None
    signed_prefix: str = ""
    tolerance: float | None = None
    body_timestamp: Callable[[bytes], float] | None = None
    event_type: Extractor = nothing
    event_id: Extractor = nothing
    handshake: Handshake | None = None
    allows_get: bool = False
    form_json_field: str | None = None  # see ``ProviderSpec``
    #: The key may arrive in the handshake (see ``_handed``): ``secrets`` may be empty.
    handed_secret: bool = False

    def __post_init__(self) -> None:
        timed = (self.timestamp_key, self.timestamp_header, self.body_timestamp)
        if (self.tolerance is None) == any(item is not None for item in timed):
            raise ValueError(f"{self.name}: a tolerance goes with exactly the timed schemes")
        in_headers = self.timestamp_key is not None or self.timestamp_header is not None
        if "{ts}" in self.signed_prefix and not in_headers:
            raise ValueError(f"{self.name}: signed_prefix uses {{ts}} but there is no timestamp")

    def build(self, secrets: Sequence[str], options: Mapping[str, Any]) -> SchemeProvider:
        reject_unknown_options(options, () if self.tolerance is None else ("tolerance",))
        tolerance = None
        if self.tolerance is not None:
            tolerance = option_positive_number(options, "tolerance", self.tolerance)
        if self.handed_secret:
            known = optional_secret_list(secrets)
            return SchemeProvider(self, utf8_keys(known) if known else (), tolerance)
        return SchemeProvider(self, utf8_keys(secrets), tolerance)

    def spec(self, hint: str) -> ProviderSpec:
        return ProviderSpec(
            name=self.name,
            build=self.build,
            allows_get=self.allows_get,
            form_json_field=self.form_json_field,
            hint=hint,
        )

    def signer(self) -> Signer:
        """``sign`` as a signer taking no options."""

        def signer(secret: str, raw: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
            Options(self.name, opts, ())
            return headers_only(raw, self.sign(secret, raw, now))

        return signer

    def signed_message(self, timestamp: str | None, raw: bytes) -> bytes:
        return self.signed_prefix.replace("{ts}", timestamp or "").encode("ascii") + raw

    def sign(self, secret: str, raw: bytes, now: float) -> dict[str, str]:
        """The headers this provider would send for ``raw`` at ``now`` (lower-case names)."""
        timestamp = str(int(now)) if (self.timestamp_key or self.timestamp_header) else None
        digest = compute(
            secret.encode("utf-8"), self.signed_message(timestamp, raw), self.algorithm
        )
        signature = encode(digest, self.encoding)
        if self.pairs is not None:
            entries = [f"{self.signature_key}={signature}"]
            if self.timestamp_key is not None:
                entries.insert(0, f"{self.timestamp_key}={timestamp}")
            return {self.header: self.pairs.join(entries)}
        headers = {self.header: self.prefix + signature}
        if self.timestamp_header is not None and timestamp is not None:
            headers[self.timestamp_header] = timestamp
        return headers


class SchemeProvider(HandedSecretKeys):
    """Verifies requests signed as ``scheme`` against one or more keys (any one matching)."""

    def __init__(self, scheme: Scheme, keys: Sequence[bytes], tolerance: float | None) -> None:
        self.name: str = scheme.name
        self.scheme = scheme
        self._keys = tuple(keys)
        self._tolerance = tolerance
        self._size = digest_size(scheme.algorithm)

    def __repr__(self) -> str:
        window = "" if self._tolerance is None else f", tolerance={self._tolerance:g}"
        return f"SchemeProvider(name={self.name!r}, secrets={len(self._keys)}{window})"

    @property
    def first_key(self) -> bytes:
        """The first configured key (for handshakes that answer with an HMAC)."""
        return self._keys[0]

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        if self.scheme.handshake is None:
            return None
        return self.scheme.handshake(self, request, now)

    def _pairs(self, value: str, separator: str) -> tuple[str | None, list[str]]:
        scheme = self.scheme
        entries = [entry.strip() for entry in value.split(separator)]
        entries = [entry for entry in entries if entry]
        if len(entries) > MAX_ENTRIES:
            raise VerificationError("malformed_signature", f"more than {MAX_ENTRIES} entries")
        timestamp: str | None = None
        signatures: list[str] = []
        for entry in entries:
            key, sep, item = entry.partition("=")
            if not sep:
                raise VerificationError(
                    "malformed_signature", f"{scheme.header} entries must look like key=value"
                )
            if key == scheme.timestamp_key:
                if timestamp is not None:
                    raise VerificationError("invalid_timestamp", "more than one timestamp")
                timestamp = item
            elif key == scheme.signature_key:
                signatures.append(item)
        if scheme.timestamp_key is not None and timestamp is None:
            raise VerificationError("missing_timestamp", f"{scheme.header} has no timestamp")
        if not signatures:
            raise VerificationError(
                "missing_signature", f"{scheme.header} holds no {scheme.signature_key} signature"
            )
        return timestamp, signatures

    def _single(self, request: WebhookRequest, value: str) -> tuple[str | None, list[str]]:
        scheme = self.scheme
        if not value.startswith(scheme.prefix):
            raise VerificationError(
                "malformed_signature", f"{scheme.header} must start with {scheme.prefix!r}"
            )
        timestamp: str | None = None
        if scheme.timestamp_header is not None:
            timestamp = request.headers.get(scheme.timestamp_header)
            if timestamp is None:
                raise VerificationError(
                    "missing_timestamp", f"{scheme.timestamp_header} header is missing"
                )
        return timestamp, [value[len(scheme.prefix) :]]

    def verify(self, request: WebhookRequest, now: float) -> None:
        scheme = self.scheme
        self.require_key()
        value = request.headers.get(scheme.header)
        if value is None:
            raise VerificationError("missing_signature", f"{scheme.header} header is missing")
        if scheme.pairs is not None:
            timestamp, encoded = self._pairs(value, scheme.pairs)
        else:
            timestamp, encoded = self._single(request, value)
        if timestamp is not None and self._tolerance is not None:
            check_tolerance(parse_timestamp(timestamp), now, self._tolerance)
        candidates = [decode_signature(item, scheme.encoding, size=self._size) for item in encoded]
        message = scheme.signed_message(timestamp, request.body)
        if not matches_any(self._keys, message, candidates, scheme.algorithm):
            raise VerificationError("signature_mismatch", f"{scheme.header} does not match")
        if scheme.body_timestamp is not None and self._tolerance is not None:
            check_tolerance(scheme.body_timestamp(request.body), now, self._tolerance)

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return self.scheme.event_id(request, body)

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return self.scheme.event_type(request, body)
