"""Example function for a Slack app_mention (route slack-mention)."""


def run(channel: str, user: str = "", text: str = "") -> dict[str, object]:
    return {"reply_to": channel, "user": user, "heard": text}
