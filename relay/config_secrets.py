"""Which values of a config are secrets, read from its plain values: the one answer for the
server's redaction (``RelayConfig.secret_values`` and ``AlertsConfig.secrets``, on the
validated config dumped) and the CLI's (on the file as written, read by
``relay.routing.document`` without validating it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relay.redact import secret_key

__all__ = ["alert_secrets", "secret_values"]


def _entries(section: Any) -> list[dict[str, Any]]:
    """The mappings of a ``name: {...}`` section (targets, sources); nothing else."""
    if not isinstance(section, dict):
        return []
    return [v for v in section.values() if isinstance(v, dict)]


def alert_secrets(alerts: Mapping[str, Any]) -> list[str]:
    """The ``alerts:`` section's secrets: Slack webhook URLs (the URL is the credential),
    webhook signing secrets, SMTP passwords."""
    values: list[object] = []
    channels = alerts.get("channels")
    for channel in channels if isinstance(channels, list) else ():
        if isinstance(channel, dict):
            key = {"slack": "url", "webhook": "secret"}.get(str(channel.get("type")), "password")
            values.append(channel.get(key))
    return [v for v in values if isinstance(v, str) and v]


def secret_values(data: Mapping[str, Any]) -> list[str]:
    """Values never to show, from a config's plain values (as ``compose`` reads them, or a
    validated config dumped): webhook secrets (a ``whsec_`` one also without its prefix),
    secret-looking provider options, target API keys and the alerts' secrets (Slack webhook
    URLs, webhook signing secrets, SMTP passwords). Values of the wrong type are skipped:
    what is not a string is no secret to cut out of text."""
    values: list[object] = [t.get("api_key") for t in _entries(data.get("targets"))]
    alerts = data.get("alerts")
    if isinstance(alerts, dict):
        values.extend(alert_secrets(alerts))
    for source in _entries(data.get("sources")):
        secrets = source.get("secrets")
        for secret in secrets if isinstance(secrets, list) else ():
            values.append(secret)
            if isinstance(secret, str) and secret.startswith("whsec_"):
                values.append(secret.removeprefix("whsec_"))
        values.extend(v for k, v in source.items() if k != "secrets" and secret_key(k))
    return [v for v in values if isinstance(v, str) and v]
