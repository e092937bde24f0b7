"""Signers for the schemes that sign the public URL too: Twilio, HubSpot, Square.

Each takes option ``url``: the URL exactly as the provider calls it (the source's
``public_url``, query included), and signs that string as it is.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any, Final

from relay.providers import twilio
from relay.providers._hmac import Algorithm, compute
from relay.providers.base import VerificationError
from relay.providers.hubspot import decode_uri
from relay.providers.signing._base import (
    Options,
    SignedRequest,
    Signer,
    append_query,
    headers_only,
)

__all__ = ["SECRETS", "SIGNERS"]

_TWILIO_ALGORITHMS: Final[Mapping[str, Algorithm]] = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _twilio(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Options: ``url``; ``body_hash`` (sign a JSON body with ``?bodySHA256=`` as Twilio does
    for non-form bodies); ``algorithm`` ``HMAC_SHA1`` (default) or ``HMAC_SHA256``."""
    options = Options("twilio", opts, ("url", "body_hash", "algorithm"))
    url = options.text("url")
    algorithm_name = options.choice("algorithm", tuple(_TWILIO_ALGORITHMS), "HMAC_SHA1")
    query: tuple[tuple[str, str], ...] = ()
    if options.flag("body_hash"):
        query = ((twilio.BODY_HASH_PARAM, hashlib.sha256(body).hexdigest()),)
        material = b""
    else:
        try:
            material = twilio.signed_params(body)
        except VerificationError:
            raise ValueError("signer 'twilio': the form body is not valid UTF-8") from None
    signed_url = append_query(url, query).encode("utf-8")
    key = secret.encode("utf-8")
    headers = {
        "x-twilio-signature": _b64(
            compute(key, signed_url + material, _TWILIO_ALGORITHMS[algorithm_name])
        )
    }
    if algorithm_name != "HMAC_SHA1":
        headers[twilio.SETTINGS_HEADER] = f"algorithm={algorithm_name}"
    return SignedRequest(headers=headers, body=body, query=query)


def _hubspot(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Signature v3. Options: ``url``; ``method`` (default ``POST``)."""
    options = Options("hubspot", opts, ("url", "method"))
    uri = decode_uri(options.text("url"))
    timestamp = str(int(now * 1000))
    message = (options.text("method", "POST") + uri).encode("utf-8") + body + timestamp.encode()
    return headers_only(
        body,
        {
            "x-hubspot-signature-v3": _b64(compute(secret.encode("utf-8"), message)),
            "x-hubspot-request-timestamp": timestamp,
        },
    )


def _square(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Options: ``url`` (the notification URL as configured in Square)."""
    url = Options("square", opts, ("url",)).text("url")
    digest = compute(secret.encode("utf-8"), url.encode("utf-8") + body)
    return headers_only(body, {"x-square-hmacsha256-signature": _b64(digest)})


SIGNERS: Final[Mapping[str, Signer]] = {
    "twilio": _twilio,
    "hubspot": _hubspot,
    "square": _square,
}

SECRETS: Final[Mapping[str, str]] = {
    "twilio": "the account's auth token",
    "hubspot": "the app's client secret",
    "square": "the webhook subscription's signature key",
}
