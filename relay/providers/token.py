"""Shared-token header (``provider: token``): a header must equal one of the secrets.

Options:

``header``
    The header carrying the token (default ``Authorization``).
``prefix``
    Text before the token, e.g. ``"Bearer "``; matched case-insensitively (auth schemes are),
    then stripped. Default ``''``.
``event_type_header`` / ``event_id_header`` / ``event_type_path`` / ``event_id_path``
    As for ``provider: hmac``.

The comparison is constant-time over all secrets (rotation: list old and new). A shared token
proves only that the sender knows it; it does not protect the body against tampering.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import (
    EVENT_FIELD_OPTIONS,
    EventFields,
    ProviderBase,
    equals_any,
    event_fields,
    header_bytes,
    require_header,
)
from relay.providers._hmac import option_str, reject_unknown_options, utf8_keys
from relay.providers.base import ConfigError, ProviderSpec, VerificationError, WebhookRequest
from relay.providers.sample import GENERIC
from relay.providers.sender import Options, Sending, SignedRequest, Signer, headers_only

__all__ = ["SENDING", "SPEC", "TokenProvider", "build"]

NAME: Final = "token"
DEFAULT_HEADER: Final = "Authorization"
_OPTIONS: Final = ("header", "prefix", *EVENT_FIELD_OPTIONS)


class TokenProvider(ProviderBase[bytes]):
    """Accepts a request whose ``header`` is ``prefix`` + one of the secrets."""

    def __init__(
        self,
        keys: Sequence[bytes],
        *,
        header: str = DEFAULT_HEADER,
        prefix: str = "",
        fields: EventFields | None = None,
        name: str = NAME,
    ) -> None:
        super().__init__(name, keys, fields)
        self._header = header
        self._prefix = prefix.lower()

    def verify(self, request: WebhookRequest, now: float) -> None:
        value = require_header(request, self._header, "missing_token")
        if value[: len(self._prefix)].lower() != self._prefix:
            raise VerificationError("malformed_token", f"{self._header} lacks the expected prefix")
        if not equals_any(header_bytes(value[len(self._prefix) :]), self._keys):
            raise VerificationError("token_mismatch", f"{self._header} does not match")


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> TokenProvider:
    reject_unknown_options(options, _OPTIONS)
    prefix = options.get("prefix", "")
    if not isinstance(prefix, str):
        raise ConfigError("option 'prefix' must be a string", key="prefix")
    return TokenProvider(
        utf8_keys(secrets),
        header=option_str(options, "header", DEFAULT_HEADER),
        prefix=prefix,
        fields=event_fields(options),
    )


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Have the sender send one of secrets in the source's header (default "
    "Authorization, after prefix). HTTPS only: the body is not signed.",
)


# ---------------------------------------------------------------- sending side (relay send)


def header_token_signer(name: str, allowed: tuple[str, ...]) -> Signer:
    """Sends ``header`` (default ``Authorization``) = ``prefix`` + the secret."""

    def sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
        options = Options(name, opts, allowed)
        header = options.text("header", DEFAULT_HEADER).lower()
        prefix = str(opts.get("prefix", ""))
        return headers_only(body, {header: prefix + secret})

    return sign


SENDING: Final = Sending(
    sign=header_token_signer(NAME, ("header", "prefix")),
    signs_with="the shared token (pass the source's header/prefix options with --option)",
    sample=GENERIC,
)
