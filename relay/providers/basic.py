"""HTTP Basic authentication (``provider: basic``).

``secrets`` are ``"user:password"`` strings (several while rotating); a request is accepted when
its ``Authorization: Basic <base64(user:password)>`` decodes to one of them, compared in
constant time. Options: ``event_type_header`` / ``event_id_header`` / ``event_type_path`` /
``event_id_path`` as for ``provider: hmac``. Like any shared credential it does not protect the
body against tampering: use it over HTTPS only.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import (
    EVENT_FIELD_OPTIONS,
    EventFields,
    ProviderBase,
    equals_any,
    event_fields,
    require_header,
)
from relay.providers._hmac import reject_unknown_options, utf8_keys
from relay.providers.base import ConfigError, ProviderSpec, VerificationError, WebhookRequest
from relay.providers.sample import GENERIC
from relay.providers.sender import Options, Sending, SignedRequest, headers_only

__all__ = ["SENDING", "SPEC", "BasicProvider", "build"]

NAME: Final = "basic"
HEADER: Final = "Authorization"
_SCHEME: Final = "basic "


def _credentials(value: str) -> bytes:
    if value[: len(_SCHEME)].lower() != _SCHEME:
        raise VerificationError("malformed_credentials", "Authorization is not Basic")
    encoded = value[len(_SCHEME) :].strip()
    try:
        decoded = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (ValueError, binascii.Error):
        raise VerificationError("malformed_credentials", "credentials are not base64") from None
    if b":" not in decoded:
        raise VerificationError("malformed_credentials", "credentials are not user:password")
    return decoded


class BasicProvider(ProviderBase[bytes]):
    """Accepts requests authenticated with one of the configured ``user:password`` pairs."""

    def __init__(self, keys: Sequence[bytes], fields: EventFields | None = None) -> None:
        super().__init__(NAME, keys, fields)

    def verify(self, request: WebhookRequest, now: float) -> None:
        credentials = _credentials(require_header(request, HEADER, "missing_credentials"))
        if not equals_any(credentials, self._keys):
            raise VerificationError("credentials_mismatch", "user or password does not match")


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> BasicProvider:
    reject_unknown_options(options, EVENT_FIELD_OPTIONS)
    keys = utf8_keys(secrets)
    for index, key in enumerate(keys, start=1):
        if b":" not in key[1:]:
            raise ConfigError(f"secret #{index} must look like 'user:password'", key="secrets")
    return BasicProvider(keys, event_fields(options))


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Give the sender this URL with HTTP Basic credentials equal to one of secrets "
    "(user:password). HTTPS only: the body is not signed.",
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    Options(NAME, opts, ())
    if ":" not in secret[1:]:
        raise ValueError("signer 'basic': the secret must look like 'user:password'")
    credentials = base64.b64encode(secret.encode("utf-8")).decode("ascii")
    return headers_only(body, {"authorization": f"Basic {credentials}"})


SENDING: Final = Sending(
    sign=_sign,
    signs_with="user:password",
    sample=GENERIC,
)
