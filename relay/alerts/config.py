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
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from relay.config_fields import Duration
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


def webhook_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_`` + base64)."""
    return base64.b64decode(secret.removeprefix("whsec_"), validate=True)


class SlackChannel(_Strict):
    type: Literal["slack"]
    url: str  # the incoming webhook's URL (it is the credential: never shown)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class WebhookChannel(_Strict):
    type: Literal["webhook"]
    url: str
    secret: str  # whsec_<base64>: signs each request (webhook-id, -timestamp, -signature)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        try:
            key = webhook_key(value)
        except (binascii.Error, ValueError):
            raise ValueError("must be whsec_ followed by base64 (as Standard Webhooks)") from None
        if len(key) < 16:
            raise ValueError("must hold at least 16 bytes of key")
        return value


class EmailChannel(_Strict):
    type: Literal["email"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False  # SMTPS (usually port 465) instead of STARTTLS
    username: str | None = None
    password: str | None = None
    sender: str
    to: list[str] = Field(min_length=1)


Channel = Annotated[SlackChannel | WebhookChannel | EmailChannel, Field(discriminator="type")]


class AlertsConfig(_Strict):
    on: list[AlertKind] = Field(default_factory=lambda: list(AlertKind))
    dedupe_window: Duration = Field(default=600.0, ge=0)
    max_per_hour: int = Field(default=30, ge=1, le=10_000)
    channels: list[Channel] = Field(min_length=1)

    def secrets(self) -> list[str]:
        """Values never to show: webhook URLs of Slack, signing secrets, SMTP passwords
        (``relay.config_secrets``)."""
        return alert_secrets(self.model_dump())
