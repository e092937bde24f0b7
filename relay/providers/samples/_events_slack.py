"""Slack samples: Events API callbacks (``message``, ``app_mention``) and a slash command (a
form; ``--event /anything`` sends it with that command). ``relay send slack --event TYPE``."""

from __future__ import annotations

from typing import Any, Final

from relay.providers.samples._types import BodyPath, Fresh, Sample

__all__ = ["EVENTS"]

_TS = "1714564800.000100"


def _callback(event: dict[str, Any]) -> Sample:
    return Sample(
        payload={
            "token": "XXYYZZ",
            "team_id": "T1DC2JH3J",
            "context_team_id": "T1DC2JH3J",
            "api_app_id": "A2H9RFS1A",
            "event": event,
            "type": "event_callback",
            "event_id": "Ev08MFMKH6",
            "event_time": 1714564800,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": "T1DC2JH3J",
                    "user_id": "U0LAN0Z89",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMURDMkpIM0oifQ",
        },
        event=(BodyPath(("event", "type")),),
        event_id=Fresh(BodyPath(("event_id",)), "hex", "Ev"),
    )


EVENTS: Final = {
    "message": _callback(
        {
            "type": "message",
            "channel": "C2147483705",
            "user": "U061F7AUR",
            "text": "Is the deploy done?",
            "ts": _TS,
            "event_ts": _TS,
            "channel_type": "channel",
            "team": "T1DC2JH3J",
        }
    ),
    "app_mention": _callback(
        {
            "type": "app_mention",
            "user": "U061F7AUR",
            "text": "<@U0LAN0Z89> deploy prod please",
            "ts": _TS,
            "channel": "C2147483705",
            "event_ts": _TS,
            "team": "T1DC2JH3J",
        }
    ),
    "/weather": Sample(
        payload={
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "team_id": "T1DC2JH3J",
            "team_domain": "example",
            "channel_id": "C2147483705",
            "channel_name": "general",
            "user_id": "U061F7AUR",
            "user_name": "steve",
            "command": "/weather",
            "text": "94070",
            "api_app_id": "A2H9RFS1A",
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/T1DC2JH3J/1234/abcd",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        },
        form=True,
        event=(BodyPath(("command",)),),
        event_prefix="/",
    ),
}
