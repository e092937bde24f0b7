"""Twilio: ``X-Twilio-Signature`` = base64(HMAC-SHA1(auth token, URL + form parameters)).

The signed URL is option ``public_url`` (required: the URL configured in Twilio, as Twilio
calls it) with its query replaced by the request's own query exactly as received (repeated
parameters and %-escapes included; never the ``Host`` header, which a proxy may rewrite). As
in Twilio's SDKs the URL is tried both with and without the scheme's default port.

* Form bodies: the parameters are parsed here (they are the signed material) and appended as
  ``name + value``, sorted by name (Unicode code points), repeated values sorted. Because the
  signature covers decoded parameters, equivalent encodings of the same parameters verify
  alike; relay stores the raw body as received.
* JSON bodies: the URL carries ``?bodySHA256=<hex sha256 of the raw body>``; that hash is
  checked and the URL alone is signed.

``secrets`` are auth tokens (list the new one too while rotating). A request carrying
``X-Twilio-Webhooks-Signature-Settings: ...,algorithm=HMAC_SHA256`` is checked with
HMAC-SHA256 instead (as the official SDK does); other algorithms are refused.

Event type: the body's ``SmsStatus``, ``CallStatus`` or ``MessageStatus``. Event id: the
``I-Twilio-Idempotency-Token`` header, else ``MessageSid``/``CallSid`` + ``:`` + status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from relay.providers._common import (
    ProviderBase,
    dig,
    header_bytes,
    require_header,
    scalar,
    text_bytes,
)
from relay.providers._configurable import option_url, request_url
from relay.providers._hmac import (
    Algorithm,
    compute,
    decode_signature,
    digest_size,
    matches_any,
    reject_unknown_options,
    utf8_keys,
)
from relay.providers.base import ConfigError, ProviderSpec, VerificationError, WebhookRequest
from relay.providers.sample import BodyPath, Fresh, Header, Sample
from relay.providers.sender import Options, Sending, SignedRequest, append_query

__all__ = ["SENDING", "SPEC", "TwilioProvider", "build", "port_variants", "signed_params"]

NAME: Final = "twilio"
SIGNATURE_HEADER: Final = "X-Twilio-Signature"
SETTINGS_HEADER: Final = "x-twilio-webhooks-signature-settings"
IDEMPOTENCY_HEADER: Final = "i-twilio-idempotency-token"
BODY_HASH_PARAM: Final = "bodySHA256"
ALGORITHMS: Final[Mapping[str, Algorithm]] = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}
STATUS_FIELDS: Final = ("SmsStatus", "CallStatus", "MessageStatus")
SID_FIELDS: Final = ("MessageSid", "CallSid")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def signed_params(body: bytes) -> bytes:
    """The form parameters of ``body`` as Twilio signs them: ``name+value``, sorted."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except ValueError:  # UnicodeDecodeError included: not UTF-8 before or after %-decoding
        raise VerificationError("malformed_body", "the form body is not valid UTF-8") from None
    grouped: dict[str, set[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, set()).add(value)
    text = "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))
    return text_bytes(text)


def port_variants(public_url: str) -> tuple[str, str]:
    """``public_url`` without its query, as given and with the default port added/removed."""
    base = public_url.partition("?")[0]
    parts = urlsplit(base)
    port = parts.port  # ValueError for a bad port
    netloc = parts.netloc
    if port is None:
        other = f"{netloc}:{_DEFAULT_PORTS[parts.scheme]}"
    else:
        other = netloc.rpartition(":")[0]
    prefix = f"{parts.scheme}://"
    return base, prefix + other + base[len(prefix) + len(netloc) :]


def _algorithm(request: WebhookRequest) -> Algorithm:
    settings = request.headers.get(SETTINGS_HEADER, "")
    for part in settings.split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip() == "algorithm" and value.strip():
            algorithm = ALGORITHMS.get(value.strip().upper())
            if algorithm is None:
                raise VerificationError("malformed_signature", "unsupported signature algorithm")
            return algorithm
    return "sha1"


class TwilioProvider(ProviderBase[bytes]):
    """Verifies Twilio webhooks (voice, messaging, status callbacks)."""

    def __init__(self, keys: Sequence[bytes], public_url: str) -> None:
        super().__init__(NAME, keys)
        self._bases = port_variants(public_url)

    def _body_material(self, request: WebhookRequest) -> bytes:
        body_hash = request.query.get(BODY_HASH_PARAM)
        if body_hash is None:
            return signed_params(request.body)
        candidate = decode_signature(body_hash, "hex", size=32)
        if not hmac.compare_digest(hashlib.sha256(request.body).digest(), candidate):
            raise VerificationError("signature_mismatch", f"{BODY_HASH_PARAM} does not match")
        return b""

    def verify(self, request: WebhookRequest, now: float) -> None:
        value = require_header(request, SIGNATURE_HEADER)
        algorithm = _algorithm(request)
        candidate = decode_signature(value, "base64", size=digest_size(algorithm))
        material = self._body_material(request)
        results = [
            matches_any(
                self._keys,
                header_bytes(request_url(base, request)) + material,
                (candidate,),
                algorithm,
            )
            for base in self._bases
        ]
        if not any(results):
            raise VerificationError("signature_mismatch", f"{SIGNATURE_HEADER} does not match")

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        for field in STATUS_FIELDS:
            status = scalar(dig(body, field))
            if status is not None:
                return status
        return None

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        token = request.headers.get(IDEMPOTENCY_HEADER)
        if token:
            return token
        for field in SID_FIELDS:
            sid = scalar(dig(body, field))
            if sid is not None:
                status = self.event_type(request, body)
                return sid if status is None else f"{sid}:{status}"
        return None


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> TwilioProvider:
    reject_unknown_options(options, ("public_url",))
    public_url = option_url(options)
    try:
        port_variants(public_url)
    except ValueError:
        raise ConfigError("option 'public_url' has an invalid port", key="public_url") from None
    return TwilioProvider(utf8_keys(secrets), public_url)


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Console > Phone Numbers > your number (or Messaging Service): paste the URL "
    "in 'A message comes in' or a status callback, HTTP POST; public_url must be exactly "
    "this URL; the Auth Token signs X-Twilio-Signature.",
    signs_url=True,
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Options: ``url``; ``body_hash`` (sign a JSON body with ``?bodySHA256=`` as Twilio does
    for non-form bodies); ``algorithm`` ``HMAC_SHA1`` (default) or ``HMAC_SHA256``."""
    options = Options(NAME, opts, ("url", "body_hash", "algorithm"))
    url = options.text("url")
    algorithm_name = options.choice("algorithm", tuple(ALGORITHMS), "HMAC_SHA1")
    query: tuple[tuple[str, str], ...] = ()
    if options.flag("body_hash"):
        query = ((BODY_HASH_PARAM, hashlib.sha256(body).hexdigest()),)
        material = b""
    else:
        try:
            material = signed_params(body)
        except VerificationError:
            raise ValueError("signer 'twilio': the form body is not valid UTF-8") from None
    signed_url = append_query(url, query).encode("utf-8")
    key = secret.encode("utf-8")
    headers = {
        "x-twilio-signature": base64.b64encode(
            compute(key, signed_url + material, ALGORITHMS[algorithm_name])
        ).decode("ascii")
    }
    if algorithm_name != "HMAC_SHA1":
        headers[SETTINGS_HEADER] = f"algorithm={algorithm_name}"
    return SignedRequest(headers=headers, body=body, query=query)


SENDING: Final = Sending(
    sign=_sign,
    signs_with="the account's auth token",
    sample=Sample(
        payload={
            "ToCountry": "US",
            "SmsMessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
            "NumMedia": "0",
            "SmsSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
            "SmsStatus": "received",
            "Body": "Hello from relay send",
            "To": "+15005550006",
            "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
            "AccountSid": "AC00000000000000000000000000000000",
            "From": "+14155238886",
            "ApiVersion": "2010-04-01",
        },
        form=True,
        event=(BodyPath(("SmsStatus",)),),
        event_id=Fresh(Header("i-twilio-idempotency-token")),
    ),
)
