"""The ``alerts:`` section of the config file: where notifications go and how often.

```yaml
alerts:
  on: [dead, needs_review, breaker_open, mapping_failed]   # the default: all four
  dedupe_window: 10m      # the same alert (kind and route/target) once per window
  max_per_hour: 30        # per channel; beyond that alerts are dropped (and counted)
  channels:
    - type: slack
      url: ${SLACK_WEBHOOK_URL}
    - type: webhook       # any URL, signed as Standard Webhooks do (webhook-signature)
      url: https://ops.example.com/relay-alerts
      secret: ${RELAY_ALERTS_SECRET}   # whsec_... (base64)
    - type: email
      host: smtp.example.com
      port: 587
      starttls: true
      username: relay
      password: ${SMTP_PASSWORD}
      sender: relay@example.com
      to: [oncall@example.com]
```
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from typing import Literal

from relay.config_schema import dump, rule, section
from relay.config_secrets import alert_secrets

__all__ = [
    "AlertKind",
    "AlertsConfig",
    "Channel",
    "EmailChannel",
    "SlackChannel",
    "WebhookChannel",
    "webhook_key",
]


class AlertKind(StrEnum):
    DEAD = "dead"  # a delivery died (attempts used up, or refused for good: failed)
    NEEDS_REVIEW = "needs_review"  # a run may or may not have started
    BREAKER_OPEN = "breaker_open"
    MAPPING_FAILED = "mapping_failed"


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


def webhook_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_`` + base64)."""
    return base64.b64decode(secret.removeprefix("whsec_"), validate=True)


def _webhook_secret(value: str) -> str:
    try:
        key = webhook_key(value)
    except (binascii.Error, ValueError):
        raise ValueError("must be whsec_ followed by base64 (as Standard Webhooks)") from None
    if len(key) < 16:
        raise ValueError("must hold at least 16 bytes of key")
    return value


@section
class SlackChannel:
    type: Literal["slack"]
    # the incoming webhook's URL (it is the credential: never shown)
    url: str = rule(after=_http_url)


@section
class WebhookChannel:
    type: Literal["webhook"]
    url: str = rule(after=_http_url)
    # whsec_<base64>: signs each request (webhook-id, -timestamp, -signature)
    secret: str = rule(after=_webhook_secret)


@section
class EmailChannel:
    type: Literal["email"]
    host: str
    port: int = rule(default=587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False  # SMTPS (usually port 465) instead of STARTTLS
    username: str | None = None
    password: str | None = None
    sender: str
    to: list[str] = rule(min_length=1)


#: told apart by ``type`` (``relay.config_schema``'s default discriminator)
Channel = SlackChannel | WebhookChannel | EmailChannel


def _all_kinds() -> list[AlertKind]:
    return list(AlertKind)


@section
class AlertsConfig:
    on: list[AlertKind] = rule(default_factory=_all_kinds)
    dedupe_window: float = rule(default=600.0, duration=True, ge=0)
    max_per_hour: int = rule(default=30, ge=1, le=10_000)
    channels: list[Channel] = rule(min_length=1, discriminator="type")

    def secrets(self) -> list[str]:
        """Values never to show: webhook URLs of Slack, signing secrets, SMTP passwords
        (``relay.config_secrets``)."""
        return alert_secrets(dump(self))
