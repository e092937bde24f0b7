"""Sending one alert to one channel: a Slack incoming webhook, any URL signed as Standard
Webhooks do, or an email through SMTP. Each send is bounded by a timeout and raises
``ChannelError`` on failure (the notifier logs it; deliveries never wait on it)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from relay._json import dumps_bytes
from relay.alerts.config import Channel, EmailChannel, SlackChannel, WebhookChannel, webhook_key
from relay.alerts.message import Alert
from relay.delivery.outbound import Sender, SendError, Timeouts
from relay.ids import new_id

__all__ = ["ChannelError", "send", "sign"]

TIMEOUT = 10.0


class ChannelError(Exception):
    """An alert could not be handed to a channel."""


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header of Standard Webhooks (``v1,`` + base64 HMAC-SHA256
    of ``id.timestamp.body``)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


_TIMEOUTS = Timeouts(connect=TIMEOUT, read=TIMEOUT, write=TIMEOUT, pool=TIMEOUT)


async def _post(client: Sender, url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        answer = await client.send("POST", url, headers, body, timeouts=_TIMEOUTS)
        try:
            await answer.read()
        finally:
            await answer.close()
    except SendError as exc:
        raise ChannelError(f"{type(exc).__name__}: {exc}") from exc
    if answer.status_code >= 300:
        raise ChannelError(f"answered {answer.status_code}")


def _email(channel: EmailChannel, alert: Alert) -> None:
    message = EmailMessage()
    message["Subject"] = f"[relay] {alert.title}"
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message.set_content(alert.text())
    smtp: smtplib.SMTP
    if channel.ssl:
        smtp = smtplib.SMTP_SSL(channel.host, channel.port, timeout=TIMEOUT)
    else:
        smtp = smtplib.SMTP(channel.host, channel.port, timeout=TIMEOUT)
    with smtp:
        if channel.starttls and not channel.ssl:
            smtp.starttls(context=ssl.create_default_context())
        if channel.username and channel.password:
            smtp.login(channel.username, channel.password)
        smtp.send_message(message)


async def send(channel: Channel, alert: Alert, client: Sender, now: float) -> None:
    if isinstance(channel, SlackChannel):
        body = dumps_bytes({"text": alert.text()})
        await _post(client, channel.url, body, {"content-type": "application/json"})
    elif isinstance(channel, WebhookChannel):
        payload: dict[str, Any] = {
            "type": f"relay.alert.{alert.kind.value}",
            "timestamp": alert.at,
            "data": alert.data(),
        }
        body = dumps_bytes(payload)
        msg_id, ts = new_id("msg", now), int(now)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(channel.secret, msg_id, ts, body),
        }
        await _post(client, channel.url, body, headers)
    else:
        try:
            await asyncio.wait_for(asyncio.to_thread(_email, channel, alert), TIMEOUT * 3)
        except (OSError, smtplib.SMTPException, TimeoutError) as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}") from exc
